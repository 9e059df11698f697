"""Time and peak memory of sending a ~37 MB local video, ours vs the naive path.

* ours: ``VideoLoader().load(path)`` then ``ChatMiMo.invoke`` with that part;
* baseline (naive): ``base64.b64encode(path.read_bytes())`` into a data URL, then the raw
  openai SDK's ``chat.completions.create`` with the same body;
* diagnostic: ``VideoLoader().load(path)`` into the raw SDK call (splits the loader's cost
  from ChatMiMo's).

The video is a genuine ~37 MB MP4 (noise frames, so it does not compress), just under the
50,000,000-byte limit of its base64 data URL. Each measurement runs in a fresh child
process that first makes one small request (imports, client, connection), then measures
only the video request: wall time, the peak resident memory above the level before it
(Linux ``VmHWM``, reset through ``/proc/self/clear_refs``), and, in a separate child, the
``tracemalloc`` peak. Requests go to a local sink server that reads the body and answers a
fixed completion, so the figures are the client's path; one extra request per variant goes
to the MiMo contract server to show the body is accepted (it decodes the whole video).

Run from the repository root: ``python -m benchmarks.bench_large_file [--quick]``.
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

from benchmarks._common import (
    REPO_ROOT,
    check_repo_root,
    median,
    megabytes,
    print_header,
    require,
    table,
    verdict,
    work_dir,
)
from benchmarks._servers import (
    API_KEY,
    base_url_of,
    contract_server_process,
    sink_server,
)

MODEL = "mimo-v2.5"
QUESTION = "What happens in this clip?"
TARGET_BYTES = 37_000_000
VARIANTS = ("naive", "ours", "loader+raw SDK")


# -- the video ---------------------------------------------------------------------------


def make_large_video(path: Path, target: int) -> Path:
    """Encode noise frames with x264 until the file is about ``target`` bytes.

    Noise does not compress, so every frame adds a few hundred kB; encoding stops when
    the packets written reach the target (the index adds a few kB more).
    """
    import av
    import numpy as np

    width, height, rate = 640, 360, 30
    rng = np.random.default_rng(37)
    written = 0
    with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "12", "tune": "zerolatency"}
        index = 0
        while written < target - 60_000:
            planes = rng.integers(0, 256, size=(height * 3 // 2, width), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            frame.pts, frame.time_base = index, Fraction(1, rate)
            for packet in stream.encode(frame):
                written += packet.size
                out.mux(packet)
            index += 1
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def large_video(quick: bool) -> Path:
    target = 4_000_000 if quick else TARGET_BYTES
    path = work_dir("large_file") / f"noise-{target}.mp4"
    if not path.exists() or abs(path.stat().st_size - target) > 400_000:
        print(f"generating {path.name} (~{megabytes(target)}) ...", flush=True)
        make_large_video(path, target)
    return path


# -- child: one measurement --------------------------------------------------------------


def _rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) of this process; False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as file:
            file.write("5")
        return True
    except OSError:
        return False


def _peak_rss() -> int:
    try:
        with open("/proc/self/status") as file:
            for line in file:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _stages(variant: str, base_url: str) -> tuple[Callable[[Path], Any], Callable[[Any], str]]:
    """The two stages of ``variant``: build the video part, then send the request."""
    import openai
    from langchain_core.messages import HumanMessage

    from langchain_mimo_video import ChatMiMo, VideoLoader

    client = openai.OpenAI(
        api_key=API_KEY, base_url=base_url, max_retries=0, default_headers={"api-key": API_KEY}
    )
    llm = ChatMiMo(model=MODEL, base_url=base_url, api_key=API_KEY, max_retries=0)

    def naive_part(path: Path) -> dict[str, Any]:
        url = "data:video/mp4;base64," + base64.b64encode(path.read_bytes()).decode()
        return {
            "type": "video_url",
            "video_url": {"url": url},
            "fps": 2.0,
            "media_resolution": "default",
        }

    def raw_send(part: Any) -> str:
        response = client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": [part, {"type": "text", "text": QUESTION}]}],
        )
        return response.choices[0].message.content or ""

    def ours_send(part: Any) -> str:
        reply = llm.invoke([HumanMessage(content=[part, {"type": "text", "text": QUESTION}])])
        return str(reply.content)

    # Warm up both clients: imports, connection, lazy SDK setup.
    client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    llm.invoke("hi")
    if variant == "naive":
        return naive_part, raw_send
    loader = VideoLoader()
    return loader.load, ours_send if variant == "ours" else raw_send


def child(variant: str, path: Path, base_url: str, mode: str) -> dict[str, Any]:
    build, send = _stages(variant, base_url)
    gc.collect()
    result: dict[str, Any] = {"variant": variant, "mode": mode}
    if mode == "tracemalloc":
        tracemalloc.start()
        part = build(path)
        result["load_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        answer = send(part)
        result["send_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    else:
        resettable = _reset_peak()
        base = _rss()
        started = time.perf_counter()
        part = build(path)
        loaded = time.perf_counter()
        result["load_peak"] = _peak_rss() - base
        if resettable:
            _reset_peak()
        answer = send(part)
        result["seconds"] = time.perf_counter() - started
        result["load_seconds"] = loaded - started
        result["send_peak"] = _peak_rss() - base
        result["peak_resettable"] = resettable
    result["peak"] = max(result["load_peak"], result["send_peak"])
    result["answer"] = answer[:120]
    return result


def run_child(variant: str, path: Path, base_url: str, mode: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.bench_large_file", "--child", variant]
    command += ["--path", str(path), "--base-url", base_url, "--mode", mode]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child {variant}/{mode} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- parent ------------------------------------------------------------------------------


def explain(
    path: Path,
    size: int,
    naive: dict[str, float],
    ours: dict[str, float],
    loader_raw: dict[str, float],
) -> None:
    """Measure, in this process, the steps that explain the figures above."""
    from openai._utils._json import openapi_dumps

    from langchain_mimo_video import VideoLoader
    from langchain_mimo_video.video import validate_video_url

    part = VideoLoader().load(path)
    url = part["video_url"]["url"]
    # A data URL the package did not encode (same length, last base64 quad changed):
    # sending decodes all of it to prove it clean, while VideoLoader's own is remembered.
    foreign = url[:-4] + ("AAAA" if url[-4:] != "AAAA" else "BBBB")
    checks = []
    for _ in range(3):
        started = time.perf_counter()
        validate_video_url(url)
        checked = time.perf_counter()
        validate_video_url(foreign)
        checks.append((checked - started, time.perf_counter() - checked))
    own = median(c[0] for c in checks)
    other = median(c[1] for c in checks)
    del foreign
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": [part, {"type": "text", "text": QUESTION}]}],
    }
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    encoded = openapi_dumps(body)
    dumped = time.perf_counter() - started
    json_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del encoded
    print("where the time and memory go (measured here, same data URL):")
    gap = (ours["seconds"] - loader_raw["seconds"]) * 1000
    print(
        f"  ChatMiMo.invoke vs the raw SDK call with the same part: {gap:+.0f} ms; the "
        f"data-URL check on sending (validate_video_url) of the {len(url) / 1e6:.1f} MB URL: "
        f"{own * 1000:.2f} ms for VideoLoader's (remembered, not decoded), "
        f"{other * 1000:.0f} ms for a foreign one of the same length (base64-decoded)"
    )
    print(
        f"  the openai SDK's JSON encoding of the body (openapi_dumps: json.dumps then "
        f".encode()): {dumped * 1000:.0f} ms, tracemalloc peak {json_peak / size:.2f}x the "
        f"file on top of the {len(url) / size:.2f}x data URL, in both paths"
    )
    print(
        f"  building the part: naive {naive['load_seconds'] * 1000:.0f} ms "
        f"(peak {naive['traced_load'] / size:.2f}x), VideoLoader "
        f"{ours['load_seconds'] * 1000:.0f} ms (peak {ours['traced_load'] / size:.2f}x)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed child runs per variant")
    parser.add_argument("--quick", action="store_true", help="a 4 MB video and 1 run: smoke run")
    parser.add_argument(
        "--no-contract", action="store_true", help="skip the check against the contract server"
    )
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=("rss", "tracemalloc"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    check_repo_root()
    require("psutil", why="resident-memory measurements")
    if args.child:
        print(json.dumps(child(args.child, args.path, args.base_url, args.mode)))
        return 0
    if args.quick:
        args.runs = 1

    print_header(
        "bench_large_file: VideoLoader + ChatMiMo.invoke vs base64 + raw SDK, ~37 MB file",
        f"{args.runs} timed child processes per variant (interleaved), 1 tracemalloc child "
        "each; sink server on 127.0.0.1 (reads the body, answers a fixed completion)",
    )
    path = large_video(args.quick)
    size = path.stat().st_size
    path.read_bytes()  # into the page cache, for every variant alike
    url_length = len("data:video/mp4;base64,") + 4 * ((size + 2) // 3)
    print(f"video: {path.name}, {size:,} bytes; its data URL: {url_length:,} (limit 50,000,000)")

    results: dict[str, list[dict[str, Any]]] = {variant: [] for variant in VARIANTS}
    traced: dict[str, dict[str, Any]] = {}
    with sink_server() as sink:
        base_url = base_url_of(sink)
        for run in range(args.runs):
            shift = run % len(VARIANTS)
            order = VARIANTS[shift:] + VARIANTS[:shift]
            for variant in order:
                results[variant].append(run_child(variant, path, base_url, "rss"))
            print(f"run {run + 1}/{args.runs} done", flush=True)
        for variant in VARIANTS:
            traced[variant] = run_child(variant, path, base_url, "tracemalloc")
        sent = sink.bytes_received
    print(f"sink received {sent:,} bytes in all\n")

    def figures(variant: str) -> dict[str, float]:
        runs = results[variant]
        return {
            "seconds": median(r["seconds"] for r in runs),
            "load_seconds": median(r["load_seconds"] for r in runs),
            "peak": median(r["peak"] for r in runs),
            "load_peak": median(r["load_peak"] for r in runs),
            "send_peak": median(r["send_peak"] for r in runs),
            "traced": traced[variant]["peak"],
            "traced_load": traced[variant]["load_peak"],
            "traced_send": traced[variant]["send_peak"],
        }

    naive = figures("naive")
    rows = []
    for variant in VARIANTS:
        f = figures(variant)
        rows.append(
            (
                variant + (" (baseline)" if variant == "naive" else ""),
                f"{f['seconds'] * 1000:.0f} ({f['seconds'] / naive['seconds']:.2f}x)",
                f"{f['load_seconds'] * 1000:.0f}",
                f"{f['peak'] / size:.2f}x ({f['peak'] / 1e6:.0f} MB)",
                f"{f['load_peak'] / size:.2f}x / {f['send_peak'] / size:.2f}x",
                f"{f['traced'] / size:.2f}x ({f['traced'] / 1e6:.0f} MB)",
                f"{f['traced_load'] / size:.2f}x / {f['traced_send'] / size:.2f}x",
            )
        )
    print("medians; memory as multiples of the file size; ratios to the naive path:")
    print(
        table(
            [
                "variant",
                "wall ms",
                "of which building the part",
                "peak RSS above start",
                "RSS: part / request stage",
                "tracemalloc peak",
                "tracemalloc: part / request stage",
            ],
            rows,
        )
    )
    if not all(r.get("peak_resettable", True) for rs in results.values() for r in rs):
        print("note: /proc/self/clear_refs was not writable; RSS peaks include the warm-up")
    ours = figures("ours")
    slack = 0.02 * size  # RSS pages and allocator rounding: 2% of the file is "equal"
    print()
    print(
        f"target: no slower than naive: {ours['seconds'] / naive['seconds']:.2f}x -> "
        f"{verdict(ours['seconds'] <= naive['seconds'])}"
    )
    lean = ours["peak"] <= naive["peak"] + slack and ours["traced"] <= naive["traced"] + slack
    print(
        f"target: peak memory <= naive (2% of the file counts as equal): RSS "
        f"{ours['peak'] / naive['peak']:.2f}x, tracemalloc {ours['traced'] / naive['traced']:.2f}x"
        f" -> {verdict(lean)}"
    )
    print()
    explain(path, size, naive, ours, figures("loader+raw SDK"))

    if not args.no_contract:
        print("\ncontract server check (the same request to tests/mimo_server, which decodes it):")
        with contract_server_process() as base_url:
            for variant in ("naive", "ours"):
                result = run_child(variant, path, base_url, "rss")
                print(f"  {variant}: accepted; answer: {result['answer'][:100]}...")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
