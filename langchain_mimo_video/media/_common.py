"""Shared pieces of the media modules: PyAV import, container names, stream helpers."""

from __future__ import annotations

import importlib
import math
import os
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

from langchain_mimo_video.errors import MediaError, MiMoError, VideoSourceError

__all__ = [
    "DOCUMENTED_CONTAINERS",
    "INSTALL_HINT",
    "MAX_RATE_DENOMINATOR",
    "MICROS",
    "MIME_BY_CONTAINER",
    "data_url_size",
    "import_av",
    "local_path",
    "open_container",
    "rate_of",
    "rotation_of",
    "video_stream",
]


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
    "3gp": "video/3gpp",
    "3g2": "video/3gpp2",
    "mpegts": "video/mp2t",
}

#: The containers MiMo documents; anything else is converted to MP4 before sending.
DOCUMENTED_CONTAINERS: Final = frozenset({"mp4", "mov", "avi", "wmv"})

#: Rates are kept as fractions with denominators up to this (NTSC's 1001 fits exactly).
MAX_RATE_DENOMINATOR: Final = 1001


def import_av() -> Any:
    try:
        return importlib.import_module("av")
    except ImportError as err:  # pragma: no cover - the test environment has PyAV
        raise MediaError(INSTALL_HINT) from err


def data_url_size(num_bytes: int, mime_type: str = "video/mp4") -> int:
    """Return the length of ``data:<mime>;base64,...`` for a file of ``num_bytes`` bytes.

    This is what MiMo's 50 MB base64 limit is measured on.

    Args:
        num_bytes: size of the file.
        mime_type: MIME type written in the data URL's prefix.

    Returns:
        The data URL's length in characters (bytes).

    Example:
        .. code-block:: python

            data_url_size(3)  # 26: "data:video/mp4;base64," plus 4 characters

    """
    return len(f"data:{mime_type};base64,") + 4 * math.ceil(num_bytes / 3)


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
    """The stream's frame rate as an exact fraction, never through a float.

    A variable-frame-rate stream's average can be a fraction with large terms; it is
    brought to the nearest one with a denominator of at most 1001, which keeps NTSC
    rates (30000/1001) exact and stays within what PyAV can hand to FFmpeg.
    """
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and rate > 0:
            return Fraction(rate).limit_denominator(MAX_RATE_DENOMINATOR)
    return None
