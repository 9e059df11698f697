"""The runnable examples and the CLI's main job, replayed from cassettes."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path
from types import ModuleType

import pytest

from langchain_mimo_video import cli
from tests.integration_tests.conftest import Target

pytestmark = pytest.mark.vcr

ROOT = Path(__file__).parents[2]
VIDEOS = ROOT / "tests" / "data" / "videos"


def example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quickstart(target: Target, capsys: pytest.CaptureFixture[str]) -> None:
    code = example("quickstart").main([str(VIDEOS / "kitten.mp4")], **target.chat_params())
    out = capsys.readouterr().out
    assert code == 0
    assert "2.0 s, 160x90" in out
    assert "[reasoning:" in out
    assert "'video':" in out  # usage details printed


def test_stream_reasoning(target: Target, capsys: pytest.CaptureFixture[str]) -> None:
    code = example("stream_reasoning").main([str(VIDEOS / "traffic.mp4")], **target.chat_params())
    out = capsys.readouterr().out
    assert code == 0
    assert out.index("--- reasoning ---") < out.index("--- answer ---") < out.index("--- usage")
    assert "Colours in order: red, yellow, green" in out


def test_local_file_fit_clip(target: Target, capsys: pytest.CaptureFixture[str]) -> None:
    code = example("local_file_fit_clip").main(
        [str(VIDEOS / "traffic.mp4"), "--start", "2", "--end", "4"], **target.chat_params()
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "traffic.mp4: 6.0 s, 128x72" in out
    assert "estimate:" in out
    assert "2.0 s" in out  # MiMo saw only the two-second clip
    assert "dominant colour yellow" in out


def test_cli_describe_main_job(target: Target) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(
        ["describe", str(VIDEOS / "kitten.mp4"), "-q", "What is in this video?", "--stream"],
        stdout=out,
        stderr=err,
        **target.chat_params(),
    )
    assert code == 0
    assert "Video 1: 2.0 s, 160x90" in out.getvalue()
    assert "[tokens:" in err.getvalue()
