"""MediaStore: a content-addressed store of the exact video bytes that will be sent.

A message that holds a video by reference carries a small standard block instead of the
video's base64::

    {"type": "video", "file_id": "mimo-media:<sha256>", "mime_type": "video/mp4",
     "extras": {"fps": 2.0, "media_resolution": "default"}}

The bytes live in a :class:`MediaStore` under their SHA-256, with the metadata a token
estimate needs (duration, frame size, audio, MIME type) beside them, and are streamed into
the request only when it is sent. Checkpoints, traces and caches keep the block, not the
video.

The store is a local folder by default (a per-user cache folder, private to the user), any
folder given as ``root``, or any fsspec URL (``s3://bucket/prefix``, ``gs://...``,
``memory://...``) with the ``[store]`` extra, so workers on other machines share one store.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Final, TypeAlias, TypeVar

from langchain_mimo_video._storage import Backend, FsspecBackend, LocalBackend, default_store_root
from langchain_mimo_video.errors import MiMoError, VideoSourceError

__all__ = [
    "REFERENCE_PREFIX",
    "MediaInfo",
    "MediaStore",
    "StoreSource",
    "default_store_root",
    "is_reference",
    "make_reference_part",
    "no_store_error",
    "reference_id",
    "resolve_reference",
    "validate_media_id",
]

#: What :meth:`MediaStore.put` accepts: bytes, a local path, or a binary file object.
StoreSource: TypeAlias = bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes]

#: The ``file_id`` prefix of a reference to a :class:`MediaStore` entry.
REFERENCE_PREFIX: Final = "mimo-media:"

_ID = re.compile(r"[0-9a-f]{64}")
_T = TypeVar("_T")
# Bytes copied and hashed at a time.
_CHUNK: Final = 1024 * 1024
_INFO_SUFFIX: Final = ".json"


# ---------------------------------------------------------------------------
# Ids and reference parts
# ---------------------------------------------------------------------------


def validate_media_id(media_id: object) -> str:
    """Return ``media_id`` if it is a store id: exactly 64 lowercase hex characters.

    Nothing else is ever turned into a path, so no id can name a file outside the store
    (``../``, absolute paths, separators, upper case and whitespace are all refused).

    Raises:
        VideoSourceError: if ``media_id`` is not a SHA-256 hex digest.
    """
    if isinstance(media_id, str) and _ID.fullmatch(media_id):
        return media_id
    shown = repr(media_id) if len(repr(media_id)) <= 80 else repr(media_id)[:77] + "..."
    raise VideoSourceError(
        f"{shown} is not a MediaStore id: an id is the SHA-256 of the stored bytes, 64 "
        "lowercase hex characters, as MediaStore.put returns it. Reference parts are made "
        "by VideoLoader(store=...) or make_reference_part; do not write file ids by hand."
    )


def is_reference(block: object) -> bool:
    """Whether ``block`` is a content block that refers to a :class:`MediaStore` entry."""
    if not isinstance(block, Mapping):
        return False
    file_id = block.get("file_id")
    return isinstance(file_id, str) and file_id.startswith(REFERENCE_PREFIX)


def reference_id(block_or_file_id: Mapping[str, Any] | str) -> str:
    """The store id a reference block (or its ``file_id`` string) points to.

    Args:
        block_or_file_id: a block with a ``mimo-media:`` ``file_id``, or that string.

    Returns:
        The validated 64-character id.

    Raises:
        VideoSourceError: if it is not a ``mimo-media:`` reference with a valid id.
    """
    file_id = (
        block_or_file_id.get("file_id")
        if isinstance(block_or_file_id, Mapping)
        else block_or_file_id
    )
    if not isinstance(file_id, str) or not file_id.startswith(REFERENCE_PREFIX):
        raise VideoSourceError(
            f"Not a MediaStore reference: expected a file_id starting {REFERENCE_PREFIX!r}, "
            f"got {file_id!r:.80}."
        )
    return validate_media_id(file_id[len(REFERENCE_PREFIX) :])


def make_reference_part(
    media_id: str,
    *,
    mime_type: str,
    fps: float | None = None,
    media_resolution: str | None = None,
) -> dict[str, Any]:
    """Build the standard video block that refers to a stored video.

    Args:
        media_id: the id :meth:`MediaStore.put` returned.
        mime_type: the video's MIME type, e.g. ``"video/mp4"``.
        fps: frames MiMo samples per second, in [0.1, 10]; omitted when None.
        media_resolution: ``"default"`` or ``"max"``; omitted when None.

    Returns:
        ``{"type": "video", "file_id": "mimo-media:<id>", "mime_type": ..., "extras": {...}}``,
        a few hundred bytes as JSON.

    Raises:
        VideoSourceError: for an invalid id.
        VideoValidationError: for an fps or media_resolution outside the documented values.

    Example:
        .. code-block:: python

            store = MediaStore()
            media_id = store.put("clip.mp4")
            part = make_reference_part(media_id, mime_type="video/mp4", fps=1)
    """
    from langchain_mimo_video.video import validate_fps, validate_media_resolution

    extras: dict[str, Any] = {}
    if fps is not None:
        extras["fps"] = validate_fps(fps)
    if media_resolution is not None:
        extras["media_resolution"] = validate_media_resolution(media_resolution)
    return {
        "type": "video",
        "file_id": REFERENCE_PREFIX + validate_media_id(media_id),
        "mime_type": mime_type,
        "extras": extras,
    }


def resolve_reference(
    block: Mapping[str, Any], store: MediaStore | None, defaults: Any = None
) -> dict[str, Any]:
    """MiMo's ``video_url`` part for a reference block, checked against ``store``.

    The part's URL stays the ``mimo-media:`` reference: the video's base64 is produced
    from the store only while the request is sent (see ``_body.build_body``), so the
    converted request stays small too.

    Args:
        block: a standard video block with a ``mimo-media:`` ``file_id``.
        store: the store the video was put in (None: no store configured).
        defaults: ``VideoDefaults`` (fps / media_resolution) for a block that sets neither.

    Returns:
        ``{"type": "video_url", "video_url": {"url": "mimo-media:<id>"}, "fps": ...,
        "media_resolution": ...}``.

    Raises:
        VideoSourceError: an invalid id, no store, or a video not in the store.
        VideoValidationError: an fps or media_resolution outside the documented values.
    """
    from langchain_mimo_video.video import (
        VideoDefaults,
        validate_fps,
        validate_media_resolution,
    )

    media_id = reference_id(block)
    if store is None:
        raise no_store_error(media_id)
    if media_id not in store:
        raise store.missing_error(media_id)
    defaults = defaults or VideoDefaults()
    extras = block.get("extras") if isinstance(block.get("extras"), Mapping) else {}
    assert isinstance(extras, Mapping)

    def option(name: str, default: Any) -> Any:
        for where in (block, extras):
            if where.get(name) is not None:
                return where[name]
        return default

    return {
        "type": "video_url",
        "video_url": {"url": REFERENCE_PREFIX + media_id},
        "fps": validate_fps(option("fps", defaults.fps)),
        "media_resolution": validate_media_resolution(
            option("media_resolution", defaults.media_resolution)
        ),
    }


def no_store_error(media_id: str) -> VideoSourceError:
    """The error for a reference met where no :class:`MediaStore` is configured."""
    return VideoSourceError(
        f"The message refers to the stored video {REFERENCE_PREFIX}{media_id}, but no "
        "MediaStore was given to resolve it: create the chat model with "
        "ChatMiMo(media_store=store), with the store the video was loaded into "
        "(VideoLoader(store=store))."
    )


# ---------------------------------------------------------------------------
# Metadata
# ---------------------------------------------------------------------------


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


def _measure(media_id: str, size: int, source: Any, mime_type: str | None) -> MediaInfo:
    """Probe ``source`` (bytes, a path or a file object) into a :class:`MediaInfo`.

    A store keeps any bytes; when they cannot be probed (no PyAV, not a video PyAV reads)
    only the size and MIME type are kept, and a later :meth:`MediaStore.info` tries again.
    """
    from langchain_mimo_video.media import probe

    try:
        info = probe(source)
    except MiMoError:
        head = _head(source)
        return MediaInfo(media_id, size, mime_type or _sniff(head))
    return MediaInfo(
        media_id,
        size,
        mime_type or info.mime_type or _sniff(_head(source)),
        duration=info.duration,
        width=info.width,
        height=info.height,
        has_audio=info.has_audio,
        frame_rate=info.frame_rate or None,
        video_codec=info.video_codec,
    )


def _head(source: Any) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source[:256])
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as file:
            return file.read(256)
    source.seek(0)
    head: bytes = source.read(256)
    return head


def _sniff(head: bytes) -> str:
    from langchain_mimo_video.video import sniff_video_mime

    return sniff_video_mime(head) or "application/octet-stream"


# ---------------------------------------------------------------------------
# MediaStore
# ---------------------------------------------------------------------------


class MediaStore:
    """A content-addressed store of video bytes, shared by messages that refer to them.

    Entries are named by the SHA-256 of their bytes, so putting the same video twice (from
    two threads, two processes or two machines sharing the store) stores it once. Writes go
    to a temporary name and are renamed into place, so an id never names half-written
    bytes, even after a crash. Only ids of 64 lowercase hex characters are accepted, so no
    id can name a file outside the store.

    Args:
        root: a folder (created private to the user, mode 0o700, when missing), an fsspec
            URL such as ``"s3://bucket/prefix"`` or ``"memory://store"`` (needs the
            ``[store]`` extra), or None for the per-user cache folder
            (:func:`default_store_root`).
        storage_options: passed to fsspec for URL roots (credentials, endpoints).

    Example:
        .. code-block:: python

            from langchain_mimo_video import MediaStore

            store = MediaStore()
            media_id = store.put("clip.mp4")
            media_id in store  # True
            store.info(media_id).duration  # seconds, from the stored metadata
            with store.open(media_id) as file:
                head = file.read(16)
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._backend: Backend
        if root is None:
            self._backend = LocalBackend(default_store_root(), private=True)
        elif isinstance(root, str) and re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", root):
            if root.lower().startswith("file://"):
                self._backend = LocalBackend(Path(root[len("file://") :]), private=False)
            else:
                self._backend = FsspecBackend(root, storage_options or {})
        else:
            self._backend = LocalBackend(Path(root), private=False)

    @property
    def root(self) -> str:
        """Where the store lives: its folder, or its fsspec URL."""
        return self._backend.label()

    def __repr__(self) -> str:
        return f"MediaStore(root={self.root!r})"

    # -- writing -----------------------------------------------------------------

    def put(self, source: StoreSource, *, mime_type: str | None = None) -> str:
        """Store ``source``'s bytes (if not already there); return their id.

        The metadata a token estimate needs is measured once (with PyAV, when installed)
        and kept beside the bytes.

        Args:
            source: bytes, a local path, or a binary file object (read from its current
                position to its end).
            mime_type: the MIME type to record; by default the container's (or, without
                PyAV, what the first bytes look like).

        Returns:
            The SHA-256 hex digest of the bytes: the reference id.

        Raises:
            VideoSourceError: a missing or unreadable file, a file that changed while it
                was read, or an unsupported source type.
        """
        if isinstance(source, bytes | bytearray | memoryview):
            data = memoryview(source)
            media_id = hashlib.sha256(data).hexdigest()
            if not self._backend.exists(media_id):
                with self._backend.writer(media_id) as (writer, commit):
                    for offset in range(0, len(data), _CHUNK):
                        writer.write(data[offset : offset + _CHUNK])
                    commit(media_id)
            self._ensure_info(media_id, data, mime_type)
            return media_id
        # a scheme of two letters or more (one letter is a Windows drive)
        if isinstance(source, str) and re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]+:", source[:16]):
            raise VideoSourceError(
                f"MediaStore.put takes local bytes, a path or a binary file, not a URL "
                f"({source[:40]!r}); VideoLoader sends http(s) videos as their URL and "
                "stores data: URLs' bytes."
            )
        if isinstance(source, str | os.PathLike):
            path = Path(source)
            try:
                with path.open("rb") as file:
                    media_id = self._put_stream(file, str(path))
            except MiMoError:
                raise
            except OSError as error:
                raise VideoSourceError(f"Cannot read the video file {path}: {error}.") from None
            self._ensure_info(media_id, path, mime_type)
            return media_id
        if hasattr(source, "read"):
            media_id = self._put_stream(source, "the file object")
            self._ensure_info(media_id, None, mime_type)
            return media_id
        raise VideoSourceError(
            f"MediaStore.put takes bytes, a path or a binary file object, not a "
            f"{type(source).__name__}."
        )

    def _put_stream(self, file: IO[bytes], label: str) -> str:
        start = _tell(file)
        if start is not None:
            # Hash first: content already stored is then not copied again.
            digest = hashlib.sha256()
            for piece in _pieces(file):
                digest.update(piece)
            media_id = digest.hexdigest()
            if self._backend.exists(media_id):
                return media_id
            file.seek(start)
        else:
            media_id = None
        with self._backend.writer(media_id or "00") as (writer, commit):
            for piece in _pieces(file):
                writer.write(piece)
            written = writer.digest.hexdigest()
            if media_id is not None and written != media_id:
                raise VideoSourceError(
                    f"{label} changed while it was being stored (its bytes no longer hash "
                    "the same); store it again once it is no longer being written."
                )
            commit(written)
        return written

    def _ensure_info(self, media_id: str, source: Any, mime_type: str | None) -> MediaInfo:
        name = media_id + _INFO_SUFFIX
        with contextlib.suppress(FileNotFoundError, OSError, ValueError, KeyError, TypeError):
            info = MediaInfo.from_json(self._backend.read(name))
            if info.probed and (mime_type is None or info.mime_type == mime_type):
                return info
        size = self._backend.size(media_id)
        local = self._backend.local_path(media_id)
        if source is None or local is not None:
            source = local
        if source is None:
            with self._backend.open(media_id) as file:
                info = _measure(media_id, size, file, mime_type)
        else:
            info = _measure(media_id, size, source, mime_type)
        with contextlib.suppress(OSError):
            self._backend.write_small(name, info.to_json())
        return info

    # -- reading -----------------------------------------------------------------

    def __contains__(self, media_id: object) -> bool:
        if not isinstance(media_id, str) or not _ID.fullmatch(media_id):
            return False
        try:
            return self._backend.exists(media_id)
        except OSError:
            return False

    def missing_error(self, media_id: str) -> VideoSourceError:
        """Return the error for a reference to a video this store does not hold.

        Args:
            media_id: the id of the video that is missing.

        Returns:
            The :class:`~langchain_mimo_video.errors.VideoSourceError` to raise; its message
            names the store's folder and how to store the video again.

        """
        return VideoSourceError(
            f"The video {REFERENCE_PREFIX}{media_id} is not in the MediaStore at {self.root} "
            "(was the store folder removed, or is this a different store?). Load the video "
            "again with VideoLoader(store=...), or give ChatMiMo the store it was put in."
        )

    def open(self, media_id: str) -> IO[bytes]:
        """Open a stored video's bytes for reading (a binary, seekable file object).

        Raises:
            VideoSourceError: for an invalid id, or an id not in the store.
        """
        return self._lookup(self._backend.open, media_id)

    def size(self, media_id: str) -> int:
        """Size in bytes of a stored video.

        Raises:
            VideoSourceError: for an invalid id, or an id not in the store.
        """
        return self._lookup(self._backend.size, media_id)

    def _lookup(self, method: Callable[[str], _T], media_id: str) -> _T:
        validate_media_id(media_id)
        try:
            return method(media_id)
        except (FileNotFoundError, NotADirectoryError):
            raise self.missing_error(media_id) from None

    def info(self, media_id: str) -> MediaInfo:
        """The stored metadata of a video, measured again only if it is missing.

        Raises:
            VideoSourceError: for an invalid id, or an id not in the store.
        """
        validate_media_id(media_id)
        if media_id not in self:
            raise self.missing_error(media_id)
        return self._ensure_info(media_id, None, None)

    def local_path(self, media_id: str) -> Path | None:
        """The stored file's path for a local store; None for fsspec stores."""
        return self._backend.local_path(validate_media_id(media_id))


def _tell(file: IO[bytes]) -> int | None:
    try:
        return file.tell() if file.seekable() else None
    except (OSError, ValueError, AttributeError):
        return None


def _pieces(file: IO[bytes]) -> Iterator[bytes]:
    while True:
        try:
            piece = file.read(_CHUNK)
        except OSError as error:
            raise VideoSourceError(f"Cannot read the video: {error}.") from None
        if not piece:
            return
        if not isinstance(piece, bytes | bytearray):
            raise VideoSourceError("MediaStore.put needs a binary file object (opened 'rb').")
        yield piece
