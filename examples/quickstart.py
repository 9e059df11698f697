"""Quick start: ask MiMo about a video, by URL or from a local file.

Run:
    MIMO_API_KEY=sk-... python examples/quickstart.py [VIDEO] [QUESTION] [--fps 2]

VIDEO is an http(s) URL or a local file (default: the vendor's kitten example video).
Exit codes: 0 done, 1 a MiMo or video error, 2 bad arguments, 3 no API key.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import openai
from langchain_core.messages import HumanMessage

from langchain_mimo_video import ChatMiMo, MiMoError, MissingAPIKeyError, VideoLoader

EXAMPLE_VIDEO = "https://example-files.cnbj1.mi-fds.com/example-files/video/video_example.mp4"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Ask MiMo one question about a video and print the answer, the length of "
        "its reasoning and the token usage.",
        epilog="Needs MIMO_API_KEY (and MIMO_BASE_URL for Token Plan keys).",
    )
    parser.add_argument(
        "video",
        nargs="?",
        default=EXAMPLE_VIDEO,
        help="http(s) URL or local video file (default: the vendor's kitten example video)",
    )
    parser.add_argument(
        "question",
        nargs="?",
        default="please describe the content of the video",
        help="what to ask (default: a description of the video)",
    )
    parser.add_argument(
        "--fps", type=float, default=2.0, help="frames MiMo samples per second, 0.1-10 (default 2)"
    )
    parser.add_argument(
        "--max-tokens",
        type=int,
        default=1024,
        help="cap on reasoning plus answer tokens (default 1024)",
    )
    return parser


def main(argv: Sequence[str] | None = None, **chat_params: Any) -> int:
    args = build_parser().parse_args(argv)
    llm = ChatMiMo(**{"model": "mimo-v2.5", "max_tokens": args.max_tokens, **chat_params})
    try:
        part = VideoLoader(fps=args.fps, media_resolution="default").load(args.video)
        reply = llm.invoke([HumanMessage(content=[part, {"type": "text", "text": args.question}])])
    except MissingAPIKeyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    except (MiMoError, openai.APIError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(reply.content)
    reasoning = reply.additional_kwargs.get("reasoning_content", "")
    if reasoning:
        print(f"\n[reasoning: {len(reasoning)} characters]")
    print(f"[usage: {reply.usage_metadata}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
