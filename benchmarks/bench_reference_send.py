"""Peak memory and time of sending a ~37 MB video held in a MediaStore, by streamed body.

Variants, each in a fresh child process, interleaved in rotating order:

* naive (baseline): ``base64.b64encode(path.read_bytes())`` into a data URL, then the raw
  openai SDK's ``chat.completions.create``;
* inline + ChatMiMo: ``VideoLoader().load(path)`` (an inline data URL) then
  ``ChatMiMo.invoke`` (which sends a large data URL VideoLoader made as a streamed body too,
  without the SDK's JSON copies; before that, this path measured 4.19x the file);
* streamed: the video already in a :class:`MediaStore`; the request holds its
  ``mimo-media:`` reference and goes out as a streamed body (``_body.build_body`` then
  ``send_chat_completion``: the SDK's ``client.post(..., content=body)``), its base64
  encoded from the store piece by piece;
* ChatMiMo + store (when ChatMiMo takes ``media_store=``): ``VideoLoader(store=...)``'s
  reference part (made before the measurement: the video is already stored) through
  ``ChatMiMo.invoke``.

Each child first makes one small request (imports, client, connection), then measures only
the video request: wall time and the peak resident memory above the level before it (Linux
``VmHWM``, reset through ``/proc/self/clear_refs``). The sink server on 127.0.0.1 reads the
body and answers a fixed completion; it checks every streamed body's length. The store's
one-off ``put`` is timed apart, in this process.

Then loading into the store, the step before any send, the same way (fresh child processes,
interleaved, each into a new empty store, after loading a small video once):

* inline (baseline): ``VideoLoader().load(path)``, the data URL;
* store, as before: the inline data URL decoded again and put (what ``VideoLoader(store=)``
  did until it streamed the file into the store);
* store: ``VideoLoader(store=store).load(path)``, the file streamed into the store, hashed
  as it is written, no data URL.

Run from the repository root: ``python -m benchmarks.bench_reference_send [--quick]``
(``--load-only``: just the loading figures).
"""

from __future__ import annotations

import argparse
import base64
import gc
import inspect
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._common import (
    REPO_ROOT,
    check_repo_root,
    median,
    print_header,
    require,
    table,
    verdict,
    work_dir,
)
from benchmarks._servers import API_KEY, base_url_of, contract_server_process, sink_server
from benchmarks.bench_large_file import _peak_rss, _reset_peak, _rss, large_video

MODEL = "mimo-v2.5"
QUESTION = "What happens in this clip?"
VARIANTS = ("naive", "inline + ChatMiMo", "streamed", "ChatMiMo + store")
LOAD_VARIANTS = ("inline", "store, as before", "store")
TARGET_RATIO = 0.3
WARM_UP = REPO_ROOT / "tests" / "data" / "videos" / "kitten.mp4"


def _chat_takes_store() -> bool:
    from langchain_mimo_video import ChatMiMo

    return "media_store" in ChatMiMo.model_fields


def _video_loader_takes_store() -> bool:
    from langchain_mimo_video import VideoLoader

    return "store" in inspect.signature(VideoLoader).parameters


# -- child: one measurement --------------------------------------------------------------


def child(
    variant: str, path: Path, store_root: str, media_id: str, base_url: str
) -> dict[str, Any]:
    import openai
    from langchain_core.messages import HumanMessage

    from langchain_mimo_video import ChatMiMo, VideoLoader
    from langchain_mimo_video._body import build_body, send_chat_completion
    from langchain_mimo_video.store import REFERENCE_PREFIX, MediaStore

    client = openai.OpenAI(
        api_key=API_KEY, base_url=base_url, max_retries=0, default_headers={"api-key": API_KEY}
    )
    store = MediaStore(store_root)
    extra = {"media_store": store} if variant == "ChatMiMo + store" else {}
    llm = ChatMiMo(model=MODEL, base_url=base_url, api_key=API_KEY, max_retries=0, **extra)
    client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    llm.invoke("hi")

    def text_part() -> dict[str, Any]:
        return {"type": "text", "text": QUESTION}

    def naive() -> str:
        url = "data:video/mp4;base64," + base64.b64encode(path.read_bytes()).decode()
        part = {"type": "video_url", "video_url": {"url": url}, "fps": 2.0}
        response = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": [part, text_part()]}]
        )
        return response.choices[0].message.content or ""

    def inline() -> str:
        part = VideoLoader().load(path)
        reply = llm.invoke([HumanMessage(content=[part, text_part()])])
        return str(reply.content)

    def streamed() -> str:
        part = {
            "type": "video_url",
            "video_url": {"url": REFERENCE_PREFIX + media_id},
            "fps": 2.0,
            "media_resolution": "default",
        }
        body = {"model": MODEL, "messages": [{"role": "user", "content": [part, text_part()]}]}
        with build_body(body, store) as request:
            response = send_chat_completion(client, request, stream=False)
        return response.choices[0].message.content or ""

    # The video is already stored: its reference part is made before the measurement
    # (it finds the bytes there), and only the send is measured, as for "streamed".
    stored_part = (
        VideoLoader(store=store).load(path)  # type: ignore[call-arg]
        if variant == "ChatMiMo + store"
        else None
    )

    def chat_with_store() -> str:
        reply = llm.invoke([HumanMessage(content=[stored_part, text_part()])])
        return str(reply.content)

    send = {
        "naive": naive,
        "inline + ChatMiMo": inline,
        "streamed": streamed,
        "ChatMiMo + store": chat_with_store,
    }[variant]
    gc.collect()
    resettable = _reset_peak()
    base = _rss()
    started = time.perf_counter()
    answer = send()
    seconds = time.perf_counter() - started
    return {
        "variant": variant,
        "seconds": seconds,
        "peak": _peak_rss() - base,
        "peak_resettable": resettable,
        "answer": answer[:100],
    }


