"""The URL guard and the remote probe's limits, against hostile HTTP servers on 127.0.0.1.

Each hostile server lives in this file: a server that drips a byte every 0.2 s, one
that answers a 64 KiB range with a 32 MiB 206, and one that ignores ``Range`` and streams
an ``mdat`` box claiming 1 TB. Limits are checked by the bytes read (and sent), never
by wall time; a join timeout only keeps a broken probe from hanging the suite.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
import tracemalloc
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from langchain_core.messages import HumanMessage

from langchain_mimo_video import ChatMiMo, WatchVideoTool
from langchain_mimo_video.errors import (
    AmbiguousURLError,
    ProbeLimitError,
    UnsafeSourceError,
    VideoSourceError,
)
from langchain_mimo_video.limits import MAX_URL_VIDEO_BYTES
from langchain_mimo_video.media import _connections, _net, _urls, check_public_url, probe
from langchain_mimo_video.media._urls import whatwg_host
from tests.loopback import serving, url_of, without_proxies
from tests.unit_tests.fake_transport import FakeMiMo, completion
from tests.videos import make_video, video_bytes

LOCAL = pytest.mark.allow_hosts(["127.0.0.1"])
PUBLIC = "93.184.216.34"
MiB = 1024 * 1024


@contextlib.contextmanager
def public_dns() -> Iterator[list[str]]:
    """Every DNS lookup answers a public address (so today's guard would pass the URL).

    Undone inside the test: pytest-socket restores ``getaddrinfo`` before fixtures are torn
    down, so a monkeypatch fixture would put pytest-socket's guard back afterwards.
    """
    looked_up: list[str] = []

    def fake_getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        looked_up.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port or 443))]

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
        yield looked_up


# ----------------------------------------------------------------------------- URL guard

#: URLs that Python's urlsplit reads as a public host, and WHATWG parsers or urllib3 as
#: another one (or that carry parts parsers disagree on).
AMBIGUOUS = [
    ("http://127.0.0.1\\@public.example/v.mp4", "backslash"),
    ("http://169.254.169.254\\@public.example/latest/meta-data/", "backslash"),
    ("http://[::1]\\@public.example/v.mp4", "backslash"),
    ("http://10.0.0.1:80\\@public.example/v.mp4", "backslash"),
    ("https://public.example\\..\\v.mp4", "backslash"),
    ("http://user:secret@public.example/v.mp4", "user info"),
    ("http://127.0.0.1@public.example/v.mp4", "user info"),
    ("http://public.example\t/v.mp4", "control character"),
    ("http://127.0.0.1\n.public.example/v.mp4", "control character"),
    (" http://public.example/v.mp4", "whitespace"),
    ("http://public.example/v.mp4\u00a0", "whitespace"),
    ("http://public.example\x00/v.mp4", "control character"),
    ("http://%31%32%37.0.0.1/v.mp4", "percent-encoded"),
    ("http://public%2eexample/v.mp4", "percent-encoded"),
    ("http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/v.mp4", "not ASCII"),
    ("http://b\u00fccher.example/v.mp4", "xn--bcher-kva.example"),
    ("http://public.example^/v.mp4", "not allowed in a host name"),
    ("http://[::1]x.public.example/v.mp4", "not allowed in a host name"),
    ("http://1572395042/v.mp4", "Write it as 93.184.216.34"),
    ("http://93.184.216.034/v.mp4", "Write it as 93.184.216.28"),
    ("http://1.2.3.4.5/v.mp4", "not an IPv4 address"),
]


@pytest.mark.parametrize(("url", "needle"), AMBIGUOUS)
def test_guard_refuses_urls_parsers_read_differently(url: str, needle: str) -> None:
    with public_dns() as looked_up, pytest.raises(AmbiguousURLError, match=needle) as caught:
        check_public_url(url)
    assert isinstance(caught.value, UnsafeSourceError)
    assert looked_up == []  # refused from its spelling, before any lookup


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("http://0x7f.1/v.mp4", "loopback"),  # WHATWG and glibc read 127.0.0.1
        ("http://0177.0.0.1/v.mp4", "loopback"),
        ("http://0xa9fea9fe/latest/", "metadata"),
        ("http://10.1/v.mp4", "private"),
    ],
)
def test_guard_reads_rare_ipv4_spellings_as_their_address(url: str, needle: str) -> None:
    with public_dns() as looked_up, pytest.raises(UnsafeSourceError, match=needle):
        check_public_url(url)
    assert looked_up == []


@pytest.mark.parametrize(
    "url",
    [
        "https://public.example/v.mp4",
        "HTTPS://Public.Example.:8443/a/b.mp4?X-Amz-Signature=abc%2F%3D&x=a@b#t=1",
        "https://cdn.public.example/path%20with%20spaces/v.mp4?q=a\\b",
        "http://93.184.216.34/v.mp4",
        "https://[2606:2800:220:1:248:1893:25c8:1946]:443/v.mp4",
        "https://xn--bcher-kva.example/v.mp4",
    ],
)
def test_guard_accepts_plain_public_urls(url: str) -> None:
    with public_dns() as looked_up:
        check_public_url(url)
    assert len(looked_up) == (0 if url.startswith("http://93.") or "[" in url else 1)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://127.0.0.1\\@public.example/v.mp4", "127.0.0.1"),
        ("http://10.0.0.1:80\\@public.example/", "10.0.0.1"),
        ("http://[::1]\\@public.example/", "::1"),
        ("http://a@b@c.example/", "c.example"),
        ("http:\\\\public.example\\v.mp4", "public.example"),
        ("http:public.example/v.mp4", "public.example"),
        ("http:///public.example/v.mp4", "public.example"),
        ("  http://public.example/  ", "public.example"),
        ("http://pub\tlic.exam\nple/", "public.example"),
        ("http://0x7f.1/", "127.0.0.1"),
        ("http://2130706433/", "127.0.0.1"),
        ("http://0177.0.0.1/", "127.0.0.1"),
        ("http://127.1./", "127.0.0.1"),
        ("http://%31%32%37.0.0.1/", "127.0.0.1"),
        ("http://ex%41mple.com/", "example.com"),
        ("http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", "127.0.0.1"),
        ("http://EXAMPLE.com./", "example.com."),
        ("http://[::ffff:127.0.0.1]/", "::ffff:7f00:1"),
        ("http://example.com#@evil.example/", "example.com"),
        ("http://example.com?@evil.example/", "example.com"),
        ("http://1.2.3.4.5/", None),
        ("http://256.0.0.1/", None),
        ("http://0x100000000/", None),
        ("http://exa mple.com/", None),
        ("http://[::1]x/", None),
        ("http://[::1/", None),
        ("file:///etc/passwd", None),
    ],
)
def test_whatwg_reading_of_the_host(url: str, host: str | None) -> None:
    # Expected hosts are what the WHATWG URL standard (and browsers) give.
    assert whatwg_host(url) == host


_PIECES = st.sampled_from(
    [
        "127.0.0.1",
        "public.example",
        "10.0.0.1",
        "[::1]",
        "@",
        "\\",
        "/",
        ":",
        "80",
        "#",
        "?",
        "%2e",
        "%40",
        ".",
        "0x7f",
        "1",
        "user",
        "\t",
        " ",
        "[",
        "]",
        "\u00e9",
    ]
)


@given(st.lists(_PIECES, min_size=1, max_size=7), st.sampled_from(["http://", "https://"]))
@example(["127.0.0.1", "\\", "@", "public.example"], "http://")
@example(["[::1]", "\\", "@", "public.example", "/", "v"], "http://")
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_parser_agrees_on_the_host_of_an_accepted_url(pieces: list[str], scheme: str) -> None:
    urllib3 = pytest.importorskip("urllib3")
    url = scheme + "".join(pieces)
    with public_dns():
        try:
            check_public_url(url)
        except UnsafeSourceError:
            return
    python_host = (urllib.parse.urlsplit(url).hostname or "").rstrip(".")
    other = urllib3.util.parse_url(url).host  # raises if urllib3 cannot read it at all
    assert (other or "").strip("[]").rstrip(".").lower() == python_host
    assert (whatwg_host(url) or "").rstrip(".") == python_host


KEY = "sk-test-net"


@pytest.mark.parametrize("url", [url for url, _ in AMBIGUOUS[:5]])
def test_the_tool_refuses_ambiguous_urls_with_a_readable_reason(url: str) -> None:
    fake = FakeMiMo().reply_json(completion("It shows a cat."))
    tool = WatchVideoTool(llm=ChatMiMo(api_key=KEY, max_retries=0, **fake.clients()))
    call = {"type": "tool_call", "id": "c1", "name": "watch_video"}
    with public_dns():
        message = tool.invoke({**call, "args": {"video": url, "question": "What is in it?"}})
    assert message.status == "error"
    assert message.content.startswith("Cannot watch this video: ")
    assert "backslash" in message.content  # says what is wrong, so the agent can fix it
    assert fake.seen == []  # never sent to MiMo


# ----------------------------------------------------------------------------- hostile servers


class _Hostile(ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, Callable[[BaseHTTPRequestHandler], None]]
    methods: list[str]
    sent: int  # body (or dripped) bytes written


class _Handler(BaseHTTPRequestHandler):
    server: _Hostile
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.methods.append("GET")
        route = self.server.routes.get(self.path)
        if route is None:
            self.send_error(404)
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            route(self)  # a limited probe hangs up mid-answer

    def do_HEAD(self) -> None:
        self.server.methods.append("HEAD")
        self.send_error(403, "signed for GET only")  # like a presigned object-store URL

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def hostile(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Hostile]:
    without_proxies(monkeypatch)
    httpd = _Hostile(("127.0.0.1", 0), _Handler)
    httpd.routes, httpd.methods, httpd.sent = {}, [], 0
    with serving(httpd):
        yield httpd


def requested_range(handler: BaseHTTPRequestHandler, size: int) -> tuple[int, int]:
    first, _, last = (
        (handler.headers.get("Range") or "bytes=0-").removeprefix("bytes=").partition("-")
    )
    return int(first), min(int(last) if last else size - 1, size - 1)


def send_all(handler: BaseHTTPRequestHandler, body: bytes) -> None:
    view = memoryview(body)
    for at in range(0, len(body), MiB):
        handler.wfile.write(view[at : at + MiB])
        handler.server.sent += len(view[at : at + MiB])  # type: ignore[attr-defined]


def drip(handler: BaseHTTPRequestHandler, data: bytes) -> None:
    for byte in data:
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        handler.server.sent += 1  # type: ignore[attr-defined]
        time.sleep(0.2)


def run_bounded(work: Callable[[], object], safety: float = 15.0) -> BaseException | None:
    """Run ``work`` in a thread; the join timeout only keeps a hung probe from hanging pytest."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            work()
            outcome.append(None)
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(safety)
    assert not thread.is_alive(), "the probe did not end"
    return outcome[0]


@pytest.fixture(scope="module")
def faststart(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("net") / "v.mp4"
    return make_video(path, width=320, height=240, duration=2.0, fps=10, audio=True).read_bytes()


@LOCAL
@pytest.mark.parametrize("phase", ["body", "headers"])
def test_a_dripping_server_meets_the_probe_deadline(hostile: _Hostile, phase: str) -> None:
    def dripping(handler: BaseHTTPRequestHandler) -> None:
        head = b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-65535/1000000\r\n"
        head += b"Content-Length: 65536\r\n\r\n"
        if phase == "headers":
            drip(handler, head + b"\0" * 200)
        else:
            handler.wfile.write(head)
            handler.wfile.flush()
            drip(handler, b"\0" * 200)  # 40 s at a byte every 0.2 s

    hostile.routes["/v.mp4"] = dripping
    error = run_bounded(lambda: probe(url_of(hostile, "/v.mp4"), timeout=1))
    assert isinstance(error, ProbeLimitError), error
    assert (error.limit, error.value) == ("deadline", 1)
    assert "deadline of 1 s" in str(error) and "timeout" in str(error)
    # One second at a byte per 0.2 s is about 5 bytes; the connection was dropped then.
    time.sleep(0.5)
    assert hostile.sent <= 12


def dripping_body(handler: BaseHTTPRequestHandler) -> None:
    head = b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-65535/1000000\r\n"
    handler.wfile.write(head + b"Content-Length: 65536\r\n\r\n")
    handler.wfile.flush()
    drip(handler, b"\0" * 200)  # 40 s at a byte every 0.2 s


def video_message(url: str, kind: str = "video") -> HumanMessage:
    if kind == "audio":
        part: dict[str, Any] = {"type": "input_audio", "input_audio": {"data": url}}
    else:
        part = {"type": "video_url", "video_url": {"url": url}}
    return HumanMessage(content=[part, {"type": "text", "text": "What happens?"}])


@LOCAL
@pytest.mark.parametrize("kind", ["video", "audio"])
def test_estimates_probe_with_the_model_timeout(hostile: _Hostile, kind: str) -> None:
    hostile.routes["/v.mp4"] = dripping_body
    llm = ChatMiMo(api_key=KEY, timeout=1)
    estimate: list[Any] = []
    message = video_message(url_of(hostile, "/v.mp4"), kind)
    assert run_bounded(lambda: estimate.append(llm.estimate_request([message]))) is None
    (reason,) = estimate[0].unmeasured
    assert "deadline of 1 s" in reason  # the model's timeout, not the probe's 30 s default
    time.sleep(0.5)
    assert hostile.sent <= 12


@LOCAL
def test_the_token_guard_probes_with_the_model_timeout(hostile: _Hostile) -> None:
    hostile.routes["/v.mp4"] = dripping_body
    fake = FakeMiMo().reply_json(completion())
    llm = ChatMiMo(api_key=KEY, timeout=1, max_input_tokens=10**6, max_retries=0, **fake.clients())
    message = video_message(url_of(hostile, "/v.mp4"))
    assert run_bounded(lambda: llm.invoke([message])) is None  # unmeasured, so sent
    assert len(fake.seen) == 1
    time.sleep(0.5)
    assert hostile.sent <= 12


@contextlib.contextmanager
def stalled_dns(stalled: str) -> Iterator[threading.Event]:
    """Lookups of ``stalled`` hang until the yielded event is set; others answer 127.0.0.1."""
    release = threading.Event()

    def fake_getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host == stalled:
            release.wait(20)  # longer than run_bounded's safety: only a deadline ends it
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port or 80))]

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
        try:
            yield release
        finally:
            release.set()


