"""Resume a killed description run, re-run a finished one, and check the estimate.

A library of 100 one-second segments (10 generated videos of 10 s) is described by
``VideoDescriptionLoader`` with an SQLite description cache, in a child process
(``tests/resume_child.py``), against the contract server in this process answering every
request after 0.5 s (MiMo's latency stand-in). The server's request log counts what is
sent.

1. First run, fresh cache: the baseline wall time.
2. The same run again over the finished cache: requests sent (target 0) and wall time as
   a fraction of the first run (target <= 5%).
3. A fresh cache, killed with SIGKILL after about half the documents, then run again:
   requests re-sent for segments finished before the kill (target 0), and documents lost
   or duplicated in the resumed run's result (target 0).
4. ``loader.estimate()`` (no request sent) against the usage the server reported for the
   first run, by modality.

Wall times are measured inside the child, from the start of loading to the last document
(interpreter start-up excluded); the process wall time is printed beside them.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._common import (
    REPO_ROOT,
    check_repo_root,
    print_header,
    table,
    verdict,
    work_dir,
)

LATENCY = 0.5
CONCURRENCY = 8
SEGMENT_SECONDS = 1.0
API_KEY = "bench-key"


def make_library(videos: int, seconds: float) -> list[Path]:
    """``videos`` distinct videos of ``seconds``, 160x90 and up (generated once, reused).

    Each has its own width, so no two share their bytes: the cache is keyed on content, and
    two identical files would share their descriptions.
    """
    from tests.videos import make_video

    folder = work_dir("resume")
    colours = ["red", "green", "blue", "yellow", "cyan", "magenta", "orange", "purple"]
    paths = []
    for index in range(videos):
        width = 160 + 16 * index
        path = folder / f"v{index:02d}_{seconds:g}s_{width}w.mp4"
        if not path.exists():
            palette = [colours[(index + k) % len(colours)] for k in range(4)]
            make_video(path, duration=seconds, fps=10, width=width, height=90, colors=palette)
        paths.append(path)
    return paths


def child(base_url: str, videos: list[Path], cache: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.resume_child",
            *map(str, videos),
            "--base-url",
            base_url,
            "--api-key",
            API_KEY,
            "--cache",
            str(cache),
            "--out",
            str(out),
            "--segment-seconds",
            str(SEGMENT_SECONDS),
            "--max-concurrency",
            str(CONCURRENCY),
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def run_to_end(base_url: str, videos: list[Path], cache: Path, out: Path) -> tuple[float, float]:
    """(seconds inside the child, process wall seconds) of a complete run."""
    began = time.perf_counter()
    process = child(base_url, videos, cache, out)
    output, _ = process.communicate(timeout=600)
    wall = time.perf_counter() - began
    if process.returncode != 0:
        raise RuntimeError(f"the run failed:\n{output}")
    last = output.strip().splitlines()[-1]
    return float(last.rsplit("elapsed=", 1)[1]), wall


def records(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


def fresh(folder: Path, *names: str) -> list[Path]:
    paths = [folder / name for name in names]
    for path in paths:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="20 segments instead of 100")
    args = parser.parse_args(argv)
    check_repo_root()
    from langchain_mimo_video import ChatMiMo
    from langchain_mimo_video.document_loaders import VideoDescriptionLoader
    from tests.mimo_server.server import Fault, MiMoContractServer
    from tests.resume_child import finished_segments

    videos, seconds = (4, 5.0) if args.quick else (10, 10.0)
    segments = int(videos * seconds / SEGMENT_SECONDS)
    print_header(
        "VideoDescriptionLoader: resume after SIGKILL, re-run, estimate",
        f"{segments} segments ({videos} videos x {seconds:g} s, {SEGMENT_SECONDS:g} s segments), "
        f"max_concurrency={CONCURRENCY}, server latency {LATENCY} s",
    )
    library = make_library(videos, seconds)
    folder = work_dir("resume")

    class SlowServer(MiMoContractServer):
        def _take_fault(self) -> Fault | None:
            return super()._take_fault() or Fault("slow", {"seconds": LATENCY})

    with SlowServer(API_KEY) as server:
        base_url = server.base_url
        cache_a, out_a, out_a2 = fresh(folder, "a.sqlite", "a.jsonl", "a2.jsonl")
        # 1. first run
        first_inside, first_wall = run_to_end(base_url, library, cache_a, out_a)
        sent_first = len(server.chat_requests)
        # 2. the finished index again
        again_inside, again_wall = run_to_end(base_url, library, cache_a, out_a2)
        sent_again = len(server.chat_requests) - sent_first
        # 3. killed at about half way, then resumed
        cache_b, out_b, out_b2 = fresh(folder, "b.sqlite", "b.jsonl", "b2.jsonl")
        before_kill = len(server.chat_requests)
        process = child(base_url, library, cache_b, out_b)
        assert process.stdout is not None
        seen = 0
        while seen < segments // 2:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError("the run ended before it could be killed")
            seen += line.startswith("doc ")
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
        sent_killed = len(server.chat_requests) - before_kill
        finished = finished_segments(list(map(str, library)), str(cache_b), SEGMENT_SECONDS)
        before_resume = len(server.chat_requests)
        resume_inside, _ = run_to_end(base_url, library, cache_b, out_b2)
        sent_resume = len(server.chat_requests) - before_resume
        # 4. the estimate, made with no key and nothing sent
        estimate = VideoDescriptionLoader(
            library,
            llm=ChatMiMo(api_key=None, base_url=base_url, max_tokens=200),
            segment_seconds=SEGMENT_SECONDS,
        ).estimate()
        assert len(server.chat_requests) == before_resume + sent_resume

    resumed = records(out_b2)
    reference = records(out_a)
    ranges = [(d["source"], d["start"], d["end"]) for d in resumed]
    lost = len({(d["source"], d["start"], d["end"]) for d in reference} - set(ranges))
    duplicated = len(ranges) - len(set(ranges))
    resent = sent_resume - (segments - finished)
    fraction = again_inside / first_inside
    rows = [
        ["first run: requests", f"{sent_first}", f"{segments}", verdict(sent_first == segments)],
        ["first run: wall", f"{first_inside:.2f} s ({first_wall:.2f} s process)", "-", "-"],
        ["re-run finished index: requests", f"{sent_again}", "0", verdict(sent_again == 0)],
        [
            "re-run finished index: wall",
            f"{again_inside:.3f} s ({again_wall:.2f} s process)",
            "-",
            "-",
        ],
        ["re-run / first run (wall)", f"{fraction:.1%}", "<= 5%", verdict(fraction <= 0.05)],
        ["killed run: documents out / requests", f"{seen} / {sent_killed}", "~half", "-"],
        ["segments finished at the kill (cached)", f"{finished}", "-", "-"],
        ["resumed run: requests", f"{sent_resume}", f"{segments - finished}", "-"],
        ["requests re-sent for finished segments", f"{resent}", "0", verdict(resent == 0)],
        ["documents lost in the resumed result", f"{lost}", "0", verdict(lost == 0)],
        ["documents duplicated", f"{duplicated}", "0", verdict(duplicated == 0)],
        ["resumed run: wall", f"{resume_inside:.2f} s", "-", "-"],
    ]
    print(table(["figure", "measured", "target", "met"], rows))

    reported = {
        name: sum(int(d[name]) for d in reference)
        for name in ("input_tokens", "video_tokens", "audio_tokens")
    }
    text = reported["input_tokens"] - reported["video_tokens"] - reported["audio_tokens"]
    estimate_rows = [
        ["requests", estimate.requests, len(reference)],
        ["video tokens", estimate.video_tokens, reported["video_tokens"]],
        ["audio tokens", estimate.audio_tokens, reported["audio_tokens"]],
        ["text tokens", estimate.text_tokens, text],
        ["input tokens", estimate.input_tokens, reported["input_tokens"]],
    ]
    print("\nEstimate (no key, nothing sent) vs the usage the server reported for run 1:")
    print(
        table(
            ["", "estimate", "server", "difference"],
            [[name, a, b, f"{a - b:+d}"] for name, a, b in estimate_rows],
        )
    )
    print(
        f"text: the estimator adds 4 tokens per message for the chat template, which the "
        f"server does not count ({4 * estimate.requests} here)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
