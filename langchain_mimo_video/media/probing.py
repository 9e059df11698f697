"""What a video holds: duration, frame size, rotation, codecs, container."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import IO, Any, Final

from langchain_mimo_video._utils import VideoSource, is_url, text_mode_error
from langchain_mimo_video.errors import (
    MediaError,
    VideoSourceError,
)
from langchain_mimo_video.media._common import (
    MICROS,
    MIME_BY_CONTAINER,
    import_av,
    local_path,
    open_container,
    rate_of,
    rotation_of,
    video_stream,
)
from langchain_mimo_video.media._net import CountingReader, HTTPRangeReader

__all__ = [
    "PROBE_TIMEOUT_SECONDS",
    "VideoInfo",
    "check_decodable",
    "probe",
    "probe_audio_duration",
]


#: A URL probe's whole deadline unless told otherwise: lookup, connection and every read.
PROBE_TIMEOUT_SECONDS: Final = 30.0


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` learned about a video.

    Attributes:
        duration: length in seconds (see :func:`probe` for where it comes from).
        width: display width in pixels (after any rotation in the file's metadata).
        height: display height in pixels.
        frame_rate: average frames per second, 0.0 when unknown.
        video_codec: codec name, e.g. ``"h264"``.
        audio_codec: codec name of the first audio stream, or None.
        has_audio: whether there is an audio stream.
        container: short container name: ``"mp4"``, ``"mov"``, ``"avi"``, ``"wmv"``,
            ``"mkv"``, ``"webm"``, or FFmpeg's name for anything else.
        size_bytes: size of the whole file, or None if it could not be told.
        bytes_read: bytes actually read (or downloaded) to probe it.
        mime_type: MIME type guessed from the container, or None.
        rotation: counter-clockwise rotation the player applies (0, 90, 180 or 270).
        duration_source: ``"stream"``, ``"container"`` or ``"packets"``.
        exact_frame_rate: ``frame_rate`` as an exact fraction (``30000/1001`` for NTSC),
            or None when unknown. Use it, not ``Fraction(frame_rate)``, for arithmetic.
    """

    duration: float
    width: int
    height: int
    frame_rate: float
    video_codec: str
    audio_codec: str | None
    has_audio: bool
    container: str
    size_bytes: int | None
    bytes_read: int
    mime_type: str | None = None
    rotation: int = 0
    duration_source: str = "stream"
    exact_frame_rate: Fraction | None = None


# --------------------------------------------------------------------------------------
# Probing
# --------------------------------------------------------------------------------------


def _container_name(container: Any, video_codec: str, audio_codec: str | None) -> str:
    name = str(container.format.name)
    if name.startswith("mov,"):
        brand = str(container.metadata.get("major_brand", "")).strip()
        if brand.startswith(("3gp", "3g2")):
            return brand[:3]
        return "mov" if brand == "qt" else "mp4"
    if name == "asf":
        return "wmv"
    if name.startswith("matroska"):
        webm_audio = audio_codec in (None, "opus", "vorbis")
        return "webm" if video_codec in ("vp8", "vp9", "av1") and webm_audio else "mkv"
    return name.split(",")[0]


# A header duration implying fewer bytes than this per second of video is not believed
# until the packets confirm it: even a still picture costs more, in index entries alone.
_MIN_BYTES_PER_SECOND: Final = 64


def _checked_duration(av: Any, container: Any, video: Any, size: int | None) -> tuple[float, str]:
    """:func:`_duration`, checked against the packets when the header looks absurd.

    A file's header can claim any duration (a one-second file claiming thousands of
    years); everything downstream (segment plans, re-encode grids, padding) scales with
    it. When the claim is more than the file's size could hold, the last packets are read
    (a seek to the end, then demuxing only) and their timestamps win.
    """
    claimed, where = _duration(av, container, video)
    if where == "packets" or size is None or claimed * _MIN_BYTES_PER_SECOND <= max(size, 1):
        return claimed, where
    measured = _packet_span(av, container, video, claimed)
    if measured is not None and measured < claimed:
        return measured, "packets"
    return claimed, where


def _packet_span(av: Any, container: Any, video: Any, claimed: float) -> float | None:
    """Seconds from the video stream's first timestamp to the end of its last packet."""
    if video.time_base is None:
        return None
    base = video.time_base
    first = video.start_time
    last: float | None = None
    try:
        # The index (when there is one) takes the seek to the last keyframe; without
        # one FFmpeg reads from the start. Either way only packets are read, no frames.
        with contextlib.suppress(av.FFmpegError):
            container.seek(int(claimed * MICROS), backward=True, any_frame=False)
        for packet in container.demux(video):
            if packet.pts is None:
                continue
            if first is None:
                first = packet.pts
            end = float((packet.pts + (packet.duration or 0) - first) * base)
            last = end if last is None else max(last, end)
    except av.FFmpegError:
        return None
    finally:
        with contextlib.suppress(av.FFmpegError):
            container.seek(0)
    return last


