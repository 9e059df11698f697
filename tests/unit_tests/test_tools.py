"""Unit tests for WatchVideoTool over the in-process FakeMiMo transport (no sockets)."""

from __future__ import annotations

import base64
import os
import re
import socket
import threading
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, ToolMessage
from langchain_tests.unit_tests import ToolsUnitTests
from pydantic import ValidationError

from langchain_mimo_video import ChatMiMo, MissingAPIKeyError, VideoLoader
from langchain_mimo_video.media import probe
from langchain_mimo_video.store import MediaStore
from langchain_mimo_video.tools import DEFAULT_PROMPT, WatchVideoInput, WatchVideoTool
from tests.corpus import CORPUS, build
from tests.loopback import serving, url_of
from tests.unit_tests.by_reference import (
    ChatStarts,
    StreamingTransport,
    padded_video,
    use_temp_root,
)
from tests.unit_tests.fake_transport import FakeMiMo, completion, error_body, stream_of

VIDEOS = Path(__file__).parents[1] / "data" / "videos"
KEY = "sk-unit-test-key"
ANSWER = "A kitten walks across the frame at 00:01."
PUBLIC_IP = "93.184.215.14"


class TestWatchVideoToolStandard(ToolsUnitTests):
    """langchain-tests' unit suite."""

    @property
    def tool_constructor(self) -> type[WatchVideoTool]:
        return WatchVideoTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"llm": ChatMiMo(api_key=KEY), "allowed_dirs": [VIDEOS]}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"video": "kitten.mp4", "question": "What animal is in the video?", "fps": 1}


# -- helpers -------------------------------------------------------------------


@pytest.fixture
def fake() -> FakeMiMo:
    return FakeMiMo().reply_json(completion(ANSWER, reasoning="I look at the frames."))


def make_tool(fake: FakeMiMo, **kwargs: Any) -> WatchVideoTool:
    llm = ChatMiMo(api_key=KEY, max_retries=0, **fake.clients())
    kwargs.setdefault("allowed_dirs", [VIDEOS])
    return WatchVideoTool(llm=llm, **kwargs)


async def call(tool: WatchVideoTool, mode: str, args: dict[str, Any]) -> ToolMessage:
    """Invoke the tool the way an agent does (with a ToolCall), sync or async."""
    tool_call = {"type": "tool_call", "id": "call_1", "name": "watch_video", "args": args}
    result = tool.invoke(tool_call) if mode == "sync" else await tool.ainvoke(tool_call)
    assert isinstance(result, ToolMessage)
    return result


def sent_parts(fake: FakeMiMo) -> list[dict[str, Any]]:
    """The content parts of the user message of the last request."""
    messages = fake.last.body["messages"]
    assert messages[-1]["role"] == "user"
    parts: list[dict[str, Any]] = messages[-1]["content"]
    return parts


def resolve_to(monkeypatch: pytest.MonkeyPatch, address: str) -> list[str]:
    """Make every DNS lookup answer ``address``; returns the names looked up."""
    looked_up: list[str] = []

    def fake_getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        looked_up.append(host)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port or 443))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    return looked_up


MODES = pytest.mark.parametrize("mode", ["sync", "async"])


# -- arguments reach MiMo --------------------------------------------------------


@MODES
async def test_arguments_reach_mimo_as_a_video_part(fake: FakeMiMo, mode: str) -> None:
    tool = make_tool(fake)
    args = {"video": "kitten.mp4", "question": "What moves?", "fps": 1, "media_resolution": "max"}
    message = await call(tool, mode, args)
    assert message.status == "success"
    assert message.content == ANSWER
    body = fake.last.body
    assert body["messages"][0] == {"role": "system", "content": DEFAULT_PROMPT}
    video, text = sent_parts(fake)
    expected = VideoLoader(fps=1, media_resolution="max").load(VIDEOS / "kitten.mp4")
    assert video == dict(expected)
    assert video["fps"] == 1
    assert video["media_resolution"] == "max"
    assert text == {"type": "text", "text": "What moves?"}


