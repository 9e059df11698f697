"""Throughput and memory of VideoDescriptionLoader against a server that takes 0.5 s.

The MiMo contract server (tests/mimo_server) runs in a child process and waits 0.5 s
before every answer (a "slow" fault for every request), standing in for MiMo's latency.
32 short generated videos are described with ``max_concurrency=8``:

* wall time of ``VideoDescriptionLoader.lazy_load`` (threads) and ``alazy_load``
  (asyncio), against the ideal 32 / 8 x 0.5 s = 2 s (target: within 1.25x, 2.5 s);
* the same requests through ``ChatMiMo.abatch`` (``max_concurrency=8``), which needs every
  message, video included, built before it starts;
* memory: the peak of Python allocations (tracemalloc) above the start of each run, and
  the peak resident set size sampled every 5 ms, for 32 and 128 videos (the 32 repeated
  four times). The loader holds at most ``max_concurrency`` videos at once, so its peak
  should stay flat as the number of videos grows; ``abatch``'s grows with it.

Memory runs are separate from timed runs (tracemalloc slows allocation down).

Run from the repository root: ``python -m benchmarks.bench_throughput [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks._common import (
    check_repo_root,
    median,
    print_header,
    table,
    verdict,
    work_dir,
)
from benchmarks._servers import child_server

VIDEOS = 32
CONCURRENCY = 8
LATENCY = 0.5
IDEAL = VIDEOS / CONCURRENCY * LATENCY
TARGET = 1.25
API_KEY = "bench-key"
PROMPT = "Describe what happens in this video, in order, with on-screen text and speech."


# -- the slow server (child process) ----------------------------------------------------


def serve(latency: float) -> int:
    """Child process: the contract server, waiting ``latency`` s before every answer."""
    from tests.mimo_server.server import Fault, MiMoContractServer

    class SlowServer(MiMoContractServer):
        def _take_fault(self) -> Fault | None:
            return super()._take_fault() or Fault("slow", {"seconds": latency})

    with SlowServer(API_KEY) as server:
        print(server.base_url, flush=True)
        threading.Event().wait()
    return 0


def slow_server(latency: float) -> contextlib.AbstractContextManager[str]:
    """Start the slow server in a child process; yield its base URL."""
    return child_server("benchmarks.bench_throughput", "--serve", str(latency))


# -- inputs -----------------------------------------------------------------------------


def make_videos(count: int) -> list[Path]:
    """``count`` distinct short 640x360 videos, 1 to ~2.5 s (generated once, reused)."""
    from tests.videos import make_video

    folder = work_dir("throughput")
    paths = []
    for index in range(count):
        path = folder / f"v{index:03d}.mp4"
        if not path.exists():
            make_video(path, width=640, height=360, duration=1.0 + 0.05 * index, fps=15)
        paths.append(path)
    return paths


# -- the runs ---------------------------------------------------------------------------


def run_loader_sync(llm: Any, sources: list[Path]) -> int:
    from langchain_mimo_video.document_loaders import VideoDescriptionLoader

    loader = VideoDescriptionLoader(sources, llm=llm, prompt=PROMPT, max_concurrency=CONCURRENCY)
    return sum(1 for _ in loader.lazy_load())


def run_loader_async(llm: Any, sources: list[Path]) -> int:
    from langchain_mimo_video.document_loaders import VideoDescriptionLoader

    loader = VideoDescriptionLoader(sources, llm=llm, prompt=PROMPT, max_concurrency=CONCURRENCY)

    async def consume() -> int:
        try:
            return len([document async for document in loader.alazy_load()])
        finally:
            await llm.async_client.close()  # in this event loop, before it closes

    return asyncio.run(consume())


def run_abatch(llm: Any, sources: list[Path]) -> int:
    """Every message built first (abatch takes a list), then ``abatch``."""
    from langchain_core.messages import HumanMessage

    from langchain_mimo_video import VideoLoader

    loader = VideoLoader()
    inputs = [
        [HumanMessage(content=[dict(loader.load(path)), {"type": "text", "text": PROMPT}])]
        for path in sources
    ]

    async def consume() -> int:
        try:
            replies = await llm.abatch(inputs, config={"max_concurrency": CONCURRENCY})
        finally:
            await llm.async_client.close()
        return len(replies)

    return asyncio.run(consume())


RUNS: dict[str, Callable[[Any, list[Path]], int]] = {
    "VideoDescriptionLoader.lazy_load": run_loader_sync,
    "VideoDescriptionLoader.alazy_load": run_loader_async,
    "ChatMiMo.abatch": run_abatch,
}


def timed(run: Callable[[Any, list[Path]], int], chat: Any, sources: list[Path]) -> float:
    gc.collect()
    llm = chat()  # a fresh ChatMiMo: its async client must not outlive an event loop
    began = time.perf_counter()
    done = run(llm, sources)
    seconds = time.perf_counter() - began
    assert done == len(sources), f"{done} of {len(sources)} described"
    return seconds


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


class RssSampler:
    """Samples this process's resident set size every ``interval`` seconds."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.start = _rss_bytes()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, _rss_bytes())

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())


