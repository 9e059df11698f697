"""Tests for _sinks.py: VideoLoader(store=...) puts the bytes it would send straight in the store.

For every kind of source and every step (as is, fitted, cut, converted), the reference
names the SHA-256 of exactly the bytes the inline part carries, with the same reference
part and metadata as before, and no base64 is encoded (nor, for local files, decoded) on
the way.
"""

from __future__ import annotations

import base64
import binascii
import gc
import hashlib
import io
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from langchain_mimo_video import VideoLoader
from langchain_mimo_video._sinks import DataUrlSink, Stored, StoreSink
from langchain_mimo_video.store import MediaStore, make_reference_part, reference_id
from tests.unit_tests.by_reference import padded_video, use_temp_root
from tests.videos import make_video


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sinks")
    return {
        "mp4": make_video(root / "clip.mp4", width=64, height=48, duration=1.5, audio=True),
        "mkv": make_video(root / "clip.mkv", container="mkv", duration=1.0, audio=True),
        "webm": make_video(root / "clip.webm", container="webm", duration=0.5),
    }


class _Pipe(io.RawIOBase):
    """A readable stream that cannot seek, like a pipe."""

    def __init__(self, data: bytes) -> None:
        self.source = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        piece = self.source.read(len(buffer))
        buffer[: len(piece)] = piece
        return len(piece)


def _at_offset(data: bytes) -> io.BytesIO:
    stream = io.BytesIO(b"junk before the video" + data)
    stream.seek(len(b"junk before the video"))
    return stream


