"""Video parts: sources (URLs, files, bytes, blocks) to validated MiMo ``video_url`` parts.

MiMo takes a video as a message part with ``fps`` and ``media_resolution`` beside the
``video_url`` object::

    {"type": "video_url", "video_url": {"url": "..."}, "fps": 2, "media_resolution": "default"}

Everything here checks the documented limits before a request is built, so a bad value
fails in the caller's process with a message that names the rule and the fix.
"""

from __future__ import annotations

import asyncio
import binascii
import concurrent.futures
import contextlib
import functools
import importlib
import importlib.util
import io
import mimetypes
import os
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final, Literal, TypedDict, cast
from urllib.parse import urlsplit

from typing_extensions import NotRequired

from langchain_mimo_video._utils import (
    MB,
    VideoSource,
    decode_data_url,
    shorten,
    text_mode_error,
    text_mode_refusal,
)
from langchain_mimo_video.errors import (
    MiMoError,
    UnsupportedContentError,
    VideoSourceError,
    VideoTooLargeError,
    VideoValidationError,
)
from langchain_mimo_video.limits import (
    DEFAULT_FPS,
    DEFAULT_MEDIA_RESOLUTION,
    DOCUMENTED_VIDEO_TYPES,
    MAX_BASE64_BYTES,
    MAX_FPS,
    MEDIA_RESOLUTIONS,
    MIN_FPS,
)
from langchain_mimo_video.store import MediaStore, make_reference_part

__all__ = [
    "FitMode",
    "VideoDefaults",
    "VideoLoader",
    "VideoPart",
    "VideoSegmentPart",
    "VideoSource",
    "VideoUrl",
    "base64_length",
    "data_url_length",
    "encode_bytes_data_url",
    "encode_data_url",
    "make_video_part",
    "sniff_video_mime",
    "validate_fps",
    "validate_media_resolution",
    "validate_video_url",
    "video_part_from_block",
]


# Read and encode local files this many bytes at a time (a multiple of 3, so the base64
# of each piece joins without padding). Small pieces are reused by the allocator; 3 MiB
# ones measured slower and left ~7 MB resident after a 37 MB file.
_ENCODE_CHUNK: Final = 96 * 1024
# Base64 is checked in pieces of this many characters (a multiple of 4).
_DECODE_CHUNK: Final = 4 * 1024 * 1024
_VIDEO_MIME = re.compile(r"video/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_DATA_URL = re.compile(r"^data:(?P<mime>[^;,]*)(?P<params>(?:;[^;,]*)*),", re.IGNORECASE)


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


def _shown(value: Any, limit: int = 60) -> str:
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
            f"got {_shown(value)} of type {type(value).__name__}."
        )
    if not MIN_FPS <= value <= MAX_FPS:  # also rejects NaN
        raise VideoValidationError(
            f"fps={_shown(value)} is outside MiMo's range [{MIN_FPS}, {MAX_FPS}]. Use a lower fps "
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
            f"media_resolution={_shown(value)} is not one of {list(MEDIA_RESOLUTIONS)}: use "
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
        _validate_data_url(url, check_payload)
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


def _validate_data_url(url: str, check_payload: bool) -> None:
    match = _DATA_URL.match(url[:512])
    if match is None:
        raise VideoValidationError(
            "A video data URL must look like 'data:video/mp4;base64,<base64>'; this one has "
            "no ',' after its header."
        )
    mime = match["mime"].strip().lower()
    params = [p.strip().lower() for p in match["params"].split(";") if p.strip()]
    if not mime.startswith("video/"):
        raise VideoValidationError(
            f"A video data URL must have a video MIME type (e.g. video/mp4), got "
            f"{mime or 'none'!r}. Use 'data:video/mp4;base64,...' or let VideoLoader build it."
        )
    if "base64" not in params:
        raise VideoValidationError(
            "MiMo takes video data URLs only base64-encoded: 'data:video/mp4;base64,<base64>'."
        )
    if len(url) > MAX_BASE64_BYTES:
        raise VideoTooLargeError(
            f"This video's base64 data URL is {len(url) / MB:.1f} MB, over MiMo's "
            f"{MAX_BASE64_BYTES / MB:.0f} MB limit for base64 video. Pass a public http(s) "
            "URL instead (up to 300 MB), cut a clip, or let VideoLoader(fit=True) re-encode "
            "it to the frame size MiMo uses.",
            size=len(url),
            limit=MAX_BASE64_BYTES,
        )
    start = match.end()
    if start == len(url):
        raise VideoValidationError("This video data URL has an empty payload.")
    if check_payload and url not in _encoded_here:
        _check_base64(url, start)
    if mime not in DOCUMENTED_VIDEO_TYPES:
        warnings.warn(
            f"MiMo documents MP4, MOV, AVI and WMV video; {mime} may be rejected. "
            "VideoLoader(fit=True) re-encodes to MP4.",
            stacklevel=4,
        )


def _check_base64(text: str, start: int) -> None:
    """Decode ``text[start:]`` strictly, a piece at a time, so memory stays bounded."""
    end = len(text)
    if text.find("=", start, end - 2) != -1:
        raise VideoValidationError(
            "This video data URL's base64 is broken: it has '=' padding before its end. "
            "Re-encode the whole file in one piece with standard base64."
        )
    if (end - start) % 4:
        raise VideoValidationError(
            f"This video data URL's base64 is broken: its length ({end - start} characters) "
            "is not a multiple of 4. Re-encode the file with base64 (no line breaks)."
        )
    for offset in range(start, end, _DECODE_CHUNK):
        piece = text[offset : offset + _DECODE_CHUNK]
        try:
            binascii.a2b_base64(piece, strict_mode=True)
        except (binascii.Error, ValueError) as error:
            raise VideoValidationError(
                f"This video data URL's base64 is broken near character {offset}: {error}. "
                "Re-encode the file with standard base64 (no spaces or line breaks)."
            ) from None


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


# ---------------------------------------------------------------------------
# Content sniffing
# ---------------------------------------------------------------------------

_MP4_QUICKTIME_BRANDS = (b"qt  ",)


def sniff_video_mime(head: bytes) -> str | None:
    """Guess a video MIME type from a file's first bytes (at least 16; 64 is better).

    Returns ``None`` when the bytes match no video container we know.
    """
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _MP4_QUICKTIME_BRANDS:
            return "video/quicktime"
        if brand.startswith(b"3g2"):
            return "video/3gpp2"
        if brand.startswith(b"3gp"):
            return "video/3gpp"
        if brand in (b"M4A ", b"M4B ", b"M4P "):
            return None  # audio-only MPEG-4
        return "video/mp4"
    if len(head) >= 8 and head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        return "video/quicktime"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head[:16] == bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c"):
        return "video/x-ms-wmv"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if head[:3] == b"FLV":
        return "video/x-flv"
    if head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):
        return "video/mpeg"
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return "video/mp2t"
    return None


