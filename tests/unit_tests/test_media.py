from __future__ import annotations

import io
import itertools
import math
import random
import socket
import struct
import tracemalloc
from collections.abc import Iterator
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from langchain_mimo_video.errors import (
    MediaError,
    UnsafeSourceError,
    VideoSourceError,
    VideoTooLargeError,
    VideoValidationError,
)
from langchain_mimo_video.limits import MAX_BASE64_BYTES
from langchain_mimo_video.media import (
    FitResult,
    VideoInfo,
    _connections,
    _encoder,
    _net,
    check_public_url,
    clip_video,
    data_url_size,
    fit_video,
    plan_segments,
    probe,
    probe_audio_duration,
    split_video,
)
from langchain_mimo_video.media import probing as probe_module
from langchain_mimo_video.media import transcode as transcode_module
from langchain_mimo_video.tokens import estimate_video_tokens, explain_video_tokens, frame_size
from tests.corpus import CORPUS, build
from tests.loopback import serving, url_of, without_proxies
from tests.videos import audio_only_mp4, make_video, video_bytes

LOCAL = pytest.mark.allow_hosts(["127.0.0.1"])


# ----------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def vids(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A handful of tiny videos shared by the tests of this module."""
    root = tmp_path_factory.mktemp("videos")
    return {
        "small": make_video(root / "small.mp4", width=64, height=48, duration=1.0),
        "audio": make_video(
            root / "audio.mp4", width=320, height=240, duration=3.0, fps=10, audio=True
        ),
        "hd": make_video(root / "hd.mp4", width=1280, height=720, duration=2.0, fps=15, audio=True),
        "portrait": make_video(root / "portrait.mp4", width=360, height=640, duration=1.0),
        "odd": make_video(root / "odd.avi", width=65, height=49, duration=1.0, container="avi"),
    }


def streams_of(path: Path | bytes) -> dict[str, Any]:
    """Codec facts of a file, read with PyAV directly (not with the code under test)."""
    file: Any = io.BytesIO(path) if isinstance(path, bytes) else str(path)
    with av.open(file) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        return {
            "format": container.format.name,
            "duration": container.duration / 1_000_000,
            "video_codec": video.codec_context.name,
            "pix_fmt": video.codec_context.pix_fmt,
            "width": video.codec_context.width,
            "height": video.codec_context.height,
            "audio_codec": audio.codec_context.name if audio else None,
            "audio_seconds": float(audio.duration * audio.time_base) if audio else None,
        }


def decoded_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def rotated_video(path: Path, *, width: int = 64, height: int = 32, degrees: int = 90) -> Path:
    """A video whose stored frames are ``width``x``height`` with a display rotation.

    The top-left quarter of every stored frame is white, the rest black.
    """
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.set_display_rotation(degrees)
        pixels = np.zeros((height, width, 3), np.uint8)
        pixels[: height // 2, : width // 2] = 255
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 10)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


# ----------------------------------------------------------------------------- probe


@pytest.mark.parametrize("container", ["mp4", "mov", "avi", "wmv", "mkv"])
@pytest.mark.parametrize("audio", [False, True])
def test_probe_containers(tmp_path: Path, container: str, audio: bool) -> None:
    path = make_video(
        tmp_path / f"v.{container}",
        width=96,
        height=64,
        duration=2.0,
        fps=10,
        container=container,
        audio=audio,
    )
    info = probe(path)
    assert isinstance(info, VideoInfo)
    # The video track's length: a soundtrack running on past the last frame adds no frames.
    assert 2.0 <= info.duration < 2.2
    assert info.duration_source == ("container" if container in ("mkv", "webm") else "stream")
    assert (info.width, info.height) == (96, 64)
    assert info.frame_rate == pytest.approx(10)
    assert info.has_audio is audio
    assert (info.audio_codec is not None) is audio
    assert info.container == container
    expected_mime = {
        "mp4": "video/mp4",
        "mov": "video/quicktime",
        "avi": "video/x-msvideo",
        "wmv": "video/x-ms-wmv",
        "mkv": "video/x-matroska",
    }[container]
    assert info.mime_type == expected_mime
    assert info.size_bytes == path.stat().st_size
    assert info.bytes_read > 0
    assert info.rotation == 0
    # the video track's length: Matroska states none, so its container duration is used
    assert info.duration_source == ("container" if container == "mkv" else "stream")
    # AVI adds a frame; Matroska's container duration includes the longer audio track
    assert info.duration == pytest.approx(2.0, abs=0.15)


