"""Local video work with PyAV: probe, fit, clip and split.

Everything here reads or writes media and nothing else: no requests to MiMo, no LangChain.
PyAV is imported lazily, so the package works without it until one of these functions is
called (``pip install "langchain-mimo-video[media]"``).

Errors are split by cause:

* :class:`~langchain_mimo_video.errors.VideoSourceError`: the source cannot be used at
  all: a missing file, an unreachable URL, or data PyAV cannot open as a video (no video
  stream, not a media file).
* :class:`~langchain_mimo_video.errors.MediaError`: PyAV is missing, or a source that opened
  as a video failed while decoding or re-encoding.
* :class:`~langchain_mimo_video.errors.VideoValidationError`: bad arguments (a clip range
  outside the video, an invalid ``fps``); :class:`~langchain_mimo_video.errors.UnsafeSourceError`
  for URLs refused by :func:`check_public_url`.

Re-encoded files follow what MiMo is known to accept: H.264 ``yuv420p`` with CRF rate
control and AAC audio padded to the video's length, in an MP4 with its index first
("faststart"), written to a seekable file.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib
import io
import ipaddress
import math
import os
import queue
import re
import socket
import ssl
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import IO, Any, Final, TypeAlias

from langchain_mimo_video.errors import (
    MediaError,
    MiMoError,
    UnsafeSourceError,
    VideoSourceError,
    VideoTooLargeError,
    VideoValidationError,
)
from langchain_mimo_video.limits import (
    DEFAULT_FPS,
    DEFAULT_MEDIA_RESOLUTION,
    MAX_BASE64_BYTES,
)
from langchain_mimo_video.tokens import VideoTokenEstimate, explain_video_tokens

#: What the media functions accept: a path, raw bytes, a binary file object, or (for
#: :func:`probe` only) an ``http(s)://`` URL.
VideoSource: TypeAlias = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]

_INSTALL_HINT: Final = (
    'PyAV is needed for this; install it with pip install "langchain-mimo-video[media]".'
)

# Encoding defaults. CRF 27 at the server's frame size (about 736x384 for a 1080p minute)
# stays clean for a model and for a person, and a "veryfast" x264 preset keeps encoding far
# quicker than real time on two cores; decoding the source is usually the slower half.
_DEFAULT_CRF: Final = 27
_ENCODER_THREADS: Final = 4
_MAX_AUTO_CRF: Final = 36  # the retry after an oversized result never goes past this
_X264_PRESET: Final = "veryfast"
# The token formula measures audio at 24 kHz, which suggests the server's audio encoder
# works at that rate; mono AAC at 24 kHz and 48 kbit/s keeps speech and music clear for
# about 0.36 MB a minute (the token count does not depend on rate or channels).
_AUDIO_RATE: Final = 24000
_AUDIO_BIT_RATE: Final = 48000
_AUDIO_FRAME: Final = 1024
_MAX_OUTPUT_RATE: Final = Fraction(60)
_MICROS: Final = 1_000_000

_MIME_BY_CONTAINER: Final = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "avi": "video/x-msvideo",
    "wmv": "video/x-ms-wmv",
    "mkv": "video/x-matroska",
    "webm": "video/webm",
}


def _import_av() -> Any:
    try:
        return importlib.import_module("av")
    except ImportError as err:  # pragma: no cover - the test environment has PyAV
        raise MediaError(_INSTALL_HINT) from err


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


@dataclass(frozen=True)
class FitResult:
    """The outcome of :func:`fit_video`.

    Attributes:
        path: The video to send: the re-encoded MP4's path, or the original source
            (its path, or its bytes) when nothing had to change.
        changed: Whether a new file was written.
        original_info: Probe of the source.
        fitted_info: Probe of the result (``original_info`` when unchanged).
        original_bytes: Size of the source.
        fitted_bytes: Size of the result.
        ratio: ``original_bytes / fitted_bytes``: how many times smaller it got.
        tokens_before: Estimated tokens of the source (of the clip when clipped).
        tokens_after: Estimated tokens of the result, checked equal to ``tokens_before``.
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
        start: Start in the source, seconds.
        end: End in the source, seconds.
        path: The segment's MP4 file.
    """

    start: float
    end: float
    path: Path

    @property
    def duration(self) -> float:
        """Length of the segment in seconds."""
        return self.end - self.start


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


# --------------------------------------------------------------------------------------
# URL safety
# --------------------------------------------------------------------------------------

_METADATA_ADDRESSES: Final = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack instance metadata
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS instance metadata over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)
_METADATA_HOSTS: Final = frozenset({"metadata", "metadata.google.internal", "metadata.goog"})
_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")


def _address_problem(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Say why ``ip`` is not a public address, or return None if it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            problem = _address_problem(embedded)
            return f"{problem} (embedded in {ip})" if problem else None
    if ip in _METADATA_ADDRESSES:
        return "cloud metadata"
    for kind in ("unspecified", "loopback", "link_local", "private", "multicast", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    if not ip.is_global:
        return "non-public"
    return None


def _refuse_address(address: str, url: str) -> None:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError as err:
        raise UnsafeSourceError(f"Refusing {url}: {address!r} is not an IP address.") from err
    problem = _address_problem(ip)
    if problem:
        raise UnsafeSourceError(
            f"Refusing {url}: it points to {ip}, a {problem} address. Only public internet "
            "addresses are allowed here; pass allow_private_network=True for sources you trust."
        )


def check_public_url(url: str) -> None:
    """Refuse URLs that point into a private network.

    The host is resolved and every address it resolves to must be a public internet
    address: loopback, private, link-local, shared (CGNAT), reserved, multicast and cloud
    metadata addresses (such as ``169.254.169.254`` and ``fd00:ec2::254``) are refused,
    including IPv4 addresses embedded in IPv6 ones. IP literals are checked without any
    network access. Call it again for every redirect hop.

    Args:
        url: An ``http://`` or ``https://`` URL.

    Raises:
        UnsafeSourceError: If the scheme is not http(s), the host is missing or cannot be
            resolved, or any of its addresses is not public.

    Example:
        .. code-block:: python

            check_public_url("https://example.com/cat.mp4")  # passes
            check_public_url("http://169.254.169.254/latest/")  # raises UnsafeSourceError

    """
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise UnsafeSourceError(f"Refusing {url!r}: it is not a valid URL ({err}).") from err
    if parts.scheme.lower() not in ("http", "https"):
        raise UnsafeSourceError(
            f"Refusing {url!r}: only http and https URLs are allowed, not {parts.scheme!r}."
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeSourceError(f"Refusing {url!r}: the URL has no host.")
    if host in _METADATA_HOSTS:
        raise UnsafeSourceError(f"Refusing {url}: {host} is a cloud metadata service.")
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as err:
            raise UnsafeSourceError(
                f"Refusing {url}: could not resolve {host} ({err}), so it cannot be checked "
                "to be a public address."
            ) from err
        addresses = sorted({str(info[4][0]) for info in infos})
    for address in addresses:
        _refuse_address(address, url)


class _PeerCheck:
    """Mixin for http.client connections: refuse a private peer after connecting.

    This closes the gap between resolving a name in :func:`check_public_url` and the
    connection's own lookup (DNS rebinding). Through a proxy the peer is the proxy, so the
    check is skipped there and the name check applies instead.
    """

    sock: Any
    host: str

    def _check_peer(self) -> None:
        if getattr(self, "_tunnel_host", None) is not None:
            return
        try:
            peer = self.sock.getpeername()[0]
            _refuse_address(str(peer), f"host {self.host}")
        except UnsafeSourceError:
            self.sock.close()
            raise


class _GuardedHTTPConnection(_PeerCheck, http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        self._check_peer()


class _GuardedHTTPSConnection(_PeerCheck, http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        self._check_peer()


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        # A request sent through an HTTP proxy connects to the proxy, not the host.
        direct = not req.has_proxy()
        connection = _GuardedHTTPConnection if direct else http.client.HTTPConnection
        return self.do_open(connection, req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self) -> None:
        self._ssl_context = ssl.create_default_context()
        super().__init__(context=self._ssl_context)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_GuardedHTTPSConnection, req, context=self._ssl_context)


class _GuardedRedirectHandler(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        check_public_url(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _build_opener(allow_private_network: bool) -> urllib.request.OpenerDirector:
    if allow_private_network:
        return urllib.request.build_opener()
    return urllib.request.build_opener(
        _GuardedRedirectHandler(), _GuardedHTTPHandler(), _GuardedHTTPSHandler()
    )


# --------------------------------------------------------------------------------------
# Readers
# --------------------------------------------------------------------------------------


class _CountingReader:
    """A read-only view of a binary file that counts the bytes read through it.

    It has no ``close``: PyAV closes the file objects it is given, and a caller's file
    must stay open.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if not isinstance(data, bytes | bytearray):
            raise VideoSourceError("The file object must be opened in binary mode ('rb').")
        self.bytes_read += len(data)
        return bytes(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def seekable(self) -> bool:
        probe_seekable: Callable[[], bool] | None = getattr(self._raw, "seekable", None)
        return True if probe_seekable is None else bool(probe_seekable())

    def readable(self) -> bool:
        return True


_HTTP_BLOCK: Final = 64 * 1024
_HTTP_CACHE_BLOCKS: Final = 256  # at most 16 MiB kept per reader
_CONTENT_RANGE: Final = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.IGNORECASE)


