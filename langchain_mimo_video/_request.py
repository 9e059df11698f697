"""Checks and helpers for a request body; pure, so nothing here reads a file or a URL.

What a model can take (media parts, ``reasoning_effort``, retired names) is checked here
against the data in ``data/_profiles`` and ``limits``, before anything is sent. The
``max_input_tokens`` guard, which probes videos, is a separate step
(``_estimate.check_token_limit``).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Final

import openai

from langchain_mimo_video.data._profiles import get_retirement, media_inputs
from langchain_mimo_video.errors import (
    InvalidArgumentError,
    RetiredModelWarning,
    UnsupportedContentError,
)
from langchain_mimo_video.limits import REASONING_EFFORTS

__all__ = [
    "build_body",
    "check_media_for_model",
    "check_reasoning_effort",
    "sdk_arguments",
    "warn_if_retired",
]

# Request fields that are ours to build; everything else a caller passes (tools,
# response_format, frequency_penalty, MiMo-only fields...) goes into the body as given.
_CORE_FIELDS: Final = frozenset({"model", "messages", "stream"})
_MEDIA_NAMES: Final = {"video_url": "a video", "image_url": "an image", "input_audio": "audio"}

_warned: set[str] = set()
_warned_lock = threading.Lock()


def warn_if_retired(model: str) -> None:
    """Warn once per process and model name when ``model`` is retired (see data/_profiles)."""
    retirement = get_retirement(model)
    if retirement is None:
        return
    with _warned_lock:
        if model in _warned:
            return
        _warned.add(model)
    warnings.warn(
        f"{model} was retired on {retirement.date}; the live API answers it with 400 "
        f'"Not supported model {model}". Use model="{retirement.replacement}" instead.',
        RetiredModelWarning,
        stacklevel=4,
    )


def check_reasoning_effort(value: Any) -> Any:
    """Return ``value`` if it is ``None`` or one of MiMo's ``reasoning_effort`` levels.

    Raises:
        InvalidArgumentError: for any other value (``"none"`` gets a 400 from MiMo and
            ``"minimal"`` a 500).

    """
    if value is None or (isinstance(value, str) and value in REASONING_EFFORTS):
        return value
    raise InvalidArgumentError(
        f"reasoning_effort must be one of {', '.join(map(repr, REASONING_EFFORTS))} (or None "
        f"for the model's default), got {value!r}. To switch reasoning off use thinking=False."
    )


def check_media_for_model(model: str, messages: Sequence[Mapping[str, Any]]) -> None:
    """Refuse video, image and audio parts for a model that takes text only.

    Models this package does not know are not checked (they may be self-hosted or new).

    Raises:
        UnsupportedContentError: naming the first media part and a model that takes it.

    """
    accepted = media_inputs(model)
    if accepted is None:
        return
    for index, message in enumerate(messages):
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for part in content:
            kind = part.get("type") if isinstance(part, Mapping) else None
            if kind in _MEDIA_NAMES and kind not in accepted:
                raise UnsupportedContentError(
                    f"{model} takes text only, but message {index} holds {_MEDIA_NAMES[kind]} "
                    f"part ({kind!r}); MiMo would refuse it. Send media to mimo-v2.5 "
                    "(ChatMiMo(model='mimo-v2.5')), or describe it in text."
                )


def build_body(
    params: dict[str, Any],
    messages: list[dict[str, Any]],
    *,
    stop: list[str] | None,
    stream: bool,
    stream_usage: bool,
    thinking: bool | None,
    extra_body: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The exact JSON body of a chat-completions request, checked.

    Args:
        params: the model's default parameters merged with the call's keyword arguments.
        messages: the wire messages (``_messages.messages_to_mimo``).
        stop: the call's stop sequences, if any.
        stream: whether the request streams.
        stream_usage: the model's default for asking a usage chunk when streaming.
        thinking: the model's default reasoning switch.
        extra_body: fields merged in last.

    Raises:
        InvalidArgumentError: for a ``reasoning_effort`` MiMo does not take.
        UnsupportedContentError: for media parts sent to a text-only model.

    """
    params = dict(params)
    body: dict[str, Any] = {"model": params.pop("model"), "messages": messages}
    stream_usage = params.pop("stream_usage", stream_usage)
    params.pop("probe_private_urls", None)  # for the token guard, not the body
    thinking = params.pop("thinking", thinking)
    if "max_tokens" in params:  # the LangChain name, accepted per call too
        params["max_completion_tokens"] = params.pop("max_tokens")
    if stop is not None:
        params["stop"] = stop
    body.update(params)
    if stream:
        body["stream"] = True
        if stream_usage:
            body["stream_options"] = {"include_usage": True}
    if thinking is not None:
        body["thinking"] = {"type": "enabled" if thinking else "disabled"}
    if extra_body:
        body.update(extra_body)
    check_reasoning_effort(body.get("reasoning_effort"))
    model = str(body["model"])
    warn_if_retired(model)
    check_media_for_model(model, body["messages"])
    return body


def sdk_arguments(body: Mapping[str, Any], auth_header: str) -> dict[str, Any]:
    """Split a body into the SDK's ``create`` arguments.

    MiMo takes fields the openai SDK does not type (``thinking``, per-part ``fps``);
    sending all but the core fields through ``extra_body`` puts the body on the wire
    exactly as built. With ``auth_header="api-key"`` the SDK's Bearer header is dropped.
    """
    arguments = {key: body[key] for key in _CORE_FIELDS if key in body}
    extra = {key: value for key, value in body.items() if key not in _CORE_FIELDS}
    if extra:
        arguments["extra_body"] = extra
    if auth_header == "api-key":
        arguments["extra_headers"] = {"Authorization": openai.Omit()}
    return arguments
