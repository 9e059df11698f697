"""Send a large local video: check its cost first, fit it under 50 MB, or send a clip.

Run:
    MIMO_API_KEY=sk-... python examples/local_file_fit_clip.py VIDEO [START END]

The estimate needs no key. ``VideoLoader(fit=True)`` (the default) re-encodes a video
whose base64 would pass MiMo's 50 MB limit to the frame size MiMo uses anyway, so the
token count does not change; START/END send only that range, cut locally.
"""

from __future__ import annotations

import sys
from typing import Any

from langchain_core.messages import HumanMessage

from langchain_mimo_video import ChatMiMo, MiMoError, VideoLoader
from langchain_mimo_video.media import probe


def main(argv: list[str], **chat_params: Any) -> int:
    if not argv:
        print("usage: local_file_fit_clip.py VIDEO [START END]", file=sys.stderr)
        return 2
    path = argv[0]
    start, end = (float(argv[1]), float(argv[2])) if len(argv) >= 3 else (None, None)
    llm = ChatMiMo(max_tokens=1024, **chat_params)
    loader = VideoLoader(fps=1, media_resolution="default", fit=True)
    try:
        info = probe(path)
        print(
            f"{path}: {info.duration:.1f} s, {info.width}x{info.height}, "
            f"{info.size_bytes or 0:,} bytes, audio: {info.has_audio}"
        )
        part = loader.load(path, start=start, end=end)
        print(f"sending {len(part['video_url']['url']):,} characters of base64")
        message = HumanMessage(content=[part, "Summarise this part of the video."])
        estimate = llm.estimate_request([message])
        print(
            f"estimate: {estimate.input_tokens} input tokens, "
            f"about {estimate.cost(llm.model_name, output_tokens=500):.4f} CNY"
        )
        reply = llm.invoke([message])
    except MiMoError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(reply.content)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