@LOCAL
@pytest.mark.parametrize("guarded", [True, False], ids=["url-guard", "connection"])
def test_a_stalled_lookup_meets_the_probe_deadline(hostile: _Hostile, guarded: bool) -> None:
    port = hostile.server_address[1]
    with stalled_dns("stalled.example"):
        error = run_bounded(
            lambda: probe(
                f"http://stalled.example:{port}/v.mp4",
                timeout=1,
                allow_private_network=not guarded,
            )
        )
    assert isinstance(error, ProbeLimitError), error
    assert (error.limit, error.value) == ("deadline", 1)
    assert hostile.methods == []  # nothing was fetched


def test_a_lookup_with_a_time_limit_answers_as_getaddrinfo_does() -> None:
    with stalled_dns("stalled.example"):
        (entry,) = _urls.resolve("fine.example", 443, timeout=5)
        with pytest.raises(_urls.LookupTimeout, match=r"stalled\.example within 0\.2 s"):
            _urls.resolve("stalled.example", 443, timeout=0.2)
    assert entry[4] == ("127.0.0.1", 443)


@LOCAL
def test_a_deadline_tripped_mid_read_prints_nothing(
    hostile: _Hostile, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_net, "_HTTP_BLOCK", 1024)
    data = video_bytes(width=320, height=240, duration=2.0, fps=10)  # its index at the end

    def first_block_then_drip(handler: BaseHTTPRequestHandler) -> None:
        start, stop = requested_range(handler, len(data))
        handler.send_response(206)
        handler.send_header("Content-Range", f"bytes {start}-{stop}/{len(data)}")
        handler.send_header("Content-Length", str(stop + 1 - start))
        handler.end_headers()
        if start == 0:
            send_all(handler, data[: stop + 1])
        else:
            drip(handler, data[start : stop + 1])

    hostile.routes["/v.mp4"] = first_block_then_drip
    capfd.readouterr()
    error = run_bounded(lambda: probe(url_of(hostile, "/v.mp4"), timeout=1))
    assert isinstance(error, ProbeLimitError), error
    assert error.limit == "deadline"
    assert error.bytes_read >= 1024  # PyAV had read, and asked for more
    stderr = capfd.readouterr().err
    assert "Traceback" not in stderr and "dropped" not in stderr, stderr


