"""The probes of ``mimo-video doctor``: generated clips, the requests, and what each one shows.

Every probe is one small request. Requests ChatMiMo can express go through ChatMiMo (and so
through the package's own message conversion and validation); the others (``GET /v1/models``
with one auth header or the other, a passed-back ``""``, raw stream frames, ``max_tokens``,
values the package refuses before sending) go through ``httpx2`` directly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx2
from langchain_core.messages import BaseMessage, HumanMessage

from langchain_mimo_video._api_errors import scrub as scrub_secret
from langchain_mimo_video.chat_models import ChatMiMo
from langchain_mimo_video.tokens import estimate_audio_tokens, explain_video_tokens
from langchain_mimo_video.video import VideoLoader

__all__ = [
    "CLIPS",
    "ClipSpec",
    "Durations",
    "Outcome",
    "Request",
    "measure",
    "write_clip",
]


@dataclass(frozen=True)
class ClipSpec:
    """A generated clip: its length, frame size and sound (None: muted)."""

    name: str
    seconds: float
    width: int
    height: int
    sound_seconds: float | None


#: One clip with sound longer than the picture, one muted, one whose sound stops early: the
#: three duration definitions (video stream, container, audio stream) then disagree.
CLIPS: tuple[ClipSpec, ...] = (
    ClipSpec("a", 1.0, 320, 240, 1.5),
    ClipSpec("b", 3.0, 640, 360, None),
    ClipSpec("c", 7.3, 256, 144, 5.0),
)
_RATE = 10
_SAMPLE_RATE = 24_000


def write_clip(spec: ClipSpec, path: Path) -> None:
    """Encode ``spec`` with PyAV: H.264 yuv420p (CRF) and AAC in a faststart MP4."""
    import av
    import numpy as np

    with av.open(str(path), mode="w", format="mp4", options={"movflags": "faststart"}) as out:
        video = out.add_stream("libx264", rate=_RATE)
        video.width, video.height, video.pix_fmt = spec.width, spec.height, "yuv420p"
        video.options = {"preset": "ultrafast", "crf": "30"}
        sound = None
        if spec.sound_seconds is not None:
            sound = out.add_stream("aac", rate=_SAMPLE_RATE)
            sound.layout = "mono"
        ys, xs = np.mgrid[0 : spec.height, 0 : spec.width]
        for index in range(round(spec.seconds * _RATE)):
            shade = (xs + ys + 9 * index) % 256
            pixels = np.stack([shade, (shade * 2) % 256, 255 - shade], axis=-1).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, _RATE)
            out.mux(video.encode(frame))
        out.mux(video.encode())
        if sound is not None and spec.sound_seconds is not None:
            size = sound.codec_context.frame_size or 1024
            total = int(spec.sound_seconds * _SAMPLE_RATE)
            tone = 0.2 * np.sin(2 * np.pi * 440 * np.arange(total) / _SAMPLE_RATE)
            for start in range(0, total, size):
                chunk = np.zeros((1, size), dtype=np.float32)
                piece = tone[start : start + size]
                chunk[0, : piece.size] = piece
                samples = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                samples.sample_rate, samples.pts = _SAMPLE_RATE, start
                samples.time_base = Fraction(1, _SAMPLE_RATE)
                out.mux(sound.encode(samples))
            out.mux(sound.encode())


@dataclass(frozen=True)
class Durations:
    """A clip's measurements: the three duration definitions and its frame size."""

    video_stream: float
    container: float
    audio_stream: float | None
    width: int
    height: int

    def by(self, definition: str) -> float:
        """The duration under ``definition`` (a muted clip's audio one is its video's)."""
        value = getattr(self, definition)
        return self.video_stream if value is None else float(value)


def measure(path: Path) -> Durations:
    """Read the durations and frame size PyAV sees in ``path``."""
    import av

    container: Any
    with av.open(str(path)) as container:
        picture: Any = container.streams.video[0]
        video_s = float(picture.duration * picture.time_base)
        audio_s = None
        if container.streams.audio:
            sound = container.streams.audio[0]
            if sound.duration and sound.time_base:
                audio_s = float(sound.duration * sound.time_base)
        total = container.duration / av.time_base if container.duration else video_s
        width = picture.codec_context.width
        height = picture.codec_context.height
    return Durations(video_s, float(total), audio_s, width, height)


def predicted_tokens(
    sizes: Durations,
    fps: float,
    resolution: str,
    vision_by: str,
    audio_by: str,
    special: bool,
    has_sound: bool,
) -> tuple[int, int]:
    """``(video_tokens, audio_tokens)`` under one hypothesis, with the package's formula."""
    vision = explain_video_tokens(
        sizes.by(vision_by), sizes.width, sizes.height, fps, resolution, mute=True
    ).total
    audio = estimate_audio_tokens(sizes.by(audio_by)) - (0 if special else 2) if has_sound else 0
    return vision, audio


