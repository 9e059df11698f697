from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from langchain_mimo_video.errors import VideoValidationError
from langchain_mimo_video.tokens import (
    DEFAULT_PRICES,
    MAX_SAMPLED_FRAMES,
    ModelPrice,
    estimate_audio_tokens,
    estimate_cost,
    estimate_video_tokens,
    explain_video_tokens,
    frame_size,
    sampled_frame_count,
)

# The four examples on the vendor's page (a 1920x1080, 60 s video). The numbers were
# obtained once by running the vendor's reference code by hand; they are not recomputed.
VENDOR_DEFAULT = 17240
VENDOR_FPS5 = 42830
VENDOR_MAX = 123080
VENDOR_MUTE = 16862


def test_vendor_examples() -> None:
    assert estimate_video_tokens(60, 1920, 1080) == VENDOR_DEFAULT
    assert estimate_video_tokens(60, 1920, 1080, fps=5) == VENDOR_FPS5
    assert estimate_video_tokens(60, 1920, 1080, media_resolution="max") == VENDOR_MAX
    assert estimate_video_tokens(60, 1920, 1080, mute=True) == VENDOR_MUTE


def test_breakdown_adds_up_and_matches_vendor() -> None:
    e = explain_video_tokens(60, 1920, 1080)
    assert e.total == VENDOR_DEFAULT
    assert e.total == e.vision + e.timestamps + e.special + e.audio
    assert e.audio == VENDOR_DEFAULT - VENDOR_MUTE == estimate_audio_tokens(60)
    assert e.frames == sampled_frame_count(60, 2) == 120
    assert (e.frame_width, e.frame_height) == frame_size(60, 1920, 1080)
    # Each pair of frames is one grid of (w/32)*(h/32) tokens.
    assert e.vision == (e.frames // 2) * (e.frame_width // 32) * (e.frame_height // 32)
    assert explain_video_tokens(60, 1920, 1080, mute=True).audio == 0


def test_default_tier_caps_a_frame_at_300_tokens() -> None:
    w, h = frame_size(60, 1920, 1080)
    assert w % 32 == 0
    assert h % 32 == 0
    assert (w // 32) * (h // 32) <= 300
    # Aspect ratio roughly kept.
    assert abs(w / h - 1920 / 1080) < 0.15


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        # 16x16: stretched to 32x32 (1024 px) which is under the 8192-pixel floor, so it
        # grows by sqrt(8) and each side is rounded up to the next step: 3 * 32 = 96.
        (16, 16, (96, 96)),
        # 10x300: the 10-pixel side becomes 32 and the other grows with it to 960.
        (10, 300, (32, 960)),
        (300, 10, (960, 32)),
        # Exactly at the floor: 64x128 = 8192 pixels, kept as is.
        (64, 128, (64, 128)),
        # Already on the grid and inside the budget: untouched.
        (640, 352, (640, 352)),
    ],
)
def test_frame_size_edge_cases(width: int, height: int, expected: tuple[int, int]) -> None:
    assert frame_size(10, width, height) == expected


def test_rounding_to_the_grid_is_round_half_even() -> None:
    # 48 / 32 = 1.5 rounds to 2 steps; 80 / 32 = 2.5 rounds to 2 steps (Python's round()).
    w, h = frame_size(10, 48 * 4, 80 * 4)  # 192x320, fits the budget
    assert (w, h) == (192, 320)
    w, h = frame_size(10, 400, 80)  # 80 -> 2.5 steps -> 64
    assert h == 64


def test_portrait_is_the_transpose_of_landscape() -> None:
    land = explain_video_tokens(60, 1920, 1080)
    port = explain_video_tokens(60, 1080, 1920)
    assert (port.frame_width, port.frame_height) == (land.frame_height, land.frame_width)
    assert port.total == land.total


