"""Tests of the MiMo contract server (``tests/mimo_server``) itself.

The server is the fixture other integration tests record against, so these tests pin
down that it enforces MiMo's documented contract, reports usage from the documented
formula, answers deterministically, and injects the faults the fault tests rely on.
They talk to it through the raw ``openai`` client and, for malformed requests, raw HTTP.

Sockets: only loopback is used; ``allow_hosts`` keeps pytest-socket's
``--disable-socket`` from blocking it while still refusing any other host.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
import vcr
import yaml

from langchain_mimo_video import limits
from tests.mimo_server import IMAGE_TOKENS, MiMoContractServer
from tests.videos import video_bytes

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

MODEL = "mimo-v2.5"
QUESTION = "describe the video"  # 18 UTF-8 bytes -> ceil(18 / 4) = 5 text tokens
QUESTION_TOKENS = 5
# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

MAGIC_FUNCTION = {
    "type": "function",
    "function": {
        "name": "magic_function",
        "description": "Apply a magic function to an input.",
        "parameters": {
            "type": "object",
            "properties": {
                "input": {"type": "integer", "exclusiveMinimum": -1000, "exclusiveMaximum": 1000}
            },
            "required": ["input"],
        },
    },
}
MAGIC_NO_ARGS = {
    "type": "function",
    "function": {
        "name": "magic_function_no_args",
        "description": "Calculate a magic function.",
        "parameters": {"type": "object", "properties": {}},
    },
}
GET_WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather at a location.",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    },
}
ADDER = {
    "type": "function",
    "function": {
        "name": "my_adder_tool",
        "description": "Tool that adds two integers.",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        },
    },
}


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[MiMoContractServer]:
    with MiMoContractServer() as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_server(server: MiMoContractServer) -> None:
    server.reset()


@pytest.fixture
def client(server: MiMoContractServer) -> openai.OpenAI:
    return openai.OpenAI(
        api_key=server.api_key, base_url=server.base_url, max_retries=0, timeout=10
    )


@pytest.fixture(scope="module")
def videos() -> dict[str, bytes]:
    """Tiny synthetic videos, made once for the module."""
    return {
        "mp4": video_bytes(duration=2.0, fps=10),
        "mp4_audio": video_bytes(duration=2.0, fps=10, audio=True),
        "mp4_320": video_bytes(width=320, height=240, duration=1.0, fps=10),
        "blue": video_bytes(duration=1.0, fps=10, colors=["blue"]),
        "rgb": video_bytes(duration=3.0, fps=10, colors=["red", "green", "blue"]),
        "mov": video_bytes(duration=1.0, container="mov"),
        "avi": video_bytes(duration=1.0, container="avi"),
        "wmv": video_bytes(duration=1.0, container="wmv"),
        "mkv": video_bytes(duration=1.0, container="mkv"),
        "webm": video_bytes(duration=1.0, container="webm"),
    }


class _FileServer(ThreadingHTTPServer):
    """Serves in-memory files, like the public file host a video URL points to."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _FileHandler)
        self.files: dict[str, bytes] = {}
        self.hits: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _FileHandler(BaseHTTPRequestHandler):
    server: _FileServer

    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        if self.path == "/huge.mp4":  # declares more than 300 MB, sends almost nothing
            self.send_response(200)
            self.send_header("Content-Length", str(limits.MAX_URL_VIDEO_BYTES + 1))
            self.end_headers()
            self.wfile.write(b"\x00" * 16)
            return
        data = self.server.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def file_server() -> Iterator[_FileServer]:
    httpd = _FileServer()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


# -- helpers ------------------------------------------------------------------------------


def data_url(data: bytes, mime: str = "video/mp4") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def video_part(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "video_url", "video_url": {"url": url}, **extra}


def video_messages(part: dict[str, Any], question: str = QUESTION) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [part, {"type": "text", "text": question}]}]


def ask(client: openai.OpenAI, messages: Any, **kwargs: Any) -> Any:
    return client.chat.completions.create(
        model=kwargs.pop("model", MODEL), messages=messages, **kwargs
    )


def error_of(exc_info: pytest.ExceptionInfo[openai.APIStatusError]) -> dict[str, Any]:
    body: dict[str, Any] = exc_info.value.response.json()["error"]
    assert set(body) == {"code", "message", "param", "type"}
    assert body["code"] == str(exc_info.value.status_code)  # a string, like MiMo's
    return body


