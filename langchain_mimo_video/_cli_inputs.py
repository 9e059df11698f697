"""What ``mimo-video`` checks before it sends anything, and how its errors read.

Private to :mod:`langchain_mimo_video.cli`: the run's :class:`Session`, the exit codes, the
API key file, every VIDEO argument (``~`` expanded, a bare web address refused, re-encodes
shown as progress) and the command-line advice that replaces the library's Python advice.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import re
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

import openai
from pydantic import SecretStr, ValidationError

from langchain_mimo_video._cli_output import Reencoded, one_line
from langchain_mimo_video.chat_models import ChatMiMo
from langchain_mimo_video.errors import (
    MediaError,
    MiMoError,
    MissingAPIKeyError,
    VideoSourceError,
    VideoTooLargeError,
)
from langchain_mimo_video.limits import MAX_BASE64_BYTES
from langchain_mimo_video.store import MediaStore
from langchain_mimo_video.video import VideoLoader, data_url_length, sniff_video_mime

__all__ = [
    "EXIT_API_ERROR",
    "EXIT_BAD_VIDEO",
    "EXIT_BROKEN_PIPE",
    "EXIT_INTERRUPTED",
    "EXIT_NO_KEY",
    "EXIT_USAGE",
    "Input",
    "Session",
    "Stop",
    "check_all",
    "error_message",
    "exit_code",
    "load",
    "make_loader",
]

EXIT_API_ERROR = 1
EXIT_USAGE = 2
EXIT_NO_KEY = 3
EXIT_BAD_VIDEO = 4
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer cut off by `head`

#: Seconds between progress updates while a video is re-encoded (on a terminal; ten times
#: that otherwise, so logs get a line now and then rather than a flood).
PROGRESS_INTERVAL = 1.0

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")
# "example.com/v.mp4" or "www.example.com": a web address typed without its scheme.
_HOST_LIKE = re.compile(
    r"^(?:www\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
    r"(?::\d+)?/"
)
_PYTHON_MODEL = re.compile(r"ChatMiMo\(model=['\"]([^'\"]+)['\"]\)")
# Parts smaller than this are kept from the check until the send; larger ones that are
# cheap to rebuild (a plain local file) are read again when their turn comes, so many large
# videos are not all held in memory at once.
_KEEP_PARTS_UNDER = 8_000_000


class Stop(Exception):
    """Stop with ``code``; what went wrong was printed already."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Session:
    """One run's streams and extra ``ChatMiMo`` arguments, shared by every command.

    Attributes:
        out: where answers and results go.
        err: where errors, warnings, progress and usage go.
        chat_params: extra ``ChatMiMo`` arguments (from ``main``'s ``**chat_params``).
        base_url: the API base URL of the chat model made last (for error messages).
    """

    out: TextIO
    err: TextIO
    chat_params: dict[str, Any]
    base_url: str | None = None

    def say(self, message: str) -> None:
        """Print ``mimo-video: message`` to ``err``, as one line."""
        print(f"mimo-video: {one_line(message)}", file=self.err, flush=True)

    def chat_model(self, args: argparse.Namespace, **params: Any) -> ChatMiMo:
        """A ``ChatMiMo`` from the command line's connection options over ``chat_params``.

        Raises:
            Stop: the key file cannot be read (exit 3), or ``--base-url`` or a model option
                is invalid (2).
        """
        merged: dict[str, Any] = {**self.chat_params, **params}
        if getattr(args, "model", None):
            merged["model"] = args.model
        if getattr(args, "base_url", None):
            if not re.match(r"https?://[^/\s]", args.base_url, re.IGNORECASE):
                self.say(
                    f"--base-url must be an http(s) URL such as "
                    f"https://api.xiaomimimo.com/v1, got {args.base_url!r}"
                )
                raise Stop(EXIT_USAGE)
            merged["base_url"] = args.base_url
        if getattr(args, "api_key_file", None):
            merged["api_key"] = _read_key_file(args.api_key_file, self)
        try:
            llm = ChatMiMo(**merged)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
                for item in error.errors()
            )
            self.say(f"invalid option: {problems}")
            raise Stop(EXIT_USAGE) from None
        self.base_url = llm.base_url
        return llm


