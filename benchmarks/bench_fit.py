"""fit_video on a 1080p minute: what MiMo sees, payload shrink, and speed next to ffmpeg.

The source is a generated 1920x1080, 60 s, ~80 MB H.264 MP4 with AAC stereo sound
(moving texture with fine detail, so it does not compress to nothing; generated once into
``benchmarks/.work/fit`` and reused, its generation is not timed).

Measured, as the median of ``--runs`` interleaved runs:

* ``media.fit_video(path, fps=2, force=True)``: its wall time (and CPU time), as a ratio
  to ffmpeg's in the same run (run by run, then the median), the payload ratio (original
  bytes / fitted bytes), the data-URL sizes against the 50,000,000-byte limit, the token
  estimate before and after, and whether every run wrote the same bytes;
* the user path ``VideoLoader(fit=True).load(path)``;
* baseline: the same re-encode by the ffmpeg command line from the ``imageio-ffmpeg``
  wheel: the fitted file's frame size and frame rate, H.264 yuv420p at the same CRF,
  preset and encoder threads, mono 24 kHz AAC at the same bit rate, ``+faststart``.

Fidelity: at the instants MiMo samples at fps=2 (``k / 2`` s, as many as
``tokens.sampled_frame_count``), the frame each output shows is compared on luma, at MiMo's
frame size (``tokens.frame_size``), with the original's frame scaled to that size (area
and bicubic): SSIM (Wang et al., 11x11 Gaussian window, ``benchmarks/_fidelity.py``,
checked against a direct computation before each run) and PSNR.

The frame types (I, P, B) of both outputs are counted. ``--experiments`` adds timings of
the pieces (decoding alone, scaling, PyAV's and ffmpeg's); they also run when the time
target is missed. ``--crf`` / ``--preset`` run one sweep point with other settings.

Run from the repository root: ``python -m benchmarks.bench_fit [--quick]``.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from benchmarks._common import (
    check_repo_root,
    median,
    megabytes,
    print_header,
    require,
    table,
    verdict,
    work_dir,
)
from benchmarks._fidelity import compare, frames_at, psnr, self_check, ssim

LIMIT = 50_000_000


# -- the source video --------------------------------------------------------------------


def make_source(
    path: Path, *, width: int, height: int, seconds: int, rate: int, bit_rate: int
) -> Path:
    """Encode a moving, detailed test video with stereo sound at about ``bit_rate``."""
    import av
    import numpy as np

    rng = np.random.default_rng(80)
    pad_x, pad_y = 4 * seconds * rate // 3 + 64, seconds * rate + 64

    def texture(h: int, w: int, cell: int) -> Any:
        coarse = rng.integers(0, 256, size=(h // cell + 2, w // cell + 2), dtype=np.uint8)
        fine = coarse.repeat(cell, axis=0).repeat(cell, axis=1)[:h, :w].astype(np.int16)
        grain = rng.integers(-24, 25, size=(h, w), dtype=np.int16)
        return np.clip(fine // 2 + 64 + grain, 0, 255).astype(np.uint8)

    luma = texture(height + pad_y, width + pad_x, 6)
    cb = texture(height // 2 + pad_y, width // 2 + pad_x, 12)
    cr = texture(height // 2 + pad_y, width // 2 + pad_x, 12)
    sample_rate = 48000
    t = np.arange(seconds * sample_rate, dtype=np.float32) / sample_rate
    tone = 0.2 * np.sin(2 * np.pi * (220 + 40 * np.sin(t)) * t)
    noise = 0.02 * rng.standard_normal(t.shape).astype(np.float32)
    sound = np.stack([tone + noise, tone - noise]).astype(np.float32)

    options = {"movflags": "+faststart"}
    with av.open(str(path), mode="w", format="mp4", options=options) as out:
        video = out.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.bit_rate = bit_rate
        video.options = {"preset": "ultrafast"}
        audio = out.add_stream("aac", rate=sample_rate)
        audio.layout = "stereo"
        audio.bit_rate = 128000
        planes = np.empty((height * 3 // 2, width), dtype=np.uint8)
        quarter = (height // 2) * (width // 2)
        audio_pts = 0
        for index in range(seconds * rate):
            x, y = 4 * index // 3, index
            planes[:height] = luma[y : y + height, x : x + width]
            chroma = planes[height:].reshape(-1)
            chroma[:quarter] = cb[
                y // 2 : y // 2 + height // 2, x // 2 : x // 2 + width // 2
            ].ravel()
            chroma[quarter:] = cr[
                y // 2 : y // 2 + height // 2, x // 2 : x // 2 + width // 2
            ].ravel()
            box = (index * 9) % (width - 200)
            planes[height // 3 : height // 3 + 160, box : box + 200] = 235
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            frame.pts, frame.time_base = index, Fraction(1, rate)
            for packet in video.encode(frame):
                out.mux(packet)
            while audio_pts < (index + 1) * sample_rate // rate:
                chunk = np.ascontiguousarray(sound[:, audio_pts : audio_pts + 1024])
                if chunk.shape[1] < 1024:
                    chunk = np.pad(chunk, ((0, 0), (0, 1024 - chunk.shape[1])))
                samples = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                samples.sample_rate, samples.pts = sample_rate, audio_pts
                samples.time_base = Fraction(1, sample_rate)
                audio_pts += 1024
                for packet in audio.encode(samples):
                    out.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                out.mux(packet)
    return path


def source_video(quick: bool) -> Path:
    if quick:
        spec = {"width": 640, "height": 360, "seconds": 10, "rate": 30, "bit_rate": 1_500_000}
    else:
        spec = {"width": 1920, "height": 1080, "seconds": 60, "rate": 30, "bit_rate": 10_500_000}
    name = "src-{width}x{height}-{seconds}s-{bit_rate}.mp4".format(**spec)
    path = work_dir("fit") / name
    if not path.exists():
        print(f"generating {name} (not timed) ...", flush=True)
        started = time.perf_counter()
        make_source(path.with_suffix(".part.mp4"), **spec)
        path.with_suffix(".part.mp4").rename(path)
        print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
    return path


# -- timing ------------------------------------------------------------------------------


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return float(usage.ru_utime + usage.ru_stime)


def timed(action: Callable[[], Any], who: int = resource.RUSAGE_SELF) -> tuple[float, float, Any]:
    """Run ``action``; return (wall seconds, CPU seconds of ``who``, its result)."""
    cpu = _cpu(who)
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, _cpu(who) - cpu, result


@dataclass(frozen=True)
class EncoderSettings:
    """The encoder settings fit_video uses (read from ``media._encoder``)."""

    crf: int
    preset: str
    threads: int
    audio_rate: int
    audio_bit_rate: int

    @classmethod
    def current(cls) -> EncoderSettings:
        from langchain_mimo_video.media import _encoder

        return cls(
            crf=_encoder.DEFAULT_CRF,
            preset=_encoder.X264_PRESET,
            threads=_encoder.ENCODER_THREADS,
            audio_rate=_encoder.AUDIO_RATE,
            audio_bit_rate=_encoder.AUDIO_BIT_RATE,
        )

    def describe(self) -> str:
        return (
            f"CRF {self.crf}, preset {self.preset}, {self.threads} encoder threads, "
            f"AAC mono {self.audio_rate // 1000} kHz {self.audio_bit_rate // 1000} kbit/s"
        )


def ffmpeg_command(
    ffmpeg: str,
    source: Path,
    output: Path,
    *,
    width: int,
    height: int,
    rate: float | Fraction,
    settings: EncoderSettings,
) -> list[str]:
    """The reference re-encode: what fit_video does, as an ffmpeg command line."""
    command = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y"]
    command += ["-i", str(source), "-map", "0:v:0", "-map", "0:a:0?"]
    # Keep the frames on the output grid first, then scale only those (as fit_video does).
    # round=up keeps, for each output frame, the source frame on screen at its time (the
    # default, round=near, keeps the next one about half the time), so the frames at the
    # instants MiMo samples are the source's frames there, as in fit_video's output.
    command += [
        "-vf",
        f"fps={Fraction(rate).limit_denominator(1000)}:round=up,scale={width}:{height}:flags=area",
    ]
    command += ["-c:v", "libx264", "-preset", settings.preset, "-crf", str(settings.crf)]
    command += ["-threads:v", str(settings.threads), "-pix_fmt", "yuv420p"]
    command += ["-c:a", "aac", "-ac", "1", "-ar", str(settings.audio_rate)]
    command += ["-b:a", f"{settings.audio_bit_rate // 1000}k"]
    command += ["-movflags", "+faststart", str(output)]
    return command


# -- fidelity ----------------------------------------------------------------------------

#: Reference scalers for the original's frames: swscale's area average (fit_video's own,
#: so the gap is the encoder's alone) and bicubic (what image processors of Qwen-style
#: vision models resize with; the server's choice is not documented).
SCALERS = ("AREA", "BICUBIC")


def sample_times(duration: float, fps: float) -> list[float]:
    """The instants MiMo samples: ``k / fps`` for each of its ``sampled_frame_count`` frames.

    The vendor documents how many frames it takes, not when; one every ``1 / fps`` seconds
    from the start is the plain reading (times past the end show the last frame).
    """
    from langchain_mimo_video.tokens import sampled_frame_count

    count = sampled_frame_count(duration, fps)
    return [min(k / fps, duration) for k in range(count)]


def fidelity(
    source: Path, outputs: dict[str, Path], width: int, height: int, times: list[float]
) -> list[tuple[str, str, list[float], list[float]]]:
    """SSIM and PSNR (luma) of each output's frames at ``times`` against the source's.

    Returns:
        ``(output name, reference scaler, SSIM per frame, PSNR per frame)`` rows.
    """
    references = frames_at(source, times, width, height, interpolations=SCALERS)
    rows = []
    for name, path in outputs.items():
        seen = frames_at(path, times, width, height)["AREA"]
        for scaler in SCALERS:
            reference = references[scaler]
            rows.append(
                (name, scaler, compare(reference, seen, ssim), compare(reference, seen, psnr))
            )
    return rows


def fidelity_table(
    rows: list[tuple[str, str, list[float], list[float]]], times: list[float]
) -> str:
    lines = []
    for name, scaler, ssims, psnrs in rows:
        worst = min(range(len(ssims)), key=ssims.__getitem__)
        lines.append(
            (
                name,
                scaler.lower(),
                f"{sum(ssims) / len(ssims):.4f}",
                f"{ssims[worst]:.4f} (at {times[worst]:g} s)",
                f"{median(psnrs):.2f}",
                f"{sum(psnrs) / len(psnrs):.2f}",
                f"{min(psnrs):.2f}",
            )
        )
    headers = [
        "output",
        "original scaled by",
        "SSIM mean",
        "SSIM min",
        "PSNR median dB",
        "PSNR mean dB",
        "PSNR min dB",
    ]
    return table(headers, lines)


def run_ffmpeg(command: list[str]) -> tuple[float, float]:
    wall, cpu, _ = timed(
        lambda: subprocess.run(command, check=True, capture_output=True),
        resource.RUSAGE_CHILDREN,
    )
    return wall, cpu


def frame_types(path: Path) -> str:
    """Count the picture types (I, P, B) of a video's frames, e.g. ``"B:238 I:2 P:240"``."""
    import av

    counts: dict[str, int] = {}
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            kind = frame.pict_type
            name = av.video.frame.PictureType(int(kind)).name if kind is not None else "?"
            counts[name] = counts.get(name, 0) + 1
    return " ".join(f"{name}:{count}" for name, count in sorted(counts.items()))