class _HTTPRangeReader:
    """A seekable, read-only file over HTTP that fetches only the blocks it is asked for.

    Reads go through a cache of 64 KiB blocks filled with ``Range`` requests, so opening a
    faststart MP4 costs its header and index, not the whole file. A server that ignores
    ``Range`` (answers 200 with the whole body) is read as one stream instead: forward
    seeks read through, and what was read stays cached for backward seeks.
    ``bytes_read`` counts every byte received.
    """

    def __init__(self, url: str, *, timeout: float, allow_private_network: bool) -> None:
        self.url = url
        self._label = url
        self._timeout = timeout
        self._opener = _build_opener(allow_private_network)
        self.bytes_read = 0
        self.size: int | None = None
        self.ranges = True
        self._pos = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._stream: Any = None
        self._stream_pos = 0
        self._first_fetch()

    # -- network ---------------------------------------------------------------------

    def _open(self, start: int, stop: int) -> Any:
        """GET bytes ``[start, stop)``; None when the range lies past the end (416)."""
        request = urllib.request.Request(
            self.url,
            headers={
                "Range": f"bytes={start}-{stop - 1}",
                "Accept-Encoding": "identity",
                "User-Agent": "langchain-mimo-video",
            },
        )
        try:
            return self._opener.open(request, timeout=self._timeout)
        except urllib.error.HTTPError as err:
            err.close()
            if err.code == 416:
                return None
            raise VideoSourceError(
                f"Could not read {self._label}: HTTP {err.code} {err.reason}."
            ) from err
        except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
            raise VideoSourceError(f"Could not read {self._label}: {err}.") from err

    def _first_fetch(self) -> None:
        response = self._open(0, _HTTP_BLOCK)
        if response is None:
            raise VideoSourceError(f"{self._label} is empty.")
        self.url = response.geturl()  # later ranges go straight to the final redirect target
        if response.status == 206:
            self._take_range(response, 0, _HTTP_BLOCK)
            return
        self.ranges = False
        length = response.headers.get("Content-Length")
        self.size = int(length) if length and length.isdigit() else None
        self._stream = response

    def _read_body(self, response: Any, limit: int | None = None) -> bytes:
        try:
            data = response.read() if limit is None else response.read(limit)
        except (OSError, http.client.HTTPException) as err:
            raise VideoSourceError(f"Could not read {self._label}: {err}.") from err
        self.bytes_read += len(data)
        return bytes(data)

    def _take_range(self, response: Any, start: int, stop: int) -> None:
        """Cache the body of a 206 answer to a request for ``[start, stop)``."""
        with contextlib.closing(response):
            match = _CONTENT_RANGE.search(response.headers.get("Content-Range", ""))
            if match:
                start = int(match.group(1))  # what the server actually sent
                if match.group(3) != "*":
                    self.size = int(match.group(3))
            data = self._read_body(response)
        if self.size is None and len(data) < stop - start:
            self.size = start + len(data)  # a short answer without a total marks the end
        self._store(start, data)

    def _store(self, offset: int, data: bytes) -> None:
        # Only whole blocks (or the file's last block) are kept, so blocks stay aligned.
        skip = -offset % _HTTP_BLOCK
        data, offset = data[skip:], offset + skip
        for at in range(0, len(data), _HTTP_BLOCK):
            chunk = data[at : at + _HTTP_BLOCK]
            at_end = self.size is not None and offset + at + len(chunk) >= self.size
            if len(chunk) == _HTTP_BLOCK or at_end:
                index = (offset + at) // _HTTP_BLOCK
                self._blocks[index] = chunk
                self._blocks.move_to_end(index)

    def _fetch(self, first: int, last: int) -> None:
        """Fetch blocks ``first..last`` (inclusive) in one request."""
        if not self.ranges:
            self._stream_until((last + 1) * _HTTP_BLOCK)
            return
        start, stop = first * _HTTP_BLOCK, (last + 1) * _HTTP_BLOCK
        if self.size is not None:
            stop = min(stop, self.size)
        if start >= stop:
            return
        response = self._open(start, stop)
        if response is None:
            self.size = start if self.size is None else min(self.size, start)
            return
        if response.status != 206:
            response.close()
            raise VideoSourceError(
                f"Could not read {self._label}: the server stopped honouring Range requests."
            )
        self._take_range(response, start, stop)

    def _stream_until(self, offset: int) -> None:
        while self._stream is not None and self._stream_pos < offset:
            data = b""
            while len(data) < _HTTP_BLOCK:
                more = self._read_body(self._stream, _HTTP_BLOCK - len(data))
                if not more:
                    break
                data += more
            if len(data) < _HTTP_BLOCK:
                self._stream.close()
                self._stream = None
                self.size = self._stream_pos + len(data)
            self._store(self._stream_pos, data)
            self._stream_pos += len(data)

    # -- file protocol ---------------------------------------------------------------

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = (self.size if self.size is not None else 1 << 62) - self._pos
        if self.size is not None:
            size = min(size, self.size - self._pos)
        if size <= 0:
            return b""
        first, last = self._pos // _HTTP_BLOCK, (self._pos + size - 1) // _HTTP_BLOCK
        missing = [index for index in range(first, last + 1) if index not in self._blocks]
        if missing:
            self._fetch(missing[0], missing[-1])
        if first not in self._blocks:
            if self.size is not None and self._pos >= self.size:
                return b""
            raise VideoSourceError(f"Could not read {self._label}: the server sent too little.")
        chunks = []
        for index in range(first, last + 1):
            block = self._blocks.get(index)
            if block is None:
                break
            self._blocks.move_to_end(index)
            chunks.append(block)
        data = b"".join(chunks)[self._pos - first * _HTTP_BLOCK :][:size]
        self._pos += len(data)
        if self.ranges:  # a streamed body cannot be fetched again, so it is all kept
            while len(self._blocks) > _HTTP_CACHE_BLOCKS:
                self._blocks.popitem(last=False)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self._pos = offset
        elif whence == io.SEEK_CUR:
            self._pos += offset
        elif whence == io.SEEK_END and self.size is not None:
            self._pos = self.size + offset
        else:
            raise OSError(f"cannot seek with whence={whence} (size known: {self.size})")
        self._pos = max(self._pos, 0)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


