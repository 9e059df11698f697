"""Bounded reading of remote videos.

The HTTP Range reader that lets PyAV probe a remote video without downloading it, under
one deadline and a byte cap per probe, over connections whose peer is checked against the
URL guard (:func:`~langchain_mimo_video.media._urls.check_public_url`, re-exported here).
The deadline covers the host's lookups too: the guard's and each connection's. The
deadline and the connections it watches are in ``_connections``.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import re
import urllib.error
import urllib.request
from collections import OrderedDict
from collections.abc import Callable
from typing import IO, Any, Final

from langchain_mimo_video.errors import (
    ProbeLimitError,
    VideoSourceError,
)
from langchain_mimo_video.limits import MAX_URL_VIDEO_BYTES
from langchain_mimo_video.media._connections import Deadline, build_opener
from langchain_mimo_video.media._urls import LookupTimeout, check_public_url

__all__ = ["CountingReader", "HTTPRangeReader", "check_public_url"]

# --------------------------------------------------------------------------------------
# Readers
# --------------------------------------------------------------------------------------


class CountingReader:
    """A read-only view of a binary file that counts the bytes read through it.

    It has no ``close``: PyAV closes the file objects it is given, and a caller's file
    must stay open.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if not isinstance(data, bytes | bytearray):
            raise VideoSourceError("The file object must be opened in binary mode ('rb').")
        self.bytes_read += len(data)
        return bytes(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def seekable(self) -> bool:
        probe_seekable: Callable[[], bool] | None = getattr(self._raw, "seekable", None)
        return True if probe_seekable is None else bool(probe_seekable())

    def readable(self) -> bool:
        return True


_HTTP_BLOCK: Final = 64 * 1024
_HTTP_CACHE_BLOCKS: Final = 256  # at most 16 MiB kept per reader
_CONTENT_RANGE: Final = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.IGNORECASE)
#: Most bytes one probe reads: what MiMo takes by URL. Also the cap when the size is unknown.
_MAX_PROBE_BYTES: Final = MAX_URL_VIDEO_BYTES
#: Reads allowed past a stated size, for blocks read again after leaving the cache.
_PROBE_MARGIN: Final = 16 * 1024 * 1024


