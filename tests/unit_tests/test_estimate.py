"""Tests for request estimates: get_num_tokens_from_messages, cost, and the token guard."""

from __future__ import annotations

import base64
import functools
import http.server
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.tools import tool
from langchain_core.utils.function_calling import convert_to_openai_tool

from langchain_mimo_video import ChatMiMo, TokenLimitError, VideoLoader
from langchain_mimo_video._estimate import estimate_request, estimate_text_tokens
from langchain_mimo_video.media import probe
from langchain_mimo_video.tokens import ModelPrice, explain_video_tokens
from tests.loopback import serving, url_of
from tests.unit_tests.fake_transport import FakeMiMo, completion
from tests.videos import make_video

KEY = "sk-estimate-test-0123456789abcdef"


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return make_video(tmp_path / "clip.mp4", width=320, height=180, duration=3.0, audio=True)


def test_text_estimate() -> None:
    assert estimate_text_tokens("") == 0
    assert estimate_text_tokens("abcd") == 1
    assert estimate_text_tokens("abcde") == 2
    assert estimate_text_tokens("猫猫猫") == 3
    assert estimate_text_tokens("猫 cat") == 1 + 1


def test_video_is_counted_with_the_documented_formula(clip: Path) -> None:
    info = probe(clip)
    expected = explain_video_tokens(info.duration, 320, 180, fps=1, media_resolution="max")
    llm = ChatMiMo(api_key=KEY)
    message = HumanMessage(content=[VideoLoader(fps=1, media_resolution="max").load(clip), "?"])
    estimate = llm.estimate_request([message])
    assert estimate.video_tokens == expected.total - expected.audio
    assert estimate.audio_tokens == expected.audio > 0
    assert estimate.videos[0].tokens == expected
    assert estimate.input_tokens == estimate.video_tokens + expected.audio + estimate.text_tokens
    assert llm.get_num_tokens_from_messages([message]) == estimate.input_tokens


def test_silent_video_has_no_audio_tokens(tmp_path: Path) -> None:
    path = make_video(tmp_path / "mute.mp4", duration=2.0)
    estimate = ChatMiMo(api_key=KEY).estimate_request(
        [HumanMessage(content=[VideoLoader().load(path)])]
    )
    assert estimate.audio_tokens == 0
    assert estimate.video_tokens > 0


def test_model_defaults_apply_to_parts_without_their_own(clip: Path) -> None:
    part = VideoLoader().load(clip)
    del part["fps"]  # type: ignore[misc]
    low = ChatMiMo(api_key=KEY, video_fps=0.5).estimate_request([HumanMessage(content=[part])])
    high = ChatMiMo(api_key=KEY, video_fps=5).estimate_request([HumanMessage(content=[part])])
    assert low.video_tokens < high.video_tokens


def test_text_tools_and_images(clip: Path) -> None:
    @tool
    def lookup(query: str) -> str:
        """Look something up."""
        return query

    messages = [
        SystemMessage("Be brief."),
        HumanMessage(content=[{"type": "image_url", "image_url": {"url": "https://e/a.png"}}]),
    ]
    llm = ChatMiMo(api_key=KEY)
    plain = llm.get_num_tokens_from_messages(messages)
    with_tools = llm.get_num_tokens_from_messages(messages, tools=[lookup])
    assert with_tools > plain > 0
    estimate = llm.estimate_request(messages)
    assert estimate.unmeasured == ["an image (MiMo publishes no image token formula)"]


def test_tool_schemas_count_as_the_json_sent_not_pythons_repr() -> None:
    @tool
    def lookup(query: str, exact: bool = False, limit: int | None = None) -> str:
        """Look something up: «exact» matches only whole words."""
        return query

    schema = convert_to_openai_tool(lookup)
    sent = json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
    messages = [HumanMessage("Find it.")]
    llm = ChatMiMo(api_key=KEY)
    plain = llm.get_num_tokens_from_messages(messages)
    with_tools = llm.get_num_tokens_from_messages(messages, tools=[lookup])
    assert with_tools - plain == estimate_text_tokens(sent)
    # Python's repr (True, None, quotes and ", " everywhere) is a different, longer text
    assert estimate_text_tokens(str(schema)) != estimate_text_tokens(sent)


def test_audio_part_is_counted(clip: Path) -> None:
    data = base64.b64encode(clip.read_bytes()).decode()
    wire = [
        {
            "role": "user",
            "content": [
                {"type": "input_audio", "input_audio": {"data": f"data:audio/mp4;base64,{data}"}}
            ],
        }
    ]
    estimate = estimate_request(wire)
    assert estimate.audio_tokens == pytest.approx(3 * 6.25, abs=3)


