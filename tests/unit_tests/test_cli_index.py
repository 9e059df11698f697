"""``mimo-video index DIR``: JSON lines out, resumable through its cache, --estimate only."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import httpx2
import pytest

from langchain_mimo_video import cli
from langchain_mimo_video._cli_index import CACHE_NAME
from tests.unit_tests.test_document_loaders import VIDEOS, FakeMiMo


def run(argv: list[str], **chat_params: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, stdout=out, stderr=err, **chat_params)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def library(tmp_path: Path) -> Path:
    folder = tmp_path / "library"
    folder.mkdir()
    shutil.copy(VIDEOS / "traffic.mp4", folder / "traffic.mp4")
    shutil.copy(VIDEOS / "kitten.mp4", folder / "kitten.mp4")
    (folder / "notes.txt").write_text("not a video")
    return folder


def fake_params(fake: FakeMiMo) -> dict[str, Any]:
    return {
        "api_key": "test-key",
        "max_retries": 0,
        "http_client": httpx2.Client(transport=httpx2.MockTransport(fake.handler)),
    }


def test_estimate_prints_the_table_and_does_nothing_else(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MIMO_API_KEY", raising=False)
    code, out, err = run(["index", str(library), "--segment-seconds", "2", "--estimate"])
    assert code == 0, err
    rows = dict(re.match(r"(.*?)\s{2,}(.*)$", line).groups() for line in out.splitlines())  # type: ignore[union-attr]
    assert (rows["videos"], rows["segments"], rows["already cached"]) == ("2", "4", "0")
    assert rows["requests to send"] == "4"
    assert rows["input cost"].endswith(" CNY")

    code, out, _ = run(["index", str(library), "--whole", "--estimate", "--json"])
    assert code == 0
    figures = json.loads(out)
    assert (figures["videos"], figures["segments"], figures["requests"]) == (2, 2, 2)
    assert figures["video_tokens"] > 0 and figures["input_cost"] > 0


def test_index_writes_json_lines_and_resumes_from_its_cache(library: Path) -> None:
    fake = FakeMiMo()
    code, out, err = run(["index", str(library), "--segment-seconds", "2"], **fake_params(fake))
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert [(Path(r["metadata"]["source"]).name, r["metadata"]["time_range"]) for r in records] == [
        ("kitten.mp4", "00:00-00:02"),
        ("traffic.mp4", "00:00-00:02"),
        ("traffic.mp4", "00:02-00:04"),
        ("traffic.mp4", "00:04-00:06"),
    ]
    assert all(r["id"] and r["page_content"].startswith("Described") for r in records)
    assert "4/4 segments, 0 cached, 0 failed" in err
    assert (library / CACHE_NAME).exists()

    code, again, err = run(["index", str(library), "--segment-seconds", "2"], **fake_params(fake))
    assert code == 0 and again == out
    assert "4/4 segments, 4 cached" in err
    assert len(fake.bodies) == 4  # the second run sent nothing

    code, out, _ = run(
        ["index", str(library), "--segment-seconds", "2", "--estimate"], **fake_params(fake)
    )
    assert re.search(r"^already cached\s+4$", out, re.MULTILINE)
    assert re.search(r"^requests to send\s+0$", out, re.MULTILINE)


def test_out_appends_to_a_file(library: Path, tmp_path: Path) -> None:
    fake = FakeMiMo()
    target = tmp_path / "docs.jsonl"
    argv = ["index", str(library), "--whole", "--no-cache", "--out", str(target)]
    code, out, err = run(argv, **fake_params(fake))
    assert code == 0, err
    assert out == ""
    assert len(target.read_text().splitlines()) == 2
    assert not (library / CACHE_NAME).exists()


def test_a_budget_stops_the_run_with_exit_1(library: Path) -> None:
    fake = FakeMiMo()
    argv = ["index", str(library), "--whole", "--max-input-tokens", "0"]
    code, out, err = run(argv, **fake_params(fake))
    assert code == 1
    assert out == "" and fake.bodies == []
    assert "Stopped before describing" in err and "max_input_tokens" in err


def test_index_without_a_key_exits_3_before_reading(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MIMO_API_KEY", raising=False)
    code, out, err = run(["index", str(library)])
    assert code == 3 and out == ""
    assert "API key" in err
    assert not (library / CACHE_NAME).exists()  # stopped before anything was opened


def test_a_folder_without_videos_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = run(["index", str(tmp_path), "--estimate"])
    assert code == 4
    assert "No videos in" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--scenes", "--scene-threshold", "300"], "above 0 and at most 255, got 300"),
        (["--scenes", "--scene-threshold", "0"], "above 0 and at most 255, got 0"),
        (["--scenes", "--scene-threshold", "many"], "not a number: 'many'"),
    ],
)
def test_a_bad_scene_threshold_is_refused_by_argparse(
    library: Path, argv: list[str], message: str
) -> None:
    err = io.StringIO()
    with pytest.raises(SystemExit) as caught:
        cli.main(["index", str(library), *argv], stdout=io.StringIO(), stderr=err)
    assert caught.value.code == 2
    assert message in err.getvalue()


def test_a_scene_threshold_without_scenes_exits_2_before_reading(library: Path) -> None:
    fake = FakeMiMo()
    code, _, err = run(["index", str(library), "--scene-threshold", "40"], **fake_params(fake))
    assert code == 2 and "pass --scenes with it" in err
    assert fake.bodies == []
    assert not (library / CACHE_NAME).exists()


def test_the_scene_threshold_reaches_the_plan(tmp_path: Path) -> None:
    pytest.importorskip("scenedetect")
    from tests.videos import make_video

    folder = tmp_path / "library"
    folder.mkdir()
    colours = ["red", "red", "green", "red", "red", "red"]  # cuts at 2 and 3 s
    make_video(folder / "cuts.mp4", duration=6.0, fps=25, colors=colours)
    base = ["index", str(folder), "--scenes", "--min-segment-seconds", "0.5"]
    segments = []
    for extra in ([], ["--scene-threshold", "50"]):
        code, out, err = run([*base, *extra, "--estimate", "--json", "--no-cache"])
        assert code == 0, err
        segments.append(json.loads(out)["segments"])
    assert segments == [3, 1]