def exit_code(error: BaseException) -> int:
    """The exit code for an error (by base class, so new subclasses map too).

    Args:
        error: what a command raised.

    Returns:
        3 for a missing key; 1 for anything about a request that was sent (every
        ``openai.APIError``: error statuses, broken answers, connection failures); 4 for a
        video that cannot be read, decoded or fitted; 2 for any other bad option or content
        refused before sending (the package's ``ValueError`` and ``LookupError`` errors);
        1 for everything else (a cut stream, an empty answer, LangChain's errors).
    """
    if isinstance(error, MissingAPIKeyError):
        return EXIT_NO_KEY
    if isinstance(error, openai.APIError):
        return EXIT_API_ERROR
    if isinstance(error, (VideoTooLargeError, VideoSourceError, MediaError)):
        return EXIT_BAD_VIDEO
    if isinstance(error, MiMoError) and isinstance(error, (ValueError, LookupError)):
        return EXIT_USAGE
    return EXIT_API_ERROR


def _read_key_file(name: str, session: Session) -> SecretStr:
    where = "stdin" if name == "-" else f"the API key file {name}"
    try:
        if name == "-":
            text = sys.stdin.read()
        else:
            with open(os.path.expanduser(name), encoding="utf-8") as stream:
                text = stream.read()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else "not text"
        session.say(f"cannot read {where}: {reason}")
        raise Stop(EXIT_NO_KEY) from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) != 1 or any(char.isspace() for char in lines[0]):
        problem = "is empty" if not lines else "must hold only the key, on one line"
        session.say(f"{where} {problem}")
        raise Stop(EXIT_NO_KEY)
    return SecretStr(lines[0])


@dataclass
class Input:
    """One VIDEO argument after checking: the part to send (or how to rebuild it)."""

    video: str  # as typed
    source: str  # what the loader gets (``~`` expanded)
    part: dict[str, Any] | None  # None: rebuild at send time (cheap, see _KEEP_PARTS_UNDER)
    reencoded: Reencoded | None


def has_scheme(source: str) -> bool:
    """Whether ``source`` has a scheme (``https:``, ``data:``, ...) rather than being a path."""
    return bool(_SCHEME.match(source))


def _source(video: str) -> str:
    """``video`` as the loader should get it: ``~`` expanded; a bare web address refused."""
    if _SCHEME.match(video):
        return video
    path = os.path.expanduser(video)
    if not os.path.exists(path) and _HOST_LIKE.match(video):
        raise VideoSourceError(
            f"Video file not found: {video}. If it is a web address, write its scheme: "
            f"https://{video}"
        )
    return path


def _isatty(stream: TextIO) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


def make_loader(
    args: argparse.Namespace, err: TextIO, store: MediaStore | None = None
) -> VideoLoader:
    """The command's VideoLoader; with tqdm installed and a terminal, it draws re-encode bars.

    With ``store``, local videos are put there and their parts are references.
    """
    bar = err is sys.stderr and _isatty(err) and importlib.util.find_spec("tqdm") is not None
    return VideoLoader(
        fps=args.fps,
        media_resolution=args.media_resolution,
        fit=not args.no_fit,
        show_progress=bar,
        store=store,
    )


def _reencode_reason(source: str, loader: VideoLoader, args: argparse.Namespace) -> str | None:
    """Why loading ``source`` will re-encode it, or None when it will not."""
    if not loader.fit or has_scheme(source):
        return None
    if args.start is not None or args.end is not None:
        return "--start/--end"
    try:
        size = os.path.getsize(source)
        with open(source, "rb") as stream:
            head = stream.read(256)
    except OSError:
        return None  # the loader reports it
    if data_url_length(size, sniff_video_mime(head) or "video/mp4") > MAX_BASE64_BYTES:
        return "MiMo's 50 MB base64 limit"
    return None


@contextlib.contextmanager
def _progress(err: TextIO, what: str, *, bar: bool = False) -> Iterator[None]:
    """Show that ``what`` is running and how long it took.

    With ``bar`` the loader draws its own bar (seconds of video done), so only the first
    and last lines are printed; else the elapsed time is updated in place on a terminal,
    and printed now and then otherwise.
    """
    began = time.monotonic()
    terminal = _isatty(err) and not bar
    interval = PROGRESS_INTERVAL if terminal else PROGRESS_INTERVAL * 10
    print(f"mimo-video: {what}...", end="" if terminal else "\n", file=err, flush=True)
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(interval):
            seconds = time.monotonic() - began
            if terminal:
                print(f"\rmimo-video: {what}... {seconds:.0f} s", end="", file=err, flush=True)
            else:
                print(f"mimo-video: {what}: still running, {seconds:.0f} s", file=err, flush=True)

    ticker = threading.Thread(target=tick, name="mimo-video-progress", daemon=True)
    if not bar:
        ticker.start()
    outcome = "failed after"
    try:
        yield
        outcome = "done in"
    finally:
        stop.set()
        if ticker.is_alive():
            ticker.join()
        seconds = time.monotonic() - began
        lead = "\r" if terminal else ""
        print(f"{lead}mimo-video: {what}: {outcome} {seconds:.1f} s", file=err, flush=True)


