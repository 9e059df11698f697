"""The per-segment step as one reusable callable (what Ray Data workers will run)."""

from __future__ import annotations

import pickle
from pathlib import Path

from langchain_mimo_video import ChatMiMo
from langchain_mimo_video._describe import Segment, SegmentDescriber
from langchain_mimo_video.description_cache import SQLiteDescriptionCache
from langchain_mimo_video.document_loaders import VideoDescriptionLoader
from tests.unit_tests.test_document_loaders import VIDEOS, FakeMiMo

TRAFFIC = VIDEOS / "traffic.mp4"


def test_the_describer_makes_the_loaders_documents(tmp_path: Path) -> None:
    fake = FakeMiMo()
    loader = VideoDescriptionLoader([TRAFFIC], llm=fake.chat(), segment_seconds=2)
    describer = loader.describer()
    segments = list(loader.plan())
    assert [s.segment_index for s in segments] == [0, 1, 2]
    one_by_one = [describer(segment) for segment in segments]
    assert one_by_one == loader.load()
    assert len(fake.bodies) == 6


def test_rows_round_trip_and_describe_row(tmp_path: Path) -> None:
    fake = FakeMiMo()
    loader = VideoDescriptionLoader([TRAFFIC], llm=fake.chat(), segment_seconds=3)
    segment = next(loader.plan())
    row = segment.to_row()
    assert row == {
        "source": str(TRAFFIC),
        "start": 0.0,
        "end": 3.0,
        "duration": 6.0,
        "segment_index": 0,
        "content_hash": segment.content_hash,
    }
    back = Segment.from_row(row)
    assert back.to_row() == row and back.where == segment.where  # paths travel as strings
    assert loader.describer().key(back) == loader.describer().key(segment)
    out = loader.describer().describe_row({**row, "extra": 1})
    assert out["extra"] == 1 and out["cached"] is False
    assert out["page_content"] == "Described clip of 3.0 s, red."
    assert out["metadata"]["time_range"] == "00:00-00:03"
    assert out["id"] == loader.describer().document_id(segment)


def test_a_pickled_describer_reads_the_shared_cache(tmp_path: Path) -> None:
    cache = SQLiteDescriptionCache(tmp_path / "c.sqlite")
    fake = FakeMiMo()
    VideoDescriptionLoader([TRAFFIC], llm=fake.chat(), cache=cache, segment_seconds=3).load()
    # a worker gets a copy of the step (no client, no connection): answers come from the cache
    describer = SegmentDescriber(
        ChatMiMo(api_key="k", base_url="http://127.0.0.1:9/v1", max_retries=0),
        VideoDescriptionLoader([TRAFFIC]).loader,
        VideoDescriptionLoader([TRAFFIC]).prompt,
        cache=cache,
    )
    copy = pickle.loads(pickle.dumps(describer))
    segments = list(VideoDescriptionLoader([TRAFFIC], segment_seconds=3).plan())
    rows = [copy.describe_row(segment.to_row()) for segment in segments]
    assert [row["cached"] for row in rows] == [True, True]
    assert [row["page_content"] for row in rows] == [
        "Described clip of 3.0 s, red.",
        "Described clip of 3.0 s, yellow.",
    ]
    assert "api_key" not in repr(copy) and "'k'" not in repr(copy)
