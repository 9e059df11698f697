"""Agent example: a LangChain agent that answers questions about a video with WatchVideoTool.

The agent (ChatMiMo) decides to call the ``watch_video`` tool; the tool has MiMo watch the
video and answers in text; the agent reads that answer and replies.

Run:
    MIMO_API_KEY=sk-... python examples/agent_watch_video.py VIDEO [QUESTION]
        [--allow-dir DIR ...] [--model mimo-v2.5] [--fps 2] [--base-url URL]

VIDEO is an http(s) URL (MiMo fetches it) or a local video file. Local files must be in a
folder given with --allow-dir (default: the video's own folder); a relative VIDEO is looked
up in those folders. Without MIMO_API_KEY the script prints how to set it and exits with 3
(as the other examples and the mimo-video CLI do).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolMessage

from langchain_mimo_video import ChatMiMo, MissingAPIKeyError
from langchain_mimo_video.tools import WatchVideoTool

SYSTEM_PROMPT = (
    "You answer questions about videos. To know what a video shows, call the watch_video "
    "tool with the video and a self-contained question; never guess. If the tool cannot "
    "watch the video, tell the user why."
)


def build_agent(
    chat_params: Mapping[str, Any], allowed_dirs: Sequence[str | Path], fps: float = 2
) -> Any:
    """An agent whose model and whose watch_video tool both use ChatMiMo(**chat_params)."""
    tool = WatchVideoTool(llm=ChatMiMo(**chat_params), allowed_dirs=allowed_dirs, fps=fps)
    return create_agent(ChatMiMo(**chat_params), [tool], system_prompt=SYSTEM_PROMPT)


def allowed_dirs_for(video: str, given: Sequence[str]) -> list[str | Path]:
    """The folders the tool may read: those given, else a local video's own folder."""
    if given:
        return list(given)
    if re.match(r"^[A-Za-z][A-Za-z0-9+.\-]+:", video):  # a URL: no local files needed
        return []
    return [Path(video).parent]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", help="http(s) URL or local video file")
    parser.add_argument(
        "question",
        nargs="?",
        default="What happens in this video?",
        help="what to ask (default: 'What happens in this video?')",
    )
    parser.add_argument(
        "--allow-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="folder the tool may read local videos from (repeatable; default: the video's)",
    )
    parser.add_argument("--model", default="mimo-v2.5", help="MiMo model (default mimo-v2.5)")
    parser.add_argument("--fps", type=float, default=2, help="frames per second, 0.1-10")
    parser.add_argument("--max-tokens", type=int, default=2048, help="cap per MiMo reply")
    parser.add_argument(
        "--base-url", help="MiMo base URL (default: MIMO_BASE_URL or pay-as-you-go)"
    )
    return parser


def main(argv: Sequence[str] | None = None, *, chat_params: Mapping[str, Any] | None = None) -> int:
    """Run the agent once and print its steps and answer.

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``).
        chat_params: extra ``ChatMiMo`` arguments (``base_url``, ``api_key``, ...); they
            override the command line's, so tests can point the agent anywhere.
    """
    args = build_parser().parse_args(argv)
    params: dict[str, Any] = {"model": args.model, "max_tokens": args.max_tokens}
    if args.base_url:
        params["base_url"] = args.base_url
    params.update(chat_params or {})
    agent = build_agent(params, allowed_dirs_for(args.video, args.allow_dir), fps=args.fps)
    request = (
        f"Use the watch_video tool on the video {args.video!r} to answer this question: "
        f"{args.question!r}"
    )
    try:
        result = agent.invoke({"messages": [("user", request)]})
    except MissingAPIKeyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 3

    for message in result["messages"]:
        if isinstance(message, AIMessage) and message.tool_calls:
            for call in message.tool_calls:
                print(f"[agent] calls {call['name']}({call['args']})")
        elif isinstance(message, ToolMessage):
            print(f"[{message.name}] {message.status}: {message.text}")
    print()
    print(result["messages"][-1].text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