async def test_tool_defaults_apply_when_the_agent_sets_nothing(fake: FakeMiMo) -> None:
    tool = make_tool(fake, fps=0.5, media_resolution="max", prompt="Answer in French.")
    await call(tool, "async", {"video": "clip.mov", "question": "Colours?"})
    assert fake.last.body["messages"][0] == {"role": "system", "content": "Answer in French."}
    video, _ = sent_parts(fake)
    assert (video["fps"], video["media_resolution"]) == (0.5, "max")


def test_empty_prompt_sends_no_system_message(fake: FakeMiMo) -> None:
    make_tool(fake, prompt="").invoke({"video": "clip.mov", "question": "Colours?"})
    assert [m["role"] for m in fake.last.body["messages"]] == ["user"]


@MODES
async def test_start_and_end_cut_the_local_file(fake: FakeMiMo, mode: str, tmp_path: Path) -> None:
    tool = make_tool(fake)
    args = {"video": "traffic.mp4", "question": "What changes?", "start": 2, "end": 4.5}
    await call(tool, mode, args)
    video, text = sent_parts(fake)
    clip = tmp_path / "sent.mp4"
    clip.write_bytes(base64.b64decode(video["video_url"]["url"].split(",", 1)[1]))
    assert probe(clip).duration == pytest.approx(2.5, abs=0.1)  # cut locally, 6 s -> 2.5 s
    assert text["text"].startswith("What changes?")
    assert "starts at 00:02 of the full video" in text["text"]


