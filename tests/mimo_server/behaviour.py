"""How the contract server behaves where the evidence about the live API allows more than one way.

The vendor's page leaves some behaviour open, and third-party evidence about the live API
(reports, other clients' code) settles only part of it. :class:`Behaviour` holds one choice for
each open point. The defaults are the server's long-standing behaviour, refreshed with what the
evidence says most confidently; every other value is an alternative the evidence allows, so
tests (and ``mimo-video doctor``'s tests) can check that a client copes with each, or names it.

Choose per server, ``MiMoContractServer(usage_chunk="finish")``, or for a whole test run through
the environment (``MIMO_SERVER_USAGE_CHUNK=finish``), which :meth:`Behaviour.from_env` reads.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = ["ENV_PREFIX", "Behaviour"]

#: Environment variables ``MIMO_SERVER_<FIELD NAME IN UPPER CASE>`` set a field's default.
ENV_PREFIX: Final = "MIMO_SERVER_"

UsageChunk = Literal["separate", "finish"]
EmptyReasoning = Literal["accept", "refuse"]
Duration = Literal["video_stream", "container", "audio_stream"]
StreamErrors = Literal["sse", "sse_200", "json"]
ReasoningWhenOff = Literal["absent", "null"]
MaxTokensField = Literal["both", "max_completion_tokens", "max_tokens"]

_CHOICES: Final[dict[str, tuple[str, ...]]] = {
    "usage_chunk": ("separate", "finish"),
    "empty_reasoning": ("accept", "refuse"),
    "duration": ("video_stream", "container", "audio_stream"),
    "stream_errors": ("sse", "sse_200", "json"),
    "reasoning_when_off": ("absent", "null"),
    "max_tokens_field": ("both", "max_completion_tokens", "max_tokens"),
}
_AUTH_HEADERS: Final = frozenset({"bearer", "api-key"})


@dataclass(frozen=True)
class Behaviour:
    """One choice for each point the evidence leaves open (see the folder's README).

    Attributes:
        retired_models: model names answered with 400 "Not supported model <name>".
        list_retired: whether ``GET /v1/models`` still lists the retired models.
        text_only_media_status: the status a media part sent to a text-only model gets.
        reasoning_efforts: the ``reasoning_effort`` values accepted (``"minimal"`` gets a 500,
            any other value a 400).
        stream_errors: how a request with ``stream: true`` that fails validation is answered:
            ``"sse"`` the error status with MiMo's error body framed as one SSE event,
            ``"sse_200"`` the same event in a 200 event stream, ``"json"`` a plain JSON body.
        usage_chunk: with ``include_usage``, ``"separate"`` sends ``usage`` on its own last chunk
            with empty ``choices``; ``"finish"`` puts it on the finish chunk.
        empty_reasoning: whether a passed-back ``reasoning_content`` of ``""`` satisfies the
            thinking-mode pass-back rule.
        reasoning_when_off: with thinking off, ``reasoning_content`` is left out of the message
            (``"absent"``) or sent as ``null``.
        duration: which duration the token formula uses: the video stream's, the container's,
            or the audio stream's (for a video with sound; else the video stream's).
        audio_special_tokens: whether reported audio tokens include the formula's 2 special
            tokens.
        auth_headers: the headers a key is accepted in: ``"bearer"`` (``Authorization:
            Bearer``) and/or ``"api-key"``.
        fps_float: whether a non-integer ``fps`` is accepted.
        max_tokens_field: which output caps are accepted; the other one gets a 400.
    """

    retired_models: frozenset[str] = frozenset({"mimo-v2-omni"})
    list_retired: bool = True
    text_only_media_status: int = 404
    reasoning_efforts: frozenset[str] = frozenset({"low", "medium", "high"})
    stream_errors: StreamErrors = "sse"
    usage_chunk: UsageChunk = "separate"
    empty_reasoning: EmptyReasoning = "accept"
    reasoning_when_off: ReasoningWhenOff = "absent"
    duration: Duration = "video_stream"
    audio_special_tokens: bool = True
    auth_headers: frozenset[str] = _AUTH_HEADERS
    fps_float: bool = True
    max_tokens_field: MaxTokensField = "both"

    def __post_init__(self) -> None:
        for name, allowed in _CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if not self.auth_headers or not self.auth_headers <= _AUTH_HEADERS:
            raise ValueError(f"auth_headers must be a non-empty subset of {sorted(_AUTH_HEADERS)}")
        if self.text_only_media_status not in (400, 404):
            raise ValueError("text_only_media_status must be 400 or 404")

    def replace(self, **changes: Any) -> Behaviour:
        """A copy with ``changes`` (names of fields; sets may be given as any iterable)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise TypeError(f"unknown behaviour option(s) {sorted(unknown)}")
        for name in ("retired_models", "reasoning_efforts", "auth_headers"):
            if name in changes:
                value = changes[name]
                changes[name] = frozenset([value] if isinstance(value, str) else value)
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Behaviour:
        """The defaults, changed by ``MIMO_SERVER_<FIELD>`` variables.

        Sets are comma-separated (``MIMO_SERVER_AUTH_HEADERS=bearer``; an empty
        ``MIMO_SERVER_RETIRED_MODELS=`` retires nothing); booleans read ``1/true/yes`` or
        ``0/false/no``; ``MIMO_SERVER_TEXT_ONLY_MEDIA_STATUS`` is a number.
        """
        environ = os.environ if environ is None else environ
        changes: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            raw = environ.get(ENV_PREFIX + spec.name.upper())
            if raw is None:
                continue
            default = getattr(cls, spec.name)
            if isinstance(default, bool):
                changes[spec.name] = _boolean(spec.name, raw)
            elif isinstance(default, int):
                changes[spec.name] = int(raw)
            elif isinstance(default, frozenset):
                changes[spec.name] = [item.strip() for item in raw.split(",") if item.strip()]
            else:
                changes[spec.name] = raw.strip()
        return cls().replace(**changes)

    def changed(self) -> dict[str, Any]:
        """The fields that differ from the defaults (for logs and reports)."""
        default = Behaviour()
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }


def _boolean(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{ENV_PREFIX}{name.upper()} must be true or false, got {raw!r}")
