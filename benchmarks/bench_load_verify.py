"""Cost of the check ``VideoLoader.load`` makes before it returns a part (~37 MB file).

With PyAV installed, ``load`` confirms that a local video holds a decodable video stream
(``media.check_decodable``: the header, a video stream, the first frame) before it
base64-encodes it (in a worker thread, while the base64 is written). This measures
``load`` with that check against ``load`` as it runs without PyAV (content sniffing
only), interleaved in the same run, on the ~37 MB MP4 of ``bench_large_file``
(regenerated if missing). Target: the check costs at most 5% of ``load``'s time.

Run from the repository root: ``python -m benchmarks.bench_load_verify [--quick]``.
"""

from __future__ import annotations

import argparse
import gc
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks._common import (
    check_repo_root,
    median,
    megabytes,
    print_header,
    table,
    verdict,
)

__all__ = ["main"]

TARGET = 0.05


def _timed(run: Callable[[], Any]) -> float:
    gc.collect()
    start = time.perf_counter()
    result = run()
    elapsed = time.perf_counter() - start
    del result
    return elapsed


def measure(path: Path, rounds: int) -> dict[str, list[float]]:
    """Seconds per call of each variant, in rotating order so load affects all alike."""
    from langchain_mimo_video import VideoLoader
    from langchain_mimo_video import _media_steps as media_steps
    from langchain_mimo_video.media import check_decodable

    has_pyav = media_steps.has_pyav
    loader = VideoLoader(fit=False)
    data = path.read_bytes()

    def unchecked() -> None:
        # load as it runs without PyAV: content sniffing only, no check, no thread
        media_steps.has_pyav = lambda: False  # type: ignore[assignment]

    def restore() -> None:
        media_steps.has_pyav = has_pyav  # type: ignore[assignment]

    variants: dict[str, Callable[[], Any]] = {
        "load (path), checked": lambda: loader.load(path),
        "load (path), unchecked": lambda: (unchecked(), loader.load(path), restore()),
        "load (bytes), checked": lambda: loader.load(data),
        "load (bytes), unchecked": lambda: (unchecked(), loader.load(data), restore()),
        "check_decodable(path) alone": lambda: check_decodable(path),
        "check_decodable(file) alone": lambda: check_decodable(io.BytesIO(data)),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for _ in range(2):  # warm-up: imports, page cache
        for name in names:
            variants[name]()
    for index in range(rounds):
        for name in names[index % len(names) :] + names[: index % len(names)]:
            times[name].append(_timed(variants[name]))
    restore()
    return times


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 4 MB file, 3 rounds")
    parser.add_argument("--rounds", type=int, default=15, help="timed calls per variant")
    args = parser.parse_args()
    check_repo_root()
    from benchmarks.bench_large_file import large_video

    path = large_video(args.quick)
    rounds = 3 if args.quick else args.rounds
    print_header(
        "bench_load_verify: VideoLoader.load with and without its decodability check",
        f"file: {path.name}, {megabytes(path.stat().st_size)}; {rounds} rounds, medians",
    )
    times = measure(path, rounds)
    medians = {name: median(values) for name, values in times.items()}
    rows = [[name, f"{value * 1000:.1f} ms"] for name, value in medians.items()]
    print(table(["variant", "median"], rows))
    print()
    for kind in ("path", "bytes"):
        checked = medians[f"load ({kind}), checked"]
        unchecked = medians[f"load ({kind}), unchecked"]
        share = (checked - unchecked) / unchecked
        print(
            f"{kind}: the check adds {(checked - unchecked) * 1000:+.1f} ms, "
            f"{share * 100:+.1f}% of load's time (target <= {TARGET * 100:.0f}%): "
            f"{verdict(share <= TARGET)}"
        )


if __name__ == "__main__":
    main()