def load_child(variant: str, path: Path, store_root: str) -> dict[str, Any]:
    """One ``VideoLoader.load`` of ``path``: its time and peak RSS growth, in this process."""
    from langchain_mimo_video import VideoLoader
    from langchain_mimo_video._utils import decode_data_url
    from langchain_mimo_video.store import MediaStore

    store = MediaStore(store_root)
    inline_loader, store_loader = VideoLoader(), VideoLoader(store=store)

    def inline() -> Any:
        return inline_loader.load(path)

    def as_before() -> Any:
        url = inline_loader.load(path)["video_url"]["url"]
        mime = url[len("data:") : url.index(";")]
        return store.put(decode_data_url(url), mime_type=mime)

    def stored() -> Any:
        return store_loader.load(path)

    load = {"inline": inline, "store, as before": as_before, "store": stored}[variant]
    # imports, PyAV, the store folder: not part of the figure
    inline_loader.load(WARM_UP)
    store_loader.load(WARM_UP)
    gc.collect()
    resettable = _reset_peak()
    base = _rss()
    started = time.perf_counter()
    result = load()
    seconds = time.perf_counter() - started
    peak = _peak_rss() - base
    del result
    return {"variant": variant, "seconds": seconds, "peak": peak, "peak_resettable": resettable}