def post_raw(server: MiMoContractServer, body: bytes, **headers: str) -> httpx2.Response:
    headers.setdefault("Authorization", f"Bearer {server.api_key}")
    headers["Content-Type"] = "application/json"
    return httpx2.post(f"{server.base_url}/chat/completions", content=body, headers=headers)


def wav_bytes(seconds: float, rate: int = 16_000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * int(seconds * rate))
    return buffer.getvalue()


# -- auth, models, routes -----------------------------------------------------------------


def test_bearer_auth_and_model_list(client: openai.OpenAI) -> None:
    ids = [model.id for model in client.models.list()]
    assert ids == ["mimo-v2.5", "mimo-v2-omni", "mimo-v2.5-pro", "mimo-v2-pro", "mimo-v2-flash"]


def test_api_key_header_auth(server: MiMoContractServer) -> None:
    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "Hello"}]})
    response = post_raw(server, body.encode(), Authorization="", **{"api-key": server.api_key})
    assert response.status_code == 200
    assert response.json()["object"] == "chat.completion"


def test_wrong_key_is_401(server: MiMoContractServer) -> None:
    bad = openai.OpenAI(api_key="sk-wrong", base_url=server.base_url, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as exc_info:
        ask(bad, [{"role": "user", "content": "Hello"}])
    assert "invalid API key" in error_of(exc_info)["param"]


def test_missing_key_is_401(server: MiMoContractServer) -> None:
    response = httpx2.get(f"{server.base_url}/models")
    assert response.status_code == 401
    assert "api-key" in response.json()["error"]["param"]


def test_unknown_model_is_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as exc_info:
        ask(client, [{"role": "user", "content": "Hello"}], model="mimo-v9")
    assert "mimo-v9" in error_of(exc_info)["param"]


def test_unknown_route_and_bad_json(server: MiMoContractServer) -> None:
    headers = {"Authorization": f"Bearer {server.api_key}"}
    assert httpx2.get(f"{server.base_url}/nothing", headers=headers).status_code == 404
    response = post_raw(server, b"{not json")
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]["param"]


def test_video_to_text_only_model_is_404(client: openai.OpenAI, videos: dict[str, bytes]) -> None:
    # As live for image parts sent to mimo-v2.5-pro (see tests/mimo_server/README.md).
    with pytest.raises(openai.NotFoundError) as exc_info:
        ask(client, video_messages(video_part(data_url(videos["mp4"]))), model="mimo-v2-pro")
    param = error_of(exc_info)["param"]
    assert "No endpoints found that support video input" in param
    assert "does not accept video_url" in param


def test_unknown_top_level_fields_are_ignored(client: openai.OpenAI) -> None:
    result = ask(
        client, [{"role": "user", "content": "Hello"}], extra_body={"some_future_field": [1, 2]}
    )
    assert result.choices[0].finish_reason == "stop"


# -- video parts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "inside", "expected"),
    [
        ({"fps": 0.05}, {}, "fps: must be a number in [0.1, 10]"),
        ({"fps": 10.5}, {}, "fps: must be a number"),
        ({"fps": "2"}, {}, "fps: must be a number"),
        ({"fps": True}, {}, "fps: must be a number"),
        ({"media_resolution": "high"}, {}, "media_resolution: must be 'default' or 'max'"),
        ({}, {"fps": 2}, "video_url.fps: `fps` belongs beside `video_url`"),
        ({}, {"media_resolution": "max"}, "`media_resolution` belongs beside"),
    ],
)
def test_video_part_options_are_checked(
    client: openai.OpenAI,
    videos: dict[str, bytes],
    extra: dict[str, Any],
    inside: dict[str, Any],
    expected: str,
) -> None:
    part = video_part(data_url(videos["mp4"]), **extra)
    part["video_url"].update(inside)
    with pytest.raises(openai.BadRequestError) as exc_info:
        ask(client, video_messages(part))
    param = error_of(exc_info)["param"]
    assert param.startswith("messages[0].content[0]")
    assert expected in param


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("data:image/png;base64,AAAA", "MIME type 'image/png' is not a video type"),
        ("data:application/octet-stream;base64,AAAA", "is not a video type"),
        ("data:video/mp4;base64,not*base64!", "invalid base64"),
        ("data:video/mp4,AAAA", "data:<mime>;base64,<data>"),
        ("ftp://example.com/v.mp4", "must be http(s) or a base64 data URL"),
        (data_url(b"plain text, not a video"), "Multimodal data is corrupted"),
    ],
)
def test_video_url_is_checked(client: openai.OpenAI, url: str, expected: str) -> None:
    with pytest.raises(openai.BadRequestError) as exc_info:
        ask(client, video_messages(video_part(url)))
    assert expected in error_of(exc_info)["param"]


