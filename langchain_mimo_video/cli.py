"""``mimo-video``: ask MiMo about videos, or estimate what that costs, from a terminal.

Commands:
    describe VIDEO... [-q QUESTION]   ask MiMo (streams the answer with --stream)
    estimate VIDEO...                 tokens and price before sending; no key needed
    index DIR [--estimate]            describe a folder as JSON documents, resumably

Every video is checked (and re-encoded if it has to be) before the first request is sent;
if any cannot be used, all of them are reported and nothing is sent.

Exit codes: 0 success; 1 an API error, a broken or cut answer, or a server that cannot be
reached; 2 bad arguments or an invalid video option; 3 no API key (or an unreadable
``--api-key-file``); 4 a video that cannot be read or is too large, or an estimate that could
not measure every video; 130 interrupted; 141 the output pipe was closed (``| head``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TextIO

import openai
from langchain_core.exceptions import LangChainException
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage

from langchain_mimo_video import _cli_index, doctor
from langchain_mimo_video._cli_inputs import (
    EXIT_API_ERROR,
    EXIT_BAD_VIDEO,
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_NO_KEY,
    EXIT_USAGE,
    Input,
    Session,
    Stop,
    check_all,
    error_message,
    exit_code,
    load,
    make_loader,
)
from langchain_mimo_video._cli_output import (
    estimate_record,
    print_estimate,
    print_reply,
    summarise,
)
from langchain_mimo_video.chat_models import DEFAULT_MODEL, ChatMiMo
from langchain_mimo_video.errors import MiMoError
from langchain_mimo_video.limits import DEFAULT_FPS, DEFAULT_MEDIA_RESOLUTION, MEDIA_RESOLUTIONS
from langchain_mimo_video.store import MediaStore
from langchain_mimo_video.video import VideoLoader

__all__ = [
    "COMMANDS",
    "EXIT_API_ERROR",
    "EXIT_BAD_VIDEO",
    "EXIT_BROKEN_PIPE",
    "EXIT_INTERRUPTED",
    "EXIT_NO_KEY",
    "EXIT_USAGE",
    "Command",
    "Session",
    "build_parser",
    "exit_code",
    "main",
]

DEFAULT_QUESTION = (
    "Describe what happens in this video, in order, including on-screen text and speech. "
    "Give times as mm:ss."
)


@dataclass(frozen=True)
class Command:
    """One subcommand of ``mimo-video``.

    Attributes:
        help: the one-line summary shown by ``mimo-video --help``.
        add_arguments: adds the command's own options to its parser.
        run: runs the command; returns the exit code (errors it raises are mapped by
            :func:`exit_code`).
    """

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Session], int]


def _count(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def _package_version() -> str:
    try:
        return version("langchain-mimo-video")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "unknown"


def _connection_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--base-url",
        metavar="URL",
        help="MiMo API base URL (default: $MIMO_BASE_URL, else https://api.xiaomimimo.com/v1; "
        "Token Plan keys need their regional URL)",
    )
    command.add_argument(
        "--api-key-file",
        metavar="FILE",
        help="read the API key from FILE ('-' for stdin) instead of $MIMO_API_KEY; "
        "the key is never printed",
    )


def _video_options(command: argparse.ArgumentParser) -> None:
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
    command.add_argument(
        "--start", type=float, metavar="S", help="send from this second (local files)"
    )
    command.add_argument(
        "--end", type=float, metavar="E", help="send up to this second (local files)"
    )
    command.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"model name (default {DEFAULT_MODEL})"
    )
    command.add_argument(
        "--no-fit",
        action="store_true",
        help="never re-encode local videos over the 50 MB base64 limit (refuse them instead)",
    )


def _describe_arguments(describe: argparse.ArgumentParser) -> None:
    _video_options(describe)
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
        "--max-tokens",
        type=_count(1),
        default=None,
        metavar="N",
        help="cap on reasoning plus answer tokens",
    )
    describe.add_argument(
        "--dry-run",
        action="store_true",
        help="print the exact request (media summarised) and its estimate; send nothing, "
        "no key needed",
    )


def _estimate_arguments(estimate: argparse.ArgumentParser) -> None:
    _video_options(estimate)
    estimate.add_argument(
        "--output-tokens",
        type=_count(0),
        default=0,
        metavar="N",
        help="expected answer tokens, for the price (default 0)",
    )
    estimate.add_argument("--json", action="store_true", help="print one JSON object per video")
    estimate.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="exit 0 even when a video could not be measured (the price then leaves it out)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mimo-video``: one subparser per entry of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="mimo-video",
        description="Ask Xiaomi MiMo about videos (URLs or local files) from a terminal.",
        epilog="Set MIMO_API_KEY (or use --api-key-file) and, for Token Plan keys, "
        "MIMO_BASE_URL (or --base-url) to describe videos. Exit codes: 0 done, 1 API error "
        "or broken answer, 2 bad arguments, 3 no API key, 4 a video that cannot be used "
        "(or an incomplete estimate).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub = commands.add_parser(name, help=command.help, description=command.help)
        command.add_arguments(sub)
        _connection_options(sub)
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
        stderr: where errors, progress and usage go (default ``sys.stderr``).
        **chat_params: extra ``ChatMiMo`` arguments (for tests and embedding); the
            command line's options override them.

    Raises:
        SystemExit: for ``--help``, ``--version`` and arguments argparse refuses (code 2).
    """
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        args = build_parser().parse_args(argv)
    session = Session(out=out, err=err, chat_params=dict(chat_params))

    def show_warning(message: Warning | str, *_: Any, **__: Any) -> None:
        session.say(f"warning: {message}")  # one line, not Python's file:line form

    try:
        with warnings.catch_warnings():
            warnings.showwarning = show_warning
            code = COMMANDS[args.command].run(args, session)
        out.flush()
        return code
    except Stop as stop:
        return stop.code
    except BrokenPipeError:
        _quiet_stdout(out)
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        session.say("interrupted")
        return EXIT_INTERRUPTED
    except (MiMoError, openai.APIError, LangChainException) as error:
        session.say(error_message(error, args, session.base_url))
        return exit_code(error)
    except Exception as error:
        # A failure nothing above anticipates (a server answer the client could not
        # handle, say): one line, never a traceback; MIMO_VIDEO_DEBUG=1 shows it.
        if os.environ.get("MIMO_VIDEO_DEBUG"):
            raise
        session.say(
            f"unexpected {type(error).__name__}: {error} (set MIMO_VIDEO_DEBUG=1 for details)"
        )
        return EXIT_API_ERROR


