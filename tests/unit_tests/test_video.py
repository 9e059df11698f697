"""Tests for video.py: validation of values, blocks to parts, and VideoLoader sources."""

from __future__ import annotations

import base64
import io
import itertools
import math
import tracemalloc
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest
from langchain_core.messages.content import create_video_block

from langchain_mimo_video import (
    UnsupportedContentError,
    VideoLoader,
    VideoSourceError,
    VideoTooLargeError,
    VideoValidationError,
    make_video_part,
)
from langchain_mimo_video import _media_steps as media_steps
from langchain_mimo_video.limits import MAX_BASE64_BYTES
from langchain_mimo_video.media import probe
from langchain_mimo_video.tokens import estimate_video_tokens, frame_size
from langchain_mimo_video.video import (
    VideoDefaults,
    base64_length,
    data_url_length,
    encode_data_url,
    sniff_video_mime,
    validate_fps,
    validate_media_resolution,
    validate_video_url,
    video_part_from_block,
)
from tests.corpus import CORPUS, build
from tests.videos import audio_only_mp4, make_video, video_bytes

DEFAULTS = VideoDefaults()
URL = "https://example.com/clip.mp4"


# -- single values -----------------------------------------------------------


@pytest.mark.parametrize("fps", [0.1, 1, 2, 2.5, 10])
def test_fps_in_range_is_kept_as_given(fps: float) -> None:
    assert validate_fps(fps) == fps
    assert type(validate_fps(fps)) is type(fps)


@pytest.mark.parametrize("fps", [0, 0.09, 10.01, 30, -1, math.nan, math.inf])
def test_fps_out_of_range_names_the_range(fps: float) -> None:
    with pytest.raises(VideoValidationError, match=r"\[0\.1, 10\.0\]"):
        validate_fps(fps)


@pytest.mark.parametrize("fps", ["2", None, True, [2]])
def test_fps_not_a_number(fps: object) -> None:
    with pytest.raises(VideoValidationError, match="must be a number"):
        validate_fps(fps)


def test_media_resolution() -> None:
    assert validate_media_resolution("max") == "max"
    with pytest.raises(VideoValidationError, match=r"'default' .* or 'max'"):
        validate_media_resolution("high")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/a.mp4", "only from http"),
        ("file:///tmp/a.mp4", "pass its path to VideoLoader"),
        ("/tmp/a.mp4", "only from http"),
        ("", "non-empty"),
        ("data:image/png;base64,AAAA", "video MIME type"),
        ("data:;base64,AAAA", "video MIME type"),
        ("data:video/mp4,AAAA", "base64-encoded"),
        ("data:video/mp4;base64", "no ','"),
        ("data:video/mp4;base64,", "empty payload"),
        ("data:video/mp4;base64,AAA", "multiple of 4"),
        ("data:video/mp4;base64,AA!A", "broken near character"),
        ("data:video/mp4;base64,AAAA AAA", "broken"),
    ],
)
def test_bad_video_urls(url: str, message: str) -> None:
    with pytest.raises(VideoValidationError, match=message):
        validate_video_url(url)


def test_good_video_urls() -> None:
    assert validate_video_url(URL) == URL
    assert validate_video_url("HTTP://EXAMPLE.COM/A.MP4")
    data = "data:video/mp4;base64," + base64.b64encode(b"\x00" * 10).decode()
    assert validate_video_url(data) == data


def test_oversize_data_url_says_how_big_and_what_helps() -> None:
    payload = "A" * (MAX_BASE64_BYTES - 10)  # a valid base64 length, cheap to build
    url = "data:video/mp4;base64," + payload
    with pytest.raises(VideoTooLargeError) as caught:
        validate_video_url(url)
    message = str(caught.value)
    assert "50.0 MB" in message
    assert "50 MB limit" in message
    assert "fit=True" in message
    assert "URL" in message
    assert caught.value.size == len(url)
    assert caught.value.limit == MAX_BASE64_BYTES


def test_undocumented_video_mime_warns() -> None:
    with pytest.warns(UserWarning, match="MP4, MOV, AVI and WMV"):
        validate_video_url("data:video/webm;base64,AAAA")


