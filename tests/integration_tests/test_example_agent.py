"""examples/agent_watch_video.py runs end to end, replayed from cassettes.

The example's ``main()`` is imported and pointed at the test target (the replay address,
or the local contract server when recording with ``MIMO_RECORD=all``), so the agent's and
the tool's MiMo calls come from ``cassettes/test_example_agent/<test>.yaml``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from tests.integration_tests.conftest import REPLAY_BASE_URL, Target

EXAMPLE = Path(__file__).parents[2] / "examples" / "agent_watch_video.py"
VIDEOS = Path(__file__).parents[1] / "data" / "videos"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("agent_watch_video", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.vcr
def test_example_agent_watches_a_local_video(
    example: ModuleType, target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    # The video is named relative to --allow-dir, so no machine path is sent or recorded.
    argv = ["kitten.mp4", "How big is the picture?", "--allow-dir", str(VIDEOS)]
    code = example.main(argv, chat_params=target.chat_params(max_retries=0))
    out = capsys.readouterr().out
    assert code == 0
    assert "[agent] calls watch_video({'video': 'kitten.mp4'" in out
    assert "[watch_video] success: Video 1: 2.0 s, 160x90" in out
    answer = out.rstrip().splitlines()[-1]
    assert answer.startswith("The tool watch_video returned: Video 1: 2.0 s, 160x90")


def test_example_without_a_key_explains_and_exits_non_zero(
    example: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MIMO_API_KEY", raising=False)
    code = example.main(
        ["kitten.mp4", "--allow-dir", str(VIDEOS)], chat_params={"base_url": REPLAY_BASE_URL}
    )
    captured = capsys.readouterr()
    assert code == 3  # as the CLI and the other examples
    assert captured.err.startswith("error: No MiMo API key: set the MIMO_API_KEY environment")
    assert captured.out == ""


def test_example_defaults(example: ModuleType) -> None:
    args = example.build_parser().parse_args(["clip.mp4"])
    assert args.question == "What happens in this video?"
    assert (args.model, args.fps, args.allow_dir) == ("mimo-v2.5", 2, [])
    # local files: the video's folder unless --allow-dir is given; URLs: none
    assert example.allowed_dirs_for("videos/clip.mp4", []) == [Path("videos")]
    assert example.allowed_dirs_for("clip.mp4", ["a", "b"]) == ["a", "b"]
    assert example.allowed_dirs_for("https://example.com/clip.mp4", []) == []
