"""Per-request overhead of ChatMiMo over the raw openai SDK, next to ChatOpenAI's.

All three send the same request body to the MiMo contract server (tests/mimo_server) on
loopback, in the same process:

* baseline: ``openai.OpenAI(...).chat.completions.create(**body)``, the raw SDK call;
* ``ChatMiMo.invoke`` / ``ChatMiMo.stream``;
* langchain-openai's ``ChatOpenAI`` pointed at the same server.

Scenarios: a text prompt, and a tiny generated MP4 sent as a data URL built by
``VideoLoader().load(path)`` (the raw SDK and ChatOpenAI get the same message dicts), each
with ``invoke`` and ``stream``. The server does the same work for all three (it parses the
body, base64-decodes the video and measures it; decoded videos are cached by hash), so its
time is in the baseline and the differences are client-side overhead.

Calls are interleaved (raw, ChatMiMo, ChatOpenAI, rotating), timed one by one after a
warm-up; each run reports the median per call, and the figures are the median over runs.
If ChatMiMo's overhead exceeds ChatOpenAI's, a cProfile of ChatMiMo's calls shows where
its time goes.

Run from the repository root: ``python -m benchmarks.bench_overhead [--quick]``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks._common import (
    check_repo_root,
    median,
    print_header,
    require,
    table,
)
from benchmarks._servers import API_KEY, contract_server_process

MODEL = "mimo-v2.5"
QUESTION = "What happens in this clip? Answer in one sentence."


@dataclass(frozen=True)
class Scenario:
    """One request shape, as LangChain messages and as the wire messages of the body."""

    name: str
    stream: bool
    lc_messages: list[Any]
    wire_messages: list[dict[str, Any]]


Call = Callable[[Scenario], None]


def build_scenarios(video: Path) -> list[Scenario]:
    from langchain_core.messages import HumanMessage

    from langchain_mimo_video import VideoLoader

    part = VideoLoader().load(video)
    text_wire = [{"role": "user", "content": QUESTION}]
    video_content = [dict(part), {"type": "text", "text": QUESTION}]
    video_wire = [{"role": "user", "content": video_content}]
    scenarios = []
    for stream in (False, True):
        mode = "stream" if stream else "invoke"
        scenarios.append(
            Scenario(f"text {mode}", stream, [HumanMessage(content=QUESTION)], text_wire)
        )
        scenarios.append(
            Scenario(
                f"video {mode}",
                stream,
                [HumanMessage(content=[dict(part), {"type": "text", "text": QUESTION}])],
                video_wire,
            )
        )
    return scenarios


def make_callers(base_url: str, api_key: str) -> dict[str, Call]:
    import openai
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    from langchain_mimo_video import ChatMiMo

    # The raw client gets the same headers ChatMiMo's SDK client sends (both auth headers).
    client = openai.OpenAI(
        api_key=api_key, base_url=base_url, max_retries=2, default_headers={"api-key": api_key}
    )
    mimo = ChatMiMo(model=MODEL, base_url=base_url, api_key=api_key)
    chat_openai = ChatOpenAI(
        model=MODEL, base_url=base_url, api_key=SecretStr(api_key), stream_usage=True
    )

    def raw(scenario: Scenario) -> None:
        messages: Any = scenario.wire_messages  # MiMo's parts are not the SDK's typed ones
        if scenario.stream:
            stream = client.chat.completions.create(
                model=MODEL,
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
            )
            text = []
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    text.append(chunk.choices[0].delta.content)
            assert text
        else:
            response = client.chat.completions.create(model=MODEL, messages=messages)
            assert response.choices[0].message.content

    def wrapper(llm: Any) -> Call:
        def call(scenario: Scenario) -> None:
            if scenario.stream:
                chunks = list(llm.stream(scenario.lc_messages))
                assert chunks
            else:
                assert llm.invoke(scenario.lc_messages).content

        return call

    return {"raw SDK": raw, "ChatMiMo": wrapper(mimo), "ChatOpenAI": wrapper(chat_openai)}


def check_same_bodies(server: Any, callers: dict[str, Call], scenarios: list[Scenario]) -> None:
    """Send one request per variant and scenario; report any body that differs."""
    for scenario in scenarios:
        bodies = {}
        for name, call in callers.items():
            server.reset()
            call(scenario)
            body = dict(server.chat_requests[-1].body)
            if body.get("stream") is False:  # ChatOpenAI spells out the default
                del body["stream"]
            bodies[name] = body
        reference = bodies["raw SDK"]
        for name, body in bodies.items():
            if body != reference:
                keys = sorted(set(body) ^ set(reference)) or "values"
                print(
                    f"  note: {name}'s body differs from the raw SDK's in {scenario.name}: {keys}"
                )
    print("request bodies checked: the three variants send the same JSON per scenario\n")


def time_calls(callers: dict[str, Call], scenario: Scenario, calls: int) -> dict[str, list[float]]:
    """Interleave the variants (rotating the order) and time every call, in seconds."""
    names = list(callers)
    times: dict[str, list[float]] = {name: [] for name in names}
    for index in range(calls):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            callers[name](scenario)
            times[name].append(time.perf_counter() - started)
    return times


_SHARED = ("openai/", "httpx2/", "httpcore2/", "h11/", "anyio/", "sniffio/", "distro/")
_WRAPPER = ("langchain_core/", "langchain_mimo_video/", "pydantic/", "pydantic_core/", "langsmith/")


def _group(where: str) -> str:
    if where.startswith(_SHARED):
        return "openai SDK + HTTP stack (in the baseline too)"
    for prefix in _WRAPPER:
        if where.startswith(prefix):
            return prefix.rstrip("/")
    return "stdlib and builtins (called from either)"


def profile_mimo(callers: dict[str, Call], scenario: Scenario, calls: int, top: int) -> None:
    """Profile ChatMiMo's calls for ``scenario`` and print where the time goes.

    cProfile slows Python code several times over, so the absolute numbers are inflated;
    the split between packages and the ranking of functions are what it shows.
    """
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        callers["ChatMiMo"](scenario)
    profiler.disable()
    stats = pstats.Stats(profiler)
    groups: dict[str, float] = {}
    entries: list[tuple[float, float, int, str]] = []
    for (filename, line, function), (_, ncalls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = _short_path(filename)
        groups[_group(where)] = groups.get(_group(where), 0.0) + tottime
        if where.startswith(_WRAPPER):
            entries.append((tottime, cumtime, ncalls, f"{where}:{line}({function})"))
    total = sum(groups.values())
    print(f"cProfile of {calls} ChatMiMo calls ({scenario.name}): own time by package, ms per call")
    package_rows = [
        (name, f"{seconds / calls * 1000:.3f}", f"{seconds / total:.0%}")
        for name, seconds in sorted(groups.items(), key=lambda item: -item[1])
    ]
    print(table(["package", "own ms", "share"], package_rows))
    entries.sort(reverse=True)
    print(
        "\nthe wrapper's busiest functions (langchain_core, this package, pydantic), ms per call:"
    )
    rows = [
        (f"{own / calls * 1000:.3f}", f"{cum / calls * 1000:.3f}", f"{n / calls:g}", name)
        for own, cum, n, name in entries[:top]
    ]
    print(table(["own", "cumulative", "calls/req", "function"], rows))
    print()


def _short_path(filename: str) -> str:
    """A path without the machine's prefix: from the package or site-packages on."""
    for marker, keep in (
        ("site-packages/", False),
        ("langchain_mimo_video/", True),
        ("benchmarks/", True),
        ("lib/python3", False),
    ):
        if marker in filename:
            tail = filename.split(marker, 1)[1]
            return marker + tail if keep else tail
    return filename


