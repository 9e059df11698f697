"""Where VideoLoader puts the bytes it will send: a base64 data URL, or a MediaStore entry.

The loader decides what is sent (the file as it is, or a fitted, cut or converted MP4) and
hands those bytes to a sink. :class:`DataUrlSink` encodes them into a ``data:`` URL;
:class:`StoreSink` streams them into a :class:`~langchain_mimo_video.store.MediaStore`,
hashed as they are written, and never builds a data URL (for a 50-300 MB video that would
be a copy of several times the file, decoded again straight after).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeAlias, cast

from langchain_mimo_video._data_urls import (
    encode_bytes_data_url,
    encode_data_url,
)
from langchain_mimo_video._media_steps import encode_and_remove, encoded_while_checked, verified
from langchain_mimo_video._utils import decode_data_url
from langchain_mimo_video.store import MediaStore

__all__ = ["DataUrlSink", "Sent", "Sink", "StoreSink", "Stored"]


@dataclass(frozen=True)
class Stored:
    """A video put in a store: its id and the MIME type its reference names."""

    media_id: str
    mime_type: str


#: What a sink gives back: a ``data:`` URL, or the store entry.
Sent: TypeAlias = str | Stored


class Sink:
    """Takes the bytes a video is sent as, in whichever form the loader has them."""

    def stream(self, stream: IO[bytes], size: int, mime: str) -> Sent:
        """``size`` bytes from ``stream``'s position (its end) as ``mime`` video."""
        raise NotImplementedError

    def data(self, data: bytes | bytearray | memoryview, mime: str) -> Sent:
        """In-memory bytes of ``mime`` video."""
        raise NotImplementedError

    def output(self, path: Path) -> Sent:
        """An MP4 made here (fitted, cut or converted); the file is removed afterwards."""
        raise NotImplementedError

    def data_url(self, url: str, data: bytes | None = None) -> Sent:
        """A ``data:`` URL the caller gave, already checked (``data``: its bytes, if decoded)."""
        raise NotImplementedError

    def while_checked(
        self, source: Any, send: Callable[[], Sent], keep: Callable[[Any], bool]
    ) -> tuple[Sent | None, Any]:
        """``send()`` once ``verified(source)`` passes, unless ``keep(info)`` is False.

        Returns:
            ``(sent, info)``; ``sent`` is None when ``keep`` refused the checked video.
        """
        raise NotImplementedError


class DataUrlSink(Sink):
    """Encodes the bytes into a base64 ``data:`` URL (the inline part)."""

    def stream(self, stream: IO[bytes], size: int, mime: str) -> Sent:
        return encode_data_url(stream, size, mime)

    def data(self, data: bytes | bytearray | memoryview, mime: str) -> Sent:
        return encode_bytes_data_url(data, mime)

    def output(self, path: Path) -> Sent:
        return encode_and_remove(path)

    def data_url(self, url: str, data: bytes | None = None) -> Sent:
        return url

    def while_checked(
        self, source: Any, send: Callable[[], Sent], keep: Callable[[Any], bool]
    ) -> tuple[Sent | None, Any]:
        # the check runs beside the encoding (FFmpeg releases the GIL)
        url, info = encoded_while_checked(source, lambda: cast(str, send()))
        return (url if keep(info) else None), info


class StoreSink(Sink):
    """Streams the bytes into a :class:`MediaStore`, hashed as they are written."""

    def __init__(self, store: MediaStore) -> None:
        self.store = store

    def stream(self, stream: IO[bytes], size: int, mime: str) -> Sent:
        # put reads from the stream's position to its end: the same ``size`` bytes
        return Stored(self.store.put(stream, mime_type=mime), mime)

    def data(self, data: bytes | bytearray | memoryview, mime: str) -> Sent:
        return Stored(self.store.put(data, mime_type=mime), mime)

    def output(self, path: Path) -> Sent:
        try:
            return Stored(self.store.put(path, mime_type="video/mp4"), "video/mp4")
        finally:
            path.unlink(missing_ok=True)

    def data_url(self, url: str, data: bytes | None = None) -> Sent:
        mime = url[len("data:") : url.index(";")]
        data = decode_data_url(url) if data is None else data
        return Stored(self.store.put(data, mime_type=mime), mime)

    def while_checked(
        self, source: Any, send: Callable[[], Sent], keep: Callable[[Any], bool]
    ) -> tuple[Sent | None, Any]:
        # checked first, so a damaged (or to-be-converted) video never reaches the store
        info = verified(source)
        return (send() if keep(info) else None), info
