"""Model profiles: what each MiMo model takes and emits, and which names are retired, as data.

Figures from the vendor's pricing and model pages (context lengths for some models are
second-hand); kept here so ``ChatMiMo().profile`` can answer without a request. The
retirements are third-party evidence of high confidence (models.dev#2804, by a Xiaomi
author; the live API answers 400 "Not supported model mimo-v2-omni" since then).
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["Retirement", "get_profile", "get_retirement", "media_inputs"]

_MULTIMODAL: dict[str, Any] = {
    "text_inputs": True,
    "image_inputs": True,
    "image_url_inputs": True,
    "audio_inputs": True,
    "video_inputs": True,
    "pdf_inputs": False,
    "image_tool_message": False,
    "pdf_tool_message": False,
    "text_outputs": True,
    "image_outputs": False,
    "audio_outputs": False,
    "video_outputs": False,
    "reasoning_output": True,
    "tool_calling": True,
    "tool_choice": True,
    "tool_call_streaming": True,
    "structured_output": False,
    "temperature": True,
    "max_output_tokens": 131_072,
}

_TEXT_ONLY: dict[str, Any] = {
    **_MULTIMODAL,
    "image_inputs": False,
    "image_url_inputs": False,
    "audio_inputs": False,
    "video_inputs": False,
}

_PROFILES: dict[str, dict[str, Any]] = {
    "mimo-v2.5": {**_MULTIMODAL, "max_input_tokens": 1_000_000},
    "mimo-v2-omni": {**_MULTIMODAL, "max_input_tokens": 262_144},
    "mimo-v2.5-pro": {**_TEXT_ONLY, "max_input_tokens": 1_000_000},
    "mimo-v2-pro": {**_TEXT_ONLY, "max_input_tokens": 1_000_000},
    "mimo-v2-flash": {**_TEXT_ONLY, "max_input_tokens": 262_144},
}


class Retirement(NamedTuple):
    """When a model name went offline, and the model to use instead."""

    date: str
    replacement: str


_RETIRED: dict[str, Retirement] = {
    "mimo-v2-omni": Retirement("2026-06-30", "mimo-v2.5"),
    "mimo-v2-pro": Retirement("2026-06-30", "mimo-v2.5-pro"),
}

#: The kinds of media parts, by the profile flag that says whether a model takes them.
_MEDIA_FLAGS: dict[str, str] = {
    "video_url": "video_inputs",
    "image_url": "image_inputs",
    "input_audio": "audio_inputs",
}


def get_retirement(model: str) -> Retirement | None:
    """When ``model`` was retired and what replaces it, or ``None`` while it is live."""
    return _RETIRED.get(model)


def media_inputs(model: str) -> frozenset[str] | None:
    """The media part types (``video_url``, ``image_url``, ``input_audio``) ``model`` takes.

    ``None`` for a model we do not know (a self-hosted or newer one): nothing is refused.
    """
    profile = _PROFILES.get(model)
    if profile is None:
        return None
    return frozenset(kind for kind, flag in _MEDIA_FLAGS.items() if profile.get(flag))


def get_profile(model: str) -> dict[str, Any] | None:
    """Return a copy of ``model``'s profile, or ``None`` for a model we do not know."""
    profile = _PROFILES.get(model)
    return dict(profile) if profile is not None else None
