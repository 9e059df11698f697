"""LangChain integration for Xiaomi MiMo's video understanding API.

The root exports the LangChain classes (``ChatMiMo``, ``VideoDescriptionLoader``,
``WatchVideoTool``), ``VideoLoader`` and its parts, ``MediaStore``, the estimates
(``RequestEstimate``, ``VideoEstimate``, ``estimate_video_tokens``, ``probe``) and every
error. ``probe`` and ``estimate_video_tokens`` are imported on first use, so the base
install needs no PyAV.

Public submodules, one idea each:

- ``chat_models``, ``tools``, ``document_loaders``: the LangChain classes;
- ``video``: sources to checked MiMo video parts; ``store``: video by reference;
- ``media``: local video work with PyAV (probe, fit, clip, split, scenes);
- ``tokens``: the token formula and prices; ``limits``: the vendor's documented figures;
- ``errors``: the error tree; ``budget``, ``description_cache``, ``events``, ``progress``:
  the description loader's parts; ``doctor`` and ``cli``: the ``mimo-video`` command;
  ``ray``: the loader on Ray Data (the ``[ray]`` extra).

Underscore modules are private: the request pipeline (``_messages``, ``_request``,
``_body``, ``_responses``, ``_api_errors``, ``_clients``, ``_estimate``, ...), the
loader's and the CLI's internals, ``_utils`` (small shared helpers) and ``data/`` (model
profiles and prices, with their sources).
"""

from importlib import metadata
from typing import TYPE_CHECKING, Any

from langchain_mimo_video._estimate import RequestEstimate, VideoEstimate
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
from langchain_mimo_video.store import MediaStore
from langchain_mimo_video.tools import WatchVideoTool
from langchain_mimo_video.video import (
    VideoLoader,
    VideoPart,
    VideoSegmentPart,
    make_video_part,
)

if TYPE_CHECKING:
    from langchain_mimo_video.media import probe
    from langchain_mimo_video.tokens import estimate_video_tokens

__all__ = [
    "AmbiguousURLError",
    "ChatMiMo",
    "EmptyDescriptionError",
    "InvalidArgumentError",
    "MediaError",
    "MediaStore",
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
    "RequestEstimate",
    "RetiredModelWarning",
    "StreamInterruptedError",
    "TokenLimitError",
    "UnknownArgumentError",
    "UnknownPriceError",
    "UnsafeSourceError",
    "UnsupportedContentError",
    "VideoDescriptionLoader",
    "VideoEstimate",
    "VideoLoader",
    "VideoPart",
    "VideoSegmentPart",
    "VideoSourceError",
    "VideoTooLargeError",
    "VideoValidationError",
    "WatchVideoTool",
    "__version__",
    "estimate_video_tokens",
    "make_video_part",
    "probe",
]


#: Names imported on first access: (module, attribute).
_LAZY: dict[str, tuple[str, str]] = {
    "probe": ("langchain_mimo_video.media", "probe"),
    "estimate_video_tokens": ("langchain_mimo_video.tokens", "estimate_video_tokens"),
}

try:
    __version__ = metadata.version("langchain-mimo-video")
except metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