@dataclass
class Outcome:
    """What the API did with one request."""

    status: int | None
    """The HTTP status (None: no answer at all)."""
    param: str = ""
    """MiMo's error detail (or the error's message), secret-scrubbed and shortened."""
    usage: dict[str, Any] = field(default_factory=dict)
    """``prompt_tokens``, ``video_tokens``, ``audio_tokens``, ``completion_tokens`` reported."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Probe-specific observations (stream framing, listed models)."""

    @property
    def ok(self) -> bool:
        """Whether the request was answered with a 2xx and no error."""
        return self.status is not None and 200 <= self.status < 300 and not self.param


@dataclass
class Request:
    """One planned request: what it is for, what it will cost, and how to send it."""

    probe: str
    purpose: str
    send: Callable[[], Outcome]
    text_tokens: int = 0
    video_tokens: int = 0
    audio_tokens: int = 0
    output_cap: int = 0
    expect_refusal: bool = False
    """Expected to be refused (an error is not billed), so its media is not counted."""
    model: str = ""


_DATA_URL = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]{16,}")


def scrub(text: str, secret: str) -> str:
    """``text`` without the key and without base64 payloads, at most 300 characters."""
    text = scrub_secret(text, secret)
    text = _DATA_URL.sub(lambda m: m.group(0).split(",", 1)[0] + ",<base64 left out>", text)
    return text if len(text) <= 300 else text[:297] + "..."


def error_detail(body: Any) -> str:
    """MiMo's ``param`` (else ``message``) from an error body, SSE-framed or not."""
    if isinstance(body, str):
        text = body.strip()
        if text.startswith("data:"):
            text = text[len("data:") :].strip()
        try:
            body = json.loads(text)
        except ValueError:
            return text or "error"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("param") or error.get("message") or error)
    return str(body)


def usage_of(usage: Mapping[str, Any] | None) -> dict[str, Any]:
    """The figures of a MiMo ``usage`` object the report compares."""
    usage = usage or {}
    details = usage.get("prompt_tokens_details") or {}
    return {
        "prompt_tokens": usage.get("prompt_tokens"),
        "completion_tokens": usage.get("completion_tokens"),
        "video_tokens": details.get("video_tokens"),
        "audio_tokens": details.get("audio_tokens"),
    }