def test_a_public_url_is_sent_as_is_and_never_fetched(
    fake: FakeMiMo, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_up = resolve_to(monkeypatch, PUBLIC_IP)
    url = "https://videos.example.com/match.mp4?t=1"
    result = make_tool(fake).invoke({"video": url, "question": "Who wins?", "fps": 2})
    assert result == ANSWER
    video, _ = sent_parts(fake)
    assert video == {
        "type": "video_url",
        "video_url": {"url": url},
        "fps": 2,
        "media_resolution": "default",
    }
    assert looked_up == ["videos.example.com"]  # checked by name; sockets are disabled here


def test_allow_private_urls_sends_internal_urls(fake: FakeMiMo) -> None:
    tool = make_tool(fake, allow_private_urls=True)
    assert tool.invoke({"video": "http://localhost:8000/a.mp4", "question": "?"}) == ANSWER
    video, _ = sent_parts(fake)
    assert video["video_url"]["url"] == "http://localhost:8000/a.mp4"


# -- the result --------------------------------------------------------------------


@MODES
async def test_result_is_the_answer_text_without_reasoning(fake: FakeMiMo, mode: str) -> None:
    message = await call(make_tool(fake), mode, {"video": "clip.avi", "question": "What?"})
    assert message.content == ANSWER
    assert isinstance(message.content, str)
    assert "frames" not in message.content  # the reasoning stays out


def test_long_answers_are_truncated_with_a_marker() -> None:
    fake = FakeMiMo().reply_json(completion("0123456789" * 10))
    result = make_tool(fake, max_answer_chars=25).invoke({"video": "clip.avi", "question": "?"})
    assert result == "0123456789012345678901234\n[answer truncated: 75 more characters not shown]"


def test_short_answers_are_not_marked(fake: FakeMiMo) -> None:
    assert make_tool(fake, max_answer_chars=len(ANSWER)).invoke(
        {"video": "clip.avi", "question": "?"}
    ) == (ANSWER)
    assert make_tool(fake, max_answer_chars=None).invoke(
        {"video": "clip.avi", "question": "?"}
    ) == (ANSWER)


@MODES
async def test_reasoning_only_reply_says_the_cap_was_used_up(mode: str) -> None:
    fake = FakeMiMo().reply_json(
        completion("", reasoning="Let me count the frames...", finish_reason="length")
    )
    tool = make_tool(fake)
    tool.chat_model.max_tokens = 8
    message = await call(tool, mode, {"video": "clip.avi", "question": "What?"})
    assert message.status == "error"
    assert "MiMo gave no answer" in message.content
    assert "max_tokens=8" in message.content


def test_empty_reply_without_a_cap() -> None:
    fake = FakeMiMo().reply_json(completion(None, finish_reason="content_filter"))
    message = make_tool(fake).invoke({"video": "clip.avi", "question": "What?"})
    assert message == "MiMo gave no answer: the answer was withheld by MiMo's content filter."


# -- refusals ----------------------------------------------------------------------


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    """An allowed folder with a video, a video outside it, and tricks between them."""
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    secret = tmp_path / "secret.mp4"
    secret.write_bytes((VIDEOS / "clip.mov").read_bytes())
    (allowed / "ok.mov").write_bytes((VIDEOS / "clip.mov").read_bytes())
    (allowed / "escape.mp4").symlink_to(secret)
    (allowed / "folder").mkdir()
    (allowed / "loop").symlink_to(allowed / "loop")
    (tmp_path / "outside_loop").symlink_to(tmp_path / "outside_loop")
    (allowed / "notes.mp4").write_text("not a video at all")
    os.mkfifo(allowed / "pipe.mp4")
    return {"allowed": allowed, "secret": secret, "outside_loop": tmp_path / "outside_loop"}


PATH_REFUSALS: list[tuple[Callable[[dict[str, Path]], str], str]] = [
    (lambda d: str(d["secret"]), "is outside the folders"),
    (lambda d: "escape.mp4", "is outside the folders"),  # symlink out of the folder
    (lambda d: str(d["allowed"] / "escape.mp4"), "is outside the folders"),
    (lambda d: "../secret.mp4", "is outside the folders"),
    (lambda d: str(d["allowed"] / ".." / "secret.mp4"), "is outside the folders"),
    (lambda d: "../missing.mp4", "is outside the folders"),  # no existence oracle outside
    (lambda d: "/etc/passwd", "is outside the folders"),
    (lambda d: "missing.mp4", "no file 'missing.mp4'"),
    (lambda d: "folder", "not a regular file"),
    (lambda d: "pipe.mp4", "not a regular file"),  # never opened: reading would hang
    (lambda d: "loop", "cannot be opened"),
    (lambda d: str(d["outside_loop"]), "is outside the folders"),
    (lambda d: "../outside_loop", "is outside the folders"),
    (lambda d: "notes.mp4", "not a video container"),
    (lambda d: "ftp://example.com/a.mp4", "ftp: URLs are not supported"),
    (lambda d: "file:///etc/passwd", "file: URLs are not supported"),
    (lambda d: "FILE:/etc/passwd", "file: URLs are not supported"),
    (lambda d: "data:video/mp4;base64,AAAA", "data: URLs are not accepted"),
    (lambda d: "javascript:alert(1)", "javascript: URLs are not supported"),
    (lambda d: "http:///a.mp4", "not a valid http(s) URL"),
]


@MODES
@pytest.mark.parametrize(("video", "reason"), PATH_REFUSALS)
async def test_refusals_come_back_as_text_and_send_nothing(
    fake: FakeMiMo,
    layout: dict[str, Path],
    mode: str,
    video: Callable[[dict[str, Path]], str],
    reason: str,
) -> None:
    tool = make_tool(fake, allowed_dirs=[layout["allowed"]])
    message = await call(tool, mode, {"video": video(layout), "question": "What happens?"})
    assert message.status == "error"
    assert message.content.startswith("Cannot watch this video: ")
    assert reason in message.content
    assert str(layout["allowed"]) not in message.content.replace(video(layout), "")
    assert fake.seen == []


def test_symlinks_and_dots_inside_the_folder_are_fine(
    fake: FakeMiMo, layout: dict[str, Path]
) -> None:
    allowed = layout["allowed"]
    (allowed / "alias.mov").symlink_to(allowed / "ok.mov")
    tool = make_tool(fake, allowed_dirs=[allowed])
    for video in ("alias.mov", "folder/../ok.mov", str(allowed / "ok.mov")):
        assert tool.invoke({"video": video, "question": "?"}) == ANSWER
    assert len(fake.seen) == 3


def test_relative_paths_are_looked_up_in_each_allowed_folder(
    fake: FakeMiMo, layout: dict[str, Path]
) -> None:
    tool = make_tool(fake, allowed_dirs=[layout["allowed"], VIDEOS])
    assert tool.invoke({"video": "kitten.mp4", "question": "?"}) == ANSWER
    video, _ = sent_parts(fake)
    assert video["video_url"] == VideoLoader().load(VIDEOS / "kitten.mp4")["video_url"]


def test_no_local_files_without_allowed_dirs(fake: FakeMiMo) -> None:
    tool = make_tool(fake, allowed_dirs=())
    message = tool.invoke({"video": str(VIDEOS / "kitten.mp4"), "question": "?"})
    assert message == (
        "Cannot watch this video: this tool does not read local files; pass an http(s) URL."
    )
    assert fake.seen == []


@MODES
@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/a.mp4",
        "http://LOCALHOST./a.mp4",
        "http://127.0.0.1:8080/a.mp4",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/a.mp4",
        "http://[::ffff:127.0.0.1]/a.mp4",
        "https://10.0.0.7/a.mp4",
        "https://192.168.1.20/a.mp4",
        "http://[fd00:ec2::254]/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://0.0.0.0/a.mp4",
    ],
)
async def test_internal_urls_are_refused(
    fake: FakeMiMo, monkeypatch: pytest.MonkeyPatch, mode: str, url: str
) -> None:
    resolve_to(monkeypatch, "127.0.0.1")  # what /etc/hosts says of localhost; no DNS here
    message = await call(make_tool(fake), mode, {"video": url, "question": "?"})
    assert message.status == "error"
    assert message.content.startswith(f"Cannot watch this video: {url} does not point to a public")
    assert fake.seen == []


