"""Where a MediaStore's bytes live: a local folder, or any fsspec filesystem.

Both keep ``<root>/<id[:2]>/<id>`` with ``<id>.json`` (the metadata) beside it, and write
every file under a temporary name that no id can take, then rename it into place. A
temporary name says which host and process writes it; on a local folder the writer also
holds a lock on it, so a clean-up never removes a file a live writer is still writing.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import os
import re
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from langchain_mimo_video.errors import MediaError

try:
    import fcntl
except ImportError:  # Windows: an open file cannot be removed there anyway
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "TEMP_PREFIX",
    "USED_SUFFIX",
    "Backend",
    "FsspecBackend",
    "LocalBackend",
    "StoredFile",
    "Writer",
    "default_store_root",
]

# Names of files being written start with this; no valid id does, so a crash mid-write
# never leaves anything that an id can name.
TEMP_PREFIX: Final = ".put-"
# fsspec stores mark an entry's last use with an empty ``<id>.used`` file beside it.
USED_SUFFIX: Final = ".used"
_HOST: Final = re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())[:40] or "host"
_TEMP_NAME = re.compile(rf"{re.escape(TEMP_PREFIX)}(?P<host>[A-Za-z0-9._-]+)-(?P<pid>\d+)-")


def _temp_prefix() -> str:
    return f"{TEMP_PREFIX}{_HOST}-{os.getpid()}-"


def _writer_alive(name: str) -> bool | None:
    """Whether the process named in a temporary file's name runs: None if it cannot tell."""
    match = _TEMP_NAME.match(name)
    if match is None or match["host"] != _HOST or sys.platform == "win32":
        return None
    pid = int(match["pid"])
    if pid == os.getpid():
        return name in _writing
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


# temporary names this process is writing now
_writing: set[str] = set()


@dataclass(frozen=True)
class StoredFile:
    """A file in a store's shard folders: its name, size, last-modified time and folder."""

    name: str
    size: int
    modified: float
    shard: str


def default_store_root() -> Path:
    """The per-user cache folder used when ``MediaStore(root=None)``.

    ``$XDG_CACHE_HOME`` (else ``~/.cache``) on Linux, ``~/Library/Caches`` on macOS,
    ``%LOCALAPPDATA%`` on Windows; then ``langchain-mimo-video/media``.
    """
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "langchain-mimo-video" / "media"