@LOCAL
def test_a_tls_handshake_that_drips_meets_the_deadline() -> None:
    # A TLS record header, then its body a byte every 0.2 s: each byte restarts a socket
    # timeout, so only the probe's deadline ends the handshake.
    listener = socket.create_server(("127.0.0.1", 0))
    sent: list[int] = []

    def serve() -> None:
        connection, _ = listener.accept()
        with connection, contextlib.suppress(OSError):
            connection.recv(4096)  # the ClientHello
            for byte in b"\x16\x03\x03\x40\x00" + bytes(200):
                connection.sendall(bytes([byte]))
                sent.append(byte)
                time.sleep(0.2)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    url = f"https://127.0.0.1:{listener.getsockname()[1]}/v.mp4"
    try:
        error = run_bounded(lambda: probe(url, timeout=1))
    finally:
        listener.close()
    assert isinstance(error, ProbeLimitError), error
    assert error.limit == "deadline"
    server.join(15)
    assert not server.is_alive()  # the client hung up at the deadline, ending the drip
    assert len(sent) <= 12


@LOCAL
def test_a_206_larger_than_asked_is_read_only_as_far_as_asked(
    hostile: _Hostile, faststart: bytes
) -> None:
    padded = faststart + bytes(32 * MiB - len(faststart))  # a 32 MiB file

    def honest(handler: BaseHTTPRequestHandler) -> None:
        start, stop = requested_range(handler, len(padded))
        handler.send_response(206)
        handler.send_header("Content-Range", f"bytes {start}-{stop}/{len(padded)}")
        handler.send_header("Content-Length", str(stop + 1 - start))
        handler.end_headers()
        send_all(handler, padded[start : stop + 1])

    def fat(handler: BaseHTTPRequestHandler) -> None:
        start, _ = requested_range(handler, len(padded))  # sends all the rest, whatever asked
        handler.send_response(206)
        handler.send_header("Content-Range", f"bytes {start}-{len(padded) - 1}/{len(padded)}")
        handler.send_header("Content-Length", str(len(padded) - start))
        handler.end_headers()
        send_all(handler, padded[start:])

    hostile.routes["/honest.mp4"], hostile.routes["/fat.mp4"] = honest, fat
    asked = probe(url_of(hostile, "/honest.mp4"))
    got = probe(url_of(hostile, "/fat.mp4"))
    assert (got.duration, got.width, got.has_audio) == (asked.duration, 320, True)
    assert got.bytes_read == asked.bytes_read  # exactly what was asked for, not 32 MiB
    assert got.bytes_read < MiB
    reader = _net.HTTPRangeReader(
        url_of(hostile, "/fat.mp4"), timeout=5, allow_private_network=True
    )
    try:
        assert reader.bytes_read == 64 * 1024  # the first 64 KiB range
    finally:
        reader.close()
    assert set(hostile.methods) == {"GET"}


