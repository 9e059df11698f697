"""Remuxing: H.264 (and AAC) packets copied from any container into a faststart MP4.

Only one audio track is copied, the one a re-encode keeps too (``_encoder.sent_audio``).

Private to :mod:`langchain_mimo_video.media`; :func:`~langchain_mimo_video.media.
transcode.convert_video` decides when a copy is enough and when to re-encode.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from langchain_mimo_video.errors import MediaError
from langchain_mimo_video.media._common import video_stream
from langchain_mimo_video.media._encoder import open_local, sent_audio, warn_dropped_audio

__all__ = ["REMUX_AUDIO", "REMUX_VIDEO", "remux_into"]

#: Codecs copied as they are; anything else is re-encoded.
REMUX_VIDEO: Final = frozenset({"h264"})
REMUX_AUDIO: Final = frozenset({"aac"})


def remux_into(
    av: Any,
    source: Path | bytes,
    output: Path,
    *,
    on_progress: Callable[[float], None] | None = None,
) -> None:
    """Copy ``source``'s video stream and the one audio track sent with it into ``output``.

    That track is the first marked default, else the first (see ``_encoder.sent_audio``);
    a warning names the others, which are left out.

    Timestamps are shifted so the earliest packet starts at 0 (a camera's or an MPEG-TS
    stream's first timestamp can be hours in); streams keep their offsets to each other.
    ADTS-framed AAC (MPEG-TS) is turned into the MP4 form with FFmpeg's
    ``aac_adtstoasc`` filter.

    Raises:
        av.FFmpegError: if a packet cannot be copied (the caller re-encodes instead).
        MediaError: if that audio track is not AAC (the caller re-encodes instead).
    """
    label = str(source) if isinstance(source, Path) else "The video data"
    with open_local(av, source) as container:
        video_in = video_stream(container, label)
        chosen, dropped = sent_audio(av, container)
        if chosen is not None and chosen.codec_context.name not in REMUX_AUDIO:
            raise MediaError(f"{label}'s audio is {chosen.codec_context.name}, not AAC.")
        audio_in = [] if chosen is None else [chosen]
        inputs = [video_in, *audio_in]
        origin = _earliest_start(inputs)
        options = {"movflags": "+faststart"}
        with av.open(str(output), mode="w", format="mp4", options=options) as out:
            outputs = {s.index: out.add_stream_from_template(s) for s in inputs}
            filters = {
                s.index: av.bitstream.BitStreamFilterContext("aac_adtstoasc", s) for s in audio_in
            }
            for packet in container.demux(*inputs):
                if packet.dts is None and packet.pts is None:
                    continue  # a flush packet
                index = packet.stream.index
                shift = round(origin / packet.time_base) if packet.time_base else 0
                for item in filters[index].filter(packet) if index in filters else [packet]:
                    _shift(item, shift)
                    item.stream = outputs[index]
                    out.mux(item)
                if on_progress is not None and index == video_in.index and packet.pts:
                    on_progress(float(packet.pts * packet.time_base) - origin)
        warn_dropped_audio(label, chosen, dropped)  # while the streams are open


def _earliest_start(streams: list[Any]) -> float:
    starts = [
        float(s.start_time * s.time_base)
        for s in streams
        if s.start_time is not None and s.time_base is not None
    ]
    return min(starts, default=0.0)


def _shift(packet: Any, ticks: int) -> None:
    with contextlib.suppress(TypeError):
        if packet.pts is not None:
            packet.pts -= ticks
        if packet.dts is not None:
            packet.dts -= ticks
