"""Audio parts: what container the bytes are, and the MIME type to send them with.

Pure (no I/O): only the first bytes of a base64 payload are decoded. The bytes decide:
a declared type that disagrees with a recognised audio container is corrected, and a
payload that is recognisably not audio (an image, a video container's video brand, text)
is refused, the way video parts are checked.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Final

from langchain_mimo_video.errors import UnsupportedContentError

__all__ = [
    "AUDIO_FORMATS",
    "audio_mime_for",
    "check_audio_data_url",
    "format_for_mime",
    "sniff_audio_mime",
]

#: OpenAI-style ``format`` names and the MIME type each stands for.
AUDIO_FORMATS: Final[Mapping[str, str]] = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "m4a": "audio/mp4",
    "webm": "audio/webm",
}
_MIME_ALIASES: Final[Mapping[str, str]] = {
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/mp3": "audio/mpeg",
    "audio/mpeg3": "audio/mpeg",
    "audio/x-mp3": "audio/mpeg",
    "audio/x-flac": "audio/flac",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "audio/x-aac": "audio/aac",
    "audio/aacp": "audio/aac",
    "audio/opus": "audio/ogg",
}
_HEAD_BYTES: Final = 48
# Containers that are certainly not sound, by their first bytes.
_NOT_AUDIO: Final[tuple[tuple[bytes, str], ...]] = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"%PDF", "a PDF document"),
    (b"{", "JSON or text"),
    (b"<", "HTML or XML"),
)
_AUDIO_MP4_BRANDS: Final = (b"M4A ", b"M4B ", b"M4P ", b"F4A ")
_VIDEO_ONLY_BRANDS: Final = (b"qt  ", b"M4V ")


def audio_mime_for(declared: str) -> str:
    """The canonical MIME type of a declared one or a ``format`` (``mp3``: ``audio/mpeg``)."""
    value = declared.strip().lower()
    if value in AUDIO_FORMATS:
        return AUDIO_FORMATS[value]
    return _MIME_ALIASES.get(value, value)


def format_for_mime(mime_type: str) -> str | None:
    """The ``format`` name for a MIME type (``audio/mpeg`` -> ``mp3``), if there is one."""
    canonical = audio_mime_for(mime_type)
    return next((name for name, mime in AUDIO_FORMATS.items() if mime == canonical), None)


def sniff_audio_mime(head: bytes) -> str | None:
    """The MIME type of an audio container from its first bytes, or ``None`` if unknown."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] == b"fLaC":
        return "audio/flac"
    if head[:4] == b"OggS":
        return "audio/ogg"
    if head[:3] == b"ID3":
        return "audio/mpeg"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "audio/webm"
    if head[4:8] == b"ftyp" and head[8:12] in _AUDIO_MP4_BRANDS:
        return "audio/mp4"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF0 == 0xF0 and head[1] & 0x06 == 0:
        return "audio/aac"  # ADTS: sync word, layer bits 00
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "audio/mpeg"  # an MPEG audio frame header (MP3 without ID3)
    return None


def _not_audio(head: bytes) -> str | None:
    for magic, what in _NOT_AUDIO:
        if head.startswith(magic):
            return what
    if head[4:8] == b"ftyp" and head[8:12] in _VIDEO_ONLY_BRANDS:
        return "a video (QuickTime or M4V)"
    return None


def _head(payload: str) -> bytes | None:
    chunk = payload[: _HEAD_BYTES // 3 * 4]
    try:
        return base64.b64decode(chunk + "=" * (-len(chunk) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def check_audio_data_url(url: str) -> str:
    """Return ``url`` with the MIME type its bytes show; refuse bytes that are not audio.

    Args:
        url: a ``data:<mime>;base64,<payload>`` URL of an audio part.

    Returns:
        The same URL, its MIME type canonical (``audio/x-wav`` -> ``audio/wav``) and
        corrected when the bytes are a different audio container than declared.

    Raises:
        UnsupportedContentError: if the URL is not base64, or its bytes are clearly not
            audio (an image, a document, text, a QuickTime video).

    """
    header, comma, payload = url.partition(",")
    if not comma or not header.lower().endswith(";base64"):
        raise UnsupportedContentError(
            "An audio data URL must look like data:audio/<type>;base64,<data>; got one "
            f"starting {header[:40]!r}."
        )
    declared = audio_mime_for(header[len("data:") : -len(";base64")] or "audio/wav")
    head = _head(payload)
    if head is None:
        raise UnsupportedContentError(
            f"The audio data URL ({declared}) is not valid base64; encode the audio file's "
            "bytes with base64.b64encode."
        )
    wrong = _not_audio(head)
    if wrong is not None:
        raise UnsupportedContentError(
            f"An audio part declared as {declared} holds {wrong}, not sound. Send images as "
            "image parts and videos as video parts (VideoLoader); audio as WAV, MP3, FLAC, "
            "OGG, AAC or M4A."
        )
    sniffed = sniff_audio_mime(head)
    if sniffed is None and head[4:8] == b"ftyp":
        sniffed = "audio/mp4"  # an MP4 container of some other brand: M4A at best
    return f"data:{sniffed or declared};base64,{payload}"
