"""Send a large local video: check its cost first, fit it under 50 MB, or send a clip.

Run:
    MIMO_API_KEY=sk-... python examples/local_file_fit_clip.py VIDEO [--start S --end E]

The estimate needs no key. ``VideoLoader(fit=True)`` (the default) re-encodes a video
whose base64 would pass MiMo's 50 MB limit to the frame size MiMo uses anyway, so the
token count does not change; --start/--end send only that range, cut locally.
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
from langchain_mimo_video.media import probe


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Probe a local video, estimate its tokens and price, then send it to MiMo "
        "(re-encoded if it is over the 50 MB base64 limit), or only a part of it.",
        epilog="The probe and estimate need no key; the request needs MIMO_API_KEY.",
    )
    parser.add_argument("video", help="local video file (MP4, MOV, AVI or WMV)")
    parser.add_argument(
        "--start", type=float, default=None, help="send from this second (cut locally)"
    )
    parser.add_argument("--end", type=float, default=None, help="send up to this second")
    parser.add_argument(
        "--fps", type=float, default=1.0, help="frames MiMo samples per second, 0.1-10 (default 1)"
    )
    return parser


def main(argv: Sequence[str] | None = None, **chat_params: Any) -> int:
    args = build_parser().parse_args(argv)
    llm = ChatMiMo(max_tokens=1024, **chat_params)
    loader = VideoLoader(fps=args.fps, media_resolution="default", fit=True)
    try:
        info = probe(args.video)
        print(
            f"{args.video}: {info.duration:.1f} s, {info.width}x{info.height}, "
            f"{info.size_bytes or 0:,} bytes, audio: {info.has_audio}"
        )
        part = loader.load(args.video, start=args.start, end=args.end)
        print(f"sending {len(part['video_url']['url']):,} characters of base64")
        message = HumanMessage(content=[part, "Summarise this part of the video."])
        estimate = llm.estimate_request([message])
        print(
            f"estimate: {estimate.input_tokens} input tokens, "
            f"about {estimate.cost(llm.model_name, output_tokens=500):.4f} CNY"
        )
        reply = llm.invoke([message])
    except MissingAPIKeyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    except (MiMoError, openai.APIError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(reply.content)
    return 0


if __name__ == "__main__":
    sys.exit(main())