def mdat_claiming_a_terabyte() -> bytes:
    ftyp = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"isom", 512, b"isom", b"mp41")
    return ftyp + struct.pack(">I4sQ", 1, b"mdat", 10**12)  # 64-bit size: 1 TB


@LOCAL
@pytest.mark.parametrize("states_length", [False, True])
def test_a_server_ignoring_range_is_read_as_a_bounded_stream(
    hostile: _Hostile,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    states_length: bool,
) -> None:
    cap, cache_blocks = 24 * MiB, 64  # a 4 MiB cache
    monkeypatch.setattr(_net, "_MAX_PROBE_BYTES", cap, raising=False)
    monkeypatch.setattr(_net, "_HTTP_CACHE_BLOCKS", cache_blocks)
    head = mdat_claiming_a_terabyte()

    def endless(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)  # ignores Range
        if states_length:
            handler.send_header("Content-Length", str(10**12 + len(head)))
        handler.end_headers()
        handler.wfile.write(head)
        zeros = bytes(MiB)
        for _ in range(96):  # stops at 96 MiB so that an unbounded reader still ends
            handler.wfile.write(zeros)
            handler.server.sent += MiB  # type: ignore[attr-defined]

    hostile.routes["/v.mp4"] = endless
    tracemalloc.start()
    try:
        error = run_bounded(lambda: probe(url_of(hostile, "/v.mp4"), timeout=30))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(error, ProbeLimitError), error
    assert (error.limit, error.value) == ("bytes", cap)
    assert cap - 64 * 1024 <= error.bytes_read <= cap
    assert "faststart" in str(error) and "Range" in str(error)
    assert peak < 2 * cache_blocks * 64 * 1024 + 2 * MiB  # the cache, not the stream
    assert hostile.methods == ["GET"]
    stderr = capfd.readouterr().err  # the trip is quiet: PyAV printed no dropped errors
    assert "Traceback" not in stderr and "dropped" not in stderr, stderr


