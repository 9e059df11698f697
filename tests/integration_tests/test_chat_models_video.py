"""Video end to end through ChatMiMo, the SDK, HTTP and SSE, replayed from cassettes.

At record time the local contract server decodes every video it gets and reports usage
with its own implementation of the documented formula, so comparing that usage with this
package's estimate is a real cross-check of two implementations.
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.messages.content import create_video_block

from langchain_mimo_video import ChatMiMo, VideoLoader
from langchain_mimo_video.media import probe
from langchain_mimo_video.tokens import explain_video_tokens
from tests.cassettes import recording
from tests.integration_tests.conftest import Target

pytestmark = pytest.mark.vcr

VIDEOS = Path(__file__).parents[1] / "data" / "videos"


@pytest.fixture(scope="module")
def files_url() -> Iterator[str]:
    """Base URL of a loopback file server for URL videos (a placeholder when replaying)."""
    if not recording():
        yield "http://127.0.0.1:1"  # replay never connects; cassettes store no port
        return
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(VIDEOS))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def llm(target: Target) -> ChatMiMo:
    return ChatMiMo(**target.chat_params(model="mimo-v2.5", max_tokens=400, max_retries=0))


def expected_tokens(path: Path, fps: float = 2, resolution: str = "default") -> tuple[int, int]:
    """(video, audio) tokens this package estimates for a committed test video."""
    info = probe(path)
    estimate = explain_video_tokens(
        info.duration, info.width, info.height, fps, resolution, mute=not info.has_audio
    )
    return estimate.total - estimate.audio, estimate.audio


def ask(video_part: dict, question: str = "What happens in this video?") -> list[HumanMessage]:
    return [HumanMessage(content=[video_part, {"type": "text", "text": question}])]


def test_url_video(llm: ChatMiMo, files_url: str) -> None:
    part = VideoLoader(fps=2).load(f"{files_url}/kitten.mp4")
    reply = llm.invoke(ask(part))
    assert "2.0 s, 160x90" in reply.content
    assert "with an audio track" in reply.content
    assert reply.usage_metadata is not None
    details = reply.usage_metadata["input_token_details"]
    assert (details["video"], details["audio"]) == expected_tokens(VIDEOS / "kitten.mp4")


@pytest.mark.parametrize("name", ["kitten.mp4", "clip.mov", "clip.avi", "clip.wmv"])
def test_local_files_in_each_documented_container(llm: ChatMiMo, name: str) -> None:
    path = VIDEOS / name
    info = probe(path)
    reply = llm.invoke(ask(VideoLoader().load(path)))
    assert f"{info.width}x{info.height}" in reply.content
    assert reply.usage_metadata is not None
    details = reply.usage_metadata["input_token_details"]
    assert (details["video"], details["audio"]) == expected_tokens(path)
    assert reply.usage_metadata["input_tokens"] > details["video"]  # plus the question


@pytest.mark.parametrize(("fps", "resolution"), [(0.5, "default"), (5, "max"), (10, "default")])
def test_fps_and_resolution_reach_mimo(llm: ChatMiMo, fps: float, resolution: str) -> None:
    path = VIDEOS / "traffic.mp4"
    reply = llm.invoke(ask(VideoLoader(fps=fps, media_resolution=resolution).load(path)))
    assert f"at {fps:g} fps, media_resolution {resolution}" in reply.content
    assert reply.usage_metadata is not None
    video_tokens = reply.usage_metadata["input_token_details"]["video"]
    assert video_tokens == expected_tokens(path, fps, resolution)[0]


def test_standard_video_block_with_extras(llm: ChatMiMo) -> None:
    import base64

    data = base64.b64encode((VIDEOS / "portrait.mp4").read_bytes()).decode()
    block = create_video_block(base64=data, mime_type="video/mp4", fps=1, media_resolution="max")
    reply = llm.invoke(ask(dict(block)))
    assert "90x160" in reply.content
    assert "at 1 fps, media_resolution max" in reply.content


def test_several_videos_and_an_image_in_one_message(llm: ChatMiMo) -> None:
    loader = VideoLoader(fps=1)
    image = _png_data_url()
    message = HumanMessage(
        content=[
            loader.load(VIDEOS / "clip.mov"),
            loader.load(VIDEOS / "portrait.mp4"),
            {"type": "image", "base64": image, "mime_type": "image/png"},
            {"type": "text", "text": "Compare the two videos and the picture."},
        ]
    )
    reply = llm.invoke([message])
    assert "Video 1: 1.0 s, 96x64" in reply.content
    assert "Video 2: 1.5 s, 90x160" in reply.content
    assert reply.usage_metadata is not None
    expected = expected_tokens(VIDEOS / "clip.mov", 1)[0]
    expected += expected_tokens(VIDEOS / "portrait.mp4", 1)[0]
    assert reply.usage_metadata["input_token_details"]["video"] == expected


def test_stream_with_reasoning(llm: ChatMiMo) -> None:
    chunks = list(llm.stream(ask(VideoLoader().load(VIDEOS / "traffic.mp4"))))
    reasoning = [c for c in chunks if c.additional_kwargs.get("reasoning_content")]
    text = [c for c in chunks if c.content]
    assert reasoning
    assert text
    assert chunks.index(reasoning[0]) < chunks.index(text[0])
    total: AIMessageChunk = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert "dominant colour" in total.content
    assert "Colours in order: red, yellow, green" in total.content
    assert total.usage_metadata is not None
    assert total.usage_metadata["output_token_details"]["reasoning"] > 0
    assert total.response_metadata["finish_reason"] == "stop"


def test_thinking_off_has_no_reasoning(target: Target) -> None:
    llm = ChatMiMo(**target.chat_params(thinking=False, max_retries=0))
    reply = llm.invoke(ask(VideoLoader().load(VIDEOS / "clip.avi")))
    assert "reasoning_content" not in reply.additional_kwargs
    assert reply.usage_metadata is not None
    assert reply.usage_metadata.get("output_token_details", {}).get("reasoning", 0) == 0


def test_small_cap_can_leave_only_reasoning(target: Target) -> None:
    llm = ChatMiMo(**target.chat_params(max_tokens=8, max_retries=0))
    reply = llm.invoke(ask(VideoLoader().load(VIDEOS / "clip.mov")))
    assert reply.response_metadata["finish_reason"] == "length"
    assert reply.content == ""
    assert reply.additional_kwargs["reasoning_content"]


async def test_async_and_batch(llm: ChatMiMo) -> None:
    loader = VideoLoader()
    inputs = [ask(await loader.aload(VIDEOS / name)) for name in ("clip.mov", "clip.avi")]
    replies = await llm.abatch(inputs)
    assert "96x64" in replies[0].content
    assert "96x64" in replies[1].content
    single, streamed = await asyncio.gather(
        llm.ainvoke(inputs[0], max_tokens=300),
        _astream_text(llm, inputs[1]),
    )
    assert "Video 1" in single.content
    assert "Video 1" in streamed


async def _astream_text(llm: ChatMiMo, messages: list[HumanMessage]) -> str:
    return "".join([str(c.content) async for c in llm.astream(messages, max_tokens=350)])


def test_reasoning_passes_back_over_a_tool_call_history(llm: ChatMiMo) -> None:
    from langchain_core.tools import tool

    @tool
    def get_weather(city: str) -> str:
        """Get the weather in a city."""
        return f"It is sunny in {city}."

    with_tools = llm.bind_tools([get_weather])
    question = HumanMessage("Use the weather tool for 'Paris', then tell me.")
    call = with_tools.invoke([question])
    assert isinstance(call, AIMessage)
    assert call.tool_calls
    assert call.additional_kwargs["reasoning_content"]
    result = get_weather.invoke(call.tool_calls[0])
    assert isinstance(result, ToolMessage)
    answer = with_tools.invoke([question, call, result])  # 400 if reasoning were dropped
    assert "sunny" in answer.content


def test_hand_written_tool_history_without_thinking(target: Target) -> None:
    llm = ChatMiMo(**target.chat_params(thinking=False, max_retries=0))
    history = [
        HumanMessage("What is 2 + 3? Use the adder."),
        AIMessage(content="", tool_calls=[{"name": "add", "args": {"a": 2, "b": 3}, "id": "c1"}]),
        ToolMessage(content="5", tool_call_id="c1"),
    ]
    reply = llm.invoke(history)
    assert "5" in reply.content


def _png_data_url() -> str:
    """A tiny PNG made with PyAV, as base64."""
    import base64
    import io

    import av
    import numpy as np

    frame = av.VideoFrame.from_ndarray(np.full((16, 16, 3), 200, dtype=np.uint8), format="rgb24")
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="image2pipe") as out:
        stream = out.add_stream("png", rate=1)
        stream.width = stream.height = 16
        stream.pix_fmt = "rgb24"
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return base64.b64encode(buffer.getvalue()).decode()


def test_image_and_audio_inputs(llm: ChatMiMo) -> None:
    """The standard suite's image and audio blocks, with generated media."""
    image = _png_data_url()
    wav = _wav_base64()
    for block in (
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{image}"}},
        {"type": "image", "base64": image, "mime_type": "image/png"},
        {"type": "audio", "base64": wav, "mime_type": "audio/wav"},
        {"type": "input_audio", "input_audio": {"data": wav, "format": "wav"}},
    ):
        reply = llm.invoke([HumanMessage(content=[{"type": "text", "text": "Describe:"}, block])])
        assert isinstance(reply.content, str)
        assert reply.content


def _wav_base64() -> str:
    """One second of a 440 Hz tone as a WAV file, base64."""
    import base64
    import io
    import math
    import struct
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        samples = (int(8000 * math.sin(2 * math.pi * 440 * i / 16000)) for i in range(16000))
        wav.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return base64.b64encode(buffer.getvalue()).decode()