def test_probe_codec_names(vids: dict[str, Path], tmp_path: Path) -> None:
    info = probe(vids["audio"])
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    avi = probe(make_video(tmp_path / "a.avi", audio=True, container="avi"))
    assert (avi.video_codec, avi.audio_codec) == ("mpeg4", "mp3")


def test_probe_portrait_and_odd_sizes(vids: dict[str, Path]) -> None:
    portrait = probe(vids["portrait"])
    assert (portrait.width, portrait.height) == (360, 640)
    odd = probe(vids["odd"])
    assert (odd.width, odd.height) == (65, 49)


def test_probe_reports_display_size_of_rotated_video(tmp_path: Path) -> None:
    info = probe(rotated_video(tmp_path / "rot.mp4", width=64, height=32, degrees=90))
    assert info.rotation == 90
    assert (info.width, info.height) == (32, 64)


def test_probe_bytes_and_file_object(vids: dict[str, Path]) -> None:
    data = vids["audio"].read_bytes()
    from_path = probe(vids["audio"])
    from_bytes = probe(data)
    assert from_bytes.duration == from_path.duration
    assert (from_bytes.width, from_bytes.height) == (from_path.width, from_path.height)
    assert from_bytes.size_bytes == len(data)
    assert from_bytes.has_audio

    with vids["audio"].open("rb") as file:
        file.seek(10)
        info = probe(file)
        assert not file.closed
        assert file.tell() == 10  # position restored
        assert info.duration == from_path.duration
        assert info.size_bytes == len(data)


def test_probe_of_non_faststart_bytes() -> None:
    # Written to memory, the MP4 keeps its index at the end.
    data = video_bytes(width=64, height=48, duration=1.5, fps=10, audio=True)
    assert data.find(b"moov") > data.find(b"mdat")
    info = probe(data)
    assert info.duration >= 1.5
    assert info.has_audio


def test_probe_errors(tmp_path: Path) -> None:
    with pytest.raises(VideoSourceError, match="not found"):
        probe(tmp_path / "missing.mp4")
    with pytest.raises(VideoSourceError, match="Not a file"):
        probe(tmp_path)
    with pytest.raises(VideoSourceError, match="not a video"):
        probe(b"this is plain text, not a video at all" * 10)
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(VideoSourceError):
        probe(garbage)
    with pytest.raises(VideoSourceError):
        probe(12345)  # type: ignore[arg-type]


def test_probe_rejects_audio_only_file(tmp_path: Path) -> None:
    path = tmp_path / "tone.m4a"
    path.write_bytes(audio_only_mp4())
    with pytest.raises(VideoSourceError, match="no video stream"):
        probe(path)
    # ... but its sound can be measured: one AAC frame of 1024 samples at 16 kHz.
    assert probe_audio_duration(path) == pytest.approx(1024 / 16000, abs=1e-3)
    assert probe_audio_duration(path.read_bytes()) == probe_audio_duration(path)


def test_probe_audio_duration_of_videos(vids: dict[str, Path]) -> None:
    # the soundtrack may run an audio frame past the last video frame
    assert probe_audio_duration(vids["audio"]) == pytest.approx(
        probe(vids["audio"]).duration, abs=0.05
    )
    with pytest.raises(VideoSourceError, match="no audio stream"):
        probe_audio_duration(vids["small"])


# ----------------------------------------------------------------------------- HTTP


class _Server(ThreadingHTTPServer):
    files: dict[str, bytes]
    honour_range: bool
    hide_total: bool
    requests: list[tuple[str, str | None]]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        range_header = self.headers.get("Range")
        self.server.requests.append((self.path, range_header))
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", self.path.removeprefix("/redirect"))
            self.end_headers()
            return
        data = self.server.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        if range_header and self.server.honour_range:
            first, _, last = range_header.removeprefix("bytes=").partition("-")
            start, stop = int(first), min(int(last or len(data) - 1), len(data) - 1)
            if start >= len(data):
                self.send_error(416)
                return
            body = data[start : stop + 1]
            total = "*" if self.server.hide_total else str(len(data))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{stop}/{total}")
        else:
            body = data
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "video/mp4")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Server]:
    without_proxies(monkeypatch)
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.files, httpd.honour_range, httpd.hide_total, httpd.requests = {}, True, False, []
    with serving(httpd):
        yield httpd


@pytest.fixture(scope="module")
def big_mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("big") / "big.mp4"
    return make_video(path, width=640, height=360, duration=4.0, fps=25, audio=True).read_bytes()


