"""Estimate a request's input tokens before sending it.

Video parts are measured exactly with the documented formula, after probing the video
(local data is probed in memory; URL videos by reading only their header and index).
Audio parts use the formula's audio part (about 6.25 tokens a second). Text has no
public tokenizer, so it is approximated (about 4 bytes a token for Latin text, 1 token
a CJK character). MiMo publishes no image formula, so images are listed as unmeasured
rather than guessed.

A URL's probe (video or audio) may take ``probe_timeout`` seconds in all, its lookup,
connection, redirects and reads together; ``ChatMiMo`` passes its ``timeout``, and without
one the probe's own default applies (30 s, :func:`~langchain_mimo_video.media.probe`'s).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_mimo_video._utils import decode_data_url
from langchain_mimo_video.errors import MiMoError, TokenLimitError
from langchain_mimo_video.limits import DEFAULT_FPS, DEFAULT_MEDIA_RESOLUTION
from langchain_mimo_video.store import REFERENCE_PREFIX, MediaInfo, reference_id
from langchain_mimo_video.tokens import (
    ModelPrice,
    VideoTokenEstimate,
    estimate_audio_tokens,
    estimate_cost,
    explain_video_tokens,
)

__all__ = [
    "RequestEstimate",
    "VideoEstimate",
    "check_token_limit",
    "estimate_request",
    "estimate_text_tokens",
    "token_limit_error",
]


# Per-message overhead of the chat template (role markers), an approximation.
_MESSAGE_OVERHEAD = 4


@dataclass(frozen=True)
class VideoEstimate:
    """One video part's estimate.

    Attributes:
        url: the part's URL (data URLs shortened to their header).
        fps: the part's fps.
        media_resolution: the part's media_resolution.
        duration: probed duration in seconds.
        width: probed width.
        height: probed height.
        has_audio: whether the video has an audio track.
        tokens: the formula's breakdown; ``tokens.total`` is what the part costs.
    """

    url: str
    fps: float
    media_resolution: str
    duration: float
    width: int
    height: int
    has_audio: bool
    tokens: VideoTokenEstimate


@dataclass(frozen=True)
class RequestEstimate:
    """Estimated input tokens of one request.

    Attributes:
        text_tokens: approximate tokens of text, tool schemas and message overhead.
        video_tokens: vision tokens of all videos (MiMo's ``video_tokens``).
        audio_tokens: audio tokens of videos' soundtracks and audio parts.
        videos: per-video breakdowns.
        unmeasured: parts that could not be measured, with the reason.
    """

    text_tokens: int
    video_tokens: int
    audio_tokens: int
    videos: list[VideoEstimate] = field(default_factory=list)
    unmeasured: list[str] = field(default_factory=list)

    @property
    def input_tokens(self) -> int:
        """All estimated input tokens."""
        return self.text_tokens + self.video_tokens + self.audio_tokens

    def cost(
        self,
        model: str,
        output_tokens: int = 0,
        prices: Mapping[str, ModelPrice] | None = None,
    ) -> float:
        """Estimated price of the request with ``output_tokens`` of answer (no cache hits)."""
        return estimate_cost(model, self.input_tokens, output_tokens, prices=prices)


def estimate_text_tokens(text: str) -> int:
    """Approximate the tokens of ``text`` (no public MiMo tokenizer exists)."""
    wide = sum(1 for char in text if ord(char) >= 0x2E80)  # CJK and other wide scripts
    narrow_bytes = len(text.encode("utf-8")) - sum(
        len(char.encode("utf-8")) for char in text if ord(char) >= 0x2E80
    )
    return wide + math.ceil(narrow_bytes / 4)


def _as_sent(value: Any) -> str:
    """``value`` as the JSON text it travels as (not Python's repr of it)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def estimate_request(
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]] | None = None,
    *,
    probe_urls: bool = True,
    allow_private_network: bool = True,
    media_info: Callable[[str], MediaInfo] | None = None,
    probe_timeout: float | None = None,
) -> RequestEstimate:
    """Estimate the input tokens of MiMo wire messages (as ChatMiMo sends them).

    Args:
        messages: the request's ``messages`` list.
        tools: the request's ``tools`` list, counted as the JSON text sent.
        probe_urls: probe http(s) video URLs (reads their header and index); when False,
            URL videos are listed as unmeasured.
        allow_private_network: let URL probing reach private and loopback addresses.
        media_info: a MediaStore's ``info``: ``mimo-media:`` videos are estimated from the
            metadata stored with them, without reading the video.
        probe_timeout: seconds each URL's probe may take in all (``None``: the probe's
            default); a probe that runs past it is listed as unmeasured.

    Raises:
        MediaError: if PyAV (the ``[media]`` extra) is needed and missing.
    """
    limits: dict[str, Any] = {"allow_private_network": allow_private_network}
    if probe_timeout is not None:
        limits["timeout"] = probe_timeout
    text = 0
    video = 0
    audio = 0
    videos: list[VideoEstimate] = []
    unmeasured: list[str] = []
    for message in messages:
        text += _MESSAGE_OVERHEAD
        content = message.get("content")
        if isinstance(content, str):
            text += estimate_text_tokens(content)
            continue
        for part in content or []:
            kind = part.get("type")
            if kind == "text":
                text += estimate_text_tokens(str(part.get("text", "")))
            elif kind == "video_url":
                estimate, reason = _video_part(part, probe_urls, limits, media_info)
                if estimate is None:
                    unmeasured.append(reason)
                    continue
                videos.append(estimate)
                audio += estimate.tokens.audio
                video += estimate.tokens.total - estimate.tokens.audio
            elif kind == "input_audio":
                tokens, reason = _audio_part(part, limits)
                if tokens is None:
                    unmeasured.append(reason)
                else:
                    audio += tokens
            elif kind == "image_url":
                unmeasured.append("an image (MiMo publishes no image token formula)")
            else:
                text += estimate_text_tokens(str(part))
        for call in message.get("tool_calls") or []:
            text += estimate_text_tokens(_as_sent(call))
        if message.get("reasoning_content"):
            text += estimate_text_tokens(str(message["reasoning_content"]))
    for tool in tools or []:
        text += estimate_text_tokens(_as_sent(tool))
    return RequestEstimate(text, video, audio, videos, unmeasured)


