"""LangChain integration for Xiaomi MiMo's video understanding API."""

from importlib import metadata

from langchain_mimo_video.chat_models import ChatMiMo
from langchain_mimo_video.document_loaders import VideoDescriptionLoader
from langchain_mimo_video.errors import (
    AmbiguousURLError,
    EmptyDescriptionError,
    InvalidArgumentError,
    MediaError,
    MiMoAPIError,
    MiMoAuthenticationError,
    MiMoBadRequestError,
    MiMoConnectionError,
    MiMoContentFilteredError,
    MiMoContextOverflowError,
    MiMoError,
    MiMoInsufficientBalanceError,
    MiMoNotFoundError,
    MiMoPermissionDeniedError,
    MiMoRateLimitError,
    MiMoResponseError,
    MiMoServerError,
    MiMoStatusError,
    MiMoTimeoutError,
    MiMoUnknownStatusError,
    MissingAPIKeyError,
    ProbeLimitError,
    RetiredModelWarning,
    StreamInterruptedError,
    TokenLimitError,
    UnknownArgumentError,
    UnknownPriceError,
    UnsafeSourceError,
    UnsupportedContentError,
    VideoSourceError,
    VideoTooLargeError,
    VideoValidationError,
)
from langchain_mimo_video.tools import WatchVideoTool
from langchain_mimo_video.video import (
    VideoLoader,
    VideoPart,
    VideoSegmentPart,
    make_video_part,
)

try:
    __version__ = metadata.version("langchain-mimo-video")
except metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "AmbiguousURLError",
    "ChatMiMo",
    "EmptyDescriptionError",
    "InvalidArgumentError",
    "MediaError",
    "MiMoAPIError",
    "MiMoAuthenticationError",
    "MiMoBadRequestError",
    "MiMoConnectionError",
    "MiMoContentFilteredError",
    "MiMoContextOverflowError",
    "MiMoError",
    "MiMoInsufficientBalanceError",
    "MiMoNotFoundError",
    "MiMoPermissionDeniedError",
    "MiMoRateLimitError",
    "MiMoResponseError",
    "MiMoServerError",
    "MiMoStatusError",
    "MiMoTimeoutError",
    "MiMoUnknownStatusError",
    "MissingAPIKeyError",
    "ProbeLimitError",
    "RetiredModelWarning",
    "StreamInterruptedError",
    "TokenLimitError",
    "UnknownArgumentError",
    "UnknownPriceError",
    "UnsafeSourceError",
    "UnsupportedContentError",
    "VideoDescriptionLoader",
    "VideoLoader",
    "VideoPart",
    "VideoSegmentPart",
    "VideoSourceError",
    "VideoTooLargeError",
    "VideoValidationError",
    "WatchVideoTool",
    "__version__",
    "make_video_part",
]
