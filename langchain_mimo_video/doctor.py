"""``mimo-video doctor``: check what the package assumes about MiMo against the live API.

Third-party evidence leaves questions open (which auth header, where streamed ``usage``
arrives, which duration the token formula uses, whether an empty passed-back reasoning is
accepted, ...). ``doctor`` settles them with a small, fixed set of cheap requests: it prints
the estimated cost first, asks before sending anything (unless ``--yes``), then reports for each
probe what the package assumes, what the API did, and whether they agree. The exit code is 0
only if every assumption held; ``--json`` writes the whole report, without the key or any media.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO
from urllib.parse import urlsplit, urlunsplit

from langchain_mimo_video._doctor_plan import PRICE_MODEL, Plan
from langchain_mimo_video._doctor_probes import Prober
from langchain_mimo_video._doctor_report import Finding
from langchain_mimo_video.chat_models import ChatMiMo
from langchain_mimo_video.errors import MissingAPIKeyError

__all__ = ["Finding", "Report", "add_arguments", "run", "run_doctor"]

#: Exit codes: every assumption held / one did not, a probe failed, or nothing was sent.
EXIT_AGREE = 0
EXIT_DISAGREE = 1


class _Session(Protocol):
    out: TextIO
    err: TextIO

    def chat_model(self, args: argparse.Namespace, **params: Any) -> ChatMiMo: ...


@dataclass
class Report:
    """The whole run: the plan and its estimate, the findings, and every request's outcome."""

    base_url: str
    model: str
    estimate: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent: bool = False

    @property
    def all_agree(self) -> bool:
        """Whether every assumption held (and something was sent)."""
        return self.sent and all(f.agrees is not False for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (no key, no media bytes)."""
        return {
            "command": "mimo-video doctor",
            "base_url": self.base_url,
            "model": self.model,
            "sent": self.sent,
            "all_agree": self.all_agree,
            "estimate": self.estimate,
            "findings": [asdict(finding) for finding in self.findings],
            "requests": self.outcomes,
        }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``mimo-video doctor`` (``--base-url`` and the key file come from cli)."""
    parser.add_argument(
        "--model", default=PRICE_MODEL, help=f"the video model to probe (default {PRICE_MODEL})"
    )
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.add_argument(
        "--yes", action="store_true", help="send without asking (the cost is still printed)"
    )


def run(args: argparse.Namespace, session: _Session) -> int:
    """Run the doctor for the ``mimo-video`` command line; returns the exit code."""
    llm = session.chat_model(args)
    key = llm.api_key.get_secret_value() if llm.api_key is not None else ""
    if not key:
        raise MissingAPIKeyError(
            "mimo-video doctor needs an API key: set MIMO_API_KEY or pass --api-key-file "
            "(Token Plan keys also need their regional --base-url)."
        )
    report = run_doctor(
        llm,
        model=args.model,
        assume_yes=args.yes,
        stdin=sys.stdin,
        out=session.out,
        err=session.err,
        as_json=args.json,
    )
    return EXIT_AGREE if report.all_agree else EXIT_DISAGREE


def run_doctor(
    llm: ChatMiMo,
    *,
    model: str = PRICE_MODEL,
    assume_yes: bool = False,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    as_json: bool = False,
) -> Report:
    """Plan, price, confirm, probe and report.

    Args:
        llm: a ChatMiMo holding the key and base URL to check.
        model: the video model to probe.
        assume_yes: send without asking.
        stdin: where a typed "y" is read from; None (or end of input) means no.
        out: where the report goes (default stdout).
        err: where the estimate and the question go when ``as_json`` (default stderr).
        as_json: print the report as one JSON object.

    Returns:
        The :class:`Report`; ``report.sent`` is False when the user did not confirm.

    Example:
        .. code-block:: python

            report = run_doctor(ChatMiMo(), assume_yes=True)
            print(report.all_agree)
    """
    out = out or sys.stdout
    err = err or sys.stderr
    key = llm.api_key.get_secret_value() if llm.api_key is not None else ""
    prober = Prober(llm, key, model)
    with tempfile.TemporaryDirectory(prefix="mimo-doctor-") as folder:
        plan = Plan(prober, Path(folder))
        report = Report(_safe_url(llm.base_url), model, plan.estimate())
        _print_estimate(report.estimate, err if as_json else out)
        if not (assume_yes or _confirm(stdin, err if as_json else out)):
            print("mimo-video doctor: nothing sent.", file=err)
            if as_json:
                print(json.dumps(report.to_json(), ensure_ascii=False), file=out)
            return report
        report.sent = True
        outcomes = plan.send_all()
        report.outcomes = {name: asdict(outcome) for name, outcome in outcomes.items()}
        report.findings = plan.findings(outcomes)
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2), file=out)
    else:
        _print_findings(report, out)
    return report


def _safe_url(url: str) -> str:
    """``url`` without userinfo, query or fragment (the report never carries secrets)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _confirm(stdin: TextIO | None, out: TextIO) -> bool:
    print("Send these requests? Type y to go on [y/N]: ", end="", file=out, flush=True)
    if stdin is None or stdin.closed:
        print(file=out)
        return False
    try:
        answer = stdin.readline()
    except (OSError, ValueError):
        answer = ""
    if not answer:
        print(file=out)
    return answer.strip().lower() in ("y", "yes")


def _print_estimate(estimate: dict[str, Any], out: TextIO) -> None:
    print(
        f"mimo-video doctor will send {estimate['requests']} small requests.\n"
        f"Estimated input: {estimate['input_tokens']} tokens (video {estimate['video_tokens']} "
        f"and audio {estimate['audio_tokens']} by the documented formula, text about "
        f"{estimate['text_tokens']}); output at most {estimate['output_tokens_at_most']} tokens.\n"
        f"Estimated cost: at most {estimate['cost_at_most']:.4f} {estimate['currency']} "
        "(requests the API refuses are not billed).",
        file=out,
        flush=True,
    )


def _print_findings(report: Report, out: TextIO) -> None:
    marks = {True: "ok", False: "NO", None: "--"}
    for finding in report.findings:
        print(f"[{marks[finding.agrees]}] {finding.probe}: {finding.behaviour}", file=out)
        if finding.assumption:
            print(f"     assumed: {finding.assumption}", file=out)
        print(f"     the API: {finding.observed}", file=out)
    held = sum(f.agrees is True for f in report.findings)
    broken = [f.probe for f in report.findings if f.agrees is False]
    summary = f"{held} assumptions held"
    summary += f"; {len(broken)} did not: {', '.join(broken)}" if broken else "; none failed"
    print(summary + ". Attach `mimo-video doctor --json` output to a bug report.", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m langchain_mimo_video.doctor``: the same as ``mimo-video doctor``."""
    from langchain_mimo_video.cli import main as cli_main

    return cli_main(["doctor", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