def _duration(av: Any, container: Any, video: Any) -> tuple[float, str]:
    """Duration in seconds and where it came from.

    The video stream's own duration comes first: MiMo samples frames from the video
    track, so a soundtrack that runs on after the last frame adds no frames. Then the
    container's (Matroska states no stream duration), and only then the packet
    timestamps, which means reading the whole file.
    """
    if video.duration is not None and video.duration > 0 and video.time_base:
        return float(video.duration * video.time_base), "stream"
    if container.duration is not None and container.duration > 0:
        return container.duration / MICROS, "container"
    first: float | None = None
    last = 0.0
    try:
        container.seek(0)
        for packet in container.demux():
            if packet.pts is None or packet.time_base is None:
                continue
            start = float(packet.pts * packet.time_base)
            end = start + float((packet.duration or 0) * packet.time_base)
            first = start if first is None else min(first, start)
            last = max(last, end)
    except av.FFmpegError as err:
        raise MediaError(f"Could not read the video to measure its duration: {err}") from err
    if first is None:
        raise MediaError("Could not tell the video's duration: it has no timed packets.")
    return last - first, "packets"


# Packets read, at most, looking for the first frame (a decoder with B-frames and frame
# threads holds a few back).
_FIRST_FRAME_PACKETS: Final = 64


def _first_frame_rotation(av: Any, container: Any, video: Any) -> int | None:
    """Rotation from the first decoded frame (PyAV shows the display matrix only there).

    None when no frame decodes from the first packets.
    """
    try:
        for packets, packet in enumerate(container.demux(video)):
            with contextlib.suppress(av.InvalidDataError):
                for frame in packet.decode():
                    return rotation_of(frame)
            if packets >= _FIRST_FRAME_PACKETS:
                break
        for frame in video.codec_context.decode(None):  # frames a decoder held back
            return rotation_of(frame)
    except av.FFmpegError:
        pass
    return None


def _probe_open(
    av: Any,
    container: Any,
    *,
    size: int | None,
    counter: Any,
    label: str,
    require_frame: bool = False,
) -> VideoInfo:
    video = video_stream(container, label)
    audio = next(iter(container.streams.audio), None)
    # The codec's name, not the decoder's ("av1", not "libdav1d").
    video_codec = str(getattr(video.codec, "canonical_name", None) or video.codec_context.name)
    audio_codec = (
        str(getattr(audio.codec, "canonical_name", None) or audio.codec_context.name)
        if audio is not None
        else None
    )
    duration, duration_source = _checked_duration(av, container, video, size)
    first_rotation = _first_frame_rotation(av, container, video)
    if first_rotation is None and require_frame:
        raise VideoSourceError(
            f"{label} has a video stream, but its first frame does not decode: the file is "
            "damaged or cut short, or its codec is not one FFmpeg can decode."
        )
    rotation = first_rotation or 0
    width, height = int(video.codec_context.width), int(video.codec_context.height)
    if rotation in (90, 270):
        width, height = height, width
    short = _container_name(container, video_codec, audio_codec)
    rate = rate_of(video)
    return VideoInfo(
        duration=duration,
        width=width,
        height=height,
        frame_rate=float(rate) if rate else 0.0,
        video_codec=video_codec,
        audio_codec=audio_codec,
        has_audio=audio is not None,
        container=short,
        size_bytes=size,
        bytes_read=int(counter.bytes_read),
        mime_type=MIME_BY_CONTAINER.get(short),
        rotation=rotation,
        duration_source=duration_source,
        exact_frame_rate=rate,
    )


def probe(
    source: VideoSource,
    *,
    timeout: float = PROBE_TIMEOUT_SECONDS,
    allow_private_network: bool = True,
) -> VideoInfo:
    """Read a video's duration, frame size, codecs and container.

    For an ``http(s)://`` URL only the parts the container needs are downloaded, with
    HTTP Range requests (the header and index of a faststart MP4: usually well under
    1 MB); ``bytes_read`` reports how much. The duration is the video stream's (what MiMo
    samples frames from), else the container's, else measured from packet timestamps
    (``duration_source`` says which).
    Only the first video frame is decoded, to learn the rotation phones store in the
    metadata; ``width`` and ``height`` are the upright (displayed) size.

    Args:
        source: a path, bytes, a binary file object holding just the video (read from
            its start; left open, its position restored), or an http(s) URL.
        timeout: seconds a URL's whole probe may take (the host's lookups, connecting,
            redirects and every read); also the longest single wait.
        allow_private_network: when False, URLs whose host (or any redirect's host)
            resolves to a loopback, private, link-local, reserved or cloud-metadata
            address are refused.

    Returns:
        A :class:`VideoInfo`.

    Raises:
        VideoSourceError: if the file is missing, the URL cannot be read, or the data is
            not a video PyAV can open.
        ProbeLimitError: (a ``VideoSourceError``) if a URL's probe runs past ``timeout``
            or reads its byte cap (the stated size plus a margin, at most 300 MB).
        UnsafeSourceError: if ``allow_private_network`` is False and the URL is not public.
        MediaError: if PyAV is not installed or the video cannot be measured.

    Example:
        .. code-block:: python

            from langchain_mimo_video.media import probe

            info = probe("clip.mp4")
            print(info.duration, info.width, info.height, info.has_audio)

    """
    av = import_av()
    with _opened(av, source, timeout, allow_private_network) as (container, counter, size, label):
        return _probe_open(av, container, size=size, counter=counter, label=label)


