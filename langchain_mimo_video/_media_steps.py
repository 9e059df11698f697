"""What VideoLoader asks of PyAV: the decodability check, conversion to MP4, fitting.

Everything here imports :mod:`langchain_mimo_video.media` only when it runs, so the base
install (no PyAV) never loads it. Re-encoded videos come back as temporary MP4 files, which
the caller's sink (``_sinks``) encodes or stores and then removes.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import importlib
import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from langchain_mimo_video._data_urls import (
    data_url_length,
    encode_data_url,
    encoded_here,
    too_large,
)
from langchain_mimo_video.errors import VideoValidationError
from langchain_mimo_video.limits import MAX_BASE64_BYTES

__all__ = [
    "converted",
    "encode_and_remove",
    "encoded_while_checked",
    "fitted",
    "has_pyav",
    "progress",
    "tqdm_class",
    "verified",
]


@functools.cache
def has_pyav() -> bool:
    """Whether PyAV (the ``[media]`` extra) is installed."""
    return importlib.util.find_spec("av") is not None


def verified(source: Any) -> Any:
    """``check_decodable(source)``'s VideoInfo, or None when PyAV is not installed."""
    if not has_pyav():
        return None
    from langchain_mimo_video.media import check_decodable

    return check_decodable(source)


def encoded_while_checked(source: Any, encode: Callable[[], str]) -> tuple[str, Any]:
    """``encode()``, with ``verified(source)`` run meanwhile in a worker thread.

    FFmpeg releases the GIL while it opens and decodes, so on two cores or more the check
    hides behind the base64 encoding. The check's error, if any, is raised.
    """
    if not has_pyav():
        return encode(), None
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="mimo-check") as pool:
        checked = pool.submit(verified, source)
        try:
            url = encode()
        except BaseException:
            checked.cancel()
            raise
        try:
            return url, checked.result()
        except BaseException:
            encoded_here.discard(url)  # not sent, so not a data URL to trust later
            raise


def tqdm_class() -> Any:
    """``tqdm.auto.tqdm``.

    Raises:
        VideoValidationError: if tqdm is not installed.
    """
    try:
        return importlib.import_module("tqdm.auto").tqdm
    except ImportError:
        raise VideoValidationError(
            "show_progress=True needs the tqdm package: pip install tqdm"
        ) from None


@contextlib.contextmanager
def progress(show: bool, what: str) -> Iterator[Any]:
    """A ``(done, total)`` callback that drives a tqdm bar when ``show`` (else None)."""
    if not show:
        yield None
        return
    bar: Any = None

    def report(done: float, total: float) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm_class()(total=round(total, 2), desc=what, unit="s", leave=False)
        bar.update(round(done, 2) - bar.n)

    try:
        yield report
        if bar is not None:
            bar.update(bar.total - bar.n)  # the last packets can end short of it
    finally:
        if bar is not None:
            bar.close()


def encode_and_remove(video: Path) -> str:
    """Encode a re-encoded MP4 as a data URL, deleting the temporary file afterwards."""
    try:
        with video.open("rb") as stream:
            return encode_data_url(stream, video.stat().st_size, "video/mp4")
    finally:
        video.unlink(missing_ok=True)


def fitted(
    local: Path | bytes,
    fps: float,
    media_resolution: str,
    *,
    show_progress: bool,
    start: float | None = None,
    end: float | None = None,
) -> Path:
    """Re-encode ``local`` (or its ``start``-``end`` range) at MiMo's frame size.

    Returns:
        The re-encoded MP4, a temporary file the caller removes.
    """
    from langchain_mimo_video.media import fit_video

    with progress(show_progress, "re-encoding at MiMo's frame size") as report:
        result = fit_video(
            local,
            fps=fps,
            media_resolution=media_resolution,
            force=True,
            start=start,
            end=end,
            on_progress=report,
        )
    assert isinstance(result.path, Path)  # forced: always a new file
    return result.path


def converted(
    local: Path | bytes, fps: float, media_resolution: str, *, fit: bool, show_progress: bool
) -> Path:
    """Remux or re-encode a video in a container MiMo does not document into MP4.

    Returns:
        The MP4, a temporary file the caller removes; fitted to MiMo's frame size when
        ``fit`` and the MP4 would pass the base64 limit.

    Raises:
        VideoTooLargeError: if the MP4 passes the base64 limit and ``fit`` is False.
    """
    from langchain_mimo_video.media import convert_video

    with progress(show_progress, "converting to MP4") as report:
        path = convert_video(local, on_progress=report)
    size = path.stat().st_size
    if data_url_length(size, "video/mp4") > MAX_BASE64_BYTES:
        path.unlink(missing_ok=True)
        if fit:
            return fitted(local, fps, media_resolution, show_progress=show_progress)
        raise too_large(size, "video/mp4", "Converted to MP4, the video")
    return path
