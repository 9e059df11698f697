"""What a MediaStore keeps beside each video: the metadata a token estimate needs.

Measured once with PyAV when the bytes are put (duration, frame size, audio, codec), or,
without PyAV, just the size and the MIME type the first bytes show.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import Any

from langchain_mimo_video.errors import MiMoError

__all__ = ["MediaInfo", "head_of", "measure", "sniff"]


@dataclass(frozen=True)
class MediaInfo:
    """What a token estimate needs to know about a stored video, kept beside its bytes.

    Attributes:
        media_id: the SHA-256 id.
        size: size of the stored bytes.
        mime_type: MIME type (from the container when probed, else from the first bytes).
        duration: seconds, or None when it could not be probed (no PyAV, not a video).
        width: displayed width in pixels, or None.
        height: displayed height in pixels, or None.
        has_audio: whether there is an audio track, or None.
        frame_rate: average frames per second, or None.
        video_codec: e.g. ``"h264"``, or None.
    """

    media_id: str
    size: int
    mime_type: str
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    has_audio: bool | None = None
    frame_rate: float | None = None
    video_codec: str | None = None

    @property
    def probed(self) -> bool:
        """Whether the video was measured (duration, size and audio are known)."""
        return self.duration is not None and self.width is not None and self.height is not None

    def to_json(self) -> bytes:
        """The JSON kept beside the bytes."""
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> MediaInfo:
        """Read :meth:`to_json` output; unknown keys (from newer versions) are ignored."""
        raw = json.loads(data)
        known = {name: raw[name] for name in cls.__dataclass_fields__ if name in raw}
        return cls(**known)


def measure(media_id: str, size: int, source: Any, mime_type: str | None) -> MediaInfo:
    """Probe ``source`` (bytes, a path or a file object) into a :class:`MediaInfo`.

    A store keeps any bytes; when they cannot be probed (no PyAV, not a video PyAV reads)
    only the size and MIME type are kept, and a later :meth:`MediaStore.info` tries again.
    """
    from langchain_mimo_video.media import probe

    try:
        info = probe(source)
    except MiMoError:
        head = head_of(source)
        return MediaInfo(media_id, size, mime_type or sniff(head))
    return MediaInfo(
        media_id,
        size,
        mime_type or info.mime_type or sniff(head_of(source)),
        duration=info.duration,
        width=info.width,
        height=info.height,
        has_audio=info.has_audio,
        frame_rate=info.frame_rate or None,
        video_codec=info.video_codec,
    )


def head_of(source: Any) -> bytes:
    """The first 256 bytes of bytes, a path or a (seekable) file object."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source[:256])
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as file:
            return file.read(256)
    source.seek(0)
    head: bytes = source.read(256)
    return head


def sniff(head: bytes) -> str:
    """The video MIME type ``head`` looks like, else ``application/octet-stream``."""
    from langchain_mimo_video.video import sniff_video_mime

    return sniff_video_mime(head) or "application/octet-stream"