def load(item: Input, loader: VideoLoader, args: argparse.Namespace) -> dict[str, Any]:
    return dict(loader.load(item.source, start=args.start, end=args.end))


def _check_one(
    video: str, loader: VideoLoader, args: argparse.Namespace, session: Session
) -> Input:
    source = _source(video)
    reason = _reencode_reason(source, loader, args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if reason is None:
            part: dict[str, Any] = dict(loader.load(source, start=args.start, end=args.end))
        else:
            what = f"re-encoding {video} at MiMo's frame size ({reason})"
            with _progress(session.err, what, bar=loader.show_progress):
                part = dict(loader.load(source, start=args.start, end=args.end))
    for warning in caught:
        session.say(f"warning: {video}: {warning.message}")
    reencoded = None
    if reason is not None:
        from langchain_mimo_video.media import probe

        info = probe(source)
        reencoded = Reencoded(info.width, info.height, reason)
    item = Input(video=video, source=source, part=part, reencoded=reencoded)
    if (
        reencoded is None
        and not has_scheme(source)
        and "video_url" in part  # a reference is small: kept
        and len(part["video_url"]["url"]) > _KEEP_PARTS_UNDER
    ):
        item.part = None  # a plain read of a local file: cheap to do again
    return item


def check_all(
    loader: VideoLoader, args: argparse.Namespace, session: Session, *, keep: bool
) -> list[Input]:
    """Check every VIDEO; on any failure report them all and stop before anything is sent.

    Raises:
        Stop: with the exit code of the first video that failed.
    """
    checked: list[Input] = []
    failures: list[tuple[str, MiMoError]] = []
    for video in args.videos:
        try:
            item = _check_one(video, loader, args, session)
        except MiMoError as error:
            failures.append((video, error))
            continue
        if keep and item.part is None:
            item.part = load(item, loader, args)
        checked.append(item)
    if not failures:
        return checked
    for video, failure in failures:
        message = error_message(failure, args, session.base_url)
        session.say(message if video in message else f"{video}: {message}")
    session.say(
        f"{len(failures)} of {len(args.videos)} video{'s' if len(args.videos) > 1 else ''} "
        "cannot be used; nothing was sent."
    )
    raise Stop(exit_code(failures[0][1]))


def error_message(
    error: BaseException, args: argparse.Namespace, base_url: str | None = None
) -> str:
    """The error's message, with command-line advice where the library gives Python advice.

    Args:
        error: what was raised.
        args: the parsed command line (``--no-fit`` changes the advice).
        base_url: the API base URL that was used, named when it cannot be reached.
    """
    if isinstance(error, VideoTooLargeError) and error.limit == MAX_BASE64_BYTES:
        size = f"{error.size / 1e6:.1f} MB as base64, over MiMo's 50 MB limit for a local video"
        if getattr(args, "no_fit", False):
            return (
                f"{size}: drop --no-fit, or use --start/--end to send a part (without "
                "--no-fit it is re-encoded to the frame size MiMo uses, for the same tokens)."
            )
        return (
            f"{size} even re-encoded to the frame size MiMo uses: use --start/--end to send "
            "a part, a lower --fps, or put the video at an http(s) URL (up to 300 MB)."
        )
    if isinstance(error, MissingAPIKeyError):
        return (
            "No MiMo API key: set the MIMO_API_KEY environment variable or use --api-key-file "
            "FILE. Token Plan keys (tp-...) also need their regional base URL (--base-url or "
            "MIMO_BASE_URL), e.g. https://token-plan-cn.xiaomimimo.com/v1."
        )
    if isinstance(error, openai.APIConnectionError):
        text = str(error)
        if base_url and base_url not in text:
            text += f" (tried {base_url})"
        if "--base-url" not in text:
            if "base_url=" in text:
                text = text.replace("base_url=", "--base-url")
            else:
                text += " Check the network, and --base-url or MIMO_BASE_URL."
        return text
    # the library names its Python arguments; on a command line they are options
    return _PYTHON_MODEL.sub(r"--model \1", str(error))
