"""Stream MiMo's reasoning and answer about a video as they arrive.

Run:
    MIMO_API_KEY=sk-... python examples/stream_reasoning.py VIDEO [QUESTION] [--fps 2]

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Print MiMo's reasoning, then its answer, as they stream in, then the "
        "token usage.",
        epilog="Needs MIMO_API_KEY (and MIMO_BASE_URL for Token Plan keys).",
    )
    parser.add_argument("video", help="http(s) URL or local video file")
    parser.add_argument(
        "question",
        nargs="?",
        default="What happens, and when?",
        help="what to ask (default: 'What happens, and when?')",
    )
    parser.add_argument(
        "--fps", type=float, default=2.0, help="frames MiMo samples per second, 0.1-10 (default 2)"
    )
    return parser


def main(argv: Sequence[str] | None = None, **chat_params: Any) -> int:
    args = build_parser().parse_args(argv)
    llm = ChatMiMo(thinking=True, **chat_params)
    usage = None
    try:
        message = HumanMessage(content=[VideoLoader(fps=args.fps).load(args.video), args.question])
        section = ""
        for chunk in llm.stream([message]):
            reasoning = chunk.additional_kwargs.get("reasoning_content", "")
            if reasoning:
                if section != "reasoning":
                    print("--- reasoning ---")
                    section = "reasoning"
                print(reasoning, end="", flush=True)
            if chunk.content:
                if section != "answer":
                    print("\n--- answer ---")
                    section = "answer"
                print(chunk.content, end="", flush=True)
            usage = chunk.usage_metadata or usage
    except MissingAPIKeyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    except (MiMoError, openai.APIError) as error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 1
    print(f"\n--- usage ---\n{usage}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