def test_url_videos_are_probed_or_listed(clip: Path) -> None:
    message = HumanMessage(content=[VideoLoader().load("https://example.com/v.mp4")])
    estimate = ChatMiMo(api_key=KEY).estimate_request([message], probe_urls=False)
    assert estimate.video_tokens == 0
    assert estimate.unmeasured == ["the video at https://example.com/v.mp4 (URL probing is off)"]


@pytest.fixture
def served(clip: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(clip.parent))
    with serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)) as server:
        yield url_of(server, f"/{clip.name}")


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_url_video_is_probed(clip: Path, served: str) -> None:
    local = ChatMiMo(api_key=KEY).estimate_request(
        [HumanMessage(content=[VideoLoader().load(clip)])]
    )
    remote = ChatMiMo(api_key=KEY).estimate_request(
        [HumanMessage(content=[VideoLoader().load(served)])]
    )
    assert remote.video_tokens == local.video_tokens
    assert remote.audio_tokens == local.audio_tokens


def test_cost_from_the_price_table(clip: Path) -> None:
    estimate = ChatMiMo(api_key=KEY).estimate_request(
        [HumanMessage(content=[VideoLoader().load(clip)])]
    )
    tokens = estimate.input_tokens
    assert estimate.cost("mimo-v2.5") == pytest.approx(tokens * 1.0 / 1e6)
    assert estimate.cost("mimo-v2.5", output_tokens=1000) == pytest.approx(
        (tokens * 1.0 + 1000 * 2.0) / 1e6
    )
    custom = {"mimo-v2.5": ModelPrice(input=10, cached_input=1, output=20, currency="USD")}
    assert estimate.cost("mimo-v2.5", prices=custom) == pytest.approx(tokens * 10 / 1e6)
    with pytest.raises(KeyError, match="prices="):
        estimate.cost("another-model")


def test_token_guard_refuses_before_sending(clip: Path) -> None:
    fake = FakeMiMo().reply_json(completion())
    llm = ChatMiMo(api_key=KEY, max_input_tokens=50, max_retries=0, **fake.clients())
    message = HumanMessage(content=[VideoLoader(fps=4).load(clip), "What happens?"])
    with pytest.raises(TokenLimitError, match="lower fps") as caught:
        llm.invoke([message])
    assert fake.seen == []
    assert caught.value.limit == 50
    assert caught.value.estimated > 50
    assert "max_input_tokens=50" in str(caught.value)


async def test_token_guard_async(clip: Path) -> None:
    fake = FakeMiMo().reply_json(completion())
    llm = ChatMiMo(api_key=KEY, max_input_tokens=50, max_retries=0, **fake.clients())
    with pytest.raises(TokenLimitError):
        await llm.ainvoke([HumanMessage(content=[VideoLoader().load(clip)])])
    assert fake.seen == []


def test_token_guard_lets_a_fitting_request_through(clip: Path) -> None:
    fake = FakeMiMo().reply_json(completion(content="fine"))
    llm = ChatMiMo(api_key=KEY, max_input_tokens=100_000, max_retries=0, **fake.clients())
    assert llm.invoke([HumanMessage(content=[VideoLoader().load(clip)])]).content == "fine"
    assert len(fake.seen) == 1


def test_estimates_need_no_key(clip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIMO_API_KEY", raising=False)
    estimate = ChatMiMo().estimate_request([HumanMessage(content=[VideoLoader().load(clip)])])
    assert estimate.input_tokens > 0


@pytest.mark.parametrize("resolution", ["default", "max"])
def test_token_guard_suggests_default_resolution_only_when_it_is_not_already(
    clip: Path, resolution: str
) -> None:
    fake = FakeMiMo().reply_json(completion())
    llm = ChatMiMo(api_key=KEY, max_input_tokens=50, max_retries=0, **fake.clients())
    part = VideoLoader(fps=4, media_resolution=resolution).load(clip)
    with pytest.raises(TokenLimitError, match="lower fps") as caught:
        llm.invoke([HumanMessage(content=[part, "What happens?"])])
    suggests_default = "media_resolution='default'" in str(caught.value)
    assert suggests_default is (resolution == "max")


def test_the_guard_is_its_own_step_so_building_a_body_reads_nothing(clip: Path) -> None:
    llm = ChatMiMo(api_key=KEY, max_input_tokens=50)
    message = HumanMessage(content=[VideoLoader(fps=4).load(clip), "What happens?"])
    body = llm.request_body([message])  # no TokenLimitError: the builder does not probe
    assert body["messages"][0]["content"][0]["type"] == "video_url"
    assert not hasattr(llm, "_abuild_request")
    with pytest.raises(TokenLimitError):
        llm._check_token_limit(body, {})


def test_estimate_types_are_public() -> None:
    import langchain_mimo_video

    estimate = ChatMiMo().estimate_request([HumanMessage("hi")])
    assert isinstance(estimate, langchain_mimo_video.RequestEstimate)
    assert langchain_mimo_video.VideoEstimate.__name__ == "VideoEstimate"
