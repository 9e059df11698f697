"""Video by reference end to end: VideoLoader(store=...) parts through ChatMiMo(media_store=...).

Over the in-process transport (no sockets): what reaches the server, what is refused
before anything is sent, estimates from the store's metadata, and what the message
history, a LangGraph checkpointer and callbacks keep.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.load import dumpd
from langchain_core.messages import HumanMessage

from langchain_mimo_video import (
    ChatMiMo,
    TokenLimitError,
    UnsupportedContentError,
    VideoLoader,
    VideoSourceError,
)
from langchain_mimo_video.store import MediaStore, is_reference, reference_id
from tests.unit_tests.fake_transport import FakeMiMo, completion, error_body, stream_of
from tests.videos import make_video

KEY = "sk-unit-test-secret-0123456789abcdef"
QUESTION = {"type": "text", "text": "What happens?"}


@pytest.fixture
def video(tmp_path: Path) -> Path:
    return make_video(tmp_path / "clip.mp4", width=64, height=48, duration=2.0, audio=True)


@pytest.fixture
def store(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "store")


@pytest.fixture
def fake() -> FakeMiMo:
    return FakeMiMo().reply_json(completion(content="Seen."))


def model(fake: FakeMiMo, **kwargs: Any) -> ChatMiMo:
    return ChatMiMo(api_key=KEY, max_retries=0, **fake.clients(), **kwargs)


def ask(part: Any) -> list[HumanMessage]:
    return [HumanMessage(content=[part, QUESTION])]


# -- VideoLoader(store=...) --------------------------------------------------------------


def test_loader_with_a_store_returns_a_small_reference(video: Path, store: MediaStore) -> None:
    part: Any = VideoLoader(store=store, fps=1, media_resolution="max").load(video)
    assert is_reference(part)
    assert part["type"] == "video"
    assert part["mime_type"] == "video/mp4"
    assert part["extras"] == {"fps": 1.0, "media_resolution": "max"}
    assert len(json.dumps(part).encode()) < 1024
    inline = VideoLoader(fps=1, media_resolution="max").load(video)
    sent = base64.b64decode(inline["video_url"]["url"].split(",", 1)[1])
    with store.open(reference_id(part)) as file:
        assert file.read() == sent  # the store holds exactly the bytes inline would send


def test_loader_without_a_store_is_unchanged(video: Path) -> None:
    part = VideoLoader().load(video)
    assert part["type"] == "video_url"
    assert part["video_url"]["url"].startswith("data:video/mp4;base64,")


def test_loader_with_a_store_keeps_http_urls(store: MediaStore) -> None:
    part: Any = VideoLoader(store=store).load("https://example.com/clip.mp4")
    assert part["video_url"] == {"url": "https://example.com/clip.mp4"}


# -- sending -----------------------------------------------------------------------------


def test_reference_sends_what_inline_sends(video: Path, store: MediaStore, fake: FakeMiMo) -> None:
    reference = VideoLoader(store=store).load(video)
    inline = VideoLoader().load(video)
    reply = model(fake, media_store=store).invoke(ask(reference))
    model(fake).invoke(ask(inline))
    assert reply.content == "Seen."
    assert fake.seen[0].body == fake.seen[1].body
    assert int(fake.seen[0].headers["content-length"]) == len(
        json.dumps(fake.seen[1].body, ensure_ascii=False, separators=(",", ":")).encode()
    )


def test_stream_and_async_send_the_video(video: Path, store: MediaStore) -> None:
    import asyncio

    def streaming() -> FakeMiMo:  # one per client: a canned response is read only once
        return FakeMiMo().reply_stream(stream_of(completion(content="Streamed answer.")))

    reference = VideoLoader(store=store).load(video)
    inline = VideoLoader().load(video)
    sync, asynchronous, baseline = streaming(), streaming(), streaming()
    text = "".join(str(c.content) for c in model(sync, media_store=store).stream(ask(reference)))
    assert text == "Streamed answer."

    async def run() -> str:
        llm = model(asynchronous, media_store=store)
        return "".join([str(chunk.content) async for chunk in llm.astream(ask(reference))])

    assert asyncio.run(run()) == "Streamed answer."
    list(model(baseline).stream(ask(inline)))
    assert sync.seen[0].body == asynchronous.seen[0].body == baseline.seen[0].body
    assert sync.seen[0].body["stream"] is True


def test_retry_resends_the_whole_video(video: Path, store: MediaStore) -> None:
    fake = FakeMiMo()
    fake.reply_json(error_body(500, "busy", ""), status=500)
    fake.reply_json(completion(content="Second try."))
    reference = VideoLoader(store=store).load(video)
    llm = ChatMiMo(api_key=KEY, max_retries=1, media_store=store, **fake.clients())
    assert llm.invoke(ask(reference)).content == "Second try."
    assert len(fake.seen) == 2
    assert fake.seen[0].body == fake.seen[1].body
    url = fake.seen[1].body["messages"][0]["content"][0]["video_url"]["url"]
    assert url.startswith("data:video/mp4;base64,")


# -- refused before sending --------------------------------------------------------------


def test_reference_without_a_store_is_refused(
    video: Path, store: MediaStore, fake: FakeMiMo
) -> None:
    reference = VideoLoader(store=store).load(video)
    with pytest.raises(VideoSourceError, match="media_store="):
        model(fake).invoke(ask(reference))
    assert fake.seen == []


def test_store_folder_removed_between_load_and_invoke(
    video: Path, store: MediaStore, fake: FakeMiMo
) -> None:
    reference = VideoLoader(store=store).load(video)
    shutil.rmtree(store.root)
    with pytest.raises(VideoSourceError, match="not in the MediaStore"):
        model(fake, media_store=store).invoke(ask(reference))
    assert fake.seen == []


@pytest.mark.parametrize(
    "file_id", ["mimo-media:../../etc/passwd", "mimo-media:/etc/passwd", "mimo-media:" + "A" * 64]
)
def test_hand_written_reference_is_refused(store: MediaStore, fake: FakeMiMo, file_id: str) -> None:
    block = {"type": "video", "file_id": file_id, "mime_type": "video/mp4"}
    with pytest.raises(VideoSourceError, match="64 lowercase hex"):
        model(fake, media_store=store).invoke(ask(block))
    assert fake.seen == []


def test_other_file_ids_are_refused_as_before(store: MediaStore, fake: FakeMiMo) -> None:
    block = {"type": "video", "file_id": "file-abc123", "mime_type": "video/mp4"}
    with pytest.raises(UnsupportedContentError, match="file id"):
        model(fake, media_store=store).invoke(ask(block))
    assert fake.seen == []


# -- estimates from the store's metadata -------------------------------------------------


def test_estimates_use_the_stored_metadata(
    video: Path, store: MediaStore, fake: FakeMiMo, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = VideoLoader(store=store).load(video)
    inline = VideoLoader().load(video)
    llm = model(fake, media_store=store)
    expected = llm.estimate_request(ask(inline))

    def no_probe(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the video was decoded again")

    monkeypatch.setattr("langchain_mimo_video.media.probe", no_probe)
    estimate = llm.estimate_request(ask(reference))
    assert estimate.video_tokens == expected.video_tokens > 0
    assert estimate.audio_tokens == expected.audio_tokens > 0
    assert estimate.unmeasured == []
    assert llm.get_num_tokens_from_messages(ask(reference)) == estimate.input_tokens
    guarded = model(fake, media_store=store, max_input_tokens=expected.video_tokens // 2)
    with pytest.raises(TokenLimitError):
        guarded.invoke(ask(reference))
    assert fake.seen == []


# -- what stays small --------------------------------------------------------------------


def test_callbacks_receive_the_reference_not_the_video(
    video: Path, store: MediaStore, fake: FakeMiMo
) -> None:
    sizes: list[int] = []

    class Recorder(BaseCallbackHandler):
        def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
            sizes.append(len(json.dumps([[dumpd(m) for m in batch] for batch in messages])))

    reference = VideoLoader(store=store).load(video)
    model(fake, media_store=store).invoke(ask(reference), config={"callbacks": [Recorder()]})
    inline = VideoLoader().load(video)
    model(fake).invoke(ask(inline), config={"callbacks": [Recorder()]})
    assert sizes[0] < 2048 < sizes[1]


@pytest.mark.filterwarnings("ignore::langchain_core._api.LangChainDeprecationWarning")
def test_message_history_keeps_references(video: Path, store: MediaStore) -> None:
    from langchain_core.chat_history import InMemoryChatMessageHistory
    from langchain_core.runnables.history import RunnableWithMessageHistory

    fake = FakeMiMo().reply_json(completion(content="First.")).reply_json(completion("Second."))
    history = InMemoryChatMessageHistory()
    chain = RunnableWithMessageHistory(model(fake, media_store=store), lambda: history)
    reference = VideoLoader(store=store).load(video)
    chain.invoke(ask(reference))
    chain.invoke([HumanMessage(content="And then?")])
    assert len(json.dumps([dumpd(m) for m in history.messages])) < 4096
    # the second turn sends the video again, resolved from the store
    first, second = fake.seen
    assert second.body["messages"][0] == first.body["messages"][0]
    assert second.body["messages"][0]["content"][0]["video_url"]["url"].startswith("data:")


def test_langgraph_checkpoints_stay_small(video: Path, store: MediaStore) -> None:
    from langchain.agents import create_agent
    from langgraph.checkpoint.memory import InMemorySaver

    fake = FakeMiMo().reply_json(completion(content="Noted.", reasoning=None))
    saver = InMemorySaver()
    agent = create_agent(model(fake, media_store=store), tools=[], checkpointer=saver)
    config: Any = {"configurable": {"thread_id": "t"}}
    reference = VideoLoader(store=store).load(video)
    agent.invoke({"messages": ask(reference)}, config)
    agent.invoke({"messages": [HumanMessage(content="More?")]}, config)
    saved = saver.get_tuple(config)
    assert saved is not None
    _, data = saver.serde.dumps_typed(saved.checkpoint)
    assert len(data) < 8192
    assert fake.seen[1].body["messages"][0]["content"][0]["video_url"]["url"].startswith("data:")


# -- the pure layers ---------------------------------------------------------------------


def test_conversion_without_a_resolver_refuses_references(video: Path, store: MediaStore) -> None:
    from langchain_mimo_video._messages import messages_to_mimo
    from langchain_mimo_video.video import VideoDefaults

    reference = VideoLoader(store=store).load(video)
    with pytest.raises(VideoSourceError, match="no MediaStore was given"):
        messages_to_mimo(ask(reference), VideoDefaults())


def test_estimate_without_store_metadata_says_why(
    video: Path, store: MediaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langchain_mimo_video._estimate import estimate_request
    from langchain_mimo_video.errors import MediaError

    media_id = store.put(video)
    wire = [
        {
            "role": "user",
            "content": [{"type": "video_url", "video_url": {"url": f"mimo-media:{media_id}"}}],
        }
    ]
    unmeasured = estimate_request(wire).unmeasured
    assert len(unmeasured) == 1 and "no MediaStore" in unmeasured[0]

    def missing(*args: Any, **kwargs: Any) -> None:
        raise MediaError("PyAV is needed")

    monkeypatch.setattr("langchain_mimo_video.media.probe", missing)
    bare = MediaStore(store.root + "-bare")
    bare.put(video)
    estimate = estimate_request(wire, media_info=bare.info)
    assert estimate.video_tokens == 0
    assert "without PyAV" in estimate.unmeasured[0]
