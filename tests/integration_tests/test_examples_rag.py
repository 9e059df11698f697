"""The RAG and batch examples, run through their ``main`` against recorded answers.

Record with ``MIMO_RECORD=all pytest tests/integration_tests/test_examples_rag.py``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from tests.integration_tests.conftest import Target

pytestmark = pytest.mark.vcr

ROOT = Path(__file__).parents[2]
VIDEOS = ROOT / "tests" / "data" / "videos"


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", ROOT / "examples" / name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rag_video_library_answers_citing_times(
    target: Target, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = load_example("rag_video_library.py")
    index = tmp_path / "index.json"
    common = ["--segment-seconds", "2", "--overlap-seconds", "0", "--k", "1"]
    chat = target.chat_params(max_retries=0)

    assert (
        example.main(
            [str(VIDEOS), "When is the screen yellow?", *common, "--index", str(index)], **chat
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Indexed 8 segments of 6 of 6 videos." in out
    assert "[traffic.mp4 00:02-00:04]" in out.split("Sources:")[0]  # in the answer
    assert out.split("Sources:")[1].split() == ["[traffic.mp4", "00:02-00:04]"]
    assert index.exists()

    # The saved index answers a second question without describing anything again.
    assert (
        example.main(
            [str(VIDEOS), "Which video turns blue?", *common, "--index", str(index)], **chat
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Loaded the index" in out
    assert out.split("Sources:")[1].split() == ["[kitten.mp4", "00:00-00:02]"]


class SmallEmbeddings(DeterministicFakeEmbedding):
    """Any Embeddings class that builds without arguments can be named on the command line."""

    size: int = 8


def test_rag_example_embeddings_option() -> None:
    example = load_example("rag_video_library.py")
    assert isinstance(example.make_embeddings("keyword"), example.KeywordEmbeddings)
    custom = example.make_embeddings(f"{__name__}:SmallEmbeddings")
    assert isinstance(custom, SmallEmbeddings)
    with pytest.raises(ValueError, match="cannot build"):  # needs a size
        example.make_embeddings("langchain_core.embeddings:DeterministicFakeEmbedding")
    with pytest.raises(ValueError, match="keyword, openai or"):
        example.make_embeddings("word2vec")
    with pytest.raises(ValueError, match="cannot load"):
        example.make_embeddings("no_such_package:Embeddings")


def test_batch_describe_writes_jsonl_in_order(
    target: Target,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    example = load_example("batch_describe.py")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    output = tmp_path / "out.jsonl"
    sources = [str(VIDEOS / "clip.mov"), str(broken), str(VIDEOS / "traffic.mp4")]
    argv = [*sources, "-o", str(output), "--segment-seconds", "2", "--max-concurrency", "3"]

    assert example.main(argv, **target.chat_params(max_retries=0)) == 0

    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert [(Path(x["metadata"]["source"]).name, x["metadata"]["time_range"]) for x in lines] == [
        ("clip.mov", "00:00-00:01"),
        ("traffic.mp4", "00:00-00:02"),
        ("traffic.mp4", "00:02-00:04"),
        ("traffic.mp4", "00:04-00:06"),
    ]
    assert ["dominant colour yellow" in x["page_content"] for x in lines] == [
        False,
        False,
        True,
        False,
    ]
    for line in lines:
        assert line["metadata"]["video_tokens"] > 0
        assert line["metadata"]["model"] == "mimo-v2.5"
    captured = capsys.readouterr()
    assert "Wrote 4 documents" in captured.out
    assert "Skipped 1 that failed" in captured.out
    assert "broken.mp4: VideoSourceError" in caplog.text  # the loader's warning
