"""Data URLs of video: encoding local bytes piece by piece, and checking given ones.

A ``data:video/...;base64,`` URL is how MiMo takes a local video. Encoding writes the
base64 into one preallocated buffer; checking decodes it in bounded pieces. URLs encoded
here are remembered, so sending them again skips the full decode.
"""

from __future__ import annotations

import binascii
import re
import threading
import warnings
from collections import OrderedDict
from typing import IO, Final

from langchain_mimo_video._utils import MB
from langchain_mimo_video.errors import VideoSourceError, VideoTooLargeError, VideoValidationError
from langchain_mimo_video.limits import DOCUMENTED_VIDEO_TYPES, MAX_BASE64_BYTES

__all__ = [
    "base64_length",
    "data_url_length",
    "encode_bytes_data_url",
    "encode_data_url",
    "encoded_here",
    "too_large",
    "validate_data_url",
]

# of each piece joins without padding). Small pieces are reused by the allocator; 3 MiB
# ones measured slower and left ~7 MB resident after a 37 MB file.
_ENCODE_CHUNK: Final = 96 * 1024
# Base64 is checked in pieces of this many characters (a multiple of 4).
_DECODE_CHUNK: Final = 4 * 1024 * 1024
_DATA_URL = re.compile(r"^data:(?P<mime>[^;,]*)(?P<params>(?:;[^;,]*)*),", re.IGNORECASE)


def validate_data_url(url: str, check_payload: bool) -> None:
    match = _DATA_URL.match(url[:512])
    if match is None:
        raise VideoValidationError(
            "A video data URL must look like 'data:video/mp4;base64,<base64>'; this one has "
            "no ',' after its header."
        )
    mime = match["mime"].strip().lower()
    params = [p.strip().lower() for p in match["params"].split(";") if p.strip()]
    if not mime.startswith("video/"):
        raise VideoValidationError(
            f"A video data URL must have a video MIME type (e.g. video/mp4), got "
            f"{mime or 'none'!r}. Use 'data:video/mp4;base64,...' or let VideoLoader build it."
        )
    if "base64" not in params:
        raise VideoValidationError(
            "MiMo takes video data URLs only base64-encoded: 'data:video/mp4;base64,<base64>'."
        )
    if len(url) > MAX_BASE64_BYTES:
        raise VideoTooLargeError(
            f"This video's base64 data URL is {len(url) / MB:.1f} MB, over MiMo's "
            f"{MAX_BASE64_BYTES / MB:.0f} MB limit for base64 video. Pass a public http(s) "
            "URL instead (up to 300 MB), cut a clip, or let VideoLoader(fit=True) re-encode "
            "it to the frame size MiMo uses.",
            size=len(url),
            limit=MAX_BASE64_BYTES,
        )
    start = match.end()
    if start == len(url):
        raise VideoValidationError("This video data URL has an empty payload.")
    if check_payload and url not in encoded_here:
        _check_base64(url, start)
    if mime not in DOCUMENTED_VIDEO_TYPES:
        warnings.warn(
            f"MiMo documents MP4, MOV, AVI and WMV video; {mime} may be rejected. "
            "VideoLoader(fit=True) re-encodes to MP4.",
            stacklevel=4,
        )


def _check_base64(text: str, start: int) -> None:
    """Decode ``text[start:]`` strictly, a piece at a time, so memory stays bounded."""
    end = len(text)
    if text.find("=", start, end - 2) != -1:
        raise VideoValidationError(
            "This video data URL's base64 is broken: it has '=' padding before its end. "
            "Re-encode the whole file in one piece with standard base64."
        )
    if (end - start) % 4:
        raise VideoValidationError(
            f"This video data URL's base64 is broken: its length ({end - start} characters) "
            "is not a multiple of 4. Re-encode the file with base64 (no line breaks)."
        )
    for offset in range(start, end, _DECODE_CHUNK):
        piece = text[offset : offset + _DECODE_CHUNK]
        try:
            binascii.a2b_base64(piece, strict_mode=True)
        except (binascii.Error, ValueError) as error:
            raise VideoValidationError(
                f"This video data URL's base64 is broken near character {offset}: {error}. "
                "Re-encode the file with standard base64 (no spaces or line breaks)."
            ) from None