@pytest.mark.parametrize(
    ("fps", "per_grid"),
    [(0.5, 3), (1.0, 3), (2.0, 3), (2.01, 5), (2.5, 5), (5.0, 5), (10.0, 5)],
)
def test_timestamp_tokens_per_grid(fps: float, per_grid: int) -> None:
    e = explain_video_tokens(20, 640, 360, fps=fps)
    assert e.timestamps == (e.frames // 2) * per_grid
    assert e.special == (e.frames // 2) * 2 + 2


@pytest.mark.parametrize(
    ("duration", "fps", "frames"),
    [
        (1.5, 1.0, 2),  # ceil(1.5) = 2
        (2.5, 1.0, 4),  # ceil(2.5) = 3, rounded up to even
        (0.1, 2.0, 2),  # one frame, but never fewer than two
        (0.0, 2.0, 2),  # zero duration still costs one pair
        (1e-9, 10.0, 2),
        (10.0, 2.0, 20),
        (10.05, 2.0, 22),  # ceil(20.1) = 21 -> 22
        (204.8, 10.0, MAX_SAMPLED_FRAMES),
        (3600.0, 10.0, MAX_SAMPLED_FRAMES),  # capped
        (3600.0, 0.1, 360),
    ],
)
def test_sampled_frame_count(duration: float, fps: float, frames: int) -> None:
    assert sampled_frame_count(duration, fps) == frames
    assert frames % 2 == 0


def test_frame_cap_bounds_tokens_of_long_videos() -> None:
    one_hour = explain_video_tokens(3600, 1920, 1080, fps=10)
    two_hours = explain_video_tokens(7200, 1920, 1080, fps=10)
    assert one_hour.frames == two_hours.frames == MAX_SAMPLED_FRAMES
    assert one_hour.vision == two_hours.vision
    # The 131072-token vision budget is shared by all frames.
    assert one_hour.vision <= 131072


def test_max_tier_only_matters_for_short_videos() -> None:
    short_default = explain_video_tokens(10, 1920, 1080)
    short_max = explain_video_tokens(10, 1920, 1080, media_resolution="max")
    assert short_max.frame_width * short_max.frame_height > (
        short_default.frame_width * short_default.frame_height
    )
    assert short_max.total > short_default.total
    # With 2048 frames the shared budget is below the default tier's per-frame cap,
    # so both tiers give the same frames.
    long_default = explain_video_tokens(3600, 1920, 1080, fps=2)
    long_max = explain_video_tokens(3600, 1920, 1080, fps=2, media_resolution="max")
    assert long_max == long_default


def test_zero_duration_costs_the_minimum() -> None:
    e = explain_video_tokens(0, 640, 360)
    assert e.frames == 2
    # One spectrogram frame, halved twice, one group of four, plus two markers.
    assert e.audio == estimate_audio_tokens(0) == 3
    assert e.total == e.vision + 3 + 4 + 3


@pytest.mark.parametrize("duration", [1, 7.3, 60, 599.99, 3600])
def test_audio_is_about_6_25_tokens_per_second(duration: float) -> None:
    assert abs(estimate_audio_tokens(duration) - 6.25 * duration) <= 3


def test_audio_tokens_never_decrease_with_duration() -> None:
    counts = [estimate_audio_tokens(ms / 1000) for ms in range(0, 5000, 7)]
    assert counts == sorted(counts)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"duration": -1}, "duration"),
        ({"duration": math.nan}, "duration"),
        ({"duration": math.inf}, "duration"),
        ({"width": 0}, "width and height"),
        ({"height": -5}, "width and height"),
        ({"fps": 0.05}, "[0.1, 10.0]"),
        ({"fps": 10.5}, "[0.1, 10.0]"),
        ({"fps": math.nan}, "fps"),
        ({"media_resolution": "high"}, "default, max"),
    ],
)
def test_invalid_arguments_raise_validation_error(kwargs: dict[str, object], needle: str) -> None:
    args: dict[str, object] = {"duration": 10, "width": 640, "height": 360, **kwargs}
    with pytest.raises(VideoValidationError) as info:
        estimate_video_tokens(**args)  # type: ignore[arg-type]
    assert needle in str(info.value)
    with pytest.raises(VideoValidationError):
        frame_size(**args)  # type: ignore[arg-type]


def test_fps_bounds_are_inclusive() -> None:
    assert sampled_frame_count(10, 0.1) == 2
    assert sampled_frame_count(10, 10) == 100


