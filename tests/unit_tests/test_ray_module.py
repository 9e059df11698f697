"""langchain_mimo_video.ray without a cluster: imports, argument checks, rows to documents.

The cluster runs are in tests/integration_tests/test_ray.py (marker ``ray``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from langchain_core.documents import Document

from langchain_mimo_video import ChatMiMo
from langchain_mimo_video.errors import MiMoError
from langchain_mimo_video.ray import OUTPUT_COLUMNS, describe_videos, rows_to_documents

REPO = Path(__file__).parents[2]


def test_the_package_imports_without_ray_and_says_how_to_get_it() -> None:
    script = textwrap.dedent(
        """
        import sys
        sys.modules["ray"] = None  # as if Ray were not installed
        import langchain_mimo_video
        from langchain_mimo_video.ray import describe_videos
        from langchain_mimo_video import ChatMiMo
        assert "ray" not in {name.split(".")[0] for name in sys.modules if sys.modules[name]}
        try:
            describe_videos(["a.mp4"], llm=ChatMiMo(api_key="k"))
        except Exception as error:
            print(type(error).__name__, error)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("MediaError ")
    assert 'pip install "langchain-mimo-video[ray]"' in result.stdout


def test_importing_the_package_does_not_import_ray() -> None:
    script = "import sys, langchain_mimo_video; print('ray' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("workers", "concurrency", "message"),
    [
        (2, 3, "must be a multiple of workers=2"),
        (0, 8, "workers must be an integer >= 1"),
        (2, True, "concurrency must be an integer >= 1"),
    ],
)
def test_concurrency_is_workers_times_requests_per_worker(
    workers: int, concurrency: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        describe_videos(
            ["a.mp4"], llm=ChatMiMo(api_key="k"), workers=workers, concurrency=concurrency
        )


def test_a_bad_rate_is_refused_before_anything_starts() -> None:
    with pytest.raises(ValueError, match="requests_per_second must be > 0"):
        describe_videos(["a.mp4"], llm=ChatMiMo(api_key="k"), requests_per_second=0)


def row(**values: object) -> dict[str, object]:
    return {**dict.fromkeys(OUTPUT_COLUMNS), **values}


def test_rows_become_documents_and_error_rows_are_skipped_or_raised() -> None:
    metadata = {"source": "a.mp4", "start": 0.0, "end": 1.0, "time_range": "00:00-00:01"}
    rows = [
        row(source="a.mp4", text="A red car.", id="doc-1", metadata=json.dumps(metadata)),
        row(source="b.mp4", time_range="00:00-00:01", error="VideoSourceError: unreadable"),
    ]
    assert rows_to_documents(rows) == [
        Document(id="doc-1", page_content="A red car.", metadata=metadata)
    ]
    with pytest.raises(MiMoError, match=r"b\.mp4 00:00-00:01: VideoSourceError: unreadable"):
        rows_to_documents(rows, errors="raise")
    with pytest.raises(ValueError, match="errors must be"):
        rows_to_documents(rows, errors="ignore")
