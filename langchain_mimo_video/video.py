"""VideoLoader: video sources (URLs, files, bytes, blocks) to validated MiMo ``video_url`` parts.

MiMo takes a video as a message part with ``fps`` and ``media_resolution`` beside the
``video_url`` object::

    {"type": "video_url", "video_url": {"url": "..."}, "fps": 2, "media_resolution": "default"}

Everything here checks the documented limits before a request is built, so a bad value
fails in the caller's process with a message that names the rule and the fix. The pieces
live in private modules and are importable from here as before: parts and single values
(``_parts``), data URLs (``_data_urls``), reading and sniffing sources (``_sources``), the
PyAV steps (``_media_steps``) and where the bytes to send go (``_sinks``).
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, cast

from langchain_mimo_video._data_urls import (
    base64_length,
    data_url_length,
    encode_bytes_data_url,
    encode_data_url,
    encoded_here,
    too_large,
)
from langchain_mimo_video._media_steps import (
    converted,
    fitted,
    has_pyav,
    progress,
    tqdm_class,
    verified,
)
from langchain_mimo_video._parts import (
    VideoDefaults,
    VideoPart,
    VideoUrl,
    make_video_part,
    shown,
    validate_fps,
    validate_media_resolution,
    validate_video_url,
    video_part_from_block,
)
from langchain_mimo_video._sinks import DataUrlSink, Sent, Sink, Stored, StoreSink
from langchain_mimo_video._sources import (
    StreamWindow,
    local_media,
    reading,
    sniff_video_mime,
    source_mime,
    user_path,
)
from langchain_mimo_video._utils import (
    MB,
    VideoSource,
    decode_data_url,
    text_mode_error,
    text_mode_refusal,
)
from langchain_mimo_video.errors import VideoSourceError, VideoTooLargeError, VideoValidationError
from langchain_mimo_video.limits import (
    DEFAULT_FPS,
    DEFAULT_MEDIA_RESOLUTION,
    DOCUMENTED_VIDEO_TYPES,
    MAX_BASE64_BYTES,
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
            ``data:`` URLs) are then streamed into it, exactly as they would be sent
            (no data URL is built), and returned as a reference block of a few hundred
            bytes, ``{"type": "video", "file_id":
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
            raise VideoValidationError(f"fit must be True, False or 'always', got {shown(fit)}.")
        for name, flag in (("convert", convert), ("show_progress", show_progress)):
            if not isinstance(flag, bool):
                raise VideoValidationError(f"{name} must be True or False, got {shown(flag)}.")
        if show_progress:
            tqdm_class()  # fail now, not half-way through a long video
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
        # With a store, the bytes that would be sent go straight into it: no data URL.
        sink: Sink = DataUrlSink() if self.store is None else StoreSink(self.store)
        if start is None and end is None:
            sent = self._sent_for(source, options, sink)
        else:
            sent = self._clip(source, start, end, options, sink)
        if isinstance(sent, Stored):
            reference = make_reference_part(
                sent.media_id,
                mime_type=sent.mime_type,
                fps=options.fps,
                media_resolution=options.media_resolution,
            )
            # A standard video block, not a video_url part; ChatMiMo takes both.
            return cast(VideoPart, reference)
        return {
            "type": "video_url",
            "video_url": {"url": sent},
            "fps": options.fps,
            "media_resolution": options.media_resolution,
        }

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

        local = local_media(source, "split")
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

    def _sent_for(self, source: VideoSource, options: _PartOptions, sink: Sink) -> Sent:
        """An http(s) URL as it is, else what ``sink`` made of the bytes to send."""
        if isinstance(source, str):
            lowered = source[:8].lower()
            if lowered.startswith(("http://", "https://", "data:")):
                url = validate_video_url(source)
                if lowered.startswith("data:"):
                    return self._from_data_url(url, options, sink)
                return url
            if re.match(r"^[a-z][a-z0-9+.-]*://", lowered):
                return validate_video_url(source)  # raises: unsupported scheme
            return self._from_path(user_path(source), options, sink)
        if isinstance(source, os.PathLike):
            return self._from_path(user_path(source), options, sink)
        if isinstance(source, (bytes, bytearray, memoryview)):
            return self._from_bytes(source, options, sink)
        if hasattr(source, "read"):
            return self._from_stream(source, options, sink)
        raise VideoSourceError(
            f"Cannot load a video from a {type(source).__name__}: pass an http(s) URL, a "
            "data: URL, a path, bytes or a binary file object."
        )

    def _from_path(self, path: Path, options: _PartOptions, sink: Sink) -> Sent:
        with reading(path):
            size = path.stat().st_size
            if not path.is_file():
                raise VideoSourceError(f"{path} is not a regular file; pass a video file.")
            with path.open("rb") as stream:
                head = stream.read(256)
                mime = source_mime(head, options.mime_type, path.name, str(path))
                must_fit = self._must_fit(size, mime, f"The video file {path}")
                if not must_fit and mime in DOCUMENTED_VIDEO_TYPES:
                    stream.seek(0)
                    sent, info = sink.while_checked(
                        path,
                        lambda: sink.stream(stream, size, mime),
                        # not for a MIME type given for another container
                        keep=lambda info: not self._converts(info),
                    )
                    if sent is not None:
                        return sent
                info = verified(path)
                if must_fit:
                    return self._fitted(path, options, sink)
                if self._converts(info):
                    return self._converted(path, options, sink)
                self._warn_undocumented(mime, str(path))
                stream.seek(0)
                return sink.stream(stream, size, mime)

    def _from_bytes(
        self, data: bytes | bytearray | memoryview, options: _PartOptions, sink: Sink
    ) -> Sent:
        view = memoryview(data)
        if not len(view):
            raise VideoSourceError("The bytes are empty; pass the bytes of a video file.")
        mime = source_mime(bytes(view[:256]), options.mime_type, None, "The bytes")
        must_fit = self._must_fit(len(view), mime, "The video bytes")
        whole = bytes(view) if not isinstance(data, bytes) else data
        if not must_fit and mime in DOCUMENTED_VIDEO_TYPES:
            sent, info = sink.while_checked(
                whole, lambda: sink.data(view, mime), keep=lambda info: not self._converts(info)
            )
            if sent is not None:
                return sent
        info = verified(whole)
        if must_fit:
            return self._fitted(bytes(view), options, sink)
        if self._converts(info):
            return self._converted(bytes(view), options, sink)
        self._warn_undocumented(mime, "The bytes")
        return sink.data(view, mime)

    def _from_data_url(self, url: str, options: _PartOptions, sink: Sink) -> Sent:
        """Check (and convert or fit, when asked) a ``data:`` URL given by the caller."""
        if self.fit == "always":
            return self._fitted(decode_data_url(url), options, sink)
        if url in encoded_here or not has_pyav():
            # made here from a checked source, or nothing to check it with
            return sink.data_url(url)
        data = decode_data_url(url)
        info = verified(data)
        if self._converts(info):
            return self._converted(data, options, sink)
        return sink.data_url(url, data)

    def _from_stream(self, stream: IO[bytes], options: _PartOptions, sink: Sink) -> Sent:
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
                return self._from_bytes(data, options, sink)
            start = stream.tell()
            size = stream.seek(0, os.SEEK_END) - start
            stream.seek(start)
            head = stream.read(256)
            if isinstance(head, str):
                raise text_mode_refusal(label)
            stream.seek(start)
            mime = source_mime(
                head, options.mime_type, name if isinstance(name, str) else None, label
            )
            must_fit = self._must_fit(size, mime, label)
            info = verified(StreamWindow(stream, start, size))
            stream.seek(start)
            if must_fit:
                return self._fitted(stream.read(), options, sink)
            if self._converts(info):
                return self._converted(stream.read(), options, sink)
            self._warn_undocumented(mime, label)
            return sink.stream(stream, size, mime)
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
        raise too_large(size, mime, label)

    def _fitted(
        self,
        local: Path | bytes,
        options: _PartOptions,
        sink: Sink,
        start: float | None = None,
        end: float | None = None,
    ) -> Sent:
        """Re-encode ``local`` (or its ``start``-``end`` range) at MiMo's frame size."""
        return sink.output(
            fitted(
                local,
                options.fps,
                options.media_resolution,
                show_progress=self.show_progress,
                start=start,
                end=end,
            )
        )

    def _clip(
        self,
        source: VideoSource,
        start: float | None,
        end: float | None,
        options: _PartOptions,
        sink: Sink,
    ) -> Sent:
        local = local_media(source, "cut")
        if isinstance(local, Path):
            with reading(local):
                size = local.stat().st_size
                with local.open("rb") as stream:
                    source_mime(stream.read(256), options.mime_type, local.name, str(local))
        else:
            size = len(local)
            if not size:
                raise VideoSourceError("The bytes are empty; pass the bytes of a video file.")
            source_mime(local[:256], options.mime_type, None, "The bytes")
        if self.max_bytes is not None and size > self.max_bytes:
            raise VideoTooLargeError(
                f"The video is {size / MB:.1f} MB, over this loader's max_bytes of "
                f"{self.max_bytes / MB:.1f} MB.",
                size=size,
                limit=self.max_bytes,
            )
        info = verified(local)
        if self.fit:
            return self._fitted(local, options, sink, start, end)
        from langchain_mimo_video.media import clip_video, probe

        begin = 0.0 if start is None else start
        if end is not None:
            finish = end
        else:
            finish = info.duration if info is not None else probe(local).duration
        with progress(self.show_progress, "cutting") as report:
            path = clip_video(local, begin, finish, on_progress=report)
        clipped_size = path.stat().st_size
        if data_url_length(clipped_size, "video/mp4") > MAX_BASE64_BYTES:
            path.unlink(missing_ok=True)
            raise too_large(clipped_size, "video/mp4", "The clip")
        return sink.output(path)

    def _converts(self, info: Any) -> bool:
        """Whether to convert a checked video (None: PyAV is not installed) to MP4."""
        if info is None or not self.convert:
            return False
        from langchain_mimo_video.media import needs_conversion

        return bool(needs_conversion(info))

    def _converted(self, local: Path | bytes, options: _PartOptions, sink: Sink) -> Sent:
        """Remux or re-encode a video in a container MiMo does not document into MP4."""
        return sink.output(
            converted(
                local,
                options.fps,
                options.media_resolution,
                fit=bool(self.fit),
                show_progress=self.show_progress,
            )
        )

    def _warn_undocumented(self, mime: str, label: str) -> None:
        if mime not in DOCUMENTED_VIDEO_TYPES:
            hint = (
                "VideoLoader(convert=True) converts it to MP4."
                if has_pyav()
                else 'install "langchain-mimo-video[media]" to have it converted to MP4.'
            )
            warnings.warn(
                f"{label} is {mime}; MiMo documents only MP4, MOV, AVI and WMV, so it may be "
                f"rejected. {hint}",
                stacklevel=5,
            )


@dataclass(frozen=True)
class _PartOptions:
    fps: float
    media_resolution: str
    mime_type: str | None
