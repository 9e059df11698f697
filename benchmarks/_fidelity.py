"""Picture fidelity for the benchmarks: SSIM and PSNR on luma, and frames at given times.

``ssim`` is the index of Wang, Bovik, Sheikh and Simoncelli (IEEE TIP, 2004) as their
reference implementation computes it: an 11x11 Gaussian window (sigma 1.5), constants
``K1 = 0.01`` and ``K2 = 0.03`` on 8-bit pixels (``L = 255``), statistics over the windows
that lie wholly inside the image, and the mean of the SSIM map. ``self_check`` compares it
with a direct window-by-window computation and with values known in closed form; the
benchmark runs it before measuring anything.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

__all__ = ["compare", "frames_at", "gaussian_window", "psnr", "self_check", "ssim"]

_K1 = 0.01
_K2 = 0.03
_PEAK = 255.0
_C1 = (_K1 * _PEAK) ** 2
_C2 = (_K2 * _PEAK) ** 2
_SIZE = 11
_SIGMA = 1.5


def _np() -> Any:
    import numpy

    return numpy


def gaussian_window(size: int = _SIZE, sigma: float = _SIGMA) -> Any:
    """The 1-D Gaussian taps (summing to 1) whose outer product is the SSIM window."""
    np = _np()
    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2
    taps = np.exp(-(offsets**2) / (2 * sigma**2))
    return taps / taps.sum()


def _filter_valid(image: Any, taps: Any) -> Any:
    """Separable correlation with ``taps`` on both axes, keeping only whole windows."""
    size = len(taps)
    rows, cols = image.shape[0] - size + 1, image.shape[1] - size + 1
    across = taps[0] * image[:, :cols]
    for k in range(1, size):
        across += taps[k] * image[:, k : k + cols]
    out = taps[0] * across[:rows]
    for k in range(1, size):
        out += taps[k] * across[k : k + rows]
    return out


def _ssim_map(a: Any, b: Any) -> Any:
    np = _np()
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"ssim compares two 2-D images of one size, got {a.shape}, {b.shape}")
    if min(a.shape) < _SIZE:
        raise ValueError(f"images must be at least {_SIZE}x{_SIZE}, got {a.shape}")
    # float32 on pixels centred on 0 is 4x quicker than float64 and, centred, within
    # 1e-8 of it (self_check holds it to 1e-6 against a direct float64 computation).
    centre = np.float32(128)
    x, y = a.astype(np.float32) - centre, b.astype(np.float32) - centre
    taps = gaussian_window().astype(np.float32)
    mu_x, mu_y = _filter_valid(x, taps), _filter_valid(y, taps)
    var_x = _filter_valid(x * x, taps) - mu_x * mu_x
    var_y = _filter_valid(y * y, taps) - mu_y * mu_y
    cov = _filter_valid(x * y, taps) - mu_x * mu_y
    mu_x += centre
    mu_y += centre
    numerator = (2 * mu_x * mu_y + _C1) * (2 * cov + _C2)
    denominator = (mu_x * mu_x + mu_y * mu_y + _C1) * (var_x + var_y + _C2)
    return (numerator / denominator).astype(np.float64)


def ssim(a: Any, b: Any) -> float:
    """Mean SSIM of two 8-bit grey images (2-D arrays of one shape); 1.0 when identical."""
    return float(_ssim_map(a, b).mean())


def psnr(a: Any, b: Any) -> float:
    """Peak signal-to-noise ratio of two 8-bit images, in dB; ``inf`` when identical."""
    np = _np()
    if a.shape != b.shape:
        raise ValueError(f"psnr compares two images of one size, got {a.shape}, {b.shape}")
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(_PEAK**2 / mse)


def _ssim_at(x: Any, y: Any, row: int, col: int) -> float:
    """SSIM of the one window whose top-left corner is (row, col), computed directly."""
    np = _np()
    taps = gaussian_window()
    weights = np.outer(taps, taps)
    wx = x[row : row + _SIZE, col : col + _SIZE].astype(np.float64)
    wy = y[row : row + _SIZE, col : col + _SIZE].astype(np.float64)
    mu_x, mu_y = (weights * wx).sum(), (weights * wy).sum()
    var_x = (weights * (wx - mu_x) ** 2).sum()
    var_y = (weights * (wy - mu_y) ** 2).sum()
    cov = (weights * (wx - mu_x) * (wy - mu_y)).sum()
    return float(
        (2 * mu_x * mu_y + _C1)
        * (2 * cov + _C2)
        / ((mu_x**2 + mu_y**2 + _C1) * (var_x + var_y + _C2))
    )


def self_check() -> None:
    """Check ``ssim`` and ``psnr`` against direct and closed-form values; raise if off.

    Raises:
        AssertionError: If a figure differs from its reference.
    """
    np = _np()
    rng = np.random.default_rng(9)
    image = rng.integers(0, 256, size=(64, 80), dtype=np.uint8)
    noisy = np.clip(image + rng.normal(0, 20, size=image.shape), 0, 255).astype(np.uint8)

    assert ssim(image, image) == 1.0, "identical images must give SSIM 1.0"
    assert psnr(image, image) == math.inf, "identical images must give PSNR inf"
    # The fast map against the textbook formula, window by window, at random corners.
    fast = _ssim_map(image, noisy)
    for row, col in rng.integers(0, 54, size=(20, 2)):
        direct = _ssim_at(image, noisy, int(row), int(col))
        assert abs(fast[row, col] - direct) < 1e-6, (row, col, fast[row, col], direct)
    # The same mean by a different route: every window computed directly.
    windows = [
        _ssim_at(image, noisy, r, c)
        for r in range(image.shape[0] - _SIZE + 1)
        for c in range(image.shape[1] - _SIZE + 1)
    ]
    assert abs(ssim(image, noisy) - sum(windows) / len(windows)) < 1e-6
    # Independent noise of variance s2 on an image of variance v leaves the means and
    # lowers the structure term to about (2 v + C2) / (2 v + s2 + C2).
    mid = rng.integers(40, 200, size=(64, 80), dtype=np.uint8)
    for sigma in (5.0, 20.0):
        noise = rng.normal(0, sigma, size=mid.shape)
        noisy_mid = np.clip(np.round(mid + noise), 0, 255).astype(np.uint8)
        v = float(mid.astype(np.float64).var())
        expected = (2 * v + _C2) / (2 * v + sigma**2 + _C2)
        assert abs(ssim(mid, noisy_mid) - expected) < 0.01, (sigma, ssim(mid, noisy_mid), expected)
    # A uniform offset d (no clipping): PSNR is 20 log10(255 / d) exactly; contrast and
    # structure are untouched, so SSIM is the luminance term alone (below 1, above 0.99).
    shifted = mid + np.uint8(5)
    assert abs(psnr(mid, shifted) - 20 * math.log10(255 / 5)) < 1e-9
    assert 0.99 < ssim(mid, shifted) < 1.0
    # Flat images: the constants keep SSIM defined; equal means give 1.
    flat = np.full((32, 32), 128, dtype=np.uint8)
    assert ssim(flat, flat) == 1.0
    expected = (2 * 128 * 138 + _C1) / (128**2 + 138**2 + _C1)
    assert abs(ssim(flat, flat + np.uint8(10)) - expected) < 1e-6


def _luma(frame: Any, width: int, height: int, interpolation: str) -> Any:
    if (frame.width, frame.height, frame.format.name) != (width, height, "yuv420p"):
        frame = frame.reformat(
            width=width, height=height, format="yuv420p", interpolation=interpolation
        )
    return frame.to_ndarray()[:height].copy()


def frames_at(
    path: Path,
    times: Sequence[float],
    width: int,
    height: int,
    *,
    interpolations: Iterable[str] = ("AREA",),
) -> dict[str, list[Any]]:
    """Luma planes of the frames a player shows at ``times`` (seconds from the first frame).

    The frame shown at ``t`` is the last one whose timestamp is at or before ``t``. Frames
    of another size are scaled to ``width`` x ``height`` with each of ``interpolations``
    (PyAV/swscale names); a frame already that size is taken as it is.

    Returns:
        For each interpolation, one ``height`` x ``width`` uint8 array per time.
    """
    import av

    kinds = list(interpolations)
    wanted = sorted(range(len(times)), key=lambda i: times[i])
    found: dict[str, list[Any]] = {kind: [None] * len(times) for kind in kinds}
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        first: Fraction | None = None
        previous: Any = None
        position = 0

        def take(frame: Any) -> None:
            for kind in kinds:
                found[kind][wanted[position]] = _luma(frame, width, height, kind)

        for frame in container.decode(stream):
            if frame.pts is None or frame.time_base is None:
                continue
            at = Fraction(frame.pts) * frame.time_base
            first = at if first is None else first
            while position < len(wanted) and previous is not None:
                if at - first <= Fraction(times[wanted[position]]).limit_denominator(10**6):
                    break
                take(previous)
                position += 1
            if position == len(wanted):
                break
            previous = frame
        while position < len(wanted) and previous is not None:
            take(previous)
            position += 1
    missing = [times[i] for i in range(len(times)) if found[kinds[0]][i] is None]
    if missing:
        raise ValueError(f"{path.name} has no frame at {missing[:3]}")
    return found


def compare(
    reference: Sequence[Any], test: Sequence[Any], metric: Callable[[Any, Any], float]
) -> list[float]:
    """``metric`` of each pair of frames."""
    return [metric(a, b) for a, b in zip(reference, test, strict=True)]
