"""Description caches: what MiMo said about a segment, kept so a re-run never pays twice.

A description is stored under a key made of everything that decides the answer: the
SHA-256 of the video's bytes (not its path, so moving or renaming a file still hits), the
segment's time range, the model, fps, media_resolution, the prompt and the output settings.
Changing any of them makes a new key, so that segment is described again.

A file's SHA-256 is remembered by what ``stat`` says of it (resolved path, size, mtime,
ctime, inode and device), so a re-run over an unchanged library reads no video byte to
hash it: the SQLite cache keeps those hashes in a table beside the descriptions (shared by
processes); every other cache remembers them for the life of the process.

Two backends: :class:`SQLiteDescriptionCache`, written on the standard library's
``sqlite3`` (the default; WAL mode, safe for many threads and processes, each segment
written as soon as it is described), and :class:`LangChainDescriptionCache`, which stores
descriptions in any ``langchain_core.caches.BaseCache`` (LangChain's Redis, Postgres or
SQLite caches plug in unchanged).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from langchain_core.caches import BaseCache
from langchain_core.outputs import Generation

from langchain_mimo_video.errors import VideoSourceError

__all__ = [
    "DescriptionCache",
    "FileFingerprint",
    "LangChainDescriptionCache",
    "SQLiteDescriptionCache",
    "as_description_cache",
    "description_key",
    "file_fingerprint",
    "file_sha256",
]

#: Bumped when the stored value's layout changes, so old rows are never misread.
CACHE_VERSION: Final = 1
#: The ``llm_string`` under which descriptions go into a LangChain ``BaseCache``.
LANGCHAIN_NAMESPACE: Final = f"langchain_mimo_video.description/v{CACHE_VERSION}"
_HASH_CHUNK: Final = 1 << 20
#: A hash taken this soon after the file's last change is used but not remembered: on a
#: file system with coarse timestamps a rewrite within the same tick keeps the same mtime.
_SETTLED_NS: Final = 2_000_000_000

FileFingerprint = tuple[str, int, int, int, int, int]
"""What identifies one version of a file: resolved path, size, mtime_ns, ctime_ns (0 on
Windows, where it is the creation time), inode and device (0 where the OS has none)."""


class DescriptionCache(ABC):
    """Where finished descriptions are kept, by key (see :func:`description_key`).

    Values are JSON-able dicts. Implementations must be safe to call from several threads.
    """

    @abstractmethod
    def lookup(self, key: str) -> dict[str, Any] | None:
        """The value stored under ``key``, or ``None``."""

    @abstractmethod
    def update(self, key: str, value: Mapping[str, Any]) -> None:
        """Store ``value`` under ``key`` (replacing any older value), durably, now."""

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.lookup(key) is not None

    def known_file_hash(self, fingerprint: FileFingerprint) -> str | None:
        """The SHA-256 remembered for this version of a file, or ``None``.

        The default remembers hashes for the life of the process (shared by every cache in
        it); :class:`SQLiteDescriptionCache` keeps them in its database as well.
        """
        with _hash_lock:
            return _hash_memo.get(fingerprint)

    def remember_file_hash(self, fingerprint: FileFingerprint, sha256: str) -> None:
        """Remember ``sha256`` as the hash of this version of a file."""
        with _hash_lock:
            _hash_memo[fingerprint] = sha256


class SQLiteDescriptionCache(DescriptionCache):
    """Descriptions in one SQLite file, shared by threads and processes.

    The database runs in WAL mode; every :meth:`update` is its own committed transaction,
    so a run killed at any moment keeps every segment finished before it. A second table,
    ``file_hashes``, keeps each local file's SHA-256 with its :data:`FileFingerprint` (one
    row per path), so a later run, in any process, does not read an unchanged file again.

    Args:
        path: the database file (created with its folder when missing).
        timeout: seconds to wait for another writer's lock.

    Example:
        .. code-block:: python

            cache = SQLiteDescriptionCache("library.sqlite")
            VideoDescriptionLoader.from_directory("clips", cache=cache, segment_seconds=30)
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.timeout = timeout
        self._local = threading.local()
        self._connect()  # create the table now: a bad path fails here, not mid-run

    def __repr__(self) -> str:
        return f"{type(self).__name__}({os.fspath(self.path)!r})"

    def __getstate__(self) -> dict[str, Any]:  # connections stay with their process
        return {"path": self.path, "timeout": self.timeout}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path, self.timeout = state["path"], state["timeout"]
        self._local = threading.local()

    def _connect(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS descriptions "
                "(key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            # The fingerprint as JSON: inode numbers can pass SQLite's signed 64 bits.
            connection.execute(
                "CREATE TABLE IF NOT EXISTS file_hashes "
                "(path TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, sha256 TEXT NOT NULL)"
            )
            self._local.connection = connection
        return connection

    def lookup(self, key: str) -> dict[str, Any] | None:
        """The value stored under ``key``, or ``None``."""
        row = (
            self._connect()
            .execute("SELECT value FROM descriptions WHERE key = ?", (key,))
            .fetchone()
        )
        return None if row is None else dict(json.loads(row[0]))

    def update(self, key: str, value: Mapping[str, Any]) -> None:
        """Store ``value`` under ``key`` in its own committed transaction."""
        self._connect().execute(
            "INSERT OR REPLACE INTO descriptions (key, value) VALUES (?, ?)",
            (key, json.dumps(dict(value), sort_keys=True)),
        )

    def __len__(self) -> int:
        return int(self._connect().execute("SELECT COUNT(*) FROM descriptions").fetchone()[0])

    def known_file_hash(self, fingerprint: FileFingerprint) -> str | None:
        """The SHA-256 stored for this version of a file (this process's memo first)."""
        known = super().known_file_hash(fingerprint)
        if known is not None:
            return known
        row = (
            self._connect()
            .execute(
                "SELECT fingerprint, sha256 FROM file_hashes WHERE path = ?", (fingerprint[0],)
            )
            .fetchone()
        )
        if row is None or tuple(json.loads(row[0])) != fingerprint:
            return None
        super().remember_file_hash(fingerprint, row[1])
        return str(row[1])

    def remember_file_hash(self, fingerprint: FileFingerprint, sha256: str) -> None:
        """Store the hash of this version of a file (replacing the path's older one)."""
        super().remember_file_hash(fingerprint, sha256)
        self._connect().execute(
            "INSERT OR REPLACE INTO file_hashes (path, fingerprint, sha256) VALUES (?, ?, ?)",
            (fingerprint[0], json.dumps(list(fingerprint)), sha256),
        )


class LangChainDescriptionCache(DescriptionCache):
    """Descriptions in a LangChain ``BaseCache`` (``InMemoryCache``, Redis, Postgres, ...).

    Each value is one ``Generation`` whose text is the value's JSON, stored with
    ``prompt=key`` and ``llm_string=LANGCHAIN_NAMESPACE``.

    Args:
        cache: any ``langchain_core.caches.BaseCache``.

    Example:
        .. code-block:: python

            from langchain_community.cache import RedisCache

            loader = VideoDescriptionLoader(paths, cache=RedisCache(redis_client))
    """

    def __init__(self, cache: BaseCache) -> None:
        self.cache = cache

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type(self.cache).__name__})"

    def lookup(self, key: str) -> dict[str, Any] | None:
        """The value stored under ``key``, or ``None``."""
        found = self.cache.lookup(key, LANGCHAIN_NAMESPACE)
        if not found:
            return None
        return dict(json.loads(found[0].text))

    def update(self, key: str, value: Mapping[str, Any]) -> None:
        """Store ``value`` under ``key`` as one ``Generation``."""
        text = json.dumps(dict(value), sort_keys=True)
        self.cache.update(key, LANGCHAIN_NAMESPACE, [Generation(text=text)])


