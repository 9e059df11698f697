"""Description caches: keys, the SQLite backend, LangChain caches, and the loader's resume.

The loader runs against the in-process fake of MiMo from ``test_document_loaders``, which
records every request it gets, so "0 requests" is counted, not assumed.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from langchain_core.caches import InMemoryCache

from langchain_mimo_video import VideoLoader
from langchain_mimo_video.description_cache import (
    LangChainDescriptionCache,
    SQLiteDescriptionCache,
    as_description_cache,
    description_key,
    file_fingerprint,
    file_sha256,
)
from langchain_mimo_video.document_loaders import VideoDescriptionLoader
from langchain_mimo_video.errors import VideoSourceError
from tests.unit_tests.test_document_loaders import VIDEOS, FakeMiMo
from tests.videos import make_video

REPO = Path(__file__).parents[2]

# ---------------------------------------------------------------------------
# Keys and hashes
# ---------------------------------------------------------------------------


def test_keys_change_with_every_part_and_ignore_float_noise() -> None:
    base: dict[str, Any] = {
        "content": "ab" * 32,
        "start": 0.0,
        "end": 30.0,
        "model": "mimo-v2.5",
        "fps": 2.0,
        "media_resolution": "default",
        "prompt": "Describe it.",
        "output": {"max_tokens": 400, "thinking": None, "temperature": None, "events": False},
    }
    key = description_key(**base)
    assert len(key) == 64 and int(key, 16) >= 0
    assert description_key(**{**base, "end": 30.0000001}) == key  # read back from JSON
    changes: list[dict[str, Any]] = [
        {"content": "cd" * 32},
        {"start": 1.0},
        {"end": 31.0},
        {"model": "MiMo-V2.5"},
        {"fps": 1.0},
        {"media_resolution": "max"},
        {"prompt": "Describe it!"},
        {"output": {**base["output"], "max_tokens": 401}},
        {"output": {**base["output"], "thinking": False}},
        {"output": {**base["output"], "temperature": 0.2}},
        {"output": {**base["output"], "events": True}},
    ]
    keys = {description_key(**{**base, **change}) for change in changes}
    assert key not in keys and len(keys) == len(changes)


def test_file_hash_is_the_sha256_of_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    data = bytes(range(256)) * 9000  # over one 1 MiB piece
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    path.write_bytes(data + b"!")  # a new version of the file is hashed again
    assert file_sha256(path) == hashlib.sha256(data + b"!").hexdigest()
    with pytest.raises(VideoSourceError, match="Cannot read"):
        file_sha256(tmp_path / "missing.mp4")


class ReadCounter:
    """Counts the bytes read from files opened in binary mode under ``folder``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
        self.bytes = 0
        self.opens = 0
        real_open = io.open
        counter = self

        class Counted(io.BufferedReader):
            def read(self, size: int | None = -1) -> bytes:
                piece = super().read(size)
                counter.bytes += len(piece)
                return piece

        def counting_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            stream = real_open(file, mode, *args, **kwargs)
            if "b" in mode and "r" in mode and str(file).startswith(str(folder)):
                counter.opens += 1
                return Counted(stream.detach())
            return stream

        monkeypatch.setattr(io, "open", counting_open)
        monkeypatch.setattr(builtins, "open", counting_open)


def settle(path: Path, seconds_ago: float = 3600.0) -> None:
    """Date the file's last change back, past the window in which a hash is not kept."""
    when = path.stat().st_mtime - seconds_ago
    os.utime(path, (when, when))


def settled_file(tmp_path: Path, size: int) -> tuple[Path, bytes]:
    """``library/a.mp4`` of ``size`` random bytes, last changed an hour ago."""
    path = tmp_path / "library" / "a.mp4"
    path.parent.mkdir()
    data = os.urandom(size)
    path.write_bytes(data)
    settle(path)
    return path, data