@LOCAL
def test_probe_url_reads_only_the_header(server: _Server, big_mp4: bytes) -> None:
    server.files["/v.mp4"] = big_mp4
    assert big_mp4.find(b"moov") < big_mp4.find(b"mdat")  # faststart
    info = probe(url_of(server, "/v.mp4"))
    local = probe(big_mp4)
    assert info.duration == local.duration
    assert (info.width, info.height, info.has_audio) == (640, 360, True)
    assert info.size_bytes == len(big_mp4)
    assert info.bytes_read < len(big_mp4) / 4
    assert all(r is not None and r.startswith("bytes=") for _, r in server.requests)


@LOCAL
def test_probe_url_with_index_at_the_end(server: _Server) -> None:
    data = video_bytes(width=640, height=360, duration=4.0, fps=25, audio=True)
    server.files["/tail.mp4"] = data
    info = probe(url_of(server, "/tail.mp4"))
    assert info.duration == probe(data).duration
    assert info.bytes_read < len(data)


@LOCAL
def test_probe_url_when_server_ignores_range(server: _Server, big_mp4: bytes) -> None:
    server.honour_range = False
    server.files["/v.mp4"] = big_mp4
    info = probe(url_of(server, "/v.mp4"))
    assert info.duration == probe(big_mp4).duration
    assert info.size_bytes == len(big_mp4)
    assert 0 < info.bytes_read <= len(big_mp4)
    assert len(server.requests) == 1  # one streamed response, read as far as needed


@LOCAL
@pytest.mark.parametrize(
    ("honour_range", "hide_total"), [(True, False), (True, True), (False, False)]
)
def test_range_reader_random_reads(
    server: _Server,
    big_mp4: bytes,
    monkeypatch: pytest.MonkeyPatch,
    honour_range: bool,
    hide_total: bool,
) -> None:
    # Tiny blocks and a tiny cache exercise block joins, eviction and the end of file.
    monkeypatch.setattr(_net, "_HTTP_BLOCK", 1000)
    monkeypatch.setattr(_net, "_HTTP_CACHE_BLOCKS", 3)
    server.files["/v.mp4"] = big_mp4
    server.honour_range, server.hide_total = honour_range, hide_total
    reader = _net.HTTPRangeReader(url_of(server, "/v.mp4"), timeout=5, allow_private_network=True)
    rng = random.Random(7)
    for _ in range(60):
        position, count = rng.randrange(len(big_mp4) + 3000), rng.randrange(1, 5000)
        assert reader.seek(position) == position
        assert reader.read(count) == big_mp4[position : position + count]
    reader.seek(len(big_mp4) - 10)
    assert reader.read(100) == big_mp4[-10:]
    assert reader.read(100) == b""
    assert reader.size == len(big_mp4)
    reader.close()


@LOCAL
def test_probe_url_with_small_blocks(
    server: _Server, big_mp4: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_net, "_HTTP_BLOCK", 4096)
    monkeypatch.setattr(_net, "_HTTP_CACHE_BLOCKS", 4)
    tail = video_bytes(width=320, height=240, duration=2.0, fps=10, audio=True)
    server.files["/a.mp4"], server.files["/b.mp4"] = big_mp4, tail
    assert probe(url_of(server, "/a.mp4")).duration == probe(big_mp4).duration
    info = probe(url_of(server, "/b.mp4"))
    assert (info.duration, info.has_audio) == (probe(tail).duration, True)


@LOCAL
def test_probe_url_follows_redirects(server: _Server, big_mp4: bytes) -> None:
    server.files["/v.mp4"] = big_mp4
    info = probe(url_of(server, "/redirect/v.mp4"))
    assert info.size_bytes == len(big_mp4)
    # After the redirect, ranges go straight to the final URL.
    assert [p for p, _ in server.requests].count("/redirect/v.mp4") == 1


@LOCAL
def test_probe_url_errors(server: _Server) -> None:
    with pytest.raises(VideoSourceError, match="404"):
        probe(url_of(server, "/missing.mp4"))
    server.files["/text.mp4"] = b"not a video" * 100
    with pytest.raises(VideoSourceError, match="not a video"):
        probe(url_of(server, "/text.mp4"))


@LOCAL
def test_probe_url_refuses_private_network(server: _Server, big_mp4: bytes) -> None:
    server.files["/v.mp4"] = big_mp4
    with pytest.raises(UnsafeSourceError, match="loopback"):
        probe(url_of(server, "/v.mp4"), allow_private_network=False)
    assert server.requests == []  # refused before connecting


