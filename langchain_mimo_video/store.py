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
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Final, TypeAlias, TypeVar

from langchain_mimo_video import _upkeep
from langchain_mimo_video._media_info import MediaInfo, measure
from langchain_mimo_video._storage import Backend, FsspecBackend, LocalBackend, default_store_root
from langchain_mimo_video.errors import MiMoError, VideoSourceError, VideoValidationError

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
# MediaStore
# ---------------------------------------------------------------------------


class MediaStore:
    """A content-addressed store of video bytes, shared by messages that refer to them.

    Entries are named by the SHA-256 of their bytes, so putting the same video twice (from
    two threads, two processes or two machines sharing the store) stores it once. Writes go
    to a temporary name and are renamed into place, so an id never names half-written
    bytes, even after a crash. Only ids of 64 lowercase hex characters are accepted, so no
    id can name a file outside the store.

    With ``max_bytes``, every put that stores new bytes then evicts the least recently used
    entries (last put or opened) until the store fits, but never the entry just put, one
    open for reading in this process, or one used in the last minute (another process may
    be about to read it), so the store can pass the bound for a while. A reference to an
    evicted video fails with the store's missing-video error; load it again.

    Args:
        root: a folder (created private to the user, mode 0o700, when missing), an fsspec
            URL such as ``"s3://bucket/prefix"`` or ``"memory://store"`` (needs the
            ``[store]`` extra), or None for the per-user cache folder
            (:func:`default_store_root`).
        storage_options: passed to fsspec for URL roots (credentials, endpoints).
        max_bytes: the size the store is kept to (bytes, metadata included); None, the
            default, for no bound.

    Raises:
        VideoValidationError: for a ``max_bytes`` that is not a positive integer.

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
        max_bytes: int | None = None,
    ) -> None:
        if max_bytes is not None and (
            isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0
        ):
            raise VideoValidationError(
                f"max_bytes must be a positive number of bytes (or None for no bound), got "
                f"{max_bytes!r:.40}."
            )
        self.max_bytes = max_bytes
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
            if self._backend.exists(media_id):
                self._backend.touch(media_id)
            else:
                with self._backend.writer(media_id) as (writer, commit):
                    for offset in range(0, len(data), _CHUNK):
                        writer.write(data[offset : offset + _CHUNK])
                    commit(media_id)
            self._ensure_info(media_id, data, mime_type)
            return self._bounded(media_id)
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
            return self._bounded(media_id)
        if hasattr(source, "read"):
            media_id = self._put_stream(source, "the file object")
            self._ensure_info(media_id, None, mime_type)
            return self._bounded(media_id)
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
                self._backend.touch(media_id)
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

    def _bounded(self, media_id: str) -> str:
        """Evict down to ``max_bytes`` (keeping ``media_id``) after a put; the id."""
        if self.max_bytes is not None:
            self.prune(keep=(media_id,))
        return media_id

    # -- upkeep ------------------------------------------------------------------

    def remove(self, media_id: str) -> bool:
        """Delete a stored video and its metadata.

        A reader that has it open keeps reading (on POSIX the bytes stay until it closes
        them); a reference to it then fails with :meth:`missing_error`.

        Args:
            media_id: the id to remove.

        Returns:
            Whether the store held it.

        Raises:
            VideoSourceError: for an invalid id.
        """
        return _upkeep.remove_entry(self._backend, validate_media_id(media_id))

    def prune(
        self,
        *,
        max_bytes: int | None = None,
        older_than: float | None = None,
        keep: Iterable[str] = (),
        temp_older_than: float = _upkeep.STALE_TEMP_SECONDS,
    ) -> list[str]:
        """Evict least recently used entries; remove what killed writers left behind.

        Never removes an entry in ``keep``, one open for reading in this process, or one
        put or opened in the last minute. Temporary files (``.put-*``) go once untouched
        for ``temp_older_than`` seconds, unless their writer still runs: on a local
        folder the writer holds a lock on its file; elsewhere a file names its host and
        process.

        Args:
            max_bytes: evict down to this many bytes; by default the store's ``max_bytes``
                (None: no size bound).
            older_than: also evict entries not used for this many seconds.
            keep: ids never to evict.
            temp_older_than: the age, in seconds, from which a temporary file left by a
                writer that is gone is removed (default one hour).

        Returns:
            The ids removed, least recently used first.

        Example:
            .. code-block:: python

                store = MediaStore(max_bytes=5 * 1024**3)
                store.prune(older_than=7 * 24 * 3600)  # a week unused
        """
        return _upkeep.prune(
            self._backend,
            self.root,
            max_bytes=self.max_bytes if max_bytes is None else max_bytes,
            older_than=older_than,
            keep=set(keep),
            temp_older_than=temp_older_than,
        )

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
                info = measure(media_id, size, file, mime_type)
        else:
            info = measure(media_id, size, source, mime_type)
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
        file = self._lookup(self._backend.open, media_id)
        self._backend.touch(media_id)
        return _upkeep.register_reader(self.root, media_id, file)  # not evicted while open

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
