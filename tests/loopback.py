"""Loopback HTTP servers for tests: served on a thread, shut down and closed afterwards."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from socketserver import BaseServer
from typing import TypeVar

import pytest

#: Proxy settings that would send loopback requests elsewhere.
PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy")

ServerT = TypeVar("ServerT", bound=BaseServer)


@contextlib.contextmanager
def serving(httpd: ServerT) -> Iterator[ServerT]:
    """Serve ``httpd`` on a daemon thread for the block; then shut it down and close it."""
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def without_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset the proxy variables for the test, so loopback requests stay on this machine."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def url_of(httpd: BaseServer, path: str = "") -> str:
    """``http://127.0.0.1:<port><path>`` of a server bound to the loopback address."""
    port = httpd.server_address[1]  # type: ignore[index]
    return f"http://127.0.0.1:{port}{path}"
