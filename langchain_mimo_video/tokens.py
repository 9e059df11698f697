"""Token and cost estimates for MiMo video input, from the vendor's documented formula.

The server samples ``fps`` frames per second (at most 2048, an even count), resizes every
frame to a multiple of 32 pixels within a per-frame pixel budget, and turns each pair of
frames into ``(h / 32) * (w / 32)`` vision tokens plus a few timestamp and marker tokens.
Audio costs about 6.25 tokens per second. Everything here is pure arithmetic that mirrors
the vendor's reference code step by step, so the numbers match it exactly; the API's
``usage`` remains the authority.

Example:
    .. code-block:: python

        from langchain_mimo_video.tokens import estimate_cost, estimate_video_tokens

        tokens = estimate_video_tokens(60, 1920, 1080)  # a 1080p minute at fps=2
        price = estimate_cost("mimo-v2.5", tokens, output_tokens=500)

"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from langchain_mimo_video.data._prices import PRICES
from langchain_mimo_video.errors import (
    InvalidArgumentError,
    UnknownPriceError,
    VideoValidationError,
)
from langchain_mimo_video.limits import (
    AUDIO_SAMPLE_RATE,
    DEFAULT_FPS,
    DEFAULT_MEDIA_RESOLUTION,
    MAX_FPS,
    MEDIA_RESOLUTIONS,
    MIN_FPS,
)

__all__ = [
    "DEFAULT_PRICES",
    "MAX_SAMPLED_FRAMES",
    "ModelPrice",
    "VideoTokenEstimate",
    "estimate_audio_tokens",
    "estimate_cost",
    "estimate_video_tokens",
    "explain_video_tokens",
    "frame_size",
    "sampled_frame_count",
]


# The vision encoder cuts frames into 16x16 patches and merges 2x2 of them into one
# token, so the server works in 32-pixel steps; two consecutive frames share a token grid.
_PATCH: Final = 16
_MERGE: Final = 2
_TEMPORAL_PATCH: Final = 2
_STEP: Final = _PATCH * _MERGE  # 32 pixels
_PIXELS_PER_TOKEN: Final = _STEP * _STEP  # 1024

#: Most frames the server samples from one video.
MAX_SAMPLED_FRAMES: Final = 2048
_MAX_VIDEO_TOKENS: Final = 131072  # vision budget shared by all frames of one video
_MIN_FRAME_PIXELS: Final = 8192
_MAX_FRAME_PIXELS: Final = 8388608
_DEFAULT_TIER_FRAME_TOKENS: Final = 300  # per-frame cap of the "default" tier

# Audio: a 24 kHz signal cut into 10 ms spectrogram frames, halved twice by the encoder,
# then grouped by four; each audio span also carries two marker tokens.
_AUDIO_HOP: Final = 240
_AUDIO_GROUP: Final = 4
_AUDIO_MARKERS: Final = 2


def _check_video(
    duration: float, width: int, height: int, fps: float, media_resolution: str
) -> None:
    _check_duration(duration)
    _check_fps(fps)
    if width <= 0 or height <= 0:
        raise VideoValidationError(
            f"width and height must be positive pixel counts, got {width}x{height}; "
            "pass the video's real frame size (probe it with langchain_mimo_video.media.probe)."
        )
    if media_resolution not in MEDIA_RESOLUTIONS:
        raise VideoValidationError(
            f"media_resolution must be one of {', '.join(MEDIA_RESOLUTIONS)}, "
            f"got {media_resolution!r}."
        )


def _check_duration(duration: float) -> None:
    if not (math.isfinite(duration) and duration >= 0):
        raise VideoValidationError(
            f"duration must be a finite number of seconds >= 0, got {duration!r}."
        )


def _check_fps(fps: float) -> None:
    if not (math.isfinite(fps) and MIN_FPS <= fps <= MAX_FPS):
        raise VideoValidationError(
            f"fps must be within [{MIN_FPS}, {MAX_FPS}] as MiMo documents, got {fps!r}; "
            f"use {DEFAULT_FPS} (the default) unless you need finer or coarser timing."
        )


def sampled_frame_count(duration: float, fps: float = DEFAULT_FPS) -> int:
    """Count the frames the server samples from a video.

    ``ceil(duration * fps)``, capped at 2048, then rounded up to an even number
    (frames are consumed in pairs), and never fewer than two.

    Args:
        duration: video duration in seconds.
        fps: frames sampled per second, within [0.1, 10].

    Returns:
        The number of sampled frames.

    Raises:
        VideoValidationError: if ``duration`` is negative or ``fps`` is out of range.

    Example:
        .. code-block:: python

            sampled_frame_count(60, 2)  # 120

    """
    _check_duration(duration)
    _check_fps(fps)
    frames = min(math.ceil(duration * fps), MAX_SAMPLED_FRAMES)
    pairs = math.ceil(frames / _TEMPORAL_PATCH)
    return max(pairs * _TEMPORAL_PATCH, _TEMPORAL_PATCH)


def _frame_pixel_budget(frames: int, media_resolution: str) -> int:
    """Most pixels one frame may keep: a share of the video budget, capped per tier."""
    budget = _MAX_VIDEO_TOKENS * _PIXELS_PER_TOKEN * _TEMPORAL_PATCH // frames
    if media_resolution != "max":
        budget = min(budget, _DEFAULT_TIER_FRAME_TOKENS * _PIXELS_PER_TOKEN)
    return max(_MIN_FRAME_PIXELS, min(budget, _MAX_FRAME_PIXELS))


def _resize_to_grid(width: int, height: int, budget: int) -> tuple[int, int]:
    """Snap a frame to 32-pixel steps, scaling it down (or up) to fit the pixel budget."""
    w: float = width
    h: float = height
    # A side shorter than one step is first stretched to a full step, keeping the aspect.
    if min(h, w) < _STEP:
        if h < w:
            w, h = int(w * _STEP / h), _STEP
        else:
            w, h = _STEP, int(h * _STEP / w)
    new_w = round(w / _STEP) * _STEP
    new_h = round(h / _STEP) * _STEP
    if new_w * new_h > budget:
        shrink = math.sqrt(h * w / budget)
        new_w = math.floor(w / shrink / _STEP) * _STEP
        new_h = math.floor(h / shrink / _STEP) * _STEP
    elif new_w * new_h < _MIN_FRAME_PIXELS:
        grow = math.sqrt(_MIN_FRAME_PIXELS / (h * w))
        new_w = math.ceil(w * grow / _STEP) * _STEP
        new_h = math.ceil(h * grow / _STEP) * _STEP
    return new_w, new_h


def frame_size(
    duration: float,
    width: int,
    height: int,
    fps: float = DEFAULT_FPS,
    media_resolution: str = DEFAULT_MEDIA_RESOLUTION,
) -> tuple[int, int]:
    """Return the frame size, in pixels, the server resizes each sampled frame to.

    Both sides are multiples of 32. A video re-encoded at exactly this size (and the same
    duration) costs the same tokens as the original, which is what
    :func:`langchain_mimo_video.media.fit_video` relies on. For aspect ratios beyond
    about 1:128 the formula yields a side of 0 (and no vision tokens).

    Args:
        duration: video duration in seconds.
        width: frame width in pixels.
        height: frame height in pixels.
        fps: frames sampled per second, within [0.1, 10].
        media_resolution: ``"default"`` or ``"max"``.

    Returns:
        ``(width, height)`` of the resized frames.

    Raises:
        VideoValidationError: if an argument breaks a documented rule.

    Example:
        .. code-block:: python

            frame_size(60, 1920, 1080)  # (736, 384)

    """
    _check_video(duration, width, height, fps, media_resolution)
    budget = _frame_pixel_budget(sampled_frame_count(duration, fps), media_resolution)
    return _resize_to_grid(width, height, budget)


def estimate_audio_tokens(duration: float) -> int:
    """Estimate the audio tokens of ``duration`` seconds of sound (about 6.25 per second).

    Args:
        duration: audio duration in seconds.

    Returns:
        The audio token count, including the two marker tokens.

    Raises:
        VideoValidationError: if ``duration`` is negative or not finite.

    Example:
        .. code-block:: python

            estimate_audio_tokens(60)  # 378

    """
    _check_duration(duration)
    spectrogram_frames = int(duration * AUDIO_SAMPLE_RATE) // _AUDIO_HOP + 1
    after_first_halving = (spectrogram_frames - 1) // 2 + 1
    after_second_halving = math.ceil(after_first_halving / 2)
    return math.ceil(after_second_halving / _AUDIO_GROUP) + _AUDIO_MARKERS


@dataclass(frozen=True)
class VideoTokenEstimate:
    """The parts of a video's token estimate.

    Attributes:
        frames: frames the server samples.
        frame_width: width each frame is resized to, in pixels.
        frame_height: height each frame is resized to, in pixels.
        vision: tokens for the frames' pixels.
        timestamps: timestamp text tokens (3 per frame pair, 5 when ``fps > 2``).
        special: marker tokens around the frames.
        audio: audio tokens (0 when muted).
        total: the sum of all parts.

    """

    frames: int
    frame_width: int
    frame_height: int
    vision: int
    timestamps: int
    special: int
    audio: int
    total: int


def explain_video_tokens(
    duration: float,
    width: int,
    height: int,
    fps: float = DEFAULT_FPS,
    media_resolution: str = DEFAULT_MEDIA_RESOLUTION,
    mute: bool = False,
) -> VideoTokenEstimate:
    """Estimate a video's tokens and show where they come from.

    Args:
        duration: video duration in seconds.
        width: frame width in pixels.
        height: frame height in pixels.
        fps: frames sampled per second, within [0.1, 10].
        media_resolution: ``"default"`` or ``"max"``.
        mute: leave out the audio tokens.

    Returns:
        A :class:`VideoTokenEstimate` whose ``total`` is the estimate.

    Raises:
        VideoValidationError: if an argument breaks a documented rule.

    Example:
        .. code-block:: python

            explain_video_tokens(60, 1920, 1080).vision  # 16560

    """
    _check_video(duration, width, height, fps, media_resolution)
    frames = sampled_frame_count(duration, fps)
    frame_w, frame_h = _resize_to_grid(width, height, _frame_pixel_budget(frames, media_resolution))
    grids = frames // _TEMPORAL_PATCH
    tokens_per_grid = (frame_h // _PATCH) * (frame_w // _PATCH) // (_MERGE * _MERGE)
    vision = grids * tokens_per_grid
    timestamps = grids * (5 if fps > 2 else 3)
    special = grids * 2 + 2
    audio = 0 if mute else estimate_audio_tokens(duration)
    return VideoTokenEstimate(
        frames=frames,
        frame_width=frame_w,
        frame_height=frame_h,
        vision=vision,
        timestamps=timestamps,
        special=special,
        audio=audio,
        total=vision + timestamps + special + audio,
    )


def estimate_video_tokens(
    duration: float,
    width: int,
    height: int,
    fps: float = DEFAULT_FPS,
    media_resolution: str = DEFAULT_MEDIA_RESOLUTION,
    mute: bool = False,
) -> int:
    """Estimate the input tokens one video costs (vision plus audio).

    Reproduces the vendor's documented formula; the API's ``usage`` is the authority.

    Args:
        duration: video duration in seconds.
        width: frame width in pixels.
        height: frame height in pixels.
        fps: frames sampled per second, within [0.1, 10].
        media_resolution: ``"default"`` or ``"max"``.
        mute: leave out the audio tokens.

    Returns:
        The estimated token count.

    Raises:
        VideoValidationError: if an argument breaks a documented rule.

    Example:
        .. code-block:: python

            estimate_video_tokens(60, 1920, 1080)  # 17240

    """
    return explain_video_tokens(duration, width, height, fps, media_resolution, mute).total


@dataclass(frozen=True)
class ModelPrice:
    """Prices of one model, per million tokens.

    Attributes:
        input: price of a million uncached input tokens.
        cached_input: price of a million input tokens served from the cache.
        output: price of a million output tokens (reasoning included).
        currency: ISO currency code of the prices.

    """

    input: float
    cached_input: float
    output: float
    currency: str = "CNY"


#: Known prices, CNY per million tokens, from ``data/_prices.py``, which says where each
#: figure comes from (all are second-hand); pass ``prices=`` to :func:`estimate_cost` when
#: they change.
DEFAULT_PRICES: Final[Mapping[str, ModelPrice]] = MappingProxyType(
    {
        model: ModelPrice(price.input, price.cached_input, price.output, price.currency)
        for model, price in PRICES.items()
    }
)


def estimate_cost(
    model: str,
    input_tokens: int,
    output_tokens: int = 0,
    cached_input_tokens: int = 0,
    prices: Mapping[str, ModelPrice] | None = None,
) -> float:
    """Estimate the price of one request.

    ``input_tokens`` counts all input tokens, cached ones included (as
    ``usage.prompt_tokens`` does); ``cached_input_tokens`` of them are billed at the
    cached rate.

    Args:
        model: model name, e.g. ``"mimo-v2.5"``.
        input_tokens: all input tokens of the request.
        output_tokens: output tokens, reasoning included.
        cached_input_tokens: how many of the input tokens were cache hits.
        prices: prices that override or extend :data:`DEFAULT_PRICES`, by model name.

    Returns:
        The cost in the model's currency (see :attr:`ModelPrice.currency`).

    Raises:
        UnknownPriceError: if no price is known for ``model`` (a ``KeyError``).
        InvalidArgumentError: if a token count is negative or more tokens are cached than
            sent (a ``ValueError``).

    Example:
        .. code-block:: python

            estimate_cost("mimo-v2.5", 1_000_000, output_tokens=500_000)  # 2.0

    """
    table = {**DEFAULT_PRICES, **(prices or {})}
    if model not in table:
        raise UnknownPriceError(
            f"No price known for model {model!r}; known models: {', '.join(sorted(table))}. "
            f"Pass prices={{{model!r}: ModelPrice(input=..., cached_input=..., output=...)}}."
        )
    if min(input_tokens, output_tokens, cached_input_tokens) < 0:
        raise InvalidArgumentError(
            f"token counts must be >= 0, got input={input_tokens}, output={output_tokens}, "
            f"cached={cached_input_tokens}."
        )
    if cached_input_tokens > input_tokens:
        raise InvalidArgumentError(
            f"cached_input_tokens ({cached_input_tokens}) cannot exceed input_tokens "
            f"({input_tokens}): input_tokens counts cached tokens too."
        )
    price = table[model]
    uncached = input_tokens - cached_input_tokens
    return (
        uncached * price.input
        + cached_input_tokens * price.cached_input
        + output_tokens * price.output
    ) / 1_000_000