def check_decodable(source: VideoSource) -> VideoInfo:
    """:func:`probe` a local video and make sure its first video frame decodes.

    This is what :class:`~langchain_mimo_video.VideoLoader` checks before it sends a
    local video: a header PyAV can read, a video stream, and a first frame that decodes.
    It reads the header and the first frames' packets only (a few milliseconds, however
    large the file).

    Args:
        source: a path, bytes or a binary file object.

    Returns:
        The :class:`VideoInfo` of :func:`probe`.

    Raises:
        VideoSourceError: if the data is not a video, has no video stream, or its first
            frame does not decode.
        MediaError: if PyAV is not installed.

    Example:
        .. code-block:: python

            from langchain_mimo_video.media import check_decodable

            info = check_decodable("upload.mp4")

    """
    av = import_av()
    with _opened(av, source, PROBE_TIMEOUT_SECONDS, True) as (container, counter, size, label):
        return _probe_open(
            av, container, size=size, counter=counter, label=label, require_frame=True
        )


def probe_audio_duration(
    source: VideoSource,
    *,
    timeout: float = PROBE_TIMEOUT_SECONDS,
    allow_private_network: bool = True,
) -> float:
    """Return the duration, in seconds, of an audio (or video) file's sound.

    Sources and URL handling are as for :func:`probe`. The duration is the container's,
    else the first audio stream's, else measured from packet timestamps.

    Args:
        source: a path, bytes, a binary file object, or an http(s) URL.
        timeout: seconds a URL's whole probe may take.
        allow_private_network: when False, URLs pointing into private networks are refused.

    Returns:
        The duration in seconds.

    Raises:
        VideoSourceError: if the source cannot be read or has no audio stream.
        UnsafeSourceError: if ``allow_private_network`` is False and the URL is not public.
        MediaError: if PyAV is not installed or the duration cannot be measured.

    Example:
        .. code-block:: python

            from langchain_mimo_video.media import probe_audio_duration

            seconds = probe_audio_duration("speech.mp3")

    """
    av = import_av()
    with _opened(av, source, timeout, allow_private_network) as (container, _, _, label):
        audio = next(iter(container.streams.audio), None)
        if audio is None:
            raise VideoSourceError(f"{label} has no audio stream.")
        return _duration(av, container, audio)[0]


@contextlib.contextmanager
def _opened(
    av: Any, source: VideoSource, timeout: float, allow_private_network: bool
) -> Iterator[tuple[Any, Any, int | None, str]]:
    """Open any supported source; yield (container, byte counter, size, label)."""
    if isinstance(source, str) and is_url(source):
        # the reader checks the URL itself, within the probe's deadline
        reader = HTTPRangeReader(
            source, timeout=timeout, allow_private_network=allow_private_network
        )
        try:
            with open_container(av, reader, source) as container:
                yield container, reader, reader.size, source
        finally:
            reader.close()
    elif isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        counter = CountingReader(io.BytesIO(data))
        with open_container(av, counter, "The video data") as container:
            yield container, counter, len(data), "The video data"
    elif isinstance(source, str | os.PathLike):
        path = local_path(source)
        with path.open("rb") as raw:
            counter = CountingReader(raw)
            with open_container(av, counter, str(path)) as container:
                yield container, counter, path.stat().st_size, str(path)
    elif hasattr(source, "read"):
        refusal = text_mode_error(source, "The file object")
        if refusal is not None:
            raise refusal
        file: IO[bytes] = source
        counter = CountingReader(file)
        start: int | None = None
        size: int | None = None
        if counter.seekable():
            with contextlib.suppress(OSError, ValueError):
                start = file.tell()
                size = file.seek(0, io.SEEK_END)
                file.seek(0)  # PyAV's seeks are absolute, so it must start at the start
        label = f"The file object {getattr(file, 'name', '')!s}".rstrip()
        try:
            with open_container(av, counter, label) as container:
                yield container, counter, size, label
        finally:
            if start is not None:
                with contextlib.suppress(OSError, ValueError):
                    file.seek(start)
    else:
        raise VideoSourceError(
            f"Cannot read a {type(source).__name__}; pass a path, bytes, a binary file or a URL."
        )
