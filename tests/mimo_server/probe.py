"""What the contract server learns from the media bytes it receives, and how it fetches URLs.

Everything is measured with PyAV from the bytes that reached the server: the container,
the video stream's duration and size, whether there is an audio track, and the mean
colour of every decoded frame (named later from a small palette). Nothing here guesses at
meaning; the server only reports these measurements.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import ssl
import threading
import urllib.error
import urllib.request
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Final

import av

#: PyAV demuxer names of the documented containers (MP4/MOV share one demuxer; WMV is ASF).
DOCUMENTED_DEMUXERS: Final = {
    "mov,mp4,m4a,3gp,3g2,mj2": "MP4/MOV",
    "avi": "AVI",
    "asf": "WMV",
}

#: The palette frames are named from (nearest colour by RGB distance).
PALETTE: Final[dict[str, tuple[int, int, int]]] = {
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "gray": (128, 128, 128),
    "red": (255, 0, 0),
    "green": (0, 255, 0),
    "blue": (0, 0, 255),
    "yellow": (255, 255, 0),
    "cyan": (0, 255, 255),
    "magenta": (255, 0, 255),
    "orange": (255, 165, 0),
    "purple": (128, 0, 128),
}

#: Leading bytes of the documented image formats.
_IMAGE_SIGNATURES: Final = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
)


class MediaRejected(ValueError):
    """The bytes are not media the service accepts (wrong container, undecodable, ...)."""


class FetchFailed(ValueError):
    """A media URL could not be downloaded."""


class FetchTooLarge(FetchFailed):
    """A media URL points to more bytes than the documented limit."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes, over the {limit}-byte limit")
        self.size = size
        self.limit = limit


@dataclass(frozen=True)
class VideoProbe:
    """Measurements of one decoded video."""

    container: str
    """The documented format the demuxer recognised: "MP4/MOV", "AVI" or "WMV"."""
    duration: float
    """The video stream's duration in seconds (the container's if the stream has none)."""
    width: int
    height: int
    has_audio: bool
    frame_colors: tuple[tuple[float, tuple[float, float, float]], ...]
    """``(time in seconds, mean RGB)`` of every decoded frame, in order."""
    container_duration: float | None = None
    """The container's duration in seconds, if it states one."""
    audio_duration: float | None = None
    """The first audio stream's duration in seconds, if there is one that states it."""

    def duration_by(self, definition: str) -> float:
        """The duration under ``definition``: "video_stream", "container" or "audio_stream".

        A definition the file cannot answer (no container duration, no audio stream) falls
        back to the video stream's duration.
        """
        chosen = {"container": self.container_duration, "audio_stream": self.audio_duration}
        value = chosen.get(definition)
        return self.duration if value is None else value

    def sampled_colors(self, frames: int) -> list[str]:
        """Palette names of ``frames`` frames sampled evenly over the duration.

        Sample ``k`` is taken at ``(k + 0.5) * duration / frames`` seconds and shows the
        last decoded frame that starts at or before that time.
        """
        names: list[str] = []
        index = 0
        for k in range(frames):
            at = (k + 0.5) * self.duration / frames
            while index + 1 < len(self.frame_colors) and self.frame_colors[index + 1][0] <= at:
                index += 1
            names.append(color_name(self.frame_colors[index][1]))
        return names


def color_name(rgb: tuple[float, float, float]) -> str:
    """The palette colour nearest to ``rgb``."""

    def distance(name: str) -> float:
        return sum((a - b) ** 2 for a, b in zip(rgb, PALETTE[name], strict=True))

    return min(PALETTE, key=distance)


def dominant(names: list[str]) -> str:
    """The most frequent name; ties go to the one seen first."""
    counts = Counter(names)
    return max(names, key=lambda name: (counts[name], -names.index(name)))


_CACHE_SIZE = 64
_cache: OrderedDict[str, VideoProbe] = OrderedDict()
_cache_lock = threading.Lock()


def probe_video(data: bytes) -> VideoProbe:
    """Decode ``data`` fully and measure it; raise :class:`MediaRejected` if unusable.

    Results are cached by content hash, so a repeated video is decoded once.
    """
    key = hashlib.sha256(data).hexdigest()
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    probe = _decode_video(data)
    with _cache_lock:
        _cache[key] = probe
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return probe