@pytest.mark.parametrize("container", ["mkv", "webm"])
def test_undocumented_containers_are_rejected(
    client: openai.OpenAI, videos: dict[str, bytes], container: str
) -> None:
    with pytest.raises(openai.BadRequestError) as exc_info:
        ask(client, video_messages(video_part(data_url(videos[container]))))
    param = error_of(exc_info)["param"]
    assert "Multimodal data is corrupted" in param
    assert "matroska" in param


@pytest.mark.parametrize("container", ["mov", "avi", "wmv"])
def test_documented_containers_are_accepted(
    client: openai.OpenAI, videos: dict[str, bytes], container: str
) -> None:
    result = ask(client, video_messages(video_part(data_url(videos[container]))))
    assert "Video 1: 1.0 s, 64x48, 2 frames sampled at 2 fps" in result.choices[0].message.content


def test_oversize_base64_is_rejected(server: MiMoContractServer) -> None:
    # Built as bytes directly: the size check comes before decoding, so "A"s will do.
    payload = b"A" * (limits.MAX_BASE64_BYTES + 4)
    body = (
        b'{"model":"mimo-v2.5","messages":[{"role":"user","content":[{"type":"video_url",'
        b'"video_url":{"url":"data:video/mp4;base64,' + payload + b'"}}]}]}'
    )
    response = post_raw(server, body)
    assert response.status_code == 400
    assert f"over the {limits.MAX_BASE64_BYTES}-byte limit" in response.json()["error"]["param"]


def test_url_video_is_downloaded(
    client: openai.OpenAI, videos: dict[str, bytes], file_server: _FileServer
) -> None:
    file_server.files["/clip.mp4"] = videos["mp4"]
    result = ask(client, video_messages(video_part(f"{file_server.url}/clip.mp4", fps=1)))
    assert "Video 1: 2.0 s, 64x48, 2 frames sampled at 1 fps" in result.choices[0].message.content
    assert "/clip.mp4" in file_server.hits


def test_url_download_stays_out_of_cassettes(
    client: openai.OpenAI, videos: dict[str, bytes], file_server: _FileServer, tmp_path: Path
) -> None:
    # The server runs in the test's process; its download must not be recorded by vcrpy.
    file_server.files["/taped.mp4"] = videos["mp4"]
    cassette = tmp_path / "cassette.yaml"
    with vcr.use_cassette(str(cassette), record_mode="all"):
        ask(client, video_messages(video_part(f"{file_server.url}/taped.mp4")))
    uris = [i["request"]["uri"] for i in yaml.safe_load(cassette.read_text())["interactions"]]
    assert [uri.rsplit("/", 2)[-2:] for uri in uris] == [["chat", "completions"]]
    assert "/taped.mp4" in file_server.hits


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/huge.mp4", f"over the {limits.MAX_URL_VIDEO_BYTES}-byte limit"), ("/gone.mp4", "HTTP 404")],
)
def test_url_video_failures(
    client: openai.OpenAI, file_server: _FileServer, path: str, expected: str
) -> None:
    with pytest.raises(openai.BadRequestError) as exc_info:
        ask(client, video_messages(video_part(file_server.url + path)))
    assert expected in error_of(exc_info)["param"]


def test_answer_names_the_dominant_colour(client: openai.OpenAI, videos: dict[str, bytes]) -> None:
    blue = ask(client, video_messages(video_part(data_url(videos["blue"]))))
    assert "no audio track, dominant colour blue." in blue.choices[0].message.content
    # 3 s at fps 2 samples 6 frames, two per colour slice.
    rgb = ask(client, video_messages(video_part(data_url(videos["rgb"]))))
    assert "Colours in order: red, green, blue." in rgb.choices[0].message.content


# -- images and audio ---------------------------------------------------------------------


def test_image_part(client: openai.OpenAI) -> None:
    content = [
        {"type": "image_url", "image_url": {"url": data_url(PNG, "image/png")}},
        {"type": "text", "text": "what is this"},  # 12 bytes -> 3 tokens
    ]
    result = ask(client, [{"role": "user", "content": content}])
    assert "Image 1: png" in result.choices[0].message.content
    assert result.usage.prompt_tokens == IMAGE_TOKENS + 3


