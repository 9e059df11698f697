"""Stream MiMo's reasoning and answer about a video as they arrive.

Run:
    MIMO_API_KEY=sk-... python examples/stream_reasoning.py VIDEO [QUESTION]
"""

from __future__ import annotations

import sys
from typing import Any

from langchain_core.messages import HumanMessage

from langchain_mimo_video import ChatMiMo, MiMoError, VideoLoader


def main(argv: list[str], **chat_params: Any) -> int:
    if not argv:
        print("usage: stream_reasoning.py VIDEO [QUESTION]", file=sys.stderr)
        return 2
    question = argv[1] if len(argv) > 1 else "What happens, and when?"
    llm = ChatMiMo(thinking=True, **chat_params)
    try:
        message = HumanMessage(content=[VideoLoader(fps=2).load(argv[0]), question])
        section = ""
        usage = None
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
    except MiMoError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"\n--- usage ---\n{usage}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