def _mime_from_name(name: str) -> str | None:
    suffix = Path(name).suffix.lower()
    for mime, suffixes in DOCUMENTED_VIDEO_TYPES.items():
        if suffix in suffixes:
            return mime
    guessed, _ = mimetypes.guess_type(name)
    return guessed if guessed and guessed.startswith("video/") else None


# ---------------------------------------------------------------------------
# Local data -> data URL
# ---------------------------------------------------------------------------


class _EncodedHere:
    """Remembers the data URLs this package encoded, whose base64 is therefore clean.

    Sending checks a data URL by decoding all of it (about 100 ms for 50 MB, on every turn
    it stays in the history); for these it can skip that. They are known by length and
    ``hash()``: Python caches a string's hash, so for the very string :class:`VideoLoader`
    returned the lookup costs nothing, and strings of other lengths are never hashed.
    """

    def __init__(self, capacity: int = 256) -> None:
        self._keys: OrderedDict[tuple[int, int], None] = OrderedDict()
        self._lengths: dict[int, int] = {}
        self._capacity = capacity
        self._lock = threading.Lock()

    def add(self, url: str) -> None:
        key = (len(url), hash(url))
        with self._lock:
            if key in self._keys:
                self._keys.move_to_end(key)
                return
            self._keys[key] = None
            self._lengths[key[0]] = self._lengths.get(key[0], 0) + 1
            if len(self._keys) > self._capacity:
                (length, _), _ = self._keys.popitem(last=False)
                self._lengths[length] -= 1
                if not self._lengths[length]:
                    del self._lengths[length]

    def discard(self, url: str) -> None:
        """Forget ``url`` (its video failed a check after it was encoded)."""
        key = (len(url), hash(url))
        with self._lock:
            if self._keys.pop(key, 0) is None:
                self._lengths[key[0]] -= 1
                if not self._lengths[key[0]]:
                    del self._lengths[key[0]]

    def __contains__(self, url: str) -> bool:
        if len(url) not in self._lengths:
            return False
        with self._lock:
            return (len(url), hash(url)) in self._keys


_encoded_here = _EncodedHere()