def _quiet_stdout(out: TextIO) -> None:
    """After a closed pipe, point stdout at /dev/null so the exit flush cannot fail."""
    if out is not sys.stdout:
        return
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


# -- describe ----------------------------------------------------------------------------


def _describe(args: argparse.Namespace, session: Session) -> int:
    # Local videos go through a store made for this run and removed when it ends (not the
    # per-user cache, which would keep a copy of every file ever described): the checked
    # messages hold references of a few hundred bytes, and each request streams its
    # video from disk, so N videos waiting to be sent are N files, not N data URLs.
    given = session.chat_params.get("media_store")  # main(media_store=...): the caller's
    if isinstance(given, MediaStore):
        return _describe_through(args, session, given)
    with tempfile.TemporaryDirectory(prefix="mimo-video-") as folder:
        return _describe_through(args, session, MediaStore(folder))


def _describe_through(args: argparse.Namespace, session: Session, store: MediaStore) -> int:
    params: dict[str, Any] = {}
    if args.max_tokens is not None:
        params["max_tokens"] = args.max_tokens
    if args.no_thinking:
        params["thinking"] = False
    llm = session.chat_model(args, media_store=store, **params)
    if not args.dry_run:
        llm.require_api_key()  # no key: exit 3 before a single video is read
    loader = make_loader(args, session.err, store)
    inputs = check_all(loader, args, session, keep=args.together or args.dry_run)
    groups = [inputs] if args.together else [[item] for item in inputs]
    # Every request is built (and so validated) before the first one is sent. Local videos
    # are references to the store, so the kept messages hold no video; a part the checks
    # left out (a large plain file, with a loader without a store) is read again at send time.
    requests: list[tuple[list[Input], list[BaseMessage] | None]] = []
    for group in groups:
        messages = _messages(group, loader, args)
        body = llm.request_body(messages, stream=args.stream)
        if args.dry_run:
            _print_dry_run(llm, messages, body, group, args, session)
        kept = all(item.part is not None for item in group)
        requests.append((group, messages if kept else None))
        del messages, body
    if args.dry_run:
        return 0
    for group, prepared in requests:
        label = ", ".join(item.video for item in group)
        if len(groups) > 1 and not args.json:
            print(f"== {label}", file=session.out, flush=True)
        messages = prepared if prepared is not None else _messages(group, loader, args)
        reply = _ask(llm, messages, args, session.out)
        del messages
        print_reply(
            reply,
            label,
            as_json=args.json,
            streamed=args.stream,
            show_reasoning=args.show_reasoning,
            out=session.out,
            err=session.err,
        )
    return 0


