"""What a video holds: duration, frame size, rotation, codecs, container."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from langchain_mimo_video.errors import (
    MediaError,
    VideoSourceError,
)
from langchain_mimo_video.media._common import (
    MICROS,
    MIME_BY_CONTAINER,
    VideoSource,
    import_av,
    is_url,
    local_path,
    open_container,
    rate_of,
    rotation_of,
    video_stream,
)
from langchain_mimo_video.media._net import CountingReader, HTTPRangeReader, check_public_url

# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` learned about a video.

    Attributes:
        duration: Length in seconds (see :func:`probe` for where it comes from).
        width: Display width in pixels (after any rotation in the file's metadata).
        height: Display height in pixels.
        frame_rate: Average frames per second, 0.0 when unknown.
        video_codec: Codec name, e.g. ``"h264"``.
        audio_codec: Codec name of the first audio stream, or None.
        has_audio: Whether there is an audio stream.
        container: Short container name: ``"mp4"``, ``"mov"``, ``"avi"``, ``"wmv"``,
            ``"mkv"``, ``"webm"``, or FFmpeg's name for anything else.
        size_bytes: Size of the whole file, or None if it could not be told.
        bytes_read: Bytes actually read (or downloaded) to probe it.
        mime_type: MIME type guessed from the container, or None.
        rotation: Counter-clockwise rotation the player applies (0, 90, 180 or 270).
        duration_source: ``"stream"``, ``"container"`` or ``"packets"``.
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


# --------------------------------------------------------------------------------------
# Probing
# --------------------------------------------------------------------------------------


def _container_name(container: Any, video_codec: str, audio_codec: str | None) -> str:
    name = str(container.format.name)
    if name.startswith("mov,"):
        brand = str(container.metadata.get("major_brand", "")).strip()
        return "mov" if brand == "qt" else "mp4"
    if name == "asf":
        return "wmv"
    if name.startswith("matroska"):
        webm_audio = audio_codec in (None, "opus", "vorbis")
        return "webm" if video_codec in ("vp8", "vp9", "av1") and webm_audio else "mkv"
    return name.split(",")[0]


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


def _first_frame_rotation(av: Any, container: Any, video: Any) -> int:
    """Rotation from the first decoded frame (PyAV shows the display matrix only there)."""
    try:
        for packets, packet in enumerate(container.demux(video)):
            for frame in packet.decode():
                return rotation_of(frame)
            if packets > 50:
                break
    except av.FFmpegError:
        pass
    return 0


def _probe_open(
    av: Any, container: Any, *, size: int | None, counter: Any, label: str
) -> VideoInfo:
    video = video_stream(container, label)
    audio = next(iter(container.streams.audio), None)
    video_codec = str(video.codec_context.name)
    audio_codec = (
        str(getattr(audio.codec, "canonical_name", None) or audio.codec_context.name)
        if audio is not None
        else None
    )
    duration, duration_source = _duration(av, container, video)
    rotation = _first_frame_rotation(av, container, video)
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
    )


def probe(
    source: VideoSource, *, timeout: float = 30.0, allow_private_network: bool = True
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
        source: A path, bytes, a binary file object holding just the video (read from
            its start; left open, its position restored), or an http(s) URL.
        timeout: Seconds a URL's whole probe may take (connecting, redirects and every
            read); also the longest single wait.
        allow_private_network: When False, URLs whose host (or any redirect's host)
            resolves to a loopback, private, link-local, reserved or cloud-metadata
            address are refused.

    Returns:
        A :class:`VideoInfo`.

    Raises:
        VideoSourceError: If the file is missing, the URL cannot be read, or the data is
            not a video PyAV can open.
        ProbeLimitError: (a ``VideoSourceError``) if a URL's probe runs past ``timeout``
            or reads its byte cap (the stated size plus a margin, at most 300 MB).
        UnsafeSourceError: If ``allow_private_network`` is False and the URL is not public.
        MediaError: If PyAV is not installed or the video cannot be measured.

    Example:
        .. code-block:: python

            from langchain_mimo_video.media import probe

            info = probe("clip.mp4")
            print(info.duration, info.width, info.height, info.has_audio)

    """
    av = import_av()
    with _opened(av, source, timeout, allow_private_network) as (container, counter, size, label):
        return _probe_open(av, container, size=size, counter=counter, label=label)


def probe_audio_duration(
    source: VideoSource, *, timeout: float = 30.0, allow_private_network: bool = True
) -> float:
    """Return the duration, in seconds, of an audio (or video) file's sound.

    Sources and URL handling are as for :func:`probe`. The duration is the container's,
    else the first audio stream's, else measured from packet timestamps.

    Args:
        source: A path, bytes, a binary file object, or an http(s) URL.
        timeout: Seconds a URL's whole probe may take.
        allow_private_network: When False, URLs pointing into private networks are refused.

    Returns:
        The duration in seconds.

    Raises:
        VideoSourceError: If the source cannot be read or has no audio stream.
        UnsafeSourceError: If ``allow_private_network`` is False and the URL is not public.
        MediaError: If PyAV is not installed or the duration cannot be measured.

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
        if not allow_private_network:
            check_public_url(source)
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
        with open_container(av, counter, "The bytes") as container:
            yield container, counter, len(data), "The bytes"
    elif isinstance(source, str | os.PathLike):
        path = local_path(source)
        with path.open("rb") as raw:
            counter = CountingReader(raw)
            with open_container(av, counter, str(path)) as container:
                yield container, counter, path.stat().st_size, str(path)
    elif hasattr(source, "read"):
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