# -- parts from blocks -------------------------------------------------------


def test_make_video_part_is_the_documented_shape() -> None:
    assert make_video_part(URL, fps=2, media_resolution="default") == {
        "type": "video_url",
        "video_url": {"url": URL},
        "fps": 2,
        "media_resolution": "default",
    }


def test_native_part_passes_through_with_defaults_filled() -> None:
    part = {"type": "video_url", "video_url": {"url": URL}}
    assert video_part_from_block(part, VideoDefaults(fps=1, media_resolution="max")) == {
        "type": "video_url",
        "video_url": {"url": URL},
        "fps": 1,
        "media_resolution": "max",
    }


def test_native_part_keeps_its_own_values() -> None:
    part = {"type": "video_url", "video_url": {"url": URL}, "fps": 5, "media_resolution": "max"}
    assert video_part_from_block(part, DEFAULTS) == part


def test_native_part_with_fps_inside_video_url_is_refused() -> None:
    part = {"type": "video_url", "video_url": {"url": URL, "fps": 2}}
    with pytest.raises(VideoValidationError, match="beside 'video_url'"):
        video_part_from_block(part, DEFAULTS)


def test_native_part_is_validated() -> None:
    with pytest.raises(VideoValidationError):
        video_part_from_block({"type": "video_url", "video_url": {"url": URL}, "fps": 11}, DEFAULTS)
    with pytest.raises(VideoValidationError, match="needs a 'video_url' object"):
        video_part_from_block({"type": "video_url"}, DEFAULTS)


def test_standard_block_reads_extras_from_create_video_block() -> None:
    block = create_video_block(url=URL, fps=1, media_resolution="max")
    assert video_part_from_block(dict(block), DEFAULTS) == {
        "type": "video_url",
        "video_url": {"url": URL},
        "fps": 1,
        "media_resolution": "max",
    }


def test_standard_block_top_level_options_win_over_extras() -> None:
    block = {"type": "video", "url": URL, "fps": 3, "extras": {"fps": 1}}
    assert video_part_from_block(block, DEFAULTS)["fps"] == 3


def test_standard_base64_block_becomes_a_data_url() -> None:
    block = {"type": "video", "base64": "AAAA", "mime_type": "video/mp4"}
    part = video_part_from_block(block, DEFAULTS)
    assert part["video_url"]["url"] == "data:video/mp4;base64,AAAA"
    assert part["fps"] == 2.0
    assert part["media_resolution"] == "default"


def test_base64_block_without_mime_type_is_refused() -> None:
    with pytest.raises(VideoValidationError, match="mime_type"):
        video_part_from_block({"type": "video", "base64": "AAAA"}, DEFAULTS)


def test_v0_file_block_with_video_mime() -> None:
    block = {"type": "file", "source_type": "base64", "mime_type": "video/mp4", "data": "AAAA"}
    part = video_part_from_block(block, DEFAULTS)
    assert part["video_url"]["url"] == "data:video/mp4;base64,AAAA"


def test_file_id_block_is_not_supported() -> None:
    with pytest.raises(UnsupportedContentError, match="file id"):
        video_part_from_block({"type": "video", "file_id": "file-123"}, DEFAULTS)


def test_block_with_no_source() -> None:
    with pytest.raises(VideoValidationError, match="neither"):
        video_part_from_block({"type": "video", "mime_type": "video/mp4"}, DEFAULTS)


# -- sniffing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("container", "mime"),
    [
        ("mp4", "video/mp4"),
        ("mov", "video/quicktime"),
        ("avi", "video/x-msvideo"),
        ("wmv", "video/x-ms-wmv"),
        ("mkv", "video/x-matroska"),
        ("webm", "video/webm"),
    ],
)
def test_sniff_generated_containers(container: str, mime: str) -> None:
    assert sniff_video_mime(video_bytes(container=container, duration=0.3)[:256]) == mime


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"hello world, not a video",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 20,
        b"\x00\x00\x00\x20ftypM4A " + b"\x00" * 20,
    ],
)
def test_sniff_rejects_non_video(head: bytes) -> None:
    assert sniff_video_mime(head) is None


