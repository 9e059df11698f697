"""Local video work with PyAV: probe, fit, clip and split.

Everything here reads or writes media and nothing else: no requests to MiMo, no LangChain.
PyAV is imported lazily, so the package works without it until one of these functions is
called (``pip install "langchain-mimo-video[media]"``).

Errors are split by cause:

* :class:`~langchain_mimo_video.errors.VideoSourceError`: the source cannot be used at
  all: a missing file, an unreachable URL, or data PyAV cannot open as a video (no video
  stream, not a media file).
* :class:`~langchain_mimo_video.errors.MediaError`: PyAV is missing, or a source that opened
  as a video failed while decoding or re-encoding.
* :class:`~langchain_mimo_video.errors.VideoValidationError`: bad arguments (a clip range
  outside the video, an invalid ``fps``); :class:`~langchain_mimo_video.errors.UnsafeSourceError`
  for URLs refused by :func:`check_public_url`.

Re-encoded files follow what MiMo is known to accept: H.264 ``yuv420p`` with CRF rate
control and AAC audio padded to the video's length, in an MP4 with its index first
("faststart"), written to a seekable file.
"""

from langchain_mimo_video._utils import VideoSource
from langchain_mimo_video.media._common import data_url_size
from langchain_mimo_video.media._net import check_public_url
from langchain_mimo_video.media.probing import (
    VideoInfo,
    check_decodable,
    probe,
    probe_audio_duration,
)
from langchain_mimo_video.media.segments import plan_segments
from langchain_mimo_video.media.transcode import (
    FitResult,
    VideoSegment,
    clip_video,
    convert_video,
    fit_video,
    needs_conversion,
    split_video,
)

__all__ = [
    "FitResult",
    "VideoInfo",
    "VideoSegment",
    "VideoSource",
    "check_decodable",
    "check_public_url",
    "clip_video",
    "convert_video",
    "data_url_size",
    "fit_video",
    "needs_conversion",
    "plan_segments",
    "probe",
    "probe_audio_duration",
    "split_video",
]