@pytest.mark.parametrize("backend", ["none", "sqlite", "langchain"])
def test_an_unchanged_file_is_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    path, data = settled_file(tmp_path, 3 << 20)
    cache: Any = {
        "none": None,
        "sqlite": SQLiteDescriptionCache(tmp_path / "c.sqlite"),
        "langchain": LangChainDescriptionCache(InMemoryCache()),
    }[backend]
    reads = ReadCounter(monkeypatch, tmp_path / "library")
    assert file_sha256(path, cache=cache) == hashlib.sha256(data).hexdigest()
    assert (reads.opens, reads.bytes) == (1, len(data))
    for _ in range(3):
        assert file_sha256(path, cache=cache) == hashlib.sha256(data).hexdigest()
    assert (reads.opens, reads.bytes) == (1, len(data))  # not opened again


def test_the_sqlite_cache_remembers_hashes_across_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, data = settled_file(tmp_path, 1 << 20)
    database = tmp_path / "c.sqlite"
    SQLiteDescriptionCache(database)
    hashed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from langchain_mimo_video.description_cache import *; "
            "print(file_sha256(sys.argv[1], cache=SQLiteDescriptionCache(sys.argv[2])))",
            str(path),
            str(database),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert hashed == hashlib.sha256(data).hexdigest()
    stored = sqlite3.connect(database).execute("SELECT path, sha256 FROM file_hashes").fetchall()
    assert stored == [(os.fspath(path.resolve()), hashed)]
    # This process never hashed the file: its answer comes from the table, unread.
    reads = ReadCounter(monkeypatch, tmp_path / "library")
    assert file_sha256(path, cache=SQLiteDescriptionCache(database)) == hashed
    assert reads.opens == 0


@pytest.mark.parametrize("backend", ["none", "sqlite"])
def test_a_modified_file_gets_a_new_hash(tmp_path: Path, backend: str) -> None:
    cache = None if backend == "none" else SQLiteDescriptionCache(tmp_path / "c.sqlite")
    path = tmp_path / "a.mp4"
    first, second = b"A" * 100_000, b"B" * 100_000  # a rewrite of the same size
    path.write_bytes(first)
    settle(path, 7200)
    assert file_sha256(path, cache=cache) == hashlib.sha256(first).hexdigest()
    path.write_bytes(second)
    settle(path, 3600)  # a new mtime, still long settled
    assert path.stat().st_size == len(first)
    assert file_sha256(path, cache=cache) == hashlib.sha256(second).hexdigest()
    # Content and mtime put back (rsync -t, touch -r): ctime still tells the versions apart.
    when = path.stat().st_mtime_ns
    path.write_bytes(first)
    os.utime(path, ns=(when, when))
    assert file_sha256(path, cache=cache) == hashlib.sha256(first).hexdigest()


def test_a_file_changed_moments_ago_is_hashed_each_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "library" / "a.mp4"
    path.parent.mkdir()
    path.write_bytes(b"x" * 1000)  # mtime: now, so a same-tick rewrite could follow
    reads = ReadCounter(monkeypatch, tmp_path / "library")
    file_sha256(path)
    file_sha256(path)
    assert reads.opens == 2


def test_fingerprints_name_the_file_version(tmp_path: Path) -> None:
    path = tmp_path / "a.mp4"
    path.write_bytes(b"1234")
    resolved, size, mtime, _ctime, inode, device = file_fingerprint(tmp_path / "." / "a.mp4")
    stat = path.stat()
    assert (resolved, size, mtime) == (os.fspath(path.resolve()), 4, stat.st_mtime_ns)
    assert (inode, device) == (stat.st_ino, stat.st_dev)


# ---------------------------------------------------------------------------
# Backends
# ---------------------------------------------------------------------------