# -- encoding ------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5, 3 * 1024 * 1024 + 1, 7_000_001])
def test_encode_data_url_matches_base64(size: int) -> None:
    data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    url = encode_data_url(io.BytesIO(data), len(data), "video/mp4")
    assert url == "data:video/mp4;base64," + base64.b64encode(data).decode()
    assert len(url) == data_url_length(size, "video/mp4")


class _ShortReads(io.BytesIO):
    """A stream that returns fewer bytes than asked, like a pipe or socket."""

    def read(self, size: int | None = -1) -> bytes:
        return super().read(min(size if size and size > 0 else 1 << 30, 1000))


def test_encode_data_url_survives_short_reads() -> None:
    data = bytes(range(256)) * 40
    url = encode_data_url(_ShortReads(data), len(data), "video/mp4")
    assert url.endswith(base64.b64encode(data).decode())


def test_encode_data_url_raises_when_the_stream_ends_early() -> None:
    with pytest.raises(VideoSourceError, match="ended after 10"):
        encode_data_url(io.BytesIO(b"0123456789"), 20, "video/mp4")


def test_encoding_holds_no_copy_of_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "big.mp4"
    head = video_bytes(duration=0.2)
    size = 6_000_000
    path.write_bytes(head + b"\x00" * (size - len(head)))
    tracemalloc.start()
    part = VideoLoader().load(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    text = base64_length(size)
    # the buffer plus the final str, never bytes + base64 bytes + str + concatenation
    assert peak < 2 * text + 4 * 1024 * 1024
    assert len(part["video_url"]["url"]) > text


# -- VideoLoader ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("container", "mime"),
    [
        ("mp4", "video/mp4"),
        ("mov", "video/quicktime"),
        ("avi", "video/x-msvideo"),
        ("wmv", "video/x-ms-wmv"),
    ],
)
def test_load_local_files(tmp_path: Path, container: str, mime: str) -> None:
    path = make_video(tmp_path / f"clip.{container}", container=container, duration=0.5)
    part = VideoLoader(fps=1, media_resolution="max").load(path)
    assert part["fps"] == 1
    assert part["media_resolution"] == "max"
    prefix = f"data:{mime};base64,"
    assert part["video_url"]["url"].startswith(prefix)
    assert base64.b64decode(part["video_url"]["url"][len(prefix) :]) == path.read_bytes()
    assert VideoLoader().load(str(path)) == VideoLoader().load(path)


def test_mime_comes_from_content_not_extension(tmp_path: Path) -> None:
    path = make_video(tmp_path / "actually_avi.mp4", container="avi", duration=0.3)
    url = VideoLoader().load(path)["video_url"]["url"]
    assert url.startswith("data:video/x-msvideo;base64,")


def test_load_bytes_and_file_objects() -> None:
    data = video_bytes(duration=0.3)
    expected = "data:video/mp4;base64," + base64.b64encode(data).decode()
    loader = VideoLoader()
    assert loader.load(data)["video_url"]["url"] == expected
    assert loader.load(bytearray(data))["video_url"]["url"] == expected
    assert loader.load(io.BytesIO(data))["video_url"]["url"] == expected


def test_load_file_object_from_its_current_position() -> None:
    data = video_bytes(duration=0.3)
    stream = io.BytesIO(b"JUNK" + data)
    stream.seek(4)
    assert VideoLoader().load(stream)["video_url"]["url"].endswith(base64.b64encode(data).decode())


def test_load_urls() -> None:
    loader = VideoLoader(fps=0.5)
    assert loader.load(URL) == make_video_part(URL, fps=0.5)
    data_url = "data:video/mp4;base64," + base64.b64encode(video_bytes(duration=0.2)).decode()
    assert loader.load(data_url)["video_url"]["url"] == data_url


def test_per_call_options_override_the_loader() -> None:
    part = VideoLoader(fps=1).load(URL, fps=4, media_resolution="max")
    assert (part["fps"], part["media_resolution"]) == (4, "max")


def test_loader_rejects_bad_options_at_construction() -> None:
    with pytest.raises(VideoValidationError):
        VideoLoader(fps=0)
    with pytest.raises(VideoValidationError):
        VideoLoader(media_resolution="4k")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(VideoSourceError, match="not found"):
        VideoLoader().load(tmp_path / "nope.mp4")


