"""The pieces a streamed request body is made of, each read by offset.

A body (``_body.StreamedBody``) is a sequence of segments: JSON text known in advance
(:class:`LiteralBytes`), a long data URL sent from its string (:class:`InlineText`), and a
stored video's base64, encoded from the store as it is read (:class:`StoredBase64`). Each has
a ``length`` and answers ``read(offset, size)``.
"""

from __future__ import annotations

import binascii
from typing import TYPE_CHECKING, Any

from langchain_mimo_video.errors import VideoSourceError
from langchain_mimo_video.store import REFERENCE_PREFIX

if TYPE_CHECKING:
    from langchain_mimo_video.store import MediaStore

__all__ = ["InlineText", "LiteralBytes", "Segment", "StoredBase64", "read_exactly"]


class LiteralBytes:
    """Bytes known in advance (the JSON text around the videos)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.length = len(data)

    def read(self, offset: int, size: int) -> bytes:
        return self.data[offset : offset + size]

    def close(self) -> None:
        pass


class InlineText:
    """A long ASCII string that needs no JSON escaping, encoded a slice at a time."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.length = len(text)

    def read(self, offset: int, size: int) -> bytes:
        return self.text[offset : offset + size].encode("ascii")

    def close(self) -> None:
        pass


class StoredBase64:
    """The base64 text of a stored video, encoded from the store as it is read.

    Reads in order (what a transport does) continue where the last one stopped; any other
    offset starts again from there. A pass from the very start also hashes the bytes and
    refuses, before the last piece goes out, a stored file changed in place: it would
    otherwise be sent under an id (and a cache key) that is not its own.
    """

    def __init__(self, store: MediaStore, media_id: str, size: int) -> None:
        self.store = store
        self.media_id = media_id
        self.size = size
        self.length = 4 * ((size + 2) // 3)
        self._file: Any = None
        self._next = -1  # the offset a read in order would ask for next
        self._source = 0  # stored bytes consumed
        self._pending = b""  # encoded text not yet returned (under 4 bytes)
        self._digest: Any = None

    def _restart(self, offset: int) -> None:
        import hashlib

        if self._file is None:
            self._file = self.store.open(self.media_id)
        self._source = offset // 4 * 3
        self._file.seek(self._source)
        self._digest = hashlib.sha256() if self._source == 0 else None
        self._pending = b""
        self._next = offset
        skip = offset % 4
        if skip:
            self._pending = self._encode(3)[skip:]

    def _encode(self, wanted: int) -> bytes:
        count = min(self.size - self._source, wanted)
        data = read_exactly(self._file, count)
        if len(data) != count:
            raise self._changed(f"it holds fewer than the {self.size} bytes it was stored with")
        self._source += count
        if self._digest is not None:
            self._digest.update(data)
            if self._source == self.size and self._digest.hexdigest() != self.media_id:
                raise self._changed("its bytes no longer match its id, their SHA-256")
        return binascii.b2a_base64(data, newline=False)

    def read(self, offset: int, size: int) -> bytes:
        if offset != self._next or self._file is None:
            self._restart(offset)
        text = self._pending
        if len(text) < size:
            text += self._encode((size - len(text) + 3) // 4 * 3)
        out, self._pending = text[:size], text[size:]
        self._next = offset + len(out)
        return out

    def _changed(self, why: str) -> VideoSourceError:
        self.close()
        return VideoSourceError(
            f"The stored video {REFERENCE_PREFIX}{self.media_id} in the MediaStore at "
            f"{self.store.root} was changed after it was stored ({why}); the request was "
            "not completed. Put the video in the store again."
        )

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._next = -1


def read_exactly(file: Any, size: int) -> bytes:
    """Read ``size`` bytes from ``file``, fewer only at its end (short reads are continued)."""
    data = file.read(size)
    if len(data) == size or not data:
        return bytes(data)
    pieces = [data]
    remaining = size - len(data)
    while remaining > 0:
        piece = file.read(remaining)
        if not piece:
            break
        pieces.append(piece)
        remaining -= len(piece)
    return b"".join(pieces)


Segment = LiteralBytes | InlineText | StoredBase64
"""One piece of a body: something with a ``length`` that can ``read(offset, size)``."""
