"""Videos with several audio tracks: remux and re-encode send the same one, and say so.

MiMo takes one audio track per video. Conversion (a packet copy or a re-encode) and fit,
clip and split keep the first track marked default, else the first, and warn with the
tracks left out. Each track of the generated files is a sine of its own pitch, so the
test hears which one was kept.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from langchain_mimo_video import VideoLoader
from langchain_mimo_video._utils import decode_data_url
from langchain_mimo_video.media import clip_video, convert_video, fit_video

RATE = 16000


def multi_track(
    path: Path,
    tracks: Sequence[tuple[str, int, str]],
    *,
    default: int | None,
    container: str = "matroska",
) -> Path:
    """A 1 s 64x48 H.264 video with one audio track per (codec, pitch in Hz, language)."""
    with av.open(str(path), "w", format=container) as out:
        video: Any = out.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio: list[tuple[Any, int]] = []
        for number, (codec, pitch, language) in enumerate(tracks):
            stream: Any = out.add_stream(codec, rate=RATE if codec != "ac3" else 48000)
            stream.layout = "mono"
            stream.metadata["language"] = language
            flags = av.stream.Disposition.default if number == default else 0
            stream.disposition = av.stream.Disposition(flags)
            audio.append((stream, pitch))
        for index in range(10):
            pixels = np.full((48, 64, 3), index * 20, np.uint8)
            for packet in video.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        for stream, pitch in audio:
            rate = stream.rate
            tone = 0.5 * np.sin(2 * np.pi * pitch * np.arange(rate) / rate)
            samples = tone.astype(np.float32).reshape(1, -1)
            size = stream.codec_context.frame_size or 1024
            for offset in range(0, rate - size + 1, size):
                frame = av.AudioFrame.from_ndarray(
                    samples[:, offset : offset + size], format="fltp", layout="mono"
                )
                frame.sample_rate, frame.pts = rate, offset
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
    return path


def heard(path: Path) -> list[int]:
    """The dominant pitch (Hz, to the nearest 10) of each audio track of ``path``."""
    with av.open(str(path)) as container:
        count = len(container.streams.audio)
    pitches = []
    for position in range(count):
        with av.open(str(path)) as container:
            stream = container.streams.audio[position]
            rate = stream.codec_context.sample_rate
            chunks = [
                frame.to_ndarray().reshape(-1)[: frame.samples]
                for frame in container.decode(stream)
            ]
        samples = np.concatenate(chunks)
        spectrum = np.abs(np.fft.rfft(samples))
        pitch = float(np.argmax(spectrum[1:]) + 1) * rate / len(samples)
        pitches.append(round(pitch / 10) * 10)
    return pitches


THREE_AAC = [("aac", 440, "eng"), ("aac", 880, "fra"), ("aac", 1320, "deu")]


def _dropped_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "audio tracks" in str(w.message)]


def test_remux_keeps_only_the_default_track_and_names_the_others(tmp_path: Path) -> None:
    source = multi_track(tmp_path / "three.mkv", THREE_AAC, default=1)
    with pytest.warns(UserWarning, match="audio tracks") as caught:
        mp4 = convert_video(source, output=tmp_path / "out.mp4")
    assert heard(mp4) == [880]
    with av.open(str(mp4)) as container:  # a remux: the packets were copied
        assert container.streams.audio[0].codec_context.sample_rate == RATE
    [message] = _dropped_warnings(caught.list)
    assert "has 3 audio tracks" in message
    assert "only audio track 2 (aac, fra) is sent" in message
    assert "audio track 1 (aac, eng), audio track 3 (aac, deu) are left out" in message


def test_reencode_keeps_the_same_track_as_the_remux(tmp_path: Path) -> None:
    source = multi_track(tmp_path / "three.mkv", THREE_AAC, default=1)
    with pytest.warns(UserWarning, match="audio tracks"):
        remuxed = convert_video(source, output=tmp_path / "remuxed.mp4")
    with pytest.warns(UserWarning, match="audio track 2 \\(aac, fra\\) is sent"):
        fitted = fit_video(source, force=True, output=tmp_path / "fitted.mp4")
    with pytest.warns(UserWarning, match="audio track 2 \\(aac, fra\\) is sent"):
        clipped = clip_video(source, 0.0, 0.8, output=tmp_path / "clip.mp4")
    assert heard(remuxed) == heard(Path(str(fitted.path))) == heard(clipped) == [880]


def test_without_a_default_flag_the_first_track_is_sent(tmp_path: Path) -> None:
    source = multi_track(tmp_path / "two.mkv", THREE_AAC[:2], default=None)
    with pytest.warns(UserWarning, match="only audio track 1 \\(aac, eng\\) is sent"):
        remuxed = convert_video(source, output=tmp_path / "remuxed.mp4")
    with pytest.warns(UserWarning, match="audio track 2 \\(aac, fra\\) is left out"):
        fitted = fit_video(source, force=True, output=tmp_path / "fitted.mp4")
    assert heard(remuxed) == heard(Path(str(fitted.path))) == [440]


def test_a_default_track_that_is_not_aac_is_reencoded_not_swapped(tmp_path: Path) -> None:
    """The copy cannot take AC-3, so the video is re-encoded, with that same track."""
    tracks = [("aac", 440, "eng"), ("ac3", 880, "fra")]
    source = multi_track(tmp_path / "mixed.mkv", tracks, default=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mp4 = convert_video(source, output=tmp_path / "out.mp4")
    assert heard(mp4) == [880]
    with av.open(str(mp4)) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
        assert container.streams.audio[0].codec_context.sample_rate == 24000  # re-encoded
    assert len(_dropped_warnings(caught)) == 1
    assert "audio track 1 (aac, eng) is left out" in _dropped_warnings(caught)[0]


def test_an_undetermined_language_is_not_named(tmp_path: Path) -> None:
    tracks = [("aac", 440, "und"), ("aac", 880, "und")]
    source = multi_track(tmp_path / "two.mkv", tracks, default=None)
    with pytest.warns(UserWarning, match=r"audio track 1 \(aac\) is sent .* track 2 \(aac\) is"):
        convert_video(source, output=tmp_path / "out.mp4")


def test_one_track_gives_no_warning(tmp_path: Path) -> None:
    source = multi_track(tmp_path / "one.mkv", THREE_AAC[:1], default=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mp4 = convert_video(source, output=tmp_path / "out.mp4")
        fitted = fit_video(source, force=True, output=tmp_path / "fitted.mp4")
    assert _dropped_warnings(caught) == []
    assert heard(mp4) == heard(Path(str(fitted.path))) == [440]


def test_loader_sends_one_track(tmp_path: Path) -> None:
    source = multi_track(tmp_path / "three.mkv", THREE_AAC, default=2)
    with pytest.warns(UserWarning, match="only audio track 3 \\(aac, deu\\) is sent"):
        part = VideoLoader().load(source)
    sent = tmp_path / "sent.mp4"
    sent.write_bytes(decode_data_url(part["video_url"]["url"]))
    assert heard(sent) == [1320]