def _decode_video(data: bytes) -> VideoProbe:
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            demuxer = container.format.name
            if demuxer not in DOCUMENTED_DEMUXERS:
                raise MediaRejected(
                    f"container {demuxer!r} is not one of the documented MP4, MOV, AVI, WMV"
                )
            if not container.streams.video:
                raise MediaRejected("no video stream")
            stream = container.streams.video[0]
            rate = float(stream.average_rate or stream.guessed_rate or 25)
            colors: list[tuple[float, tuple[float, float, float]]] = []
            width = height = 0
            for frame in container.decode(stream):
                width, height = frame.width, frame.height
                small = frame.reformat(width=16, height=16, format="rgb24").to_ndarray()
                mean = small.reshape(-1, 3).mean(axis=0)
                at = frame.time if frame.time is not None else len(colors) / rate
                colors.append((float(at), (float(mean[0]), float(mean[1]), float(mean[2]))))
            if not colors:
                raise MediaRejected("the video stream has no decodable frames")
            if stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            elif container.duration:
                duration = container.duration / av.time_base
            else:
                duration = colors[-1][0] + 1 / rate
            audio_duration = None
            if container.streams.audio:
                sound = container.streams.audio[0]
                if sound.duration and sound.time_base:
                    audio_duration = float(sound.duration * sound.time_base)
            return VideoProbe(
                container=DOCUMENTED_DEMUXERS[demuxer],
                duration=duration,
                width=width,
                height=height,
                has_audio=bool(container.streams.audio),
                frame_colors=tuple(colors),
                container_duration=(
                    container.duration / av.time_base if container.duration else None
                ),
                audio_duration=audio_duration,
            )
    except MediaRejected:
        raise
    except (av.FFmpegError, ValueError, IndexError) as exc:
        raise MediaRejected(f"the decoder failed: {exc}") from exc


def probe_audio(data: bytes) -> float:
    """Decode an audio clip and return its duration in seconds (decoded samples / rate)."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise MediaRejected("no audio stream")
            stream = container.streams.audio[0]
            samples = 0
            rate = stream.rate or 0
            for frame in container.decode(stream):
                samples += frame.samples
                rate = frame.sample_rate or rate
            if not samples or not rate:
                raise MediaRejected("the audio stream has no decodable samples")
            return samples / rate
    except MediaRejected:
        raise
    except (av.FFmpegError, ValueError, IndexError) as exc:
        raise MediaRejected(f"the decoder failed: {exc}") from exc


def sniff_image(data: bytes) -> str | None:
    """The documented image format of ``data`` from its leading bytes, or None."""
    for signature, name in _IMAGE_SIGNATURES:
        if data.startswith(signature):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


# The connection classes as they are at import time. vcrpy records cassettes by swapping
# ``http.client.HTTPConnection`` for its stub while a cassette is active; the server runs in
# the test's process, so without this its own downloads would land in (or be refused by)
# the client's cassette.
_HTTP_CONNECTION: Final = http.client.HTTPConnection
_HTTPS_CONNECTION: Final = http.client.HTTPSConnection


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTP_CONNECTION, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self) -> None:
        super().__init__()
        self._ssl_context = ssl.create_default_context()

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPS_CONNECTION, req, context=self._ssl_context)


# No proxies: the server fetches from wherever the URL says, loopback included.
_OPENER = urllib.request.build_opener(
    urllib.request.ProxyHandler({}), _HTTPHandler(), _HTTPSHandler()
)


def fetch(url: str, *, limit: int, timeout: float) -> bytes:
    """Download ``url`` like the service does, refusing more than ``limit`` bytes."""
    try:
        with _OPENER.open(url, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise FetchTooLarge(int(declared), limit)
            data: bytes = response.read(limit + 1)
    except urllib.error.HTTPError as exc:
        raise FetchFailed(f"HTTP {exc.code} from {url}") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise FetchFailed(f"cannot download {url}: {exc}") from exc
    if len(data) > limit:
        raise FetchTooLarge(len(data), limit)
    return data
