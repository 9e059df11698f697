"""The contract server's behaviours taken from third-party evidence about the live API.

Each test pins one row of the "Sources" table in ``tests/mimo_server/README.md``: the default
the server follows, and (for the points the evidence leaves open) every alternative
:class:`~tests.mimo_server.Behaviour` allows. They talk to the server through the raw
``openai`` client and raw HTTP, on loopback only.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import av
import httpx2
import numpy as np
import openai
import pytest

from tests.integration_tests.test_contract_server import GET_WEATHER as WEATHER
from tests.integration_tests.test_contract_server import PNG
from tests.mimo_server import Behaviour, MiMoContractServer
from tests.mimo_server import formula as server_formula
from tests.videos import video_bytes

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

MODEL = "mimo-v2.5"
HELLO = [{"role": "user", "content": "Hello"}]


@pytest.fixture(scope="module")
def server() -> Iterator[MiMoContractServer]:
    with MiMoContractServer(behaviour=Behaviour()) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(server: MiMoContractServer) -> None:
    server.reset()


def client_for(server: MiMoContractServer) -> openai.OpenAI:
    return openai.OpenAI(
        api_key=server.api_key, base_url=server.base_url, max_retries=0, timeout=10
    )


def post(server: MiMoContractServer, body: dict[str, Any], **headers: str) -> httpx2.Response:
    headers.setdefault("Authorization", f"Bearer {server.api_key}")
    return httpx2.post(f"{server.base_url}/chat/completions", json=body, headers=headers)


def data_url(data: bytes, mime: str = "video/mp4") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def error_param(response: httpx2.Response) -> str:
    param: str = response.json()["error"]["param"]
    return param


def tool_history(reasoning: object = "I will look it up.", *, drop: bool = False) -> list[Any]:
    """A thinking-mode history whose assistant turn carries tool calls."""
    assistant: dict[str, Any] = {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"location": "Paris"}'},
            }
        ],
    }
    if not drop:
        assistant["reasoning_content"] = reasoning
    return [
        {"role": "user", "content": "What is the weather in Paris?"},
        assistant,
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]


# -- models ------------------------------------------------------------------------------


def test_retired_omni_is_400_not_supported(server: MiMoContractServer) -> None:
    response = post(server, {"model": "mimo-v2-omni", "messages": HELLO})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "400",
        "message": "Param Incorrect",
        "param": "Not supported model mimo-v2-omni",
        "type": "",
    }
    # Still listed by default (whether the live list drops it is what doctor asks).
    ids = [m.id for m in client_for(server).models.list()]
    assert "mimo-v2-omni" in ids


def test_retired_models_are_configurable() -> None:
    with MiMoContractServer(retired_models=(), behaviour=Behaviour()) as alive:
        assert post(alive, {"model": "mimo-v2-omni", "messages": HELLO}).status_code == 200
    with MiMoContractServer(
        behaviour=Behaviour(), retired_models={"mimo-v2-omni", "mimo-v2-pro"}, list_retired=False
    ) as gone:
        assert post(gone, {"model": "mimo-v2-pro", "messages": HELLO}).status_code == 400
        ids = [m.id for m in client_for(gone).models.list()]
        assert ids == ["mimo-v2.5", "mimo-v2.5-pro", "mimo-v2-flash"]


@pytest.mark.parametrize("model", ["mimo-v2.5-pro", "mimo-v2-flash"])
@pytest.mark.parametrize(
    ("part", "medium"),
    [
        ({"type": "image_url", "image_url": {"url": data_url(PNG, "image/png")}}, "image"),
        ({"type": "video_url", "video_url": {"url": "https://example.invalid/v.mp4"}}, "video"),
        (
            {"type": "input_audio", "input_audio": {"data": "https://example.invalid/a.wav"}},
            "audio",
        ),
    ],
)
def test_media_for_text_only_models_is_404(
    server: MiMoContractServer, model: str, part: dict[str, Any], medium: str
) -> None:
    messages = [{"role": "user", "content": [part, {"type": "text", "text": "what is it?"}]}]
    response = post(server, {"model": model, "messages": messages})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "404"
    assert f"No endpoints found that support {medium} input" in error_param(response)
    assert server.requests[-1].status == 404


def test_text_only_media_status_can_be_400() -> None:
    with MiMoContractServer(behaviour=Behaviour(text_only_media_status=400)) as strict:
        part = {"type": "image_url", "image_url": {"url": data_url(PNG, "image/png")}}
        response = post(
            strict, {"model": "mimo-v2-flash", "messages": [{"role": "user", "content": [part]}]}
        )
        assert response.status_code == 400


# -- reasoning_effort ---------------------------------------------------------------------


@pytest.mark.parametrize("effort", ["low", "medium", "high", None])
def test_reasoning_effort_values_are_accepted(
    server: MiMoContractServer, effort: str | None
) -> None:
    response = post(server, {"model": MODEL, "messages": HELLO, "reasoning_effort": effort})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("effort", "status"), [("none", 400), ("minimal", 500), ("max", 400), (3, 400), ("", 400)]
)
def test_reasoning_effort_is_validated(
    server: MiMoContractServer, effort: object, status: int
) -> None:
    response = post(server, {"model": MODEL, "messages": HELLO, "reasoning_effort": effort})
    assert response.status_code == status
    assert "reasoning_effort" in error_param(response)
    assert "low, medium, high" in error_param(response) or status == 500


def test_reasoning_effort_set_is_configurable() -> None:
    with MiMoContractServer(behaviour=Behaviour(), reasoning_efforts={"high"}) as narrow:
        assert (
            post(
                narrow, {"model": MODEL, "messages": HELLO, "reasoning_effort": "high"}
            ).status_code
            == 200
        )
        refused = post(narrow, {"model": MODEL, "messages": HELLO, "reasoning_effort": "low"})
        assert refused.status_code == 400


# -- reasoning_content null or absent -------------------------------------------------------


@pytest.mark.parametrize("drop", [True, False])
def test_null_and_absent_reasoning_are_both_missing(server: MiMoContractServer, drop: bool) -> None:
    body = {"model": MODEL, "messages": tool_history(None, drop=drop), "tools": [WEATHER]}
    response = post(server, body)
    assert response.status_code == 400
    assert "must be passed back" in error_param(response)


@pytest.mark.parametrize("drop", [True, False])
def test_null_and_absent_reasoning_are_fine_without_thinking(
    server: MiMoContractServer, drop: bool
) -> None:
    body = {
        "model": MODEL,
        "messages": tool_history(None, drop=drop),
        "tools": [WEATHER],
        "thinking": {"type": "disabled"},
    }
    assert post(server, body).status_code == 200


@pytest.mark.parametrize(("mode", "present"), [("absent", False), ("null", True)])
def test_reasoning_when_thinking_is_off(mode: str, present: bool) -> None:
    with MiMoContractServer(behaviour=Behaviour(), reasoning_when_off=mode) as srv:
        body = {"model": MODEL, "messages": HELLO, "thinking": {"type": "disabled"}}
        message = post(srv, body).json()["choices"][0]["message"]
        assert ("reasoning_content" in message) is present
        assert message.get("reasoning_content") is None


# -- errors of streamed requests --------------------------------------------------------------


def test_streamed_request_error_is_an_sse_event(server: MiMoContractServer) -> None:
    body = {"model": MODEL, "messages": tool_history(drop=True), "tools": [WEATHER], "stream": True}
    response = post(server, body)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.startswith("data:{") and response.text.endswith("\n\n")
    envelope = json.loads(response.text[len("data:") :])
    assert envelope["error"]["code"] == "400"
    assert envelope["error"]["message"] == "Param Incorrect"
    assert "must be passed back" in envelope["error"]["param"]


def test_streamed_request_error_through_openai(server: MiMoContractServer) -> None:
    with pytest.raises(openai.BadRequestError) as exc_info:
        client_for(server).chat.completions.create(
            model=MODEL,
            messages=HELLO,  # type: ignore[arg-type]
            stream=True,
            extra_body={"reasoning_effort": "none"},
        )
    # The SDK cannot parse the framed body: it keeps the raw text, with no detail in str().
    body = exc_info.value.body
    assert isinstance(body, str) and body.startswith('data:{"error":{"code":"400"')
    assert "reasoning_effort" in body


@pytest.mark.parametrize(("mode", "status", "sse"), [("sse_200", 200, True), ("json", 400, False)])
def test_stream_error_framing_is_configurable(mode: str, status: int, sse: bool) -> None:
    with MiMoContractServer(behaviour=Behaviour(stream_errors=mode)) as srv:  # type: ignore[arg-type]
        body = {"model": MODEL, "messages": HELLO, "stream": True, "reasoning_effort": "none"}
        response = post(srv, body)
        assert response.status_code == status
        if sse:
            assert json.loads(response.text.removeprefix("data:"))["error"]["code"] == "400"
        else:
            assert response.json()["error"]["code"] == "400"


def test_unstreamed_and_auth_errors_stay_json(server: MiMoContractServer) -> None:
    body = {"model": MODEL, "messages": HELLO, "reasoning_effort": "none"}
    assert post(server, body).headers["content-type"] == "application/json"
    wrong = post(server, {**body, "stream": True}, Authorization="Bearer nope")
    assert wrong.status_code == 401
    assert wrong.headers["content-type"] == "application/json"


# -- alternatives the evidence allows (issue 15) -------------------------------------------------


def stream_events(response: httpx2.Response) -> list[dict[str, Any]]:
    lines = [line for line in response.text.splitlines() if line.startswith("data: {")]
    return [json.loads(line[len("data: ") :]) for line in lines]


@pytest.mark.parametrize("mode", ["separate", "finish"])
def test_usage_chunk_placement(mode: str) -> None:
    with MiMoContractServer(behaviour=Behaviour(usage_chunk=mode)) as srv:  # type: ignore[arg-type]
        body = {
            "model": MODEL,
            "messages": HELLO,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        events = stream_events(post(srv, body))
        with_usage = [e for e in events if e.get("usage")]
        assert len(with_usage) == 1
        carrier = with_usage[0]
        if mode == "separate":
            assert carrier["choices"] == [] and carrier is events[-1]
        else:
            assert carrier["choices"][0]["finish_reason"] == "stop" and carrier is events[-1]


@pytest.mark.parametrize(("mode", "status"), [("accept", 200), ("refuse", 400)])
def test_empty_reasoning_pass_back(mode: str, status: int) -> None:
    with MiMoContractServer(behaviour=Behaviour(empty_reasoning=mode)) as srv:  # type: ignore[arg-type]
        body = {"model": MODEL, "messages": tool_history(""), "tools": [WEATHER]}
        assert post(srv, body).status_code == status
        # A real reasoning string is accepted either way.
        assert post(srv, {**body, "messages": tool_history()}).status_code == 200


def clip_with_short_sound(seconds: float, sound_seconds: float) -> bytes:
    """An MP4 of ``seconds`` of 64x48 video whose AAC track stops after ``sound_seconds``."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as out:
        video = out.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        sound = out.add_stream("aac", rate=16_000)
        sound.layout = "mono"
        for index in range(round(seconds * 10)):
            pixels = np.full((48, 64, 3), index * 8 % 256, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 10)
            out.mux(video.encode(frame))
        out.mux(video.encode())
        size = sound.codec_context.frame_size or 1024
        for start in range(0, int(sound_seconds * 16_000), size):
            samples = np.zeros((1, size), dtype=np.float32)
            chunk = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            chunk.sample_rate, chunk.pts, chunk.time_base = 16_000, start, Fraction(1, 16_000)
            out.mux(sound.encode(chunk))
        out.mux(sound.encode())
    return buffer.getvalue()


