"""A fully cached re-run over large files: hashes remembered vs every byte hashed again.

The description cache keys every answer on the SHA-256 of the file's bytes. Before file
hashes were remembered, each run (each new process) read every byte of the library again
to hash it, even when every answer was already cached. Now the SQLite cache keeps each
file's hash beside its ``stat`` fingerprint (path, size, mtime, ctime, inode, device).

Corpus: 4 files of 128 MiB of random bytes (``--quick``: 16 MiB), generated once and dated
an hour back (a hash taken within 2 s of a file's last change is not remembered). They
are described whole, and a fully cached re-run opens no video, so their bytes need not be
a video: only hashing reads them. The cache is filled once with the very keys and rows a
described run stores.

Each measured run is ``VideoDescriptionLoader(...).load()`` in a fresh child process (no
in-process memo), timed inside the child from the loader's construction to the last
document:

- baseline, *full hash*: the ``file_hashes`` table emptied first, so every byte is read
  and hashed, as every re-run did before;
- *remembered*: the table as the previous run left it.

The files sit in the OS page cache after the first read, so the baseline measures hashing,
not the disk; on a cold disk the baseline is slower still. Rounds alternate the two; the
medians and their ratio are printed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._common import (
    REPO_ROOT,
    check_repo_root,
    median,
    megabytes,
    print_header,
    table,
    verdict,
    work_dir,
)

FILES = 4
API_KEY = "bench-key"
#: Nothing listens here: a cache miss would fail the run instead of being described.
BASE_URL = "http://127.0.0.1:9/v1"


def make_corpus(files: int, size: int) -> list[Path]:
    """``files`` distinct files of ``size`` random bytes, settled (mtime an hour back)."""
    folder = work_dir("rehash")
    paths = []
    for index in range(files):
        path = folder / f"f{index}_{size >> 20}MB.mp4"
        if not path.exists() or path.stat().st_size != size:
            with path.open("wb") as stream:
                for _ in range(size >> 20):
                    stream.write(os.urandom(1 << 20))
            when = time.time() - 3600
            os.utime(path, (when, when))
        paths.append(path)
    return paths


def _loader(cache: str, paths: list[str]) -> object:
    from langchain_mimo_video import ChatMiMo
    from langchain_mimo_video.document_loaders import VideoDescriptionLoader

    llm = ChatMiMo(api_key=API_KEY, base_url=BASE_URL, max_retries=0)
    return VideoDescriptionLoader(paths, llm=llm, cache=cache)


def fill_cache(cache: Path, paths: list[Path]) -> None:
    """Store an answer for each file under the key a described run would use."""
    from langchain_mimo_video.document_loaders import VideoDescriptionLoader

    loader = _loader(str(cache), list(map(str, paths)))
    assert isinstance(loader, VideoDescriptionLoader)
    describer = loader.describer()
    assert describer.cache is not None
    for segment in loader.plan():
        row = {"text": f"What happens in {segment.label}.", "finish_reason": "stop"}
        describer.cache.update(describer.key(segment), {**row, "model": "mimo-v2.5"})


def child_main(cache: str, paths: list[str], forget: bool) -> int:
    """One re-run in this fresh process; prints ``elapsed=<seconds> documents=<n>``."""
    import sqlite3

    from langchain_mimo_video.document_loaders import VideoDescriptionLoader

    if forget:
        with sqlite3.connect(cache) as connection:
            connection.execute("DELETE FROM file_hashes")
    began = time.perf_counter()
    loader = _loader(cache, paths)
    assert isinstance(loader, VideoDescriptionLoader)
    documents = loader.load()
    elapsed = time.perf_counter() - began
    assert loader.last_run is not None
    assert loader.last_run.cached == len(paths)
    print(f"elapsed={elapsed:.6f} documents={len(documents)}")
    return 0


def rerun(cache: Path, paths: list[Path], forget: bool) -> float:
    command = [sys.executable, "-m", "benchmarks.bench_rehash", "--child", str(cache)]
    command += [*(["--forget"] if forget else []), *map(str, paths)]
    output = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=600
    ).stdout
    elapsed, documents = output.split()[-2:]
    if int(documents.split("=")[1]) != len(paths):
        raise RuntimeError(f"expected {len(paths)} documents: {output}")
    return float(elapsed.split("=")[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="16 MiB files, 1 round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", metavar="CACHE", help=argparse.SUPPRESS)
    parser.add_argument("--forget", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    check_repo_root()
    if args.child:
        return child_main(args.child, args.paths, args.forget)
    size = (16 if args.quick else 128) << 20
    rounds = 1 if args.quick else args.rounds
    print_header(
        "VideoDescriptionLoader: a fully cached re-run, file hashes remembered vs not",
        f"{FILES} files x {megabytes(size)}, whole-file descriptions all cached, SQLite "
        f"cache, each run in a fresh process, {rounds} round(s)",
    )
    paths = make_corpus(FILES, size)
    cache = work_dir("rehash") / "cache.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{cache}{suffix}").unlink(missing_ok=True)
    fill_cache(cache, paths)
    full, remembered = [], []
    for _ in range(rounds):
        full.append(rerun(cache, paths, forget=True))  # stores the hashes again
        remembered.append(rerun(cache, paths, forget=False))
    before, after = median(full), median(remembered)
    ratio = after / before
    corpus = FILES * size
    rows = [
        ["re-run, every byte hashed (before)", f"{before:.3f} s", "baseline", "-"],
        [
            "hashing throughput (before)",
            f"{megabytes(corpus / before)}/s of {megabytes(corpus)}",
            "-",
            "-",
        ],
        ["re-run, hashes remembered (after)", f"{after:.3f} s", "-", "-"],
        ["after / before", f"{ratio:.1%}", "<= 10%", verdict(ratio <= 0.10)],
    ]
    print(table(["figure", "measured", "target", "met"], rows))
    print(
        "runs (s): before "
        + ", ".join(f"{value:.3f}" for value in full)
        + "; after "
        + ", ".join(f"{value:.3f}" for value in remembered)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