def measure(
    callers: dict[str, Call],
    scenarios: list[Scenario],
    args: argparse.Namespace,
    reset: Callable[[], None] | None = None,
) -> dict[str, dict[str, list[float]]]:
    """Warm up, then time ``args.runs`` runs; per scenario and variant, each run's median."""
    for scenario in scenarios:
        for _ in range(args.warmup):
            for call in callers.values():
                call(scenario)
    per_run: dict[str, dict[str, list[float]]] = {
        s.name: {name: [] for name in callers} for s in scenarios
    }
    for run in range(args.runs):
        for scenario in scenarios:
            if reset is not None:
                reset()  # keep the in-process server's request log small
            gc.collect()
            times = time_calls(callers, scenario, args.calls)
            for name, values in times.items():
                per_run[scenario.name][name].append(median(values))
        print(f"run {run + 1}/{args.runs} done")
    print()
    return per_run


def report(
    callers: dict[str, Call],
    scenarios: list[Scenario],
    per_run: dict[str, dict[str, list[float]]],
    args: argparse.Namespace,
) -> None:
    """Print the table and the verdict; profile ChatMiMo where it lost (or always)."""
    rows = []
    worse: list[Scenario] = []
    for scenario in scenarios:
        runs = per_run[scenario.name]
        raw, mimo, other = (median(runs[n]) * 1000 for n in ("raw SDK", "ChatMiMo", "ChatOpenAI"))
        ours, theirs = mimo - raw, other - raw
        # Paired by run: ChatMiMo's overhead minus ChatOpenAI's (the raw call cancels out).
        diffs = [(m - o) * 1000 for m, o in zip(runs["ChatMiMo"], runs["ChatOpenAI"], strict=True)]
        if median(diffs) <= 0:
            outcome = "yes"
        elif min(diffs) <= 0:
            outcome = "tie (sign varies by run)"
        else:
            outcome = "NO"
            worse.append(scenario)
        spread = f"{min(diffs):+.3f} .. {max(diffs):+.3f}"
        rows.append(
            (
                scenario.name,
                f"{raw:.3f}",
                f"{mimo:.3f} ({mimo / raw:.2f}x)",
                f"{other:.3f} ({other / raw:.2f}x)",
                f"{ours:+.3f}",
                f"{theirs:+.3f}",
                spread,
                outcome,
            )
        )
    print("median ms per call (ratio to the raw SDK call in the same run):")
    print(
        table(
            [
                "scenario",
                "raw SDK (baseline)",
                "ChatMiMo",
                "ChatOpenAI",
                "ChatMiMo overhead",
                "ChatOpenAI overhead",
                "ChatMiMo - ChatOpenAI per run",
                "ours <= ChatOpenAI",
            ],
            rows,
        )
    )
    print()
    print(
        "target: ChatMiMo's overhead over the raw SDK <= ChatOpenAI's: "
        + (
            "met (or tied) in every scenario"
            if not worse
            else f"MISSED in {[s.name for s in worse]}"
        )
    )
    print(
        "('tie': ChatMiMo was slower in some runs and faster in others, so the difference is "
        "below what this machine can resolve)"
    )
    print()
    to_profile = worse if args.profile == "auto" else scenarios
    if args.profile != "never" and to_profile:
        for scenario in to_profile:
            profile_mimo(callers, scenario, max(args.calls, 20), top=25)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=150, help="timed calls per variant per run")
    parser.add_argument("--runs", type=int, default=5, help="runs; figures are their median")
    parser.add_argument("--warmup", type=int, default=30, help="untimed calls per variant first")
    parser.add_argument("--quick", action="store_true", help="a few seconds: smoke run")
    parser.add_argument(
        "--server",
        choices=("process", "thread"),
        default="process",
        help="run the contract server in a child process (default) or a thread of this one",
    )
    parser.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="profile ChatMiMo when its overhead exceeds ChatOpenAI's (auto), always or never",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.runs, args.warmup = 15, 2, 3

    check_repo_root()
    require("openai")
    require("langchain_openai", "langchain-openai", why="the ChatOpenAI comparison")
    from tests.mimo_server import MiMoContractServer
    from tests.videos import make_video

    print_header(
        "bench_overhead: ChatMiMo vs raw openai SDK vs ChatOpenAI, per request",
        f"{args.calls} calls per variant per run, {args.runs} runs, {args.warmup} warm-up "
        f"calls; contract server on 127.0.0.1 in a {args.server}",
    )
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as folder:
        video = make_video(Path(folder) / "tiny.mp4", width=64, height=48, duration=2.0, fps=10)
        print(f"video: {video.stat().st_size} bytes, 64x48, 2 s (sent as a data URL)")
        scenarios = build_scenarios(video)

    with MiMoContractServer() as server:
        # The request log of an in-process server shows what each variant sent.
        callers = make_callers(server.base_url, server.api_key)
        check_same_bodies(server, callers, scenarios)
        if args.server == "thread":
            per_run = measure(callers, scenarios, args, reset=server.reset)
            report(callers, scenarios, per_run, args)
    if args.server == "process":
        with contract_server_process() as base_url:
            callers = make_callers(base_url, API_KEY)
            per_run = measure(callers, scenarios, args)
            report(callers, scenarios, per_run, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