def _messages(
    group: list[Input], loader: VideoLoader, args: argparse.Namespace
) -> list[BaseMessage]:
    parts = [item.part if item.part is not None else load(item, loader, args) for item in group]
    return [HumanMessage(content=[*parts, {"type": "text", "text": args.question}])]


def _ask(
    llm: ChatMiMo, messages: list[BaseMessage], args: argparse.Namespace, out: TextIO
) -> AIMessage:
    if not args.stream:
        return llm.invoke(messages)
    total: AIMessageChunk | None = None
    in_reasoning = False
    printed = False
    try:
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
                printed = True
            if chunk.content:
                if in_reasoning:
                    print("\n[answer]", file=out)
                    in_reasoning = False
                print(chunk.content, end="", file=out, flush=True)
                printed = True
    finally:
        if printed:
            print(file=out, flush=True)  # end the partial line, also when the stream broke
    if not args.json and not printed:
        print(file=out)
    if total is None:
        return AIMessage(content="")
    return AIMessage(
        content=total.content,
        additional_kwargs=total.additional_kwargs,
        response_metadata=total.response_metadata,
        usage_metadata=total.usage_metadata,
    )


def _print_dry_run(
    llm: ChatMiMo,
    messages: list[BaseMessage],
    body: dict[str, Any],
    group: list[Input],
    args: argparse.Namespace,
    session: Session,
) -> None:
    """Print the request ``body`` (built by the same code as the real send) and its estimate."""
    label = ", ".join(item.video for item in group)
    shown = summarise(body, llm.media_store)
    estimate = llm.estimate_request(messages)
    notes = [item.reencoded for item in group]
    url = f"{llm.base_url.rstrip('/')}/chat/completions"
    if args.json:
        record = {
            "video": label,
            "method": "POST",
            "url": url,
            "request": shown,
            "estimate": estimate_record(estimate, llm.model_name, 0, notes),
        }
        print(json.dumps(record, ensure_ascii=False), file=session.out)
        return
    print(f"POST {url}", file=session.out)
    print(json.dumps(shown, indent=2, ensure_ascii=False), file=session.out)
    print_estimate(estimate, llm.model_name, 0, session.out, notes)


# -- estimate ----------------------------------------------------------------------------


def _estimate(args: argparse.Namespace, session: Session) -> int:
    llm = session.chat_model(args)
    loader = make_loader(args, session.err)
    inputs = check_all(loader, args, session, keep=False)
    incomplete = 0
    for item in inputs:
        part = item.part if item.part is not None else load(item, loader, args)
        item.part = None
        estimate = llm.estimate_request([HumanMessage(content=[part])])
        incomplete += bool(estimate.unmeasured)
        if args.json:
            record = estimate_record(estimate, llm.model_name, args.output_tokens, [item.reencoded])
            print(json.dumps({"video": item.video, **record}, ensure_ascii=False), file=session.out)
        else:
            print(f"== {item.video}", file=session.out)
            print_estimate(
                estimate, llm.model_name, args.output_tokens, session.out, [item.reencoded]
            )
    if incomplete and not args.allow_incomplete:
        session.say(
            f"the estimate is incomplete: {incomplete} of {len(inputs)} "
            f"video{'s' if len(inputs) > 1 else ''} could not be measured (see 'not measured' "
            "above), so the price leaves them out; pass --allow-incomplete to accept that"
        )
        return EXIT_BAD_VIDEO
    return 0


#: The subcommands, in the order ``--help`` lists them. A new command is one entry here
#: (its options get --base-url and --api-key-file too).
COMMANDS: dict[str, Command] = {
    "describe": Command("ask MiMo about each video", _describe_arguments, _describe),
    "estimate": Command(
        "tokens and price before sending (no key needed)", _estimate_arguments, _estimate
    ),
    "doctor": Command(
        "check the package's assumptions against the live API (asks before sending)",
        doctor.add_arguments,
        doctor.run,
    ),
    "index": Command(_cli_index.HELP, _cli_index.add_arguments, _cli_index.run),
}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
