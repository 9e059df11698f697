"""LangChain integration for Xiaomi MiMo's video understanding API."""

from importlib import metadata

from langchain_mimo_video.chat_models import ChatMiMo
from langchain_mimo_video.errors import (
    MediaError,
    MiMoError,
    MissingAPIKeyError,
    StreamInterruptedError,
    TokenLimitError,
    UnsafeSourceError,
    UnsupportedContentError,
    VideoSourceError,
    VideoTooLargeError,
    VideoValidationError,
)
from langchain_mimo_video.video import VideoLoader, VideoPart, make_video_part

try:
    __version__ = metadata.version("langchain-mimo-video")
except metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "ChatMiMo",
    "MediaError",
    "MiMoError",
    "MissingAPIKeyError",
    "StreamInterruptedError",
    "TokenLimitError",
    "UnsafeSourceError",
    "UnsupportedContentError",
    "VideoLoader",
    "VideoPart",
    "VideoSourceError",
    "VideoTooLargeError",
    "VideoValidationError",
    "__version__",
    "make_video_part",
]
