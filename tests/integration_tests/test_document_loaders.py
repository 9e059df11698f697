"""VideoDescriptionLoader end to end, replayed from cassettes: descriptions, segments, RAG.

Record against the local contract server with::

    MIMO_RECORD=all pytest tests/integration_tests/test_document_loaders.py

The contract server describes each video it gets by measuring it ("dominant colour red"),
so a segment's description says which third of ``traffic.mp4`` (red, yellow, green) it
holds, and retrieval over those descriptions can be checked for the right time range.
"""

from __future__ import annotations

import importlib.util
import math
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore

from langchain_mimo_video import ChatMiMo
from langchain_mimo_video.document_loaders import (
    DEFAULT_PROMPT,
    VideoDescriptionLoader,
    events_from_metadata,
)
from langchain_mimo_video.media import probe
from langchain_mimo_video.tokens import explain_video_tokens
from tests.integration_tests.conftest import Target

pytestmark = pytest.mark.vcr

VIDEOS = Path(__file__).parents[1] / "data" / "videos"


@pytest.fixture
def llm(target: Target) -> ChatMiMo:
    return ChatMiMo(**target.chat_params(model="mimo-v2.5", max_tokens=400, max_retries=0))


def expected_tokens(path: Path) -> tuple[int, int]:
    """(video, audio) tokens this package estimates for a committed video at fps 2."""
    info = probe(path)
    estimate = explain_video_tokens(
        info.duration, info.width, info.height, 2, "default", mute=not info.has_audio
    )
    return estimate.total - estimate.audio, estimate.audio


def test_a_folder_of_videos_becomes_documents(llm: ChatMiMo) -> None:
    loader = VideoDescriptionLoader.from_directory(VIDEOS, llm=llm, max_concurrency=3)
    documents = loader.load()

    names = [Path(d.metadata["source"]).name for d in documents]
    assert names == [
        "clip.avi",
        "clip.mov",
        "clip.wmv",
        "kitten.mp4",
        "portrait.mp4",
        "traffic.mp4",
    ]
    for document in documents:
        path = Path(document.metadata["source"])
        info = probe(path)
        text = document.page_content
        assert text.startswith(f"Video 1: {info.duration:.1f} s, {info.width}x{info.height}")
        assert "dominant colour" in text
        assert DEFAULT_PROMPT in text  # the server echoes the question it got
        metadata = document.metadata
        assert metadata["start"] == 0.0
        assert metadata["end"] == metadata["duration"] == pytest.approx(info.duration)
        assert metadata["time_range"] == f"00:00-00:{math.ceil(info.duration - 0.05):02d}"
        assert (metadata["fps"], metadata["media_resolution"]) == (2.0, "default")
        assert metadata["model"] == "mimo-v2.5"
        assert (metadata["video_tokens"], metadata["audio_tokens"]) == expected_tokens(path)
        assert metadata["input_tokens"] > metadata["video_tokens"]
        assert metadata["output_tokens"] > 0
        assert metadata["finish_reason"] == "stop"
    kitten = documents[names.index("kitten.mp4")]
    assert "Colours in order: white, blue" in kitten.page_content
    assert kitten.metadata["audio_tokens"] > 0


async def test_async_loading_gives_the_same_documents(llm: ChatMiMo) -> None:
    paths = [VIDEOS / "portrait.mp4", VIDEOS / "clip.mov"]
    documents = await VideoDescriptionLoader(paths, llm=llm, max_concurrency=2).aload()
    assert [Path(d.metadata["source"]).name for d in documents] == ["portrait.mp4", "clip.mov"]
    assert "90x160" in documents[0].page_content
    assert "dominant colour green" in documents[0].page_content
    assert "96x64" in documents[1].page_content


def traffic_segments(llm: ChatMiMo) -> list[Document]:
    loader = VideoDescriptionLoader(
        [VIDEOS / "traffic.mp4"], llm=llm, segment_seconds=2, max_concurrency=3
    )
    return loader.load()