def check_token_limit(
    body: Mapping[str, Any],
    limit: int,
    *,
    allow_private_network: bool = True,
    media_info: Callable[[str], MediaInfo] | None = None,
    probe_timeout: float | None = None,
) -> None:
    """The ``max_input_tokens`` guard: estimate a request body, refuse it if over ``limit``.

    Probes the body's videos (files, data and URLs), so this is I/O; ``ChatMiMo`` runs it
    after building the body and before sending it. Each URL's probe may take
    ``probe_timeout`` seconds (see :func:`estimate_request`).

    Raises:
        TokenLimitError: if the estimate is over ``limit``, with advice that fits it.

    """
    estimate = estimate_request(
        body["messages"],
        body.get("tools"),
        allow_private_network=allow_private_network,
        media_info=media_info,
        probe_timeout=probe_timeout,
    )
    if estimate.input_tokens > limit:
        raise token_limit_error(estimate, limit)


def token_limit_error(estimate: RequestEstimate, limit: int) -> TokenLimitError:
    """The error for a request over ``max_input_tokens``, with advice that fits it."""
    advice = "shorten the text"
    if estimate.videos:
        longest = max(estimate.videos, key=lambda video: video.tokens.total)
        steps = [
            f"lower fps (the largest video, {longest.duration:.0f} s at fps {longest.fps:g}, "
            f"costs {longest.tokens.total} tokens)"
        ]
        if longest.media_resolution != DEFAULT_MEDIA_RESOLUTION:
            steps.append(f"use media_resolution={DEFAULT_MEDIA_RESOLUTION!r}")
        steps.append(
            "or send a shorter clip (VideoLoader.load(..., start=..., end=...)) or segments "
            "(VideoLoader.split)"
        )
        advice = ", ".join(steps)
    return TokenLimitError(
        f"This request is estimated at {estimate.input_tokens} input tokens "
        f"({estimate.video_tokens} video, {estimate.audio_tokens} audio, about "
        f"{estimate.text_tokens} text), over max_input_tokens={limit}. To fit, {advice}.",
        estimated=estimate.input_tokens,
        limit=limit,
    )


def _short(url: str) -> str:
    return url.split(",", 1)[0] + ",..." if url.startswith("data:") else url


def _video_part(
    part: Mapping[str, Any],
    probe_urls: bool,
    limits: Mapping[str, Any],
    media_info: Callable[[str], MediaInfo] | None = None,
) -> tuple[VideoEstimate | None, str]:
    """One video part's estimate, or ``None`` and why; ``limits`` are URL probes' options."""
    from langchain_mimo_video.media import probe

    url = str((part.get("video_url") or {}).get("url", ""))
    fps = float(part.get("fps", DEFAULT_FPS))
    resolution = str(part.get("media_resolution", DEFAULT_MEDIA_RESOLUTION))
    info: Any
    if url.startswith(REFERENCE_PREFIX):
        if media_info is None:
            return None, f"the stored video {url} (no MediaStore to read it from)"
        info = media_info(reference_id(url))
        if not info.probed:
            return None, f"the stored video {url} (it was stored without PyAV to measure it)"
    elif url.startswith("data:"):
        info = probe(decode_data_url(url))
    elif probe_urls:
        try:
            info = probe(url, **limits)
        except MiMoError as error:
            return None, f"the video at {url} ({error})"
    else:
        return None, f"the video at {url} (URL probing is off)"
    tokens = explain_video_tokens(
        info.duration, info.width, info.height, fps, resolution, mute=not info.has_audio
    )
    estimate = VideoEstimate(
        url=_short(url),
        fps=fps,
        media_resolution=resolution,
        duration=info.duration,
        width=info.width,
        height=info.height,
        has_audio=info.has_audio,
        tokens=tokens,
    )
    return estimate, ""


def _audio_part(part: Mapping[str, Any], limits: Mapping[str, Any]) -> tuple[int | None, str]:
    from langchain_mimo_video.media import probe_audio_duration

    data = str((part.get("input_audio") or {}).get("data", ""))
    try:
        source: str | bytes = decode_data_url(data) if data.startswith("data:") else data
        duration = probe_audio_duration(source, **limits)
    except MiMoError as error:
        return None, f"an audio part ({error})"
    return estimate_audio_tokens(duration), ""
