"""``mimo-video index DIR``: describe a folder of videos as time-coded documents, resumably.

Each document goes out as one JSON line (``--out FILE`` appends to a file). Answers are kept
in an SQLite description cache (``--cache``, by default ``DIR/.mimo-video-cache.sqlite``), so
a run stopped by Ctrl-C, a crash or ``kill -9`` and started again pays only for what is
missing. ``--estimate`` prints what a run would send and cost, and does nothing else (no key
needed); ``--max-cost`` / ``--max-input-tokens`` stop a run before it passes them.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from langchain_mimo_video._cli_inputs import Session
from langchain_mimo_video.chat_models import DEFAULT_MODEL, ChatMiMo
from langchain_mimo_video.document_loaders import VIDEO_SUFFIXES, VideoDescriptionLoader
from langchain_mimo_video.errors import VideoValidationError
from langchain_mimo_video.limits import DEFAULT_FPS, DEFAULT_MEDIA_RESOLUTION, MEDIA_RESOLUTIONS
from langchain_mimo_video.media.scenes import check_scene_threshold
from langchain_mimo_video.video import VideoLoader

__all__ = ["CACHE_NAME", "HELP", "add_arguments", "run"]

HELP = "describe a folder of videos as time-coded JSON documents, resumably (--estimate first)"
#: The default cache file, inside the folder indexed.
CACHE_NAME = ".mimo-video-cache.sqlite"


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    try:
        return check_scene_threshold(value)
    except VideoValidationError as error:  # its first clause names the range
        raise argparse.ArgumentTypeError(str(error).split(":", 1)[0]) from None


def _whole(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``mimo-video index``."""
    parser.add_argument("folder", metavar="DIR", help="the folder of videos")
    parser.add_argument(
        "--glob", default="**/*", help="which files of DIR (default '**/*': all, recursively)"
    )
    parser.add_argument(
        "--estimate",
        action="store_true",
        help="print the estimate table (videos, segments, cached, tokens, cost) and stop; "
        "no key needed, nothing sent",
    )
    cut = parser.add_mutually_exclusive_group()
    cut.add_argument(
        "--segment-seconds",
        type=_positive,
        default=30.0,
        metavar="S",
        help="fixed segments of S seconds (default 30)",
    )
    cut.add_argument(
        "--scenes",
        action="store_true",
        help="cut at shot boundaries (needs the [scenes] extra)",
    )
    cut.add_argument("--whole", action="store_true", help="describe each video whole")
    parser.add_argument(
        "--overlap-seconds", type=float, default=0.0, metavar="S", help="overlap of segments"
    )
    parser.add_argument(
        "--min-segment-seconds", type=_positive, default=2.0, metavar="S", help="with --scenes"
    )
    parser.add_argument(
        "--max-segment-seconds", type=_positive, default=60.0, metavar="S", help="with --scenes"
    )
    parser.add_argument(
        "--scene-threshold",
        type=_threshold,
        default=None,
        metavar="T",
        help="with --scenes: the change between frames (0-255) that counts as a cut; "
        "lower finds more cuts (default 27)",
    )
    parser.add_argument(
        "--events", action="store_true", help="ask for time-coded events per segment"
    )
    parser.add_argument("-q", "--question", default=None, help="the prompt per segment")
    parser.add_argument("--fps", type=float, default=DEFAULT_FPS, help="frames per second sampled")
    parser.add_argument(
        "--media-resolution", choices=MEDIA_RESOLUTIONS, default=DEFAULT_MEDIA_RESOLUTION
    )
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"default {DEFAULT_MODEL}")
    parser.add_argument("--max-tokens", type=_whole, default=None, metavar="N")
    parser.add_argument(
        "--cache",
        metavar="FILE",
        default=None,
        help=f"the SQLite description cache (default DIR/{CACHE_NAME})",
    )
    parser.add_argument("--no-cache", action="store_true", help="keep no cache")
    parser.add_argument("--max-cost", type=float, default=None, metavar="X", help="budget")
    parser.add_argument(
        "--max-input-tokens", type=_whole, default=None, metavar="N", help="budget in tokens"
    )
    parser.add_argument("--max-concurrency", type=int, default=4, metavar="N")
    parser.add_argument("--out", metavar="FILE", help="append the JSON lines to FILE")
    parser.add_argument("--json", action="store_true", help="--estimate as one JSON object")


def _loader(args: argparse.Namespace, llm: ChatMiMo, err: TextIO) -> VideoDescriptionLoader:
    options: dict[str, Any] = {}
    if args.scenes:
        options.update(
            segment_by="scenes",
            min_segment_seconds=args.min_segment_seconds,
            max_segment_seconds=args.max_segment_seconds,
            scene_threshold=args.scene_threshold,
        )
    elif args.scene_threshold is not None:
        raise VideoValidationError(
            "--scene-threshold sets where --scenes cuts; pass --scenes with it, or leave it out."
        )
    elif not args.whole:
        options.update(segment_seconds=args.segment_seconds, overlap_seconds=args.overlap_seconds)
    if args.question:
        options["prompt"] = args.question
    cache = None if args.no_cache else (args.cache or str(Path(args.folder) / CACHE_NAME))
    bar = err is sys.stderr and err.isatty() and importlib.util.find_spec("tqdm") is not None
    return VideoDescriptionLoader.from_directory(
        args.folder,
        glob=args.glob,
        suffixes=VIDEO_SUFFIXES,
        llm=llm,
        loader=VideoLoader(fps=args.fps, media_resolution=args.media_resolution),
        events=args.events,
        cache=cache,
        max_cost=args.max_cost,
        max_input_tokens=args.max_input_tokens,
        max_concurrency=args.max_concurrency,
        show_progress=bar,
        on_error="skip",
        **options,
    )


def run(args: argparse.Namespace, session: Session) -> int:
    """Run ``mimo-video index``; returns the exit code."""
    params: dict[str, Any] = {}
    if args.max_tokens is not None:
        params["max_tokens"] = args.max_tokens
    llm = session.chat_model(args, **params)
    if not args.estimate:
        llm.require_api_key()  # no key: exit 3 before a single video is read
    loader = _loader(args, llm, session.err)
    if args.estimate:
        estimate = loader.estimate()
        if args.json:
            print(json.dumps(estimate.as_dict()), file=session.out)
        else:
            print(estimate.table(), file=session.out)
        return 0
    target = open(args.out, "a", encoding="utf-8") if args.out else None  # noqa: SIM115
    out = target or session.out
    try:
        for document in loader.lazy_load():
            record = {"id": document.id, "page_content": document.page_content}
            print(json.dumps({**record, "metadata": document.metadata}), file=out, flush=True)
    finally:
        if target is not None:
            target.close()
        if loader.last_run is not None:
            session.say(loader.last_run.summary())
    return 0
