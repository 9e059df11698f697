"""examples/rag_video_library.py indexes through ``index()`` and resumes from ``--cache``.

Runs the example against the contract server on loopback; its request log shows that a
second run over the same library describes nothing again and only asks the question.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from tests.mimo_server.server import MiMoContractServer

ROOT = Path(__file__).parents[2]
VIDEOS = ROOT / "tests" / "data" / "videos"


def example() -> ModuleType:
    path = ROOT / "examples" / "rag_video_library.py"
    spec = importlib.util.spec_from_file_location("rag_video_library_index", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_second_run_with_the_cache_only_asks_the_question(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    library = tmp_path / "library"
    library.mkdir()
    for name in ("traffic.mp4", "kitten.mp4"):
        shutil.copy(VIDEOS / name, library / name)
    cache = tmp_path / "descriptions.sqlite"
    argv = [
        str(library),
        "When is the screen yellow?",
        "--segment-seconds",
        "2",
        "--overlap-seconds",
        "0",
        "--k",
        "1",
        "--cache",
        str(cache),
    ]
    module = example()
    with MiMoContractServer() as server:
        chat = {"api_key": server.api_key, "base_url": server.base_url, "max_retries": 0}
        assert module.main(argv, **chat) == 0
        first = capsys.readouterr().out
        sent_first = len(server.chat_requests)
        assert module.main(argv, **chat) == 0
        second = capsys.readouterr().out
        sent_second = len(server.chat_requests) - sent_first

    assert sent_first == 4 + 1  # 4 segments described, 1 question answered
    assert sent_second == 1  # the descriptions came from the cache
    for out in (first, second):
        assert "Indexed 4 segments of 2 of 2 videos." in out
        assert "index(): 4 added, 0 unchanged, 0 removed" in out
        assert out.split("Sources:")[1].split() == ["[traffic.mp4", "00:02-00:04]"]