def test_video_sent_as_image_is_400(client: openai.OpenAI, videos: dict[str, bytes]) -> None:
    for url in (data_url(videos["mp4"], "image/png"), data_url(videos["mp4"])):
        part = {"type": "image_url", "image_url": {"url": url}}
        with pytest.raises(openai.BadRequestError) as exc_info:
            ask(client, [{"role": "user", "content": [part]}])
        assert "invalid image format" in error_of(exc_info)["param"]


def test_input_audio(client: openai.OpenAI) -> None:
    part = {"type": "input_audio", "input_audio": {"data": data_url(wav_bytes(1.0), "audio/wav")}}
    result = ask(client, [{"role": "user", "content": [part]}])
    assert "Audio 1: 1.0 s." in result.choices[0].message.content
    # audio part of the formula for 1 s: spec = 24000 // 240 + 1 = 101; t = 100 // 2 + 1 = 51;
    # t = ceil(51 / 2) = 26; ceil(26 / 4) + 2 = 9.
    assert result.usage.prompt_tokens_details.audio_tokens == 9
    assert result.usage.prompt_tokens == 9


def test_input_audio_needs_a_url(client: openai.OpenAI) -> None:
    bare = base64.b64encode(wav_bytes(0.5)).decode()
    part = {"type": "input_audio", "input_audio": {"data": bare, "format": "wav"}}
    with pytest.raises(openai.BadRequestError) as exc_info:
        ask(client, [{"role": "user", "content": [part]}])
    assert "not bare base64" in error_of(exc_info)["param"]


# -- message quirks -----------------------------------------------------------------------


def _tool_history(**assistant: Any) -> list[dict[str, Any]]:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "my_adder_tool", "arguments": '{"a": 1, "b": 2}'},
    }
    return [
        {"role": "user", "content": "What is 1 + 2"},
        {"role": "assistant", "tool_calls": [call], **assistant},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"result": 3}'},
    ]


def test_assistant_tool_calls_with_null_content_is_400(client: openai.OpenAI) -> None:
    messages = _tool_history(content=None, reasoning_content="adding")
    with pytest.raises(openai.BadRequestError) as exc_info:
        ask(client, messages, tools=[ADDER])
    assert error_of(exc_info)["param"] == (
        "messages[1].content: `text` is not present (send '' instead of null)"
    )


def test_tool_message_with_image_is_400(client: openai.OpenAI) -> None:
    messages = _tool_history(content="", reasoning_content="adding")
    messages[2]["content"] = [
        {"type": "image_url", "image_url": {"url": data_url(PNG, "image/png")}}
    ]
    with pytest.raises(openai.BadRequestError) as exc_info:
        ask(client, messages, tools=[ADDER])
    assert "`text` is not set" in error_of(exc_info)["param"]