def test_sqlite_cache_round_trip_wal_and_threads(tmp_path: Path) -> None:
    cache = SQLiteDescriptionCache(tmp_path / "sub" / "c.sqlite")
    assert cache.lookup("k") is None and "k" not in cache
    cache.update("k", {"text": "hello", "n": 1})
    assert cache.lookup("k") == {"text": "hello", "n": 1}
    cache.update("k", {"text": "again"})  # replaced, not duplicated
    assert len(cache) == 1

    def write(offset: int) -> None:
        for index in range(50):
            cache.update(f"t{offset}-{index}", {"text": str(index)})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 1 + 200
    mode = sqlite3.connect(cache.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


_WRITER = """
import sys
from langchain_mimo_video.description_cache import SQLiteDescriptionCache
cache = SQLiteDescriptionCache(sys.argv[1])
for index in range(100):
    cache.update(f"p{sys.argv[2]}-{index}", {"text": f"{sys.argv[2]}/{index}"})
"""


def test_sqlite_cache_is_safe_across_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite")
    SQLiteDescriptionCache(path)
    workers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, path, str(n)], cwd=REPO) for n in range(3)
    ]
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0, 0]
    cache = SQLiteDescriptionCache(path)
    assert len(cache) == 300
    assert cache.lookup("p1-99") == {"text": "1/99"}


def test_a_langchain_cache_plugs_in() -> None:
    backend = InMemoryCache()
    cache = as_description_cache(backend)
    assert isinstance(cache, LangChainDescriptionCache)
    cache.update("k", {"text": "hi", "events": [{"start": 1.0}]})
    assert cache.lookup("k") == {"text": "hi", "events": [{"start": 1.0}]}
    assert cache.lookup("other") is None


def test_what_cache_accepts(tmp_path: Path) -> None:
    assert as_description_cache(None) is None
    assert isinstance(as_description_cache(tmp_path / "x.sqlite"), SQLiteDescriptionCache)
    assert isinstance(as_description_cache(str(tmp_path / "y.sqlite")), SQLiteDescriptionCache)
    with pytest.raises(TypeError, match="LangChain BaseCache"):
        as_description_cache(42)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# The loader resumes
# ---------------------------------------------------------------------------


def described(loader: VideoDescriptionLoader) -> int:
    """How many of the loader's segments its cache describes."""
    describer = loader.describer()
    assert describer.cache is not None
    return sum(describer.key(segment) in describer.cache for segment in loader.plan())


def segments_loader(fake: FakeMiMo, sources: list[Path], cache: Any, **kwargs: Any) -> Any:
    options: dict[str, Any] = {"segment_seconds": 2, "max_concurrency": 2, **kwargs}
    llm = fake.chat(**options.pop("chat", {}))
    return VideoDescriptionLoader(sources, llm=llm, cache=cache, **options)


@pytest.mark.parametrize("backend", ["sqlite", "langchain"])
def test_a_second_run_sends_nothing_and_gives_the_same_documents(
    tmp_path: Path, backend: str
) -> None:
    cache: Any = tmp_path / "c.sqlite" if backend == "sqlite" else InMemoryCache()
    fake = FakeMiMo()
    first = segments_loader(fake, [VIDEOS / "traffic.mp4"], cache).load()
    assert len(fake.bodies) == 3
    again = segments_loader(fake, [VIDEOS / "traffic.mp4"], cache)
    second = again.load()
    assert len(fake.bodies) == 3  # nothing more was sent
    assert second == first  # ids, text and metadata
    assert again.last_run.cached == 3 and again.last_run.requests == 0


async def test_async_runs_use_the_cache_too(tmp_path: Path) -> None:
    fake = FakeMiMo()
    cache = SQLiteDescriptionCache(tmp_path / "c.sqlite")
    first = await segments_loader(fake, [VIDEOS / "traffic.mp4"], cache).aload()
    second = await segments_loader(fake, [VIDEOS / "traffic.mp4"], cache).aload()
    assert second == first
    assert len(fake.bodies) == 3