def base64_length(size: int) -> int:
    """Length of the base64 text of ``size`` bytes (padded, no line breaks)."""
    return 4 * ((size + 2) // 3)


def data_url_length(size: int, mime_type: str) -> int:
    """Length of the ``data:`` URL for ``size`` bytes of ``mime_type`` video."""
    return len(f"data:{mime_type};base64,") + base64_length(size)


def _too_large(size: int, mime_type: str, what: str) -> VideoTooLargeError:
    length = data_url_length(size, mime_type)
    return VideoTooLargeError(
        f"{what} is {size / MB:.1f} MB; as base64 it would be {length / MB:.1f} MB, over "
        f"MiMo's {MAX_BASE64_BYTES / MB:.0f} MB limit for base64 video (the largest file "
        f"that fits is about {MAX_BASE64_BYTES * 3 // 4 / MB:.1f} MB). Use "
        "VideoLoader(fit=True) to re-encode it to the frame size MiMo uses, send a clip "
        "(start=/end=) or segments (VideoLoader.split), or host it at a public http(s) URL "
        "(up to 300 MB).",
        size=length,
        limit=MAX_BASE64_BYTES,
    )


def encode_data_url(stream: IO[bytes], size: int, mime_type: str) -> str:
    """Base64-encode ``size`` bytes from ``stream`` into a ``data:`` URL.

    The text is written piece by piece into one preallocated buffer, so the peak memory is
    about two copies of the base64 text (the buffer and the final ``str``) and never a
    copy of the whole file.
    """
    prefix = f"data:{mime_type};base64,".encode("ascii")
    buffer = bytearray(len(prefix) + base64_length(size))
    buffer[: len(prefix)] = prefix
    position = len(prefix)
    remaining = size
    while remaining > 0:
        piece = stream.read(min(_ENCODE_CHUNK, remaining))
        if not piece:
            raise VideoSourceError(
                f"The video ended after {size - remaining} of its {size} bytes while it was "
                "being read; was the file changed while reading?"
            )
        remaining -= len(piece)
        if len(piece) % 3 and remaining > 0:
            # A short read in the middle would put padding inside the text; top it up.
            extra = stream.read(3 - len(piece) % 3)
            remaining -= len(extra)
            piece += extra
        encoded = binascii.b2a_base64(piece, newline=False)
        buffer[position : position + len(encoded)] = encoded
        position += len(encoded)
        del piece, encoded  # do not hold the last piece while the str is built
    del buffer[position:]
    url = buffer.decode("ascii")
    _encoded_here.add(url)
    return url


def encode_bytes_data_url(data: bytes | bytearray | memoryview, mime_type: str) -> str:
    """Base64-encode in-memory video bytes into a ``data:`` URL (see :func:`encode_data_url`)."""
    view = memoryview(data)
    prefix = f"data:{mime_type};base64,".encode("ascii")
    buffer = bytearray(len(prefix) + base64_length(len(view)))
    buffer[: len(prefix)] = prefix
    position = len(prefix)
    for offset in range(0, len(view), _ENCODE_CHUNK):
        encoded = binascii.b2a_base64(view[offset : offset + _ENCODE_CHUNK], newline=False)
        buffer[position : position + len(encoded)] = encoded
        position += len(encoded)
        del encoded
    url = buffer.decode("ascii")
    _encoded_here.add(url)
    return url


# ---------------------------------------------------------------------------
# VideoLoader
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VideoSegmentPart:
    """One time range of a video, ready to send.

    Attributes:
        start: start of the range in the source, seconds.
        end: end of the range in the source, seconds.
        part: the MiMo video part holding just that range.
    """

    start: float
    end: float
    part: VideoPart


FitMode = Literal[True, False, "always"]


class VideoLoader:
    """Turn a video source into a validated MiMo ``video_url`` part.

    Sources: an http(s) URL (sent as is; MiMo fetches it, up to 300 MB), a ``data:`` URL
    (validated), a local path, raw bytes or a binary file object (sent as a base64
    ``data:`` URL, up to 50 MB of base64, with the MIME type taken from the content).

    Args:
        fps: frames MiMo samples per second, in [0.1, 10]. Default 2.
        media_resolution: ``"default"`` or ``"max"`` (finer detail, more tokens).
        fit: what to do with a local video whose base64 would pass MiMo's 50 MB limit.
            ``True`` (the default) re-encodes it, only then, to exactly the frame size
            MiMo resizes frames to for this fps and resolution, so MiMo sees the same
            frames and the token estimate is unchanged, only fewer bytes (needs the
            ``[media]`` extra). ``"always"`` re-encodes every local video that way.
            ``False`` never re-encodes and raises ``VideoTooLargeError`` instead.
        max_bytes: the largest local file accepted, checked before anything is read.
        convert: convert local videos in containers MiMo does not document (MKV, WebM,
            MPEG-TS, 3GP, ...) to MP4 before sending (needs the ``[media]`` extra): the
            packets are copied when they are H.264/AAC, else the video is re-encoded with
            fit's encoder settings. ``False`` sends them as they are, with a warning.
            MP4, MOV, AVI and WMV are never touched unless fit or a clip needs it.
        show_progress: show a progress bar (tqdm, ``pip install tqdm``) while a video is
            re-encoded, cut or converted.
        store: a :class:`~langchain_mimo_video.store.MediaStore`. Local videos (and
            ``data:`` URLs) are then put in it, exactly as they would be sent, and returned
            as a reference block of a few hundred bytes, ``{"type": "video", "file_id":
            "mimo-media:<sha256>", "mime_type": ..., "extras": {"fps": ...,
            "media_resolution": ...}}``, which ``ChatMiMo(media_store=store)`` resolves when
            it sends. http(s) URLs stay URL parts.

    With PyAV installed, every local video (and every ``data:`` URL not made here) is
    checked before it is returned: a header PyAV can read, a video stream, and a first
    frame that decodes. A damaged file fails here with ``VideoSourceError`` instead of at
    MiMo. Without PyAV only the first bytes are checked (they must start like a video
    container). http(s) URLs are sent unchecked: MiMo fetches them.

    Example:
        .. code-block:: python

            from langchain_core.messages import HumanMessage
            from langchain_mimo_video import ChatMiMo, VideoLoader

            loader = VideoLoader(fps=1, media_resolution="default")
            message = HumanMessage(
                content=[loader.load("clip.mp4"), {"type": "text", "text": "What happens?"}]
            )
            ChatMiMo().invoke([message])

            # only seconds 60-90 of a long local recording
            part = loader.load("match.mp4", start=60, end=90)

    """

    def __init__(
        self,
        *,
        fps: float = DEFAULT_FPS,
        media_resolution: str = DEFAULT_MEDIA_RESOLUTION,
        fit: FitMode = True,
        max_bytes: int | None = None,
        convert: bool = True,
        show_progress: bool = False,
        store: MediaStore | None = None,
    ) -> None:
        if fit not in (True, False, "always"):
            raise VideoValidationError(f"fit must be True, False or 'always', got {_shown(fit)}.")
        for name, flag in (("convert", convert), ("show_progress", show_progress)):
            if not isinstance(flag, bool):
                raise VideoValidationError(f"{name} must be True or False, got {_shown(flag)}.")
        if show_progress:
            _tqdm()  # fail now, not half-way through a long video
        self.fps = validate_fps(fps)
        self.media_resolution = validate_media_resolution(media_resolution)
        self.fit: FitMode = fit
        self.max_bytes = max_bytes
        self.convert = convert
        self.show_progress = show_progress
        self.store = store

    def __repr__(self) -> str:
        return (
            f"VideoLoader(fps={self.fps}, media_resolution={self.media_resolution!r}, "
            f"fit={self.fit!r}, convert={self.convert!r})"
        )

    def load(
        self,
        source: VideoSource,
        *,
        start: float | None = None,
        end: float | None = None,
        fps: float | None = None,
        media_resolution: str | None = None,
        mime_type: str | None = None,
    ) -> VideoPart:
        """Build the video part for ``source``.

        Args:
            source: http(s) URL, ``data:`` URL, path (``str`` or ``Path``), bytes or a
                binary file object.
            start: send only from this second on (local videos; cut exactly, with sound).
            end: send only up to this second (local videos).
            fps: overrides the loader's fps for this part.
            media_resolution: overrides the loader's media_resolution for this part.
            mime_type: the video's MIME type, when the content cannot tell (rare).

        Raises:
            VideoValidationError: a bad option, URL or time range.
            VideoTooLargeError: the video is over a documented size limit.
            VideoSourceError: a missing or unreadable file, or data that is not a video.
            MediaError: re-encoding was needed and failed, or PyAV is not installed.
        """
        options = _PartOptions(
            fps=validate_fps(self.fps if fps is None else fps),
            media_resolution=validate_media_resolution(
                self.media_resolution if media_resolution is None else media_resolution
            ),
            mime_type=mime_type,
        )
        if start is None and end is None:
            url = self._url_for(source, options)
        else:
            url = self._clip(source, start, end, options)
        if self.store is not None and url.startswith("data:"):
            return self._stored(url, options)
        return {
            "type": "video_url",
            "video_url": {"url": url},
            "fps": options.fps,
            "media_resolution": options.media_resolution,
        }

    def _stored(self, url: str, options: _PartOptions) -> VideoPart:
        """Put the bytes of a data URL made or checked here in the store; the reference."""
        assert self.store is not None
        mime = url[len("data:") : url.index(";")]
        media_id = self.store.put(decode_data_url(url), mime_type=mime)
        reference = make_reference_part(
            media_id, mime_type=mime, fps=options.fps, media_resolution=options.media_resolution
        )
        # A standard video block, not a video_url part; ChatMiMo takes both.
        return cast(VideoPart, reference)

    async def aload(
        self,
        source: VideoSource,
        *,
        start: float | None = None,
        end: float | None = None,
        fps: float | None = None,
        media_resolution: str | None = None,
        mime_type: str | None = None,
    ) -> VideoPart:
        """Async :meth:`load`: reading, encoding and cutting run in a worker thread."""
        return await asyncio.to_thread(
            functools.partial(
                self.load,
                source,
                start=start,
                end=end,
                fps=fps,
                media_resolution=media_resolution,
                mime_type=mime_type,
            )
        )

    def iter_segments(
        self,
        source: VideoSource,
        segment_seconds: float,
        overlap_seconds: float = 0.0,
        *,
        fps: float | None = None,
        media_resolution: str | None = None,
    ) -> Iterator[VideoSegmentPart]:
        """Cut a local video into time ranges and yield each as a part, one at a time.

        Ranges follow :func:`langchain_mimo_video.media.plan_segments`: consecutive ranges
        overlap by ``overlap_seconds``, there are no gaps, and a tiny tail is merged into
        the last range. Each range is cut exactly (with its sound) and fitted like
        :meth:`load` does, so each part is within the limits. Only one part is in memory
        at a time.

        Args:
            source: a local path, bytes, a binary file object or a ``data:`` URL.
            segment_seconds: length of each range, seconds.
            overlap_seconds: seconds shared by neighbouring ranges.
            fps: overrides the loader's fps.
            media_resolution: overrides the loader's media_resolution.

        Raises:
            VideoValidationError: bad lengths, or an http(s) URL (see :meth:`load`).
        """
        from langchain_mimo_video.media import plan_segments, probe

        local = self._local_media(source, "split")
        for begin, finish in plan_segments(probe(local).duration, segment_seconds, overlap_seconds):
            part = self.load(
                local, start=begin, end=finish, fps=fps, media_resolution=media_resolution
            )
            yield VideoSegmentPart(start=begin, end=finish, part=part)

    def split(
        self,
        source: VideoSource,
        segment_seconds: float,
        overlap_seconds: float = 0.0,
        *,
        fps: float | None = None,
        media_resolution: str | None = None,
    ) -> list[VideoSegmentPart]:
        """Cut a local video into parts with their time ranges; see :meth:`iter_segments`.

        Example:
            .. code-block:: python

                for segment in VideoLoader(fps=1).split("lecture.mp4", 300, 10):
                    print(segment.start, segment.end)
        """
        return list(
            self.iter_segments(
                source,
                segment_seconds,
                overlap_seconds,
                fps=fps,
                media_resolution=media_resolution,
            )
        )

    # -- sources -------------------------------------------------------------

    def _url_for(self, source: VideoSource, options: _PartOptions) -> str:
        if isinstance(source, str):
            lowered = source[:8].lower()
            if lowered.startswith(("http://", "https://", "data:")):
                url = validate_video_url(source)
                if lowered.startswith("data:"):
                    return self._from_data_url(url, options)
                return url
            if re.match(r"^[a-z][a-z0-9+.-]*://", lowered):
                return validate_video_url(source)  # raises: unsupported scheme
            return self._from_path(_user_path(source), options)
        if isinstance(source, os.PathLike):
            return self._from_path(_user_path(source), options)
        if isinstance(source, (bytes, bytearray, memoryview)):
            return self._from_bytes(source, options)
        if hasattr(source, "read"):
            return self._from_stream(source, options)
        raise VideoSourceError(
            f"Cannot load a video from a {type(source).__name__}: pass an http(s) URL, a "
            "data: URL, a path, bytes or a binary file object."
        )

    def _from_path(self, path: Path, options: _PartOptions) -> str:
        with _reading(path):
            size = path.stat().st_size
            if not path.is_file():
                raise VideoSourceError(f"{path} is not a regular file; pass a video file.")
            with path.open("rb") as stream:
                head = stream.read(256)
                mime = self._mime(head, options.mime_type, path.name, str(path))
                must_fit = self._must_fit(size, mime, f"The video file {path}")
                if not must_fit and mime in DOCUMENTED_VIDEO_TYPES:
                    stream.seek(0)
                    url, info = _encoded_while_checked(
                        path, lambda: encode_data_url(stream, size, mime)
                    )
                    if not self._converts(info):  # a MIME type given for another container
                        return url
                    del url
                info = _verified(path)
                if must_fit:
                    return self._fitted(path, options)
                if self._converts(info):
                    return self._converted(path, options)
                self._warn_undocumented(mime, str(path))
                stream.seek(0)
                return encode_data_url(stream, size, mime)

    def _from_bytes(self, data: bytes | bytearray | memoryview, options: _PartOptions) -> str:
        view = memoryview(data)
        if not len(view):
            raise VideoSourceError("The bytes are empty; pass the bytes of a video file.")
        mime = self._mime(bytes(view[:256]), options.mime_type, None, "The bytes")
        must_fit = self._must_fit(len(view), mime, "The video bytes")
        whole = bytes(view) if not isinstance(data, bytes) else data
        if not must_fit and mime in DOCUMENTED_VIDEO_TYPES:
            url, info = _encoded_while_checked(whole, lambda: encode_bytes_data_url(view, mime))
            if not self._converts(info):
                return url
            del url
        info = _verified(whole)
        if must_fit:
            return self._fitted(bytes(view), options)
        if self._converts(info):
            return self._converted(bytes(view), options)
        self._warn_undocumented(mime, "The bytes")
        return encode_bytes_data_url(view, mime)

    def _from_data_url(self, url: str, options: _PartOptions) -> str:
        """Check (and convert or fit, when asked) a ``data:`` URL given by the caller."""
        if self.fit == "always":
            return self._fitted(decode_data_url(url), options)
        if url in _encoded_here or not _has_pyav():
            return url  # made here from a checked source, or nothing to check it with
        data = decode_data_url(url)
        info = _verified(data)
        if self._converts(info):
            return self._converted(data, options)
        return url

    def _from_stream(self, stream: IO[bytes], options: _PartOptions) -> str:
        name = getattr(stream, "name", None)
        label = f"The video stream {name}" if isinstance(name, str) else "The video stream"
        refusal = text_mode_error(stream, label)
        if refusal is not None:
            raise refusal
        try:
            if not stream.seekable():
                data = stream.read()
                if isinstance(data, str):
                    raise text_mode_refusal(label)
                return self._from_bytes(data, options)
            start = stream.tell()
            size = stream.seek(0, os.SEEK_END) - start
            stream.seek(start)
            head = stream.read(256)
            if isinstance(head, str):
                raise text_mode_refusal(label)
            stream.seek(start)
            mime = self._mime(
                head, options.mime_type, name if isinstance(name, str) else None, label
            )
            must_fit = self._must_fit(size, mime, label)
            info = _verified(_Window(stream, start, size))
            stream.seek(start)
            if must_fit:
                return self._fitted(stream.read(), options)
            if self._converts(info):
                return self._converted(stream.read(), options)
            self._warn_undocumented(mime, label)
            return encode_data_url(stream, size, mime)
        except OSError as error:
            raise VideoSourceError(f"Cannot read {label.lower()}: {error}.") from None

    def _must_fit(self, size: int, mime: str, label: str) -> bool:
        """Check the size limits; say whether the video has to be re-encoded."""
        if self.max_bytes is not None and size > self.max_bytes:
            raise VideoTooLargeError(
                f"{label} is {size / MB:.1f} MB, over this loader's max_bytes of "
                f"{self.max_bytes / MB:.1f} MB.",
                size=size,
                limit=self.max_bytes,
            )
        if self.fit == "always":
            return True
        if data_url_length(size, mime) <= MAX_BASE64_BYTES:
            return False
        if self.fit:
            return True
        raise _too_large(size, mime, label)

    def _fitted(
        self,
        local: Path | bytes,
        options: _PartOptions,
        start: float | None = None,
        end: float | None = None,
    ) -> str:
        """Re-encode ``local`` (or its ``start``-``end`` range) at MiMo's frame size."""
        from langchain_mimo_video.media import fit_video

        with self._progress("re-encoding at MiMo's frame size") as report:
            result = fit_video(
                local,
                fps=options.fps,
                media_resolution=options.media_resolution,
                force=True,
                start=start,
                end=end,
                on_progress=report,
            )
        assert isinstance(result.path, Path)  # forced: always a new file
        return _encode_and_remove(result.path)

    def _clip(
        self, source: VideoSource, start: float | None, end: float | None, options: _PartOptions
    ) -> str:
        local = self._local_media(source, "cut")
        if isinstance(local, Path):
            with _reading(local):
                size = local.stat().st_size
                with local.open("rb") as stream:
                    self._mime(stream.read(256), options.mime_type, local.name, str(local))
        else:
            size = len(local)
            if not size:
                raise VideoSourceError("The bytes are empty; pass the bytes of a video file.")
            self._mime(local[:256], options.mime_type, None, "The bytes")
        if self.max_bytes is not None and size > self.max_bytes:
            raise VideoTooLargeError(
                f"The video is {size / MB:.1f} MB, over this loader's max_bytes of "
                f"{self.max_bytes / MB:.1f} MB.",
                size=size,
                limit=self.max_bytes,
            )
        info = _verified(local)
        if self.fit:
            return self._fitted(local, options, start, end)
        from langchain_mimo_video.media import clip_video, probe

        begin = 0.0 if start is None else start
        if end is not None:
            finish = end
        else:
            finish = info.duration if info is not None else probe(local).duration
        with self._progress("cutting") as report:
            path = clip_video(local, begin, finish, on_progress=report)
        clipped_size = path.stat().st_size
        if data_url_length(clipped_size, "video/mp4") > MAX_BASE64_BYTES:
            path.unlink(missing_ok=True)
            raise _too_large(clipped_size, "video/mp4", "The clip")
        return _encode_and_remove(path)

    def _local_media(self, source: VideoSource, action: str) -> Path | bytes:
        """A local copy to cut: a path, or bytes (data URLs decoded, streams read)."""
        if isinstance(source, str):
            lowered = source[:8].lower()
            if lowered.startswith(("http://", "https://")):
                raise VideoValidationError(
                    f"MiMo has no server-side start/end offsets, and this package does not "
                    f"download URL videos to {action} them. Download the video and pass the "
                    "file (it is cut locally), or send the whole URL and name the time range "
                    "in your question."
                )
            if lowered.startswith("data:"):
                return decode_data_url(validate_video_url(source))
            return _user_path(source)
        if isinstance(source, os.PathLike):
            return _user_path(source)
        if isinstance(source, (bytes, bytearray, memoryview)):
            return bytes(source)
        if hasattr(source, "read"):
            label = "The video stream"
            refusal = text_mode_error(source, label)
            if refusal is not None:
                raise refusal
            data = source.read()
            if isinstance(data, str):
                raise text_mode_refusal(label)
            return bytes(data)
        raise VideoSourceError(
            f"Cannot {action} a video from a {type(source).__name__}: pass a path, bytes, a "
            "binary file object or a data: URL."
        )

    def _converts(self, info: Any) -> bool:
        """Whether to convert a checked video (None: PyAV is not installed) to MP4."""
        if info is None or not self.convert:
            return False
        from langchain_mimo_video.media import needs_conversion

        return bool(needs_conversion(info))

    def _converted(self, local: Path | bytes, options: _PartOptions) -> str:
        """Remux or re-encode a video in a container MiMo does not document into MP4."""
        from langchain_mimo_video.media import convert_video

        with self._progress("converting to MP4") as report:
            path = convert_video(local, on_progress=report)
        size = path.stat().st_size
        if data_url_length(size, "video/mp4") > MAX_BASE64_BYTES:
            path.unlink(missing_ok=True)
            if self.fit:
                return self._fitted(local, options)
            raise _too_large(size, "video/mp4", "Converted to MP4, the video")
        return _encode_and_remove(path)

    @contextlib.contextmanager
    def _progress(self, what: str) -> Iterator[Any]:
        """A ``(done, total)`` callback that drives a tqdm bar when ``show_progress``."""
        if not self.show_progress:
            yield None
            return
        bar: Any = None

        def report(done: float, total: float) -> None:
            nonlocal bar
            if bar is None:
                bar = _tqdm()(total=round(total, 2), desc=what, unit="s", leave=False)
            bar.update(round(done, 2) - bar.n)

        try:
            yield report
            if bar is not None:
                bar.update(bar.total - bar.n)  # the last packets can end short of it
        finally:
            if bar is not None:
                bar.close()

    def _warn_undocumented(self, mime: str, label: str) -> None:
        if mime not in DOCUMENTED_VIDEO_TYPES:
            hint = (
                "VideoLoader(convert=True) converts it to MP4."
                if _has_pyav()
                else 'install "langchain-mimo-video[media]" to have it converted to MP4.'
            )
            warnings.warn(
                f"{label} is {mime}; MiMo documents only MP4, MOV, AVI and WMV, so it may be "
                f"rejected. {hint}",
                stacklevel=5,
            )

    def _mime(self, head: bytes, given: str | None, name: str | None, label: str) -> str:
        verb = "are" if label.endswith("bytes") else "is"
        if not head:
            raise VideoSourceError(f"{label} {verb} empty, not a video.")
        if given:
            mime = given.strip().lower()
            if not _VIDEO_MIME.fullmatch(mime):
                raise VideoValidationError(
                    f"mime_type must be a video type such as 'video/mp4', got {_shown(given)}."
                )
        else:
            sniffed = sniff_video_mime(head)
            if sniffed is None:
                by_name = _mime_from_name(name) if name else None
                hint = f" (its name suggests {by_name})" if by_name else ""
                raise VideoSourceError(
                    f"{label} {verb} not a video container MiMo can read{hint}: its content "
                    "does not start like MP4, MOV, AVI or WMV. Check the file, or convert it "
                    "to MP4."
                )
            mime = sniffed
        return mime


@dataclass(frozen=True)
class _PartOptions:
    fps: float
    media_resolution: str
    mime_type: str | None


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn the OS's errors about ``path`` into VideoSourceError with a clear message."""
    try:
        yield
    except MiMoError:
        raise  # already ours (VideoTooLargeError is also a ValueError)
    except FileNotFoundError:
        if _LOOKS_LIKE_URL.match(str(path)):
            raise VideoSourceError(
                f"Video file not found: {path}. If it is a web address, write it with its "
                f"scheme: 'https://{path.as_posix()}'."
            ) from None
        raise VideoSourceError(
            f"Video file not found: {path}. Check the path (relative paths are resolved "
            f"from {Path.cwd()})."
        ) from None
    except PermissionError:
        raise VideoSourceError(f"Cannot read the video file {path}: permission denied.") from None
    except IsADirectoryError:
        raise VideoSourceError(f"{path} is a folder; pass a video file.") from None
    except OSError as error:
        raise VideoSourceError(f"Cannot read the video file {path}: {error}.") from None
    except ValueError as error:  # a NUL byte or an unencodable character in the path
        raise VideoSourceError(f"Cannot use {_shown(str(path))} as a file path: {error}.") from None


def _encode_and_remove(video: Path) -> str:
    """Encode a re-encoded MP4 as a data URL, deleting the temporary file afterwards."""
    try:
        with video.open("rb") as stream:
            return encode_data_url(stream, video.stat().st_size, "video/mp4")
    finally:
        video.unlink(missing_ok=True)


# A host name with a dot, then a path: "example.com/v.mp4", "www.site.org/a/b.mov".
_LOOKS_LIKE_URL: Final = re.compile(
    r"^(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?::\d+)?/\S", re.IGNORECASE
)


def _user_path(source: str | os.PathLike[str]) -> Path:
    """A path as a person types it: ``~`` is the home folder."""
    path = Path(source)
    if not str(path).startswith("~"):
        return path
    try:
        return path.expanduser()
    except (ValueError, UnicodeError) as err:  # a NUL byte, or a name the OS cannot encode
        raise VideoSourceError(f"Not a usable file name: {str(source)!r} ({err}).") from err


@functools.cache
def _has_pyav() -> bool:
    return importlib.util.find_spec("av") is not None


def _verified(source: Any) -> Any:
    """``check_decodable(source)``'s VideoInfo, or None when PyAV is not installed."""
    if not _has_pyav():
        return None
    from langchain_mimo_video.media import check_decodable

    return check_decodable(source)


def _encoded_while_checked(source: Any, encode: Callable[[], str]) -> tuple[str, Any]:
    """``encode()``, with ``_verified(source)`` run meanwhile in a worker thread.

    FFmpeg releases the GIL while it opens and decodes, so on two cores or more the check
    hides behind the base64 encoding. The check's error, if any, is raised.
    """
    if not _has_pyav():
        return encode(), None
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="mimo-check") as pool:
        checked = pool.submit(_verified, source)
        try:
            url = encode()
        except BaseException:
            checked.cancel()
            raise
        try:
            return url, checked.result()
        except BaseException:
            _encoded_here.discard(url)  # not sent, so not a data URL to trust later
            raise


def _tqdm() -> Any:
    try:
        return importlib.import_module("tqdm.auto").tqdm
    except ImportError:
        raise VideoValidationError(
            "show_progress=True needs the tqdm package: pip install tqdm"
        ) from None


class _Window(io.RawIOBase):
    """The ``size`` bytes of ``stream`` from ``start`` on, as a file of their own.

    Lets PyAV check a file object that is positioned after its start without reading
    it into memory (PyAV's seeks are absolute).
    """

    def __init__(self, stream: IO[bytes], start: int, size: int) -> None:
        super().__init__()
        self._stream, self._start, self._size = stream, start, size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        left = self._size - self.tell()
        return self._stream.read(left if size < 0 else min(size, max(left, 0)))

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.tell(), os.SEEK_END: self._size}[whence]
        return self._stream.seek(self._start + base + offset) - self._start

    def tell(self) -> int:
        return self._stream.tell() - self._start
