"""Tests for store.py: MediaStore (local and fsspec), ids, metadata and reference parts."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import random
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path

import pytest

from langchain_mimo_video import store as store_module
from langchain_mimo_video.errors import VideoSourceError, VideoValidationError
from langchain_mimo_video.store import (
    REFERENCE_PREFIX,
    MediaInfo,
    MediaStore,
    default_store_root,
    is_reference,
    make_reference_part,
    reference_id,
    resolve_reference,
    validate_media_id,
)
from tests.videos import make_video, video_bytes

REPO = Path(__file__).resolve().parents[2]
# Child processes import the package without its __init__ (which loads LangChain and the
# openai SDK, seconds on a busy machine); store.py needs only errors.py and media/.
LIGHT_IMPORT = textwrap.dedent(
    f"""
    import sys, types
    package = types.ModuleType("langchain_mimo_video")
    package.__path__ = [{str(REPO / "langchain_mimo_video")!r}]
    sys.modules["langchain_mimo_video"] = package
    """
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def slow_put_script(size: int) -> str:
    """A child's script: put ``size`` random bytes (seed 3), print "half" half-way, stall."""
    return textwrap.dedent(
        f"""
        import io, random, sys, time
        from langchain_mimo_video.store import MediaStore

        data = random.Random(3).randbytes({size})

        class Slow(io.RawIOBase):
            def __init__(self):
                self.source = io.BytesIO(data)
            def readable(self):
                return True
            def readinto(self, buffer):
                piece = self.source.read(min(len(buffer), 1 << 20))
                buffer[: len(piece)] = piece
                if self.source.tell() > {size} // 2:
                    print("half", flush=True)
                    time.sleep(120)
                return len(piece)

        MediaStore(sys.argv[1]).put(io.BufferedReader(Slow()))
        """
    )


