"""Quick start: ask MiMo about a video, by URL or from a local file.

Run:
    MIMO_API_KEY=sk-... python examples/quickstart.py [VIDEO] [QUESTION]

VIDEO is an http(s) URL or a local file (default: the vendor's kitten example video).
"""

from __future__ import annotations

import sys
from typing import Any

from langchain_core.messages import HumanMessage

from langchain_mimo_video import ChatMiMo, MiMoError, VideoLoader

EXAMPLE_VIDEO = "https://example-files.cnbj1.mi-fds.com/example-files/video/video_example.mp4"


def main(argv: list[str], **chat_params: Any) -> int:
    video = argv[0] if argv else EXAMPLE_VIDEO
    question = argv[1] if len(argv) > 1 else "please describe the content of the video"
    llm = ChatMiMo(model="mimo-v2.5", max_tokens=1024, **chat_params)
    try:
        part = VideoLoader(fps=2, media_resolution="default").load(video)
        reply = llm.invoke([HumanMessage(content=[part, {"type": "text", "text": question}])])
    except MiMoError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(reply.content)
    reasoning = reply.additional_kwargs.get("reasoning_content", "")
    if reasoning:
        print(f"\n[reasoning: {len(reasoning)} characters]")
    print(f"[usage: {reply.usage_metadata}]")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