def run_load_child(variant: str, path: Path, store_root: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.bench_reference_send", "--load-child", variant]
    command += ["--path", str(path), "--store", str(store_root)]
    try:
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    finally:
        shutil.rmtree(store_root, ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(f"load child {variant} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure_loading(path: Path, runs: int) -> None:
    """Print the load-into-the-store figures against the inline load, same run."""
    size = path.stat().st_size
    results: dict[str, list[dict[str, Any]]] = {variant: [] for variant in LOAD_VARIANTS}
    root = work_dir("reference_send") / "load-stores"
    for run in range(runs):
        shift = run % len(LOAD_VARIANTS)
        for variant in LOAD_VARIANTS[shift:] + LOAD_VARIANTS[:shift]:
            results[variant].append(run_load_child(variant, path, root / f"{run}-{variant}"))
    seconds = {v: median(r["seconds"] for r in results[v]) for v in LOAD_VARIANTS}
    peaks = {v: median(r["peak"] for r in results[v]) for v in LOAD_VARIANTS}
    rows = [
        (
            variant + (" (baseline)" if variant == "inline" else ""),
            f"{seconds[variant] * 1000:.0f}",
            f"{seconds[variant] / seconds['inline']:.2f}x",
            f"{peaks[variant] / 1e6:.1f} MB",
            f"{peaks[variant] / size:.2f}x",
        )
        for variant in LOAD_VARIANTS
    ]
    print(f"loading the {size / 1e6:.1f} MB video, medians of {runs} child runs each:")
    print(table(["load", "wall ms", "time vs inline", "peak RSS growth", "x file"], rows))
    print(
        f"store vs store as before: {seconds['store'] / seconds['store, as before']:.2f}x the "
        f"time, {peaks['store'] / max(peaks['store, as before'], 1):.2f}x the peak RSS growth; "
        f"target peak <= {TARGET_RATIO}x the file: {peaks['store'] / size:.2f}x -> "
        f"{verdict(peaks['store'] <= TARGET_RATIO * size)}"
    )


def run_child(
    variant: str, path: Path, store_root: str, media_id: str, base_url: str
) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.bench_reference_send", "--child", variant]
    command += ["--path", str(path), "--store", store_root, "--media-id", media_id]
    command += ["--base-url", base_url]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child {variant} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- parent ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed child runs per variant")
    parser.add_argument("--quick", action="store_true", help="a 4 MB video and 1 run: smoke run")
    parser.add_argument(
        "--no-contract", action="store_true", help="skip the check against the contract server"
    )
    parser.add_argument(
        "--load-only", action="store_true", help="only the load-into-the-store figures"
    )
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--load-child", choices=LOAD_VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--media-id", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    check_repo_root()
    require("psutil", why="resident-memory measurements")
    if args.child:
        result = child(args.child, args.path, args.store, args.media_id, args.base_url)
        print(json.dumps(result))
        return 0
    if args.load_child:
        print(json.dumps(load_child(args.load_child, args.path, args.store)))
        return 0
    if args.quick:
        args.runs = 1
    if args.load_only:
        print_header(
            "bench_reference_send: loading a ~37 MB video into a MediaStore, vs inline",
            f"{args.runs} child processes per variant (interleaved), each into a new store",
        )
        measure_loading(large_video(args.quick), args.runs)
        return 0

    from langchain_mimo_video.store import MediaStore

    variants = [
        v
        for v in VARIANTS
        if v != "ChatMiMo + store" or (_chat_takes_store() and _video_loader_takes_store())
    ]
    print_header(
        "bench_reference_send: a stored ~37 MB video sent as a streamed body, vs inline",
        f"{args.runs} child processes per variant (interleaved); sink server on 127.0.0.1 "
        "(reads the body, answers a fixed completion)",
    )
    path = large_video(args.quick)
    size = path.stat().st_size
    path.read_bytes()  # into the page cache, for every variant alike
    store_root = str(work_dir("reference_send") / "store")
    started = time.perf_counter()
    media_id = MediaStore(store_root).put(path)
    put_seconds = time.perf_counter() - started
    print(f"video: {path.name}, {size:,} bytes; stored as {media_id[:12]}... ")
    print(f"MediaStore.put, once before the runs: {put_seconds * 1000:.0f} ms")
    if "ChatMiMo + store" not in variants:
        print("(ChatMiMo does not take media_store= yet: its variant is skipped)")

    results: dict[str, list[dict[str, Any]]] = {variant: [] for variant in variants}
    with sink_server() as sink:
        base_url = base_url_of(sink)
        for run in range(args.runs):
            shift = run % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                result = run_child(variant, path, store_root, media_id, base_url)
                results[variant].append(result)
            print(f"run {run + 1}/{args.runs} done", flush=True)
        received = sink.bytes_received
    url_length = len("data:video/mp4;base64,") + 4 * ((size + 2) // 3)
    print(f"sink received {received:,} bytes in all")
    assert received >= args.runs * len(variants) * url_length, "a body was short"
    print()

    def figures(variant: str) -> dict[str, float]:
        runs = results[variant]
        return {
            "seconds": median(r["seconds"] for r in runs),
            "peak": median(r["peak"] for r in runs),
        }

    naive = figures("naive")
    rows = []
    for variant in variants:
        f = figures(variant)
        rows.append(
            (
                variant + (" (baseline)" if variant == "naive" else ""),
                f"{f['seconds'] * 1000:.0f}",
                f"{f['seconds'] / naive['seconds']:.2f}x",
                f"{f['peak'] / 1e6:.1f} MB",
                f"{f['peak'] / size:.2f}x",
            )
        )
    print("medians; peak RSS growth during the send, as a multiple of the file size:")
    print(table(["variant", "wall ms", "time vs naive", "peak RSS growth", "x file"], rows))
    if not all(r.get("peak_resettable", True) for rs in results.values() for r in rs):
        print("note: /proc/self/clear_refs was not writable; RSS peaks include the warm-up")
    print()
    for variant in [v for v in variants if v in ("streamed", "ChatMiMo + store")]:
        f = figures(variant)
        print(
            f"target ({variant}): peak RSS growth <= {TARGET_RATIO}x the file: "
            f"{f['peak'] / size:.2f}x -> {verdict(f['peak'] <= TARGET_RATIO * size)}; "
            f"no slower than naive: {f['seconds'] / naive['seconds']:.2f}x -> "
            f"{verdict(f['seconds'] <= naive['seconds'])}"
        )

    print()
    measure_loading(path, args.runs)

    if not args.no_contract:
        print("\ncontract server check (the streamed body, decoded by tests/mimo_server):")
        with contract_server_process() as contract_url:
            result = run_child("streamed", path, store_root, media_id, contract_url)
            print(f"  streamed: accepted; answer: {result['answer'][:100]}...")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
