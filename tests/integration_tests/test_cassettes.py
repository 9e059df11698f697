"""Promises about the cassettes themselves: provenance, no credentials, small, no fallback."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.cassettes import CASSETTE_ROOT, REPO, record_mode
from tests.integration_tests.conftest import REPLAY_KEY

CASSETTES = sorted(CASSETTE_ROOT.rglob("*.yaml"))
# Key shapes of MiMo (sk-..., tp-...) and any auth header kept by mistake.
SECRET = re.compile(r"\b(sk|tp)-[A-Za-z0-9]{16,}|\"?(authorization|api-key|x-api-key)\"?\s*:", re.I)


def test_there_are_cassettes() -> None:
    assert len(CASSETTES) >= 50


@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: str(p.relative_to(CASSETTE_ROOT)))
def test_cassette_says_where_it_came_from_and_holds_no_secret(path: Path) -> None:
    text = path.read_text()
    data = yaml.safe_load(text)
    recorded_against = data["provenance"]["recorded_against"]
    assert re.search(r"local MiMo contract server|live MiMo API|NOT recorded", recorded_against)
    assert not SECRET.search(text), "a key or an auth header is stored in this cassette"
    assert REPLAY_KEY not in text
    for interaction in data["interactions"]:
        assert set(interaction["request"]["headers"]) <= {"content-type", "Content-Type"}
    assert path.stat().st_size < 2_000_000


def test_ci_can_never_record(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIMO_RECORD", "all")
    monkeypatch.setenv("CI", "true")
    assert record_mode() == "none"
    monkeypatch.delenv("CI")
    assert record_mode() == "all"
    monkeypatch.delenv("MIMO_RECORD")
    assert record_mode() == "none"


def test_a_missing_cassette_fails_instead_of_reaching_the_network(tmp_path: Path) -> None:
    """Run a replayed test in a copy of the repository whose cassette was removed."""
    for name in ("tests", "pyproject.toml"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    (tmp_path / "cassettes").mkdir()  # present but empty: every cassette is missing
    env = {**os.environ, "CI": "true"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "tests/integration_tests/test_faults.py::test_unknown_model_is_a_404",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "CannotOverwriteExistingCassetteException" in output
    assert "1 failed" in output