# --------------------------------------------------------------------------------------
# Probing
# --------------------------------------------------------------------------------------


def _is_url(source: object) -> bool:
    return isinstance(source, str) and source.lower().startswith(("http://", "https://"))


def _local_path(source: str | os.PathLike[str]) -> Path:
    path = Path(source)
    if not path.exists():
        raise VideoSourceError(f"Video file not found: {path}.")
    if not path.is_file():
        raise VideoSourceError(f"Not a file: {path}.")
    return path


def _open_container(av: Any, file: Any, label: str) -> Any:
    try:
        return av.open(file, mode="r", metadata_errors="ignore")
    except MiMoError:
        raise
    except (av.FFmpegError, ValueError, OSError, TypeError) as err:
        raise VideoSourceError(f"{label} is not a video PyAV can read: {err}") from err


def _video_stream(container: Any, label: str) -> Any:
    av = _import_av()
    for stream in container.streams.video:
        # Cover art in audio files shows up as a one-picture video stream.
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    raise VideoSourceError(f"{label} has no video stream.")


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


def _rotation(frame: Any) -> int:
    try:
        degrees = float(frame.rotation)
    except (AttributeError, TypeError, ValueError):
        return 0
    return round(degrees / 90) * 90 % 360


def _rate_of(stream: Any) -> Fraction | None:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return Fraction(rate)
    return None


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
        return container.duration / _MICROS, "container"
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
                return _rotation(frame)
            if packets > 50:
                break
    except av.FFmpegError:
        pass
    return 0


