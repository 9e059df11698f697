"""Guarded, bounded reading of remote videos.

The URL guard (:func:`check_public_url`) and the HTTP Range reader that lets PyAV
probe a remote video without downloading it. Shared with the agent tool's URL checks.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import ipaddress
import re
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from collections.abc import Callable
from typing import IO, Any, Final

from langchain_mimo_video.errors import (
    UnsafeSourceError,
    VideoSourceError,
)

# --------------------------------------------------------------------------------------
# URL safety
# --------------------------------------------------------------------------------------

_METADATA_ADDRESSES: Final = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack instance metadata
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS instance metadata over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)
_METADATA_HOSTS: Final = frozenset({"metadata", "metadata.google.internal", "metadata.goog"})
_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")


def _address_problem(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Say why ``ip`` is not a public address, or return None if it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            problem = _address_problem(embedded)
            return f"{problem} (embedded in {ip})" if problem else None
    if ip in _METADATA_ADDRESSES:
        return "cloud metadata"
    for kind in ("unspecified", "loopback", "link_local", "private", "multicast", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    if not ip.is_global:
        return "non-public"
    return None


def _refuse_address(address: str, url: str) -> None:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError as err:
        raise UnsafeSourceError(f"Refusing {url}: {address!r} is not an IP address.") from err
    problem = _address_problem(ip)
    if problem:
        raise UnsafeSourceError(
            f"Refusing {url}: it points to {ip}, a {problem} address. Only public internet "
            "addresses are allowed here; pass allow_private_network=True for sources you trust."
        )


def check_public_url(url: str) -> None:
    """Refuse URLs that point into a private network.

    The host is resolved and every address it resolves to must be a public internet
    address: loopback, private, link-local, shared (CGNAT), reserved, multicast and cloud
    metadata addresses (such as ``169.254.169.254`` and ``fd00:ec2::254``) are refused,
    including IPv4 addresses embedded in IPv6 ones. IP literals are checked without any
    network access. Call it again for every redirect hop.

    Args:
        url: An ``http://`` or ``https://`` URL.

    Raises:
        UnsafeSourceError: If the scheme is not http(s), the host is missing or cannot be
            resolved, or any of its addresses is not public.

    Example:
        .. code-block:: python

            check_public_url("https://example.com/cat.mp4")  # passes
            check_public_url("http://169.254.169.254/latest/")  # raises UnsafeSourceError

    """
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise UnsafeSourceError(f"Refusing {url!r}: it is not a valid URL ({err}).") from err
    if parts.scheme.lower() not in ("http", "https"):
        raise UnsafeSourceError(
            f"Refusing {url!r}: only http and https URLs are allowed, not {parts.scheme!r}."
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeSourceError(f"Refusing {url!r}: the URL has no host.")
    if host in _METADATA_HOSTS:
        raise UnsafeSourceError(f"Refusing {url}: {host} is a cloud metadata service.")
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as err:
            raise UnsafeSourceError(
                f"Refusing {url}: could not resolve {host} ({err}), so it cannot be checked "
                "to be a public address."
            ) from err
        addresses = sorted({str(info[4][0]) for info in infos})
    for address in addresses:
        _refuse_address(address, url)


class _PeerCheck:
    """Mixin for http.client connections: refuse a private peer after connecting.

    This closes the gap between resolving a name in :func:`check_public_url` and the
    connection's own lookup (DNS rebinding). Through a proxy the peer is the proxy, so the
    check is skipped there and the name check applies instead.
    """

    sock: Any
    host: str

    def _check_peer(self) -> None:
        if getattr(self, "_tunnel_host", None) is not None:
            return
        try:
            peer = self.sock.getpeername()[0]
            _refuse_address(str(peer), f"host {self.host}")
        except UnsafeSourceError:
            self.sock.close()
            raise


class _GuardedHTTPConnection(_PeerCheck, http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        self._check_peer()


class _GuardedHTTPSConnection(_PeerCheck, http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        self._check_peer()


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        # A request sent through an HTTP proxy connects to the proxy, not the host.
        direct = not req.has_proxy()
        connection = _GuardedHTTPConnection if direct else http.client.HTTPConnection
        return self.do_open(connection, req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self) -> None:
        self._ssl_context = ssl.create_default_context()
        super().__init__(context=self._ssl_context)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_GuardedHTTPSConnection, req, context=self._ssl_context)


class _GuardedRedirectHandler(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        check_public_url(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _build_opener(allow_private_network: bool) -> urllib.request.OpenerDirector:
    if allow_private_network:
        return urllib.request.build_opener()
    return urllib.request.build_opener(
        _GuardedRedirectHandler(), _GuardedHTTPHandler(), _GuardedHTTPSHandler()
    )


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


class HTTPRangeReader:
    """A seekable, read-only file over HTTP that fetches only the blocks it is asked for.

    Reads go through a cache of 64 KiB blocks filled with ``Range`` requests, so opening a
    faststart MP4 costs its header and index, not the whole file. A server that ignores
    ``Range`` (answers 200 with the whole body) is read as one stream instead: forward
    seeks read through, and what was read stays cached for backward seeks.
    ``bytes_read`` counts every byte received.
    """

    def __init__(self, url: str, *, timeout: float, allow_private_network: bool) -> None:
        self.url = url
        self._label = url
        self._timeout = timeout
        self._opener = _build_opener(allow_private_network)
        self.bytes_read = 0
        self.size: int | None = None
        self.ranges = True
        self._pos = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._stream: Any = None
        self._stream_pos = 0
        self._first_fetch()

    # -- network ---------------------------------------------------------------------

    def _open(self, start: int, stop: int) -> Any:
        """GET bytes ``[start, stop)``; None when the range lies past the end (416)."""
        request = urllib.request.Request(
            self.url,
            headers={
                "Range": f"bytes={start}-{stop - 1}",
                "Accept-Encoding": "identity",
                "User-Agent": "langchain-mimo-video",
            },
        )
        try:
            return self._opener.open(request, timeout=self._timeout)
        except urllib.error.HTTPError as err:
            err.close()
            if err.code == 416:
                return None
            raise VideoSourceError(
                f"Could not read {self._label}: HTTP {err.code} {err.reason}."
            ) from err
        except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
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
        self.size = int(length) if length and length.isdigit() else None
        self._stream = response

    def _read_body(self, response: Any, limit: int | None = None) -> bytes:
        try:
            data = response.read() if limit is None else response.read(limit)
        except (OSError, http.client.HTTPException) as err:
            raise VideoSourceError(f"Could not read {self._label}: {err}.") from err
        self.bytes_read += len(data)
        return bytes(data)

    def _take_range(self, response: Any, start: int, stop: int) -> None:
        """Cache the body of a 206 answer to a request for ``[start, stop)``."""
        with contextlib.closing(response):
            match = _CONTENT_RANGE.search(response.headers.get("Content-Range", ""))
            if match:
                start = int(match.group(1))  # what the server actually sent
                if match.group(3) != "*":
                    self.size = int(match.group(3))
            data = self._read_body(response)
        if self.size is None and len(data) < stop - start:
            self.size = start + len(data)  # a short answer without a total marks the end
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
            self._stream_until((last + 1) * _HTTP_BLOCK)
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

    def _stream_until(self, offset: int) -> None:
        while self._stream is not None and self._stream_pos < offset:
            data = b""
            while len(data) < _HTTP_BLOCK:
                more = self._read_body(self._stream, _HTTP_BLOCK - len(data))
                if not more:
                    break
                data += more
            if len(data) < _HTTP_BLOCK:
                self._stream.close()
                self._stream = None
                self.size = self._stream_pos + len(data)
            self._store(self._stream_pos, data)
            self._stream_pos += len(data)

    # -- file protocol ---------------------------------------------------------------

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = (self.size if self.size is not None else 1 << 62) - self._pos
        if self.size is not None:
            size = min(size, self.size - self._pos)
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
        if self.ranges:  # a streamed body cannot be fetched again, so it is all kept
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
            raise OSError(f"cannot seek with whence={whence} (size known: {self.size})")
        self._pos = max(self._pos, 0)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