# -- the pieces (--experiments) -----------------------------------------------------


def experiments(ffmpeg: str, source: Path, width: int, height: int, rate: Fraction) -> None:
    """Time the pieces of the re-encode separately, PyAV's and ffmpeg's (one run each)."""
    import av

    quiet = [ffmpeg, "-hide_banner", "-loglevel", "error"]

    def pyav_decode(scale_every: int = 0) -> None:
        with av.open(str(source)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # as fit_video
            for index, frame in enumerate(container.decode(stream)):
                if scale_every and index % scale_every == 0:
                    frame.reformat(
                        width=width, height=height, format="yuv420p", interpolation="AREA"
                    )

    def ffmpeg_null(*options: str) -> None:
        subprocess.run(
            [*quiet, "-i", str(source), "-map", "0:v:0", *options, "-f", "null", "-"], check=True
        )

    with av.open(str(source)) as container:
        source_rate = float(container.streams.video[0].average_rate or 30)
    every = max(1, round(source_rate / float(rate)))
    scale = f"fps={rate},scale={width}:{height}:flags=area"
    steps: list[tuple[str, Callable[[], Any], int]] = [
        ("PyAV: decode the video", pyav_decode, resource.RUSAGE_SELF),
        (
            f"PyAV: decode + reformat every {every}th frame (AREA)",
            lambda: pyav_decode(every),
            resource.RUSAGE_SELF,
        ),
        ("ffmpeg: decode the video (-f null)", lambda: ffmpeg_null(), resource.RUSAGE_CHILDREN),
        (
            "ffmpeg: decode + fps + scale (-f null)",
            lambda: ffmpeg_null("-vf", scale),
            resource.RUSAGE_CHILDREN,
        ),
    ]
    rows = []
    for label, action, who in steps:
        wall, cpu, _ = timed(action, who)
        rows.append((label, f"{wall:.2f}", f"{cpu:.2f}", f"{cpu / wall:.2f}"))
    print("the pieces, one run each:")
    print(table(["step", "wall s", "CPU s", "cores used"], rows))
    print()


# -- main --------------------------------------------------------------------------------


def sweep(crf: int | None, preset: str | None) -> None:
    """Make fit_video (and so the ffmpeg reference) use other settings, for this run only."""
    from langchain_mimo_video.media import _encoder, transcode

    if crf is not None:
        _encoder.DEFAULT_CRF = transcode.DEFAULT_CRF = crf  # type: ignore[misc,attr-defined]
    if preset:
        _encoder.X264_PRESET = preset  # type: ignore[misc]
    print(f"sweep point, not the defaults: {EncoderSettings.current().describe()}")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs of each encoder")
    parser.add_argument("--quick", action="store_true", help="a 640x360, 10 s source: smoke run")
    parser.add_argument("--experiments", action="store_true", help="time the pieces too")
    parser.add_argument("--crf", type=int, help="encode at this CRF instead (a sweep point)")
    parser.add_argument("--preset", help="encode with this x264 preset instead (a sweep point)")
    args = parser.parse_args(argv)
    check_repo_root()
    imageio_ffmpeg = require("imageio_ffmpeg", "imageio-ffmpeg", why="the ffmpeg reference")
    if args.quick:
        args.runs = 1
    self_check()  # SSIM and PSNR against direct and closed-form values, before any figure

    from langchain_mimo_video import VideoLoader, media
    from langchain_mimo_video.media import _encoder
    from langchain_mimo_video.tokens import frame_size

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    ffmpeg_version = subprocess.run(
        [ffmpeg, "-version"], capture_output=True, text=True, check=True
    ).stdout.split("\n")[0]
    print_header(
        "bench_fit: media.fit_video(path, fps=2) vs the same re-encode by the ffmpeg CLI",
        f"{args.runs} interleaved runs each; reference: {ffmpeg_version.split(' Copyright')[0]}",
    )
    source = source_video(args.quick)
    info = media.probe(source)
    print(
        f"source: {source.name}, {megabytes(source.stat().st_size)}, {info.width}x{info.height}, "
        f"{info.duration:.1f} s at {info.frame_rate:g} fps, {info.video_codec}/{info.audio_codec}"
    )
    if args.crf is not None or args.preset:
        sweep(args.crf, args.preset)
    settings = EncoderSettings.current()
    folder = work_dir("fit")
    ours_out, ffmpeg_out = folder / "fitted-ours.mp4", folder / "fitted-ffmpeg.mp4"

    width, height = frame_size(info.duration, info.width, info.height, 2, "default")
    # The frame rate fit_video writes: four times fps, at least 8, at most the source's.
    rate = _encoder.output_rate(Fraction(info.frame_rate) if info.frame_rate else None, 2)
    command = ffmpeg_command(
        ffmpeg, source, ffmpeg_out, width=width, height=height, rate=rate, settings=settings
    )
    fitted: dict[str, Any] = {}
    hashes: dict[str, set[str]] = {"fit_video": set(), "VideoLoader(fit=True).load": set()}

    def fit() -> int:
        fitted["result"] = media.fit_video(source, fps=2, force=True, output=ours_out)
        hashes["fit_video"].add(_sha(ours_out))
        return int(fitted["result"].fitted_bytes)

    def load() -> int:
        url = VideoLoader(fit=True).load(source)["video_url"]["url"]
        hashes["VideoLoader(fit=True).load"].add(hashlib.sha256(url.encode()).hexdigest())
        return (len(url) - url.index(",") - 1) * 3 // 4  # the bytes it encodes

    def reference() -> int:
        subprocess.run(command, check=True, capture_output=True)
        return ffmpeg_out.stat().st_size

    baseline = "ffmpeg CLI (baseline)"
    variants: list[tuple[str, Callable[[], int], int]] = [
        ("fit_video", fit, resource.RUSAGE_SELF),
        ("VideoLoader(fit=True).load", load, resource.RUSAGE_SELF),
        (baseline, reference, resource.RUSAGE_CHILDREN),
    ]
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in variants}
    sizes: dict[str, int] = {}
    for run in range(args.runs):
        shift = run % len(variants)
        line = []
        for name, action, who in variants[shift:] + variants[:shift]:
            wall, cpu, sizes[name] = timed(action, who)
            times[name].append((wall, cpu))
            line.append(f"{name.split(' (')[0]} {wall:.2f} s")
        print(f"run {run + 1}/{args.runs}: " + ", ".join(line), flush=True)
    result = fitted["result"]
    ffmpeg_info = media.probe(ffmpeg_out)
    print(f"ffmpeg command: {' '.join(['ffmpeg', *command[1:]])}".replace(str(folder) + "/", ""))
    print(
        f"settings: frame size {width}x{height} (tokens.frame_size; fit_video wrote "
        f"{result.fitted_info.width}x{result.fitted_info.height}, ffmpeg "
        f"{ffmpeg_info.width}x{ffmpeg_info.height}), {rate} fps (fit_video wrote "
        f"{result.fitted_info.frame_rate:g}), {settings.describe()}"
    )
    print()

    ref_cpu = median(c for _, c in times[baseline])
    rows = []
    for name, _, _ in variants:
        wall, cpu = median(w for w, _ in times[name]), median(c for _, c in times[name])
        pairs = [w / r for (w, _), (r, _) in zip(times[name], times[baseline], strict=True)]
        size = sizes[name]
        rows.append(
            (
                name,
                f"{wall:.2f}",
                f"{median(pairs):.2f}x ({min(pairs):.2f}-{max(pairs):.2f})",
                f"{cpu:.2f} ({cpu / ref_cpu:.2f}x)",
                f"{cpu / wall:.2f}",
                f"{wall / info.duration:.3f}",
                megabytes(size),
                f"{result.original_bytes / size:.1f}x",
                f"{media.data_url_size(size):,}",
            )
        )
    print("medians; ratios to the ffmpeg CLI run by run (median, range), in the same runs:")
    print(
        table(
            [
                "encoder",
                "wall s",
                "wall / ffmpeg's",
                "CPU s",
                "cores used",
                "wall / video duration",
                "output",
                "payload ratio",
                "data URL (limit 50,000,000)",
            ],
            rows,
        )
    )
    original_url = media.data_url_size(result.original_bytes)
    print(f"original data URL: {original_url:,} ({original_url / LIMIT:.2f}x the limit)")
    print(
        f"token estimate: before {result.tokens_before}, after {result.tokens_after} "
        f"(ffmpeg's output: {ffmpeg_info.width}x{ffmpeg_info.height}, {ffmpeg_info.duration:.3f} s)"
    )
    print(f"frame types: fit_video {frame_types(ours_out)}; ffmpeg {frame_types(ffmpeg_out)}")
    if sizes["VideoLoader(fit=True).load"] >= result.original_bytes:
        print("VideoLoader(fit=True) sent this source as it is (it fits the limit)")
    for name, seen in hashes.items():
        print(f"{name}: {len(seen)} distinct output(s) in {args.runs} runs")
    print()

    instants = sample_times(result.fitted_info.duration, 2)
    fidelity_rows = fidelity(
        source, {"fit_video": ours_out, "ffmpeg CLI": ffmpeg_out}, width, height, instants
    )
    print(
        f"fidelity at the {len(instants)} instants MiMo samples at fps=2 (k / 2 s), luma at "
        f"{width}x{height}; each output's frame on screen then vs the original's:"
    )
    print(fidelity_table(fidelity_rows, instants))
    print()

    pairs = [w / r for (w, _), (r, _) in zip(times["fit_video"], times[baseline], strict=True)]
    time_ratio = median(pairs)
    ratio = result.original_bytes / result.fitted_bytes
    ours = [(scaler, ssims) for name, scaler, ssims, _ in fidelity_rows if name == "fit_video"]
    mean_ssim = min(sum(ssims) / len(ssims) for _, ssims in ours)
    min_ssim = min(min(ssims) for _, ssims in ours)
    print(
        f"target: SSIM mean >= 0.95 and min >= 0.90 (worst of both scalers): mean "
        f"{mean_ssim:.4f}, min {min_ssim:.4f} -> {verdict(mean_ssim >= 0.95 and min_ssim >= 0.90)}"
    )
    print(f"target: payload >= 20x smaller: {ratio:.1f}x -> {verdict(ratio >= 20)}")
    print(
        f"target: token estimate unchanged: {result.tokens_before} == {result.tokens_after} -> "
        f"{verdict(result.tokens_before == result.tokens_after)}"
    )
    print(
        f"target: time within 1.2x of ffmpeg's (median of the per-run ratios): "
        f"{time_ratio:.2f}x -> {verdict(time_ratio <= 1.2)}"
    )
    print(
        f"target: the same bytes in every run: {len(hashes['fit_video'])} distinct -> "
        f"{verdict(len(hashes['fit_video']) == 1)}"
    )
    print()
    if args.experiments or time_ratio > 1.2:
        experiments(ffmpeg, source, width, height, rate)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
