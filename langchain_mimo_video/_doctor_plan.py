"""The fixed request plan of ``mimo-video doctor``: clips, requests, estimate, sending."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from langchain_mimo_video._doctor_probes import (
    CLIPS,
    Durations,
    Outcome,
    Prober,
    Request,
    measure,
    write_clip,
)
from langchain_mimo_video._doctor_report import Finding, findings
from langchain_mimo_video.errors import UnknownPriceError
from langchain_mimo_video.limits import REASONING_EFFORTS
from langchain_mimo_video.tokens import estimate_cost
from langchain_mimo_video.video import VideoLoader

__all__ = ["PRICE_MODEL", "Plan"]

#: The default model probed, and the price used for models with no known price.
PRICE_MODEL = "mimo-v2.5"
_SAY_OK = [{"role": "user", "content": "Say OK."}]
_OFF = {"type": "disabled"}
_QUESTION = "What colour dominates?"
_WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather at a location.",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    },
}


class Plan:
    """The fixed set of requests, built from clips generated in ``folder``."""

    def __init__(self, prober: Prober, folder: Path) -> None:
        self.prober = prober
        self.model = prober.model
        self.sizes: dict[str, Durations] = {}
        self.paths: dict[str, Path] = {}
        for spec in CLIPS:
            path = folder / f"clip-{spec.name}.mp4"
            write_clip(spec, path)
            self.paths[spec.name] = path
            self.sizes[spec.name] = measure(path)
        self.media: dict[str, tuple[str, float, str]] = {}
        self.requests: list[Request] = []
        self._build()

    # -- the plan ------------------------------------------------------------------------

    def _add(self, request: Request) -> None:
        request.model = request.model or self.model
        self.requests.append(request)

    def _video(self, probe: str, purpose: str, messages: list[Any], **options: Any) -> None:
        text, video, audio = self.prober.estimate(messages)
        cap = 8
        self._add(
            Request(
                probe,
                purpose,
                lambda: self.prober.invoke(messages, max_tokens=cap, **options),
                text,
                video,
                audio,
                cap,
            )
        )

    def _raw(self, probe: str, purpose: str, body: dict[str, Any], **plan: Any) -> None:
        texts = [text for message in body["messages"] for text in _texts(message)]
        stream = plan.pop("stream", False)
        send = self.prober.stream if stream else self.prober.post
        self._add(
            Request(
                probe,
                purpose,
                lambda: send(body),
                self.prober.text_estimate(" ".join(texts)),
                output_cap=int(body.get("max_completion_tokens") or body.get("max_tokens") or 0),
                **plan,
            )
        )

    def _build(self) -> None:
        """Every probe: auth and models, video options and tokens, reasoning, streaming, caps."""
        self._connectivity()
        self._video_probes()
        self._reasoning_probes()
        self._stream_probes()
        self._cap_probes()
        fitted = VideoLoader(fps=1, fit="always").load(self.paths["c"])
        self._video(
            "fit.accepted",
            "clip c re-encoded by the package's fit",
            [HumanMessage(content=[dict(fitted), {"type": "text", "text": _QUESTION}])],
        )

    def _connectivity(self) -> None:
        p = self.prober
        self._add(
            Request(
                "auth.bearer",
                "GET /models with Authorization: Bearer only",
                lambda: p.get_models("bearer"),
            )
        )
        self._add(
            Request(
                "auth.api_key", "GET /models with api-key only", lambda: p.get_models("api-key")
            )
        )
        omni = {
            "model": "mimo-v2-omni",
            "messages": _SAY_OK,
            "max_completion_tokens": 4,
            "thinking": _OFF,
        }
        self._raw(
            "models.omni",
            "does mimo-v2-omni still answer?",
            omni,
            expect_refusal=True,
            model="mimo-v2-omni",
        )

    def _video_probes(self) -> None:
        p, question = self.prober, _QUESTION
        for spec in CLIPS:
            for fps in (1, 2):
                name = f"tokens.{spec.name}.fps{fps}"
                self.media[name] = (spec.name, float(fps), "default")
                messages = p.video_message(self.paths[spec.name], question, fps=fps)
                self._video(name, f"clip {spec.name} at fps {fps}: reported tokens", messages)
        self.media["fps.float"] = ("a", 1.5, "default")
        self._video(
            "fps.float", "clip a at fps 1.5", p.video_message(self.paths["a"], question, fps=1.5)
        )
        self.media["media_resolution.max"] = ("a", 1.0, "max")
        messages = p.video_message(self.paths["a"], question, fps=1, resolution="max")
        self._video("media_resolution.max", "clip a at media_resolution max", messages)

    def _reasoning_probes(self) -> None:
        # Its own reasoning goes back the package's way: an AIMessage of this package's
        # making, through ChatMiMo. "" and a missing field are raw: ChatMiMo sends neither.
        question = "What is the weather in Paris?"
        history: list[BaseMessage] = [
            HumanMessage(content=question),
            AIMessage(
                content="",
                tool_calls=[{"name": "get_weather", "args": {"location": "Paris"}, "id": "call_1"}],
                additional_kwargs={"reasoning_content": "I will look up the weather."},
                response_metadata={"model_provider": "mimo"},
            ),
            ToolMessage(content="sunny", tool_call_id="call_1"),
        ]
        text = self.prober.estimate(history)[0]
        self._add(
            Request(
                "reasoning.own",
                "thinking-mode history passed back by ChatMiMo, with its reasoning",
                lambda: self.prober.invoke(history, tools=[_WEATHER], thinking=True, max_tokens=16),
                text,
                output_cap=16,
            )
        )
        for variant, reasoning in (("empty", ""), ("missing", None)):
            assistant: dict[str, Any] = {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"location": "Paris"}'},
                    }
                ],
            }
            if reasoning is not None:
                assistant["reasoning_content"] = reasoning
            body = {
                "model": self.model,
                "messages": [
                    {"role": "user", "content": question},
                    assistant,
                    {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
                ],
                "tools": [_WEATHER],
                "thinking": {"type": "enabled"},
                "max_completion_tokens": 16,
            }
            self._raw(
                f"reasoning.{variant}",
                f"thinking-mode history, reasoning {variant}",
                body,
                expect_refusal=variant == "missing",
            )

    def _stream_probes(self) -> None:
        streamed = {
            "model": self.model,
            "messages": _SAY_OK,
            "max_completion_tokens": 8,
            "thinking": _OFF,
            "stream_options": {"include_usage": True},
        }
        self._raw(
            "stream.usage", "streamed answer: which chunk carries usage", streamed, stream=True
        )
        bad: dict[str, Any] = dict(VideoLoader(fps=1).load(self.paths["a"]))
        bad["fps"] = 11
        refused = {
            "model": self.model,
            "messages": [{"role": "user", "content": [bad, {"type": "text", "text": _QUESTION}]}],
            "max_completion_tokens": 4,
            "thinking": _OFF,
        }
        self._raw(
            "stream.error",
            "streamed request with fps 11: how the 400 looks",
            refused,
            stream=True,
            expect_refusal=True,
        )

    def _cap_probes(self) -> None:
        p = self.prober
        ok: list[BaseMessage] = [HumanMessage(content="Say OK.")]
        text = p.estimate(ok)[0]
        self._add(
            Request(
                "max_completion_tokens",
                "cap sent as max_completion_tokens (ChatMiMo)",
                lambda: p.invoke(ok, max_tokens=4),
                text,
                output_cap=4,
            )
        )
        self._raw(
            "max_tokens",
            "cap sent as max_tokens",
            {"model": self.model, "messages": _SAY_OK, "max_tokens": 4, "thinking": _OFF},
        )
        for effort in REASONING_EFFORTS:
            self._add(
                Request(
                    f"reasoning_effort.{effort}",
                    f"reasoning_effort {effort} (ChatMiMo model_kwargs)",
                    _with_effort(p, ok, effort),
                    text,
                    output_cap=8,
                )
            )
        self._raw(
            "reasoning_effort.none",
            "reasoning_effort none",
            {
                "model": self.model,
                "messages": _SAY_OK,
                "max_completion_tokens": 8,
                "reasoning_effort": "none",
            },
            expect_refusal=True,
        )

    def estimate(self) -> dict[str, Any]:
        """The plan's size and price, before anything is sent."""
        rows: list[dict[str, Any]] = []
        for r in self.requests:
            rows.append(
                {
                    "probe": r.probe,
                    "purpose": r.purpose,
                    "model": r.model,
                    "text_tokens": r.text_tokens,
                    "video_tokens": 0 if r.expect_refusal else r.video_tokens,
                    "audio_tokens": 0 if r.expect_refusal else r.audio_tokens,
                    "output_cap": r.output_cap,
                    "expect_refusal": r.expect_refusal,
                }
            )
        cost = 0.0
        for row in rows:
            tokens = row["text_tokens"] + row["video_tokens"] + row["audio_tokens"]
            try:
                cost += estimate_cost(row["model"], tokens, row["output_cap"])
            except UnknownPriceError:
                cost += estimate_cost(PRICE_MODEL, tokens, row["output_cap"])
        video = sum(row["video_tokens"] for row in rows)
        audio = sum(row["audio_tokens"] for row in rows)
        text = sum(row["text_tokens"] for row in rows)
        return {
            "requests": len(rows),
            "video_tokens": video,
            "audio_tokens": audio,
            "text_tokens": text,
            "input_tokens": video + audio + text,
            "output_tokens_at_most": sum(row["output_cap"] for row in rows),
            "cost_at_most": round(cost, 6),
            "currency": "CNY",
            "per_request": rows,
        }

    def send_all(self) -> dict[str, Outcome]:
        """Send every request in order; the auth probes pick the header for the rest.

        When ``GET /models`` fails with both headers (no answer, or the key refused), the
        other requests are not sent: each would only fail the same way, slowly.
        """
        outcomes: dict[str, Outcome] = {}
        stopped = ""
        for request in self.requests:
            if stopped:
                outcomes[request.probe] = Outcome(None, stopped)
                continue
            outcomes[request.probe] = request.send()
            if request.probe == "auth.api_key":
                bearer, api_key = outcomes["auth.bearer"], outcomes["auth.api_key"]
                if bearer.status == 401 and api_key.ok:
                    self.prober.auth = "api-key"
                if not (bearer.ok or api_key.ok):
                    stopped = (
                        "not sent: GET /models failed with both auth headers "
                        f"(Bearer: {bearer.status or bearer.param}; "
                        f"api-key: {api_key.status or api_key.param})"
                    )
        return outcomes

    # -- the findings --------------------------------------------------------------------

    def findings(self, outcomes: dict[str, Outcome]) -> list[Finding]:
        """What each probe shows."""
        return findings(self, outcomes)


def _with_effort(prober: Prober, messages: list[BaseMessage], effort: str) -> Callable[[], Outcome]:
    """Send ``messages`` through ChatMiMo with ``reasoning_effort`` (thinking left default)."""
    options: dict[str, Any] = {"model_kwargs": {"reasoning_effort": effort}, "thinking": None}
    return lambda: prober.invoke(messages, max_tokens=8, **options)


def _texts(message: dict[str, Any]) -> list[str]:
    """The text a raw wire message carries (media parts left out)."""
    content = message.get("content")
    texts = (
        [content]
        if isinstance(content, str)
        else [str(part.get("text", "")) for part in content or [] if part.get("type") == "text"]
    )
    texts += [str(call["function"]) for call in message.get("tool_calls") or []]
    return [*texts, str(message.get("reasoning_content") or "")]
