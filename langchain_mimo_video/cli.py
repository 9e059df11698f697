"""``mimo-video``: ask MiMo about videos, or estimate what that costs, from a terminal.

Commands:
    describe VIDEO... [-q QUESTION]   ask MiMo (streams the answer with --stream)
    estimate VIDEO...                 tokens and price before sending; no key needed

Exit codes: 0 success, 1 an API error, 2 bad arguments or an invalid video option,
3 no API key, 4 a video that cannot be read or is too large.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import openai
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage

from langchain_mimo_video._estimate import RequestEstimate
from langchain_mimo_video.chat_models import DEFAULT_MODEL, ChatMiMo
from langchain_mimo_video.errors import (
    MediaError,
    MiMoError,
    MissingAPIKeyError,
    VideoSourceError,
    VideoTooLargeError,
    VideoValidationError,
)
from langchain_mimo_video.limits import DEFAULT_FPS, DEFAULT_MEDIA_RESOLUTION, MEDIA_RESOLUTIONS
from langchain_mimo_video.tokens import DEFAULT_PRICES
from langchain_mimo_video.video import VideoLoader, VideoPart

DEFAULT_QUESTION = (
    "Describe what happens in this video, in order, including on-screen text and speech. "
    "Give times as mm:ss."
)

EXIT_API_ERROR = 1
EXIT_USAGE = 2
EXIT_NO_KEY = 3
EXIT_BAD_VIDEO = 4


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mimo-video``."""
    parser = argparse.ArgumentParser(
        prog="mimo-video",
        description="Ask Xiaomi MiMo about videos (URLs or local files) from a terminal.",
        epilog="Set MIMO_API_KEY (and MIMO_BASE_URL for Token Plan keys) to describe videos.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def video_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("videos", nargs="+", metavar="VIDEO", help="http(s) URL or local file")
        command.add_argument(
            "--fps",
            type=float,
            default=DEFAULT_FPS,
            help="frames MiMo samples per second, 0.1-10 (default 2)",
        )
        command.add_argument(
            "--media-resolution",
            choices=MEDIA_RESOLUTIONS,
            default=DEFAULT_MEDIA_RESOLUTION,
            help="per-frame detail (default: default)",
        )
        command.add_argument("--start", type=float, help="send from this second (local files)")
        command.add_argument("--end", type=float, help="send up to this second (local files)")
        command.add_argument(
            "--model", default=DEFAULT_MODEL, help=f"model name (default {DEFAULT_MODEL})"
        )
        command.add_argument(
            "--no-fit",
            action="store_true",
            help="never re-encode local videos over the 50 MB base64 limit",
        )

    describe = commands.add_parser("describe", help="ask MiMo about each video")
    video_options(describe)
    describe.add_argument(
        "-q",
        "--question",
        default=DEFAULT_QUESTION,
        help="what to ask (default: a time-coded description)",
    )
    describe.add_argument(
        "--together", action="store_true", help="send all videos in one message (to compare them)"
    )
    describe.add_argument("--stream", action="store_true", help="print the answer as it comes")
    describe.add_argument("--json", action="store_true", help="print one JSON object per answer")
    describe.add_argument(
        "--show-reasoning", action="store_true", help="print the model's reasoning too"
    )
    describe.add_argument(
        "--no-thinking", action="store_true", help="switch the model's reasoning off"
    )
    describe.add_argument(
        "--max-tokens", type=int, default=None, help="cap on reasoning plus answer tokens"
    )
    describe.add_argument(
        "--dry-run",
        action="store_true",
        help="show the request and its estimate without sending it",
    )

    estimate = commands.add_parser("estimate", help="tokens and price before sending")
    video_options(estimate)
    estimate.add_argument(
        "--output-tokens",
        type=int,
        default=0,
        help="expected answer tokens, for the price (default 0)",
    )
    estimate.add_argument("--json", action="store_true", help="print JSON")
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    **chat_params: Any,
) -> int:
    """Run ``mimo-video``; returns the exit code.

    Args:
        argv: the arguments (default ``sys.argv[1:]``).
        stdout: where answers go (default ``sys.stdout``).
        stderr: where errors and usage go (default ``sys.stderr``).
        **chat_params: extra ``ChatMiMo`` arguments (for tests and embedding).
    """
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        loader = VideoLoader(
            fps=args.fps, media_resolution=args.media_resolution, fit=not args.no_fit
        )
        if args.command == "estimate":
            return _estimate(args, loader, out, chat_params)
        return _describe(args, loader, out, err, chat_params)
    except MissingAPIKeyError as error:
        print(f"mimo-video: {error}", file=err)
        return EXIT_NO_KEY
    except VideoValidationError as error:
        # VideoTooLargeError is a VideoValidationError but is about the video itself
        code = EXIT_BAD_VIDEO if isinstance(error, VideoTooLargeError) else EXIT_USAGE
        print(f"mimo-video: {error}", file=err)
        return code
    except (VideoSourceError, MediaError) as error:
        print(f"mimo-video: {error}", file=err)
        return EXIT_BAD_VIDEO
    except openai.APIError as error:
        print(f"mimo-video: {error}", file=err)
        return EXIT_API_ERROR
    except MiMoError as error:
        print(f"mimo-video: {error}", file=err)
        return EXIT_USAGE