def entries(root: Path) -> list[str]:
    """Every file under ``root``, relative, sorted."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture
def video(tmp_path: Path) -> Path:
    return make_video(tmp_path / "in.mp4", width=64, height=48, duration=1.5, audio=True)


@pytest.fixture
def store(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "store")


# -- put, open, size, contains -----------------------------------------------------------


def test_put_returns_sha256_for_bytes_path_and_file(store: MediaStore, video: Path) -> None:
    data = video.read_bytes()
    from_bytes = store.put(data)
    assert from_bytes == sha(data)
    assert store.put(video) == from_bytes
    assert store.put(str(video)) == from_bytes
    with video.open("rb") as file:
        assert store.put(file) == from_bytes
    assert store.put(bytearray(data)) == from_bytes
    assert store.put(memoryview(data)) == from_bytes
    assert from_bytes in store
    assert store.size(from_bytes) == len(data)
    with store.open(from_bytes) as file:
        assert file.read() == data
    # stored once, with its metadata beside it
    root = Path(store.root)
    assert entries(root) == [
        f"{from_bytes[:2]}/{from_bytes}",
        f"{from_bytes[:2]}/{from_bytes}.json",
    ]


def test_put_reads_a_file_object_from_its_position(store: MediaStore) -> None:
    file = io.BytesIO(b"skip" + b"payload bytes")
    file.seek(4)
    media_id = store.put(file)
    assert media_id == sha(b"payload bytes")
    with store.open(media_id) as stored:
        assert stored.read() == b"payload bytes"


class _OneWay(io.RawIOBase):
    """A readable, non-seekable stream (a pipe or socket)."""

    def __init__(self, data: bytes, fail_after: int | None = None) -> None:
        self._data = io.BytesIO(data)
        self._fail_after = fail_after

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._fail_after is not None and self._data.tell() >= self._fail_after:
            raise OSError("the connection dropped")
        piece = self._data.read(min(len(buffer), 256 * 1024))
        buffer[: len(piece)] = piece
        return len(piece)


def test_put_from_a_non_seekable_stream(store: MediaStore) -> None:
    data = random.Random(1).randbytes(3_000_000)
    media_id = store.put(io.BufferedReader(_OneWay(data)))
    assert media_id == sha(data)
    with store.open(media_id) as file:
        assert file.read() == data
    assert not [name for name in entries(Path(store.root)) if ".put-" in name]


def test_new_local_store_folder_is_private(tmp_path: Path) -> None:
    root = tmp_path / "a" / "b" / "store"
    store = MediaStore(root)
    assert not root.exists()  # nothing is created until something is put
    media_id = store.put(b"x" * 10)
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE((root / media_id[:2]).stat().st_mode) == 0o700
    assert stat.S_IMODE((root / media_id[:2] / media_id).stat().st_mode) == 0o600


def test_default_root_is_a_private_per_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    expected = tmp_path / "cache" / "langchain-mimo-video" / "media"
    assert default_store_root() == expected
    expected.mkdir(parents=True, mode=0o755)
    os.chmod(expected, 0o755)  # an existing default folder someone loosened
    store = MediaStore()
    assert store.root == str(expected)
    store.put(b"abc")
    assert stat.S_IMODE(expected.stat().st_mode) == 0o700


def test_given_existing_folder_keeps_its_mode(tmp_path: Path) -> None:
    root = tmp_path / "shared"
    root.mkdir()
    os.chmod(root, 0o750)
    MediaStore(root).put(b"abc")
    assert stat.S_IMODE(root.stat().st_mode) == 0o750


def test_missing_file_and_bad_source_raise(store: MediaStore, tmp_path: Path) -> None:
    with pytest.raises(VideoSourceError, match="Cannot read the video file"):
        store.put(tmp_path / "nope.mp4")
    with pytest.raises(VideoSourceError, match="bytes, a path or a binary file"):
        store.put(12345)  # type: ignore[arg-type]
    with pytest.raises(VideoSourceError, match="binary file object"):
        store.put(io.StringIO("text"))  # type: ignore[arg-type]
    for url in ("https://example.com/a.mp4", "data:video/mp4;base64,AAAA", "s3://b/k"):
        with pytest.raises(VideoSourceError, match="not a URL"):
            store.put(url)


# -- ids ---------------------------------------------------------------------------------

BAD_IDS = [
    "../" + "a" * 61,
    "../../etc/passwd",
    "/etc/passwd",
    "A" * 64,
    "a" * 63,
    "a" * 65,
    "a" * 63 + "g",
    "a" * 64 + "\n",
    " " + "a" * 63,
    "aa/" + "a" * 61,
    "",
    None,
    64,
]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_invalid_ids_are_refused_everywhere(store: MediaStore, bad: object) -> None:
    store.put(b"something")  # the folder exists
    assert bad not in store
    for method in (store.open, store.size, store.info, store.local_path):
        with pytest.raises(VideoSourceError, match="64 lowercase hex"):
            method(bad)  # type: ignore[arg-type]


def test_id_never_names_a_file_outside_the_store(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"do not read")
    store = MediaStore(tmp_path / "store")
    store.put(b"x")
    relative = os.path.relpath(secret, Path(store.root) / "aa")
    for bad in (relative, str(secret), REFERENCE_PREFIX + relative):
        with pytest.raises(VideoSourceError):
            store.open(bad)
        with pytest.raises(VideoSourceError):
            reference_id(REFERENCE_PREFIX + bad)


def test_unknown_valid_id_names_the_store_and_the_fix(store: MediaStore) -> None:
    absent = sha(b"never stored")
    assert absent not in store
    with pytest.raises(VideoSourceError, match="not in the MediaStore at") as error:
        store.open(absent)
    assert str(store.root) in str(error.value)
    assert "VideoLoader(store=" in str(error.value)
    with pytest.raises(VideoSourceError, match="not in the MediaStore"):
        store.size(absent)
    with pytest.raises(VideoSourceError, match="not in the MediaStore"):
        store.info(absent)


def test_validate_media_id_accepts_only_digests() -> None:
    good = sha(b"x")
    assert validate_media_id(good) == good
    with pytest.raises(VideoSourceError):
        validate_media_id(good.upper())


# -- atomic writes -----------------------------------------------------------------------


def test_failed_read_leaves_nothing_under_any_name(store: MediaStore) -> None:
    data = random.Random(2).randbytes(2_500_000)
    with pytest.raises(VideoSourceError, match="connection dropped"):
        store.put(io.BufferedReader(_OneWay(data, fail_after=1_000_000)))
    assert sha(data) not in store
    assert entries(Path(store.root)) == []


def test_file_changed_while_stored_is_refused(store: MediaStore, tmp_path: Path) -> None:
    class Changing(io.BytesIO):
        """Rewritten by someone else the moment it is rewound for the copy."""

        def seek(self, offset: int, whence: int = 0) -> int:
            if self.getvalue() == b"first":
                super().seek(0)
                self.write(b"other")
            return super().seek(offset, whence)

    with pytest.raises(VideoSourceError, match="changed while it was being stored"):
        store.put(Changing(b"first"))
    assert sha(b"first") not in store
    assert sha(b"other") not in store
    assert [name for name in entries(Path(store.root)) if not name.endswith(".json")] == []


def test_killed_writer_leaves_no_valid_id(tmp_path: Path) -> None:
    """A process killed mid-put leaves only a temporary file no id can name."""
    root = tmp_path / "store"
    size = 8_000_000
    data = random.Random(3).randbytes(size)
    script = slow_put_script(size)
    child = subprocess.Popen(
        [sys.executable, "-c", LIGHT_IMPORT + script, str(root)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "half"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    store = MediaStore(root)
    assert sha(data) not in store
    leftovers = entries(root)
    assert leftovers and all(Path(name).name.startswith(".put-") for name in leftovers)
    assert store.put(data) == sha(data)
    with store.open(sha(data)) as file:
        assert file.read() == data


def test_threads_putting_the_same_content(store: MediaStore) -> None:
    data = random.Random(4).randbytes(4_000_000)
    barrier = threading.Barrier(8)
    ids: list[str] = []

    def put() -> None:
        barrier.wait()
        ids.append(store.put(io.BufferedReader(_OneWay(data))))

    threads = [threading.Thread(target=put) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert ids == [sha(data)] * 8
    with store.open(sha(data)) as file:
        assert file.read() == data
    assert not [name for name in entries(Path(store.root)) if ".put-" in name]


def test_processes_putting_the_same_content_at_once(tmp_path: Path) -> None:
    """Four processes write the same content and all rename onto the same id together."""
    root = tmp_path / "store"
    gate = tmp_path / "gate"
    gate.mkdir()
    count = 4
    script = textwrap.dedent(
        f"""
        import os, pathlib, random, sys, time, uuid
        from langchain_mimo_video import store as store_module

        gate = pathlib.Path(sys.argv[2])
        real_replace = os.replace

        def replace_together(source, target):
            # every writer has its temp file complete before any of them renames
            if os.path.basename(str(target)).endswith(".json"):
                return real_replace(source, target)
            (gate / uuid.uuid4().hex).touch()
            deadline = time.monotonic() + 30
            while len(list(gate.iterdir())) < {count} and time.monotonic() < deadline:
                time.sleep(0.01)
            return real_replace(source, target)

        store_module.os.replace = replace_together
        data = random.Random(5).randbytes(5_000_000)
        print(store_module.MediaStore(sys.argv[1]).put(data), flush=True)
        """
    )
    children = [
        subprocess.Popen(
            [sys.executable, "-c", LIGHT_IMPORT + script, str(root), str(gate)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    outputs = [child.communicate(timeout=120) for child in children]
    assert [child.returncode for child in children] == [0] * count, outputs
    data = random.Random(5).randbytes(5_000_000)
    assert [out.strip() for out, _ in outputs] == [sha(data)] * count
    assert len(list(gate.iterdir())) == count  # all four really reached the rename
    store = MediaStore(root)
    with store.open(sha(data)) as file:
        assert file.read() == data
    assert entries(root) == [f"{sha(data)[:2]}/{sha(data)}", f"{sha(data)[:2]}/{sha(data)}.json"]


# -- metadata ----------------------------------------------------------------------------


def test_info_is_probed_once_and_kept_beside_the_bytes(
    store: MediaStore, video: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    media_id = store.put(video)
    info = store.info(media_id)
    assert info.media_id == media_id
    assert info.size == video.stat().st_size
    assert info.mime_type == "video/mp4"
    assert info.duration == pytest.approx(1.5, abs=0.11)
    assert (info.width, info.height) == (64, 48)
    assert info.has_audio is True
    assert info.probed
    stored = json.loads((Path(store.root) / media_id[:2] / f"{media_id}.json").read_text())
    assert stored["duration"] == info.duration

    def no_probe(*args: object, **kwargs: object) -> None:
        raise AssertionError("probed again")

    monkeypatch.setattr("langchain_mimo_video.media.probe", no_probe)
    assert MediaStore(store.root).info(media_id) == info


def test_info_is_measured_again_when_its_file_is_lost(store: MediaStore, video: Path) -> None:
    media_id = store.put(video)
    meta = Path(store.root) / media_id[:2] / f"{media_id}.json"
    meta.write_text("{not json")
    assert store.info(media_id).width == 64
    meta.unlink()
    assert store.info(media_id).height == 48
    assert json.loads(meta.read_text())["height"] == 48


def test_info_without_pyav_keeps_size_and_sniffed_mime(
    store: MediaStore, video: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langchain_mimo_video.errors import MediaError

    def missing(*args: object, **kwargs: object) -> None:
        raise MediaError("PyAV is needed")

    monkeypatch.setattr("langchain_mimo_video.media.probe", missing)
    media_id = store.put(video)
    info = store.info(media_id)
    assert (info.size, info.mime_type, info.duration, info.probed) == (
        video.stat().st_size,
        "video/mp4",
        None,
        False,
    )
    monkeypatch.undo()
    assert store.info(media_id).probed  # measured once PyAV is there


def test_given_mime_type_is_recorded(store: MediaStore) -> None:
    data = video_bytes(container="mov")
    media_id = store.put(data, mime_type="video/quicktime")
    assert store.info(media_id).mime_type == "video/quicktime"


def test_media_info_json_ignores_unknown_keys() -> None:
    info = MediaInfo("a" * 64, 10, "video/mp4", duration=1.0, width=2, height=3, has_audio=False)
    raw = json.loads(info.to_json())
    raw["added_later"] = True
    assert MediaInfo.from_json(json.dumps(raw).encode()) == info


# -- fsspec ------------------------------------------------------------------------------


@pytest.fixture
def memory_store() -> MediaStore:
    pytest.importorskip("fsspec")
    return MediaStore(f"memory://mimo-tests-{uuid.uuid4().hex}")


def test_fsspec_memory_store(memory_store: MediaStore, video: Path) -> None:
    import fsspec

    data = video.read_bytes()
    media_id = memory_store.put(video)
    assert media_id == sha(data)
    assert memory_store.put(data) == media_id
    assert media_id in memory_store
    assert memory_store.size(media_id) == len(data)
    with memory_store.open(media_id) as file:
        assert file.read() == data
    assert memory_store.info(media_id).width == 64
    assert memory_store.local_path(media_id) is None
    fs = fsspec.filesystem("memory")
    root = memory_store.root.removeprefix("memory://")
    names = sorted(path.rsplit("/", 1)[1] for path in fs.find(root))
    # the bytes, their metadata, and the empty marker of their last use (the open above)
    assert names == [media_id, f"{media_id}.json", f"{media_id}.used"]
    absent = sha(b"absent")
    with pytest.raises(VideoSourceError, match="not in the MediaStore"):
        memory_store.open(absent)
    with pytest.raises(VideoSourceError, match="64 lowercase hex"):
        memory_store.open("../" + media_id[3:])


def test_fsspec_failed_put_leaves_nothing(memory_store: MediaStore) -> None:
    import fsspec

    data = random.Random(6).randbytes(2_500_000)
    with pytest.raises(VideoSourceError):
        memory_store.put(io.BufferedReader(_OneWay(data, fail_after=1_000_000)))
    assert sha(data) not in memory_store
    root = memory_store.root.removeprefix("memory://")
    fs = fsspec.filesystem("memory")
    assert not fs.exists(root) or fs.find(root) == []


def test_fsspec_missing_gives_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_mimo_video.errors import MediaError

    monkeypatch.setitem(sys.modules, "fsspec.core", None)
    with pytest.raises(MediaError, match=r"langchain-mimo-video\[store\]"):
        MediaStore("s3://bucket/prefix")


def test_file_url_is_a_local_store(tmp_path: Path) -> None:
    store = MediaStore(f"file://{tmp_path / 'store'}")
    media_id = store.put(b"abc")
    assert store.local_path(media_id) == tmp_path / "store" / media_id[:2] / media_id


def test_store_pickles_for_worker_processes(store: MediaStore) -> None:
    media_id = store.put(b"for a worker")
    copy = pickle.loads(pickle.dumps(store))
    assert copy.root == store.root
    with copy.open(media_id) as file:
        assert file.read() == b"for a worker"
    assert repr(copy) == f"MediaStore(root={store.root!r})"


# -- reference parts ---------------------------------------------------------------------


def test_reference_part_is_a_small_standard_video_block() -> None:
    media_id = sha(b"video")
    part = make_reference_part(media_id, mime_type="video/mp4", fps=1.5, media_resolution="max")
    assert part == {
        "type": "video",
        "file_id": f"mimo-media:{media_id}",
        "mime_type": "video/mp4",
        "extras": {"fps": 1.5, "media_resolution": "max"},
    }
    assert len(json.dumps(part).encode()) < 1024
    assert is_reference(part)
    assert reference_id(part) == media_id
    assert reference_id(part["file_id"]) == media_id


def test_reference_part_validates_its_values() -> None:
    with pytest.raises(VideoValidationError, match="fps"):
        make_reference_part(sha(b"v"), mime_type="video/mp4", fps=50)
    with pytest.raises(VideoValidationError, match="media_resolution"):
        make_reference_part(sha(b"v"), mime_type="video/mp4", media_resolution="huge")
    with pytest.raises(VideoSourceError):
        make_reference_part("../x", mime_type="video/mp4")


def test_is_reference_and_reference_id_on_other_blocks() -> None:
    assert not is_reference({"type": "video", "file_id": "file-abc"})
    assert not is_reference({"type": "video", "url": "https://example.com/a.mp4"})
    assert not is_reference("mimo-media:" + "a" * 64)
    with pytest.raises(VideoSourceError, match="Not a MediaStore reference"):
        reference_id({"type": "video", "file_id": "file-abc"})
    with pytest.raises(VideoSourceError, match="64 lowercase hex"):
        reference_id("mimo-media:/etc/passwd")


def test_resolve_reference_gives_the_wire_part_and_keeps_it_small(store: MediaStore) -> None:
    from langchain_mimo_video.video import VideoDefaults

    media_id = store.put(b"stored video bytes")
    block = make_reference_part(media_id, mime_type="video/mp4", fps=1.0)
    wire = resolve_reference(block, store, VideoDefaults(fps=3, media_resolution="max"))
    assert wire == {
        "type": "video_url",
        "video_url": {"url": f"mimo-media:{media_id}"},
        "fps": 1.0,  # the block's own, from extras
        "media_resolution": "max",  # the default, since the block sets none
    }
    top_level = {**block, "fps": 0.5, "extras": {}}
    assert resolve_reference(top_level, store)["fps"] == 0.5


def test_resolve_reference_refuses_before_anything_is_sent(
    store: MediaStore, tmp_path: Path
) -> None:
    media_id = store.put(b"stored")
    block = make_reference_part(media_id, mime_type="video/mp4")
    with pytest.raises(VideoSourceError, match=r"no MediaStore was given.*media_store="):
        resolve_reference(block, None)
    with pytest.raises(VideoSourceError, match="not in the MediaStore"):
        resolve_reference(block, MediaStore(tmp_path / "other"))
    with pytest.raises(VideoSourceError, match="64 lowercase hex"):
        resolve_reference({**block, "file_id": "mimo-media:../" + media_id[3:]}, store)
    with pytest.raises(VideoValidationError, match="fps"):
        resolve_reference({**block, "extras": {"fps": 11}}, store)


def test_module_exports_only_what_it_defines() -> None:
    assert set(store_module.__all__) <= set(dir(store_module))
