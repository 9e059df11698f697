"""MiMo video parts: single values checked against the documented limits, parts from blocks.

MiMo takes a video as a message part with ``fps`` and ``media_resolution`` beside the
``video_url`` object::

    {"type": "video_url", "video_url": {"url": "..."}, "fps": 2, "media_resolution": "default"}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict
from urllib.parse import urlsplit

from typing_extensions import NotRequired

from langchain_mimo_video._data_urls import validate_data_url
from langchain_mimo_video._utils import shorten
from langchain_mimo_video.errors import UnsupportedContentError, VideoValidationError
from langchain_mimo_video.limits import (
    DEFAULT_FPS,
    DEFAULT_MEDIA_RESOLUTION,
    MAX_FPS,
    MEDIA_RESOLUTIONS,
    MIN_FPS,
)

__all__ = [
    "VideoDefaults",
    "VideoPart",
    "VideoUrl",
    "make_video_part",
    "shown",
    "validate_fps",
    "validate_media_resolution",
    "validate_video_url",
    "video_part_from_block",
]


class VideoUrl(TypedDict):
    """The ``video_url`` object of a MiMo video part."""

    url: str


class VideoPart(TypedDict):
    """A MiMo video message part, as sent on the wire."""

    type: str
    video_url: VideoUrl
    fps: NotRequired[float]
    media_resolution: NotRequired[str]


@dataclass(frozen=True)
class VideoDefaults:
    """Values given to video parts that do not set their own ``fps`` / ``media_resolution``."""

    fps: float = DEFAULT_FPS
    media_resolution: str = DEFAULT_MEDIA_RESOLUTION

    def __post_init__(self) -> None:
        validate_fps(self.fps)
        validate_media_resolution(self.media_resolution)


# ---------------------------------------------------------------------------
# Validation of single values
# ---------------------------------------------------------------------------


def shown(value: Any, limit: int = 60) -> str:
    """``repr(value)`` for an error message: cut short, and never failing itself."""
    try:
        text = repr(value)
    except Exception:  # e.g. an int too long to print
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def validate_fps(value: Any) -> float:
    """Check an ``fps`` value against MiMo's documented range [0.1, 10].

    Args:
        value: the frames-per-second value to check.

    Returns:
        The value unchanged (an ``int`` stays an ``int``, so ``2`` is sent as ``2``).

    Raises:
        VideoValidationError: if it is not a finite number in range.

    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise VideoValidationError(
            f"fps must be a number between {MIN_FPS} and {MAX_FPS} (frames sampled per second), "
            f"got {shown(value)} of type {type(value).__name__}."
        )
    if not MIN_FPS <= value <= MAX_FPS:  # also rejects NaN
        raise VideoValidationError(
            f"fps={shown(value)} is outside MiMo's range [{MIN_FPS}, {MAX_FPS}]. Use a lower fps "
            "for long videos (fewer tokens) and a higher one for fast motion."
        )
    fps: float = value
    return fps


def validate_media_resolution(value: Any) -> str:
    """Check a ``media_resolution`` value: ``"default"`` or ``"max"``.

    Raises:
        VideoValidationError: for any other value.

    """
    if value not in MEDIA_RESOLUTIONS:
        raise VideoValidationError(
            f"media_resolution={shown(value)} is not one of {list(MEDIA_RESOLUTIONS)}: use "
            "'default' (balanced) or 'max' (small objects and fine text, more tokens)."
        )
    return str(value)


def validate_video_url(url: Any, *, check_payload: bool = True) -> str:
    """Check the ``url`` of a video part: an http(s) URL or a base64 video ``data:`` URL.

    A ``data:`` URL must name a ``video/*`` MIME type, be base64, decode cleanly and stay
    within the 50 MB base64 limit.

    Args:
        url: the URL to check.
        check_payload: decode a data URL's base64 to prove it is clean (always skipped
            for a data URL this package encoded itself).

    Raises:
        VideoValidationError: for another scheme, a bad data URL or a non-video MIME type.
        VideoTooLargeError: for a data URL over the base64 limit.

    """
    if not isinstance(url, str) or not url:
        raise VideoValidationError(
            f"A video URL must be a non-empty string, got {type(url).__name__}."
        )
    if url[:5].lower() == "data:":
        validate_data_url(url, check_payload)
        return url
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in ("http", "https"):
        raise VideoValidationError(
            f"MiMo fetches videos only from http(s) URLs, got {shorten(url)!r}. For a local "
            "file pass its path to VideoLoader, which sends it as a base64 data URL."
        )
    try:
        host = urlsplit(url).hostname
    except ValueError:  # e.g. a malformed IPv6 literal
        host = None
    if not host:
        raise VideoValidationError(
            f"The video URL {shorten(url)!r} has no host name; MiMo needs a full public "
            "URL such as 'https://example.com/clip.mp4'."
        )
    return url