def test_reasoning_must_be_passed_back_while_thinking(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as exc_info:
        ask(client, _tool_history(content=""), tools=[ADDER])
    assert error_of(exc_info)["param"] == (
        "messages[1].reasoning_content: The reasoning_content in the thinking mode must be "
        "passed back to the API."
    )
    passed_back = ask(client, _tool_history(content="", reasoning_content="adding"), tools=[ADDER])
    assert passed_back.choices[0].finish_reason == "stop"
    thinking_off = ask(
        client,
        _tool_history(content=""),
        tools=[ADDER],
        extra_body={"thinking": {"type": "disabled"}},
    )
    assert thinking_off.choices[0].finish_reason == "stop"


def test_json_schema_response_format_is_not_documented(client: openai.OpenAI) -> None:
    response_format: Any = {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}
    with pytest.raises(openai.BadRequestError) as exc_info:
        ask(client, [{"role": "user", "content": "Hello"}], response_format=response_format)
    assert "'json_schema' is not supported" in error_of(exc_info)["param"]


# -- usage --------------------------------------------------------------------------------


# Worked by hand from the documented formula, for 64x48 videos:
#   2 s, fps 2, default: frames = ceil(2 * 2) = 4 (even, >= 2); budget = min(131072 * 1024
#     * 2 // 4, 300 * 1024) = 307200. round(48 / 32) = 2, round(64 / 32) = 2 -> 64x64 =
#     4096 < 8192, so grow: beta = sqrt(8192 / 3072) = 1.633; h = ceil(78.4 / 32) * 32 = 96,
#     w = ceil(104.5 / 32) * 32 = 128. grids = 2; per grid (96/16) * (128/16) / 4 = 12;
#     vision 24 + timestamps 2 * 3 = 6 + special 2 * 2 + 2 = 6 -> 36 video tokens.
#     With sound: spec = 48000 // 240 + 1 = 201; t = 200 // 2 + 1 = 101; t = ceil(101 / 2)
#     = 51; ceil(51 / 4) + 2 = 15 audio tokens.
#   2 s, fps 5, max: frames 10; budget clamps to 8388608; same 96x128 frames; grids 5 ->
#     vision 60 + timestamps 5 * 5 = 25 (fps > 2) + special 12 -> 97.
#   320x240, 1 s, fps 2: frames 2; round(7.5) = 8 -> 256, round(10) = 10 -> 320; 81920
#     pixels fit the budget; grids 1 -> 16 * 20 / 4 = 80 + 3 + 4 -> 87.
@pytest.mark.parametrize(
    ("video", "options", "video_tokens", "audio_tokens"),
    [
        ("mp4", {"fps": 2, "media_resolution": "default"}, 36, 0),
        ("mp4_audio", {}, 36, 15),
        ("mp4", {"fps": 5, "media_resolution": "max"}, 97, 0),
        ("mp4_320", {}, 87, 0),
    ],
)
def test_usage_follows_the_documented_formula(
    client: openai.OpenAI,
    videos: dict[str, bytes],
    video: str,
    options: dict[str, Any],
    video_tokens: int,
    audio_tokens: int,
) -> None:
    result = ask(client, video_messages(video_part(data_url(videos[video]), **options)))
    usage = result.usage
    assert usage.prompt_tokens_details.video_tokens == video_tokens
    assert usage.prompt_tokens_details.audio_tokens == audio_tokens
    assert usage.prompt_tokens == QUESTION_TOKENS + video_tokens + audio_tokens
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_cached_tokens_and_the_documented_overlap(
    client: openai.OpenAI, videos: dict[str, bytes]
) -> None:
    messages = video_messages(video_part(data_url(videos["mp4_audio"])))
    first = ask(client, messages).usage
    assert first.prompt_tokens_details.cached_tokens == 0
    again = ask(client, messages).usage
    details = again.prompt_tokens_details
    assert details.cached_tokens == again.prompt_tokens == first.prompt_tokens
    # As in MiMo's documented example, the details overlap: they may exceed prompt_tokens.
    assert details.cached_tokens + details.video_tokens + details.audio_tokens > again.prompt_tokens
    # A longer conversation that starts with the same message reuses that prefix.
    longer = [
        *messages,
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "more"},
    ]
    assert ask(client, longer).usage.prompt_tokens_details.cached_tokens == first.prompt_tokens


def test_text_and_completion_token_counts(client: openai.OpenAI) -> None:
    result = ask(
        client, [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]
    )
    usage = result.usage
    assert usage.prompt_tokens == 3 + 2  # ceil(9 / 4) + ceil(5 / 4)
    message = result.choices[0].message
    assert message.content.startswith("The request holds 2 messages of text and no media.")
    assert 'Question: "Hello".' in message.content
    # Word-ish tokens: "The request holds text only." is 6 tokens (5 words and a full stop).
    assert usage.completion_tokens_details.reasoning_tokens > 6
    assert usage.completion_tokens > usage.completion_tokens_details.reasoning_tokens


# -- reasoning, stop, length --------------------------------------------------------------


def test_reasoning_follows_the_thinking_switch(client: openai.OpenAI) -> None:
    hello = [{"role": "user", "content": "Hello"}]
    on = ask(client, hello).choices[0].message.model_dump()
    assert on["reasoning_content"].startswith('The user asks: "Hello".')
    off = ask(client, hello, extra_body={"thinking": {"type": "disabled"}})
    assert off.choices[0].message.model_dump().get("reasoning_content") is None
    assert off.usage.completion_tokens_details.reasoning_tokens == 0
    flash = ask(client, hello, model="mimo-v2-flash")  # thinking is off by default there
    assert flash.choices[0].message.model_dump().get("reasoning_content") is None
    with pytest.raises(openai.BadRequestError):
        ask(client, hello, extra_body={"thinking": {"type": "sometimes"}})


def test_stop_sequence_truncates_content(client: openai.OpenAI) -> None:
    result = ask(client, [{"role": "user", "content": "Hello"}], stop=["text"])
    choice = result.choices[0]
    assert choice.message.content == "The request holds 1 message of "
    assert choice.finish_reason == "stop"


