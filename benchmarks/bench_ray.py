"""Throughput and worker memory of ``langchain_mimo_video.ray.describe_videos``.

200 short generated videos are described on a local Ray cluster (``num_cpus=2``, no
dashboard, a 100 MB object store) by 2 workers with 4 requests in flight each (8 in all),
against the MiMo contract server in a child process that waits 0.5 s before every answer.

* cluster start (``ray.init``), reported on its own and not counted in the job;
* the job's wall time: ``describe_videos(...)`` (planning: each video put in the store and
  probed, here) to the last row materialized, against the ideal 200 / 8 x 0.5 s = 12.5 s
  (target: at most 1.3x, 16.25 s); planning and the Ray part are also shown apart; then
  the same job again on the same cluster;
* Ray Data's floor, on a fresh cluster: the same blocks and actor pool with a worker that
  imports nothing and only waits 0.5 s per row, twice, so what the package adds to Ray Data
  shows apart from what Ray Data costs on this machine;
* memory: the resident set size of each describing worker, sampled every 0.25 s from the
  first row to the end (first and last quarter, peak), which should stay flat however many
  videos pass through it.

Run from the repository root: ``python -m benchmarks.bench_ray [--videos N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._common import check_repo_root, print_header, require, table, verdict, work_dir
from benchmarks.bench_throughput import slow_server
from tests.ray_cluster import start_cluster

VIDEOS = 200
WORKERS = 2
CONCURRENCY = 8
LATENCY = 0.5
TARGET = 1.3
API_KEY = "bench-key"
PROMPT = "Describe what happens in this video, in order, with on-screen text and speech."
WORKER_NAME = "MapBatches(DescribeSegments)"


def make_videos(count: int) -> list[Path]:
    """``count`` distinct short 160x90 videos, about 1 s each (generated once, reused)."""
    from tests.videos import make_video

    folder = work_dir("ray")
    paths = []
    for index in range(count):
        path = folder / f"v{index:03d}.mp4"
        if not path.exists():
            make_video(path, width=160, height=90, duration=1.0 + 0.005 * index, fps=10)
        paths.append(path)
    return paths


def _raylet_pid() -> int | None:
    import ray

    node = ray._private.worker._global_node
    for name, processes in node.all_processes.items():
        if "raylet" in name and processes:
            return int(processes[0].process.pid)
    return None


def _children(parent: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            if int(fields[1]) != parent:
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                if WORKER_NAME.encode() in cmdline.read():
                    pids.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return pids


def _rss(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


class WorkerMemory:
    """RSS of this cluster's describing workers (children of its raylet), every 0.25 s."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.raylet = _raylet_pid()
        self.samples: dict[int, list[tuple[float, int]]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if self.raylet is None:
                return
            for pid in _children(self.raylet):
                rss = _rss(pid)
                if rss is not None:
                    self.samples.setdefault(pid, []).append((time.perf_counter(), rss))

    def __enter__(self) -> WorkerMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class SleepingWorker:
    """Ray Data's floor: a callable class that only waits the latency for each row.

    It imports nothing of ours and sends nothing; run with the same blocks, actor pool and
    threads as ``describe_videos``, its wall time is what Ray Data itself costs this job.
    """

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=CONCURRENCY // WORKERS)

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        rows = batch.to_pylist()
        list(self.pool.map(lambda _: time.sleep(LATENCY), rows))
        return pa.Table.from_pylist(rows)


@dataclass
class Job:
    """One timed job: from the call that builds the Dataset to its last row."""

    name: str
    seconds: float
    until_first: float
    first_row_at: float
    planning: float | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)


def _consume(name: str, began: float, dataset: Any, planning: float | None) -> Job:
    built = time.perf_counter()
    rows = []
    first_row = None
    for row in dataset.iter_rows():
        rows.append(row)
        first_row = first_row or time.perf_counter()
    seconds = time.perf_counter() - began
    first_row = first_row or built
    return Job(name, seconds, first_row - built, first_row, planning, rows)


def describe_job(name: str, sources: list[str], llm: Any, store: Any) -> Job:
    """``describe_videos`` over ``sources``, timed from the call to the last row."""
    from langchain_mimo_video.ray import describe_videos

    began = time.perf_counter()
    dataset = describe_videos(
        sources, llm=llm, prompt=PROMPT, store=store, workers=WORKERS, concurrency=CONCURRENCY
    )
    return _consume(name, began, dataset, time.perf_counter() - began)


