"""The encoder shared by fit, clip and split: one decode, one H.264/AAC encode.

Private to :mod:`langchain_mimo_video.media`; the public entry points are in
:mod:`~langchain_mimo_video.media.transcode`.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import math
import queue
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

from langchain_mimo_video.errors import (
    MediaError,
)
from langchain_mimo_video.limits import AUDIO_SAMPLE_RATE as AUDIO_RATE
from langchain_mimo_video.media._common import (
    MAX_RATE_DENOMINATOR,
    MICROS,
    open_container,
    rate_of,
    rotation_of,
    video_stream,
)
from langchain_mimo_video.tokens import explain_video_tokens

__all__ = [
    "AUDIO_BIT_RATE",
    "AUDIO_RATE",
    "DEFAULT_CRF",
    "ENCODER_THREADS",
    "MAX_AUTO_CRF",
    "X264_PRESET",
    "EncodePlan",
    "exact_duration_us",
    "open_local",
    "output_rate",
    "sent_audio",
    "transcode_into",
    "warn_dropped_audio",
]


# Encoding defaults, chosen with benchmarks/bench_fit.py, which compares the frames MiMo
# samples from a fitted 1080p minute with the original's. x264's "faster" preset at CRF 30
# keeps SSIM at 0.966 on average (worst frame 0.955) for a payload 22x smaller; "veryfast"
# at the same size reaches 0.958 (two reference frames and a finer motion search are worth
# their CPU). x264's other defaults stand: a keyframe at most every 250 frames, three
# B-frames, psy-rd (turning it off did not raise SSIM at equal size).
DEFAULT_CRF: Final = 30
ENCODER_THREADS: Final = 4
MAX_AUTO_CRF: Final = 36  # the retry after an oversized result never goes past this
X264_PRESET: Final = "faster"
# The token formula measures audio at 24 kHz, which suggests the server's audio encoder
# works at that rate; mono AAC at 24 kHz and 48 kbit/s keeps speech and music clear for
# about 0.36 MB a minute (the token count does not depend on rate or channels).
AUDIO_BIT_RATE: Final = 48000
_AUDIO_FRAME: Final = 1024
_MAX_OUTPUT_RATE: Final = Fraction(60)


@dataclass(frozen=True)
class EncodePlan:
    start: float  # seconds after the source's first timestamp
    duration_us: int
    width: int  # display orientation
    height: int
    rate: Fraction
    crf: int


def sent_audio(av: Any, container: Any) -> tuple[Any | None, list[Any]]:
    """The one audio track a video is sent with, and the tracks left out.

    MiMo hears one audio track per video (its token formula counts one stream of sound),
    and which one it would pick from several is not documented, so fit, clip, split and
    convert (remux or re-encode alike) keep exactly one: the first track marked default,
    else the first. :func:`warn_dropped_audio` names the others.
    """
    tracks = list(container.streams.audio)
    if not tracks:
        return None, []
    default = av.stream.Disposition.default
    chosen = next((track for track in tracks if track.disposition & default), tracks[0])
    return chosen, [track for track in tracks if track is not chosen]


def warn_dropped_audio(label: str, chosen: Any, dropped: list[Any]) -> None:
    """Warn that ``dropped`` audio tracks of ``label`` are not sent (nothing if none)."""
    if not dropped:
        return
    order = sorted(track.index for track in [chosen, *dropped])

    def named(track: Any) -> str:
        language = getattr(track, "language", None) or track.metadata.get("language")
        if language == "und":  # "undetermined", FFmpeg's default
            language = None
        details = ", ".join(filter(None, [track.codec_context.name, language]))
        return f"audio track {order.index(track.index) + 1} ({details})"

    left_out = ", ".join(named(track) for track in dropped)
    warnings.warn(
        f"{label} has {len(order)} audio tracks; MiMo takes one, so only {named(chosen)} "
        f"is sent (the first marked default, else the first) and {left_out} "
        f"{'is' if len(dropped) == 1 else 'are'} left out. To send another, make it the "
        "video's default or only audio track first.",
        stacklevel=2,
    )


def output_rate(source_rate: Fraction | None, fps: float | None) -> Fraction:
    """Frame rate of a re-encode.

    The server samples ``fps`` frames a second. Keeping four frames per sampling interval
    (and at least 8 a second) means every instant it samples is within 1/(8 fps) seconds of
    a kept frame, a sampler that needs as many frames as it takes always finds them, and
    the file still plays as ordinary video. Never above the source's rate: no invented
    frames. Without ``fps`` (a plain clip) the source's rate is kept, up to 60.

    The result is always a fraction with a denominator of at most 1001, whatever it was
    given (``Fraction(29.97...)`` of a float has a 2**52 denominator, which overflows
    PyAV): NTSC rates stay exact, and variable rates get a close, small one.
    """
    if source_rate is not None and source_rate > 0:
        source_rate = Fraction(source_rate).limit_denominator(MAX_RATE_DENOMINATOR)
    else:
        source_rate = None
    if fps is None:
        wanted = source_rate or Fraction(30)
        return min(wanted, _MAX_OUTPUT_RATE)
    wanted = max(Fraction(fps).limit_denominator(1000) * 4, Fraction(8))
    if source_rate is not None:
        wanted = min(wanted, source_rate)
    return min(wanted, _MAX_OUTPUT_RATE)


def _rotate_yuv420p(av: Any, frame: Any, rotation: int) -> Any:
    turns = rotation // 90
    width, height = frame.width, frame.height
    pixels = frame.to_ndarray()  # I420: Y rows, then U and V packed below
    luma = pixels[:height]
    chroma = pixels[height:].reshape(-1)
    quarter = (height // 2) * (width // 2)
    planes = [
        luma,
        chroma[:quarter].reshape(height // 2, width // 2),
        chroma[quarter : 2 * quarter].reshape(height // 2, width // 2),
    ]
    rotated = [_np().rot90(plane, turns) for plane in planes]
    new_width = rotated[0].shape[1]
    packed = _np().concatenate([plane.reshape(-1) for plane in rotated]).reshape(-1, new_width)
    return av.VideoFrame.from_ndarray(packed, format="yuv420p")


def _np() -> Any:
    return importlib.import_module("numpy")


class _AudioSink:
    """Writes mono 24 kHz AAC of exactly ``total`` samples, padding gaps with silence."""

    _TOLERANCE: Final = AUDIO_RATE // 50  # 20 ms of timestamp jitter is not a gap

    def __init__(self, av: Any, output: Any, total: int, *, origin: int) -> None:
        self._av = av
        self._np = _np()
        self._output = output
        self.stream = output.add_stream("aac", rate=AUDIO_RATE)
        self.stream.layout = "mono"
        self.stream.bit_rate = AUDIO_BIT_RATE
        self._resampler = av.AudioResampler(format="fltp", layout="mono", rate=AUDIO_RATE)
        self._total = total
        self._origin = origin  # sample index of the output's first sample
        self._written = 0  # samples accepted so far
        self._sent = 0  # samples handed to the encoder
        self._expected: int | None = None
        self._pending = self._np.zeros(0, dtype=self._np.float32)

    @property
    def done(self) -> bool:
        return self._written >= self._total

    def add(self, frame: Any) -> None:
        for chunk in self._resampler.resample(frame):
            self._add_resampled(chunk)

    def _add_resampled(self, chunk: Any) -> None:
        samples = chunk.to_ndarray()[0].astype(self._np.float32, copy=False)
        if chunk.pts is not None and chunk.time_base is not None:
            at = round(chunk.pts * chunk.time_base * AUDIO_RATE) - self._origin
        else:
            at = self._expected if self._expected is not None else 0
        if self._expected is not None and abs(at - self._expected) <= self._TOLERANCE:
            at = self._expected
        self._expected = at + len(samples)
        self._place(at, samples)

    def _place(self, at: int, samples: Any) -> None:
        if at > self._written:
            self._silence(at - self._written)
        if at < self._written:
            samples = samples[self._written - at :]
        samples = samples[: max(self._total - self._written, 0)]
        if len(samples):
            self._written += len(samples)
            self._pending = self._np.concatenate([self._pending, samples])
            self._drain(final=False)

    def _silence(self, count: int) -> None:
        count = min(count, self._total - self._written)
        while count > 0:
            piece = min(count, AUDIO_RATE * 10)
            self._written += piece
            self._pending = self._np.concatenate(
                [self._pending, self._np.zeros(piece, dtype=self._np.float32)]
            )
            self._drain(final=False)
            count -= piece

    def _drain(self, *, final: bool) -> None:
        while len(self._pending) >= _AUDIO_FRAME or (final and len(self._pending)):
            piece, self._pending = (
                self._pending[:_AUDIO_FRAME],
                self._pending[_AUDIO_FRAME:],
            )
            frame = self._av.AudioFrame.from_ndarray(
                self._np.ascontiguousarray(piece)[None, :], format="fltp", layout="mono"
            )
            frame.sample_rate = AUDIO_RATE
            frame.pts = self._sent
            frame.time_base = Fraction(1, AUDIO_RATE)
            self._sent += len(piece)
            for packet in self.stream.encode(frame):
                self._output.mux(packet)

    def finish(self) -> None:
        for chunk in self._resampler.resample(None):
            self._add_resampled(chunk)
        self._silence(self._total - self._written)
        self._drain(final=True)
        for packet in self.stream.encode(None):
            self._output.mux(packet)


class _VideoSink:
    """Encodes H.264 on a constant-rate grid covering exactly ``plan.duration_us``.

    Each grid slot shows the source frame nearest to it in time (frames are fed in display
    order); the last frame is held until the end. Frames are scaled (and turned upright)
    only when they are used.
    """

    def __init__(self, av: Any, output: Any, plan: EncodePlan) -> None:
        self._av = av
        self._output = output
        self._plan = plan
        time_base = Fraction(1, MICROS)
        self.stream = output.add_stream("libx264", rate=plan.rate)
        self.stream.width = plan.width
        self.stream.height = plan.height
        self.stream.pix_fmt = "yuv420p"
        self.stream.time_base = time_base
        self.stream.codec_context.time_base = time_base
        # A fixed count, not 0 (x264's "1.5 x cores"): x264's output depends on its thread
        # count, and the same video must encode to the same bytes on every machine.
        self.stream.codec_context.thread_count = ENCODER_THREADS
        self.stream.codec_context.thread_type = "FRAME"
        self.stream.options = {"crf": str(plan.crf), "preset": X264_PRESET}

        # The grid's slots are computed when needed, not listed: memory stays constant
        # however long the range is.
        count = max(1, math.ceil(Fraction(plan.duration_us, MICROS) * plan.rate))
        while count > 1 and self._slot(count - 1) >= plan.duration_us:
            count -= 1
        self._count = count
        self._next = 0
        self._frame: Any = None
        self._frame_time = 0.0
        self._picture: Any = None

    @property
    def done(self) -> bool:
        return self._next >= self._count

    def _slot(self, index: int) -> int:
        """Presentation time of grid slot ``index``, microseconds."""
        return round(Fraction(index * MICROS) / self._plan.rate)

    def _duration_at(self, pts: int) -> int | None:
        """How long the slot starting at ``pts`` lasts (None: not a slot start)."""
        index = round(Fraction(pts) * self._plan.rate / MICROS)
        if not 0 <= index < self._count or self._slot(index) != pts:
            return None
        end = self._plan.duration_us if index == self._count - 1 else self._slot(index + 1)
        return end - pts

    def add(self, frame: Any, at: float) -> None:
        """Take the next decoded frame, shown from ``at`` seconds of the output on."""
        if self._frame is not None:
            self._emit_until((self._frame_time + at) / 2)
        self._frame, self._frame_time, self._picture = frame, at, None

    def finish(self) -> None:
        if self._frame is None:
            raise MediaError("No video frame could be decoded in the requested range.")
        self._emit_until(math.inf)
        self._mux(self.stream.encode(None))

    def _emit_until(self, until: float) -> None:
        while not self.done and self._slot(self._next) / MICROS < until:
            if self._picture is None:
                self._picture = self._upright(self._frame)
            self._picture.pts = self._slot(self._next)
            self._picture.time_base = Fraction(1, MICROS)
            self._mux(self.stream.encode(self._picture))
            self._next += 1

    def _upright(self, frame: Any) -> Any:
        rotation = rotation_of(frame)
        width, height = self._plan.width, self._plan.height
        if rotation in (90, 270):
            width, height = height, width
        picture = frame.reformat(width=width, height=height, format="yuv420p", interpolation="AREA")
        picture = _rotate_yuv420p(self._av, picture, rotation) if rotation else picture
        # A decoded frame keeps its source picture type, and x264 obeys it: left as is,
        # every frame would be forced to P (or I), with no B-frames and twice the bytes.
        picture.pict_type = self._av.video.frame.PictureType.NONE
        return picture

    def _mux(self, packets: list[Any]) -> None:
        for packet in packets:
            # x264 does not pass frame durations on; the muxer needs them for the last frame.
            duration = self._duration_at(packet.pts) if packet.pts is not None else None
            if duration is not None:
                packet.duration = duration
            self._output.mux(packet)


def open_local(av: Any, source: Path | bytes) -> Any:
    file: Any = str(source) if isinstance(source, Path) else io.BytesIO(source)
    return open_container(av, file, str(source) if isinstance(source, Path) else "The video data")


# Packets this far past the end of the range are no longer waited for.
_READ_PAST_END: Final = 5.0


def transcode_into(
    av: Any,
    source: Path | bytes,
    plan: EncodePlan,
    output: Path,
    on_progress: Callable[[float], None] | None = None,
) -> None:
    """Re-encode ``plan.duration_us`` microseconds from ``plan.start`` into ``output``.

    The output has exactly ``plan.duration_us`` of video and, when the source has sound,
    as much audio (never more): the MP4 movie header, in a microsecond timescale, then
    reports the planned duration to the microsecond, which keeps the token estimate
    identical.
    """
    label = str(source) if isinstance(source, Path) else "The video data"
    try:
        with open_local(av, source) as container:
            video_in = video_stream(container, label)
            video_in.thread_type = "AUTO"
            audio_in, dropped = sent_audio(av, container)
            warn_dropped_audio(label, audio_in, dropped)
            origin = (container.start_time or 0) / MICROS + plan.start
            if plan.start > 0:
                _seek_before(av, container, video_in, origin)
            options = {"movflags": "+faststart", "movie_timescale": str(MICROS)}
            with av.open(str(output), mode="w", format="mp4", options=options) as out:
                video = _VideoSink(av, out, plan)
                audio = None
                if audio_in is not None:
                    total = plan.duration_us * AUDIO_RATE // MICROS
                    audio = _AudioSink(av, out, total, origin=round(origin * AUDIO_RATE))
                _pump(av, container, video_in, audio_in, video, audio, origin, plan, on_progress)
                video.finish()
                if audio is not None:
                    audio.finish()
    except av.FFmpegError as err:
        raise MediaError(f"Re-encoding {label} failed: {err}") from err


# Packets read after a seek looking for the keyframe decoding must start from.
_KEYFRAME_SEARCH: Final = 300


def _seek_before(av: Any, container: Any, video_in: Any, origin: float) -> None:
    """Seek to a keyframe at or before ``origin`` seconds, or to the start.

    Frames between the keyframe and ``origin`` are decoded, not shown. Formats without an
    index (MPEG-TS) seek by bytes and may land after ``origin`` or in the middle of a
    group of pictures, where nothing decodes until the next keyframe. The landing is
    checked on the packets, and decoding starts from the beginning then.
    """
    target = int(origin * MICROS)
    landed_well = False
    try:
        container.seek(target, backward=True, any_frame=False)
        for count, packet in enumerate(container.demux(video_in)):
            if packet.is_keyframe and packet.pts is not None and packet.time_base:
                landed_well = float(packet.pts * packet.time_base) <= origin + 1e-3
                break
            if count >= _KEYFRAME_SEARCH:
                break
        container.seek(target if landed_well else 0, backward=True, any_frame=False)
    except av.FFmpegError:
        with contextlib.suppress(av.FFmpegError):
            container.seek(0, backward=True, any_frame=False)


class _DecodeAhead:
    """Demux and decode in a worker thread, a few packets ahead of the encoder.

    FFmpeg releases the GIL while it decodes and encodes, so decoding the next frames
    while x264 encodes the current one uses a second core, as the ffmpeg tool does.
    Yields ``(stream index, frames, packet pts, packet time base)``.
    """

    _END: Final = object()

    def __init__(self, av: Any, container: Any, streams: list[Any], depth: int = 8) -> None:
        self._av = av
        self._container = container
        self._streams = streams
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mimo-decode", daemon=True)

    def __enter__(self) -> _DecodeAhead:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        while self._thread.is_alive():  # unblock a worker waiting on a full queue
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            with contextlib.suppress(queue.Full):
                self._queue.put(item, timeout=0.05)
                return True
        return False

    def _run(self) -> None:
        try:
            for packet in self._container.demux(*self._streams):
                if self._stop.is_set():
                    return
                try:
                    frames = packet.decode()
                except self._av.InvalidDataError:
                    # Like ffmpeg, skip a damaged packet: the previous frame (or silence)
                    # covers it.
                    continue
                item = (packet.stream.index, frames, packet.pts, packet.time_base)
                if not self._put(item):
                    return
        except BaseException as error:  # handed to the consumer, raised there
            self._put(error)
        finally:
            self._put(self._END)

    def __iter__(self) -> Iterator[tuple[int, list[Any], Any, Any]]:
        while True:
            item = self._queue.get()
            if item is self._END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item


def _pump(
    av: Any,
    container: Any,
    video_in: Any,
    audio_in: Any,
    video: _VideoSink,
    audio: _AudioSink | None,
    origin: float,
    plan: EncodePlan,
    on_progress: Callable[[float], None] | None = None,
) -> None:
    """Demux and decode until both sinks are full (or the source runs out)."""
    horizon = plan.duration_us / MICROS + _READ_PAST_END
    step = float(1 / (rate_of(video_in) or Fraction(30)))
    last_video_time = -step
    beyond: set[int] = set()
    streams = [video_in] if audio_in is None else [video_in, audio_in]
    with _DecodeAhead(av, container, streams) as decoded:
        for index, frames, pts, time_base in decoded:
            if index == video_in.index:
                for frame in frames:
                    time = frame.time
                    last_video_time = time - origin if time is not None else last_video_time + step
                    video.add(frame, last_video_time)
                if on_progress is not None and frames:
                    on_progress(min(max(last_video_time, 0.0), plan.duration_us / MICROS))
            elif audio is not None:
                for frame in frames:
                    audio.add(frame)
            if (
                pts is not None
                and time_base is not None
                and float(pts * time_base) - origin > horizon
            ):
                beyond.add(index)
            video_full = video.done or video_in.index in beyond
            audio_full = audio is None or audio.done or audio_in.index in beyond
            if video_full and audio_full:
                break


def exact_duration_us(
    seconds: float, width: int, height: int, fps: float, media_resolution: str, mute: bool
) -> int:
    """Microseconds closest to ``seconds`` that keep the token estimate unchanged."""
    target = explain_video_tokens(seconds, width, height, fps, media_resolution, mute)
    nearest = round(seconds * MICROS)
    for candidate in (nearest, math.floor(seconds * MICROS), math.ceil(seconds * MICROS)):
        estimate = explain_video_tokens(
            candidate / MICROS, width, height, fps, media_resolution, mute
        )
        if candidate > 0 and estimate == target:
            return candidate
    return max(nearest, 1)