@settings(max_examples=400, deadline=None)
@given(
    width=st.integers(1, 8000),
    height=st.integers(1, 8000),
    duration=st.floats(0, 4000, allow_nan=False),
    fps=st.floats(0.1, 10),
    tier=st.sampled_from(["default", "max"]),
)
def test_video_at_frame_size_costs_the_same(
    width: int, height: int, duration: float, fps: float, tier: str
) -> None:
    # Aspect ratios beyond ~1:128 shrink one side to zero; no real video looks like that.
    assume(max(width, height) <= 100 * min(width, height))
    fw, fh = frame_size(duration, width, height, fps, tier)
    assert fw > 0
    assert fh > 0
    assert fw % 32 == 0
    assert fh % 32 == 0
    assert frame_size(duration, fw, fh, fps, tier) == (fw, fh)
    original = explain_video_tokens(duration, width, height, fps, tier)
    fitted = explain_video_tokens(duration, fw, fh, fps, tier)
    assert fitted == original


def test_prices_table() -> None:
    assert DEFAULT_PRICES["mimo-v2.5"] == ModelPrice(1.0, 0.02, 2.0)
    assert DEFAULT_PRICES["mimo-v2-omni"] == ModelPrice(2.8, 0.56, 14.0)
    assert DEFAULT_PRICES["mimo-v2.5"].currency == "CNY"


def test_prices_live_in_data_with_their_source() -> None:
    from langchain_mimo_video.data._prices import PRICES

    assert set(PRICES) == set(DEFAULT_PRICES)
    for model, price in PRICES.items():
        assert DEFAULT_PRICES[model] == ModelPrice(
            price.input, price.cached_input, price.output, price.currency
        )
        # None of the figures is first-hand yet; each says so.
        assert price.source.startswith("second-hand: ")
    with pytest.raises(TypeError):
        DEFAULT_PRICES["mimo-v2.5"] = ModelPrice(0, 0, 0)  # type: ignore[index]


def test_estimate_cost_arithmetic() -> None:
    assert estimate_cost("mimo-v2.5", 1_000_000) == pytest.approx(1.0)
    assert estimate_cost("mimo-v2.5", 0, output_tokens=1_000_000) == pytest.approx(2.0)
    assert estimate_cost("mimo-v2.5", 1_000_000, cached_input_tokens=1_000_000) == (
        pytest.approx(0.02)
    )
    # 1260 prompt tokens (1256 cached) and 849 output tokens, like the vendor's example.
    expected = (4 * 1.0 + 1256 * 0.02 + 849 * 2.0) / 1e6
    assert estimate_cost("mimo-v2.5", 1260, 849, 1256) == pytest.approx(expected)
    assert estimate_cost("mimo-v2-omni", 500_000, 100_000) == pytest.approx(1.4 + 1.4)


def test_estimate_cost_prices_override_and_extend() -> None:
    custom = {"mimo-v2.5": ModelPrice(10, 1, 20), "my-model": ModelPrice(3, 0, 0, "USD")}
    assert estimate_cost("mimo-v2.5", 1_000_000, prices=custom) == pytest.approx(10)
    assert estimate_cost("my-model", 2_000_000, prices=custom) == pytest.approx(6)
    # The default table still answers for models the override does not mention.
    assert estimate_cost("mimo-v2-omni", 1_000_000, prices=custom) == pytest.approx(2.8)


def test_estimate_cost_unknown_model() -> None:
    with pytest.raises(KeyError) as info:
        estimate_cost("gpt-5", 10)
    message = str(info.value)
    for needle in ("mimo-v2.5", "mimo-v2-omni", "prices="):
        assert needle in message


@pytest.mark.parametrize(
    ("input_tokens", "output_tokens", "cached"),
    [(-1, 0, 0), (10, -1, 0), (10, 0, -1), (10, 0, 11)],
)
def test_estimate_cost_rejects_bad_counts(
    input_tokens: int, output_tokens: int, cached: int
) -> None:
    with pytest.raises(ValueError, match=r"must be >= 0|cannot exceed"):
        estimate_cost("mimo-v2.5", input_tokens, output_tokens, cached)