def test_moving_or_renaming_a_file_still_hits(tmp_path: Path) -> None:
    fake = FakeMiMo()
    cache = SQLiteDescriptionCache(tmp_path / "c.sqlite")
    original = shutil.copy(VIDEOS / "traffic.mp4", tmp_path / "traffic.mp4")
    first = segments_loader(fake, [Path(original)], cache).load()
    moved = tmp_path / "archive" / "renamed.mp4"
    moved.parent.mkdir()
    Path(original).rename(moved)
    second = segments_loader(fake, [moved], cache).load()
    assert len(fake.bodies) == 3
    assert [d.page_content for d in second] == [d.page_content for d in first]
    assert all(d.metadata["source"] == str(moved) for d in second)  # the new place
    assert all("archive/renamed.mp4#t=" in d.metadata["source_url"] for d in second)


@pytest.mark.parametrize(
    "change",
    [
        {"prompt": "Only colours."},
        {"chat": {"model": "MiMo-V2.5"}},
        {"chat": {"max_tokens": 77}},
        {"chat": {"thinking": False}},
        {"chat": {"temperature": 0.3}},
        {"loader": VideoLoader(fps=1)},
        {"loader": VideoLoader(media_resolution="max")},
        {"segment_seconds": 3},
    ],
    ids=["prompt", "model", "max_tokens", "thinking", "temperature", "fps", "resolution", "range"],
)
def test_changing_a_setting_describes_again(tmp_path: Path, change: dict[str, Any]) -> None:
    fake = FakeMiMo()
    cache = SQLiteDescriptionCache(tmp_path / "c.sqlite")
    segments_loader(fake, [VIDEOS / "traffic.mp4"], cache).load()
    sent = len(fake.bodies)
    documents = segments_loader(fake, [VIDEOS / "traffic.mp4"], cache, **change).load()
    assert len(fake.bodies) - sent == len(documents) > 0  # every segment sent again


def test_a_changed_video_is_described_again(tmp_path: Path) -> None:
    fake = FakeMiMo()
    cache = SQLiteDescriptionCache(tmp_path / "c.sqlite")
    path = make_video(tmp_path / "v.mp4", duration=1.0, colors=["red"])
    segments_loader(fake, [path], cache, segment_seconds=None).load()
    make_video(path, duration=1.0, colors=["blue"])  # same name, new content
    (document,) = segments_loader(fake, [path], cache, segment_seconds=None).load()
    assert len(fake.bodies) == 2
    assert document.metadata["content_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_each_segment_is_written_as_it_finishes(tmp_path: Path) -> None:
    fake = FakeMiMo()
    cache = SQLiteDescriptionCache(tmp_path / "c.sqlite")
    documents = segments_loader(fake, [VIDEOS / "traffic.mp4"], cache).lazy_load()
    next(documents)
    documents.close()  # stopped after the first document
    written = described(segments_loader(fake, [VIDEOS / "traffic.mp4"], cache))
    assert written == len(fake.bodies) >= 1  # every answer that came back is kept
    loader = segments_loader(fake, [VIDEOS / "traffic.mp4"], cache)
    loader.load()
    assert len(fake.bodies) == 3  # the second run sent only the rest
    assert described(loader) == 3


def test_a_finished_run_does_not_open_the_videos_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import langchain_mimo_video.media as media

    fake = FakeMiMo()
    cache = SQLiteDescriptionCache(tmp_path / "c.sqlite")
    sources = [VIDEOS / "traffic.mp4", VIDEOS / "kitten.mp4"]
    first = segments_loader(fake, sources, cache).load()

    def no_probe(*args: object, **kwargs: object) -> None:
        raise AssertionError("a video was opened again")

    monkeypatch.setattr(media, "probe", no_probe)
    monkeypatch.setattr(VideoLoader, "load", no_probe)
    assert segments_loader(fake, sources, cache).load() == first
    assert len(fake.bodies) == 4
