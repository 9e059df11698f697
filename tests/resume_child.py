"""A description run in its own process, to be killed and run again (resume tests).

``python -m tests.resume_child --base-url URL --cache FILE --out FILE VIDEO...`` describes
the videos in segments with an SQLite description cache, appending each document to
``--out`` as one JSON line (flushed and synced) and printing ``doc <n>`` as it goes, so a
parent can kill it with SIGKILL part-way and count what was made.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from langchain_mimo_video import ChatMiMo
from langchain_mimo_video.document_loaders import VideoDescriptionLoader


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
    llm = ChatMiMo(api_key=args.api_key, base_url=args.base_url, max_tokens=200, max_retries=0)
    loader = VideoDescriptionLoader(
        args.videos,
        llm=llm,
        cache=args.cache,
        segment_seconds=args.segment_seconds,
        max_concurrency=args.max_concurrency,
    )
    with open(args.out, "a", encoding="utf-8") as out:
        for count, document in enumerate(loader.lazy_load(), 1):
            record = {"id": document.id, "text": document.page_content, **document.metadata}
            out.write(json.dumps(record) + "\n")
            out.flush()
            os.fsync(out.fileno())
            print(f"doc {count}", flush=True)
    stats = loader.last_run
    assert stats is not None
    print(f"done requests={stats.requests} cached={stats.cached}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
