"""Tests for _body.py: the streamed request body and sending it through the openai SDK."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import random
import shutil
import threading
import tracemalloc
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from langchain_mimo_video._body import (
    INLINE_STREAM_MIN,
    StreamedBody,
    build_body,
    dumps,
    has_references,
    send_chat_completion,
    wire_order,
    worth_streaming,
)
from langchain_mimo_video.errors import VideoSourceError
from langchain_mimo_video.store import REFERENCE_PREFIX, MediaStore
from tests.unit_tests.fake_transport import completion, sse, stream_of
from tests.videos import make_video

COMPLETION = completion(content="Seen.")


def video_part(url: str, fps: float = 2.0) -> dict[str, Any]:
    return {"type": "video_url", "video_url": {"url": url}, "fps": fps, "media_resolution": "max"}


def request(*parts: dict[str, Any], **extra: Any) -> dict[str, Any]:
    content = [*parts, {"type": "text", "text": "Qu'y a-t-il ? 视频里有什么"}]
    return {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": content},
        ],
        "model": "mimo-v2.5",
        "thinking": {"type": "disabled"},
        **extra,
    }


def resolved(body: dict[str, Any], store: MediaStore) -> dict[str, Any]:
    """``body`` with every reference replaced by its data URL, the naive way."""
    out = copy.deepcopy(body)
    for message in out["messages"]:
        for part in message["content"] if isinstance(message["content"], list) else []:
            url = part.get("video_url", {}).get("url", "")
            if url.startswith(REFERENCE_PREFIX):
                media_id = url[len(REFERENCE_PREFIX) :]
                with store.open(media_id) as file:
                    payload = base64.b64encode(file.read()).decode()
                mime = store.info(media_id).mime_type
                part["video_url"]["url"] = f"data:{mime};base64,{payload}"
    return out


def expected(body: dict[str, Any], store: MediaStore) -> bytes:
    return json.dumps(
        wire_order(resolved(body, store)), ensure_ascii=False, separators=(",", ":")
    ).encode()


@pytest.fixture
def store(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "store")


@pytest.fixture
def stored(store: MediaStore, tmp_path: Path) -> str:
    video = make_video(tmp_path / "v.mp4", width=64, height=48, duration=1.0, audio=True)
    return store.put(video)


# -- the bytes ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 6, 7, 65_535, 65_536, 65_537, 1_000_001])
def test_body_is_json_dumps_of_the_resolved_request(store: MediaStore, size: int) -> None:
    data = random.Random(size).randbytes(size)
    media_id = store.put(data)
    body = request(video_part(REFERENCE_PREFIX + media_id))
    want = expected(body, store)
    with build_body(body, store) as streamed:
        assert len(streamed) == len(want)
        assert streamed.read() == want
        for chunk_size in (1 if size < 100_000 else 7, 3, 4096, 65_536, 1 << 20):
            streamed.seek(0)
            pieces = []
            while piece := streamed.read(chunk_size):
                assert len(piece) <= chunk_size
                pieces.append(piece)
            assert b"".join(pieces) == want
        streamed.seek(0)
        assert b"".join(streamed) == want  # iteration, as a transport may do


def test_several_videos_in_several_messages(store: MediaStore, stored: str) -> None:
    other = store.put(random.Random(9).randbytes(10_000))
    body = request(video_part(REFERENCE_PREFIX + stored), video_part(REFERENCE_PREFIX + other))
    body["messages"].append({"role": "assistant", "content": "Noted."})
    body["messages"].append(
        {"role": "user", "content": [video_part(REFERENCE_PREFIX + stored, fps=0.5)]}
    )
    assert has_references(body) and worth_streaming(body)
    with build_body(body, store) as streamed:
        assert streamed.read() == expected(body, store)
        assert streamed.streamed_bytes > 2 * store.size(stored)


def test_random_seeks_read_the_right_bytes(store: MediaStore, stored: str) -> None:
    body = request(video_part(REFERENCE_PREFIX + stored))
    want = expected(body, store)
    rng = random.Random(11)
    with build_body(body, store) as streamed:
        for _ in range(300):
            offset = rng.randrange(len(want) + 10)
            size = rng.randrange(1, 3000)
            assert streamed.seek(offset) == offset
            assert streamed.read(size) == want[offset : offset + size]
        assert streamed.seek(-5, 2) == len(want) - 5
        assert streamed.read() == want[-5:]
        assert streamed.read() == b""


def test_caller_body_is_left_unchanged(store: MediaStore, stored: str) -> None:
    body = request(video_part(REFERENCE_PREFIX + stored))
    before = copy.deepcopy(body)
    build_body(body, store).close()
    assert body == before


def test_body_without_videos_is_plain_json(store: MediaStore) -> None:
    body = request(stream=True, stream_options={"include_usage": True})
    streamed = build_body(body)
    assert streamed.getvalue() == dumps(wire_order(body))
    assert streamed.streamed_bytes == 0
    assert not has_references(body)
    assert not worth_streaming(body)
    assert list(json.loads(streamed.getvalue())) == [
        "model",
        "stream",
        "messages",
        "thinking",
        "stream_options",
    ]


def test_wire_order_matches_the_sdk_create_call() -> None:
    """The same fields through chat.completions.create give the same bytes."""
    seen: list[bytes] = []

    def handler(http_request: httpx2.Request) -> httpx2.Response:
        seen.append(http_request.read())
        return httpx2.Response(
            200, content=sse(stream_of(COMPLETION)), headers={"content-type": "text/event-stream"}
        )

    client = openai.OpenAI(
        api_key="k",
        base_url="http://mimo.test/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )
    body = request(video_part("https://example.com/a.mp4"), stream=True, max_completion_tokens=9)
    core = {key: body[key] for key in ("model", "messages", "stream")}
    extra = {key: value for key, value in body.items() if key not in core}
    list(client.chat.completions.create(**core, extra_body=extra))
    list(send_chat_completion(client, build_body(body), stream=True))
    assert seen[0] == seen[1] == dumps(wire_order(body))


# -- inline data URLs --------------------------------------------------------------------


def test_large_loader_data_url_streams_from_its_string(tmp_path: Path) -> None:
    from langchain_mimo_video.video import encode_bytes_data_url

    data = make_video(tmp_path / "head.mp4").read_bytes() + random.Random(12).randbytes(
        INLINE_STREAM_MIN
    )
    url = encode_bytes_data_url(data, "video/mp4")  # what VideoLoader sends for local files
    body = request(video_part(url))
    assert worth_streaming(body)
    streamed = build_body(body)
    assert streamed.streamed_bytes > INLINE_STREAM_MIN
    assert streamed.getvalue() == dumps(wire_order(body))
    # a data URL VideoLoader did not make goes through json.dumps
    foreign = request(video_part(url[:-4] + ("AAAA" if url[-4:] != "AAAA" else "BBBB")))
    assert not worth_streaming(foreign)
    plain = build_body(foreign)
    assert plain.streamed_bytes == 0
    assert plain.getvalue() == dumps(wire_order(foreign))


# -- refusals ----------------------------------------------------------------------------


def test_reference_without_a_store_is_refused(stored: str) -> None:
    with pytest.raises(VideoSourceError, match=r"no MediaStore was given.*media_store="):
        build_body(request(video_part(REFERENCE_PREFIX + stored)))


def test_reference_missing_from_the_store_is_refused(store: MediaStore) -> None:
    absent = "0" * 64
    with pytest.raises(VideoSourceError, match="not in the MediaStore"):
        build_body(request(video_part(REFERENCE_PREFIX + absent)), store)


@pytest.mark.parametrize("bad", ["../../etc/passwd", "/etc/passwd", "A" * 64, "a" * 63])
def test_hand_written_reference_is_refused(store: MediaStore, bad: str) -> None:
    with pytest.raises(VideoSourceError, match="64 lowercase hex"):
        build_body(request(video_part(REFERENCE_PREFIX + bad)), store)


def test_store_removed_after_building_fails_the_send_not_silently(
    store: MediaStore, stored: str
) -> None:
    body = build_body(request(video_part(REFERENCE_PREFIX + stored)), store)
    shutil.rmtree(store.root)
    with pytest.raises(VideoSourceError, match="not in the MediaStore"):
        body.read()


def test_stored_file_changed_in_place_is_not_sent(store: MediaStore, stored: str) -> None:
    path = store.local_path(stored)
    assert path is not None
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.chmod(0o600)
    path.write_bytes(bytes(data))
    body = build_body(request(video_part(REFERENCE_PREFIX + stored)), store)
    read = 0
    with pytest.raises(VideoSourceError, match="no longer match its id"):
        while piece := body.read(1000):
            read += len(piece)
    assert read < len(body)  # refused before the body was complete


def test_truncated_stored_file_is_not_sent(store: MediaStore, stored: str) -> None:
    body = build_body(request(video_part(REFERENCE_PREFIX + stored)), store)
    path = store.local_path(stored)
    assert path is not None
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(VideoSourceError, match="fewer than"):
        body.read()


# -- memory ------------------------------------------------------------------------------


def test_sending_holds_a_small_buffer_not_the_video(store: MediaStore) -> None:
    size = 6_000_000
    media_id = store.put(random.Random(13).randbytes(size))
    received = 0

    class Socketlike(httpx2.BaseTransport):
        """Consumes the body piece by piece, as a socket does (MockTransport reads it all)."""

        def handle_request(self, http_request: httpx2.Request) -> httpx2.Response:
            nonlocal received
            for piece in http_request.stream:
                received += len(piece)
            return httpx2.Response(200, json=COMPLETION)

    client = openai.OpenAI(
        api_key="k",
        base_url="http://mimo.test/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=Socketlike()),
    )
    body = build_body(request(video_part(REFERENCE_PREFIX + media_id)), store)
    tracemalloc.start()
    try:
        reply = send_chat_completion(client, body, stream=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert reply.choices[0].message.content == "Seen."
    assert received == len(body) > size * 4 // 3
    assert peak < size // 20, peak  # the naive path holds about 5x the file


# -- through the SDK to a real HTTP server -----------------------------------------------


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RecordingHandler)
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        self.statuses: list[int] = []  # answered in order; 200 when empty
        self.stream_reply = False


class _RecordingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Recorder

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.server.headers.append({k.lower(): v for k, v in self.headers.items()})
        self.server.bodies.append(self.rfile.read(length))
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        if status != 200:
            payload = json.dumps({"error": {"code": str(status), "message": "boom"}}).encode()
            kind = "application/json"
        elif self.server.stream_reply:
            payload, kind = sse(stream_of(COMPLETION)), "text/event-stream"
        else:
            payload, kind = json.dumps(COMPLETION).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[_Recorder]:
    server = _Recorder()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def base_url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/v1"


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_retry_after_500_resends_the_whole_body(
    recorder: _Recorder, store: MediaStore, stored: str
) -> None:
    recorder.statuses = [500]
    client = openai.OpenAI(api_key="k", base_url=base_url(recorder), max_retries=2)
    body = request(video_part(REFERENCE_PREFIX + stored))
    want = expected(body, store)
    with build_body(body, store) as streamed:
        reply = send_chat_completion(client, streamed, stream=False)
    assert reply.choices[0].message.content == "Seen."
    assert recorder.bodies == [want, want]
    for headers in recorder.headers:
        assert headers["content-length"] == str(len(want))
        assert "transfer-encoding" not in headers
        assert headers["content-type"] == "application/json"
        assert headers["authorization"] == "Bearer k"
    assert [h["x-stainless-retry-count"] for h in recorder.headers] == ["0", "1"]


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_errors_keep_the_sdk_types_and_retry_policy(
    recorder: _Recorder, store: MediaStore, stored: str
) -> None:
    recorder.statuses = [503, 503]
    client = openai.OpenAI(api_key="k", base_url=base_url(recorder), max_retries=1)
    with (
        build_body(request(video_part(REFERENCE_PREFIX + stored)), store) as streamed,
        pytest.raises(openai.InternalServerError),
    ):
        send_chat_completion(client, streamed, stream=False)
    assert len(recorder.bodies) == 2
    recorder.statuses = [400]
    with (
        build_body(request(video_part(REFERENCE_PREFIX + stored)), store) as streamed,
        pytest.raises(openai.BadRequestError),
    ):
        send_chat_completion(client, streamed, stream=False)
    assert len(recorder.bodies) == 3  # a 400 is not retried


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_streamed_reply_and_async_client(
    recorder: _Recorder, store: MediaStore, stored: str
) -> None:
    from langchain_mimo_video._body import asend_chat_completion

    recorder.stream_reply = True
    body = request(video_part(REFERENCE_PREFIX + stored), stream=True)
    want = expected(body, store)
    client = openai.OpenAI(api_key="k", base_url=base_url(recorder), max_retries=1)
    with build_body(body, store) as streamed:
        chunks = list(send_chat_completion(client, streamed, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Seen."

    async def run() -> list[Any]:
        async_client = openai.AsyncOpenAI(api_key="k", base_url=base_url(recorder), max_retries=1)
        with build_body(body, store) as streamed:
            stream = await asend_chat_completion(async_client, streamed, stream=True)
            return [chunk async for chunk in stream]

    recorder.statuses = [500]
    async_chunks = asyncio.run(run())
    assert len(async_chunks) == len(chunks)
    assert recorder.bodies == [want, want, want]
    assert [h["content-length"] for h in recorder.headers] == [str(len(want))] * 3
    assert recorder.headers[-1]["x-stainless-async"].startswith("async")


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_contract_server_accepts_the_streamed_body(store: MediaStore, stored: str) -> None:
    from tests.mimo_server import MiMoContractServer

    with MiMoContractServer(api_key="k") as server:
        server.enqueue_fault("500")
        client = openai.OpenAI(api_key="k", base_url=server.base_url, max_retries=1)
        body = request(video_part(REFERENCE_PREFIX + stored))
        with build_body(body, store) as streamed:
            reply = send_chat_completion(client, streamed, stream=False)
        chats = server.chat_requests
    assert [r.status for r in chats] == [500, 200]
    assert chats[-1].body == json.loads(expected(body, store))
    assert reply.usage is not None
    assert reply.usage.model_dump()["prompt_tokens_details"]["video_tokens"] > 0


def test_fsspec_store_body(tmp_path: Path) -> None:
    pytest.importorskip("fsspec")
    memory = MediaStore(f"memory://body-{tmp_path.name}")
    media_id = memory.put(make_video(tmp_path / "v.mp4"))
    body = request(video_part(REFERENCE_PREFIX + media_id))
    with build_body(body, memory) as streamed:
        assert streamed.read() == expected(body, memory)


def test_streamed_body_is_a_seekable_file_for_the_sdk() -> None:
    body = StreamedBody([])
    assert (len(body), body.read(), body.tell(), body.seekable(), body.readable()) == (
        0,
        b"",
        0,
        True,
        True,
    )
    with pytest.raises(ValueError, match="negative"):
        body.seek(-1)
    async_body = body.for_async()
    assert not hasattr(async_body, "__iter__")  # httpx2 must take it as an async stream
    assert async_body.headers == {"Content-Type": "application/json", "Content-Length": "0"}


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_extra_headers_and_raw_response(
    recorder: _Recorder, store: MediaStore, stored: str
) -> None:
    """What ChatMiMo needs: dropping the Bearer header, and the raw HTTP response."""
    client = openai.OpenAI(
        api_key="k", base_url=base_url(recorder), default_headers={"api-key": "k"}
    )
    with build_body(request(video_part(REFERENCE_PREFIX + stored)), store) as streamed:
        raw = send_chat_completion(
            client, streamed, stream=False, headers={"Authorization": openai.Omit()}, raw=True
        )
    assert json.loads(raw.http_response.content)["choices"][0]["message"]["content"] == "Seen."
    headers = recorder.headers[-1]
    assert "authorization" not in headers
    assert headers["api-key"] == "k"
    assert headers["content-length"] == str(len(recorder.bodies[-1]))


def test_post_chat_sends_references_streamed_and_the_rest_through_create(
    store: MediaStore, stored: str
) -> None:
    from langchain_mimo_video._body import post_chat

    seen: list[httpx2.Request] = []

    def handler(http_request: httpx2.Request) -> httpx2.Response:
        seen.append(http_request)
        return httpx2.Response(200, json=COMPLETION)

    client = openai.OpenAI(
        api_key="k",
        base_url="http://mimo.test/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )
    with_reference = request(video_part(REFERENCE_PREFIX + stored))
    plain = request(video_part("https://example.com/a.mp4"))
    for body in (with_reference, plain):
        core = {key: body[key] for key in ("model", "messages")}
        extra = {key: value for key, value in body.items() if key not in core}
        raw = post_chat(client, body, {**core, "extra_body": extra}, store, stream=False)
        assert json.loads(raw.http_response.content)["choices"][0]["message"]["content"]
    assert seen[0].read() == expected(with_reference, store)
    assert seen[1].read() == dumps(wire_order(plain))