@MODES
async def test_a_url_whose_lookup_stalls_is_refused_within_the_models_timeout(
    fake: FakeMiMo, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    release = threading.Event()

    def stalled_getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        release.wait(20)  # only the tool's time limit can end the wait before this
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port or 443))]

    monkeypatch.setattr(socket, "getaddrinfo", stalled_getaddrinfo)
    llm = ChatMiMo(api_key=KEY, max_retries=0, timeout=0.5, **fake.clients())
    url = "https://stalled.example/a.mp4"
    try:
        message = await call(WatchVideoTool(llm=llm), mode, {"video": url, "question": "?"})
    finally:
        release.set()
    assert message.status == "error"
    assert message.content == (
        f"Cannot watch this video: the host of {url} did not resolve within 0.5 s, so it "
        "could not be checked. Try again later or pass another URL."
    )
    assert fake.seen == []


@MODES
@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1"])
async def test_names_resolving_to_internal_addresses_are_refused(
    fake: FakeMiMo, monkeypatch: pytest.MonkeyPatch, mode: str, address: str
) -> None:
    looked_up = resolve_to(monkeypatch, address)
    url = "https://innocent-looking.example.com/a.mp4"
    message = await call(make_tool(fake), mode, {"video": url, "question": "?"})
    assert message.status == "error"
    assert "does not point to a public internet address" in message.content
    assert address not in message.content  # internal addresses are not revealed
    assert looked_up == ["innocent-looking.example.com"]
    assert fake.seen == []