@LOCAL
def test_connection_checks_the_peer_address(
    server: _Server, big_mp4: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pretend the name check passed (as after DNS rebinding): the connected peer is
    # still checked.
    server.files["/v.mp4"] = big_mp4
    monkeypatch.setattr(_net, "check_public_url", lambda url, **limits: None)
    with pytest.raises(UnsafeSourceError, match="loopback"):
        probe(url_of(server, "/v.mp4"), allow_private_network=False)
    assert server.requests == []


def test_redirect_hops_are_checked() -> None:
    import urllib.request

    handler = _connections.GuardedRedirectHandler()
    request = urllib.request.Request("http://93.184.216.34/video.mp4")
    with pytest.raises(UnsafeSourceError, match="metadata"):
        handler.redirect_request(
            request, io.BytesIO(), 302, "Found", {}, "http://169.254.169.254/latest/"
        )


# ----------------------------------------------------------------------------- URL guard


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("http://127.0.0.1/v.mp4", "loopback"),
        ("http://10.1.2.3/v.mp4", "private"),
        ("http://192.168.0.10:8080/v.mp4", "private"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[fd00:ec2::254]/latest/", "metadata"),
        ("http://100.100.100.200/", "metadata"),
        ("http://[::1]/v.mp4", "loopback"),
        ("http://[::ffff:127.0.0.1]/v.mp4", "loopback"),
        ("http://[64:ff9b::a00:1]/v.mp4", "private"),
        ("http://100.64.0.1/v.mp4", "non-public"),
        ("http://0.0.0.0/v.mp4", "unspecified"),
        ("http://224.0.0.1/v.mp4", "multicast"),
        ("http://metadata.google.internal/computeMetadata/v1/", "metadata"),
        ("file:///etc/passwd", "only http and https"),
        ("ftp://93.184.216.34/v.mp4", "only http and https"),
        ("http:///v.mp4", "no host"),
    ],
)
def test_check_public_url_refuses(url: str, needle: str) -> None:
    with pytest.raises(UnsafeSourceError, match=needle):
        check_public_url(url)


@LOCAL
def test_check_public_url_resolves_names() -> None:
    with pytest.raises(UnsafeSourceError, match="loopback"):
        check_public_url("http://localhost:8000/v.mp4")
    # Numeric host spellings resolve to loopback too.
    with pytest.raises(UnsafeSourceError, match="loopback"):
        check_public_url("http://2130706433/v.mp4")


