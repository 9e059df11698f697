"""Where a MediaStore's bytes live: a local folder, or any fsspec filesystem.

Both keep ``<root>/<id[:2]>/<id>`` with ``<id>.json`` (the metadata) beside it, and write
every file under a temporary name that no id can take, then rename it into place.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Final

from langchain_mimo_video.errors import MediaError

__all__ = ["Backend", "FsspecBackend", "LocalBackend", "Writer", "default_store_root"]

# Names of files being written start with this; no valid id does, so a crash mid-write
# never leaves anything that an id can name.
TEMP_PREFIX: Final = ".put-"


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

        try:
            yield Writer(file), commit
        finally:
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
        fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=self._folder(shard))  # 0o600
        return os.fdopen(fd, "wb"), temp

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
        temp = f"{folder}/{TEMP_PREFIX}{uuid.uuid4().hex}"
        return self.fs.open(temp, "wb"), temp

    def _publish(self, file: IO[bytes], temp: str, name: str) -> None:
        file.close()  # object stores publish an object only once it is complete
        self.fs.makedirs(f"{self.root}/{name[:2]}", exist_ok=True)
        self.fs.mv(temp, self._path(name))

    def _discard(self, temp: str) -> None:
        self.fs.rm(temp)