def floor_job(name: str, count: int) -> Job:
    """:class:`SleepingWorker` over ``count`` rows, laid out as ``describe_videos`` does."""
    import ray

    from langchain_mimo_video.ray import _ACTOR_POOL_OPTIONS, _ROWS_PER_SLOT

    began = time.perf_counter()
    slot_rows = CONCURRENCY // WORKERS * _ROWS_PER_SLOT
    dataset = ray.data.from_items(
        [{"row": index} for index in range(count)], override_num_blocks=-(-count // slot_rows)
    ).map_batches(
        SleepingWorker,
        batch_format="pyarrow",
        batch_size=None,
        compute=ray.data.ActorPoolStrategy(size=WORKERS, **_ACTOR_POOL_OPTIONS),
        num_cpus=0.5,
    )
    return _consume(name, began, dataset, None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--videos", type=int, default=VIDEOS, help="videos to describe")
    args = parser.parse_args(argv)
    check_repo_root()
    require("ray", "ray[data]", install='pip install -e ".[ray]"')
    import ray

    from langchain_mimo_video import ChatMiMo, VideoDescriptionLoader
    from langchain_mimo_video.store import MediaStore

    count = args.videos
    ideal = count / CONCURRENCY * LATENCY
    print_header(
        "describe_videos on Ray Data: throughput and worker memory",
        f"{count} videos, {WORKERS} workers x {CONCURRENCY // WORKERS} requests in flight, "
        f"server latency {LATENCY} s (ideal {ideal:.1f} s; target within {TARGET}x = "
        f"{ideal * TARGET:.2f} s)",
    )
    sources = [str(path) for path in make_videos(count)]
    size = sum(Path(path).stat().st_size for path in sources) / len(sources)
    print(f"videos: {len(sources)} x ~{size / 1e3:.1f} kB (160x90, ~1 s, 10 fps)\n")
    store = MediaStore(work_dir("ray-store"))
    starts = []
    with slow_server(LATENCY) as base_url:
        llm = ChatMiMo(base_url=base_url, api_key=API_KEY, max_retries=0, max_tokens=400)
        starts.append(start_cluster())
        try:
            with WorkerMemory() as memory:
                first = describe_job("describe_videos, first job", sources, llm, store)
            second = describe_job("describe_videos, second job, same cluster", sources, llm, store)
        finally:
            ray.shutdown()
        # Ray Data's own cost for this job, on a fresh cluster like the first job's.
        starts.append(start_cluster())
        try:
            floors = [
                floor_job("Ray Data floor (do-nothing worker), first job", count),
                floor_job("Ray Data floor, second job, same cluster", count),
            ]
        finally:
            ray.shutdown()
        # The baseline, in the same run: the local loader's threads, the same 8 in flight.
        local = VideoDescriptionLoader(sources, llm=llm, prompt=PROMPT, max_concurrency=CONCURRENCY)
        local_began = time.perf_counter()
        local_count = sum(1 for _ in local.lazy_load())
        local_seconds = time.perf_counter() - local_began
    for job in (first, second):
        errors = [row["error"] for row in job.rows if row["error"]]
        if len(job.rows) != count or errors:
            raise SystemExit(f"{job.name}: {len(job.rows)} rows of {count}; errors: {errors[:3]}")
    if local_count != count or any(len(job.rows) != count for job in floors):
        raise SystemExit(f"local loader: {local_count} of {count}; floor: {len(floors[0].rows)}")

    def ratio(seconds: float) -> str:
        return f"{seconds / ideal:.2f}x"

    print(f"cluster start (ray.init), not counted: {starts[0]:.2f} s and {starts[1]:.2f} s\n")
    jobs = [first, second, *floors]
    print(
        table(
            ["job", "planning (s)", "until first row (s)", "wall time (s)", "vs ideal", "<= 1.3x"],
            [
                [
                    job.name,
                    "-" if job.planning is None else f"{job.planning:.2f}",
                    f"{job.until_first:.2f}",
                    f"{job.seconds:.2f}",
                    ratio(job.seconds),
                    verdict(job.seconds <= ideal * TARGET),
                ]
                for job in jobs
            ]
            + [
                [
                    "baseline: VideoDescriptionLoader.lazy_load",
                    "-",
                    "-",
                    f"{local_seconds:.2f}",
                    ratio(local_seconds),
                    verdict(local_seconds <= ideal * TARGET),
                ]
            ],
        )
    )
    describing = first.seconds - (first.planning or 0) - first.until_first
    steady = describing / max(1, count - CONCURRENCY)
    print(
        f"\nfirst job over Ray Data's floor: {first.seconds - floors[0].seconds:+.2f} s "
        f"({first.seconds / floors[0].seconds:.2f}x); second job: "
        f"{second.seconds - floors[1].seconds:+.2f} s ({second.seconds / floors[1].seconds:.2f}x)"
    )
    print(
        f"first job after its first row: {steady * CONCURRENCY:.3f} s per request per slot "
        f"(latency {LATENCY} s); throughput {count / first.seconds:.1f} videos/s "
        f"(ideal {CONCURRENCY / LATENCY:.1f}/s)"
    )
    print(f"first job / local loader in the same run: {first.seconds / local_seconds:.2f}x")
    rows_out = []
    for pid, timed in sorted(memory.samples.items()):
        # from the first row on: before it, the worker is still importing and starting
        samples = [rss for when, rss in timed if when >= first.first_row_at]
        if len(samples) < 4:
            continue
        quarter = len(samples) // 4
        rows_out.append(
            [
                str(pid),
                str(len(samples)),
                f"{samples[0] / 1e6:.0f} MB",
                f"{statistics.median(samples[:quarter]) / 1e6:.0f} MB",
                f"{statistics.median(samples[-quarter:]) / 1e6:.0f} MB",
                f"{max(samples) / 1e6:.0f} MB",
                f"{(samples[-1] - samples[0]) / 1e6:+.0f} MB",
            ]
        )
    print(
        "\nResident memory of each describing worker in the first job (from its first row "
        "to the end, sampled every 0.25 s):"
    )
    print(
        table(
            [
                "worker pid",
                "samples",
                "at first row",
                "median, 1st quarter",
                "median, last quarter",
                "peak",
                "last - first",
            ],
            rows_out,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