def as_description_cache(
    cache: DescriptionCache | BaseCache | str | os.PathLike[str] | None,
) -> DescriptionCache | None:
    """Turn what a user passes as ``cache=`` into a :class:`DescriptionCache`.

    Args:
        cache: a :class:`DescriptionCache`; a LangChain ``BaseCache``; a path (an SQLite
            file); or ``None`` (no cache).

    Returns:
        The cache, or ``None``.

    Raises:
        TypeError: for anything else.
    """
    if cache is None or isinstance(cache, DescriptionCache):
        return cache
    if isinstance(cache, BaseCache):
        return LangChainDescriptionCache(cache)
    if isinstance(cache, (str, os.PathLike)):
        return SQLiteDescriptionCache(cache)
    raise TypeError(
        "cache must be a path (an SQLite file), a DescriptionCache or a LangChain BaseCache, "
        f"got {type(cache).__name__}."
    )


def description_key(**parts: Any) -> str:
    """A cache key: the SHA-256 of the canonical JSON of ``parts``.

    Args:
        **parts: everything that decides the description (content hash, range, model,
            fps, media_resolution, prompt, output settings). Values must be JSON-able;
            floats are rounded to milliseconds so a range read back from JSON matches.

    Returns:
        64 hex digits.

    Example:
        .. code-block:: python

            description_key(content="ab12...", start=0.0, end=30.0, model="mimo-v2.5")
    """
    payload = {"v": CACHE_VERSION, **{name: _canonical(value) for name, value in parts.items()}}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    return value