def _data_url(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode()


# name: (loader options, source maker, load options)
CASES: dict[str, tuple[dict[str, Any], Callable[[dict[str, Path]], Any], dict[str, Any]]] = {
    "path": ({}, lambda v: v["mp4"], {}),
    "str path": ({}, lambda v: str(v["mp4"]), {}),
    "bytes": ({}, lambda v: v["mp4"].read_bytes(), {}),
    "memoryview": ({}, lambda v: memoryview(bytearray(v["mp4"].read_bytes())), {}),
    "seekable stream at an offset": ({}, lambda v: _at_offset(v["mp4"].read_bytes()), {}),
    "pipe": ({}, lambda v: io.BufferedReader(_Pipe(v["mp4"].read_bytes())), {}),
    "fit always": ({"fit": "always", "fps": 1}, lambda v: v["mp4"], {}),
    "converted (remux)": ({}, lambda v: v["mkv"], {}),
    "converted bytes": ({}, lambda v: v["mkv"].read_bytes(), {}),
    "cut": ({"fit": False}, lambda v: v["mp4"], {"start": 0.2, "end": 1.1}),
    "cut and fitted": ({}, lambda v: v["mp4"], {"start": 0.5}),
    "undocumented, not converted": ({"convert": False}, lambda v: v["webm"], {}),
    "mime type given": ({}, lambda v: v["mp4"], {"mime_type": "video/quicktime"}),
}
# The caller's own data URL has to be decoded; nothing is encoded.
GIVEN_DATA_URLS: dict[str, tuple[dict[str, Any], Callable[[dict[str, Path]], Any]]] = {
    "data URL": ({}, lambda v: _data_url(v["mp4"], "video/mp4")),
    "data URL converted": ({}, lambda v: _data_url(v["mkv"], "video/x-matroska")),
    "data URL fit always": ({"fit": "always"}, lambda v: _data_url(v["mp4"], "video/mp4")),
}


def _no_base64(monkeypatch: pytest.MonkeyPatch, *, decode: bool) -> list[str]:
    """Make every base64 encode (and, unless ``decode``, decode) fail the test; the calls."""
    calls: list[str] = []

    def refuse(name: str) -> Callable[..., Any]:
        def called(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            raise AssertionError(f"binascii.{name} was called on the store path")

        return called

    monkeypatch.setattr(binascii, "b2a_base64", refuse("b2a_base64"))
    if not decode:
        monkeypatch.setattr(binascii, "a2b_base64", refuse("a2b_base64"))
    return calls


def _inline(options: dict[str, Any], source: Any, load: dict[str, Any]) -> tuple[bytes, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        url = VideoLoader(**options).load(source, **load)["video_url"]["url"]
    header, data = url.split(",", 1)
    return base64.b64decode(data), header[len("data:") : header.index(";")]


def _check_reference(
    part: Any, store: MediaStore, sent: bytes, mime: str, options: dict[str, Any], tmp: Path
) -> None:
    media_id = reference_id(part)
    assert media_id == hashlib.sha256(sent).hexdigest()
    loader = VideoLoader(**options)
    assert part == make_reference_part(
        media_id, mime_type=mime, fps=loader.fps, media_resolution=loader.media_resolution
    )
    with store.open(media_id) as file:
        assert file.read() == sent
    # the metadata the old path recorded: the decoded bytes, put with the URL's MIME type
    before = MediaStore(tmp / "before")
    assert store.info(media_id) == before.info(before.put(sent, mime_type=mime))


@pytest.mark.parametrize("case", list(CASES))
def test_store_path_puts_the_sent_bytes_without_base64(
    case: str,
    videos: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    options, make, load = CASES[case]
    sent, mime = _inline(options, make(videos), load)
    temp = use_temp_root(tmp_path, monkeypatch)
    store = MediaStore(tmp_path / "store")
    source = make(videos)
    calls = _no_base64(monkeypatch, decode=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        part: Any = VideoLoader(store=store, **options).load(source, **load)
    monkeypatch.undo()
    assert calls == []
    _check_reference(part, store, sent, mime, options, tmp_path)
    assert list(temp.iterdir()) == []  # fitted, cut and converted outputs are removed
    undocumented = [w for w in caught if "MiMo documents only" in str(w.message)]
    if case == "undocumented, not converted":
        # the same warning as inline, pointing at the caller's line
        assert len(undocumented) == 1 and undocumented[0].filename == __file__
    else:
        assert undocumented == []


@pytest.mark.parametrize("case", list(GIVEN_DATA_URLS))
def test_store_path_encodes_no_base64_for_a_given_data_url(
    case: str, videos: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options, make = GIVEN_DATA_URLS[case]
    sent, mime = _inline(options, make(videos), {})
    store = MediaStore(tmp_path / "store")
    source = make(videos)
    calls = _no_base64(monkeypatch, decode=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MKV is undocumented: the same warning as inline
        part: Any = VideoLoader(store=store, **options).load(source)
    monkeypatch.undo()
    assert calls == []
    _check_reference(part, store, sent, mime, options, tmp_path)


def test_store_path_keeps_the_checks(videos: dict[str, Path], tmp_path: Path) -> None:
    from langchain_mimo_video import VideoSourceError, VideoTooLargeError

    store = MediaStore(tmp_path / "store")
    loader = VideoLoader(store=store, max_bytes=100)
    with pytest.raises(VideoTooLargeError, match="max_bytes"):
        loader.load(videos["mp4"])
    broken = tmp_path / "broken.mp4"
    data = videos["mp4"].read_bytes()
    broken.write_bytes(data[:64] + bytes(len(data) - 64))  # a header, then zeros
    with pytest.raises(VideoSourceError):
        VideoLoader(store=store).load(broken)
    with pytest.raises(VideoTooLargeError):
        VideoLoader(store=store, fit=False).load(padded_video(tmp_path / "big.mp4", 38_000_000))
    # nothing that failed a check reached the store
    assert [p for p in (tmp_path / "store").rglob("*") if p.is_file()] == []


def test_store_path_memory_stays_far_below_the_file(tmp_path: Path) -> None:
    """A 12 MB file is hashed and copied a piece at a time: no data URL, no whole copy."""
    video = padded_video(tmp_path / "big.mp4", 12_000_000)
    size = video.stat().st_size
    store = MediaStore(tmp_path / "store")
    VideoLoader(store=store).load(padded_video(tmp_path / "warm.mp4", 1000))  # first-use imports
    gc.collect()
    tracemalloc.start()
    try:
        part: Any = VideoLoader(store=store).load(video)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reference_id(part) == hashlib.sha256(video.read_bytes()).hexdigest()
    assert peak < size / 4, f"peak {peak:,} bytes for a {size:,}-byte file"


def test_sinks_give_a_data_url_or_a_store_entry(tmp_path: Path) -> None:
    data = b"\x00\x00\x00\x18ftypmp42" + bytes(20)
    assert DataUrlSink().data(data, "video/mp4") == (
        "data:video/mp4;base64," + base64.b64encode(data).decode()
    )
    store = MediaStore(tmp_path / "store")
    sink = StoreSink(store)
    out = tmp_path / "out.mp4"
    out.write_bytes(data)
    assert sink.output(out) == Stored(hashlib.sha256(data).hexdigest(), "video/mp4")
    assert not out.exists()  # removed once stored
    assert sink.stream(_at_offset(data), len(data), "video/mp4") == sink.data(data, "video/mp4")
