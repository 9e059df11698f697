"""Where a describing worker's start-up goes, and whether Ray reuses warm processes for it.

``bench_ray`` shows that the first rows of a ``describe_videos`` job wait several seconds
for Ray Data to start its describing actors. This script takes that start apart:

* imports, each in a fresh interpreter like a new Ray worker (which has ``ray`` already):
  ``ray.data`` (every Ray Data actor needs it), then what a LangChain chat model needs
  (``langchain_core``'s chat model base with LangSmith, ``openai``), then the rest of
  ``langchain_mimo_video.ray``; median of ``--runs`` interpreters;
* process reuse on a local cluster (``num_cpus=2``): task workers are left idle, warm,
  then actors are created with the options Ray Data gives its actors; each is checked
  against the idle processes' ids. A reused process would start with its imports done.

Run from the repository root: ``python -m benchmarks.bench_ray_startup [--runs N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from benchmarks._common import check_repo_root, median, print_header, require, table
from tests.ray_cluster import start_cluster

#: Imported in this order in each fresh interpreter; each figure is the time its step adds.
STEPS = [
    ("ray", "ray (already in every Ray worker)"),
    ("ray.data", "ray.data (Ray Data's actor wrapper)"),
    ("langchain_core.language_models.chat_models", "langchain_core chat model base"),
    ("openai", "openai"),
    ("av", "av (PyAV)"),
    ("langchain_mimo_video.ray", "langchain_mimo_video (its own modules)"),
]

_CHILD = """
import importlib, json, sys, time
out = []
for name in sys.argv[1:]:
    began = time.perf_counter()
    importlib.import_module(name)
    out.append(time.perf_counter() - began)
print(json.dumps(out))
"""


def import_times(runs: int) -> list[list[float]]:
    """Seconds each step of :data:`STEPS` adds, per fresh interpreter."""
    names = [name for name, _ in STEPS]
    results = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, *names], capture_output=True, text=True, check=True
        )
        results.append(json.loads(done.stdout))
    return results


#: Actor options to try: plain, and those Ray Data's ``ActorPoolStrategy`` adds.
ACTOR_OPTIONS: dict[str, dict[str, object]] = {
    "plain actor": {},
    "num_cpus=0.5": {"num_cpus": 0.5},
    "+ max_restarts=-1": {"num_cpus": 0.5, "max_restarts": -1},
    "+ max_concurrency=4": {"num_cpus": 0.5, "max_restarts": -1, "max_concurrency": 4},
}


def process_reuse() -> list[list[str]]:
    """For each of :data:`ACTOR_OPTIONS`: the actor's start time and whether it reused."""
    import ray

    start_cluster()
    try:

        @ray.remote(num_cpus=0)
        def hold() -> int:
            time.sleep(1.0)
            return os.getpid()

        class Probe:
            def pid(self) -> int:
                return os.getpid()

        rows = []
        for name, options in ACTOR_OPTIONS.items():
            idle = set(ray.get([hold.remote() for _ in range(3)]))
            time.sleep(0.5)
            began = time.perf_counter()
            actor = ray.remote(Probe).options(**options).remote()  # type: ignore[arg-type]
            pid = ray.get(actor.pid.remote())
            seconds = time.perf_counter() - began
            ray.kill(actor)
            rows.append([name, str(len(idle)), f"{seconds:.2f}", "yes" if pid in idle else "no"])
        return rows
    finally:
        ray.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters to time")
    args = parser.parse_args(argv)
    check_repo_root()
    require("ray", "ray[data]", install='pip install -e ".[ray]"')
    print_header(
        "describe_videos worker start-up: imports and process reuse",
        f"imports timed in {args.runs} fresh interpreters (median), one after another",
    )
    runs = import_times(args.runs)
    steps = [median(run[index] for run in runs) for index in range(len(STEPS))]
    print(
        table(
            ["step", "seconds (median)"],
            [[label, f"{value:.2f}"] for (_, label), value in zip(STEPS, steps, strict=True)]
            + [
                ["a describing worker's imports beyond ray", f"{sum(steps[1:]):.2f}"],
                ["of which LangChain and openai (any chat model)", f"{sum(steps[2:4]):.2f}"],
            ],
        )
    )
    print("\nDoes a new actor reuse an idle, warm worker process?")
    print(
        table(
            ["actor options", "idle processes", "start (s)", "reused an idle process"],
            process_reuse(),
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