@LOCAL
def test_the_byte_cap_never_passes_the_url_limit(hostile: _Hostile) -> None:
    def terabyte(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)  # ignores Range, says 1 TB, sends until cut off
        handler.send_header("Content-Length", str(10**12))
        handler.end_headers()
        zeros = bytes(MiB)
        for _ in range(MAX_URL_VIDEO_BYTES // MiB + 16):
            handler.wfile.write(zeros)

    hostile.routes["/v.mp4"] = terabyte
    reader = _net.HTTPRangeReader(
        url_of(hostile, "/v.mp4"), timeout=60, allow_private_network=True, max_bytes=10**12
    )
    try:
        with pytest.raises(ProbeLimitError) as caught:
            reader.seek(10**11)
            reader.read(10)
    finally:
        reader.close()
    assert (caught.value.limit, caught.value.value) == ("bytes", MAX_URL_VIDEO_BYTES)
    assert reader.bytes_read == MAX_URL_VIDEO_BYTES


@LOCAL
def test_the_byte_cap_follows_the_stated_size(
    hostile: _Hostile, faststart: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With a one-block cache, reads that jump back and forth fetch blocks again and
    # again: the cap (the stated size plus a quarter; no fixed margin here) stops them.
    monkeypatch.setattr(_net, "_HTTP_BLOCK", 1024)
    monkeypatch.setattr(_net, "_HTTP_CACHE_BLOCKS", 1)
    monkeypatch.setattr(_net, "_PROBE_MARGIN", 0, raising=False)
    data = faststart[: 64 * 1024]

    def ranged(handler: BaseHTTPRequestHandler) -> None:
        start, stop = requested_range(handler, len(data))
        handler.send_response(206)
        handler.send_header("Content-Range", f"bytes {start}-{stop}/{len(data)}")
        handler.send_header("Content-Length", str(stop + 1 - start))
        handler.end_headers()
        send_all(handler, data[start : stop + 1])

    hostile.routes["/v.mp4"] = ranged
    reader = _net.HTTPRangeReader(url_of(hostile, "/v.mp4"), timeout=5, allow_private_network=True)
    try:
        with pytest.raises(ProbeLimitError, match="the most one probe reads") as caught:
            for turn in range(200):
                reader.seek(0 if turn % 2 else len(data) - 1024)
                assert reader.read(1024) == data[reader.tell() - 1024 : reader.tell()]
    finally:
        reader.close()
    assert caught.value.limit == "bytes"
    assert caught.value.value == len(data) + len(data) // 4
    assert reader.bytes_read <= len(data) + len(data) // 4


@LOCAL
def test_probes_never_send_head(hostile: _Hostile, faststart: bytes) -> None:
    def ranged(handler: BaseHTTPRequestHandler) -> None:
        start, stop = requested_range(handler, len(faststart))
        handler.send_response(206)
        handler.send_header("Content-Range", f"bytes {start}-{stop}/{len(faststart)}")
        handler.send_header("Content-Length", str(stop + 1 - start))
        handler.end_headers()
        send_all(handler, faststart[start : stop + 1])

    hostile.routes["/v.mp4"] = ranged
    assert probe(url_of(hostile, "/v.mp4")).duration == probe(faststart).duration
    assert hostile.methods and set(hostile.methods) == {"GET"}


def test_redirect_hops_are_read_strictly_too() -> None:
    import io
    import urllib.request

    request = urllib.request.Request(f"http://{PUBLIC}/v.mp4")
    with public_dns(), pytest.raises(AmbiguousURLError, match="backslash"):
        _connections.GuardedRedirectHandler().redirect_request(
            request, io.BytesIO(), 302, "Found", {}, "http://169.254.169.254\\@public.example/"
        )


@LOCAL
def test_other_errors_keep_their_meaning(hostile: _Hostile) -> None:
    def gone(handler: BaseHTTPRequestHandler) -> None:
        handler.send_error(410)

    hostile.routes["/v.mp4"] = gone
    with pytest.raises(VideoSourceError, match="410") as caught:
        probe(url_of(hostile, "/v.mp4"), timeout=5)
    assert not isinstance(caught.value, ProbeLimitError)
