"""Every example has a real ``--help`` and exits 3 without an API key, as the CLI does.

``--help`` runs each script as a user would (a subprocess of ``python examples/x.py``); the
missing-key runs call each example's ``main`` with ``MIMO_API_KEY`` unset, and nothing is
sent (the key is checked before any request).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from langchain_mimo_video import cli

ROOT = Path(__file__).parents[2]
VIDEOS = ROOT / "tests" / "data" / "videos"
EXAMPLES = sorted(path.name for path in (ROOT / "examples").glob("*.py"))


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"help_{name[:-3]}", ROOT / "examples" / name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_example_is_covered() -> None:
    assert EXAMPLES == [
        "agent_watch_video.py",
        "batch_describe.py",
        "local_file_fit_clip.py",
        "quickstart.py",
        "rag_video_library.py",
        "ray_describe.py",
        "stream_reasoning.py",
    ]


@pytest.mark.parametrize("name", EXAMPLES)
def test_help_is_help_not_a_file_name(name: str, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "MIMO_API_KEY"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: {name}")
    assert "not found" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_option_says_what_it_does(name: str) -> None:
    parser = load_example(name).build_parser()
    assert parser.description
    undocumented = [
        action.dest
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction) and not (action.help or "").strip()
    ]
    assert undocumented == []


def _no_key_argv(tmp_path: Path) -> dict[str, list[str]]:
    return {
        "quickstart.py": [str(VIDEOS / "kitten.mp4")],
        "stream_reasoning.py": [str(VIDEOS / "kitten.mp4")],
        "local_file_fit_clip.py": [str(VIDEOS / "traffic.mp4"), "--start", "1", "--end", "2"],
        "batch_describe.py": [str(VIDEOS / "clip.mov"), "-o", str(tmp_path / "out.jsonl")],
        "rag_video_library.py": [
            str(VIDEOS),
            "What is red?",
            "--segment-seconds",
            "2",
            "--overlap-seconds",
            "0",
        ],
        "agent_watch_video.py": ["kitten.mp4", "--allow-dir", str(VIDEOS)],
        "ray_describe.py": [str(VIDEOS / "clip.mov"), "-o", str(tmp_path / "out.jsonl")],
    }


@pytest.mark.parametrize("name", EXAMPLES)
def test_missing_key_exits_3_like_the_cli(
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("MIMO_API_KEY", raising=False)
    monkeypatch.setenv("MIMO_BASE_URL", "http://127.0.0.1:9/v1")  # nothing there, never reached
    code = load_example(name).main(_no_key_argv(tmp_path)[name])
    captured = capsys.readouterr()
    assert code == cli.EXIT_NO_KEY == 3
    assert "MIMO_API_KEY" in captured.err
    assert "Traceback" not in captured.err