def measured(
    run: Callable[[Any, list[Path]], int], chat: Any, sources: list[Path]
) -> tuple[float, float]:
    """(peak Python allocations above the start, peak RSS above the start), in MB."""
    llm = chat()
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    try:
        with RssSampler() as rss:
            done = run(llm, sources)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert done == len(sources)
    return (peak - base) / 1e6, (rss.peak - rss.start) / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="one timed run of each, not three")
    parser.add_argument("--serve", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        return serve(args.serve)
    check_repo_root()
    from langchain_mimo_video import ChatMiMo

    print_header(
        "VideoDescriptionLoader throughput and memory",
        f"{VIDEOS} videos, max_concurrency={CONCURRENCY}, server latency {LATENCY} s "
        f"(ideal {IDEAL:.1f} s; target within {TARGET}x = {IDEAL * TARGET:.2f} s)",
    )
    sources = make_videos(VIDEOS)
    size = sum(path.stat().st_size for path in sources) / len(sources)
    print(f"videos: {len(sources)} x ~{size / 1e3:.0f} kB on average (640x360, 1-2.55 s, 15 fps)\n")
    repeats = 1 if args.quick else 3
    with slow_server(LATENCY) as base_url:

        def chat() -> ChatMiMo:
            return ChatMiMo(base_url=base_url, api_key=API_KEY, max_retries=0, max_tokens=400)

        # Warm-up: imports, connections, and the server's cache of decoded videos (it
        # measures each video it gets; the first time costs it CPU, not latency).
        timed(run_loader_sync, chat, sources)

        # Runs interleave, in a rotating order, so a noisy moment does not hit one of them.
        names = list(RUNS)
        samples: dict[str, list[float]] = {name: [] for name in names}
        for repeat in range(repeats):
            shift = repeat % len(names)
            for name in names[shift:] + names[:shift]:
                samples[name].append(timed(RUNS[name], chat, sources))
        rows = []
        for name in names:
            seconds = median(samples[name])
            rows.append(
                [
                    name,
                    f"{seconds:.2f} s",
                    f"{seconds / IDEAL:.2f}x",
                    f"{len(sources) / seconds:.1f}/s",
                    verdict(seconds <= IDEAL * TARGET),
                ]
            )
        print(f"Wall time, {len(sources)} videos (median of {repeats}):")
        print(table(["run", "wall", "vs ideal 2 s", "videos/s", "within 1.25x"], rows))

        memory_rows = []
        for name in ("VideoDescriptionLoader.lazy_load", "ChatMiMo.abatch"):
            figures = {}
            for count in (VIDEOS, 4 * VIDEOS):
                figures[count] = measured(RUNS[name], chat, (sources * 4)[:count])
            small, large = figures[VIDEOS], figures[4 * VIDEOS]
            memory_rows.append(
                [
                    name,
                    f"{small[0]:.1f} MB",
                    f"{large[0]:.1f} MB",
                    f"{large[0] / small[0]:.2f}x" if small[0] else "-",
                    f"{small[1]:.1f} MB",
                    f"{large[1]:.1f} MB",
                ]
            )
        print(f"\nPeak memory above the start of the run (videos: {VIDEOS} and {4 * VIDEOS}):")
        print(
            table(
                [
                    "run",
                    f"Python peak, {VIDEOS}",
                    f"Python peak, {4 * VIDEOS}",
                    "growth",
                    f"RSS peak, {VIDEOS}",
                    f"RSS peak, {4 * VIDEOS}",
                ],
                memory_rows,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