@pytest.fixture(scope="module")
def short_sound() -> bytes:
    """3.0 s of video whose audio track stops at 1.5 s."""
    return clip_with_short_sound(3.0, 1.5)


@pytest.mark.parametrize("definition", ["video_stream", "container", "audio_stream"])
@pytest.mark.parametrize("special", [True, False])
def test_duration_definition_and_audio_special_tokens(
    short_sound: bytes, definition: str, special: bool
) -> None:
    container: Any
    with av.open(io.BytesIO(short_sound)) as container:
        picture, audio = container.streams.video[0], container.streams.audio[0]
        video_s = float(picture.duration * picture.time_base)
        audio_s = float(audio.duration * audio.time_base)
        container_s = container.duration / av.time_base
    expected = {"video_stream": video_s, "container": container_s, "audio_stream": audio_s}
    duration = expected[definition]
    behaviour = Behaviour(duration=definition, audio_special_tokens=special)  # type: ignore[arg-type]
    with MiMoContractServer(behaviour=behaviour) as srv:
        part = {"type": "video_url", "video_url": {"url": data_url(short_sound)}, "fps": 2}
        body = {"model": MODEL, "messages": [{"role": "user", "content": [part]}]}
        details = post(srv, body).json()["usage"]["prompt_tokens_details"]
    vision = server_formula.video_tokens(duration, 64, 48, 2, "default").total
    assert details["video_tokens"] == vision
    assert details["audio_tokens"] == server_formula.audio_tokens(duration, special=special)
    assert abs(audio_s - 1.5) < 0.1 and abs(video_s - 3.0) < 0.1  # the clip is what we think