def test_length_cap_covers_reasoning_and_answer(client: openai.OpenAI) -> None:
    hello = [{"role": "user", "content": "Hello"}]
    tiny = ask(client, hello, max_completion_tokens=4)
    message = tiny.choices[0].message.model_dump()
    assert tiny.choices[0].finish_reason == "length"
    assert message["content"] == ""  # only (truncated) reasoning, like MiMo
    assert message["reasoning_content"] == "The user asks:"
    assert tiny.usage.completion_tokens == 4

    full_reasoning = ask(client, hello).usage.completion_tokens_details.reasoning_tokens
    cut = ask(client, hello, max_completion_tokens=full_reasoning + 3)
    assert cut.choices[0].finish_reason == "length"
    assert cut.choices[0].message.content == "The request holds"
    assert cut.usage.completion_tokens == full_reasoning + 3


# -- streaming ----------------------------------------------------------------------------


def test_streaming_shape(client: openai.OpenAI) -> None:
    stream = ask(
        client,
        [{"role": "user", "content": "Write me 2 haikus."}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    deltas = [chunk.choices[0].delta.model_dump() for chunk in chunks if chunk.choices]
    reasoning = [i for i, d in enumerate(deltas) if d.get("reasoning_content")]
    content = [i for i, d in enumerate(deltas) if d.get("content")]
    assert len(reasoning) > 3
    assert len(content) > 3
    assert max(reasoning) < min(content)
    finish = chunks[-2]
    assert finish.choices[0].finish_reason == "stop"
    assert finish.usage is None
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.prompt_tokens == 5  # "Write me 2 haikus." is 18 bytes
    whole = ask(client, [{"role": "user", "content": "Write me 2 haikus."}])
    assert "".join(deltas[i]["content"] for i in content) == whole.choices[0].message.content
    assert last.usage.completion_tokens == whole.usage.completion_tokens


def test_raw_stream_ends_with_done_and_omits_usage_unless_asked(
    server: MiMoContractServer,
) -> None:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Hello"}], "stream": True}
    response = post_raw(server, json.dumps(body).encode())
    assert response.headers["content-type"] == "text/event-stream"
    events = [line[len("data: ") :] for line in response.text.splitlines() if line]
    assert events[-1] == "[DONE]"
    parsed = [json.loads(event) for event in events[:-1]]
    assert all("usage" not in event for event in parsed)
    assert parsed[-1]["choices"][0]["finish_reason"] == "stop"


# -- tools --------------------------------------------------------------------------------


def _only_call(result: Any) -> tuple[str, dict[str, Any]]:
    choice = result.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == ""
    (call,) = choice.message.tool_calls
    assert call.id.startswith("call_")
    return call.function.name, json.loads(call.function.arguments)


def test_tool_call_with_literal_arguments(client: openai.OpenAI) -> None:
    query = [{"role": "user", "content": "What is the value of magic_function(3)? Use the tool."}]
    assert _only_call(ask(client, query, tools=[MAGIC_FUNCTION])) == (
        "magic_function",
        {"input": 3},
    )
    no_args = [{"role": "user", "content": "What is magic_function_no_args()? Use the tool."}]
    both = [MAGIC_FUNCTION, MAGIC_NO_ARGS]
    assert _only_call(ask(client, no_args, tools=both)) == ("magic_function_no_args", {})


def test_tool_choice_named_and_required(client: openai.OpenAI) -> None:
    hello = [{"role": "user", "content": "Hello!"}]
    named: Any = {"type": "function", "function": {"name": "get_weather"}}
    tools = [MAGIC_FUNCTION, GET_WEATHER]
    assert _only_call(ask(client, hello, tools=tools, tool_choice=named)) == (
        "get_weather",
        {"location": "Hello!"},
    )
    assert _only_call(ask(client, hello, tools=tools, tool_choice="required")) == (
        "magic_function",
        {"input": 0},
    )
    sums = [{"role": "user", "content": "What is 3 + 4"}]
    assert _only_call(ask(client, sums, tools=[ADDER], tool_choice="required")) == (
        "my_adder_tool",
        {"a": 3, "b": 4},
    )


def test_tool_choice_auto_calls_only_a_mentioned_tool(client: openai.OpenAI) -> None:
    tools = [MAGIC_FUNCTION, GET_WEATHER]
    hello = ask(client, [{"role": "user", "content": "Hello!"}], tools=tools)
    assert hello.choices[0].message.tool_calls is None
    assert hello.choices[0].finish_reason == "stop"
    weather = [{"role": "user", "content": "What is the weather in San Francisco, CA?"}]
    assert _only_call(ask(client, weather, tools=tools)) == (
        "get_weather",
        {"location": "What is the weather in San Francisco, CA?"},
    )
    none = ask(client, weather, tools=tools, tool_choice="none")
    assert none.choices[0].message.tool_calls is None


def test_tool_results_are_answered_in_text(client: openai.OpenAI) -> None:
    result = ask(client, _tool_history(content="", reasoning_content="adding"), tools=[ADDER])
    content = result.choices[0].message.content
    assert content.startswith('The tool my_adder_tool returned: {"result": 3}.')
    assert "What is 1 + 2" in content


def test_unicode_and_schema_filled_arguments(client: openai.OpenAI) -> None:
    customer = {
        "type": "function",
        "function": {
            "name": "unicode_customer",
            "parameters": {
                "type": "object",
                "properties": {
                    "customer_name": {"type": "string"},
                    "description": {"type": "string"},
                },
                "required": ["customer_name", "description"],
            },
        },
    }
    text = "Create a customer named '你好啊集团' (Hello Group) - a Chinese technology company"
    forced_call = ask(
        client, [{"role": "user", "content": text}], tools=[customer], tool_choice="required"
    )
    assert _only_call(forced_call) == (
        "unicode_customer",
        {"customer_name": "你好啊集团", "description": text},
    )
    assert (
        "你好啊集团"
        in client.chat.completions.with_raw_response.create(
            model=MODEL, messages=[{"role": "user", "content": text}], tools=[customer]
        ).http_response.text
    )  # not \\u-escaped on the wire

    joke = {
        "type": "function",
        "function": {
            "name": "Joke",
            "description": "Joke to tell user.",
            "parameters": {
                "type": "object",
                "properties": {
                    "setup": {"type": "string"},
                    "punchline": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
                },
                "required": ["setup"],
            },
        },
    }
    forced: Any = {"type": "function", "function": {"name": "Joke"}}
    cats = [{"role": "user", "content": "Tell me a joke about cats."}]
    assert _only_call(ask(client, cats, tools=[joke], tool_choice=forced)) == (
        "Joke",
        {"setup": "Tell me a joke about cats."},
    )


def test_streamed_tool_call(client: openai.OpenAI) -> None:
    query = [{"role": "user", "content": "What is the value of magic_function(3)? Use the tool."}]
    chunks = list(ask(client, query, tools=[MAGIC_FUNCTION], stream=True))
    calls = [
        c.choices[0].delta.tool_calls[0]
        for c in chunks
        if c.choices and c.choices[0].delta.tool_calls
    ]
    assert calls[0].id.startswith("call_")
    assert calls[0].function.name == "magic_function"
    assert all(call.id is None and call.function.name is None for call in calls[1:])
    assert len(calls) > 2
    assert json.loads("".join(call.function.arguments for call in calls)) == {"input": 3}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


# -- JSON mode ----------------------------------------------------------------------------


def test_json_mode(client: openai.OpenAI) -> None:
    named = (
        "Tell me a joke about cats. Return the result as a JSON with 'setup' and "
        "'punchline' keys. Return nothing other than JSON."
    )
    fmt: Any = {"type": "json_object"}
    result = ask(client, [{"role": "user", "content": named}], response_format=fmt)
    assert json.loads(result.choices[0].message.content) == {"setup": named, "punchline": named}
    plain = ask(client, [{"role": "user", "content": "Answer in JSON."}], response_format=fmt)
    value = json.loads(plain.choices[0].message.content)
    assert value["question"] == "Answer in JSON."
    assert isinstance(value["observations"], list)


# -- faults -------------------------------------------------------------------------------

HELLO = [{"role": "user", "content": "Hello"}]


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("429", openai.RateLimitError),
        ("500", openai.InternalServerError),
        ("503", openai.InternalServerError),
        ("401", openai.AuthenticationError),
        ("402", openai.APIStatusError),
        ("403", openai.PermissionDeniedError),
    ],
)
def test_status_faults(
    server: MiMoContractServer, client: openai.OpenAI, kind: str, error: type[Exception]
) -> None:
    server.enqueue_fault(kind)
    with pytest.raises(error) as exc_info:
        ask(client, HELLO)
    assert isinstance(exc_info.value, openai.APIStatusError)
    assert exc_info.value.status_code == int(kind)
    assert error_of(exc_info)["param"] == f"injected fault {kind}"
    if kind == "429":
        assert exc_info.value.response.headers["Retry-After"] == "0"
    assert ask(client, HELLO).choices[0].finish_reason == "stop"  # one request per fault


