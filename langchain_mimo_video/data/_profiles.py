"""Model profiles: what each MiMo model takes and emits, as data.

Figures from the vendor's pricing and model pages (context lengths for some models are
second-hand); kept here so ``ChatMiMo().profile`` can answer without a request.
"""

from __future__ import annotations

from typing import Any

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


def get_profile(model: str) -> dict[str, Any] | None:
    """Return a copy of ``model``'s profile, or ``None`` for a model we do not know."""
    profile = _PROFILES.get(model)
    return dict(profile) if profile is not None else None
