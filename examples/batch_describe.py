"""Describe many videos with MiMo, several at a time, into a JSON Lines file.

Each line of the output is one LangChain document: ``{"page_content": ..., "metadata":
{...}}`` with the source, time range, fps, model and token usage. Lines are written in
source order as soon as each description is ready, so an interrupted run keeps everything
finished before it.

Run (from the repository root):
    MIMO_API_KEY=sk-... python examples/batch_describe.py VIDEO_OR_FOLDER_OR_URL... \
        -o descriptions.jsonl

Options:
    -o, --output FILE          where to write (default descriptions.jsonl)
    --max-concurrency 4        videos described at once (default 4)
    --requests-per-second R    pace the requests (LangChain's InMemoryRateLimiter)
    --segment-seconds S        one document per S-second segment (local videos)
    --overlap-seconds O        overlap of neighbouring segments
    --fps 2                    frames MiMo samples per second (default 2)
    --prompt TEXT              the question asked about each video
    --on-error skip|raise      skip a video that fails (logged; the default) or stop
    --progress                 show a progress bar (pip install tqdm)

A folder stands for the videos in it (MP4, MOV, AVI, WMV; subfolders included, sorted).

``main(argv, **chat_params)`` is importable: ``chat_params`` go to ``ChatMiMo`` (the tests
point it at recorded answers).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openai
from langchain_core.rate_limiters import InMemoryRateLimiter

from langchain_mimo_video import ChatMiMo, MiMoError, MissingAPIKeyError, VideoLoader
from langchain_mimo_video.document_loaders import (
    DEFAULT_PROMPT,
    VIDEO_SUFFIXES,
    VideoDescriptionLoader,
)


class _Counter(logging.Handler):
    """Counts the loader's warnings: one per skipped video or segment."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


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
        "--max-concurrency",
        type=int,
        default=4,
        help="videos (or segments) described at once (default 4)",
    )
    parser.add_argument(
        "--requests-per-second",
        type=float,
        default=None,
        help="pace the requests to at most this many a second (default: no pacing)",
    )
    parser.add_argument(
        "--segment-seconds",
        type=float,
        default=None,
        help="one document per segment of this many seconds (local videos; default: whole)",
    )
    parser.add_argument(
        "--overlap-seconds",
        type=float,
        default=0.0,
        help="seconds shared by neighbouring segments (default 0)",
    )
    parser.add_argument(
        "--fps", type=float, default=2.0, help="frames MiMo samples per second, 0.1-10 (default 2)"
    )
    parser.add_argument(
        "--prompt", default=DEFAULT_PROMPT, help="the question asked about each video"
    )
    parser.add_argument(
        "--on-error",
        choices=["skip", "raise"],
        default="skip",
        help="skip a video that fails (logged; the default) or stop at the first failure",
    )
    parser.add_argument(
        "--progress", action="store_true", help="show a progress bar (pip install tqdm)"
    )
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def main(argv: Sequence[str] | None = None, **chat_params: Any) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    llm = ChatMiMo(**{"model": "mimo-v2.5", "max_tokens": 2048, **chat_params})
    limiter = (
        InMemoryRateLimiter(requests_per_second=args.requests_per_second)
        if args.requests_per_second
        else None
    )
    skipped = _Counter()
    package_logger = logging.getLogger("langchain_mimo_video")
    package_logger.addHandler(skipped)
    totals = {"input_tokens": 0, "video_tokens": 0, "audio_tokens": 0, "output_tokens": 0}
    written = 0
    began = time.perf_counter()
    try:
        loader = VideoDescriptionLoader(
            expand(args.sources),
            llm=llm,
            loader=VideoLoader(fps=args.fps),
            prompt=args.prompt,
            segment_seconds=args.segment_seconds,
            overlap_seconds=args.overlap_seconds,
            max_concurrency=args.max_concurrency,
            rate_limiter=limiter,
            show_progress=args.progress,
            on_error=args.on_error,
        )
        with args.output.open("w", encoding="utf-8") as output:
            for document in loader.lazy_load():
                line = {"page_content": document.page_content, "metadata": document.metadata}
                output.write(json.dumps(line, ensure_ascii=False) + "\n")
                output.flush()  # a crash keeps every finished line
                written += 1
                for key in totals:
                    totals[key] += document.metadata.get(key, 0)
    except MissingAPIKeyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    except (MiMoError, openai.APIError, ValueError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        package_logger.removeHandler(skipped)
    seconds = time.perf_counter() - began
    usage = ", ".join(f"{value} {key.replace('_', ' ')}" for key, value in totals.items())
    print(f"Wrote {written} documents to {args.output} in {seconds:.1f} s ({usage}).")
    if skipped.count:
        print(f"Skipped {skipped.count} that failed (see the warnings above).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
