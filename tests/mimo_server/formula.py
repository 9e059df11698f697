"""The contract server's own reading of MiMo's documented video-token formula.

This module is written independently of ``langchain_mimo_video.tokens`` on purpose: tests
that compare the package's estimates with the usage this server reports are then a real
cross-check of two implementations of the same documented formula, not one module
compared with itself.

The formula (vendor page "Explanation of Video Token Usage") in steps:

1. frames sampled: ``ceil(duration * fps)``, at most 2048, rounded up to an even number,
   at least 2;
2. a per-frame pixel budget: ``131072 * 1024 * 2 // frames``, capped at ``300 * 1024``
   unless ``media_resolution == "max"``, then clamped to ``[8192, 8388608]``;
3. the frame is scaled to multiples of 32 pixels (short side first brought up to 32, then
   rounded; shrunk if over budget, grown if under 8192 pixels);
4. one temporal grid per two frames; per grid ``(h/16) * (w/16) / 4`` vision tokens,
   3 timestamp tokens (5 when ``fps > 2``) and 2 special tokens, plus 2 special tokens
   per video;
5. audio (when the video has sound): ``spec = int(duration * 24000) // 240 + 1``,
   ``t = (spec - 1) // 2 + 1``, ``t = ceil(t / 2)``, tokens ``ceil(t / 4) + 2``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PATCH = 16
MERGE = 2
TEMPORAL_PATCH = 2
SPATIAL = PATCH * MERGE  # 32 pixels per merged token side
PIXELS_PER_TOKEN = SPATIAL * SPATIAL  # 1024
MAX_TOTAL_TOKENS = 131_072
TOTAL_PIXEL_BUDGET = MAX_TOTAL_TOKENS * PIXELS_PER_TOKEN
MIN_FRAME_PIXELS = 8_192
MAX_FRAME_PIXELS = 8_388_608
MAX_FRAMES = 2_048
DEFAULT_FRAME_TOKENS = 300


@dataclass(frozen=True)
class VideoTokens:
    """The parts of one video's token count, as the formula defines them."""

    frames: int
    """Frames sampled (always even, at least 2)."""
    height: int
    """Frame height after scaling, a multiple of 32."""
    width: int
    """Frame width after scaling, a multiple of 32."""
    vision: int
    timestamps: int
    special: int

    @property
    def total(self) -> int:
        """Vision + timestamp + special tokens: what ``video_tokens`` reports."""
        return self.vision + self.timestamps + self.special


def sampled_frames(duration: float, fps: float) -> int:
    """Frames the service samples from ``duration`` seconds at ``fps``."""
    frames = min(math.ceil(duration * fps), MAX_FRAMES)
    return max(math.ceil(frames / TEMPORAL_PATCH) * TEMPORAL_PATCH, TEMPORAL_PATCH)


def frame_pixel_budget(frames: int, media_resolution: str) -> int:
    """The most pixels one sampled frame may keep."""
    budget = TOTAL_PIXEL_BUDGET * TEMPORAL_PATCH // frames
    if media_resolution != "max":
        budget = min(budget, DEFAULT_FRAME_TOKENS * PIXELS_PER_TOKEN)
    return max(MIN_FRAME_PIXELS, min(budget, MAX_FRAME_PIXELS))


def scaled_frame_size(width: int, height: int, budget: int) -> tuple[int, int]:
    """Return ``(height, width)`` of a frame after the formula's resizing."""
    h, w = height, width
    if min(h, w) < SPATIAL:
        if h < w:
            w = int(w * SPATIAL / h)
            h = SPATIAL
        else:
            h = int(h * SPATIAL / w)
            w = SPATIAL
    # Python's round() (half to even) is what the vendor's reference code uses.
    h_bar = round(h / SPATIAL) * SPATIAL
    w_bar = round(w / SPATIAL) * SPATIAL
    if h_bar * w_bar > budget:
        beta = math.sqrt(h * w / budget)
        h_bar = math.floor(h / beta / SPATIAL) * SPATIAL
        w_bar = math.floor(w / beta / SPATIAL) * SPATIAL
    elif h_bar * w_bar < MIN_FRAME_PIXELS:
        beta = math.sqrt(MIN_FRAME_PIXELS / (h * w))
        h_bar = math.ceil(h * beta / SPATIAL) * SPATIAL
        w_bar = math.ceil(w * beta / SPATIAL) * SPATIAL
    return h_bar, w_bar


def video_tokens(
    duration: float, width: int, height: int, fps: float, media_resolution: str
) -> VideoTokens:
    """Vision, timestamp and special tokens of one video (audio excluded)."""
    frames = sampled_frames(duration, fps)
    h_bar, w_bar = scaled_frame_size(width, height, frame_pixel_budget(frames, media_resolution))
    grids = frames // TEMPORAL_PATCH
    per_grid = (h_bar // PATCH) * (w_bar // PATCH) // (MERGE * MERGE)
    return VideoTokens(
        frames=frames,
        height=h_bar,
        width=w_bar,
        vision=grids * per_grid,
        timestamps=grids * (5 if fps > 2 else 3),
        special=grids * 2 + 2,
    )


def audio_tokens(duration: float, *, special: bool = True) -> int:
    """Tokens of ``duration`` seconds of sound (about 6.25 per second, plus 2 special ones).

    ``special=False`` leaves the 2 special tokens out, one reading of the vendor's sample.
    """
    spec_len = int(duration * 24_000) // 240 + 1
    t = (spec_len - 1) // 2 + 1
    t = t // 2 + int(t % 2 != 0)
    return math.ceil(t / 4) + (2 if special else 0)