def test_faults_are_consumed_in_order_and_retry_after_is_honoured(
    server: MiMoContractServer,
) -> None:
    server.enqueue_fault("429", retry_after=1, param="slow down")
    server.enqueue_fault("503")
    retrying = openai.OpenAI(api_key=server.api_key, base_url=server.base_url, max_retries=2)
    started = time.monotonic()
    assert ask(retrying, HELLO).choices[0].finish_reason == "stop"
    assert time.monotonic() - started >= 1.0
    assert [r.status for r in server.chat_requests] == [429, 503, 200]
    assert [r.fault for r in server.chat_requests] == ["429", "503", None]
    assert server.pending_faults == []


def test_reset_fault(server: MiMoContractServer, client: openai.OpenAI) -> None:
    server.enqueue_fault("reset")
    with pytest.raises(openai.APIConnectionError):
        ask(client, HELLO)
    assert server.chat_requests[0].status is None
    assert ask(client, HELLO).choices[0].finish_reason == "stop"


def test_stream_cut_fault(server: MiMoContractServer, client: openai.OpenAI) -> None:
    server.enqueue_fault("stream_cut")
    received = []
    with pytest.raises(openai.APIConnectionError):  # openai wraps the protocol error
        for chunk in ask(client, HELLO, stream=True, stream_options={"include_usage": True}):
            received.append(chunk)
    assert received  # it stopped mid-way...
    assert all(c.choices and c.choices[0].finish_reason is None for c in received)  # ...unfinished

    server.enqueue_fault("stream_cut")
    with pytest.raises(openai.APIConnectionError):
        ask(client, HELLO)  # a non-streamed body is cut in half