def _probe_open(
    av: Any, container: Any, *, size: int | None, counter: Any, label: str
) -> VideoInfo:
    video = _video_stream(container, label)
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
    rate = _rate_of(video)
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
        mime_type=_MIME_BY_CONTAINER.get(short),
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
        timeout: Seconds to wait on each HTTP request.
        allow_private_network: When False, URLs whose host (or any redirect's host)
            resolves to a loopback, private, link-local, reserved or cloud-metadata
            address are refused.

    Returns:
        A :class:`VideoInfo`.

    Raises:
        VideoSourceError: If the file is missing, the URL cannot be read, or the data is
            not a video PyAV can open.
        UnsafeSourceError: If ``allow_private_network`` is False and the URL is not public.
        MediaError: If PyAV is not installed or the video cannot be measured.

    Example:
        .. code-block:: python

            from langchain_mimo_video.media import probe

            info = probe("clip.mp4")
            print(info.duration, info.width, info.height, info.has_audio)

    """
    av = _import_av()
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
        timeout: Seconds to wait on each HTTP request.
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
    av = _import_av()
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
    if isinstance(source, str) and _is_url(source):
        if not allow_private_network:
            check_public_url(source)
        reader = _HTTPRangeReader(
            source, timeout=timeout, allow_private_network=allow_private_network
        )
        try:
            with _open_container(av, reader, source) as container:
                yield container, reader, reader.size, source
        finally:
            reader.close()
    elif isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        counter = _CountingReader(io.BytesIO(data))
        with _open_container(av, counter, "The bytes") as container:
            yield container, counter, len(data), "The bytes"
    elif isinstance(source, str | os.PathLike):
        path = _local_path(source)
        with path.open("rb") as raw:
            counter = _CountingReader(raw)
            with _open_container(av, counter, str(path)) as container:
                yield container, counter, path.stat().st_size, str(path)
    elif hasattr(source, "read"):
        file: IO[bytes] = source
        counter = _CountingReader(file)
        start: int | None = None
        size: int | None = None
        if counter.seekable():
            with contextlib.suppress(OSError, ValueError):
                start = file.tell()
                size = file.seek(0, io.SEEK_END)
                file.seek(0)  # PyAV's seeks are absolute, so it must start at the start
        label = f"The file object {getattr(file, 'name', '')!s}".rstrip()
        try:
            with _open_container(av, counter, label) as container:
                yield container, counter, size, label
        finally:
            if start is not None:
                with contextlib.suppress(OSError, ValueError):
                    file.seek(start)
    else:
        raise VideoSourceError(
            f"Cannot read a {type(source).__name__}; pass a path, bytes, a binary file or a URL."
        )


# --------------------------------------------------------------------------------------
# Segment planning
# --------------------------------------------------------------------------------------


def plan_segments(
    duration: float, segment_seconds: float, overlap_seconds: float = 0.0
) -> list[tuple[float, float]]:
    """Cut ``[0, duration]`` into segments of ``segment_seconds`` that overlap.

    Segment ``i`` starts at ``i * (segment_seconds - overlap_seconds)``, so consecutive
    segments overlap by exactly ``overlap_seconds`` and there are no gaps; the last one ends
    at ``duration``. A last segment that would add less than ``min(1 s, half a step)`` of
    new material is merged into the one before it (which then runs a little longer than
    ``segment_seconds``) rather than left as a sliver.

    Args:
        duration: Length of the video, seconds (> 0).
        segment_seconds: Length of each segment, seconds (> 0).
        overlap_seconds: Shared seconds between neighbours, in ``[0, segment_seconds)``.

    Returns:
        ``(start, end)`` pairs in order.

    Raises:
        VideoValidationError: If an argument is out of range.

    Example:
        .. code-block:: python

            plan_segments(25, 10, 2)  # [(0, 10), (8, 18), (16, 25)]

    """
    values = {"duration": duration, "segment_seconds": segment_seconds}
    for name, value in values.items():
        if not (math.isfinite(value) and value > 0):
            raise VideoValidationError(f"{name} must be a positive number, got {value!r}.")
    if not (math.isfinite(overlap_seconds) and 0 <= overlap_seconds < segment_seconds):
        raise VideoValidationError(
            f"overlap_seconds must be >= 0 and shorter than segment_seconds "
            f"({segment_seconds}), got {overlap_seconds!r}."
        )
    step = segment_seconds - overlap_seconds
    segments: list[tuple[float, float]] = []
    start = 0.0
    while True:
        end = start + segment_seconds
        if end >= duration - 1e-9:
            segments.append((start, duration))
            break
        segments.append((start, end))
        # Each start is derived from the previous end, so rounding can never open a gap.
        start = end - overlap_seconds
    if len(segments) > 1:
        start, end = segments[-1]
        if (end - start) - overlap_seconds < min(1.0, step / 2):
            segments.pop()
            segments[-1] = (segments[-1][0], duration)
    return segments


# --------------------------------------------------------------------------------------
# Re-encoding
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    start: float  # seconds after the source's first timestamp
    duration_us: int
    width: int  # display orientation
    height: int
    rate: Fraction
    crf: int


def _output_rate(source_rate: Fraction | None, fps: float | None) -> Fraction:
    """Frame rate of a re-encode.

    The server samples ``fps`` frames a second. Keeping four frames per sampling interval
    (and at least 8 a second) means every instant it samples is within 1/(8 fps) seconds of
    a kept frame, a sampler that needs as many frames as it takes always finds them, and
    the file still plays as ordinary video. Never above the source's rate: no invented
    frames. Without ``fps`` (a plain clip) the source's rate is kept, up to 60.
    """
    if fps is None:
        wanted = source_rate or Fraction(30)
        return min(wanted, _MAX_OUTPUT_RATE)
    wanted = max(Fraction(fps).limit_denominator(1000) * 4, Fraction(8))
    if source_rate is not None and source_rate > 0:
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

    _TOLERANCE: Final = _AUDIO_RATE // 50  # 20 ms of timestamp jitter is not a gap

    def __init__(self, av: Any, output: Any, total: int, *, origin: int) -> None:
        self._av = av
        self._np = _np()
        self._output = output
        self.stream = output.add_stream("aac", rate=_AUDIO_RATE)
        self.stream.layout = "mono"
        self.stream.bit_rate = _AUDIO_BIT_RATE
        self._resampler = av.AudioResampler(format="fltp", layout="mono", rate=_AUDIO_RATE)
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
            at = round(chunk.pts * chunk.time_base * _AUDIO_RATE) - self._origin
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
            piece = min(count, _AUDIO_RATE * 10)
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
            frame.sample_rate = _AUDIO_RATE
            frame.pts = self._sent
            frame.time_base = Fraction(1, _AUDIO_RATE)
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

    def __init__(self, av: Any, output: Any, plan: _Plan) -> None:
        self._av = av
        self._output = output
        self._plan = plan
        time_base = Fraction(1, _MICROS)
        self.stream = output.add_stream("libx264", rate=plan.rate)
        self.stream.width = plan.width
        self.stream.height = plan.height
        self.stream.pix_fmt = "yuv420p"
        self.stream.time_base = time_base
        self.stream.codec_context.time_base = time_base
        # A fixed count, not 0 (x264's "1.5 x cores"): x264's output depends on its thread
        # count, and the same video must encode to the same bytes on every machine.
        self.stream.codec_context.thread_count = _ENCODER_THREADS
        self.stream.codec_context.thread_type = "FRAME"
        self.stream.options = {"crf": str(plan.crf), "preset": _X264_PRESET}

        count = max(1, math.ceil(Fraction(plan.duration_us, _MICROS) * plan.rate))
        self._pts = [round(Fraction(k) / plan.rate * _MICROS) for k in range(count)]
        while len(self._pts) > 1 and self._pts[-1] >= plan.duration_us:
            self._pts.pop()
        ends = [*self._pts[1:], plan.duration_us]
        # x264 does not pass frame durations on; the muxer needs them for the last frame.
        self._durations = {pts: end - pts for pts, end in zip(self._pts, ends, strict=True)}
        self._next = 0
        self._frame: Any = None
        self._frame_time = 0.0
        self._picture: Any = None

    @property
    def done(self) -> bool:
        return self._next >= len(self._pts)

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
        while not self.done and self._pts[self._next] / _MICROS < until:
            if self._picture is None:
                self._picture = self._upright(self._frame)
            self._picture.pts = self._pts[self._next]
            self._picture.time_base = Fraction(1, _MICROS)
            self._mux(self.stream.encode(self._picture))
            self._next += 1

    def _upright(self, frame: Any) -> Any:
        rotation = _rotation(frame)
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
            if packet.pts in self._durations:
                packet.duration = self._durations[packet.pts]
            self._output.mux(packet)


def _open_local(av: Any, source: Path | bytes) -> Any:
    file: Any = str(source) if isinstance(source, Path) else io.BytesIO(source)
    return _open_container(av, file, str(source) if isinstance(source, Path) else "The bytes")


# Packets this far past the end of the range are no longer waited for.
_READ_PAST_END: Final = 5.0


def _transcode(av: Any, source: Path | bytes, plan: _Plan, output: Path) -> None:
    """Re-encode ``plan.duration_us`` microseconds from ``plan.start`` into ``output``.

    The output has exactly ``plan.duration_us`` of video and, when the source has sound,
    as much audio (never more): the MP4 movie header, in a microsecond timescale, then
    reports the planned duration to the microsecond, which keeps the token estimate
    identical.
    """
    label = str(source) if isinstance(source, Path) else "The bytes"
    try:
        with _open_local(av, source) as container:
            video_in = _video_stream(container, label)
            video_in.thread_type = "AUTO"
            audio_in = next(iter(container.streams.audio), None)
            origin = (container.start_time or 0) / _MICROS + plan.start
            if plan.start > 0:
                # To the keyframe before the start; frames before it are decoded, not shown.
                with contextlib.suppress(av.FFmpegError):
                    container.seek(int(origin * _MICROS), backward=True, any_frame=False)
            options = {"movflags": "+faststart", "movie_timescale": str(_MICROS)}
            with av.open(str(output), mode="w", format="mp4", options=options) as out:
                video = _VideoSink(av, out, plan)
                audio = None
                if audio_in is not None:
                    total = plan.duration_us * _AUDIO_RATE // _MICROS
                    audio = _AudioSink(av, out, total, origin=round(origin * _AUDIO_RATE))
                _pump(av, container, video_in, audio_in, video, audio, origin, plan)
                video.finish()
                if audio is not None:
                    audio.finish()
    except av.FFmpegError as err:
        raise MediaError(f"Re-encoding {label} failed: {err}") from err


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
    plan: _Plan,
) -> None:
    """Demux and decode until both sinks are full (or the source runs out)."""
    horizon = plan.duration_us / _MICROS + _READ_PAST_END
    step = float(1 / (_rate_of(video_in) or Fraction(30)))
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


def _duration_us(
    seconds: float, width: int, height: int, fps: float, media_resolution: str, mute: bool
) -> int:
    """Microseconds closest to ``seconds`` that keep the token estimate unchanged."""
    target = explain_video_tokens(seconds, width, height, fps, media_resolution, mute)
    nearest = round(seconds * _MICROS)
    for candidate in (nearest, math.floor(seconds * _MICROS), math.ceil(seconds * _MICROS)):
        estimate = explain_video_tokens(
            candidate / _MICROS, width, height, fps, media_resolution, mute
        )
        if candidate > 0 and estimate == target:
            return candidate
    return max(nearest, 1)


def _local_source(source: VideoSource, what: str) -> Path | bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    if isinstance(source, str) and _is_url(source):
        raise VideoSourceError(
            f"{what} works on local videos; download the URL first, or send it to MiMo by URL."
        )
    if isinstance(source, str | os.PathLike):
        return _local_path(source)
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


def _encode(av: Any, source: Path | bytes, plan: _Plan, output: Path, created: bool) -> None:
    try:
        _transcode(av, source, plan, output)
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
    audio_floor = seconds * _AUDIO_BIT_RATE / 8 if info.has_audio else 0
    if data_url_size(int(audio_floor)) > max_base64_bytes:
        what = "The audio alone would take"
        raise _too_large(int(audio_floor), max_base64_bytes, seconds, fps, what=what)

    plan = _Plan(
        start=begin,
        duration_us=_duration_us(seconds, info.width, info.height, fps, media_resolution, mute),
        width=before.frame_width,
        height=before.frame_height,
        rate=_output_rate(Fraction(info.frame_rate) if info.frame_rate else None, fps),
        crf=_DEFAULT_CRF if crf is None else crf,
    )
    path, created = _new_output(output, "mimo-fit-")
    _encode(av, local, plan, path, created)
    fitted_bytes = path.stat().st_size
    if data_url_size(fitted_bytes) > max_base64_bytes and crf is None:
        # One more try with a higher CRF: +6 roughly halves the bitrate.
        excess = data_url_size(fitted_bytes) / max_base64_bytes
        retry_crf = min(_MAX_AUTO_CRF, plan.crf + math.ceil(6 * math.log2(excess)) + 1)
        if retry_crf > plan.crf:
            plan = replace(plan, crf=retry_crf)
            _encode(av, local, plan, path, created)
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
        source: A video file path or its bytes.
        fps: The ``fps`` the video will be sent with.
        media_resolution: The ``media_resolution`` it will be sent with.
        max_base64_bytes: Limit on the data URL's length.
        force: Re-encode even when the source fits.
        start: Start of the part to keep, seconds (default: the beginning).
        end: End of the part to keep, seconds (default: the end).
        crf: x264 CRF (lower is better and larger); default 27.
        output: Where to write the MP4; default a new temporary file (the caller deletes
            it).

    Returns:
        A :class:`FitResult`; ``result.path`` is what to send.

    Raises:
        VideoTooLargeError: If even the re-encoded video is over ``max_base64_bytes``.
        VideoSourceError: If the source is missing, a URL, or not a video.
        VideoValidationError: If ``fps``, ``media_resolution`` or the range is invalid.
        MediaError: If PyAV is missing or decoding/encoding fails.

    Example:
        .. code-block:: python

            from langchain_mimo_video.media import fit_video

            result = fit_video("talk.mov", fps=2)
            print(result.changed, result.ratio, result.tokens_after)

    """
    av = _import_av()
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
) -> Path:
    """Cut ``[start, end)`` out of a local video, exact to the frame, with its sound.

    Decoding starts at the keyframe before ``start`` and frames before it are dropped, so
    the cut does not snap to keyframes. The result is an MP4 of exactly ``end - start``
    seconds encoded like :func:`fit_video`'s. Given ``fps`` or ``media_resolution``, it is
    also scaled down to the frame size MiMo would use for the clip; otherwise the frame
    size (rounded to even numbers) and frame rate are kept.

    Args:
        source: A video file path or its bytes.
        start: Start of the clip, seconds from the beginning.
        end: End of the clip, seconds (exclusive).
        output: Where to write the MP4; default a new temporary file.
        fps: Scale for this sampling rate (see :func:`fit_video`).
        media_resolution: Scale for this tier (see :func:`fit_video`).
        crf: x264 CRF; default 27.

    Returns:
        The path of the clip.

    Raises:
        VideoValidationError: If the range is empty or outside the video.
        VideoSourceError: If the source is missing, a URL, or not a video.
        MediaError: If PyAV is missing or decoding/encoding fails.

    Example:
        .. code-block:: python

            from langchain_mimo_video.media import clip_video

            path = clip_video("match.mp4", 61.5, 75.0)

    """
    av = _import_av()
    local = _local_source(source, "clip_video")
    info = probe(local)
    begin, finish = _resolve_range(info.duration, start, end)
    seconds = finish - begin
    source_rate = Fraction(info.frame_rate) if info.frame_rate else None
    if fps is None and media_resolution is None:
        width, height = _even(info.width), _even(info.height)
        rate = _output_rate(source_rate, None)
        duration_us = max(1, round(seconds * _MICROS))
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
        rate = _output_rate(source_rate, sample_fps)
        duration_us = _duration_us(seconds, info.width, info.height, sample_fps, tier, mute)
    plan = _Plan(
        start=begin,
        duration_us=duration_us,
        width=width,
        height=height,
        rate=rate,
        crf=_DEFAULT_CRF if crf is None else crf,
    )
    path, created = _new_output(output, "mimo-clip-")
    _encode(av, local, plan, path, created)
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
        source: A video file path or its bytes.
        segment_seconds: Length of each segment, seconds.
        overlap_seconds: Seconds shared by neighbouring segments.
        output_dir: Folder for the segment files (created if needed); default a new
            temporary folder.
        fps: The ``fps`` the segments will be sent with.
        media_resolution: The ``media_resolution`` they will be sent with.
        max_base64_bytes: Limit on each segment's data URL.

    Returns:
        The segments in order, files named ``segment-000.mp4``, ``segment-001.mp4``, ...

    Raises:
        VideoTooLargeError: If a segment cannot be made small enough (use shorter ones).
        VideoValidationError: If the segment lengths are invalid.
        VideoSourceError: If the source is missing, a URL, or not a video.
        MediaError: If PyAV is missing or decoding/encoding fails.

    Example:
        .. code-block:: python

            from langchain_mimo_video.media import split_video

            for segment in split_video("lecture.mp4", 600, overlap_seconds=5):
                print(segment.start, segment.end, segment.path)

    """
    av = _import_av()
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


__all__ = [
    "FitResult",
    "VideoInfo",
    "VideoSegment",
    "VideoSource",
    "check_public_url",
    "clip_video",
    "data_url_size",
    "fit_video",
    "plan_segments",
    "probe",
    "probe_audio_duration",
    "split_video",
]
