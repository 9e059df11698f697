"""Videos by reference through ChatMiMo, the SDK's raw content and HTTP, replayed from cassettes.

The store lives in a temporary folder; the request streams the stored video's base64 into
the body. Cassettes match bodies as parsed JSON with data URLs replaced by their SHA-256,
so a reference that replays proves the exact video bytes went out.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from langchain_mimo_video import ChatMiMo, VideoLoader
from langchain_mimo_video.media import probe
from langchain_mimo_video.store import MediaStore, is_reference
from langchain_mimo_video.tokens import explain_video_tokens
from tests.integration_tests.conftest import Target

pytestmark = pytest.mark.vcr

VIDEOS = Path(__file__).parents[1] / "data" / "videos"
QUESTION = {"type": "text", "text": "What happens in this video?"}


@pytest.fixture
def store(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "store")


def chat(target: Target, store: MediaStore) -> ChatMiMo:
    return ChatMiMo(
        **target.chat_params(model="mimo-v2.5", max_tokens=400, max_retries=0),
        media_store=store,
    )


def video_tokens(path: Path) -> tuple[int, int]:
    info = probe(path)
    estimate = explain_video_tokens(info.duration, info.width, info.height, 2, "default")
    return estimate.total - estimate.audio, estimate.audio


def test_reference_part_replayed(target: Target, store: MediaStore) -> None:
    part = VideoLoader(store=store).load(VIDEOS / "kitten.mp4")
    assert is_reference(part)
    reply = chat(target, store).invoke([HumanMessage(content=[part, QUESTION])])
    assert "2.0 s, 160x90" in reply.content
    assert "with an audio track" in reply.content
    assert reply.usage_metadata is not None
    details = reply.usage_metadata["input_token_details"]
    assert (details["video"], details["audio"]) == video_tokens(VIDEOS / "kitten.mp4")


def test_reference_and_inline_send_the_same_request(target: Target, store: MediaStore) -> None:
    """Two identical recorded requests: the inline part, then the reference."""
    path = VIDEOS / "clip.mov"
    inline = VideoLoader().load(path)
    reference = VideoLoader(store=store).load(path)
    llm = chat(target, store)
    first = llm.invoke([HumanMessage(content=[inline, QUESTION])])
    second = llm.invoke([HumanMessage(content=[reference, QUESTION])])
    assert first.content == second.content
    assert first.usage_metadata is not None and second.usage_metadata is not None
    assert first.usage_metadata["input_tokens"] == second.usage_metadata["input_tokens"]
    # the server's prompt cache found the whole second prompt already seen: the same request
    cached = second.usage_metadata["input_token_details"]["cache_read"]
    assert cached == second.usage_metadata["input_tokens"]


def test_reference_streamed_answer(target: Target, store: MediaStore) -> None:
    part = VideoLoader(store=store, fps=1).load(VIDEOS / "traffic.mp4")
    chunks = list(chat(target, store).stream([HumanMessage(content=[part, QUESTION])]))
    whole = chunks[0]
    for chunk in chunks[1:]:
        whole += chunk
    assert "at 1 fps" in str(whole.content)
    assert whole.usage_metadata is not None
    assert whole.usage_metadata["input_token_details"]["video"] > 0