class Writer:
    """Bytes being written under a temporary name, hashed as they go."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.digest = hashlib.sha256()

    def write(self, data: bytes | memoryview) -> None:
        self.digest.update(data)
        self.file.write(data)


class Backend:
    """Where the bytes live: ``<root>/<id[:2]>/<id>``, with ``<id>.json`` beside it."""

    def label(self) -> str:
        raise NotImplementedError

    def local_path(self, name: str) -> Path | None:
        return None

    def exists(self, name: str) -> bool:
        raise NotImplementedError

    def size(self, name: str) -> int:
        raise NotImplementedError

    def open(self, name: str) -> IO[bytes]:
        raise NotImplementedError

    def read(self, name: str) -> bytes:
        with self.open(name) as file:
            return file.read()

    def scan(self) -> Iterator[StoredFile]:
        """Every file in the shard folders (entries, metadata, markers, temporary files)."""
        raise NotImplementedError

    def touch(self, name: str) -> None:
        """Record that entry ``name`` was used now (the least recently used goes first)."""
        raise NotImplementedError

    def remove(self, name: str, shard: str | None = None) -> bool:
        """Delete ``name`` (from folder ``shard``, by default its own); False if missing."""
        raise NotImplementedError

    def remove_stale_temp(self, temp: StoredFile, older_than: float) -> bool:
        """Delete a temporary file left by a writer that is gone; False if it is kept.

        A file is kept while it was modified less than ``older_than`` seconds ago, or its
        writer (this host's process named in it) still runs.
        """
        if time.time() - temp.modified < older_than or _writer_alive(temp.name):
            return False
        return self.remove(temp.name, temp.shard)

    def _temp(self, shard: str) -> tuple[IO[bytes], str]:
        """A new file with a name no id can take, in ``shard``'s folder."""
        raise NotImplementedError

    def _publish(self, file: IO[bytes], temp: str, name: str) -> None:
        """Close ``file`` and rename ``temp`` to ``name`` in one step."""
        raise NotImplementedError

    def _discard(self, temp: str) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def writer(self, shard: str) -> Iterator[tuple[Writer, Callable[[str], None]]]:
        """Yield a writer and its ``commit(name)``; without a commit the temp file goes."""
        file, temp = self._temp(shard)
        committed = False

        def commit(name: str) -> None:
            nonlocal committed
            self._publish(file, temp, name)
            committed = True

        base = temp.rsplit("/", 1)[-1].rsplit(os.sep, 1)[-1]
        _writing.add(base)
        try:
            yield Writer(file), commit
        finally:
            _writing.discard(base)
            if not committed:
                with contextlib.suppress(Exception):
                    file.close()
                with contextlib.suppress(Exception):
                    self._discard(temp)

    def write_small(self, name: str, data: bytes) -> None:
        with self.writer(name) as (writer, commit):
            writer.write(data)
            commit(name)


class LocalBackend(Backend):
    """A folder on this machine."""

    def __init__(self, root: Path, *, private: bool) -> None:
        self.root = root
        self.private = private  # tighten an existing folder's mode (our own default root)

    def label(self) -> str:
        return str(self.root)

    def local_path(self, name: str) -> Path:
        return self.root / name[:2] / name

    def exists(self, name: str) -> bool:
        return self.local_path(name).is_file()

    def size(self, name: str) -> int:
        return self.local_path(name).stat().st_size

    def open(self, name: str) -> IO[bytes]:
        return self.local_path(name).open("rb")

    def _folder(self, name: str) -> Path:
        if not self.root.is_dir():
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.root, 0o700)  # mkdir's mode is masked by the umask
        elif self.private and self.root.stat().st_mode & 0o077:
            with contextlib.suppress(OSError):
                os.chmod(self.root, 0o700)
        folder = self.root / name[:2]
        folder.mkdir(mode=0o700, exist_ok=True)
        return folder

    def _temp(self, shard: str) -> tuple[IO[bytes], str]:
        fd, temp = tempfile.mkstemp(prefix=_temp_prefix(), dir=self._folder(shard))  # 0o600
        if fcntl is not None:
            # held until the file is closed: a clean-up sees the writer is alive
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return os.fdopen(fd, "wb"), temp

    def scan(self) -> Iterator[StoredFile]:
        try:
            shards = [entry for entry in os.scandir(self.root) if entry.is_dir()]
        except FileNotFoundError:
            return
        for shard in shards:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                for entry in os.scandir(shard.path):
                    with contextlib.suppress(FileNotFoundError):
                        stat = entry.stat(follow_symlinks=False)
                        if entry.is_file(follow_symlinks=False):
                            yield StoredFile(entry.name, stat.st_size, stat.st_mtime, shard.name)

    def touch(self, name: str) -> None:
        with contextlib.suppress(OSError):
            os.utime(self.local_path(name))

    def remove(self, name: str, shard: str | None = None) -> bool:
        try:
            (self.root / (shard or name[:2]) / name).unlink()
        except FileNotFoundError:
            return False
        return True

    def remove_stale_temp(self, temp: StoredFile, older_than: float) -> bool:
        if time.time() - temp.modified < older_than or _writer_alive(temp.name):
            return False  # (the pid as well as the lock: a folder may not support locks)
        if fcntl is None:
            return super().remove_stale_temp(temp, older_than)
        try:
            fd = os.open(self.root / temp.shard / temp.name, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False  # its writer holds the lock: it is alive
            return self.remove(temp.name, temp.shard)
        finally:
            os.close(fd)

    def _publish(self, file: IO[bytes], temp: str, name: str) -> None:
        file.flush()
        os.fsync(file.fileno())  # the bytes reach the disk before the name does
        file.close()
        self._folder(name)
        final = self.local_path(name)
        try:
            os.replace(temp, final)  # atomic; with the same content either may win
        except PermissionError:  # Windows: the target is open in another process
            if not final.is_file():
                raise
            os.unlink(temp)

    def _discard(self, temp: str) -> None:
        os.unlink(temp)


class FsspecBackend(Backend):
    """Any fsspec filesystem."""

    def __init__(self, url: str, storage_options: Mapping[str, Any]) -> None:
        try:
            from fsspec.core import url_to_fs
        except ImportError as error:
            raise MediaError(
                f"A MediaStore at {url!r} needs fsspec: install it with pip install "
                '"langchain-mimo-video[store]" (plus the filesystem\'s own package, e.g. '
                "s3fs or gcsfs)."
            ) from error
        self.url = url
        self.fs, root = url_to_fs(url, **storage_options)
        self.root = str(root).rstrip("/")

    def label(self) -> str:
        return self.url

    def _path(self, name: str) -> str:
        return f"{self.root}/{name[:2]}/{name}"

    def exists(self, name: str) -> bool:
        return bool(self.fs.isfile(self._path(name)))

    def size(self, name: str) -> int:
        return int(self.fs.size(self._path(name)))

    def open(self, name: str) -> IO[bytes]:
        file: IO[bytes] = self.fs.open(self._path(name), "rb")
        return file

    def _temp(self, shard: str) -> tuple[IO[bytes], str]:
        folder = f"{self.root}/{shard[:2]}"
        self.fs.makedirs(folder, exist_ok=True)
        temp = f"{folder}/{_temp_prefix()}{uuid.uuid4().hex}"
        return self.fs.open(temp, "wb"), temp

    def scan(self) -> Iterator[StoredFile]:
        try:
            found = self.fs.find(self.root, detail=True)
        except FileNotFoundError:
            return
        for path, info in found.items():
            folder, _, name = str(path).rpartition("/")
            parent, _, shard = folder.rpartition("/")
            if info.get("type", "file") == "file" and parent == self.root:
                yield StoredFile(name, int(info.get("size") or 0), _modified(info), shard)

    def touch(self, name: str) -> None:
        with contextlib.suppress(OSError):
            self.fs.pipe_file(self._path(name + USED_SUFFIX), b"")

    def remove(self, name: str, shard: str | None = None) -> bool:
        try:
            self.fs.rm_file(f"{self.root}/{shard or name[:2]}/{name}")
        except FileNotFoundError:
            return False
        return True

    def _publish(self, file: IO[bytes], temp: str, name: str) -> None:
        file.close()  # object stores publish an object only once it is complete
        self.fs.makedirs(f"{self.root}/{name[:2]}", exist_ok=True)
        self.fs.mv(temp, self._path(name))

    def _discard(self, temp: str) -> None:
        self.fs.rm(temp)


def _modified(info: Mapping[str, Any]) -> float:
    """Seconds since the epoch from an fsspec ``info`` dict (keys differ by filesystem)."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "modified", "created"):
        value = info.get(key)
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, datetime.datetime):
            return value.timestamp()
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return 0.0