_hash_lock = threading.Lock()
_hash_memo: dict[FileFingerprint, str] = {}


def file_fingerprint(path: str | os.PathLike[str]) -> FileFingerprint:
    """What ``stat`` says of one version of a file (see :data:`FileFingerprint`).

    Args:
        path: the file.

    Returns:
        ``(resolved path, size, mtime_ns, ctime_ns, inode, device)``.

    Raises:
        OSError: if the file cannot be found or stat-ed.
    """
    resolved = Path(path).resolve()
    return _fingerprint(os.fspath(resolved), resolved.stat())


def _fingerprint(resolved: str, stat: os.stat_result) -> FileFingerprint:
    # On Windows st_ctime is the creation time, which a rewrite does not change.
    ctime = 0 if os.name == "nt" else stat.st_ctime_ns
    return (resolved, stat.st_size, stat.st_mtime_ns, ctime, stat.st_ino, stat.st_dev)


def file_sha256(path: str | os.PathLike[str], *, cache: DescriptionCache | None = None) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB pieces; remembered per file version.

    A file whose :data:`FileFingerprint` (path, size, mtime, ctime, inode, device) is
    unchanged since it was hashed is not read again: ``cache`` remembers the hash
    (:class:`SQLiteDescriptionCache` in its database, across processes; others, and no
    cache, for the life of the process). Any change to the file (a same-size rewrite
    included) changes its mtime and ctime, so it is read and hashed again. A hash taken
    within 2 s of the file's last change is not remembered, since file systems with coarse
    timestamps could keep the same mtime across a rewrite in that window.

    Args:
        path: the file.
        cache: where hashes are remembered; ``None``: this process only.

    Returns:
        64 hex digits.

    Raises:
        VideoSourceError: if the file cannot be read.

    Example:
        .. code-block:: python

            file_sha256("match.mp4", cache=SQLiteDescriptionCache("library.sqlite"))
    """
    memo: DescriptionCache = cache if cache is not None else _PROCESS_ONLY
    try:
        resolved = Path(path).resolve()
        name = os.fspath(resolved)
        before = _fingerprint(name, resolved.stat())
        known = memo.known_file_hash(before)
        if known is not None:
            return known
        digest = hashlib.sha256()
        with resolved.open("rb") as stream:
            while piece := stream.read(_HASH_CHUNK):
                digest.update(piece)
        after = _fingerprint(name, resolved.stat())
    except OSError as error:
        raise VideoSourceError(
            f"Cannot read {os.fspath(path)}: {error.strerror or error}"
        ) from None
    value = digest.hexdigest()
    # Remember only a file that did not change while it was read and has settled.
    if after == before and time.time_ns() - before[2] >= _SETTLED_NS:
        memo.remember_file_hash(before, value)
    return value


class _ProcessMemo(DescriptionCache):
    """No descriptions; file hashes for the life of the process (``file_sha256`` alone)."""

    def lookup(self, key: str) -> dict[str, Any] | None:
        return None

    def update(self, key: str, value: Mapping[str, Any]) -> None:
        return None


_PROCESS_ONLY: Final = _ProcessMemo()
