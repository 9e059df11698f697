"""Bytes ``media.probe(url)`` reads from a video on an HTTP server, vs its size.

A local static-file server on 127.0.0.1 serves the same ~30 MB MP4 (1280x720, 60 s, with
sound) twice: "faststart", with its index (``moov``) before the media data, and "index at
the end", remuxed without faststart. ``probe`` reads through HTTP Range requests; the
baseline is downloading the whole file (what probing costs without Range reads), so the
figures are ``bytes_read / file size`` and probe time / full-download time. The same two
files are also probed on a server that ignores Range (answers 200 with the whole body).

Run from the repository root: ``python -m benchmarks.bench_remote_probe [--quick]``.
"""

from __future__ import annotations

import argparse
import struct
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks._common import (
    check_repo_root,
    median,
    megabytes,
    print_header,
    table,
    verdict,
    work_dir,
)
from benchmarks._servers import file_server


def remux_index_last(source: Path, target: Path) -> Path:
    """Copy every packet of ``source`` into an MP4 written without faststart."""
    import av

    with av.open(str(source)) as container, av.open(str(target), "w", format="mp4") as out:
        mapping = {}
        for stream in container.streams:
            if stream.type in ("video", "audio"):
                mapping[stream.index] = out.add_stream_from_template(stream)
        for packet in container.demux(*(container.streams[i] for i in mapping)):
            if packet.dts is None:
                continue
            packet.stream = mapping[packet.stream.index]
            out.mux(packet)
    return target


def top_level_boxes(path: Path) -> str:
    """The MP4's top-level boxes in file order with their sizes, e.g. ``ftyp moov(62 kB) mdat``."""
    names = []
    with path.open("rb") as file:
        size_total = path.stat().st_size
        offset = 0
        while offset < size_total:
            file.seek(offset)
            header = file.read(16)
            size, kind = struct.unpack(">I4s", header[:8])
            if size == 1:
                size = struct.unpack(">Q", header[8:16])[0]
            elif size == 0:
                size = size_total - offset
            label = kind.decode("latin1")
            if label == "moov":
                label += f"({size / 1000:.0f} kB at {offset / size_total:.0%})"
            names.append(label)
            offset += size
    return " ".join(names)


def videos(quick: bool) -> dict[str, Path]:
    from benchmarks.bench_fit import make_source

    spec = {"width": 1280, "height": 720, "seconds": 60, "rate": 30, "bit_rate": 3_800_000}
    if quick:
        spec = {"width": 640, "height": 360, "seconds": 10, "rate": 30, "bit_rate": 1_500_000}
    folder = work_dir("remote_probe")
    name = "{width}x{height}-{seconds}s-{bit_rate}".format(**spec)
    faststart = folder / f"{name}-faststart.mp4"
    index_last = folder / f"{name}-index-last.mp4"
    if not faststart.exists():
        print(f"generating {faststart.name} (not timed) ...", flush=True)
        make_source(faststart.with_suffix(".part.mp4"), **spec)
        faststart.with_suffix(".part.mp4").rename(faststart)
    if not index_last.exists():
        remux_index_last(faststart, index_last.with_suffix(".part.mp4")).rename(index_last)
    return {"faststart": faststart, "index at the end": index_last}


def download(url: str) -> int:
    with urllib.request.urlopen(url, timeout=60) as response:
        total = 0
        while piece := response.read(1 << 20):
            total += len(piece)
    return total


def measure(
    files: dict[str, Path], runs: int, *, ranges: bool
) -> list[tuple[str, int, dict[str, Any]]]:
    from langchain_mimo_video.media import probe

    paths = {f"/{path.name}": path for path in files.values()}
    results = []
    with file_server(paths) as server:
        server.ranges = ranges
        host, port = server.server_address[:2]
        for label, path in files.items():
            url = f"http://{host!s}:{port}/{path.name}"
            size = path.stat().st_size
            probe_times, download_times, read, sent, requests = [], [], [], [], []
            info: Any = None
            for _ in range(runs):
                before_sent, before_requests = server.bytes_sent, server.requests
                started = time.perf_counter()
                info = probe(url)
                probe_times.append(time.perf_counter() - started)
                read.append(info.bytes_read)
                sent.append(server.bytes_sent - before_sent)
                requests.append(server.requests - before_requests)
                started = time.perf_counter()
                assert download(url) == size
                download_times.append(time.perf_counter() - started)
            assert info is not None
            results.append(
                (
                    label,
                    size,
                    {
                        "bytes_read": median(read),
                        "bytes_sent": median(sent),
                        "requests": median(requests),
                        "probe": median(probe_times),
                        "download": median(download_times),
                        "info": info,
                    },
                )
            )
    return results


def experiment(files: dict[str, Path]) -> None:
    """EXPERIMENT: what probing reads for the first video frame (decoded for its rotation)."""
    from langchain_mimo_video.media import probing as media

    original = media._first_frame_rotation
    media._first_frame_rotation = lambda av, container, video: 0
    try:
        results = measure(files, 1, ranges=True)
    finally:
        media._first_frame_rotation = original
    parts = [
        f"{label} {figures['bytes_read']:,.0f} ({figures['bytes_read'] / size:.2%})"
        for label, size, figures in results
    ]
    print(
        "EXPERIMENT: probe with its first-frame decode (for the rotation) switched off reads "
        f"{'; '.join(parts)}; the rest is the index and the first packets, which opening "
        "the container reads to learn the codecs"
    )
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="probes (and downloads) per file")
    parser.add_argument("--quick", action="store_true", help="a 2 MB video and 1 run: smoke run")
    args = parser.parse_args(argv)
    check_repo_root()
    if args.quick:
        args.runs = 1
    print_header(
        "bench_remote_probe: media.probe(url) over HTTP Range vs downloading the file",
        f"{args.runs} runs per file; static file server on 127.0.0.1",
    )
    files = videos(args.quick)
    for label, path in files.items():
        print(f"{label}: {path.name}, {path.stat().st_size:,} bytes: {top_level_boxes(path)}")
    print()

    rows = []
    faststart_share = 1.0
    for ranges in (True, False):
        for label, size, figures in measure(files, args.runs, ranges=ranges):
            share = figures["bytes_read"] / size
            if ranges and label == "faststart":
                faststart_share = share
            info = figures["info"]
            speed = figures["probe"] / figures["download"]
            rows.append(
                (
                    label + ("" if ranges else ", server ignores Range"),
                    f"{figures['bytes_read']:,.0f}",
                    f"{share:.2%}",
                    f"{figures['bytes_sent'] / size:.2%}",
                    f"{figures['requests']:.0f}",
                    f"{figures['probe'] * 1000:.1f} ({speed:.2f}x)",
                    f"{figures['download'] * 1000:.1f}",
                    f"{info.duration:.1f} s {info.width}x{info.height} {info.audio_codec}",
                )
            )
    print("medians; the baseline is downloading the whole file:")
    print(
        table(
            [
                "file",
                "bytes_read",
                "bytes_read / size",
                "server wrote / size",
                "requests",
                "probe ms (vs download)",
                "download ms (baseline)",
                "probed",
            ],
            rows,
        )
    )
    print()
    experiment(files)
    print(
        f"target: faststart bytes_read under 2% of the file: {faststart_share:.2%} -> "
        f"{verdict(faststart_share < 0.02)}"
    )
    print(f"(file sizes: {', '.join(megabytes(p.stat().st_size) for p in files.values())})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
