"""``VideoDescriptionLoader.from_directory`` on a folder with no videos raises, saying why."""

from __future__ import annotations

from pathlib import Path

import pytest

from langchain_mimo_video.document_loaders import VideoDescriptionLoader
from langchain_mimo_video.errors import VideoSourceError


def test_an_empty_folder_raises_naming_the_folder_and_glob(tmp_path: Path) -> None:
    with pytest.raises(VideoSourceError) as caught:
        VideoDescriptionLoader.from_directory(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"No videos in {tmp_path}: no file matches glob='**/*'")
    assert "allow_empty=True" in message


def test_files_without_a_video_suffix_are_counted_and_suffixes_none_is_suggested(
    tmp_path: Path,
) -> None:
    for name in ("notes.txt", "clip.mkv"):
        (tmp_path / name).write_bytes(b"")
    with pytest.raises(VideoSourceError, match=r"2 files match glob='\*\*/\*', but none ends in"):
        VideoDescriptionLoader.from_directory(tmp_path)
    with pytest.raises(VideoSourceError, match="suffixes=None"):
        VideoDescriptionLoader.from_directory(tmp_path)


def test_a_glob_that_matches_nothing_mentions_case(tmp_path: Path) -> None:
    (tmp_path / "clip.MP4").write_bytes(b"")
    with pytest.raises(VideoSourceError, match="case-sensitive"):
        VideoDescriptionLoader.from_directory(tmp_path, glob="*.mp4")
    found = VideoDescriptionLoader.from_directory(tmp_path, glob="*.MP4")
    assert [Path(source).name for source in found.sources] == ["clip.MP4"]


def test_allow_empty_returns_a_loader_over_nothing(tmp_path: Path) -> None:
    loader = VideoDescriptionLoader.from_directory(tmp_path, allow_empty=True, max_concurrency=2)
    assert loader.sources == []
    assert loader.max_concurrency == 2
