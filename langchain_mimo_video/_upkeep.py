"""MediaStore upkeep: a size bound, removal, and what killed writers left behind.

The least recently used entries go first. An entry's last use is the time it was last put
or opened: the bytes file's modified time on a local folder (``os.utime`` on use), an empty
``<id>.used`` marker's on fsspec. Nothing here removes an entry open for reading in this
process, the entry a put is storing, or one used in the last :data:`RECENT_SECONDS`
(another process may be about to read it).
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
import weakref
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Final, cast

from langchain_mimo_video._storage import TEMP_PREFIX, USED_SUFFIX, Backend, StoredFile

__all__ = [
    "RECENT_SECONDS",
    "STALE_TEMP_SECONDS",
    "Entry",
    "Reading",
    "in_use",
    "prune",
    "register_reader",
    "remove_entry",
    "scan_entries",
]

#: Entries put or opened less than this many seconds ago are never evicted.
RECENT_SECONDS: Final = 60.0
#: Temporary files untouched for this long, whose writer is gone, are removed.
STALE_TEMP_SECONDS: Final = 3600.0

_ID = re.compile(r"[0-9a-f]{64}")
_SIDECARS: Final = (".json", USED_SUFFIX)


@dataclass
class Entry:
    """One stored video: its id, bytes on disk (with metadata and marker) and last use."""

    media_id: str
    size: int = 0
    used: float = 0.0
    modified: float = 0.0
    has_bytes: bool = False
    files: list[str] = field(default_factory=list)


def scan_entries(backend: Backend) -> tuple[dict[str, Entry], list[StoredFile]]:
    """Group a store's files by entry; return the entries and the temporary files."""
    found: dict[str, Entry] = {}
    temps: list[StoredFile] = []
    for stored in backend.scan():
        if stored.name.startswith(TEMP_PREFIX):
            temps.append(stored)
            continue
        media_id = stored.name
        for suffix in _SIDECARS:
            media_id = media_id.removesuffix(suffix)
        if not _ID.fullmatch(media_id) or stored.shard != media_id[:2]:
            continue  # not ours: left alone
        entry = found.setdefault(media_id, Entry(media_id))
        entry.size += stored.size
        entry.files.append(stored.name)
        entry.modified = max(entry.modified, stored.modified)
        if stored.name == media_id:
            entry.has_bytes = True
        if stored.name != media_id + ".json":  # the bytes or the marker say when used
            entry.used = max(entry.used, stored.modified)
    return found, temps


# Files opened for reading in this process, by (store label, id).
_readers: dict[tuple[str, str], list[weakref.ref[IO[bytes]]]] = {}
_lock = threading.Lock()


class Reading:
    """A stored file open for reading: the backend's file, whose closing is noticed.

    Some filesystems' files never close (fsspec's memory files are the stored object
    itself), so the store hands out this wrapper and watches it instead.
    """

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (or the file itself was closed)."""
        return self._closed or bool(self._file.closed)

    def close(self) -> None:
        """Close the file; the entry is no longer in use by it."""
        self._closed = True
        self._file.close()

    def __enter__(self) -> Reading:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._file)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


def register_reader(label: str, media_id: str, file: IO[bytes]) -> IO[bytes]:
    """Wrap ``file``, a reader of entry ``media_id`` of store ``label``, to watch it."""
    reading = Reading(file)
    with _lock:
        refs = [ref for ref in _readers.get((label, media_id), []) if _open(ref)]
        refs.append(weakref.ref(reading))  # type: ignore[arg-type]
        _readers[(label, media_id)] = refs
    return cast(IO[bytes], reading)


def in_use(label: str, media_id: str) -> bool:
    """Whether a file opened by :func:`register_reader` for this entry is still open."""
    with _lock:
        refs = [ref for ref in _readers.get((label, media_id), []) if _open(ref)]
        if refs:
            _readers[(label, media_id)] = refs
        else:
            _readers.pop((label, media_id), None)
        return bool(refs)


def _open(ref: weakref.ref[IO[bytes]]) -> bool:
    file = ref()
    return file is not None and not file.closed


def remove_entry(backend: Backend, media_id: str, files: Iterable[str] | None = None) -> bool:
    """Delete an entry's bytes, then its metadata and marker; whether the bytes were there."""
    names = list(files) if files is not None else [media_id]
    names = [media_id] + [name for name in names if name != media_id]
    for suffix in _SIDECARS:
        if media_id + suffix not in names:
            names.append(media_id + suffix)
    removed = False
    for name in names:  # the bytes first: an id never names metadata without its bytes
        with contextlib.suppress(OSError):  # e.g. Windows: open in another process
            gone = backend.remove(name)
            removed = removed or (gone and name == media_id)
    return removed


def prune(
    backend: Backend,
    label: str,
    *,
    max_bytes: int | None,
    older_than: float | None,
    keep: Collection[str] = (),
    temp_older_than: float = STALE_TEMP_SECONDS,
) -> list[str]:
    """Evict entries down to ``max_bytes``, and those unused for ``older_than`` seconds.

    Returns:
        The ids removed, least recently used first.
    """
    now = time.time()
    entries, temps = scan_entries(backend)
    for temp in temps:
        with contextlib.suppress(OSError):
            backend.remove_stale_temp(temp, temp_older_than)
    removed: list[str] = []
    for entry in [e for e in entries.values() if not e.has_bytes]:
        # metadata whose bytes went (a crash between two removals), once surely not mid-put
        if now - entry.modified > temp_older_than:
            remove_entry(backend, entry.media_id, entry.files)
        del entries[entry.media_id]
    total = sum(entry.size for entry in entries.values())
    for entry in sorted(entries.values(), key=lambda e: (e.used, e.media_id)):
        too_old = older_than is not None and now - entry.used > older_than
        too_big = max_bytes is not None and total > max_bytes
        if not (too_old or too_big):
            continue
        if (
            entry.media_id in keep
            or now - entry.used < RECENT_SECONDS
            or in_use(label, entry.media_id)
        ):
            continue
        if remove_entry(backend, entry.media_id, entry.files):
            removed.append(entry.media_id)
        total -= entry.size
    return removed