def _load(loader: VideoLoader, video: str, args: argparse.Namespace) -> VideoPart:
    return loader.load(video, start=args.start, end=args.end)


def _describe(
    args: argparse.Namespace,
    loader: VideoLoader,
    out: TextIO,
    err: TextIO,
    chat_params: dict[str, Any],
) -> int:
    params: dict[str, Any] = {"model": args.model, **chat_params}
    if args.max_tokens is not None:
        params["max_tokens"] = args.max_tokens
    if args.no_thinking:
        params["thinking"] = False
    llm = ChatMiMo(**params)
    groups = [args.videos] if args.together else [[video] for video in args.videos]
    for group in groups:
        parts = [dict(_load(loader, video, args)) for video in group]
        messages: list[BaseMessage] = [
            HumanMessage(content=[*parts, {"type": "text", "text": args.question}])
        ]
        label = ", ".join(group)
        if args.dry_run:
            _print_dry_run(llm, messages, label, out, args.json)
            continue
        if len(groups) > 1 and not args.json:
            print(f"== {label}", file=out)
        reply = _ask(llm, messages, args, out)
        _print_reply(reply, label, args, out, err)
    return 0


def _ask(
    llm: ChatMiMo, messages: list[BaseMessage], args: argparse.Namespace, out: TextIO
) -> AIMessage:
    if not args.stream:
        return llm.invoke(messages)
    total: AIMessageChunk | None = None
    in_reasoning = False
    for chunk in llm.stream(messages):
        total = chunk if total is None else total + chunk
        if args.json:
            continue
        reasoning = chunk.additional_kwargs.get("reasoning_content")
        if reasoning and args.show_reasoning:
            if not in_reasoning:
                print("[reasoning]", file=out)
                in_reasoning = True
            print(reasoning, end="", file=out, flush=True)
        if chunk.content:
            if in_reasoning:
                print("\n[answer]", file=out)
                in_reasoning = False
            print(chunk.content, end="", file=out, flush=True)
    if not args.json:
        print(file=out)
    assert total is not None
    return AIMessage(
        content=total.content,
        additional_kwargs=total.additional_kwargs,
        response_metadata=total.response_metadata,
        usage_metadata=total.usage_metadata,
    )


def _print_reply(
    reply: AIMessage, label: str, args: argparse.Namespace, out: TextIO, err: TextIO
) -> None:
    reasoning = reply.additional_kwargs.get("reasoning_content", "")
    usage = dict(reply.usage_metadata or {})
    if args.json:
        record = {
            "video": label,
            "answer": reply.content,
            "reasoning": reasoning or None,
            "model": reply.response_metadata.get("model_name"),
            "finish_reason": reply.response_metadata.get("finish_reason"),
            "usage": usage,
        }
        print(json.dumps(record, ensure_ascii=False), file=out)
        return
    if not args.stream:
        if args.show_reasoning and reasoning:
            print(f"[reasoning]\n{reasoning}\n[answer]", file=out)
        print(reply.content, file=out)
    if not reply.content:
        print(
            f"(no answer: finish_reason={reply.response_metadata.get('finish_reason')}; "
            "raise --max-tokens, which caps reasoning and answer together)",
            file=err,
        )
    print(_usage_line(usage), file=err)


def _usage_line(usage: dict[str, Any]) -> str:
    details = usage.get("input_token_details") or {}
    output_details = usage.get("output_token_details") or {}
    return (
        f"[tokens: {usage.get('input_tokens', 0)} in (video {details.get('video', 0)}, "
        f"audio {details.get('audio', 0)}, cached {details.get('cache_read', 0)}), "
        f"{usage.get('output_tokens', 0)} out (reasoning {output_details.get('reasoning', 0)})]"
    )