@pytest.mark.parametrize(
    ("accepted", "bearer", "api_key"),
    [({"bearer", "api-key"}, 200, 200), ({"bearer"}, 200, 401), ({"api-key"}, 401, 200)],
)
def test_auth_headers(accepted: set[str], bearer: int, api_key: int) -> None:
    with MiMoContractServer(behaviour=Behaviour(), auth_headers=accepted) as srv:
        by_bearer = httpx2.get(
            f"{srv.base_url}/models", headers={"Authorization": f"Bearer {srv.api_key}"}
        )
        by_header = httpx2.get(f"{srv.base_url}/models", headers={"api-key": srv.api_key})
        assert (by_bearer.status_code, by_header.status_code) == (bearer, api_key)


@pytest.mark.parametrize(("fps_float", "status"), [(True, 200), (False, 400)])
def test_float_fps(fps_float: bool, status: int) -> None:
    clip = video_bytes(duration=1.0, fps=10)
    with MiMoContractServer(behaviour=Behaviour(fps_float=fps_float)) as srv:

        def ask(fps: float) -> int:
            part = {"type": "video_url", "video_url": {"url": data_url(clip)}, "fps": fps}
            return post(
                srv, {"model": MODEL, "messages": [{"role": "user", "content": [part]}]}
            ).status_code

        assert ask(1.5) == status
        assert ask(2) == 200 and ask(2.0) == 200