class HTTPRangeReader:
    """A seekable, read-only file over HTTP that fetches only the blocks it is asked for.

    Reads go through a cache of 64 KiB blocks filled with ranged GET requests (never
    HEAD: presigned object-store URLs are signed for GET only), so opening a faststart MP4
    costs its header and index, not the whole file. A server that ignores ``Range``
    (answers 200 with the whole body) is read as one stream instead: forward seeks read
    through, and a backward seek past the cache reads the stream again from the start.
    ``bytes_read`` counts every byte received.

    Every probe has hard limits, each raising :class:`ProbeLimitError`:

    - a deadline: ``timeout`` seconds for everything, from the host's lookup (the URL
      guard's, when ``allow_private_network`` is False, and each connection's) to the last
      read (``timeout`` also bounds each wait);
    - a byte cap: the file's stated size plus a quarter and 16 MiB, at most ``max_bytes``
      (default and ceiling: 300 MB, the most MiMo takes by URL).

    A 206 answer longer than the range asked for is read only as far as was asked, and
    memory stays within the block cache whatever the server sends.

    Raises:
        UnsafeSourceError: if ``allow_private_network`` is False and the URL is not public.
        ProbeLimitError: if the first read already runs past a limit.
        VideoSourceError: if the server refuses or fails the first read.

    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        allow_private_network: bool,
        max_bytes: int | None = None,
    ) -> None:
        self.url = url
        self._label = url
        self._timeout = timeout
        self._deadline = Deadline(timeout)
        self._opener = build_opener(allow_private_network, self._deadline)
        ceiling = _MAX_PROBE_BYTES if max_bytes is None else min(max_bytes, _MAX_PROBE_BYTES)
        self._max_bytes = self._cap = max(ceiling, 0)
        self.bytes_read = 0
        self.size: int | None = None
        self.ranges = True
        self._pos = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._stream: Any = None
        self._stream_pos = 0
        self._spent: ProbeLimitError | None = None  # once a limit is hit, it stays hit
        self._failed = False  # a read raised: later reads answer end of file
        try:
            if not allow_private_network:
                try:
                    check_public_url(url, timeout=self._deadline.remaining())
                except LookupTimeout:
                    raise self._deadline_error() from None
            self._first_fetch()
        except BaseException:
            self.close()
            raise

    # -- limits ------------------------------------------------------------------------

    def _deadline_error(self) -> ProbeLimitError:
        if self._spent is not None:
            return self._spent
        self._spent = ProbeLimitError(
            f"Gave up reading {self._label}: probing it took longer than its deadline of "
            f"{self._deadline.seconds:g} s (after {self.bytes_read:,} bytes). The server is "
            "slow or stalls: pass a larger timeout, or host the video where it is served "
            "faster.",
            limit="deadline",
            value=self._deadline.seconds,
            bytes_read=self.bytes_read,
        )
        return self._spent

    def _cap_error(self) -> ProbeLimitError:
        if self._spent is not None:
            return self._spent
        stated = "" if self.size is None else f" (the server says the file has {self.size:,})"
        self._spent = ProbeLimitError(
            f"Stopped reading {self._label} at {self.bytes_read:,} bytes, the most one probe "
            f"reads{stated}. The video's index is too far in, or the server ignores Range "
            "requests: serve it with its index first (faststart MP4) from a server that "
            "honours Range.",
            limit="bytes",
            value=self._cap,
            bytes_read=self.bytes_read,
        )
        return self._spent

    def _learn_size(self, size: int) -> None:
        self.size = size
        self._cap = min(self._max_bytes, size + size // 4 + _PROBE_MARGIN)

    # -- network ---------------------------------------------------------------------

    def _open(self, start: int, stop: int | None) -> Any:
        """GET bytes ``[start, stop)`` (to the end if None); None when past the end (416)."""
        if self._spent is not None:
            raise self._spent
        if self._deadline.passed:
            raise self._deadline_error()
        if self.bytes_read >= self._cap:
            raise self._cap_error()
        request = urllib.request.Request(
            self.url,
            headers={
                "Range": f"bytes={start}-{'' if stop is None else stop - 1}",
                "Accept-Encoding": "identity",
                "User-Agent": "langchain-mimo-video",
            },
        )
        try:
            return self._opener.open(request, timeout=self._deadline.timeout(self._timeout))
        except urllib.error.HTTPError as err:
            err.close()
            if err.code == 416:
                return None
            raise VideoSourceError(
                f"Could not read {self._label}: HTTP {err.code} {err.reason}."
            ) from err
        except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
            timed_out = isinstance(err, LookupTimeout) or isinstance(
                getattr(err, "reason", None), LookupTimeout
            )
            if timed_out or self._deadline.passed:
                raise self._deadline_error() from err
            raise VideoSourceError(f"Could not read {self._label}: {err}.") from err

    def _first_fetch(self) -> None:
        response = self._open(0, _HTTP_BLOCK)
        if response is None:
            raise VideoSourceError(f"{self._label} is empty.")
        self.url = response.geturl()  # later ranges go straight to the final redirect target
        if response.status == 206:
            self._take_range(response, 0, _HTTP_BLOCK)
            return
        self.ranges = False
        length = response.headers.get("Content-Length")
        if length and length.isdigit():
            self._learn_size(int(length))
        self._stream = response

    def _read_body(self, response: Any, limit: int) -> bytes:
        """Read up to ``limit`` bytes of a body, within the probe's deadline and byte cap."""
        chunks: list[bytes] = []
        got = 0
        while got < limit:
            if self._deadline.passed:
                raise self._deadline_error()
            room = self._cap - self.bytes_read
            if room <= 0:
                raise self._cap_error()
            try:
                # read1 returns what one receive brings, so the deadline is checked often
                data = response.read1(min(limit - got, room, _HTTP_BLOCK))
            except (OSError, ValueError, http.client.HTTPException) as err:
                if self._deadline.passed:
                    raise self._deadline_error() from err
                raise VideoSourceError(f"Could not read {self._label}: {err}.") from err
            if not data:
                if self._deadline.passed:  # a socket shut at the deadline reads as the end
                    raise self._deadline_error()
                break
            self.bytes_read += len(data)
            got += len(data)
            chunks.append(bytes(data))
        return b"".join(chunks)

    def _take_range(self, response: Any, start: int, stop: int) -> None:
        """Cache the body of a 206 answer to a request for ``[start, stop)``."""
        with contextlib.closing(response):
            match = _CONTENT_RANGE.search(response.headers.get("Content-Range", ""))
            if match:
                start = int(match.group(1))  # what the server actually sent
                if match.group(3) != "*":
                    self._learn_size(int(match.group(3)))
            # Never more than was asked for, whatever the server sends.
            data = self._read_body(response, max(stop - start, 0))
        if self.size is None and len(data) < stop - start:
            self._learn_size(start + len(data))  # a short answer without a total marks the end
        self._store(start, data)

    def _store(self, offset: int, data: bytes) -> None:
        # Only whole blocks (or the file's last block) are kept, so blocks stay aligned.
        skip = -offset % _HTTP_BLOCK
        data, offset = data[skip:], offset + skip
        for at in range(0, len(data), _HTTP_BLOCK):
            chunk = data[at : at + _HTTP_BLOCK]
            at_end = self.size is not None and offset + at + len(chunk) >= self.size
            if len(chunk) == _HTTP_BLOCK or at_end:
                index = (offset + at) // _HTTP_BLOCK
                self._blocks[index] = chunk
                self._blocks.move_to_end(index)

    def _fetch(self, first: int, last: int) -> None:
        """Fetch blocks ``first..last`` (inclusive) in one request."""
        if not self.ranges:
            if first * _HTTP_BLOCK < self._stream_pos:  # behind the stream: left the cache
                self._restart_stream()
            self._stream_until((last + 1) * _HTTP_BLOCK, keep=last - first + 1)
            return
        start, stop = first * _HTTP_BLOCK, (last + 1) * _HTTP_BLOCK
        if self.size is not None:
            stop = min(stop, self.size)
        if start >= stop:
            return
        response = self._open(start, stop)
        if response is None:
            self.size = start if self.size is None else min(self.size, start)
            return
        if response.status != 206:
            response.close()
            raise VideoSourceError(
                f"Could not read {self._label}: the server stopped honouring Range requests."
            )
        self._take_range(response, start, stop)

    def _restart_stream(self) -> None:
        """Read a Range-less server's body again from the start (a block left the cache)."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        response = self._open(0, None)
        if response is None:
            raise VideoSourceError(f"{self._label} is empty.")
        self._stream, self._stream_pos = response, 0

    def _stream_until(self, offset: int, keep: int) -> None:
        """Read the stream up to ``offset``, keeping at most the cache plus ``keep`` blocks."""
        while self._stream is not None and self._stream_pos < offset:
            data = self._read_body(self._stream, _HTTP_BLOCK)
            if len(data) < _HTTP_BLOCK:
                self._stream.close()
                self._stream = None
                self._learn_size(self._stream_pos + len(data))
            self._store(self._stream_pos, data)
            self._stream_pos += len(data)
            while len(self._blocks) > _HTTP_CACHE_BLOCKS + keep:
                self._blocks.popitem(last=False)

    # -- file protocol ---------------------------------------------------------------

    def read(self, size: int = -1) -> bytes:
        """Read like a file; after a read has raised, every later one returns ``b""``.

        PyAV keeps the error a read raised for its caller and prints the kept one to
        stderr ("exception being dropped") when a later read raises again while FFmpeg
        retries; answering end of file instead keeps a limit's trip quiet, and the first
        error is the one the probe raises.
        """
        if self._failed:
            return b""
        try:
            return self._read(size)
        except BaseException:
            self._failed = True
            raise

    def _read(self, size: int) -> bytes:
        if size is None or size < 0:
            size = (self.size if self.size is not None else 1 << 62) - self._pos
        if self.size is not None:
            size = min(size, self.size - self._pos)
        size = min(size, self._cap)  # no probe reads more, and read(-1) stays finite
        if size <= 0:
            return b""
        first, last = self._pos // _HTTP_BLOCK, (self._pos + size - 1) // _HTTP_BLOCK
        missing = [index for index in range(first, last + 1) if index not in self._blocks]
        if missing:
            self._fetch(missing[0], missing[-1])
        if first not in self._blocks:
            if self.size is not None and self._pos >= self.size:
                return b""
            raise VideoSourceError(f"Could not read {self._label}: the server sent too little.")
        chunks = []
        for index in range(first, last + 1):
            block = self._blocks.get(index)
            if block is None:
                break
            self._blocks.move_to_end(index)
            chunks.append(block)
        data = b"".join(chunks)[self._pos - first * _HTTP_BLOCK :][:size]
        self._pos += len(data)
        while len(self._blocks) > _HTTP_CACHE_BLOCKS:
            self._blocks.popitem(last=False)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self._pos = offset
        elif whence == io.SEEK_CUR:
            self._pos += offset
        elif whence == io.SEEK_END and self.size is not None:
            self._pos = self.size + offset
        else:
            # FFmpeg's "cannot" (as PyAV answers its size query), not an exception: PyAV
            # would keep a raised one and print it to stderr when the next one came.
            return -1
        self._pos = max(self._pos, 0)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._deadline.cancel()
        if self._stream is not None:
            self._stream.close()
            self._stream = None