def test_names_that_do_not_resolve_are_refused(
    fake: FakeMiMo, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_dns(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    message = make_tool(fake).invoke({"video": "http://intranet.corp/a.mp4", "question": "?"})
    assert "does not point to a public internet address" in message
    assert fake.seen == []


@MODES
async def test_too_big_is_refused_from_stat_before_reading(
    fake: FakeMiMo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    big = tmp_path / "huge.mp4"
    with big.open("wb") as stream:
        stream.write((VIDEOS / "clip.mov").read_bytes())
        stream.truncate(2 * 1024**3)  # sparse: 2 GiB on paper, nothing on disk
    opened: list[str] = []
    real_open = Path.open

    def spy_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        opened.append(self.name)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy_open)
    tool = make_tool(fake, allowed_dirs=[tmp_path], max_file_bytes=10_000_000)
    tracemalloc.start()
    try:
        message = await call(tool, mode, {"video": "huge.mp4", "question": "?"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert message.status == "error"
    assert message.content == (
        "Cannot watch this video: 'huge.mp4' is 2147.5 MB, over this tool's limit of 10.0 MB "
        "for local files. Use a smaller file."
    )
    assert "huge.mp4" not in opened
    assert peak < 1_000_000
    assert fake.seen == []


def test_time_range_on_a_url_explains_what_to_do(
    fake: FakeMiMo, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolve_to(monkeypatch, PUBLIC_IP)
    message = make_tool(fake).invoke(
        {"video": "https://example.com/a.mp4", "question": "?", "start": 10, "end": 20}
    )
    assert message.startswith("Cannot watch this video: MiMo has no server-side start/end")
    assert "name the time range in your question" in message
    assert fake.seen == []


def test_token_limit_comes_back_with_advice(fake: FakeMiMo) -> None:
    tool = make_tool(fake)
    tool.chat_model.max_input_tokens = 20
    message = tool.invoke({"video": "traffic.mp4", "question": "What?", "fps": 10})
    assert message.startswith("Cannot watch this video: This request is estimated at")
    assert "lower fps" in message
    assert fake.seen == []


# -- errors that are not the agent's -----------------------------------------------


@MODES
async def test_missing_key_raises_before_any_work(
    fake: FakeMiMo, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.delenv("MIMO_API_KEY", raising=False)
    tool = WatchVideoTool(llm=ChatMiMo(**fake.clients()), allowed_dirs=[VIDEOS])
    with pytest.raises(MissingAPIKeyError, match="MIMO_API_KEY"):
        await call(tool, mode, {"video": "kitten.mp4", "question": "?"})
    assert fake.seen == []


def test_llm_is_built_lazily_so_no_key_is_needed_to_build_the_tool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MIMO_API_KEY", raising=False)
    tool = WatchVideoTool()
    assert tool.llm is None
    monkeypatch.setenv("MIMO_API_KEY", "sk-later")
    llm = tool.chat_model
    assert llm.api_key is not None
    assert llm.api_key.get_secret_value() == "sk-later"
    assert tool.chat_model is llm  # built once


@MODES
async def test_api_400_comes_back_to_the_agent(mode: str) -> None:
    fake = FakeMiMo().reply_json(
        error_body(400, "Param Incorrect", "Multimodal data is corrupted"), status=400
    )
    message = await call(make_tool(fake), mode, {"video": "clip.avi", "question": "?"})
    assert message.status == "error"
    assert message.content.startswith("MiMo could not answer about this video: MiMo API error 400")
    assert "Multimodal data is corrupted" in message.content


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, openai.AuthenticationError),
        (402, openai.APIStatusError),
        (403, openai.PermissionDeniedError),
        (404, openai.NotFoundError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
    ],
)
def test_deployment_api_errors_are_raised(status: int, error: type[Exception]) -> None:
    fake = FakeMiMo().reply_json(error_body(status, "nope", "detail"), status=status)
    with pytest.raises(error):
        make_tool(fake).invoke({"video": "clip.avi", "question": "?"})


def broken_answer(kind: str) -> FakeMiMo:
    """A server that answers badly: an HTML page, JSON without choices, or a cut stream."""
    fake = FakeMiMo()
    if kind == "html":
        fake.responses.append(
            httpx2.Response(
                200, text="<html>Bad gateway</html>", headers={"content-type": "text/html"}
            )
        )
    elif kind == "no choices":
        fake.reply_json({"id": "x", "object": "chat.completion", "created": 0, "model": "m"})
    else:
        fake.reply_stream(stream_of(completion(ANSWER))[:2], done=False)
    return fake


@MODES
@pytest.mark.parametrize("kind", ["html", "no choices", "cut stream"])
async def test_a_broken_answer_tells_the_agent_it_is_the_service_not_the_video(
    mode: str, kind: str
) -> None:
    # Before: "Cannot watch this video: ..." as if the video had been refused.
    fake = broken_answer(kind)
    llm = ChatMiMo(api_key=KEY, max_retries=0, streaming=kind == "cut stream", **fake.clients())
    tool = WatchVideoTool(llm=llm, allowed_dirs=[VIDEOS])
    message = await call(tool, mode, {"video": "clip.avi", "question": "?"})
    assert message.status == "error"
    assert message.content.startswith("MiMo's service failed to answer")
    assert "not a problem with the video" in message.content
    assert "Try again later" in message.content
    assert "Cannot watch this video" not in message.content
    assert len(fake.seen) == 1


def test_a_missing_key_still_raises_before_anything_is_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MIMO_API_KEY", raising=False)
    fake = broken_answer("html")
    tool = WatchVideoTool(llm=ChatMiMo(max_retries=0, **fake.clients()), allowed_dirs=[VIDEOS])
    with pytest.raises(MissingAPIKeyError):
        tool.invoke({"video": "clip.avi", "question": "?"})
    assert fake.seen == []


def test_errors_raise_when_handle_tool_error_is_off(fake: FakeMiMo) -> None:
    from langchain_core.tools import ToolException

    tool = make_tool(fake, handle_tool_error=False)
    with pytest.raises(ToolException, match="outside the folders"):
        tool.invoke({"video": "../x.mp4", "question": "?"})


# -- arguments and construction ---------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        {"video": "kitten.mp4", "question": "?", "fps": 20},
        {"video": "kitten.mp4", "question": "?", "fps": 0.05},
        {"video": "kitten.mp4", "question": "?", "media_resolution": "high"},
        {"video": "kitten.mp4", "question": "?", "start": 3, "end": 1},
        {"video": "kitten.mp4", "question": "?", "start": -1},
        {"video": "", "question": "?"},
        {"video": "kitten.mp4", "question": ""},
        {"question": "?"},
    ],
)
def test_bad_arguments_fail_validation(fake: FakeMiMo, args: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        make_tool(fake).invoke(args)
    with pytest.raises(ValidationError):
        WatchVideoInput(**args)
    assert fake.seen == []


class ScriptedModel(GenericFakeChatModel):
    """Replies from a script; takes tools like a real chat model (and ignores them)."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedModel:
        return self


def test_agents_get_bad_arguments_back_as_a_message(fake: FakeMiMo) -> None:
    from langchain.agents import create_agent

    bad = {"name": "watch_video", "args": {"video": "a.mp4", "question": "?", "fps": 99}}
    script = [AIMessage("", tool_calls=[{**bad, "id": "c1"}]), AIMessage("Sorry.")]
    agent = create_agent(ScriptedModel(messages=iter(script)), [make_tool(fake)])
    result = agent.invoke({"messages": [("user", "Watch a.mp4")]})
    message = result["messages"][2]
    assert isinstance(message, ToolMessage)
    assert message.status == "error"
    assert "fps" in message.content
    assert result["messages"][-1].content == "Sorry."
    assert fake.seen == []


def test_schema_the_model_sees() -> None:
    schema = WatchVideoTool().tool_call_schema.model_json_schema()
    assert schema["required"] == ["video", "question"]
    assert list(schema["properties"]) == [
        "video",
        "question",
        "fps",
        "media_resolution",
        "start",
        "end",
    ]
    fps = schema["properties"]["fps"]["anyOf"][0]
    assert (fps["minimum"], fps["maximum"]) == (0.1, 10)
    assert schema["properties"]["media_resolution"]["anyOf"][0]["enum"] == ["default", "max"]


def test_description_says_whether_local_files_are_available() -> None:
    assert "Local files are not available" in WatchVideoTool().description
    with_dirs = WatchVideoTool(allowed_dirs=[VIDEOS]).description
    assert "Local files are not available" not in with_dirs
    assert "local video file" in with_dirs
    assert WatchVideoTool(description="Mine.").description == "Mine."


def test_allowed_dirs_are_resolved_and_a_single_folder_is_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "videos").mkdir()
    assert WatchVideoTool(allowed_dirs="videos").allowed_dirs == (tmp_path / "videos",)
    assert WatchVideoTool(allowed_dirs=[Path("videos"), "."]).allowed_dirs == (
        tmp_path / "videos",
        tmp_path,
    )


def test_loader_or_loader_settings_not_both() -> None:
    loader = VideoLoader(fps=1)
    assert WatchVideoTool(loader=loader).video_loader is loader
    with pytest.raises(ValidationError, match="either loader= or fps="):
        WatchVideoTool(loader=loader, fps=3)


def test_loader_settings_are_validated() -> None:
    with pytest.raises(ValidationError, match="outside MiMo's range"):
        WatchVideoTool(fps=11)
    with pytest.raises(ValidationError):
        WatchVideoTool(media_resolution="huge")
    built = WatchVideoTool(fps=1, media_resolution="max", fit=False, max_file_bytes=5)
    loader = built.video_loader
    assert (loader.fps, loader.media_resolution, loader.fit, loader.max_bytes) == (
        1,
        "max",
        False,
        5,
    )


def test_a_custom_loader_is_used(fake: FakeMiMo) -> None:
    tool = make_tool(fake, loader=VideoLoader(fps=0.2, media_resolution="max"))
    tool.invoke({"video": "clip.avi", "question": "?"})
    video, _ = sent_parts(fake)
    assert (video["fps"], video["media_resolution"]) == (0.2, "max")


def test_mimo_call_is_traced_under_the_tool_run(fake: FakeMiMo) -> None:
    from langchain_core.callbacks import BaseCallbackHandler

    class Recorder(BaseCallbackHandler):
        def __init__(self) -> None:
            self.events: list[tuple[str, Any]] = []

        def on_tool_start(self, *args: Any, run_id: Any, **kwargs: Any) -> None:
            self.events.append(("tool", run_id))

        def on_chat_model_start(self, *args: Any, parent_run_id: Any, **kwargs: Any) -> None:
            self.events.append(("chat", parent_run_id))

    recorder = Recorder()
    make_tool(fake).invoke({"video": "clip.avi", "question": "?"}, config={"callbacks": [recorder]})
    (tool_event, tool_run), (chat_event, parent) = recorder.events
    assert (tool_event, chat_event) == ("tool", "chat")
    assert parent == tool_run


@pytest.mark.allow_hosts(["127.0.0.1"])
@pytest.mark.parametrize(("allow_private", "probed"), [(False, False), (True, True)])
def test_token_guard_probes_of_agent_urls_stay_public(
    fake: FakeMiMo, monkeypatch: pytest.MonkeyPatch, allow_private: bool, probed: bool
) -> None:
    """A name that passed the tool's check but resolves to loopback later is not fetched."""
    import http.server

    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_error(404)

        def log_message(self, *args: Any) -> None:
            pass

    monkeypatch.setattr(
        "langchain_mimo_video._tool_sources.check_public_url", lambda url, **limits: None
    )
    tool = make_tool(fake, allow_private_urls=allow_private)
    tool.chat_model.max_input_tokens = 100_000
    with serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as server:
        tool.invoke({"video": url_of(server, "/clip.mp4"), "question": "What?"})
    assert bool(hits) is probed
    assert len(fake.seen) == 1  # the request itself still went out


# -- arguments as people and agents write them -------------------------------------------


@pytest.mark.parametrize("fps", [True, "2", None])
def test_tool_fps_is_not_coerced(fps: object) -> None:
    # ChatMiMo and VideoLoader refuse these; pydantic used to turn them into 1.0 and 2.0.
    with pytest.raises(ValidationError, match="fps must be a number"):
        WatchVideoTool(llm=ChatMiMo(api_key=KEY), fps=fps)


@pytest.mark.parametrize("video", ["kitten\x00.mp4", "/etc/passwd\x00.mp4"])
async def test_odd_characters_in_a_path_are_refused_to_the_agent(
    fake: FakeMiMo, video: str
) -> None:
    tool = make_tool(fake)
    for mode in ("sync", "async"):
        result = await call(tool, mode, {"video": video, "question": "What is it?"})
        assert result.status == "error"
        assert result.content.startswith("Cannot watch this video: ")
    assert fake.seen == []


@pytest.mark.parametrize("name", ["ntsc-30", "vfr"])
async def test_tool_clips_ntsc_and_variable_rate_videos(
    fake: FakeMiMo, tmp_path: Path, name: str
) -> None:
    spec = next(spec for spec in CORPUS if spec.name == name)
    build(spec, tmp_path)
    tool = make_tool(fake, allowed_dirs=[tmp_path], fps=10)
    args = {"video": spec.filename, "question": "What is it?", "start": 0.1, "end": 0.5}
    result = await call(tool, "sync", args)
    assert result.status != "error", result.content
    assert result.content == ANSWER
    (part,) = [p for p in sent_parts(fake) if p["type"] == "video_url"]
    clip = base64.b64decode(part["video_url"]["url"].split(",", 1)[1])
    assert probe(clip).duration == pytest.approx(0.4, abs=1e-3)


# -- local videos go by reference ----------------------------------------------


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_temp_root(tmp_path, monkeypatch)


@MODES
async def test_the_llm_sees_a_reference_and_mimo_gets_the_whole_video(
    fake: FakeMiMo, mode: str, temp_root: Path
) -> None:
    recorder = ChatStarts(temp_root)
    tool_call = {
        "type": "tool_call",
        "id": "call_1",
        "name": "watch_video",
        "args": {"video": "kitten.mp4", "question": "What moves?"},
    }
    tool = make_tool(fake)
    config: Any = {"callbacks": [recorder]}
    if mode == "sync":
        message = tool.invoke(tool_call, config=config)
    else:
        message = await tool.ainvoke(tool_call, config=config)
    assert message.status == "success"
    video, _ = sent_parts(fake)
    assert video == dict(VideoLoader().load(VIDEOS / "kitten.mp4"))  # the full data URL
    (seen,) = recorder.messages
    assert "mimo-media:" in seen
    assert "base64" not in seen
    assert len(seen.encode()) < 2048
    # a temporary store existed while the model ran, and is gone once the call is over
    assert [name.startswith("mimo-video-tool-") for name in recorder.temp_during[0]] == [True]
    assert list(temp_root.iterdir()) == []


@MODES
async def test_the_temporary_store_is_removed_when_the_call_fails(
    mode: str, temp_root: Path
) -> None:
    fake = FakeMiMo().reply_json(
        error_body(400, "Param Incorrect", "Multimodal data is corrupted"), status=400
    )
    message = await call(make_tool(fake), mode, {"video": "clip.avi", "question": "?"})
    assert message.status == "error"
    assert len(fake.seen) == 1
    assert list(temp_root.iterdir()) == []


def test_a_store_given_to_the_tool_is_used_and_kept(fake: FakeMiMo, tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "store")
    recorder = ChatStarts()
    tool = make_tool(fake, store=store)
    tool.invoke({"video": "clip.mov", "question": "?"}, config={"callbacks": [recorder]})
    media_id = re.search(r"mimo-media:([0-9a-f]{64})", recorder.messages[0])
    assert media_id is not None
    with store.open(media_id[1]) as file:
        assert file.read() == (VIDEOS / "clip.mov").read_bytes()
    assert tool.llm is not None
    assert tool.llm.media_store is None  # the caller's model is not changed


def test_the_llm_store_is_used_when_the_tool_has_none(fake: FakeMiMo, tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "store")
    llm = ChatMiMo(api_key=KEY, max_retries=0, media_store=store, **fake.clients())
    WatchVideoTool(llm=llm, allowed_dirs=[VIDEOS]).invoke({"video": "clip.mov", "question": "?"})
    assert len(list((tmp_path / "store").rglob("*"))) > 0
    video, _ = sent_parts(fake)
    assert video["video_url"]["url"].startswith("data:video/quicktime;base64,")


def test_concurrent_calls_hold_no_data_urls_while_in_flight(tmp_path: Path) -> None:
    """N calls wait at the server at once; what the process holds then is measured."""
    calls, size = 4, 2_000_000
    video = padded_video(tmp_path / "big.mp4", size)
    data_url_chars = len(VideoLoader().load(video)["video_url"]["url"])
    arrived = threading.Barrier(calls, timeout=60)
    received: list[int] = []
    held: list[int] = []
    answer = httpx2.Response(200, json=completion(ANSWER))

    def reply(length: int) -> httpx2.Response:
        received.append(length)
        if len(received) == 1:
            return answer  # the warm-up call
        if arrived.wait() == 0:  # every call is now in flight, its body sent
            held.append(tracemalloc.get_traced_memory()[0])
        arrived.wait()
        return answer

    llm = ChatMiMo(
        api_key=KEY, max_retries=0, http_client=httpx2.Client(transport=StreamingTransport(reply))
    )
    tool = WatchVideoTool(llm=llm, allowed_dirs=[tmp_path])
    tool.invoke({"video": "big.mp4", "question": "?"})  # first-use imports are not the video
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        with ThreadPoolExecutor(calls) as pool:
            answers = list(
                pool.map(lambda _: tool.invoke({"video": "big.mp4", "question": "?"}), range(calls))
            )
    finally:
        tracemalloc.stop()
    assert answers == [ANSWER] * calls
    assert len(received) == calls + 1
    assert all(length > data_url_chars for length in received)  # each got the whole video
    # inline, each call would hold its data URL (and the body built from it) meanwhile
    assert held[0] - before < data_url_chars / 4
