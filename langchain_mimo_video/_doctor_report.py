"""What ``mimo-video doctor``'s outcomes show: one finding per probe, with the hypotheses tried."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langchain_mimo_video._doctor_probes import CLIPS, Outcome, predicted_tokens
from langchain_mimo_video.limits import REASONING_EFFORTS

if TYPE_CHECKING:
    from langchain_mimo_video._doctor_plan import Plan

__all__ = ["Finding", "findings"]

_DURATIONS = ("video_stream", "container", "audio_stream")


@dataclass
class Finding:
    """One line of the report.

    Attributes:
        probe: the probe's name, e.g. ``"stream.usage"``.
        assumption: what the package assumes (empty when it assumes nothing).
        observed: what the API did, in words.
        behaviour: a short name for what the API did (``"accepted"``, ``"finish"``, ...).
        agrees: whether the assumption held; None when the package assumes nothing.
        details: figures behind it (estimates, reported usage, listed models).
    """

    probe: str
    assumption: str
    observed: str
    behaviour: str
    agrees: bool | None
    details: dict[str, Any] = field(default_factory=dict)


def _said(outcome: Outcome) -> str:
    if outcome.status is None:
        return f"no answer ({outcome.param})"
    if outcome.ok:
        return f"accepted ({outcome.status})"
    return f"refused: {outcome.status} {outcome.param}"


def _accepted(outcome: Outcome) -> str:
    return "accepted" if outcome.ok else "refused" if outcome.status else "no answer"


def findings(plan: Plan, outcomes: dict[str, Outcome]) -> list[Finding]:
    """The report's findings, in the order of the issue's probes."""
    found: list[Finding] = []

    def add(
        probe: str, assumption: str, outcome: Outcome, agrees: bool | None, **extra: Any
    ) -> None:
        behaviour = extra.pop("behaviour", _accepted(outcome))
        observed = extra.pop("observed", _said(outcome))
        found.append(Finding(probe, assumption, observed, behaviour, agrees, extra))

    # 1. connectivity, auth, models
    bearer, api_key = outcomes["auth.bearer"], outcomes["auth.api_key"]
    add(
        "auth.bearer",
        "`Authorization: Bearer KEY` is accepted (the header the package sends)",
        bearer,
        bearer.ok,
    )
    add(
        "auth.api_key",
        "`api-key: KEY` is accepted too (the vendor's samples; for gateways)",
        api_key,
        api_key.ok,
    )
    listing = bearer if bearer.ok else api_key
    models = list(listing.extra.get("models") or [])
    listed = plan.model in models
    add(
        "models.listed",
        f"GET /models lists {plan.model}",
        listing,
        listed if listing.ok else False,
        behaviour="listed" if listed else "not listed",
        observed=f"lists {', '.join(models)}" if listing.ok else _said(listing),
        models=models,
        omni_listed="mimo-v2-omni" in models,
    )
    omni = outcomes["models.omni"]
    retired = omni.status == 400 and "support" in omni.param.lower()
    add(
        "models.omni",
        "mimo-v2-omni is retired: 400 'Not supported model' (the package warns, naming mimo-v2.5)",
        omni,
        retired,
        behaviour="retired" if retired else "answers" if omni.ok else f"refused ({omni.status})",
    )

    # 2. fps and media_resolution
    integer = outcomes["tokens.a.fps1"]
    add("fps.integer", "an integer fps (1) is accepted", integer, integer.ok)
    fps_float = outcomes["fps.float"]
    add(
        "fps.float",
        "a non-integer fps (1.5) is accepted (documented range [0.1, 10])",
        fps_float,
        fps_float.ok,
    )
    add("media_resolution.default", "media_resolution 'default' is accepted", integer, integer.ok)
    high = outcomes["media_resolution.max"]
    add("media_resolution.max", "media_resolution 'max' is accepted", high, high.ok)

    # 3. the token formula
    found.extend(_token_findings(plan, outcomes, Finding))

    # 4. reasoning pass-back
    own, empty, missing = (outcomes[f"reasoning.{v}"] for v in ("own", "empty", "missing"))
    add(
        "reasoning.own",
        "a tool-call turn ChatMiMo passes back with its reasoning_content is accepted",
        own,
        own.ok,
    )
    add(
        "reasoning.empty",
        "",
        empty,
        None,
        observed=_said(empty) + " (the package never sends an empty one)",
    )
    refused = missing.status == 400
    add(
        "reasoning.missing",
        "thinking on, a tool-call turn without reasoning_content gets 400 (vendor notice)",
        missing,
        refused,
        behaviour="refused" if refused else _accepted(missing),
    )

    # 5. streaming
    stream = outcomes["stream.usage"]
    where = str(stream.extra.get("usage_chunk", "none"))
    add(
        "stream.usage",
        "with include_usage, usage arrives on its own last chunk with empty choices",
        stream,
        stream.ok and where == "separate",
        behaviour=where,
        observed=f"usage {_WHERE.get(where, where)}" if stream.ok else _said(stream),
        usage=stream.usage,
    )
    error = outcomes["stream.error"]
    framing = str(error.extra.get("framing", "none"))
    add(
        "stream.error",
        "a streamed request's error carries MiMo's envelope with its detail (framed as an SSE "
        "event or as JSON: both are handled)",
        error,
        framing in ("sse", "sse_200", "json") and "fps" in error.param,
        behaviour=framing,
        observed=(
            f"{error.status}, {error.extra.get('content_type')}, "
            f"{_FRAMES.get(framing, framing)}: {error.param}"
        ),
    )

    # 6. output caps and reasoning_effort
    completion = outcomes["max_completion_tokens"]
    add(
        "max_completion_tokens",
        "max_completion_tokens is accepted (what the package sends)",
        completion,
        completion.ok,
    )
    legacy = outcomes["max_tokens"]
    add(
        "max_tokens",
        "",
        legacy,
        None,
        observed=_said(legacy) + " (the package sends max_completion_tokens)",
    )
    efforts = {e: outcomes[f"reasoning_effort.{e}"] for e in (*REASONING_EFFORTS, "none")}
    good = [e for e in REASONING_EFFORTS if efforts[e].ok]
    none_refused = efforts["none"].status is not None and 400 <= efforts["none"].status < 500
    add(
        "reasoning_effort",
        "low, medium and high are accepted; 'none' is refused",
        efforts["none"],
        len(good) == len(REASONING_EFFORTS) and none_refused,
        behaviour=(
            f"accepted: {', '.join(good) or 'none of them'}; 'none' "
            + ("refused" if none_refused else _accepted(efforts["none"]))
        ),
        observed="; ".join(f"{e}: {_said(o)}" for e, o in efforts.items()),
    )

    # 7. our own re-encode
    fit = outcomes["fit.accepted"]
    add(
        "fit.accepted",
        "a clip re-encoded by the package's fit is accepted (not 'corrupted')",
        fit,
        fit.ok,
    )
    return found


_WHERE = {
    "separate": "on its own last chunk with empty choices",
    "finish": "on the finish chunk",
    "other": "on a chunk with choices but no finish_reason",
    "none": "in no chunk",
}
_FRAMES = {
    "sse": "MiMo's error envelope as one SSE event under the error status",
    "sse_200": "MiMo's error envelope as an SSE event inside a 200 stream",
    "json": "a plain JSON error body",
    "none": "no error envelope found",
}


def _token_findings(plan: Plan, outcomes: dict[str, Outcome], finding: Any) -> list[Any]:
    """Our estimate vs the reported figures, and which hypotheses explain the figures."""
    rows = []
    by_probe = {r.probe: r for r in plan.requests}
    for probe, (clip, fps, resolution) in plan.media.items():
        outcome = outcomes[probe]
        if not outcome.ok:
            continue
        request = by_probe[probe]
        rows.append(
            {
                "probe": probe,
                "clip": clip,
                "fps": fps,
                "media_resolution": resolution,
                "estimated_video_tokens": request.video_tokens,
                "reported_video_tokens": outcome.usage.get("video_tokens"),
                "estimated_audio_tokens": request.audio_tokens,
                "reported_audio_tokens": outcome.usage.get("audio_tokens") or 0,
            }
        )
    if not rows:
        failed = Outcome(None, "no media request was answered")
        return [
            finding(name, text, _said(failed), "no answer", False)
            for name, text in (
                ("tokens.estimate", "our estimate equals the reported video and audio tokens"),
                ("tokens.duration", "the formula uses the video stream's duration"),
                ("tokens.audio_special", "audio tokens include the formula's 2 special tokens"),
            )
        ]
    exact = all(
        r["estimated_video_tokens"] == r["reported_video_tokens"]
        and r["estimated_audio_tokens"] == r["reported_audio_tokens"]
        for r in rows
    )
    vision_fits = [
        d
        for d in _DURATIONS
        if all(
            _predict(plan, r, d, "video_stream", True)[0] == r["reported_video_tokens"]
            for r in rows
        )
    ]
    audio_fits = [
        (d, special)
        for d, special in itertools.product(_DURATIONS, (True, False))
        if all(
            _predict(plan, r, "video_stream", d, special)[1] == r["reported_audio_tokens"]
            for r in rows
        )
    ]
    audio_durations = sorted({d for d, _ in audio_fits}, key=_DURATIONS.index)
    both = [d for d in vision_fits if d in audio_durations]
    if both:
        duration = " or ".join(both)
    elif vision_fits or audio_durations:
        duration = (
            f"video tokens: {' or '.join(vision_fits) or 'none'}; "
            f"audio tokens: {' or '.join(audio_durations) or 'none'}"
        )
    else:
        duration = "no duration definition (video_stream, container, audio_stream) fits"
    specials = sorted({special for _, special in audio_fits}, reverse=True)
    special_name = (
        " or ".join(
            "with the 2 special tokens" if s else "without the 2 special tokens" for s in specials
        )
        or "neither with nor without the 2 special tokens"
    )
    shown = "; ".join(
        f"{r['probe']}: video {r['estimated_video_tokens']} vs {r['reported_video_tokens']}, "
        f"audio {r['estimated_audio_tokens']} vs {r['reported_audio_tokens']}"
        for r in rows
    )
    return [
        finding(
            "tokens.estimate",
            "our estimate equals the reported video_tokens and audio_tokens, to the token",
            f"estimated vs reported: {shown}",
            "exact" if exact else "differs",
            exact,
            {"rows": rows},
        ),
        finding(
            "tokens.duration",
            "the formula uses the video stream's duration (what the package's probe reads)",
            f"the reported figures fit the {duration} duration" if both else duration,
            duration,
            "video_stream" in vision_fits and "video_stream" in audio_durations,
            {"video_tokens_fit": vision_fits, "audio_tokens_fit": audio_durations},
        ),
        finding(
            "tokens.audio_special",
            "audio tokens include the formula's 2 special tokens",
            f"the reported audio tokens fit the formula {special_name}",
            special_name,
            True in specials,
            {"fits": [{"duration": d, "special_tokens": s} for d, s in audio_fits]},
        ),
    ]


def _predict(
    plan: Plan, row: dict[str, Any], vision_by: str, audio_by: str, special: bool
) -> tuple[int, int]:
    spec = next(s for s in CLIPS if s.name == row["clip"])
    return predicted_tokens(
        plan.sizes[row["clip"]],
        row["fps"],
        row["media_resolution"],
        vision_by,
        audio_by,
        special,
        spec.sound_seconds is not None,
    )
