"""The documented limits of MiMo's video input, in one place.

Everything here comes from the vendor's video-understanding page; nothing imports
anything of ours, so every other module (and the test server) can share these numbers.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = [
    "AUDIO_SAMPLE_RATE",
    "DEFAULT_FPS",
    "DEFAULT_MEDIA_RESOLUTION",
    "DOCUMENTED_VIDEO_TYPES",
    "MAX_BASE64_BYTES",
    "MAX_FPS",
    "MAX_URL_VIDEO_BYTES",
    "MEDIA_RESOLUTIONS",
    "MIN_FPS",
    "REASONING_EFFORTS",
    "VIDEO_MODELS",
    "MediaResolution",
    "ReasoningEffort",
]


#: Models that accept video input.
VIDEO_MODELS: Final = frozenset({"mimo-v2.5", "mimo-v2-omni"})

#: Frames sampled per second: documented default and inclusive range.
DEFAULT_FPS: Final = 2.0
MIN_FPS: Final = 0.1
MAX_FPS: Final = 10.0

MediaResolution = Literal["default", "max"]
#: Per-frame resolution tiers.
MEDIA_RESOLUTIONS: Final[tuple[str, ...]] = ("default", "max")
DEFAULT_MEDIA_RESOLUTION: Final = "default"

#: "50 MB" for the base64 string of one video. The page does not say whether MB means
#: 10**6 or 2**20 bytes; we take the smaller reading so a payload we accept is never
#: refused by the server for size.
MAX_BASE64_BYTES: Final = 50_000_000
#: "300 MB" for one video passed by URL, read the same conservative way.
MAX_URL_VIDEO_BYTES: Final = 300_000_000

#: ``reasoning_effort`` values the live API accepts (third-party evidence, medium
#: confidence: "none" got a 400 and "minimal" a 500).
REASONING_EFFORTS: Final[tuple[str, ...]] = ("low", "medium", "high")
ReasoningEffort = Literal["low", "medium", "high"]

#: Audio sample rate of the vendor's token formula: a 24 kHz signal in 10 ms (240-sample)
#: spectrogram frames (the page's reference code, ``int(duration * 24000) // 240 + 1``).
AUDIO_SAMPLE_RATE: Final = 24_000

#: The containers the page lists, by MIME type and usual file suffixes.
DOCUMENTED_VIDEO_TYPES: Final[dict[str, tuple[str, ...]]] = {
    "video/mp4": (".mp4", ".m4v"),
    "video/quicktime": (".mov", ".qt"),
    "video/x-msvideo": (".avi",),
    "video/x-ms-wmv": (".wmv",),
}
