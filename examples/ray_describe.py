"""Describe a video corpus on Ray Data, resumable and within a budget, into JSON Lines.

Each output line is one LangChain document (``{"id", "page_content", "metadata"}``), exactly
as ``VideoDescriptionLoader`` makes it; failed segments are counted and listed on stderr.
Videos travel to the workers through a ``MediaStore`` (``--store``: a folder here, an fsspec
URL such as ``s3://bucket/media`` on a cluster); with ``--cache`` a re-run after a crash
sends only the segments not yet described.

Run (from the repository root; pip install "langchain-mimo-video[ray,media]"):
    MIMO_API_KEY=sk-... python examples/ray_describe.py VIDEO_OR_FOLDER... \
        --segment-seconds 30 --cache library.sqlite --concurrency 8 -o descriptions.jsonl

Options:
    -o, --output FILE          where to write (default descriptions.jsonl)
    --segment-seconds S        one document per S-second segment (default: whole videos)
    --cache FILE               SQLite description cache (resume without paying twice)
    --store ROOT               MediaStore folder or fsspec URL (default: the user's cache)
    --workers 2                Ray actors describing segments
    --concurrency 8            requests in flight in all (a multiple of --workers)
    --requests-per-second R    requests per second, all workers together
    --max-cost C               stop sending once the price table says C would be passed
    --estimate                 print what the run would send and cost, and stop
    --address ADDR             a running Ray cluster (default: start a local one)

``main(argv, **chat_params)`` is importable: ``chat_params`` go to ``ChatMiMo``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_mimo_video import ChatMiMo, MiMoError, MissingAPIKeyError
from langchain_mimo_video.document_loaders import VIDEO_SUFFIXES


def expand(sources: Sequence[str]) -> list[str]:
    """Folders become the videos in them (sorted); files and URLs stay as they are."""
    expanded: list[str] = []
    for source in sources:
        folder = Path(source)
        if "://" not in source and folder.is_dir():
            expanded += sorted(
                str(path)
                for path in folder.glob("**/*")
                if path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES
            )
        else:
            expanded.append(source)
    return expanded


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ray_describe.py",
        description=__doc__.split("\n", 1)[0],
        epilog="Needs MIMO_API_KEY (and MIMO_BASE_URL for Token Plan keys). Exit codes: 0 done, "
        "1 a MiMo or video error, 2 bad arguments, 3 no API key.",
    )
    parser.add_argument("sources", nargs="+", help="video files, folders or http(s) URLs")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("descriptions.jsonl"),
        help="the JSON Lines file to write (default descriptions.jsonl)",
    )
    parser.add_argument(
        "--segment-seconds",
        type=float,
        default=None,
        help="one document per segment of this many seconds (default: whole videos)",
    )
    parser.add_argument("--cache", default=None, help="SQLite description cache file")
    parser.add_argument(
        "--store", default=None, help="MediaStore folder or fsspec URL the workers read"
    )
    parser.add_argument("--workers", type=int, default=2, help="Ray actors (default 2)")
    parser.add_argument(
        "--concurrency", type=int, default=8, help="requests in flight in all (default 8)"
    )
    parser.add_argument(
        "--requests-per-second",
        type=float,
        default=None,
        help="requests per second, all workers together (default: no pacing)",
    )
    parser.add_argument(
        "--max-cost", type=float, default=None, help="budget in the price table's currency"
    )
    parser.add_argument(
        "--estimate", action="store_true", help="print the estimate of the run and stop"
    )
    parser.add_argument(
        "--address", default=None, help="a running Ray cluster (default: start a local one)"
    )
    return parser


def main(argv: Sequence[str] | None = None, **chat_params: Any) -> int:
    args = build_parser().parse_args(argv)
    sources = expand(args.sources)
    llm = ChatMiMo(max_tokens=2048, **chat_params)
    settings: dict[str, Any] = {"segment_seconds": args.segment_seconds, "cache": args.cache}
    try:
        if args.estimate:
            from langchain_mimo_video.ray import estimate_videos

            print(estimate_videos(sources, llm=llm, **settings).table())
            return 0
        llm.client  # noqa: B018 -- no API key: fail now, before Ray starts
    except MissingAPIKeyError as error:
        print(f"ray_describe.py: {error}", file=sys.stderr)
        return 3
    import ray

    from langchain_mimo_video.ray import describe_videos, rows_to_documents

    if args.address:
        ray.init(address=args.address)
    else:
        ray.init(num_cpus=2, include_dashboard=False)
    try:
        dataset = describe_videos(
            sources,
            llm=llm,
            store=args.store,
            workers=args.workers,
            concurrency=args.concurrency,
            requests_per_second=args.requests_per_second,
            max_cost=args.max_cost,
            **settings,
        )
        failed = 0
        with args.output.open("w", encoding="utf-8") as out:
            for row in dataset.iter_rows():
                if row["error"]:
                    failed += 1
                    print(
                        f"failed: {row['source']} {row['time_range']}: {row['error']}",
                        file=sys.stderr,
                    )
                    continue
                (document,) = rows_to_documents([row])
                line = {"id": document.id, "page_content": document.page_content}
                out.write(json.dumps({**line, "metadata": document.metadata}) + "\n")
    except (MiMoError, ValueError) as error:
        print(f"ray_describe.py: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        ray.shutdown()
    print(f"wrote {args.output} ({failed} failed)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
