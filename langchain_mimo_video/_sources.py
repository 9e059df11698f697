"""Reading local video sources: paths, bytes and file objects; content sniffing; MIME types.

The MIME type of a local video is taken from its first bytes, not its name, and the
OS's errors about a path become :class:`~langchain_mimo_video.errors.VideoSourceError`.
"""

from __future__ import annotations

import contextlib
import io
import mimetypes
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final

from langchain_mimo_video._parts import shown, validate_video_url
from langchain_mimo_video._utils import (
    VideoSource,
    decode_data_url,
    text_mode_error,
    text_mode_refusal,
)
from langchain_mimo_video.errors import MiMoError, VideoSourceError, VideoValidationError
from langchain_mimo_video.limits import DOCUMENTED_VIDEO_TYPES

__all__ = [
    "StreamWindow",
    "local_media",
    "reading",
    "sniff_video_mime",
    "source_mime",
    "user_path",
]

_VIDEO_MIME = re.compile(r"video/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")

_MP4_QUICKTIME_BRANDS = (b"qt  ",)


def sniff_video_mime(head: bytes) -> str | None:
    """Guess a video MIME type from a file's first bytes (at least 16; 64 is better).

    Returns ``None`` when the bytes match no video container we know.
    """
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _MP4_QUICKTIME_BRANDS:
            return "video/quicktime"
        if brand.startswith(b"3g2"):
            return "video/3gpp2"
        if brand.startswith(b"3gp"):
            return "video/3gpp"
        if brand in (b"M4A ", b"M4B ", b"M4P "):
            return None  # audio-only MPEG-4
        return "video/mp4"
    if len(head) >= 8 and head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        return "video/quicktime"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head[:16] == bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c"):
        return "video/x-ms-wmv"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if head[:3] == b"FLV":
        return "video/x-flv"
    if head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):
        return "video/mpeg"
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return "video/mp2t"
    return None


def _mime_from_name(name: str) -> str | None:
    suffix = Path(name).suffix.lower()
    for mime, suffixes in DOCUMENTED_VIDEO_TYPES.items():
        if suffix in suffixes:
            return mime
    guessed, _ = mimetypes.guess_type(name)
    return guessed if guessed and guessed.startswith("video/") else None


def source_mime(head: bytes, given: str | None, name: str | None, label: str) -> str:
    """The video MIME type of a local source: ``given`` if set, else sniffed from ``head``.

    Args:
        head: the source's first bytes (256 are read).
        given: the caller's ``mime_type``, or None.
        name: the file name, used only to hint in the error.
        label: how the error names the source (e.g. ``"The bytes"``).

    Raises:
        VideoSourceError: empty data, or content that starts like no known container.
        VideoValidationError: a ``given`` type that is not ``video/*``.
    """
    verb = "are" if label.endswith("bytes") else "is"
    if not head:
        raise VideoSourceError(f"{label} {verb} empty, not a video.")
    if given:
        mime = given.strip().lower()
        if not _VIDEO_MIME.fullmatch(mime):
            raise VideoValidationError(
                f"mime_type must be a video type such as 'video/mp4', got {shown(given)}."
            )
    else:
        sniffed = sniff_video_mime(head)
        if sniffed is None:
            by_name = _mime_from_name(name) if name else None
            hint = f" (its name suggests {by_name})" if by_name else ""
            raise VideoSourceError(
                f"{label} {verb} not a video container MiMo can read{hint}: its content "
                "does not start like MP4, MOV, AVI or WMV. Check the file, or convert it "
                "to MP4."
            )
        mime = sniffed
    return mime


def local_media(source: VideoSource, action: str) -> Path | bytes:
    """A local copy to cut: a path, or bytes (data URLs decoded, streams read)."""
    if isinstance(source, str):
        lowered = source[:8].lower()
        if lowered.startswith(("http://", "https://")):
            raise VideoValidationError(
                f"MiMo has no server-side start/end offsets, and this package does not "
                f"download URL videos to {action} them. Download the video and pass the "
                "file (it is cut locally), or send the whole URL and name the time range "
                "in your question."
            )
        if lowered.startswith("data:"):
            return decode_data_url(validate_video_url(source))
        return user_path(source)
    if isinstance(source, os.PathLike):
        return user_path(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if hasattr(source, "read"):
        label = "The video stream"
        refusal = text_mode_error(source, label)
        if refusal is not None:
            raise refusal
        data = source.read()
        if isinstance(data, str):
            raise text_mode_refusal(label)
        return bytes(data)
    raise VideoSourceError(
        f"Cannot {action} a video from a {type(source).__name__}: pass a path, bytes, a "
        "binary file object or a data: URL."
    )


@contextlib.contextmanager
def reading(path: Path) -> Iterator[None]:
    """Turn the OS's errors about ``path`` into VideoSourceError with a clear message."""
    try:
        yield
    except MiMoError:
        raise  # already ours (VideoTooLargeError is also a ValueError)
    except FileNotFoundError:
        if _LOOKS_LIKE_URL.match(str(path)):
            raise VideoSourceError(
                f"Video file not found: {path}. If it is a web address, write it with its "
                f"scheme: 'https://{path.as_posix()}'."
            ) from None
        raise VideoSourceError(
            f"Video file not found: {path}. Check the path (relative paths are resolved "
            f"from {Path.cwd()})."
        ) from None
    except PermissionError:
        raise VideoSourceError(f"Cannot read the video file {path}: permission denied.") from None
    except IsADirectoryError:
        raise VideoSourceError(f"{path} is a folder; pass a video file.") from None
    except OSError as error:
        raise VideoSourceError(f"Cannot read the video file {path}: {error}.") from None
    except ValueError as error:  # a NUL byte or an unencodable character in the path
        raise VideoSourceError(f"Cannot use {shown(str(path))} as a file path: {error}.") from None


# A host name with a dot, then a path: "example.com/v.mp4", "www.site.org/a/b.mov".
_LOOKS_LIKE_URL: Final = re.compile(
    r"^(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?::\d+)?/\S", re.IGNORECASE
)


def user_path(source: str | os.PathLike[str]) -> Path:
    """A path as a person types it: ``~`` is the home folder."""
    path = Path(source)
    if not str(path).startswith("~"):
        return path
    try:
        # os.path's expanduser leaves "~nosuchuser" as it is (pathlib's raises RuntimeError),
        # so an unknown user gives the usual "file not found".
        return Path(os.path.expanduser(path))
    except (ValueError, UnicodeError) as err:  # a NUL byte, or a name the OS cannot encode
        raise VideoSourceError(f"Not a usable file name: {str(source)!r} ({err}).") from err


class StreamWindow(io.RawIOBase):
    """The ``size`` bytes of ``stream`` from ``start`` on, as a file of their own.

    Lets PyAV check a file object that is positioned after its start without reading
    it into memory (PyAV's seeks are absolute).
    """

    def __init__(self, stream: IO[bytes], start: int, size: int) -> None:
        super().__init__()
        self._stream, self._start, self._size = stream, start, size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        left = self._size - self.tell()
        return self._stream.read(left if size < 0 else min(size, max(left, 0)))

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.tell(), os.SEEK_END: self._size}[whence]
        return self._stream.seek(self._start + base + offset) - self._start

    def tell(self) -> int:
        return self._stream.tell() - self._start
