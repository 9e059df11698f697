"""The vector store kept in sync with LangChain's ``index()`` and a record manager.

A library folder is indexed, indexed again unchanged, with one video changed, and with
one deleted; the fake MiMo counts what each pass sends, the record manager and the
in-memory vector store show what each pass wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.indexing import InMemoryRecordManager, index
from langchain_core.vectorstores import InMemoryVectorStore

from langchain_mimo_video.description_cache import SQLiteDescriptionCache
from langchain_mimo_video.document_loaders import VideoDescriptionLoader
from tests.unit_tests.test_document_loaders import FakeMiMo
from tests.videos import make_video


class Library:
    """A folder of three videos of 2, 3 and 1 segments, a cache, a store and a record manager."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.cache = SQLiteDescriptionCache(folder.parent / "descriptions.sqlite")
        self.fake = FakeMiMo()
        self.store = InMemoryVectorStore(DeterministicFakeEmbedding(size=16))
        self.records = InMemoryRecordManager("videos")
        self.records.create_schema()
        make_video(folder / "a.mp4", duration=2.0, colors=["red", "green"])
        make_video(folder / "b.mp4", duration=3.0, colors=["yellow", "red", "green"])
        make_video(folder / "c.mp4", duration=1.0, colors=["green"])

    def index(self, cleanup: Any = "incremental") -> dict[str, int]:
        loader = VideoDescriptionLoader.from_directory(
            self.folder, llm=self.fake.chat(), cache=self.cache, segment_seconds=1
        )
        result = index(
            loader,
            self.records,
            self.store,
            cleanup=cleanup,
            source_id_key="source",
            key_encoder="sha256",
        )
        return dict(result)

    def sources(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for document in self.store.store.values():
            name = Path(document["metadata"]["source"]).name
            counts[name] = counts.get(name, 0) + 1
        return counts

    def texts(self, name: str) -> set[tuple[str, str, float]]:
        """Text, content hash and start of each stored document of one video."""
        return {
            (
                document["text"],
                document["metadata"]["content_sha256"],
                document["metadata"]["start"],
            )
            for document in self.store.store.values()
            if Path(document["metadata"]["source"]).name == name
        }


@pytest.fixture
def library(tmp_path: Path) -> Library:
    folder = tmp_path / "library"
    folder.mkdir()
    return Library(folder)


def test_indexing_an_unchanged_library_again_writes_nothing(library: Library) -> None:
    first = library.index()
    assert first == {"num_added": 6, "num_updated": 0, "num_skipped": 0, "num_deleted": 0}
    assert library.sources() == {"a.mp4": 2, "b.mp4": 3, "c.mp4": 1}
    sent = len(library.fake.bodies)
    assert sent == 6

    again = library.index()
    assert again == {"num_added": 0, "num_updated": 0, "num_skipped": 6, "num_deleted": 0}
    assert len(library.fake.bodies) == sent  # described from the cache: nothing sent


def test_a_changed_video_replaces_only_its_own_documents(library: Library) -> None:
    library.index()
    kept_a, kept_c = library.texts("a.mp4"), library.texts("c.mp4")
    old_b = library.texts("b.mp4")
    make_video(library.folder / "b.mp4", duration=2.0, colors=["green", "green"])  # new content

    result = library.index()
    assert result == {"num_added": 2, "num_updated": 0, "num_skipped": 3, "num_deleted": 3}
    assert library.sources() == {"a.mp4": 2, "b.mp4": 2, "c.mp4": 1}
    assert library.texts("a.mp4") == kept_a and library.texts("c.mp4") == kept_c
    assert library.texts("b.mp4").isdisjoint(old_b)
    assert len(library.fake.bodies) == 6 + 2  # only the changed video was described again


@pytest.mark.parametrize("cleanup", ["incremental", "full"])
def test_a_deleted_video_is_cleaned_up(library: Library, cleanup: str) -> None:
    library.index()
    (library.folder / "c.mp4").unlink()
    result = library.index(cleanup=cleanup)
    if cleanup == "full":
        assert result == {"num_added": 0, "num_updated": 0, "num_skipped": 5, "num_deleted": 1}
        assert library.sources() == {"a.mp4": 2, "b.mp4": 3}
    else:
        # incremental cleanup only looks at the sources of this pass; a deleted file yields
        # nothing, so its documents stay until a full pass
        assert result["num_deleted"] == 0 and library.sources()["c.mp4"] == 1
        assert library.index(cleanup="full")["num_deleted"] == 1
        assert "c.mp4" not in library.sources()


def test_a_deleted_and_replaced_video_is_cleaned_by_an_incremental_pass(library: Library) -> None:
    library.index()
    (library.folder / "c.mp4").unlink()
    make_video(library.folder / "c.mp4", duration=1.0, colors=["yellow"])  # same name, new video
    result = library.index()
    assert (result["num_added"], result["num_deleted"]) == (1, 1)
    assert library.sources() == {"a.mp4": 2, "b.mp4": 3, "c.mp4": 1}


def test_document_ids_are_stable_across_runs(library: Library) -> None:
    def load() -> list[Any]:
        return VideoDescriptionLoader.from_directory(
            library.folder, llm=library.fake.chat(), cache=library.cache, segment_seconds=1
        ).load()

    first, second = load(), load()
    assert [d.id for d in first] == [d.id for d in second]
    assert len({d.id for d in first}) == 6
    # add_documents with these ids upserts: a second add keeps one copy per segment
    library.store.add_documents(first)
    library.store.add_documents(second)
    assert len(library.store.store) == 6