def test_segments_describe_each_third_of_the_video(llm: ChatMiMo) -> None:
    documents = traffic_segments(llm)

    assert [d.metadata["time_range"] for d in documents] == [
        "00:00-00:02",
        "00:02-00:04",
        "00:04-00:06",
    ]
    colours = [re.search(r"dominant colour (\w+)", d.page_content) for d in documents]
    assert [match.group(1) if match else None for match in colours] == ["red", "yellow", "green"]
    for document in documents:
        assert "Colours in order" not in document.page_content  # one colour per segment
        assert document.page_content.startswith("Video 1: 2.0 s, ")
        assert document.metadata["video_tokens"] > 0
        assert document.metadata["duration"] == 6.0


def keyword_embeddings() -> Embeddings:
    """The RAG example's deterministic keyword embedding (examples/rag_video_library.py).

    Retrieval with it is keyword retrieval, which is enough to check that a question finds
    the segment whose description names what it asks about.
    """
    path = Path(__file__).parents[2] / "examples" / "rag_video_library.py"
    spec = importlib.util.spec_from_file_location("rag_video_library", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    embeddings: Embeddings = example.KeywordEmbeddings()
    return embeddings


def cite(documents: Sequence[Document]) -> str:
    """Retrieved segments as context lines, each headed by its file name and time range."""
    return "\n".join(
        f"[{Path(d.metadata['source']).name} {d.metadata['time_range']}] {d.page_content}"
        for d in documents
    )


def test_rag_over_segments_cites_the_right_time_range(llm: ChatMiMo) -> None:
    documents = traffic_segments(llm)
    documents += VideoDescriptionLoader([VIDEOS / "kitten.mp4"], llm=llm).load()
    store = InMemoryVectorStore.from_documents(documents, keyword_embeddings())
    retriever = store.as_retriever(search_kwargs={"k": 1})

    (found,) = retriever.invoke("When is the screen yellow?")
    assert Path(found.metadata["source"]).name == "traffic.mp4"
    assert found.metadata["time_range"] == "00:02-00:04"
    (found,) = retriever.invoke("Is anything blue?")
    assert Path(found.metadata["source"]).name == "kitten.mp4"

    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "Answer from the video notes only. Cite as [file mm:ss-mm:ss]."),
            ("human", "{question}\nNotes:\n{context}"),
        ]
    )
    chain = (
        {"context": retriever | cite, "question": RunnablePassthrough()}
        | prompt
        | llm
        | StrOutputParser()
    )
    answer = chain.invoke("When is the screen yellow?")
    # The contract server only measures and echoes; the citation reached the model.
    assert "[traffic.mp4 00:02-00:04]" in answer


def test_events_and_the_estimate_on_whole_videos(llm: ChatMiMo) -> None:
    paths = [VIDEOS / "kitten.mp4", VIDEOS / "clip.mov"]
    loader = VideoDescriptionLoader(paths, llm=llm, events=True)
    estimate = loader.estimate()
    documents = loader.load()

    assert estimate.requests == len(documents) == 2
    # the recorded usage is the server's own count by the documented formula
    assert estimate.video_tokens == sum(d.metadata["video_tokens"] for d in documents)
    assert estimate.audio_tokens == sum(d.metadata["audio_tokens"] for d in documents) > 0
    for path, document in zip(paths, documents, strict=True):
        metadata = document.metadata
        assert metadata["finish_reason"] == "tool_calls"  # the events schema was called
        assert DEFAULT_PROMPT in document.page_content  # the server's summary echoes the text
        assert isinstance(metadata["events"], str)  # a vector store keeps it
        assert isinstance(events_from_metadata(metadata), list)
        assert metadata["event_corrections"] == 0
        assert metadata["source_url"] == f"{path.resolve().as_uri()}#t=0,{metadata['end']:g}"
