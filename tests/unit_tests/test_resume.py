"""Kill a real description run with SIGKILL part-way, run it again: nothing paid twice.

The run is a child process (``tests/resume_child.py``) talking to the contract server in
this process, which answers each request after a short wait, so the kill lands while
segments are in flight. The server's request log says what was sent.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from langchain_mimo_video.media import plan_segments, probe
from tests.mimo_server.server import Fault, MiMoContractServer
from tests.resume_child import finished_segments
from tests.videos import make_video

REPO = Path(__file__).parents[2]
SEGMENTS = 12


class SlowServer(MiMoContractServer):
    """The contract server, waiting a little before every answer."""

    def _take_fault(self) -> Fault | None:
        return super()._take_fault() or Fault("slow", {"seconds": 0.15})


def child(server: MiMoContractServer, video: Path, cache: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.resume_child",
            str(video),
            "--base-url",
            server.base_url,
            "--api-key",
            server.api_key,
            "--cache",
            str(cache),
            "--out",
            str(out),
            "--segment-seconds",
            "0.5",
            "--max-concurrency",
            "3",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def records(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_run_killed_with_sigkill_resumes_without_sending_finished_segments(
    tmp_path: Path,
) -> None:
    video = make_video(tmp_path / "six.mp4", duration=6.0, fps=10, colors=["red", "green", "blue"])
    planned = plan_segments(probe(video).duration, 0.5)
    assert len(planned) == SEGMENTS
    cache_path, first_out, second_out = (
        tmp_path / "cache.sqlite",
        tmp_path / "first.jsonl",
        tmp_path / "second.jsonl",
    )
    with SlowServer() as server:
        first = child(server, video, cache_path, first_out)
        assert first.stdout is not None
        seen = 0
        deadline = time.monotonic() + 120
        while seen < 5 and time.monotonic() < deadline:  # five documents out, then kill
            line = first.stdout.readline()
            assert line, "the first run ended before it could be killed"
            seen += line.startswith("doc ")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        first.stdout.close()
        assert first.returncode == -signal.SIGKILL
        sent_first = len(server.chat_requests)
        finished = finished_segments([str(video)], str(cache_path), 0.5)
        assert 5 <= finished < SEGMENTS  # killed part-way, with segments finished

        second = child(server, video, cache_path, second_out)
        output, _ = second.communicate(timeout=180)
        assert second.returncode == 0, output
        sent_second = len(server.chat_requests) - sent_first

    # Every unfinished segment needs one request; a finished one re-sent would add one.
    assert sent_second == SEGMENTS - finished
    assert f"done requests={sent_second} cached={finished}" in output
    documents = records(second_out)
    assert [(d["start"], d["end"]) for d in documents] == [pytest.approx(pair) for pair in planned]
    assert len({d["id"] for d in documents}) == SEGMENTS  # none duplicated
    # what the killed run had already handed out is the same in the resumed run
    for before in records(first_out):
        assert before in documents
    assert sent_first + sent_second >= SEGMENTS
