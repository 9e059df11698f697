"""``mimo-video doctor`` against the contract server, configured each way the evidence allows.

Each configuration runs the doctor once (module-scoped) through the real command line
(``cli.main``); the tests then check that the report names what that server did, that the
shown cost equals the usage the server reported, and that nothing is sent unasked.
Loopback only.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from langchain_mimo_video import cli
from langchain_mimo_video.tokens import estimate_cost
from tests.mimo_server import Behaviour, MiMoContractServer

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

KEY = "sk-doctor-test-secret-4242"

#: Alternatives grouped so that each run changes probes that do not depend on each other.
CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "first": {
        "usage_chunk": "finish",
        "empty_reasoning": "refuse",
        "duration": "container",
        "fps_float": False,
        "stream_errors": "json",
        "retired_models": (),
        "max_tokens_field": "max_completion_tokens",
        "auth_headers": {"bearer"},
    },
    "second": {
        "duration": "audio_stream",
        "audio_special_tokens": False,
        "stream_errors": "sse_200",
        "auth_headers": {"api-key"},
        "reasoning_efforts": {"low"},
        "list_retired": False,
    },
    "max_tokens_only": {"max_tokens_field": "max_tokens"},
}


@dataclass
class Run:
    """One doctor run: its exit code, outputs, parsed report and the server it talked to."""

    code: int
    out: str
    err: str
    report: dict[str, Any]
    server: MiMoContractServer

    def finding(self, probe: str) -> dict[str, Any]:
        found: dict[str, Any] = next(f for f in self.report["findings"] if f["probe"] == probe)
        return found


def run_doctor(
    server: MiMoContractServer, *args: str, stdin: str | None = None, **params: Any
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin) if stdin is not None else None  # type: ignore[assignment]
    try:
        code = cli.main(
            ["doctor", *args],
            stdout=out,
            stderr=err,
            **{"api_key": KEY, "base_url": server.base_url, **params},
        )
    finally:
        sys.stdin = saved
    return code, out.getvalue(), err.getvalue()


class Runs:
    """Runs the doctor once per configuration, on first use, and keeps the result."""

    def __init__(self) -> None:
        self.done: dict[str, Run] = {}

    def __call__(self, name: str) -> Run:
        if name not in self.done:
            with MiMoContractServer(KEY, behaviour=Behaviour(), **CONFIGS[name]) as server:
                assert server.behaviour.changed().keys() == CONFIGS[name].keys()
                if name == "default":  # a typed "y" instead of --yes
                    code, out, err = run_doctor(server, "--json", stdin="y\n")
                else:
                    code, out, err = run_doctor(server, "--json", "--yes")
                self.done[name] = Run(code, out, err, json.loads(out), server)
        return self.done[name]


@pytest.fixture(scope="module")
def runs() -> Runs:
    return Runs()


# -- the default server: every assumption holds ------------------------------------------


def test_default_server_every_assumption_holds(runs: Runs) -> None:
    run = runs("default")
    assert run.code == 0, [f for f in run.report["findings"] if f["agrees"] is False]
    assert run.report["all_agree"] is True and run.report["sent"] is True
    expected = {
        "auth.bearer": "accepted",
        "auth.api_key": "accepted",
        "models.omni": "retired",
        "fps.float": "accepted",
        "tokens.estimate": "exact",
        "tokens.duration": "video_stream",
        "tokens.audio_special": "with the 2 special tokens",
        "reasoning.own": "accepted",
        "reasoning.empty": "accepted",
        "reasoning.missing": "refused",
        "stream.usage": "separate",
        "stream.error": "sse",
        "max_completion_tokens": "accepted",
        "max_tokens": "accepted",
        "reasoning_effort": "accepted: low, medium, high; 'none' refused",
        "fit.accepted": "accepted",
    }
    assert {p: run.finding(p)["behaviour"] for p in expected} == expected
    assert run.finding("models.listed")["details"]["omni_listed"] is True
    # The three pass-back variants reached the server as planned (ChatMiMo sent its own).
    turns = [
        r.body["messages"][1] for r in run.server.chat_requests if len(r.body["messages"]) == 3
    ]
    assert [t.get("reasoning_content", "<missing>") for t in turns] == [
        "I will look up the weather.",
        "",
        "<missing>",
    ]
    assert all(t["tool_calls"][0]["function"]["name"] == "get_weather" for t in turns)


def test_the_cost_shown_equals_the_reported_usage(runs: Runs) -> None:
    run = runs("default")
    answered = [r.usage for r in run.server.chat_requests if r.usage is not None]
    video = sum(u["prompt_tokens_details"]["video_tokens"] for u in answered)
    audio = sum(u["prompt_tokens_details"]["audio_tokens"] for u in answered)
    estimate = run.report["estimate"]
    assert video > 0 and audio > 0
    assert (estimate["video_tokens"], estimate["audio_tokens"]) == (video, audio)
    # Per request too, in the order they were sent (refused ones are planned at 0 media).
    planned = [
        (row["video_tokens"], row["audio_tokens"])
        for row in estimate["per_request"]
        if not row["expect_refusal"] and not row["probe"].startswith("auth.")
    ]
    reported = [
        (u["prompt_tokens_details"]["video_tokens"], u["prompt_tokens_details"]["audio_tokens"])
        for u in answered
    ]
    assert planned == reported
    # The text estimate and the output caps bound what was billed.
    prompt = sum(u["prompt_tokens"] for u in answered)
    output = sum(u["completion_tokens"] for u in answered)
    assert output <= estimate["output_tokens_at_most"]
    assert prompt <= estimate["input_tokens"]
    assert estimate_cost("mimo-v2.5", prompt, output) <= estimate["cost_at_most"] < 0.01
    # And the same figures were printed before the question.
    assert f"video {video} and audio {audio}" in run.err
    assert run.err.index("Estimated cost") < run.err.index("Type y")


@pytest.mark.parametrize("name", list(CONFIGS))
def test_the_report_holds_no_key_and_no_media(runs: Runs, name: str) -> None:
    run = runs(name)
    assert KEY not in run.out and KEY not in run.err
    assert "base64," not in run.out and "base64," not in run.err
    assert run.report["base_url"] == run.server.base_url
    sent = run.server.requests
    assert len(sent) == run.report["estimate"]["requests"]


# -- alternatives: the report names each ---------------------------------------------------


def test_first_alternatives_are_named(runs: Runs) -> None:
    run = runs("first")
    assert run.code == 1 and run.report["all_agree"] is False
    named = {
        "stream.usage": ("finish", False),
        "reasoning.empty": ("refused", None),
        "tokens.duration": ("container", False),
        "tokens.audio_special": ("with the 2 special tokens", True),
        "fps.float": ("refused", False),
        "stream.error": ("json", True),
        "models.omni": ("answers", False),
        "max_tokens": ("refused", None),
        "auth.api_key": ("refused", False),
        "auth.bearer": ("accepted", True),
    }
    assert {p: (run.finding(p)["behaviour"], run.finding(p)["agrees"]) for p in named} == named
    assert run.finding("tokens.duration")["details"]["video_tokens_fit"] == ["container"]
    assert "401" in run.finding("auth.api_key")["observed"]


def test_second_alternatives_are_named(runs: Runs) -> None:
    run = runs("second")
    assert run.code == 1
    named = {
        "tokens.duration": ("audio_stream", False),
        "tokens.audio_special": ("without the 2 special tokens", False),
        "stream.error": ("sse_200", True),
        "auth.bearer": ("refused", False),
        "auth.api_key": ("accepted", True),
        "reasoning_effort": ("accepted: low; 'none' refused", False),
        "stream.usage": ("separate", True),  # later probes fall back to the api-key header
        "fit.accepted": ("accepted", True),
    }
    assert {p: (run.finding(p)["behaviour"], run.finding(p)["agrees"]) for p in named} == named
    assert run.finding("models.listed")["details"]["omni_listed"] is False
    # The estimate disagrees exactly where the server's definitions differ from ours.
    rows = run.finding("tokens.estimate")["details"]["rows"]
    muted = [r for r in rows if r["clip"] == "b"]
    assert muted and all(r["estimated_video_tokens"] == r["reported_video_tokens"] for r in muted)
    assert any(r["estimated_audio_tokens"] != r["reported_audio_tokens"] for r in rows)


def test_max_tokens_only_server(runs: Runs) -> None:
    run = runs("max_tokens_only")
    assert run.code == 1
    assert run.finding("max_completion_tokens")["behaviour"] == "refused"
    assert run.finding("max_completion_tokens")["agrees"] is False
    assert run.finding("max_tokens")["behaviour"] == "accepted"
    assert "max_completion_tokens" in run.finding("max_completion_tokens")["observed"]


# -- nothing is sent unasked -----------------------------------------------------------------


@pytest.fixture(scope="module")
def quiet_server() -> Iterator[MiMoContractServer]:
    with MiMoContractServer(KEY, behaviour=Behaviour()) as server:
        yield server


@pytest.mark.parametrize("typed", [None, "", "n\n", "yes please\n", "\n"])
def test_nothing_is_sent_without_yes_or_a_typed_y(
    quiet_server: MiMoContractServer, typed: str | None
) -> None:
    quiet_server.reset()
    code, out, err = run_doctor(quiet_server, stdin=typed)
    assert quiet_server.requests == []
    assert code == 1
    assert "Estimated cost: at most" in out and "nothing sent" in err


def test_declined_json_report_says_nothing_was_sent(quiet_server: MiMoContractServer) -> None:
    quiet_server.reset()
    code, out, err = run_doctor(quiet_server, "--json", stdin="")
    assert quiet_server.requests == []
    assert code == 1
    report = json.loads(out)
    assert report["sent"] is False and report["all_agree"] is False and report["findings"] == []
    assert report["estimate"]["requests"] > 20
    assert "Estimated cost" in err


def test_no_key_is_exit_3_and_sends_nothing(
    quiet_server: MiMoContractServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    quiet_server.reset()
    monkeypatch.delenv("MIMO_API_KEY", raising=False)
    code, _, err = run_doctor(quiet_server, "--yes", api_key=None)
    assert code == 3
    assert "MIMO_API_KEY" in err
    assert quiet_server.requests == []


def test_an_unreachable_api_stops_after_the_auth_probes() -> None:
    with MiMoContractServer(KEY, behaviour=Behaviour()) as server:
        base_url = server.base_url
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(
        ["doctor", "--yes"], stdout=out, stderr=err, api_key=KEY, base_url=base_url
    )  # the server is stopped: nothing listens on its port any more
    assert code == 1
    text = out.getvalue()
    assert "[NO] auth.bearer: no answer" in text
    assert "[NO] tokens.estimate" in text and "not sent: GET /models failed" in text
    assert KEY not in text + err.getvalue()


def test_a_wrong_key_stops_after_the_auth_probes(quiet_server: MiMoContractServer) -> None:
    quiet_server.reset()
    code, out, _ = run_doctor(quiet_server, "--yes", api_key="sk-wrong")
    assert code == 1
    assert [r.path for r in quiet_server.requests] == ["/v1/models", "/v1/models"]
    assert "[NO] auth.api_key: refused" in out and "401" in out