@pytest.mark.parametrize(
    "url", ["http://93.184.216.34/v.mp4", "https://[2606:2800:220:1:248:1893:25c8:1946]/v"]
)
def test_check_public_url_accepts_public_ip_without_network(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the network was used")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    check_public_url(url)


# ----------------------------------------------------------------------------- fit


def test_fit_keeps_tokens_and_shrinks(vids: dict[str, Path], tmp_path: Path) -> None:
    source = vids["hd"]
    original = probe(source)
    result = fit_video(source, force=True, output=tmp_path / "fit.mp4")
    assert isinstance(result, FitResult)
    assert result.changed
    assert result.path == tmp_path / "fit.mp4"
    assert isinstance(result.path, Path)
    assert (result.fitted_info.width, result.fitted_info.height) == frame_size(
        original.duration, 1280, 720
    )
    # The container duration is carried over exactly, so the estimate is unchanged.
    assert result.fitted_info.duration == original.duration
    expected = estimate_video_tokens(original.duration, 1280, 720)
    assert result.tokens_before == result.tokens_after == expected
    assert result.fitted_bytes == result.path.stat().st_size
    assert result.fitted_bytes < result.original_bytes
    assert result.ratio == pytest.approx(result.original_bytes / result.fitted_bytes)
    assert result.mime_type == "video/mp4"

    facts = streams_of(result.path)
    assert facts["format"].startswith("mov,mp4")
    assert (facts["video_codec"], facts["pix_fmt"], facts["audio_codec"]) == (
        "h264",
        "yuv420p",
        "aac",
    )
    # Audio padded/trimmed to the video's length (within one 24 kHz sample).
    assert facts["audio_seconds"] == pytest.approx(original.duration, abs=1 / 24000)
    data = result.path.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")  # faststart
    assert b"rc=crf" in data  # x264 wrote its settings: CRF rate control


def test_fit_encoding_is_crf_mode(vids: dict[str, Path], tmp_path: Path) -> None:
    result = fit_video(vids["audio"], force=True, crf=30, output=tmp_path / "f.mp4")
    assert isinstance(result.path, Path)
    settings_blob = result.path.read_bytes()
    assert b"crf=30.0" in settings_blob
    assert b"bitrate=" not in settings_blob.split(b"crf=30.0")[0][-400:]


@pytest.mark.parametrize("container", ["mov", "avi", "wmv", "mkv"])
def test_fit_other_containers(tmp_path: Path, container: str) -> None:
    source = make_video(
        tmp_path / f"s.{container}",
        width=160,
        height=120,
        duration=1.5,
        fps=10,
        container=container,
        audio=True,
    )
    result = fit_video(source, force=True)
    assert isinstance(result.path, Path)
    try:
        assert result.tokens_after == result.tokens_before
        assert result.fitted_info.duration == result.original_info.duration
        assert result.fitted_info.container == "mp4"
        assert result.fitted_info.has_audio
    finally:
        result.path.unlink()


def test_fit_without_audio_adds_none(vids: dict[str, Path], tmp_path: Path) -> None:
    result = fit_video(vids["portrait"], force=True, output=tmp_path / "p.mp4")
    assert not result.fitted_info.has_audio
    assert streams_of(tmp_path / "p.mp4")["audio_codec"] is None
    w, h = result.fitted_info.width, result.fitted_info.height
    assert h > w  # still portrait
    assert result.tokens_after == result.tokens_before


def test_fit_odd_sized_source(vids: dict[str, Path], tmp_path: Path) -> None:
    result = fit_video(vids["odd"], force=True, output=tmp_path / "odd.mp4")
    assert (result.fitted_info.width, result.fitted_info.height) == frame_size(
        result.original_info.duration, 65, 49
    )
    assert result.tokens_after == result.tokens_before


def test_fit_applies_rotation(tmp_path: Path) -> None:
    source = rotated_video(tmp_path / "rot.mp4", width=128, height=64, degrees=90)
    result = fit_video(source, force=True, output=tmp_path / "upright.mp4")
    assert (result.fitted_info.width, result.fitted_info.height) == (64, 128)
    assert result.fitted_info.rotation == 0
    first = decoded_frames(tmp_path / "upright.mp4")[0].mean(axis=2)
    h, w = first.shape
    # Turning the stored frame 90 degrees counter-clockwise moves its white top-left
    # corner to the bottom left.
    assert first[h * 3 // 4 :, : w // 2].mean() > 200
    assert first[: h // 4].mean() < 60


def test_fit_is_a_no_op_when_small(vids: dict[str, Path], tmp_path: Path) -> None:
    before = set(tmp_path.iterdir())
    result = fit_video(vids["small"])
    assert not result.changed
    assert result.path == vids["small"]
    assert result.ratio == 1.0
    assert result.fitted_info == result.original_info
    assert result.tokens_after == result.tokens_before
    assert set(tmp_path.iterdir()) == before

    data = vids["small"].read_bytes()
    from_bytes = fit_video(data)
    assert not from_bytes.changed
    assert from_bytes.path == data


def test_fit_re_encodes_when_over_the_limit(vids: dict[str, Path], tmp_path: Path) -> None:
    source = vids["hd"]
    limit = data_url_size(source.stat().st_size) - 1
    result = fit_video(source, max_base64_bytes=limit, output=tmp_path / "out.mp4")
    assert result.changed
    assert data_url_size(result.fitted_bytes) <= limit


def test_fit_too_large(
    vids: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No audio, so the encode runs (twice: the second time at a higher CRF) and fails.
    crfs: list[int] = []
    transcode = transcode_module.transcode_into

    def spy(av_module: Any, source: Any, plan: Any, output: Path, *rest: Any) -> None:
        crfs.append(plan.crf)
        transcode(av_module, source, plan, output, *rest)

    monkeypatch.setattr(transcode_module, "transcode_into", spy)
    target = tmp_path / "never.mp4"
    with pytest.raises(VideoTooLargeError) as info:
        fit_video(vids["portrait"], force=True, max_base64_bytes=600, output=target)
    assert len(crfs) == 2
    assert crfs[0] < crfs[1] <= 36
    error = info.value
    assert error.limit == 600
    assert error.size > 600
    message = str(error)
    assert "re-encoded" in message
    assert "split" in message.lower()
    assert "URL" in message
    assert not target.exists()


def test_fit_too_long_for_its_audio(vids: dict[str, Path], tmp_path: Path) -> None:
    # 3 s of 48 kbit/s audio is 18 kB: refused before encoding anything.
    target = tmp_path / "never.mp4"
    with pytest.raises(VideoTooLargeError, match="audio alone") as info:
        fit_video(vids["audio"], force=True, max_base64_bytes=20_000, output=target)
    assert info.value.limit == 20_000
    assert not target.exists()


def test_fit_refuses_urls_and_bad_options(vids: dict[str, Path]) -> None:
    with pytest.raises(VideoSourceError, match="local"):
        fit_video("https://example.com/v.mp4")
    with pytest.raises(VideoValidationError, match="fps"):
        fit_video(vids["small"], fps=20)
    with pytest.raises(VideoValidationError, match="media_resolution"):
        fit_video(vids["small"], media_resolution="ultra")


def test_fit_with_range(vids: dict[str, Path], tmp_path: Path) -> None:
    result = fit_video(vids["audio"], start=0.5, end=2.25, output=tmp_path / "r.mp4")
    assert result.changed  # a range always re-encodes
    assert result.fitted_info.duration == pytest.approx(1.75, abs=1e-6)
    assert result.tokens_before == estimate_video_tokens(1.75, 320, 240)
    assert result.tokens_after == result.tokens_before


def test_fit_max_tier_and_high_fps(vids: dict[str, Path], tmp_path: Path) -> None:
    result = fit_video(
        vids["hd"], force=True, fps=7.5, media_resolution="max", output=tmp_path / "m.mp4"
    )
    info = result.original_info
    e = explain_video_tokens(info.duration, 1280, 720, 7.5, "max")
    assert (result.fitted_info.width, result.fitted_info.height) == (e.frame_width, e.frame_height)
    assert result.tokens_after == result.tokens_before == e.total
    # 4 x 7.5 fps wanted, but never more frames than the 15 fps source has.
    assert len(decoded_frames(tmp_path / "m.mp4")) == math.ceil(info.duration * 15)


# ----------------------------------------------------------------------------- clip


def test_clip_is_exact_and_keeps_audio(vids: dict[str, Path], tmp_path: Path) -> None:
    path = clip_video(vids["audio"], 0.52, 2.02, output=tmp_path / "clip.mp4")
    info = probe(path)
    assert info.duration == pytest.approx(1.5, abs=1e-6)  # exact, not just within a frame
    assert info.has_audio
    assert (info.width, info.height) == (320, 240)
    assert streams_of(path)["audio_seconds"] == pytest.approx(1.5, abs=0.01)
    # The first frame is the source frame shown at 0.52 s (frame 5, at 0.5 s), not the
    # keyframe the decoder started from.
    source = decoded_frames(vids["audio"])
    first = decoded_frames(path)[0].astype(float)
    errors = [np.abs(first - frame.astype(float)).mean() for frame in source]
    assert int(np.argmin(errors)) == 5
    assert len(decoded_frames(path)) == 15


def test_clip_to_the_end_and_scaled(vids: dict[str, Path], tmp_path: Path) -> None:
    duration = probe(vids["hd"]).duration
    path = clip_video(vids["hd"], 1.0, duration, output=tmp_path / "c.mp4", fps=2)
    info = probe(path)
    assert info.duration == pytest.approx(duration - 1.0, abs=1e-6)
    assert (info.width, info.height) == frame_size(duration - 1.0, 1280, 720, 2)


def test_clip_odd_size_is_made_even(vids: dict[str, Path], tmp_path: Path) -> None:
    info = probe(clip_video(vids["odd"], 0.2, 0.8, output=tmp_path / "o.mp4"))
    assert (info.width, info.height) == (64, 48)


@pytest.mark.parametrize(
    ("start", "end", "needle"),
    [
        (1.0, 1.0, "before end"),
        (2.0, 1.0, "before end"),
        (-0.5, 1.0, ">= 0"),
        (0.5, 9.0, "past the end"),
        (5.0, 6.0, "past the end"),
    ],
)
def test_clip_validation(vids: dict[str, Path], start: float, end: float, needle: str) -> None:
    with pytest.raises(VideoValidationError, match=needle):
        clip_video(vids["audio"], start, end)


# ----------------------------------------------------------------------------- segments


def test_plan_segments_examples() -> None:
    assert plan_segments(25, 10, 2) == [(0, 10), (8, 18), (16, 25)]
    assert plan_segments(5, 10) == [(0, 5)]
    assert plan_segments(30, 10) == [(0, 10), (10, 20), (20, 30)]
    # 20.4 s would leave a 0.4 s sliver: merged into the last full segment.
    assert plan_segments(20.4, 10) == [(0, 10), (10, 20.4)]


@pytest.mark.parametrize(
    ("duration", "segment", "overlap"),
    [(0, 10, 0), (-1, 10, 0), (10, 0, 0), (10, 5, 5), (10, 5, 6), (10, 5, -1)],
)
def test_plan_segments_validation(duration: float, segment: float, overlap: float) -> None:
    with pytest.raises(VideoValidationError):
        plan_segments(duration, segment, overlap)


@settings(max_examples=300, deadline=None)
@given(
    duration=st.floats(0.01, 20_000),
    pieces=st.floats(0.2, 300),
    overlap_share=st.floats(0, 0.95),
)
def test_plan_segments_properties(duration: float, pieces: float, overlap_share: float) -> None:
    segment = max(duration / pieces, 0.05)
    overlap = segment * overlap_share
    step = segment - overlap
    plan = plan_segments(duration, segment, overlap)
    assert plan[0][0] == 0
    assert plan[-1][1] == duration
    for start, end in plan:
        assert 0 <= start < end <= duration
        assert end - start <= segment + min(1.0, step / 2) + 1e-6
    for (s1, e1), (s2, _) in itertools.pairwise(plan):
        assert s2 <= e1  # no gap
        assert e1 - s2 == pytest.approx(overlap, abs=1e-6 * max(1, duration))
        assert s2 > s1
    if len(plan) > 1:
        last_start, last_end = plan[-1]
        assert (last_end - last_start) - overlap >= min(1.0, step / 2) - 1e-6


def test_split_video(vids: dict[str, Path], tmp_path: Path) -> None:
    source = vids["audio"]
    duration = probe(source).duration
    segments = split_video(source, 1.5, 0.5, output_dir=tmp_path / "parts")
    assert [(s.start, s.end) for s in segments] == plan_segments(duration, 1.5, 0.5)
    for index, segment in enumerate(segments):
        assert segment.path == tmp_path / "parts" / f"segment-{index:03d}.mp4"
        info = probe(segment.path)
        assert info.duration == pytest.approx(segment.duration, abs=1e-6)
        assert info.has_audio
        assert data_url_size(segment.path.stat().st_size) <= MAX_BASE64_BYTES
        assert estimate_video_tokens(info.duration, info.width, info.height) == (
            estimate_video_tokens(segment.duration, 320, 240)
        )


def test_split_video_too_large_segment(vids: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(VideoTooLargeError):
        split_video(vids["audio"], 2.0, output_dir=tmp_path, max_base64_bytes=1500)


def test_media_error_when_nothing_decodes(tmp_path: Path) -> None:
    # A valid header followed by zeroed frames: the file opens, but no frame decodes.
    data = bytearray(make_video(tmp_path / "v.avi", container="avi", duration=1).read_bytes())
    start = data.find(b"movi") + 4
    data[start:] = bytes(len(data) - start)
    assert probe(bytes(data)).duration == pytest.approx(1.0)
    with pytest.raises(MediaError, match="No video frame"):
        fit_video(bytes(data), force=True)


def test_fit_skips_damaged_packets(vids: dict[str, Path]) -> None:
    data = bytearray(vids["hd"].read_bytes())
    middle, damage = len(data) // 2, len(data) // 10
    data[middle : middle + damage] = random.Random(1).randbytes(damage)
    # PyAV itself raises on them.
    with av.open(io.BytesIO(bytes(data)), "r") as container, pytest.raises(av.InvalidDataError):
        for packet in container.demux():
            packet.decode()
    result = fit_video(bytes(data), force=True)
    assert isinstance(result.path, Path)
    try:
        assert result.tokens_after == result.tokens_before
        assert result.fitted_info.duration == result.original_info.duration
    finally:
        result.path.unlink()


def test_duration_fallbacks() -> None:
    from types import SimpleNamespace as NS

    tb = Fraction(1, 1000)
    video = NS(duration=2500, time_base=tb)
    assert probe_module._duration(av, NS(duration=3_000_000), video) == (2.5, "stream")
    no_stream_duration = NS(duration=None, time_base=tb)
    assert probe_module._duration(av, NS(duration=3_000_000), no_stream_duration) == (
        3.0,
        "container",
    )
    packets = [
        NS(pts=100, duration=40, time_base=tb),
        NS(pts=None, duration=0, time_base=tb),  # flush packets carry no time
        NS(pts=1900, duration=100, time_base=tb),
    ]
    container = NS(duration=None, seek=lambda offset: None, demux=lambda: iter(packets))
    no_duration = NS(duration=None, time_base=tb)
    seconds, source = probe_module._duration(av, container, no_duration)
    assert seconds == pytest.approx(1.9)  # from 0.1 s to 2.0 s
    assert source == "packets"


# ----------------------------------------------------------------------------- real-world shapes


@pytest.fixture(scope="module")
def shaped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Corpus files the defect tests below need (the full corpus is in test_corpus)."""
    root = tmp_path_factory.mktemp("shaped")
    wanted = {"ntsc-30", "ntsc-24", "vfr", "h264-mkv"}
    return {spec.name: build(spec, root) for spec in CORPUS if spec.name in wanted}


@pytest.mark.parametrize("name", ["ntsc-30", "ntsc-24", "vfr"])
def test_clip_and_split_at_ntsc_and_variable_rates(
    shaped: dict[str, Path], tmp_path: Path, name: str
) -> None:
    # A float frame rate turned into a Fraction used to overflow PyAV's int conversion.
    path = shaped[name]
    clip = clip_video(path, 0.0, 0.5, output=tmp_path / "clip.mp4")
    assert probe(clip).duration == pytest.approx(0.5, abs=1e-3)
    scaled = clip_video(path, 0.1, 0.45, fps=10, output=tmp_path / "scaled.mp4")
    assert probe(scaled).duration == pytest.approx(0.35, abs=1e-3)
    segments = split_video(path, 0.3, 0.1, output_dir=tmp_path / "parts", fps=8)
    assert len(segments) >= 2
    assert segments[-1].end == probe(path).duration
    assert all(probe(s.path).duration == pytest.approx(s.duration, abs=1e-3) for s in segments)
    fitted = fit_video(path, fps=6, start=0.0, end=0.5, output=tmp_path / "fit.mp4")
    assert fitted.tokens_after == fitted.tokens_before


def test_probe_keeps_the_exact_frame_rate(shaped: dict[str, Path]) -> None:
    info = probe(shaped["ntsc-30"])
    assert info.exact_frame_rate == Fraction(30000, 1001)
    assert info.frame_rate == pytest.approx(29.97, abs=1e-3)
    assert probe(shaped["ntsc-24"]).exact_frame_rate == Fraction(24000, 1001)


@pytest.mark.parametrize(
    ("source", "fps"),
    [
        (Fraction(30000, 1001), 10),
        (Fraction(29.97002997002997), 10),  # a float's Fraction: a 2**52 denominator
        (Fraction(123456789, 4119999), 2),
        (None, 2),
    ],
)
def test_output_rate_is_a_small_fraction(source: Fraction | None, fps: float) -> None:
    rate = _encoder.output_rate(source, fps)
    assert rate.denominator <= 1001
    assert 0 < rate <= 60
    if source is not None:
        assert rate <= source + Fraction(1, 1000)


def _claim_duration_mkv(data: bytes, seconds: float) -> bytes:
    """Rewrite a Matroska file's Duration element (ID 0x4489, an 8-byte float)."""
    at = data.find(b"\x44\x89\x88")
    assert at > 0
    # TimestampScale is FFmpeg's default of 1 ms, so Duration is in milliseconds.
    return data[: at + 3] + struct.pack(">d", seconds * 1000) + data[at + 11 :]


def test_absurd_header_duration_is_checked_against_the_streams(
    shaped: dict[str, Path], tmp_path: Path
) -> None:
    honest = probe(shaped["h264-mkv"])
    claimed = _claim_duration_mkv(shaped["h264-mkv"].read_bytes(), 1e11)  # 3,000 years
    with av.open(io.BytesIO(claimed)) as container:  # the header really says so
        assert container.duration / 1e6 > 1e10
    info = probe(claimed)
    assert info.duration == pytest.approx(honest.duration, abs=0.05)
    assert info.duration_source == "packets"
    segments = split_video(claimed, 0.25, output_dir=tmp_path)  # used to exhaust memory
    assert len(segments) == 2


def test_plan_segments_refuses_absurd_counts() -> None:
    # An overlap inside the documented range, a step of a nanosecond: 6e10 segments.
    with pytest.raises(VideoValidationError, match="segments"):
        plan_segments(60, 10, 10 - 1e-9)
    with pytest.raises(VideoValidationError, match="segments"):
        plan_segments(1e12, 1)
    assert len(plan_segments(60, 10, 9)) == 51


@pytest.mark.parametrize("make", [lambda p: p.open("r"), lambda p: io.StringIO("not bytes")])
def test_probe_refuses_text_mode_file_objects(vids: dict[str, Path], make: Any) -> None:
    with make(vids["small"]) as file, pytest.raises(VideoSourceError, match="binary mode"):
        probe(file)


def test_encoder_grid_is_not_listed_up_front() -> None:
    # An 11-day range at 60 fps is 57 million slots; the grid used to be a list of them.
    plan = _encoder.EncodePlan(
        start=0.0, duration_us=10**12, width=64, height=48, rate=Fraction(60), crf=30
    )
    tracemalloc.start()
    with av.open(io.BytesIO(), mode="w", format="mp4") as out:
        sink = _encoder._VideoSink(av, out, plan)
        _, peak = tracemalloc.get_traced_memory()
        assert sink._duration_at(0) == round(1e6 / 60)
        assert sink._duration_at(sink._slot(sink._count - 1)) > 0
        assert sink._duration_at(1) is None  # not a slot start
    tracemalloc.stop()
    assert peak < 1_000_000
