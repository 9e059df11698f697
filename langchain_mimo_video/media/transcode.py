"""Re-encoding with PyAV: fit, clip and split, sharing one encoder setup.

Re-encoded files follow what MiMo is known to accept: H.264 ``yuv420p`` with CRF rate
control and AAC audio padded to the video's length, in an MP4 with its index first
("faststart"), written to a seekable file.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from langchain_mimo_video._utils import VideoSource, is_url
from langchain_mimo_video.errors import (
    MediaError,
    VideoSourceError,
    VideoTooLargeError,
    VideoValidationError,
)
from langchain_mimo_video.limits import DEFAULT_FPS, DEFAULT_MEDIA_RESOLUTION, MAX_BASE64_BYTES
from langchain_mimo_video.media._common import (
    DOCUMENTED_CONTAINERS,
    MICROS,
    data_url_size,
    import_av,
    local_path,
)
from langchain_mimo_video.media._encoder import (
    AUDIO_BIT_RATE,
    DEFAULT_CRF,
    MAX_AUTO_CRF,
    EncodePlan,
    exact_duration_us,
    output_rate,
    transcode_into,
)
from langchain_mimo_video.media._remux import REMUX_AUDIO, REMUX_VIDEO, remux_into
from langchain_mimo_video.media.probing import VideoInfo, check_decodable, probe
from langchain_mimo_video.media.segments import plan_segments
from langchain_mimo_video.tokens import VideoTokenEstimate, explain_video_tokens

__all__ = [
    "FitResult",
    "ProgressCallback",
    "VideoSegment",
    "clip_video",
    "convert_video",
    "fit_video",
    "needs_conversion",
    "split_video",
]


@dataclass(frozen=True)
class FitResult:
    """The outcome of :func:`fit_video`.

    Attributes:
        path: the video to send: the re-encoded MP4's path, or the original source
            (its path, or its bytes) when nothing had to change.
        changed: whether a new file was written.
        original_info: probe of the source.
        fitted_info: probe of the result (``original_info`` when unchanged).
        original_bytes: size of the source.
        fitted_bytes: size of the result.
        ratio: ``original_bytes / fitted_bytes``: how many times smaller it got.
        tokens_before: estimated tokens of the source (of the clip when clipped).
        tokens_after: estimated tokens of the result, checked equal to ``tokens_before``.
    """

    path: Path | bytes
    changed: bool
    original_info: VideoInfo
    fitted_info: VideoInfo
    original_bytes: int
    fitted_bytes: int
    ratio: float
    tokens_before: int
    tokens_after: int

    @property
    def mime_type(self) -> str:
        """MIME type of the video in :attr:`path`."""
        return self.fitted_info.mime_type or "video/mp4"


@dataclass(frozen=True)
class VideoSegment:
    """One piece of a video cut by :func:`split_video`.

    Attributes:
        start: start in the source, seconds.
        end: end in the source, seconds.
        path: the segment's MP4 file.
    """

    start: float
    end: float
    path: Path

    @property
    def duration(self) -> float:
        """Length of the segment in seconds."""
        return self.end - self.start


# --------------------------------------------------------------------------------------
# Re-encoding
# --------------------------------------------------------------------------------------


def _even(value: int) -> int:
    return max(2, value - value % 2)


def _resolve_range(duration: float, start: float | None, end: float | None) -> tuple[float, float]:
    begin = 0.0 if start is None else float(start)
    finish = duration if end is None else float(end)
    if not (math.isfinite(begin) and math.isfinite(finish)):
        raise VideoValidationError(f"start and end must be finite seconds, got {start}, {end}.")
    if begin < 0:
        raise VideoValidationError(f"start must be >= 0 seconds, got {begin}.")
    if begin >= duration:
        raise VideoValidationError(
            f"start ({begin}) is past the end of the video ({duration:.3f} s)."
        )
    if finish <= begin:
        raise VideoValidationError(f"start ({begin}) must be before end ({finish}).")
    if finish > duration + 1e-3:
        raise VideoValidationError(
            f"end ({finish}) is past the end of the video ({duration:.3f} s); "
            "pass an end within the video, or None for its end."
        )
    return begin, min(finish, duration)


def _local_source(source: VideoSource, what: str) -> Path | bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    if isinstance(source, str) and is_url(source):
        raise VideoSourceError(
            f"{what} works on local videos; download the URL first, or send it to MiMo by URL."
        )
    if isinstance(source, str | os.PathLike):
        return local_path(source)
    raise VideoSourceError(f"{what} takes a path or bytes, not a {type(source).__name__}.")


def _new_output(output: str | os.PathLike[str] | None, prefix: str) -> tuple[Path, bool]:
    if output is not None:
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path, False
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=".mp4")
    os.close(handle)
    return Path(name), True


def _size_of(source: Path | bytes) -> int:
    return len(source) if isinstance(source, bytes) else source.stat().st_size


#: Called with (seconds done, seconds in all) while a re-encode runs.
ProgressCallback = Callable[[float, float], None]


def _encode(
    av: Any,
    source: Path | bytes,
    plan: EncodePlan,
    output: Path,
    created: bool,
    on_progress: ProgressCallback | None = None,
) -> None:
    total = plan.duration_us / MICROS
    report = None if on_progress is None else (lambda done: on_progress(done, total))
    try:
        transcode_into(av, source, plan, output, report)
    except BaseException:
        if created or output.exists():
            with contextlib.suppress(OSError):
                output.unlink()
        raise


def _too_large(
    size: int, limit: int, duration: float, fps: float, *, what: str
) -> VideoTooLargeError:
    encoded = data_url_size(size)
    return VideoTooLargeError(
        f"{what} {size / 1e6:.2f} MB, {encoded / 1e6:.2f} MB as base64, over the "
        f"{limit / 1e6:.2f} MB limit for {duration:.1f} s of video at fps={fps}. Split it "
        "into segments (VideoLoader.split / media.split_video), send it by URL (up to "
        "300 MB), or use a lower fps.",
        size=encoded,
        limit=limit,
    )


def _fit(
    av: Any,
    local: Path | bytes,
    info: VideoInfo,
    *,
    fps: float,
    media_resolution: str,
    max_base64_bytes: int,
    force: bool,
    start: float | None,
    end: float | None,
    crf: int | None,
    output: str | os.PathLike[str] | None,
    on_progress: ProgressCallback | None = None,
) -> FitResult:
    begin, finish = _resolve_range(info.duration, start, end)
    clipped = begin > 0 or finish < info.duration
    mute = not info.has_audio
    seconds = finish - begin if clipped else info.duration
    before = explain_video_tokens(seconds, info.width, info.height, fps, media_resolution, mute)
    original_bytes = _size_of(local)
    original_encoded = data_url_size(original_bytes, info.mime_type or "video/mp4")
    if not (clipped or force) and original_encoded <= max_base64_bytes:
        return FitResult(
            path=local,
            changed=False,
            original_info=info,
            fitted_info=info,
            original_bytes=original_bytes,
            fitted_bytes=original_bytes,
            ratio=1.0,
            tokens_before=before.total,
            tokens_after=before.total,
        )
    if before.frame_width <= 0 or before.frame_height <= 0:
        raise VideoValidationError(
            f"A {info.width}x{info.height} video is too narrow for MiMo's frame grid "
            "(the server would keep no pixels of it)."
        )
    audio_floor = seconds * AUDIO_BIT_RATE / 8 if info.has_audio else 0
    if data_url_size(int(audio_floor)) > max_base64_bytes:
        what = "The audio alone would take"
        raise _too_large(int(audio_floor), max_base64_bytes, seconds, fps, what=what)

    plan = EncodePlan(
        start=begin,
        duration_us=exact_duration_us(
            seconds, info.width, info.height, fps, media_resolution, mute
        ),
        width=before.frame_width,
        height=before.frame_height,
        rate=output_rate(info.exact_frame_rate, fps),
        crf=DEFAULT_CRF if crf is None else crf,
    )
    path, created = _new_output(output, "mimo-fit-")
    _encode(av, local, plan, path, created, on_progress)
    fitted_bytes = path.stat().st_size
    if data_url_size(fitted_bytes) > max_base64_bytes and crf is None:
        # One more try with a higher CRF: +6 roughly halves the bitrate.
        excess = data_url_size(fitted_bytes) / max_base64_bytes
        retry_crf = min(MAX_AUTO_CRF, plan.crf + math.ceil(6 * math.log2(excess)) + 1)
        if retry_crf > plan.crf:
            plan = replace(plan, crf=retry_crf)
            _encode(av, local, plan, path, created, on_progress)
            fitted_bytes = path.stat().st_size
    if data_url_size(fitted_bytes) > max_base64_bytes:
        path.unlink(missing_ok=True)
        what = "Even re-encoded at the server's frame size, the video takes"
        raise _too_large(fitted_bytes, max_base64_bytes, seconds, fps, what=what)

    fitted_info = probe(path)
    after = explain_video_tokens(
        fitted_info.duration,
        fitted_info.width,
        fitted_info.height,
        fps,
        media_resolution,
        not fitted_info.has_audio,
    )
    _check_same_tokens(before, after, path)
    return FitResult(
        path=path,
        changed=True,
        original_info=info,
        fitted_info=fitted_info,
        original_bytes=original_bytes,
        fitted_bytes=fitted_bytes,
        ratio=original_bytes / fitted_bytes,
        tokens_before=before.total,
        tokens_after=after.total,
    )


def _check_same_tokens(before: VideoTokenEstimate, after: VideoTokenEstimate, path: Path) -> None:
    if before != after:
        raise MediaError(
            f"The re-encoded video {path} would cost {after.total} tokens instead of "
            f"{before.total} ({after} vs {before}); this is a bug, please report it."
        )


def fit_video(
    source: VideoSource,
    *,
    fps: float = DEFAULT_FPS,
    media_resolution: str = DEFAULT_MEDIA_RESOLUTION,
    max_base64_bytes: int = MAX_BASE64_BYTES,
    force: bool = False,
    start: float | None = None,
    end: float | None = None,
    crf: int | None = None,
    output: str | os.PathLike[str] | None = None,
    on_progress: ProgressCallback | None = None,
) -> FitResult:
    """Shrink a local video to fit MiMo's base64 limit without changing what MiMo sees.

    The video is re-encoded at exactly the frame size the server resizes frames to for
    this duration, ``fps`` and ``media_resolution`` (so the token estimate is unchanged,
    which is checked on the result), at a frame rate of four times ``fps`` (at least 8,
    at most the source's), with mono 24 kHz AAC padded or trimmed to the video's length,
    as H.264 ``yuv420p`` with CRF rate control in a faststart MP4. Nothing is re-encoded
    when the source's data URL already fits and ``force`` is False; a ``start``/``end``
    range always re-encodes. If the result is still too large and ``crf`` was not given,
    it is encoded once more at a higher CRF before giving up.

    Args:
        source: a video file path or its bytes.
        fps: the ``fps`` the video will be sent with.
        media_resolution: the ``media_resolution`` it will be sent with.
        max_base64_bytes: limit on the data URL's length.
        force: re-encode even when the source fits.
        start: start of the part to keep, seconds (default: the beginning).
        end: end of the part to keep, seconds (default: the end).
        crf: x264 CRF (lower is better and larger); default 30.
        output: where to write the MP4; default a new temporary file (the caller deletes
            it).
        on_progress: called with ``(seconds done, seconds in all)`` as encoding runs.

    Returns:
        A :class:`FitResult`; ``result.path`` is what to send.

    Raises:
        VideoTooLargeError: if even the re-encoded video is over ``max_base64_bytes``.
        VideoSourceError: if the source is missing, a URL, or not a video.
        VideoValidationError: if ``fps``, ``media_resolution`` or the range is invalid.
        MediaError: if PyAV is missing or decoding/encoding fails.

    Example:
        .. code-block:: python

            from langchain_mimo_video.media import fit_video

            result = fit_video("talk.mov", fps=2)
            print(result.changed, result.ratio, result.tokens_after)

    """
    av = import_av()
    local = _local_source(source, "fit_video")
    info = probe(local)
    return _fit(
        av,
        local,
        info,
        fps=fps,
        media_resolution=media_resolution,
        max_base64_bytes=max_base64_bytes,
        force=force,
        start=start,
        end=end,
        crf=crf,
        output=output,
        on_progress=on_progress,
    )


def clip_video(
    source: VideoSource,
    start: float,
    end: float,
    *,
    output: str | os.PathLike[str] | None = None,
    fps: float | None = None,
    media_resolution: str | None = None,
    crf: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Cut ``[start, end)`` out of a local video, exact to the frame, with its sound.

    Decoding starts at the keyframe before ``start`` and frames before it are dropped, so
    the cut does not snap to keyframes. The result is an MP4 of exactly ``end - start``
    seconds encoded like :func:`fit_video`'s. Given ``fps`` or ``media_resolution``, it is
    also scaled down to the frame size MiMo would use for the clip; otherwise the frame
    size (rounded to even numbers) and frame rate are kept.

    Args:
        source: a video file path or its bytes.
        start: start of the clip, seconds from the beginning.
        end: end of the clip, seconds (exclusive).
        output: where to write the MP4; default a new temporary file.
        fps: scale for this sampling rate (see :func:`fit_video`).
        media_resolution: scale for this tier (see :func:`fit_video`).
        crf: x264 CRF; default 30.
        on_progress: called with ``(seconds done, seconds in all)`` as encoding runs.

    Returns:
        The path of the clip.

    Raises:
        VideoValidationError: if the range is empty or outside the video.
        VideoSourceError: if the source is missing, a URL, or not a video.
        MediaError: if PyAV is missing or decoding/encoding fails.

    Example:
        .. code-block:: python

            from langchain_mimo_video.media import clip_video

            path = clip_video("match.mp4", 61.5, 75.0)

    """
    av = import_av()
    local = _local_source(source, "clip_video")
    info = probe(local)
    begin, finish = _resolve_range(info.duration, start, end)
    seconds = finish - begin
    source_rate = info.exact_frame_rate
    if fps is None and media_resolution is None:
        width, height = _even(info.width), _even(info.height)
        rate = output_rate(source_rate, None)
        duration_us = max(1, round(seconds * MICROS))
    else:
        sample_fps = DEFAULT_FPS if fps is None else fps
        tier = media_resolution or DEFAULT_MEDIA_RESOLUTION
        mute = not info.has_audio
        estimate = explain_video_tokens(seconds, info.width, info.height, sample_fps, tier, mute)
        width, height = estimate.frame_width, estimate.frame_height
        if width <= 0 or height <= 0:
            raise VideoValidationError(
                f"A {info.width}x{info.height} video is too narrow for MiMo's frame grid."
            )
        rate = output_rate(source_rate, sample_fps)
        duration_us = exact_duration_us(seconds, info.width, info.height, sample_fps, tier, mute)
    plan = EncodePlan(
        start=begin,
        duration_us=duration_us,
        width=width,
        height=height,
        rate=rate,
        crf=DEFAULT_CRF if crf is None else crf,
    )
    path, created = _new_output(output, "mimo-clip-")
    _encode(av, local, plan, path, created, on_progress)
    return path


def split_video(
    source: VideoSource,
    segment_seconds: float,
    overlap_seconds: float = 0.0,
    *,
    output_dir: str | os.PathLike[str] | None = None,
    fps: float = DEFAULT_FPS,
    media_resolution: str = DEFAULT_MEDIA_RESOLUTION,
    max_base64_bytes: int = MAX_BASE64_BYTES,
) -> list[VideoSegment]:
    """Cut a local video into overlapping segments that each fit MiMo's base64 limit.

    Segments follow :func:`plan_segments`; each is cut exactly and fitted like
    :func:`fit_video` (at the frame size MiMo uses for that segment, so each segment's
    token estimate is what it would be for the cut-out original).

    Args:
        source: a video file path or its bytes.
        segment_seconds: length of each segment, seconds.
        overlap_seconds: seconds shared by neighbouring segments.
        output_dir: folder for the segment files (created if needed); default a new
            temporary folder.
        fps: the ``fps`` the segments will be sent with.
        media_resolution: the ``media_resolution`` they will be sent with.
        max_base64_bytes: limit on each segment's data URL.

    Returns:
        The segments in order, files named ``segment-000.mp4``, ``segment-001.mp4``, ...

    Raises:
        VideoTooLargeError: if a segment cannot be made small enough (use shorter ones).
        VideoValidationError: if the segment lengths are invalid.
        VideoSourceError: if the source is missing, a URL, or not a video.
        MediaError: if PyAV is missing or decoding/encoding fails.

    Example:
        .. code-block:: python

            from langchain_mimo_video.media import split_video

            for segment in split_video("lecture.mp4", 600, overlap_seconds=5):
                print(segment.start, segment.end, segment.path)

    """
    av = import_av()
    local = _local_source(source, "split_video")
    info = probe(local)
    plan = plan_segments(info.duration, segment_seconds, overlap_seconds)
    folder = Path(output_dir) if output_dir is not None else Path(tempfile.mkdtemp("-mimo-split"))
    folder.mkdir(parents=True, exist_ok=True)
    segments = []
    for index, (begin, finish) in enumerate(plan):
        target = folder / f"segment-{index:03d}.mp4"
        _fit(
            av,
            local,
            info,
            fps=fps,
            media_resolution=media_resolution,
            max_base64_bytes=max_base64_bytes,
            force=True,
            start=begin,
            end=finish,
            crf=None,
            output=target,
        )
        segments.append(VideoSegment(start=begin, end=finish, path=target))
    return segments


def needs_conversion(info: VideoInfo) -> bool:
    """Whether MiMo does not document ``info``'s container (MP4, MOV, AVI, WMV)."""
    return info.container not in DOCUMENTED_CONTAINERS


def convert_video(
    source: VideoSource,
    *,
    output: str | os.PathLike[str] | None = None,
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Put a local video into an MP4, the container MiMo documents best.

    When the video is H.264 and its sound (if any) AAC, the packets are copied as they
    are (a remux: fast, no quality lost, timestamps shifted to start at 0). Otherwise it
    is re-encoded as :func:`clip_video` does for the whole video: frame size (made even)
    and frame rate kept, turned upright, H.264/AAC with the encoder settings
    :func:`fit_video` uses. If a remux fails or gives a file whose first frame does not
    decode, the video is re-encoded instead. Either way one audio track is kept, the first
    marked default, else the first (as in every re-encode); a warning names the others.

    Args:
        source: a video file path or its bytes.
        output: where to write the MP4; default a new temporary file (the caller deletes
            it).
        on_progress: called with ``(seconds done, seconds in all)`` as it runs.

    Returns:
        The path of the MP4.

    Raises:
        VideoSourceError: if the source is missing, a URL, or not a decodable video.
        MediaError: if PyAV is missing or re-encoding fails.

    Example:
        .. code-block:: python

            from langchain_mimo_video.media import convert_video

            mp4 = convert_video("screen.mkv")

    """
    av = import_av()
    local = _local_source(source, "convert_video")
    info = check_decodable(local)
    path, created = _new_output(output, "mimo-convert-")
    copyable = info.video_codec in REMUX_VIDEO and (
        not info.has_audio or info.audio_codec in REMUX_AUDIO
    )
    if copyable:
        report = None if on_progress is None else (lambda done: on_progress(done, info.duration))
        try:
            remux_into(av, local, path, on_progress=report)
            check_decodable(path)
        except (av.FFmpegError, VideoSourceError, MediaError):
            pass  # re-encoded below
        else:
            return path
    plan = EncodePlan(
        start=0.0,
        duration_us=max(1, round(info.duration * MICROS)),
        width=_even(info.width),
        height=_even(info.height),
        rate=output_rate(info.exact_frame_rate, None),
        crf=DEFAULT_CRF,
    )
    _encode(av, local, plan, path, created, on_progress)
    return path
