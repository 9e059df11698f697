"""Small helpers several modules share: the video source type, sizes, URLs and text.

Pure functions without I/O; nothing here imports PyAV or an API client.
"""

from __future__ import annotations

import binascii
import io
import os
from typing import IO, Final, TypeAlias

from langchain_mimo_video.errors import VideoSourceError, VideoValidationError

__all__ = [
    "MB",
    "VideoSource",
    "decode_data_url",
    "is_url",
    "shorten",
    "text_mode_error",
    "text_mode_refusal",
]

VideoSource: TypeAlias = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]
"""A video as the package's functions take it: a path, raw bytes, a binary file object, or
a URL string. Which URLs a function takes is in its docstring
(:func:`~langchain_mimo_video.media.probe` reads ``http(s)://`` URLs;
:meth:`~langchain_mimo_video.VideoLoader.load` also takes base64 ``data:`` URLs)."""

#: A megabyte as MiMo's size limits count it (10**6 bytes), for messages.
MB: Final = 1_000_000


def is_url(source: object) -> bool:
    """Return whether ``source`` is an ``http://`` or ``https://`` URL string (any case).

    Args:
        source: anything a caller passed as a video.

    Returns:
        True for a string that starts with an http(s) scheme; False otherwise.

    """
    return isinstance(source, str) and source[:8].lower().startswith(("http://", "https://"))


def shorten(text: str, limit: int = 80) -> str:
    """Return ``text`` cut to ``limit`` characters (with ``...``) for an error message.

    Args:
        text: the text to show.
        limit: the most characters to keep, the ``...`` included.

    Returns:
        ``text`` itself when it fits, else its start and ``...``.

    """
    return text if len(text) <= limit else text[: limit - 3] + "..."


def decode_data_url(url: str) -> bytes:
    """Decode the base64 payload of a ``data:`` URL, strictly.

    Args:
        url: a ``data:<mime>;base64,<payload>`` URL.

    Returns:
        The decoded bytes.

    Raises:
        VideoValidationError: if ``url`` has no ``,`` after its header or its payload is
            not clean standard base64 (no spaces, line breaks or stray padding).

    Example:
        .. code-block:: python

            decode_data_url("data:video/mp4;base64,AAEC")  # the 3 bytes 0, 1, 2

    """
    header, comma, payload = url.partition(",")
    if not comma:
        raise VideoValidationError(
            "A data URL must look like 'data:video/mp4;base64,<base64>'; this one has no ',' "
            "after its header."
        )
    try:
        return binascii.a2b_base64(payload, strict_mode=True)
    except (binascii.Error, ValueError) as error:
        raise VideoValidationError(
            f"Cannot decode the data URL {shorten(header)},...: {error}. Re-encode the file "
            "with standard base64 (no spaces or line breaks)."
        ) from None


def text_mode_error(source: object, label: str) -> VideoSourceError | None:
    """Return the refusal for a file object opened in text mode, or None for any other.

    Args:
        source: the object a caller passed as a video.
        label: how the message names it, e.g. ``"The file object"``.

    Returns:
        A :class:`~langchain_mimo_video.errors.VideoSourceError` to raise, or None.

    """
    if isinstance(source, io.TextIOBase):
        return text_mode_refusal(label)
    return None


def text_mode_refusal(label: str) -> VideoSourceError:
    """Return the error for a video file object that reads text rather than bytes.

    Args:
        label: how the message names the file object.

    Returns:
        The :class:`~langchain_mimo_video.errors.VideoSourceError` to raise.

    """
    return VideoSourceError(
        f"{label} is open in text mode; open it in binary mode (open(path, 'rb')) or pass its path."
    )
