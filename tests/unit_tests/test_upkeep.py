"""Tests for _upkeep.py: MediaStore(max_bytes=...), prune, remove and stale temporary files.

Each behaviour runs on a local folder, on fsspec's local filesystem (the ``file``
protocol, reached as ``local://``, so the fsspec backend writes real files) and on
``memory://``. Other processes sharing a folder are real processes, as in test_store.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from langchain_mimo_video import _upkeep
from langchain_mimo_video._storage import LocalBackend
from langchain_mimo_video.errors import VideoSourceError, VideoValidationError
from langchain_mimo_video.store import MediaStore
from tests.unit_tests.test_store import LIGHT_IMPORT, REPO, slow_put_script

KINDS = ("folder", "fsspec file", "memory")
SIZE = 100_000


def make_store(kind: str, tmp_path: Path, **kwargs: object) -> MediaStore:
    if kind == "folder":
        return MediaStore(tmp_path / "store", **kwargs)  # type: ignore[arg-type]
    pytest.importorskip("fsspec")
    if kind == "fsspec file":
        return MediaStore(f"local://{tmp_path / 'store'}", **kwargs)  # type: ignore[arg-type]
    return MediaStore(f"memory://mimo-upkeep-{uuid.uuid4().hex}", **kwargs)  # type: ignore[arg-type]


def blob(seed: int) -> bytes:
    return random.Random(seed).randbytes(SIZE)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def last_used(store: MediaStore, media_id: str, seconds_ago: float) -> None:
    """Make an entry look last put or opened ``seconds_ago`` seconds ago."""
    when = time.time() - seconds_ago
    backend: Any = store._backend
    if isinstance(backend, LocalBackend):
        os.utime(backend.local_path(media_id), (when, when))
        return
    for name in (media_id, media_id + ".used"):
        path = backend._path(name)
        if not backend.fs.exists(path):
            continue
        if "file" in backend.fs.protocol:
            os.utime(path, (when, when))
        else:
            backend.fs.store[path].created = datetime.datetime.fromtimestamp(when, datetime.UTC)


def names(store: MediaStore) -> list[str]:
    return sorted(stored.name for stored in store._backend.scan())


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# -- the size bound ----------------------------------------------------------------------


def test_max_bytes_evicts_the_least_recently_used(kind: str, tmp_path: Path) -> None:
    store = make_store(kind, tmp_path, max_bytes=int(2.5 * SIZE))
    first, second = store.put(blob(1)), store.put(blob(2))
    last_used(store, first, 100)
    last_used(store, second, 300)  # used longest ago
    third = store.put(blob(3))
    assert second not in store
    assert first in store and third in store
    assert not [name for name in names(store) if name.startswith(second)]  # metadata too
    with store.open(third) as file:
        assert file.read() == blob(3)


def test_opening_an_entry_counts_as_a_use(kind: str, tmp_path: Path) -> None:
    store = make_store(kind, tmp_path, max_bytes=int(2.5 * SIZE))
    first, second = store.put(blob(1)), store.put(blob(2))
    last_used(store, first, 300)
    last_used(store, second, 200)
    with store.open(first) as file:  # first is now the most recently used
        file.read(10)
    store.put(blob(3))
    assert first in store and second not in store


def test_putting_stored_bytes_again_counts_as_a_use(kind: str, tmp_path: Path) -> None:
    store = make_store(kind, tmp_path, max_bytes=int(2.5 * SIZE))
    first, second = store.put(blob(1)), store.put(blob(2))
    last_used(store, first, 300)
    last_used(store, second, 200)
    assert store.put(blob(1)) == first
    store.put(blob(3))
    assert first in store and second not in store


def test_the_entry_being_put_is_never_evicted(kind: str, tmp_path: Path) -> None:
    store = make_store(kind, tmp_path, max_bytes=SIZE // 2)  # smaller than any entry
    media_id = store.put(blob(1))
    assert media_id == sha(blob(1)) and media_id in store
    with store.open(media_id) as file:
        assert file.read() == blob(1)


def test_recently_used_entries_are_kept_over_the_bound(kind: str, tmp_path: Path) -> None:
    """Another process may be about to read an entry put a moment ago."""
    store = make_store(kind, tmp_path, max_bytes=int(1.5 * SIZE))
    ids = [store.put(blob(seed)) for seed in (1, 2, 3)]
    assert all(media_id in store for media_id in ids)
    for media_id in ids[:2]:
        last_used(store, media_id, _upkeep.RECENT_SECONDS + 5)
    assert store.prune() == ids[:2]  # least recently used first
    assert [media_id in store for media_id in ids] == [False, False, True]


def test_an_entry_open_for_reading_is_not_evicted(kind: str, tmp_path: Path) -> None:
    store = make_store(kind, tmp_path)
    media_id = store.put(blob(1))
    reader = store.open(media_id)
    last_used(store, media_id, 600)
    assert store.prune(max_bytes=1) == []
    assert reader.read() == blob(1)
    reader.close()
    assert store.prune(max_bytes=1) == [media_id]
    assert media_id not in store
    with pytest.raises(VideoSourceError, match="not in the MediaStore"):
        store.open(media_id)


def test_prune_older_than_and_remove(kind: str, tmp_path: Path) -> None:
    store = make_store(kind, tmp_path)
    old, new = store.put(blob(1)), store.put(blob(2))
    store.open(new).close()  # a marker on fsspec stores
    last_used(store, old, 8 * 24 * 3600)
    assert store.prune(older_than=7 * 24 * 3600) == [old]
    assert old not in store and new in store
    assert store.remove(new) is True
    assert store.remove(new) is False
    assert names(store) == []
    with pytest.raises(VideoSourceError, match="64 lowercase hex"):
        store.remove("../" + new[3:])


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "1GB"])
def test_max_bytes_must_be_a_positive_int(bad: object, tmp_path: Path) -> None:
    with pytest.raises(VideoValidationError, match="max_bytes must be a positive"):
        MediaStore(tmp_path / "store", max_bytes=bad)  # type: ignore[arg-type]


def test_files_that_are_not_entries_are_left_alone(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "store")
    media_id = store.put(blob(1))
    stray = Path(store.root) / media_id[:2] / "notes.txt"
    stray.write_text("mine")
    os.utime(stray, (0, 0))
    last_used(store, media_id, 600)
    assert store.prune(max_bytes=1, older_than=1) == [media_id]
    assert stray.read_text() == "mine"


# -- temporary files ---------------------------------------------------------------------


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)
    return child.pid


def _fake_temp(store: MediaStore, pid: int, age: float) -> str:
    """A ``.put-*`` file as the writer ``pid`` of this host would name it, ``age`` old."""
    backend: Any = store._backend
    prefix = _upkeep_prefix().replace(f"-{os.getpid()}-", f"-{pid}-")
    name = f"{prefix}{uuid.uuid4().hex}"
    when = time.time() - age
    if isinstance(backend, LocalBackend):
        folder = Path(store.root) / "ab"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"half a video")
        os.utime(folder / name, (when, when))
        return name
    path = f"{backend.root}/ab/{name}"
    backend.fs.makedirs(f"{backend.root}/ab", exist_ok=True)
    backend.fs.pipe_file(path, b"half a video")
    if "file" in backend.fs.protocol:
        os.utime(path, (when, when))
    else:
        backend.fs.store[path].created = datetime.datetime.fromtimestamp(when, datetime.UTC)
    return name


def _upkeep_prefix() -> str:
    from langchain_mimo_video import _storage

    return _storage._temp_prefix()


def test_stale_temp_files_of_dead_writers_are_removed(kind: str, tmp_path: Path) -> None:
    store = make_store(kind, tmp_path)
    kept = store.put(blob(1))
    stale = _fake_temp(store, _dead_pid(), age=2 * 3600)
    young = _fake_temp(store, _dead_pid(), age=60)
    assert store.prune() == []
    left = names(store)
    assert stale not in left and young in left
    assert kept in store
    assert store.prune(temp_older_than=30) == []
    assert young not in names(store)


def test_a_temp_file_this_process_is_writing_is_kept(kind: str, tmp_path: Path) -> None:
    store = make_store(kind, tmp_path)
    with store._backend.writer("ab") as (writer, commit):
        writer.write(b"being written")
        temps = [s for s in store._backend.scan() if s.name.startswith(".put-")]
        assert len(temps) == 1
        assert store.prune(temp_older_than=0) == []
        assert [s.name for s in store._backend.scan()] == [temps[0].name]
        commit("ab" + "0" * 62)
    assert names(store) == ["ab" + "0" * 62]


@pytest.mark.parametrize("kind", ["folder", "fsspec file"])
def test_live_writer_in_another_process_keeps_its_temp_file(kind: str, tmp_path: Path) -> None:
    """A writer stalled for hours still owns its file; once it is killed the file goes."""
    store = make_store(kind, tmp_path)
    child = subprocess.Popen(
        [sys.executable, "-c", LIGHT_IMPORT + slow_put_script(4_000_000), store.root],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "half"
        [temp] = [s for s in store._backend.scan() if s.name.startswith(".put-")]
        path = Path(store.root.removeprefix("local://")) / temp.shard / temp.name
        os.utime(path, (time.time() - 5 * 3600,) * 2)  # untouched for hours
        store.prune()
        assert path.exists()  # its writer is alive (a lock on a folder, its pid elsewhere)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        os.utime(path, (time.time() - 5 * 3600,) * 2)
        store.prune()
        assert not path.exists()
    finally:
        child.kill()
        child.wait(timeout=30)
    assert names(store) == []


def test_reader_in_another_process_finishes_an_evicted_entry(tmp_path: Path) -> None:
    """On POSIX an evicted file's bytes stay readable to whoever has it open."""
    store = MediaStore(tmp_path / "store")
    data = random.Random(9).randbytes(3_000_000)
    media_id = store.put(data)
    script = textwrap.dedent(
        """
        import hashlib, sys
        from langchain_mimo_video.store import MediaStore

        with MediaStore(sys.argv[1]).open(sys.argv[2]) as file:
            digest = hashlib.sha256(file.read(1_000_000))
            print("half", flush=True)
            sys.stdin.readline()
            digest.update(file.read())
        print(digest.hexdigest(), flush=True)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", LIGHT_IMPORT + script, store.root, media_id],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdin is not None and child.stdout is not None
        assert child.stdout.readline().strip() == "half"
        last_used(store, media_id, 600)
        assert store.prune(max_bytes=1) == [media_id]  # the other process is not known
        assert media_id not in store
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == media_id
    finally:
        child.kill()
        child.wait(timeout=30)


def test_processes_putting_into_one_bounded_folder(tmp_path: Path) -> None:
    """Four processes put into one bounded folder at once: none fails, the bound holds."""
    root = tmp_path / "store"
    seed_store = MediaStore(root)
    old = [seed_store.put(blob(seed)) for seed in range(10, 16)]
    for media_id in old:
        last_used(seed_store, media_id, 600)
    script = textwrap.dedent(
        f"""
        import random, sys
        from langchain_mimo_video.store import MediaStore

        store = MediaStore(sys.argv[1], max_bytes={3 * SIZE + 50_000})
        seed = int(sys.argv[2])
        print(store.put(random.Random(seed).randbytes({SIZE})), flush=True)
        """
    )
    children = [
        subprocess.Popen(
            [sys.executable, "-c", LIGHT_IMPORT + script, str(root), str(seed)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in range(1, 5)
    ]
    outputs = [child.communicate(timeout=120) for child in children]
    assert [child.returncode for child in children] == [0] * 4, outputs
    new = [out.strip() for out, _ in outputs]
    assert new == [sha(blob(seed)) for seed in range(1, 5)]
    assert all(media_id in seed_store for media_id in new)  # each was just put: kept
    assert not any(media_id in seed_store for media_id in old)  # the old ones made room
    assert not [name for name in names(seed_store) if name.startswith(".put-")]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file locks")
def test_on_a_folder_the_writers_lock_alone_keeps_its_file(tmp_path: Path) -> None:
    """Even when the pid in the name says nothing (pids are reused), the lock decides."""
    store = MediaStore(tmp_path / "store")
    backend: Any = store._backend
    file, temp = backend._temp("ab")  # locked, but not in this process's list of writers
    old = time.time() - 5 * 3600
    os.utime(temp, (old, old))
    store.prune()
    assert Path(temp).exists()
    file.close()  # the lock goes with the file
    store.prune()
    assert not Path(temp).exists()