def test_slow_fault(server: MiMoContractServer, client: openai.OpenAI) -> None:
    server.enqueue_fault("slow", seconds=0.5)
    started = time.monotonic()
    assert ask(client, HELLO).choices[0].finish_reason == "stop"
    assert time.monotonic() - started >= 0.5
    server.enqueue_fault("slow", seconds=2)
    impatient = client.with_options(timeout=0.3)
    with pytest.raises(openai.APITimeoutError):
        ask(impatient, HELLO)


def test_fault_validation(server: MiMoContractServer) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        server.enqueue_fault("418")
    with pytest.raises(ValueError, match="takes no option"):
        server.enqueue_fault("slow", retry_after=1)


# -- request log, ids ---------------------------------------------------------------------


def test_request_log(
    server: MiMoContractServer, client: openai.OpenAI, videos: dict[str, bytes]
) -> None:
    assert server.requests == []
    client.models.list()
    ask(client, video_messages(video_part(data_url(videos["mp4"]), fps=1)))
    body = json.dumps({"model": MODEL, "messages": HELLO}).encode()
    post_raw(server, body, Authorization="", **{"api-key": server.api_key})
    models, chat, raw = server.requests
    assert (models.method, models.path, models.status, models.body) == (
        "GET",
        "/v1/models",
        200,
        None,
    )
    assert chat.path == "/v1/chat/completions"
    assert chat.headers["authorization"] == "Bearer REDACTED"
    part = chat.body["messages"][0]["content"][0]
    assert part["fps"] == 1
    assert part["video_url"]["url"].startswith("data:video/mp4;base64,")
    assert raw.headers["api-key"] == "REDACTED"
    assert server.api_key not in json.dumps([r.headers for r in server.requests])
    server.reset()
    assert server.requests == []


def test_ids_are_deterministic(client: openai.OpenAI) -> None:
    first, second = ask(client, HELLO), ask(client, HELLO)
    assert first.id == second.id
    int(first.id, 16)  # a bare hex string
    assert first.created == second.created
    assert first.choices[0].message.content == second.choices[0].message.content
    assert ask(client, [{"role": "user", "content": "Hey"}]).id != first.id


def test_standalone_entry_point() -> None:
    root = Path(__file__).resolve().parents[2]
    with subprocess.Popen(
        [sys.executable, "-m", "tests.mimo_server", "--port", "0", "--api-key", "cli-key"],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            base_url = line.split(" at ")[1].split()[0]
            response = httpx2.get(f"{base_url}/models", headers={"api-key": "cli-key"})
            assert response.status_code == 200
        finally:
            process.terminate()
