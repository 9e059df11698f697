"""Shared pieces of the media modules: PyAV import, source type, container names."""

from __future__ import annotations

import importlib
import math
import os
from fractions import Fraction
from pathlib import Path
from typing import IO, Any, Final, TypeAlias

from langchain_mimo_video.errors import MediaError, MiMoError, VideoSourceError

#: What the media functions accept: a path, raw bytes, a binary file object, or (for
#: :func:`probe` only) an ``http(s)://`` URL.
VideoSource: TypeAlias = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]

INSTALL_HINT: Final = (
    'PyAV is needed for this; install it with pip install "langchain-mimo-video[media]".'
)


MICROS: Final = 1_000_000

MIME_BY_CONTAINER: Final = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "avi": "video/x-msvideo",
    "wmv": "video/x-ms-wmv",
    "mkv": "video/x-matroska",
    "webm": "video/webm",
}


def import_av() -> Any:
    try:
        return importlib.import_module("av")
    except ImportError as err:  # pragma: no cover - the test environment has PyAV
        raise MediaError(INSTALL_HINT) from err


def data_url_size(num_bytes: int, mime_type: str = "video/mp4") -> int:
    """Return the length of ``data:<mime>;base64,...`` for a file of ``num_bytes`` bytes.

    This is what MiMo's 50 MB base64 limit is measured on.

    Args:
        num_bytes: Size of the file.
        mime_type: MIME type written in the data URL's prefix.

    Returns:
        The data URL's length in characters (bytes).

    Example:
        .. code-block:: python

            data_url_size(3)  # 26: "data:video/mp4;base64," plus 4 characters

    """
    return len(f"data:{mime_type};base64,") + 4 * math.ceil(num_bytes / 3)


def is_url(source: object) -> bool:
    return isinstance(source, str) and source.lower().startswith(("http://", "https://"))


def local_path(source: str | os.PathLike[str]) -> Path:
    path = Path(source)
    if not path.exists():
        raise VideoSourceError(f"Video file not found: {path}.")
    if not path.is_file():
        raise VideoSourceError(f"Not a file: {path}.")
    return path


def open_container(av: Any, file: Any, label: str) -> Any:
    try:
        return av.open(file, mode="r", metadata_errors="ignore")
    except MiMoError:
        raise
    except (av.FFmpegError, ValueError, OSError, TypeError) as err:
        raise VideoSourceError(f"{label} is not a video PyAV can read: {err}") from err


def video_stream(container: Any, label: str) -> Any:
    av = import_av()
    for stream in container.streams.video:
        # Cover art in audio files shows up as a one-picture video stream.
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    raise VideoSourceError(f"{label} has no video stream.")


def rotation_of(frame: Any) -> int:
    try:
        degrees = float(frame.rotation)
    except (AttributeError, TypeError, ValueError):
        return 0
    return round(degrees / 90) * 90 % 360


def rate_of(stream: Any) -> Fraction | None:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return Fraction(rate)
    return None
