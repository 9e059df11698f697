"""Timestamps you can trust: events placed in the video, corrections counted, deep links."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest

from langchain_mimo_video.document_loaders import VideoDescriptionLoader
from langchain_mimo_video.errors import EmptyDescriptionError, InvalidArgumentError
from langchain_mimo_video.events import (
    EVENTS_INSTRUCTION,
    events_from_metadata,
    events_to_json,
    media_fragment_url,
    place_events,
)
from tests.unit_tests.fake_transport import completion
from tests.unit_tests.test_document_loaders import USAGE, VIDEOS, FakeMiMo

TRAFFIC = VIDEOS / "traffic.mp4"

# ---------------------------------------------------------------------------
# place_events
# ---------------------------------------------------------------------------


def test_times_move_from_the_clip_into_the_video() -> None:
    placed = place_events(
        [
            {"start": 20, "end": 25, "description": " second "},
            {"start": 0.5, "end": 4, "description": "first"},
        ],
        130,
        160,
    )
    assert placed.events == [
        {"start": 130.5, "end": 134.0, "description": "first"},
        {"start": 150.0, "end": 155.0, "description": "second"},
    ]
    assert (placed.clamped, placed.dropped, placed.corrections) == (0, 0, 0)


def test_times_outside_the_segment_are_clamped_or_dropped() -> None:
    events: list[dict[str, Any]] = [
        {"start": -3, "end": 2, "description": "starts before the clip"},  # clamped
        {"start": 25, "end": 45, "description": "runs past its end"},  # clamped
        {"start": 31, "end": 40, "description": "after the clip"},  # dropped
        {"start": -9, "end": -1, "description": "before the clip"},  # dropped
        {"start": 9, "end": 7, "description": "reversed"},  # swapped: clamped
        {"start": "soon", "end": 1, "description": "not a time"},  # dropped
        {"end": 1, "description": "no start"},  # dropped
        {"start": 30.04, "end": 30.04, "description": "within jitter of the end"},  # kept
        {"start": float("nan"), "end": 1, "description": "nan"},  # dropped
    ]
    placed = place_events(events, 130, 160)
    assert placed.events == [
        {"start": 130.0, "end": 132.0, "description": "starts before the clip"},
        {"start": 137.0, "end": 139.0, "description": "reversed"},
        {"start": 155.0, "end": 160.0, "description": "runs past its end"},
        {"start": 160.0, "end": 160.0, "description": "within jitter of the end"},
    ]
    assert (placed.clamped, placed.dropped, placed.corrections) == (3, 5, 8)


def test_an_unknown_end_only_corrects_times_before_the_start() -> None:
    placed = place_events(
        [{"start": 5000, "end": 5001, "description": "late"}, {"start": -1, "end": 1}], 0, None
    )
    assert placed.events == [
        {"start": 0.0, "end": 1.0, "description": ""},
        {"start": 5000.0, "end": 5001.0, "description": "late"},
    ]
    assert placed.clamped == 1


@pytest.mark.parametrize(
    ("source", "start", "end", "expected"),
    [
        ("https://example.com/v.mp4", 130, 160, "https://example.com/v.mp4#t=130,160"),
        (
            "https://example.com/v.mp4?sig=1#old",
            1.5,
            2.25,
            "https://example.com/v.mp4?sig=1#t=1.5,2.25",
        ),
        ("HTTP://example.com/v.mp4", 0, None, "http://example.com/v.mp4#t=0"),
        ("https://example.com/v.mp4", 1 / 3, 2.0004, "https://example.com/v.mp4#t=0.333,2"),
    ],
)
def test_media_fragment_urls(source: str, start: float, end: float | None, expected: str) -> None:
    assert media_fragment_url(source, start, end) == expected


def test_local_paths_become_absolute_file_urls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my clips").mkdir()
    url = media_fragment_url("my clips/v.mp4", 130, 160)
    assert url == (tmp_path / "my clips" / "v.mp4").as_uri() + "#t=130,160"
    assert url.startswith("file:///") and "%20" in url


# ---------------------------------------------------------------------------
# The loader with events=True
# ---------------------------------------------------------------------------


class EventsFake(FakeMiMo):
    """Answers every request with a forced tool call carrying ``arguments``."""

    def __init__(self, arguments: dict[str, Any] | str) -> None:
        super().__init__()
        self.arguments = arguments

    def _response(self, name: str, question: dict[str, Any]) -> httpx2.Response:
        arguments = (
            self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)
        )
        call = {
            "id": "call_1",
            "type": "function",
            "function": {"name": "SegmentEvents", "arguments": arguments},
        }
        body = completion("", tool_calls=[call], finish_reason="tool_calls", usage=USAGE)
        return httpx2.Response(200, json=body)


def test_events_come_back_in_video_time_with_their_corrections() -> None:
    fake = EventsFake(
        {
            "summary": "A yellow screen.",
            "events": [
                {"start": 0.5, "end": 1.0, "description": "the screen is yellow"},
                {"start": 1.5, "end": 3.0, "description": "still yellow, past the clip"},
                {"start": 5.0, "end": 6.0, "description": "not in this clip"},
            ],
        }
    )
    loader = VideoDescriptionLoader([TRAFFIC], llm=fake.chat(), segment_seconds=2, events=True)
    documents = loader.load()
    middle = documents[1]  # 00:02-00:04

    assert events_from_metadata(middle.metadata) == [
        {"start": 2.5, "end": 3.0, "description": "the screen is yellow"},
        {"start": 3.5, "end": 4.0, "description": "still yellow, past the clip"},
    ]
    assert middle.metadata["event_corrections"] == 2
    assert (middle.metadata["events_clamped"], middle.metadata["events_dropped"]) == (1, 1)
    assert middle.page_content.splitlines() == [
        "A yellow screen.",
        "[00:02-00:03] the screen is yellow",
        "[00:03-00:04] still yellow, past the clip",
    ]
    assert middle.metadata["source_url"].endswith("traffic.mp4#t=2,4")
    # what was asked: a forced call of the events schema, with the time convention
    body = fake.bodies[1]
    assert [tool["function"]["name"] for tool in body["tools"]] == ["SegmentEvents"]
    assert body["tool_choice"]["function"]["name"] == "SegmentEvents"
    assert EVENTS_INSTRUCTION in body["messages"][0]["content"][1]["text"]
    assert events_from_metadata(documents[2].metadata) == [
        {"start": 4.5, "end": 5.0, "description": "the screen is yellow"},
        {"start": 5.5, "end": 6.0, "description": "still yellow, past the clip"},
    ]


def test_events_for_a_whole_video_are_checked_against_its_length() -> None:
    fake = EventsFake(
        {"summary": "Colours.", "events": [{"start": 5, "end": 9, "description": "green"}]}
    )
    (document,) = VideoDescriptionLoader([TRAFFIC], llm=fake.chat(), events=True).load()
    assert document.metadata["events"] == '[{"start":5.0,"end":6.0,"description":"green"}]'
    assert events_from_metadata(document.metadata) == [
        {"start": 5.0, "end": 6.0, "description": "green"}
    ]
    assert document.metadata["event_corrections"] == 1


async def test_async_events() -> None:
    fake = EventsFake({"summary": "Red.", "events": []})
    documents = await VideoDescriptionLoader(
        [TRAFFIC], llm=fake.chat(), segment_seconds=3, events=True
    ).aload()
    assert [d.page_content for d in documents] == ["Red.", "Red."]
    assert all(d.metadata["event_corrections"] == 0 for d in documents)


def test_an_answer_outside_the_schema_is_an_error() -> None:
    fake = EventsFake('{"summary": 3')  # cut short
    loader = VideoDescriptionLoader([TRAFFIC], llm=fake.chat(), events=True)
    with pytest.raises(EmptyDescriptionError, match="events schema"):
        loader.load()


def test_every_document_carries_a_deep_link() -> None:
    fake = FakeMiMo()
    url = "https://example.com/videos/match.mp4"
    documents = VideoDescriptionLoader([url, TRAFFIC], llm=fake.chat()).load()
    assert documents[0].metadata["source_url"] == url + "#t=0"  # length unknown
    assert documents[1].metadata["source_url"] == TRAFFIC.resolve().as_uri() + "#t=0,6"
    segments = VideoDescriptionLoader([TRAFFIC], llm=fake.chat(), segment_seconds=2).load()
    assert [d.metadata["source_url"].rsplit("#", 1)[1] for d in segments] == [
        "t=0,2",
        "t=2,4",
        "t=4,6",
    ]


# ---------------------------------------------------------------------------
# Metadata a vector store keeps
# ---------------------------------------------------------------------------

PRIMITIVES = (str, int, float, bool, type(None))
SEGMENT_EVENTS = {
    "summary": "A yellow screen.",
    "events": [
        {"start": 0.5, "end": 1.0, "description": "the screen is yellow, \u4e2d\u6587"},
        {"start": 1.5, "end": 3.0, "description": 'a "quoted" line'},
    ],
}


def test_event_documents_hold_only_primitive_metadata_and_read_back(tmp_path: Path) -> None:
    fake = EventsFake(SEGMENT_EVENTS)
    options: dict[str, Any] = {"segment_seconds": 2, "events": True, "cache": tmp_path / "c.db"}
    documents = VideoDescriptionLoader([TRAFFIC], llm=fake.chat(), **options).load()
    for document in documents:
        bad = {k: type(v).__name__ for k, v in document.metadata.items()}
        assert all(isinstance(v, PRIMITIVES) for v in document.metadata.values()), bad
    first = events_from_metadata(documents[0].metadata)
    assert first == [
        {"start": 0.5, "end": 1.0, "description": "the screen is yellow, \u4e2d\u6587"},
        {"start": 1.5, "end": 2.0, "description": 'a "quoted" line'},
    ]
    assert "\u4e2d" in documents[0].metadata["events"]  # readable JSON, not \\u escapes
    # a cached run gives the very same string: index() sees the documents unchanged
    again = VideoDescriptionLoader([TRAFFIC], llm=fake.chat(), **options).load()
    assert again == documents and len(fake.bodies) == 3


def test_event_documents_survive_a_vector_store_that_drops_complex_metadata() -> None:
    from langchain_core.embeddings import DeterministicFakeEmbedding
    from langchain_core.vectorstores import InMemoryVectorStore

    fake = EventsFake(SEGMENT_EVENTS)
    documents = VideoDescriptionLoader(
        [TRAFFIC], llm=fake.chat(), segment_seconds=2, events=True
    ).load()
    try:
        from langchain_community.vectorstores.utils import filter_complex_metadata
    except ImportError:  # the same rule, applied here: keep only primitive values
        filter_complex_metadata = None
    if filter_complex_metadata is not None:
        stored = filter_complex_metadata(documents)
    else:
        stored = [
            type(d)(
                id=d.id,
                page_content=d.page_content,
                metadata={k: v for k, v in d.metadata.items() if isinstance(v, PRIMITIVES)},
            )
            for d in documents
        ]
    assert [d.metadata for d in stored] == [d.metadata for d in documents]  # nothing dropped
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=16))
    store.add_documents(stored)
    for document in documents:
        (found,) = store.get_by_ids([document.id])
        assert found.metadata == document.metadata
        assert events_from_metadata(found.metadata) == events_from_metadata(document.metadata)
        assert len(events_from_metadata(found.metadata)) == 2
    assert events_from_metadata(documents[1].metadata)[0]["start"] == 2.5


def test_reading_events_back() -> None:
    events = [{"start": 1, "end": 2.5, "description": "x"}]
    text = events_to_json(events)
    assert text == '[{"start":1.0,"end":2.5,"description":"x"}]'
    expected = [{"start": 1.0, "end": 2.5, "description": "x"}]
    assert events_from_metadata({"events": text}) == expected
    assert events_from_metadata({"events": events}) == expected  # the older list form
    assert events_from_metadata({"source": "a.mp4"}) == []  # a document without events
    assert events_from_metadata({"events": "[]"}) == []


@pytest.mark.parametrize(
    "value", ["not json", '{"start": 1}', '[{"start": 1, "end": 2}]', '[{"start": "a"}]', 3]
)
def test_metadata_that_is_not_events_is_a_typed_error(value: Any) -> None:
    with pytest.raises(InvalidArgumentError, match=r'metadata\["events"\] must be the JSON'):
        events_from_metadata({"events": value})