class _EncodedHere:
    """Remembers the data URLs this package encoded, whose base64 is therefore clean.

    Sending checks a data URL by decoding all of it (about 100 ms for 50 MB, on every turn
    it stays in the history); for these it can skip that. They are known by length and
    ``hash()``: Python caches a string's hash, so for the very string :class:`VideoLoader`
    returned the lookup costs nothing, and strings of other lengths are never hashed.
    """

    def __init__(self, capacity: int = 256) -> None:
        self._keys: OrderedDict[tuple[int, int], None] = OrderedDict()
        self._lengths: dict[int, int] = {}
        self._capacity = capacity
        self._lock = threading.Lock()

    def add(self, url: str) -> None:
        key = (len(url), hash(url))
        with self._lock:
            if key in self._keys:
                self._keys.move_to_end(key)
                return
            self._keys[key] = None
            self._lengths[key[0]] = self._lengths.get(key[0], 0) + 1
            if len(self._keys) > self._capacity:
                (length, _), _ = self._keys.popitem(last=False)
                self._lengths[length] -= 1
                if not self._lengths[length]:
                    del self._lengths[length]

    def discard(self, url: str) -> None:
        """Forget ``url`` (its video failed a check after it was encoded)."""
        key = (len(url), hash(url))
        with self._lock:
            if self._keys.pop(key, 0) is None:
                self._lengths[key[0]] -= 1
                if not self._lengths[key[0]]:
                    del self._lengths[key[0]]

    def __contains__(self, url: str) -> bool:
        if len(url) not in self._lengths:
            return False
        with self._lock:
            return (len(url), hash(url)) in self._keys


encoded_here = _EncodedHere()


def base64_length(size: int) -> int:
    """Length of the base64 text of ``size`` bytes (padded, no line breaks)."""
    return 4 * ((size + 2) // 3)


def data_url_length(size: int, mime_type: str) -> int:
    """Length of the ``data:`` URL for ``size`` bytes of ``mime_type`` video."""
    return len(f"data:{mime_type};base64,") + base64_length(size)


def too_large(size: int, mime_type: str, what: str) -> VideoTooLargeError:
    length = data_url_length(size, mime_type)
    return VideoTooLargeError(
        f"{what} is {size / MB:.1f} MB; as base64 it would be {length / MB:.1f} MB, over "
        f"MiMo's {MAX_BASE64_BYTES / MB:.0f} MB limit for base64 video (the largest file "
        f"that fits is about {MAX_BASE64_BYTES * 3 // 4 / MB:.1f} MB). Use "
        "VideoLoader(fit=True) to re-encode it to the frame size MiMo uses, send a clip "
        "(start=/end=) or segments (VideoLoader.split), or host it at a public http(s) URL "
        "(up to 300 MB).",
        size=length,
        limit=MAX_BASE64_BYTES,
    )


def encode_data_url(stream: IO[bytes], size: int, mime_type: str) -> str:
    """Base64-encode ``size`` bytes from ``stream`` into a ``data:`` URL.

    The text is written piece by piece into one preallocated buffer, so the peak memory is
    about two copies of the base64 text (the buffer and the final ``str``) and never a
    copy of the whole file.
    """
    prefix = f"data:{mime_type};base64,".encode("ascii")
    buffer = bytearray(len(prefix) + base64_length(size))
    buffer[: len(prefix)] = prefix
    position = len(prefix)
    remaining = size
    while remaining > 0:
        piece = stream.read(min(_ENCODE_CHUNK, remaining))
        if not piece:
            raise VideoSourceError(
                f"The video ended after {size - remaining} of its {size} bytes while it was "
                "being read; was the file changed while reading?"
            )
        remaining -= len(piece)
        if len(piece) % 3 and remaining > 0:
            # A short read in the middle would put padding inside the text; top it up.
            extra = stream.read(3 - len(piece) % 3)
            remaining -= len(extra)
            piece += extra
        encoded = binascii.b2a_base64(piece, newline=False)
        buffer[position : position + len(encoded)] = encoded
        position += len(encoded)
        del piece, encoded  # do not hold the last piece while the str is built
    del buffer[position:]
    url = buffer.decode("ascii")
    encoded_here.add(url)
    return url


def encode_bytes_data_url(data: bytes | bytearray | memoryview, mime_type: str) -> str:
    """Base64-encode in-memory video bytes into a ``data:`` URL (see :func:`encode_data_url`)."""
    view = memoryview(data)
    prefix = f"data:{mime_type};base64,".encode("ascii")
    buffer = bytearray(len(prefix) + base64_length(len(view)))
    buffer[: len(prefix)] = prefix
    position = len(prefix)
    for offset in range(0, len(view), _ENCODE_CHUNK):
        encoded = binascii.b2a_base64(view[offset : offset + _ENCODE_CHUNK], newline=False)
        buffer[position : position + len(encoded)] = encoded
        position += len(encoded)
        del encoded
    url = buffer.decode("ascii")
    encoded_here.add(url)
    return url