@pytest.mark.parametrize(
    ("field", "max_tokens", "max_completion_tokens"),
    [("both", 200, 200), ("max_completion_tokens", 400, 200), ("max_tokens", 200, 400)],
)
def test_output_cap_field(field: str, max_tokens: int, max_completion_tokens: int) -> None:
    with MiMoContractServer(behaviour=Behaviour(max_tokens_field=field)) as srv:  # type: ignore[arg-type]
        got = [
            post(srv, {"model": MODEL, "messages": HELLO, name: 5}).status_code
            for name in ("max_tokens", "max_completion_tokens")
        ]
        assert got == [max_tokens, max_completion_tokens]


def test_behaviour_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIMO_SERVER_USAGE_CHUNK", "finish")
    monkeypatch.setenv("MIMO_SERVER_AUTH_HEADERS", "bearer")
    monkeypatch.setenv("MIMO_SERVER_FPS_FLOAT", "no")
    monkeypatch.setenv("MIMO_SERVER_RETIRED_MODELS", "")
    monkeypatch.setenv("MIMO_SERVER_TEXT_ONLY_MEDIA_STATUS", "400")
    behaviour = Behaviour.from_env()
    assert behaviour.changed() == {
        "usage_chunk": "finish",
        "auth_headers": frozenset({"bearer"}),
        "fps_float": False,
        "retired_models": frozenset(),
        "text_only_media_status": 400,
    }
    with MiMoContractServer() as srv:  # the environment is the default
        assert srv.behaviour == behaviour
    with pytest.raises(TypeError, match="unknown behaviour option"):
        MiMoContractServer(usage_on="finish")
    monkeypatch.setenv("MIMO_SERVER_USAGE_CHUNK", "sometimes")
    with pytest.raises(ValueError, match="usage_chunk must be one of"):
        Behaviour.from_env()


def test_defaults_are_unchanged_by_an_empty_environment() -> None:
    assert Behaviour.from_env({}) == Behaviour()
    assert Behaviour().changed() == {}