def test_folder_is_not_a_video(tmp_path: Path) -> None:
    with pytest.raises(VideoSourceError, match=r"folder|not a regular file"):
        VideoLoader().load(tmp_path)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_video(tmp_path / "locked.mp4", duration=0.2)

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    # chmod would not stop root (CI runs as root), so refuse the open itself.
    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(VideoSourceError, match="permission denied"):
        VideoLoader().load(path)


def test_non_video_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("this is a text file with a video name")
    with pytest.raises(VideoSourceError, match=r"not a video container.*suggests video/mp4"):
        VideoLoader().load(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(VideoSourceError, match="empty"):
        VideoLoader().load(path)


def test_non_video_bytes() -> None:
    with pytest.raises(VideoSourceError, match="not a video"):
        VideoLoader().load(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)


def test_other_video_containers_warn_without_conversion(tmp_path: Path) -> None:
    path = make_video(tmp_path / "clip.webm", container="webm", duration=0.3)
    with pytest.warns(UserWarning, match="documents only MP4, MOV, AVI and WMV"):
        part = VideoLoader(convert=False).load(path)
    assert part["video_url"]["url"] == "data:video/webm;base64," + base64.b64encode(
        path.read_bytes()
    ).decode("ascii")


def test_oversize_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.mp4"
    head = video_bytes(duration=0.2)
    with path.open("wb") as stream:
        stream.write(head)
        stream.truncate(38 * 1024 * 1024)  # sparse: costs no disk, base64 is ~53 MB
    tracemalloc.start()
    with pytest.raises(VideoTooLargeError) as caught:
        VideoLoader(fit=False).load(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1_000_000  # refused from the file's size, not after reading it
    message = str(caught.value)
    assert "39.8 MB" in message
    assert "fit=True" in message
    assert "URL" in message


def test_explicit_mime_type() -> None:
    data = video_bytes(duration=0.2)
    assert (
        VideoLoader()
        .load(data, mime_type="video/mp4")["video_url"]["url"]
        .startswith("data:video/mp4;")
    )
    with pytest.raises(VideoValidationError, match="video type"):
        VideoLoader().load(data, mime_type="image/png")


def test_max_bytes(tmp_path: Path) -> None:
    path = make_video(tmp_path / "clip.mp4", duration=0.5)
    with pytest.raises(VideoTooLargeError, match="max_bytes"):
        VideoLoader(max_bytes=100).load(path)


def test_unsupported_source_type() -> None:
    with pytest.raises(VideoSourceError, match="Cannot load a video from a int"):
        VideoLoader().load(42)  # type: ignore[arg-type]


async def test_aload_matches_load(tmp_path: Path) -> None:
    path = make_video(tmp_path / "clip.mp4", duration=0.3)
    assert await VideoLoader().aload(path) == VideoLoader().load(path)


# -- fit, clips and segments ----------------------------------------------------


def _decoded(part: dict) -> bytes:
    return base64.b64decode(part["video_url"]["url"].split(",", 1)[1])


def test_oversize_file_is_fitted_by_default(tmp_path: Path) -> None:
    path = tmp_path / "huge.mp4"
    with path.open("wb") as stream:
        stream.write(video_bytes(width=320, height=240, duration=1.0, audio=True))
        stream.truncate(38 * 1024 * 1024)  # padding after the video: base64 ~53 MB
    before = probe(path)
    part = VideoLoader(fps=2).load(path)
    assert part["video_url"]["url"].startswith("data:video/mp4;base64,")
    fitted = probe(_decoded(part))
    assert len(part["video_url"]["url"]) < MAX_BASE64_BYTES
    assert (fitted.width, fitted.height) == frame_size(before.duration, 320, 240, 2)
    assert fitted.video_codec == "h264"
    assert fitted.has_audio
    assert estimate_video_tokens(fitted.duration, fitted.width, fitted.height) == (
        estimate_video_tokens(before.duration, before.width, before.height)
    )
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_fit_always_re_encodes_small_videos_too(tmp_path: Path) -> None:
    path = make_video(tmp_path / "clip.avi", container="avi", width=640, height=360, duration=1.0)
    part = VideoLoader(fit="always", fps=1, media_resolution="default").load(path)
    info = probe(_decoded(part))
    assert info.container == "mp4"
    assert (info.width, info.height) == frame_size(1.0, 640, 360, 1)
    assert part["fps"] == 1


def test_fit_mode_is_validated() -> None:
    with pytest.raises(VideoValidationError, match="fit must be"):
        VideoLoader(fit="sometimes")  # type: ignore[arg-type]


@pytest.mark.parametrize("fit", [True, False])
def test_load_a_clip(tmp_path: Path, fit: bool) -> None:
    path = make_video(tmp_path / "long.mp4", duration=4.0, fps=10, audio=True, width=160, height=96)
    part = VideoLoader(fit=fit).load(path, start=1.0, end=2.5)
    info = probe(_decoded(part))
    assert info.duration == pytest.approx(1.5, abs=0.1)  # within one frame
    assert info.has_audio


def test_clip_of_bytes_and_data_urls(tmp_path: Path) -> None:
    data = video_bytes(duration=3.0, fps=10)
    data_url = "data:video/mp4;base64," + base64.b64encode(data).decode()
    for source in (data, data_url, io.BytesIO(data)):
        part = VideoLoader().load(source, start=0.5)
        assert probe(_decoded(part)).duration == pytest.approx(2.5, abs=0.1)


def test_clip_range_is_validated(tmp_path: Path) -> None:
    path = make_video(tmp_path / "v.mp4", duration=2.0)
    with pytest.raises(VideoValidationError, match="before end"):
        VideoLoader().load(path, start=1.5, end=1.0)
    with pytest.raises(VideoValidationError, match="past the end"):
        VideoLoader().load(path, start=5.0)


def test_url_clips_are_explained_not_attempted() -> None:
    with pytest.raises(VideoValidationError, match="no server-side start/end offsets"):
        VideoLoader().load(URL, start=10, end=20)


def test_clip_of_a_non_video(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("not a video")
    with pytest.raises(VideoSourceError, match="not a video"):
        VideoLoader().load(path, start=0, end=1)


def test_split_covers_the_video_with_overlap(tmp_path: Path) -> None:
    path = make_video(tmp_path / "talk.mp4", duration=7.0, fps=10, audio=True)
    segments = VideoLoader(fps=1).split(path, segment_seconds=3, overlap_seconds=1)
    ranges = [(s.start, s.end) for s in segments]
    assert ranges[0][0] == 0
    assert ranges[-1][1] == pytest.approx(probe(path).duration)
    for (_, previous_end), (start, _) in itertools.pairwise(ranges):
        assert previous_end - start == pytest.approx(1.0)  # overlap honoured, no gap
    for segment in segments:
        info = probe(_decoded(segment.part))
        assert info.duration == pytest.approx(segment.end - segment.start, abs=0.1)
        assert segment.part["fps"] == 1
        assert len(segment.part["video_url"]["url"]) < MAX_BASE64_BYTES


def test_iter_segments_is_lazy(tmp_path: Path) -> None:
    path = make_video(tmp_path / "talk.mp4", duration=6.0, fps=10)
    segments = VideoLoader().iter_segments(path, segment_seconds=2)
    first = next(segments)
    assert (first.start, first.end) == (0, 2)


def test_split_refuses_urls() -> None:
    with pytest.raises(VideoValidationError, match="Download the video"):
        VideoLoader().split(URL, 10)


def test_a_300_mb_local_file_becomes_a_working_part(tmp_path: Path) -> None:
    path = tmp_path / "phone.mp4"
    with path.open("wb") as stream:
        stream.write(video_bytes(width=640, height=360, duration=2.0, audio=True))
        stream.truncate(300_000_000)  # sparse: the real video plus padding, no disk cost
    part = VideoLoader().load(path)
    assert len(part["video_url"]["url"]) < MAX_BASE64_BYTES
    assert probe(_decoded(part)).has_audio


def test_encoded_here_remembers_by_content_and_forgets_the_oldest() -> None:
    from langchain_mimo_video._data_urls import _EncodedHere

    seen = _EncodedHere(capacity=2)
    first, second, third = "data:video/mp4;base64,AAAA", "data:video/mp4;base64,BBBB", "x" * 9
    seen.add(first)
    assert first in seen
    assert "".join(["data:video/mp4;base64,", "AAAA"]) in seen  # an equal string
    assert second not in seen  # same length, other content
    seen.add(second)
    seen.add(third)
    assert first not in seen  # the oldest was forgotten
    assert second in seen
    assert third in seen


# -- real-world sources and hostile files ----------------------------------------------


def _mp4_cut_short(tmp_path: Path) -> bytes:
    """An MP4 with its index at the end (as written to memory), cut before the index."""
    data = video_bytes(duration=1.0, audio=True)
    assert data.find(b"moov") > data.find(b"mdat")
    return data[: data.find(b"moov") - 4]


HOSTILE = {
    "ftyp-then-garbage": (
        lambda tmp: b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 40,
        "not a video PyAV can read",
    ),
    "moov-at-end-cut-short": (_mp4_cut_short, "not a video PyAV can read"),
    "audio-only-mp4": (lambda tmp: audio_only_mp4(), "no video stream"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
@pytest.mark.parametrize("kind", ["path", "bytes", "file", "data-url"])
def test_load_refuses_data_that_does_not_decode(tmp_path: Path, case: str, kind: str) -> None:
    make, needle = HOSTILE[case]
    data = make(tmp_path)
    assert sniff_video_mime(data[:64]) == "video/mp4"  # the first bytes look fine
    path = tmp_path / "video.mp4"
    path.write_bytes(data)
    source: Any = {
        "path": path,
        "bytes": data,
        "file": io.BytesIO(data),
        "data-url": "data:video/mp4;base64," + base64.b64encode(data).decode(),
    }[kind]
    with pytest.raises(VideoSourceError, match=needle):
        VideoLoader().load(source)


def test_load_refuses_a_file_whose_frames_do_not_decode(tmp_path: Path) -> None:
    # A valid AVI header followed by zeroed frames: it opens, but nothing decodes.
    data = bytearray(make_video(tmp_path / "v.avi", container="avi", duration=1).read_bytes())
    start = data.find(b"movi") + 4
    data[start:] = bytes(len(data) - start)
    with pytest.raises(VideoSourceError, match="first frame does not decode"):
        VideoLoader().load(bytes(data))


def test_load_checks_a_file_object_in_place() -> None:
    data = video_bytes(duration=0.3)
    stream = io.BytesIO(b"JUNK" + data)
    stream.seek(4)
    url = VideoLoader().load(stream)["video_url"]["url"]
    assert url == "data:video/mp4;base64," + base64.b64encode(data).decode()
    stream = io.BytesIO(b"JUNK" + b"\x00\x00\x00\x18ftypmp42" + bytes(500))
    stream.seek(4)
    with pytest.raises(VideoSourceError):
        VideoLoader().load(stream)


@pytest.mark.parametrize("opener", ["text-file", "string-io"])
@pytest.mark.parametrize("cut", [False, True])
def test_text_mode_file_objects_are_refused(tmp_path: Path, opener: str, cut: bool) -> None:
    path = make_video(tmp_path / "v.mp4", duration=0.3)
    stream: Any = path.open("r") if opener == "text-file" else io.StringIO("not bytes")
    with stream, pytest.raises(VideoSourceError, match="binary mode"):
        VideoLoader().load(stream, start=0.0 if cut else None, end=0.2 if cut else None)


def test_empty_bytes_read_as_english() -> None:
    with pytest.raises(VideoSourceError, match=r"^The bytes are empty"):
        VideoLoader().load(b"")
    with pytest.raises(VideoSourceError, match=r"^The bytes are not a video container"):
        VideoLoader().load(b"plain text, not a video")


def test_a_web_address_without_its_scheme_gets_a_hint() -> None:
    with pytest.raises(VideoSourceError, match=r"'https://example\.com/v\.mp4'"):
        VideoLoader().load("example.com/v.mp4")
    with pytest.raises(VideoSourceError) as caught:
        VideoLoader().load("clips/v.mp4")
    assert "https://" not in str(caught.value)


def test_home_folder_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    data = video_bytes(duration=0.3)
    (tmp_path / "clip.mp4").write_bytes(data)
    url = VideoLoader().load("~/clip.mp4")["video_url"]["url"]
    assert url == "data:video/mp4;base64," + base64.b64encode(data).decode()
    assert VideoLoader().load(Path("~/clip.mp4"), start=0, end=0.2)["video_url"]["url"]


@pytest.mark.parametrize("source", ["~0", "~no-such-user-here/clip.mp4"])
def test_unknown_user_in_a_home_path_is_a_missing_file(source: str) -> None:
    # pathlib raises RuntimeError for an unknown user; a person gets "not found" instead.
    with pytest.raises(VideoSourceError, match=r"Video file not found"):
        VideoLoader().load(source)


@pytest.mark.parametrize("fit", [True, False])
def test_ntsc_clip_through_the_loader(tmp_path: Path, fit: bool) -> None:
    spec = next(spec for spec in CORPUS if spec.name == "ntsc-30")
    path = build(spec, tmp_path)
    part = VideoLoader(fps=10, fit=fit).load(path, start=0.0, end=0.5)
    data = base64.b64decode(part["video_url"]["url"].split(",", 1)[1])
    assert probe(data).duration == pytest.approx(0.5, abs=1e-3)
    segments = VideoLoader(fps=8).split(path, 0.3)
    assert segments[-1].end == probe(path).duration


@pytest.mark.parametrize(
    ("name", "copied"), [("h264-mkv", True), ("camera-ts", True), ("vp9-webm", False)]
)
def test_undocumented_containers_are_converted(tmp_path: Path, name: str, copied: bool) -> None:
    spec = next(spec for spec in CORPUS if spec.name == name)
    path = build(spec, tmp_path)
    original = probe(path)
    part = VideoLoader().load(path)
    url = part["video_url"]["url"]
    assert url.startswith("data:video/mp4;base64,")
    converted = probe(base64.b64decode(url.split(",", 1)[1]))
    assert converted.container == "mp4"
    assert converted.video_codec == "h264"
    assert (converted.width, converted.height) == (original.width, original.height)
    assert converted.duration == pytest.approx(original.duration, abs=0.05)
    with av.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as container:
        # a remux keeps the packets (and their time base); a re-encode writes microseconds
        video = container.streams.video[0]
        assert (video.time_base == Fraction(1, 1_000_000)) is not copied


def test_documented_containers_are_sent_as_they_are(tmp_path: Path) -> None:
    for container in ("mp4", "mov", "avi", "wmv"):
        path = make_video(tmp_path / f"v.{container}", container=container, duration=0.3)
        url = VideoLoader().load(path)["video_url"]["url"]
        assert url.endswith(base64.b64encode(path.read_bytes()).decode())


def test_show_progress_reports_a_re_encode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bars: list[Any] = []

    class Bar:
        def __init__(self, *, total: float, desc: str, **_: Any) -> None:
            self.total, self.desc, self.n, self.updates, self.closed = total, desc, 0.0, 0, False
            bars.append(self)

        def update(self, step: float) -> None:
            self.n += step
            self.updates += 1

        def close(self) -> None:
            self.closed = True

    monkeypatch.setattr(media_steps, "tqdm_class", lambda: Bar)
    path = make_video(tmp_path / "v.mp4", duration=1.0, fps=10)
    VideoLoader(fit="always", show_progress=True).load(path)
    (bar,) = bars
    assert "re-encoding" in bar.desc
    assert bar.total == pytest.approx(1.0)
    assert bar.n == pytest.approx(1.0, abs=0.15)
    assert bar.updates >= 5  # one per decoded packet, not one at the end
    assert bar.closed
    VideoLoader(fit="always").load(path)
    assert len(bars) == 1  # no bar unless asked


def test_show_progress_is_validated() -> None:
    with pytest.raises(VideoValidationError, match="True or False"):
        VideoLoader(show_progress="yes")  # type: ignore[arg-type]
    with pytest.raises(VideoValidationError, match="True or False"):
        VideoLoader(convert=None)  # type: ignore[arg-type]
