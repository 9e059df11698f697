"""Tiny test videos made by code with PyAV, so no media file is committed.

Each video shows a moving gradient whose colour changes over time (so frames differ and
encoders cannot collapse them) and, optionally, a sine tone on an audio track. With
``colors=["red", "blue"]`` it shows those named solid colours one after another in equal
time slices instead (each frame carries a faint moving ripple, so frames still differ).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

# container -> (format name, video codec, audio codec, file suffix)
CONTAINERS: dict[str, tuple[str, str, str, str]] = {
    "mp4": ("mp4", "libx264", "aac", ".mp4"),
    "mov": ("mov", "libx264", "aac", ".mov"),
    "avi": ("avi", "mpeg4", "mp3", ".avi"),
    "wmv": ("asf", "wmv2", "wmav2", ".wmv"),
    "mkv": ("matroska", "libx264", "aac", ".mkv"),
    "webm": ("webm", "libvpx", "libopus", ".webm"),
}


# sample format (without the planar "p") -> (scale from [-1, 1], numpy dtype)
_SAMPLE_FORMATS: dict[str, tuple[float, type]] = {
    "s16": (32767.0, np.int16),
    "s32": (2147483647.0, np.int32),
    "flt": (1.0, np.float32),
}


# Named solid colours for ``colors=`` (RGB, kept a little off the extremes so the
# ripple below never clips).
SOLID_COLORS: dict[str, tuple[int, int, int]] = {
    "red": (220, 20, 20),
    "green": (20, 200, 20),
    "blue": (20, 20, 220),
    "yellow": (230, 230, 20),
    "cyan": (20, 220, 220),
    "magenta": (220, 20, 220),
    "orange": (240, 140, 20),
    "purple": (120, 20, 160),
    "white": (240, 240, 240),
    "black": (12, 12, 12),
    "gray": (128, 128, 128),
}


def _solid_pixels(color: str, index: int, width: int, height: int) -> np.ndarray:
    """A solid colour with a faint ripple (+-4 levels) that moves with ``index``."""
    x = np.arange(width)[None, :]
    y = np.arange(height)[:, None]
    ripple = ((x + y + index) % 8 - 4).astype(np.int16)
    base = np.array(SOLID_COLORS[color], dtype=np.int16)
    rgb = base[None, None, :] + ripple[:, :, None]
    return np.clip(rgb, 0, 255).astype(np.uint8)


def _frame_pixels(index: int, width: int, height: int) -> np.ndarray:
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    shift = (index * 17) % 256
    red = (x + shift) % 256
    green = (y + 2 * shift) % 256
    blue = ((x + y) / 2 + 3 * shift) % 256
    rgb = np.stack(np.broadcast_arrays(red, green, blue), axis=-1)
    return rgb.astype(np.uint8)


def write_video(
    target: str | Path | io.BytesIO,
    *,
    width: int = 64,
    height: int = 48,
    duration: float = 1.0,
    fps: int = 10,
    container: str = "mp4",
    audio: bool = False,
    sample_rate: int = 16000,
    colors: Sequence[str] | None = None,
) -> None:
    """Encode a small synthetic video into ``target`` (a path or a BytesIO).

    MP4 and MOV written to a path are "faststart" (index first); to a BytesIO they are not,
    since moving the index needs a file the muxer can reopen.

    ``colors`` (names from :data:`SOLID_COLORS`) replaces the gradient with those solid
    colours, shown one after another in equal time slices.
    """
    if colors is not None:
        unknown = [name for name in colors if name not in SOLID_COLORS]
        if not colors or unknown:
            raise ValueError(f"colors must be names from {sorted(SOLID_COLORS)}, got {colors!r}")
    fmt, vcodec, acodec, _ = CONTAINERS[container]
    faststart = fmt in ("mp4", "mov") and not isinstance(target, io.BytesIO)
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(target, mode="w", format=fmt, options=options) as out:
        vstream = out.add_stream(vcodec, rate=fps)
        vstream.width = width
        vstream.height = height
        vstream.pix_fmt = "yuv420p"
        if vcodec == "libx264":
            vstream.options = {"preset": "ultrafast", "crf": "35"}
        astream = None
        if audio:
            rate = 48000 if acodec == "libopus" else sample_rate
            astream = out.add_stream(acodec, rate=rate)
            astream.layout = "mono"
            astream.bit_rate = 64000
            sample_rate = rate
        nframes = max(1, round(duration * fps))
        for i in range(nframes):
            if colors:
                color = colors[min(i * len(colors) // nframes, len(colors) - 1)]
                pixels = _solid_pixels(color, i, width, height)
            else:
                pixels = _frame_pixels(i, width, height)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in vstream.encode(frame):
                out.mux(packet)
        for packet in vstream.encode():
            out.mux(packet)
        if astream is not None:
            frame_size = astream.codec_context.frame_size or 1024
            total = int(duration * sample_rate)
            t = np.arange(total, dtype=np.float32) / sample_rate
            tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            fmt_name = astream.codec_context.format.name
            scale, dtype = _SAMPLE_FORMATS[fmt_name.rstrip("p")]
            pts = 0
            for start in range(0, total, frame_size):
                chunk = tone[start : start + frame_size]
                if chunk.size < frame_size:
                    chunk = np.pad(chunk, (0, frame_size - chunk.size))
                arr = (chunk * scale).astype(dtype)[None, :]
                aframe = av.AudioFrame.from_ndarray(arr, format=fmt_name, layout="mono")
                aframe.sample_rate = sample_rate
                aframe.pts = pts
                aframe.time_base = Fraction(1, sample_rate)
                pts += frame_size
                for packet in astream.encode(aframe):
                    out.mux(packet)
            for packet in astream.encode():
                out.mux(packet)


def make_video(path: str | Path, **kwargs: object) -> Path:
    """Write a synthetic video to ``path`` and return the path; see :func:`write_video`."""
    path = Path(path)
    write_video(path, **kwargs)  # type: ignore[arg-type]
    return path


def video_bytes(**kwargs: object) -> bytes:
    """Return a synthetic video's bytes; see :func:`write_video`."""
    buffer = io.BytesIO()
    write_video(buffer, **kwargs)  # type: ignore[arg-type]
    return buffer.getvalue()


def audio_only_mp4() -> bytes:
    """An MP4 holding one AAC frame (1024 samples at 16 kHz) and no video stream."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as out:
        stream = out.add_stream("aac", rate=16000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate, frame.pts = 16000, 0
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)
    return buffer.getvalue()