def _summarise(body: dict[str, Any]) -> dict[str, Any]:
    """The request body with data URLs cut down to their header and size."""

    def cut(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: cut(item) for key, item in value.items()}
        if isinstance(value, list):
            return [cut(item) for item in value]
        if isinstance(value, str) and value.startswith("data:") and "," in value:
            header = value.split(",", 1)[0]
            return f"{header},<{len(value) - len(header) - 1:,} base64 characters>"
        return value

    return {key: cut(value) for key, value in body.items()}


def _print_dry_run(
    llm: ChatMiMo, messages: list[BaseMessage], label: str, out: TextIO, as_json: bool
) -> None:
    body = _summarise(llm._build_request(messages))
    estimate = llm.estimate_request(messages)
    if as_json:
        record = {
            "video": label,
            "request": body,
            "estimate": _estimate_record(estimate, llm.model_name, 0),
        }
        print(json.dumps(record, ensure_ascii=False), file=out)
        return
    print(f"POST {llm.base_url.rstrip('/')}/chat/completions", file=out)
    print(json.dumps(body, indent=2, ensure_ascii=False), file=out)
    _print_estimate(estimate, llm.model_name, 0, out)


def _estimate(
    args: argparse.Namespace, loader: VideoLoader, out: TextIO, chat_params: dict[str, Any]
) -> int:
    llm = ChatMiMo(model=args.model, **chat_params)
    records = []
    for video in args.videos:
        part = dict(_load(loader, video, args))
        estimate = llm.estimate_request([HumanMessage(content=[part])])
        if args.json:
            records.append(
                {"video": video, **_estimate_record(estimate, args.model, args.output_tokens)}
            )
        else:
            print(f"== {video}", file=out)
            _print_estimate(estimate, args.model, args.output_tokens, out)
    if args.json:
        for record in records:
            print(json.dumps(record, ensure_ascii=False), file=out)
    return 0


def _estimate_record(estimate: RequestEstimate, model: str, output_tokens: int) -> dict[str, Any]:
    price = DEFAULT_PRICES.get(model)
    return {
        "input_tokens": estimate.input_tokens,
        "video_tokens": estimate.video_tokens,
        "audio_tokens": estimate.audio_tokens,
        "text_tokens": estimate.text_tokens,
        "videos": [
            {
                "duration": v.duration,
                "width": v.width,
                "height": v.height,
                "fps": v.fps,
                "media_resolution": v.media_resolution,
                "has_audio": v.has_audio,
                "frames": v.tokens.frames,
                "frame_size": [v.tokens.frame_width, v.tokens.frame_height],
                "tokens": v.tokens.total,
            }
            for v in estimate.videos
        ],
        "unmeasured": estimate.unmeasured,
        "cost": estimate.cost(model, output_tokens) if price else None,
        "currency": price.currency if price else None,
    }


def _print_estimate(estimate: RequestEstimate, model: str, output_tokens: int, out: TextIO) -> None:
    for video in estimate.videos:
        tokens = video.tokens
        print(
            f"video: {video.duration:.1f} s, {video.width}x{video.height}, "
            f"{'with' if video.has_audio else 'no'} audio; fps {video.fps:g}, "
            f"{video.media_resolution}: {tokens.frames} frames at "
            f"{tokens.frame_width}x{tokens.frame_height} -> {tokens.vision} vision + "
            f"{tokens.timestamps} timestamp + {tokens.special} marker + {tokens.audio} audio "
            f"= {tokens.total} tokens",
            file=out,
        )
    for item in estimate.unmeasured:
        print(f"not measured: {item}", file=out)
    print(
        f"input tokens: {estimate.input_tokens} (video {estimate.video_tokens}, audio "
        f"{estimate.audio_tokens}, text about {estimate.text_tokens})",
        file=out,
    )
    price = DEFAULT_PRICES.get(model)
    if price is None:
        print(f"price: unknown for {model}", file=out)
        return
    cost = estimate.cost(model, output_tokens)
    extra = f" with {output_tokens} output tokens" if output_tokens else " (input only)"
    print(f"price: {cost:.6f} {price.currency}{extra}", file=out)


__all__ = ["build_parser", "main"]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