class Prober:
    """Sends the probes' requests to one base URL with one key."""

    def __init__(self, llm: ChatMiMo, key: str, model: str, *, timeout: float = 60.0) -> None:
        self.llm = llm
        self.key = key
        self.model = model
        self.base_url = llm.base_url.rstrip("/")
        self.timeout = timeout
        self.auth = "bearer"
        """The header raw requests carry: "bearer", or "api-key" once Bearer was refused."""

    # -- headers and raw requests ---------------------------------------------------------

    def headers(self, auth: str | None = None) -> dict[str, str]:
        """The auth header of ``auth`` (default: the one that works)."""
        if (auth or self.auth) == "api-key":
            return {"api-key": self.key}
        return {"Authorization": f"Bearer {self.key}"}

    def get_models(self, auth: str) -> Outcome:
        """``GET /models`` with only the ``auth`` header."""
        try:
            response = httpx2.get(
                f"{self.base_url}/models", headers=self.headers(auth), timeout=self.timeout
            )
        except httpx2.HTTPError as error:
            return Outcome(None, scrub(f"{type(error).__name__}: {error}", self.key))
        if response.status_code != 200:
            return Outcome(response.status_code, scrub(error_detail(response.text), self.key))
        try:
            ids = [str(entry.get("id")) for entry in response.json().get("data") or []]
        except (ValueError, AttributeError):
            return Outcome(200, scrub(f"not a model list: {response.text}", self.key))
        return Outcome(200, extra={"models": ids})

    def post(self, body: dict[str, Any]) -> Outcome:
        """A raw, non-streamed chat request."""
        try:
            response = httpx2.post(
                f"{self.base_url}/chat/completions",
                json=body,
                headers=self.headers(),
                timeout=self.timeout,
            )
        except httpx2.HTTPError as error:
            return Outcome(None, scrub(f"{type(error).__name__}: {error}", self.key))
        if response.status_code >= 400:
            return Outcome(response.status_code, scrub(error_detail(response.text), self.key))
        try:
            payload = response.json()
        except ValueError:
            return Outcome(response.status_code, scrub(f"not JSON: {response.text}", self.key))
        if not isinstance(payload, dict) or "error" in payload:
            return Outcome(response.status_code, scrub(error_detail(payload), self.key))
        return Outcome(response.status_code, usage=usage_of(payload.get("usage")))

    def stream(self, body: dict[str, Any]) -> Outcome:
        """A raw streamed request; ``extra`` says where usage came and how errors looked."""
        events: list[Any] = []
        try:
            with httpx2.stream(
                "POST",
                f"{self.base_url}/chat/completions",
                json={**body, "stream": True},
                headers=self.headers(),
                timeout=self.timeout,
            ) as response:
                status = response.status_code
                kind = response.headers.get("content-type", "")
                raw = "".join(response.iter_text())
        except httpx2.HTTPError as error:
            return Outcome(None, scrub(f"{type(error).__name__}: {error}", self.key))
        for line in raw.splitlines():
            data = line[len("data:") :].strip() if line.startswith("data:") else None
            if data and data != "[DONE]":
                try:
                    events.append(json.loads(data))
                except ValueError:
                    events.append(data)
        errors = [e for e in events if isinstance(e, dict) and "error" in e]
        framing = "none"
        if errors:
            framing = "sse" if status >= 400 else "sse_200"
        elif status >= 400 and raw.lstrip().startswith("{"):
            framing = "json"
        extra = {"content_type": kind.split(";")[0], "framing": framing, "usage_chunk": "none"}
        usage: dict[str, Any] = {}
        for event in events:
            if isinstance(event, dict) and event.get("usage"):
                choices = event.get("choices") or []
                finish = any(c.get("finish_reason") for c in choices if isinstance(c, dict))
                extra["usage_chunk"] = (
                    "separate" if not choices else ("finish" if finish else "other")
                )
                usage = usage_of(event["usage"])
                break
        if errors or status >= 400:
            detail = error_detail(errors[0]) if errors else error_detail(raw)
            return Outcome(status, scrub(detail, self.key), extra=extra)
        return Outcome(status, usage=usage, extra=extra)

    # -- through ChatMiMo --------------------------------------------------------------------

    def chat_model(self, **options: Any) -> ChatMiMo:
        """A ChatMiMo for one probe: no retries, the working auth header."""
        params: dict[str, Any] = {
            "api_key": self.key,
            "base_url": self.base_url,
            "model": self.model,
            "max_retries": 0,
            "timeout": self.timeout,
            "thinking": False,
            **options,
        }
        if self.auth == "api-key":
            params["default_headers"] = {"api-key": self.key}
        return ChatMiMo(**params)

    def invoke(
        self,
        messages: Sequence[BaseMessage],
        *,
        tools: Sequence[dict[str, Any]] | None = None,
        **options: Any,
    ) -> Outcome:
        """Send ``messages`` with ChatMiMo; errors become the outcome's status and detail."""
        try:
            model = self.chat_model(**options)
            message = (model.bind_tools(tools) if tools else model).invoke(messages)
        except Exception as error:  # every failure is something to report, not to raise
            status = getattr(error, "status_code", None)
            detail = getattr(error, "param", None) or error_detail(getattr(error, "body", None))
            if not detail or detail == "None":
                detail = f"{type(error).__name__}: {error}"
            return Outcome(status if isinstance(status, int) else None, scrub(detail, self.key))
        metadata: dict[str, Any] = dict(message.usage_metadata or {})
        details = dict(metadata.get("input_token_details") or {})
        return Outcome(
            200,
            usage={
                "prompt_tokens": metadata.get("input_tokens"),
                "completion_tokens": metadata.get("output_tokens"),
                "video_tokens": details.get("video"),
                "audio_tokens": details.get("audio"),
            },
        )

    def estimate(self, messages: Sequence[BaseMessage]) -> tuple[int, int, int]:
        """``(text, video, audio)`` tokens of ``messages`` by the package's estimator."""
        estimate = self.chat_model().estimate_request(messages)
        return estimate.text_tokens, estimate.video_tokens, estimate.audio_tokens

    def text_estimate(self, text: str) -> int:
        """The package's text estimate of a one-message request holding ``text``."""
        return self.estimate([HumanMessage(content=text)])[0]

    def video_message(
        self, path: Path | str, question: str, *, fps: float, resolution: str = "default"
    ) -> list[BaseMessage]:
        """One user message: the clip (as the package's VideoLoader makes it) and a question."""
        part = VideoLoader(fps=fps, media_resolution=resolution).load(path)
        return [HumanMessage(content=[dict(part), {"type": "text", "text": question}])]
