"""Connections under one deadline: a probe's watchdog, and sockets it can cut.

A socket timeout bounds each wait, not their sum; :class:`Deadline` bounds the sum by
shutting down every socket a probe opened when its time is up. The connections here resolve
their host within the deadline (a resolver that never answers cannot hold them past it),
check the peer they reached against the URL guard when asked to (against DNS rebinding),
and :func:`build_opener` puts them, and a redirect handler that guards every hop, into a
urllib opener.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import IO, Any

from langchain_mimo_video.errors import UnsafeSourceError
from langchain_mimo_video.media._urls import check_public_url, refuse_address, resolve

__all__ = ["Deadline", "GuardedRedirectHandler", "build_opener"]


class Deadline:
    """One probe's deadline: a watchdog shuts its connections down when time is up.

    A socket timeout bounds each wait, not the sum: a server that sends a byte every 0.2 s
    never trips it. At the deadline the watchdog shuts down every socket the probe opened,
    so whatever is blocked on one (connect, TLS handshake, headers, body) returns at once.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._expired = False
        self._timer = threading.Timer(max(seconds, 0.0), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        """Seconds left (negative once the deadline has passed)."""
        return self._end - time.monotonic()

    @property
    def passed(self) -> bool:
        """Whether time is up."""
        return self._expired or self.remaining() <= 0

    def timeout(self, per_wait: float) -> float:
        """The socket timeout to use now: the caller's, cut to what is left."""
        return max(min(per_wait, self.remaining()), 0.001)

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down at the deadline (at once, if it has passed)."""
        with self._lock:
            self._sockets = [s for s in self._sockets if s.fileno() >= 0]
            self._sockets.append(sock)
            if self._expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            for sock in self._sockets:
                _shut(sock)

    def cancel(self) -> None:
        """Stop the watchdog (the probe is over) and forget its sockets."""
        self._timer.cancel()
        with self._lock:
            self._sockets.clear()


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for TLS sockets: it needs no TLS exchange, so it
    # is safe while another thread is blocked reading.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _WatchedConnection:
    """Mixin for http.client connections: watched by a deadline, the peer optionally checked.

    Checking the peer after connecting closes the gap between resolving a name in
    :func:`check_public_url` and the connection's own lookup (DNS rebinding). Through a
    proxy the peer is the proxy, so the check is skipped there and the name check applies
    instead.
    """

    sock: Any
    host: str
    timeout: Any
    _create_connection: Callable[..., socket.socket]

    def _watch(self, deadline: Deadline, check_peer: bool) -> None:
        self._deadline = deadline
        self._check_peer_address = check_peer
        create = self._create_connection

        def create_watched(address: Any, timeout: Any, *args: Any) -> socket.socket:
            # Resolved here, within the deadline (create_connection's own lookup could
            # block past it), then each address tried in turn as create_connection does.
            host, port = address[0], address[1]
            failure: OSError | None = None
            for *_, sockaddr in resolve(host, port, timeout=deadline.remaining()):
                try:
                    sock = create((sockaddr[0], port), deadline.timeout(timeout), *args)
                except OSError as error:
                    failure = error
                    continue
                deadline.watch(sock)
                return sock
            raise failure or OSError(f"{host} resolved to no address")

        self._create_connection = create_watched

    def _check_peer(self) -> None:
        if not self._check_peer_address or getattr(self, "_tunnel_host", None) is not None:
            return
        try:
            peer = self.sock.getpeername()[0]
            refuse_address(str(peer), f"host {self.host}")
        except UnsafeSourceError:
            self.sock.close()
            raise


class _WatchedHTTPConnection(_WatchedConnection, http.client.HTTPConnection):
    def __init__(self, *args: Any, deadline: Deadline, check_peer: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._watch(deadline, check_peer)

    def connect(self) -> None:
        super().connect()
        self._check_peer()


class _WatchedHTTPSConnection(_WatchedConnection, http.client.HTTPSConnection):
    _context: ssl.SSLContext
    _tunnel_host: str | None

    def __init__(self, *args: Any, deadline: Deadline, check_peer: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._watch(deadline, check_peer)

    def connect(self) -> None:
        # HTTPSConnection.connect, with the handshake done after the TLS socket is watched.
        http.client.HTTPConnection.connect(self)
        self._check_peer()
        server_hostname = self._tunnel_host or self.host
        self.sock = self._context.wrap_socket(
            self.sock, server_hostname=server_hostname, do_handshake_on_connect=False
        )
        self._deadline.watch(self.sock)
        self.sock.do_handshake()


class _WatchedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: Deadline, check_peer: bool) -> None:
        super().__init__()
        self._deadline = deadline
        self._check_peer = check_peer

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        # A request sent through an HTTP proxy connects to the proxy, not the host.
        connection = functools.partial(
            _WatchedHTTPConnection,
            deadline=self._deadline,
            check_peer=self._check_peer and not req.has_proxy(),
        )
        return self.do_open(connection, req)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the system's CA certificates takes tens of milliseconds: do it once, and
    # only when an https URL is probed. A context may be shared between threads.
    return ssl.create_default_context()


class _WatchedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: Deadline, check_peer: bool) -> None:
        super().__init__()
        self._deadline = deadline
        self._check_peer = check_peer

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = functools.partial(
            _WatchedHTTPSConnection, deadline=self._deadline, check_peer=self._check_peer
        )
        return self.do_open(connection, req, context=_tls_context())


class GuardedRedirectHandler(urllib.request.HTTPRedirectHandler):
    """Redirects whose target passes the URL guard, its lookup within the deadline."""

    def __init__(self, deadline: Deadline | None = None) -> None:
        super().__init__()
        self._deadline = deadline

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        remaining = self._deadline.remaining() if self._deadline is not None else None
        check_public_url(newurl, timeout=remaining)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def build_opener(allow_private_network: bool, deadline: Deadline) -> urllib.request.OpenerDirector:
    """A urllib opener whose connections ``deadline`` watches.

    With ``allow_private_network`` False, each connection's peer is checked after
    connecting and every redirect hop goes through the URL guard.
    """
    handlers: list[urllib.request.BaseHandler] = [
        _WatchedHTTPHandler(deadline, check_peer=not allow_private_network),
        _WatchedHTTPSHandler(deadline, check_peer=not allow_private_network),
    ]
    if not allow_private_network:
        handlers.append(GuardedRedirectHandler(deadline))
    return urllib.request.build_opener(*handlers)