# ---------------------------------------------------------------------------
# Parts from blocks
# ---------------------------------------------------------------------------


def make_video_part(
    url: str, *, fps: Any = DEFAULT_FPS, media_resolution: Any = DEFAULT_MEDIA_RESOLUTION
) -> VideoPart:
    """Build a validated MiMo video part.

    Args:
        url: an http(s) URL or a base64 ``data:video/...`` URL.
        fps: frames sampled per second, in [0.1, 10].
        media_resolution: ``"default"`` or ``"max"``.

    Example:
        .. code-block:: python

            part = make_video_part("https://example.com/clip.mp4", fps=1)

    """
    return {
        "type": "video_url",
        "video_url": {"url": validate_video_url(url)},
        "fps": validate_fps(fps),
        "media_resolution": validate_media_resolution(media_resolution),
    }


def video_part_from_block(block: Mapping[str, Any], defaults: VideoDefaults) -> dict[str, Any]:
    """Turn any video block a LangChain user may write into MiMo's exact video part.

    Accepts a native MiMo ``video_url`` part, a standard ``video`` block (``url`` or
    ``base64`` + ``mime_type``, with ``fps`` / ``media_resolution`` on the block or in
    its ``extras``, as ``create_video_block(..., fps=1)`` makes) and a ``file`` block
    (v1, or v0 with ``source_type``) whose MIME type is ``video/*``.

    Raises:
        UnsupportedContentError: for a ``file_id`` block (MiMo has no file store).
        VideoValidationError: for a value outside the documented limits.

    """
    extras = block.get("extras") if isinstance(block.get("extras"), Mapping) else {}
    assert isinstance(extras, Mapping)  # narrowing for the type checker
    if block.get("type") == "video_url":
        video_url = block.get("video_url")
        if isinstance(video_url, str):
            url: Any = video_url
        elif isinstance(video_url, Mapping):
            misplaced = [key for key in ("fps", "media_resolution") if key in video_url]
            if misplaced:
                raise VideoValidationError(
                    f"{' and '.join(misplaced)} must sit beside 'video_url' in a MiMo video "
                    "part, not inside it: {'type': 'video_url', 'video_url': {'url': ...}, "
                    "'fps': 2, 'media_resolution': 'default'}."
                )
            url = video_url.get("url")
        else:
            raise VideoValidationError(
                "A 'video_url' part needs a 'video_url' object with a 'url'."
            )
    else:
        url = _block_url(block)

    def option(name: str, default: Any) -> Any:
        if block.get(name) is not None:
            return block[name]
        if extras.get(name) is not None:
            return extras[name]
        return default

    part = dict(
        make_video_part(
            url,
            fps=option("fps", defaults.fps),
            media_resolution=option("media_resolution", defaults.media_resolution),
        )
    )
    return part


def _block_url(block: Mapping[str, Any]) -> str:
    if block.get("file_id") or block.get("source_type") == "id":
        raise UnsupportedContentError(
            "MiMo cannot read videos by file id (file_id blocks): it has no file store. Pass "
            "a public URL, or the video itself (VideoLoader sends local files as base64)."
        )
    mime_type = block.get("mime_type")
    if block.get("url"):
        return str(block["url"])
    data = block.get("base64")
    if data is None and block.get("source_type") == "base64":
        data = block.get("data")
    if data is None and block.get("source_type") == "url":
        return str(block.get("url") or block.get("data") or "")
    if data is not None:
        if not mime_type:
            raise VideoValidationError(
                "A base64 video block needs its 'mime_type' (e.g. 'video/mp4') so MiMo knows "
                "the container."
            )
        return f"data:{mime_type};base64,{data}"
    raise VideoValidationError(
        "A video block needs a 'url' or 'base64' + 'mime_type' field; it has neither."
    )
