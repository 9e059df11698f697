"""A description run in its own process, to be killed and run again (resume tests).

``python -m tests.resume_child --base-url URL --cache FILE --out FILE VIDEO...`` describes
the videos in segments with an SQLite description cache, appending each document to
``--out`` as one JSON line (flushed and synced) and printing ``doc <n>`` as it goes, so a
parent can kill it with SIGKILL part-way and count what was made. The last line reports
the requests sent, the cache hits and the seconds the run took (interpreter start-up
excluded).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from langchain_mimo_video import ChatMiMo
from langchain_mimo_video.document_loaders import VideoDescriptionLoader


def make_loader(
    videos: list[str],
    *,
    cache: str,
    base_url: str = "http://127.0.0.1:9/v1",
    api_key: str = "test-key",
    segment_seconds: float = 1.0,
    max_concurrency: int = 2,
) -> VideoDescriptionLoader:
    """The loader the child runs (the parent builds the same one to read the cache)."""
    llm = ChatMiMo(api_key=api_key, base_url=base_url, max_tokens=200, max_retries=0)
    return VideoDescriptionLoader(
        videos,
        llm=llm,
        cache=cache,
        segment_seconds=segment_seconds,
        max_concurrency=max_concurrency,
    )


def finished_segments(videos: list[str], cache: str, segment_seconds: float) -> int:
    """How many of the run's segments the cache already describes."""
    loader = make_loader(videos, cache=cache, segment_seconds=segment_seconds)
    describer = loader.describer()
    assert describer.cache is not None
    return sum(describer.key(segment) in describer.cache for segment in loader.plan())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("videos", nargs="+")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", default="test-key")
    parser.add_argument("--cache", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--segment-seconds", type=float, default=1.0)
    parser.add_argument("--max-concurrency", type=int, default=2)
    args = parser.parse_args(argv)
    loader = make_loader(
        args.videos,
        cache=args.cache,
        base_url=args.base_url,
        api_key=args.api_key,
        segment_seconds=args.segment_seconds,
        max_concurrency=args.max_concurrency,
    )
    began = time.perf_counter()
    with open(args.out, "a", encoding="utf-8") as out:
        for count, document in enumerate(loader.lazy_load(), 1):
            record = {"id": document.id, "text": document.page_content, **document.metadata}
            out.write(json.dumps(record) + "\n")
            out.flush()
            os.fsync(out.fileno())
            print(f"doc {count}", flush=True)
    stats = loader.last_run
    assert stats is not None
    elapsed = time.perf_counter() - began
    print(f"done requests={stats.requests} cached={stats.cached} elapsed={elapsed:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
