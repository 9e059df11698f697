"""The openai SDK clients behind ChatMiMo: built lazily, never copied or pickled.

SDK clients own connection pools and locks, which cannot be pickled or deep-copied;
keeping them in a :class:`ClientCache` lets a ``ChatMiMo`` travel to worker processes and
be copied, the copy building its own clients on first use. The async client belongs to
the event loop it was used in, so a new loop gets a new one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import openai

__all__ = ["ClientCache", "client_kwargs"]


def client_kwargs(
    *,
    key: str,
    base_url: str,
    max_retries: int,
    timeout: float | None,
    default_headers: Mapping[str, str] | None,
    auth_header: str,
) -> dict[str, Any]:
    """The SDK client's arguments.

    The SDK sends ``Authorization: Bearer`` itself; the ``api-key`` header is added for
    ``auth_header`` ``"api-key"`` or ``"both"`` (dropping Bearer for ``"api-key"`` happens
    per request, see ``_request.sdk_arguments``).
    """
    headers = dict(default_headers or {})
    if auth_header in ("api-key", "both"):
        headers["api-key"] = key
    kwargs: dict[str, Any] = {
        "api_key": key,
        "base_url": base_url,
        "max_retries": max_retries,
        "default_headers": headers,
    }
    if timeout is not None:
        kwargs["timeout"] = timeout
    return kwargs


class ClientCache:
    """Holds the lazily built SDK clients; copies and pickles start empty."""

    def __init__(self) -> None:
        self.sync: openai.OpenAI | None = None
        self.async_: openai.AsyncOpenAI | None = None
        # The event loop the async client's connections belong to.
        self.async_loop: asyncio.AbstractEventLoop | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> ClientCache:
        return ClientCache()

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]

    def sync_client(
        self, make_kwargs: Callable[[], dict[str, Any]], http_client: Any | None
    ) -> openai.OpenAI:
        """The sync client, built with ``make_kwargs()`` on first use."""
        if self.sync is None:
            kwargs = make_kwargs()
            if http_client is not None:
                kwargs["http_client"] = http_client
            self.sync = openai.OpenAI(**kwargs)
        return self.sync

    def async_client(
        self, make_kwargs: Callable[[], dict[str, Any]], http_client: Any | None
    ) -> openai.AsyncOpenAI:
        """The async client, built on first use in each event loop.

        A caller's own ``http_client`` is kept across loops: it is theirs to manage.
        """
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        stale = loop is not None and self.async_loop not in (None, loop)
        if self.async_ is None or (stale and http_client is None):
            kwargs = make_kwargs()
            if http_client is not None:
                kwargs["http_client"] = http_client
            self.async_ = openai.AsyncOpenAI(**kwargs)
        if loop is not None:
            self.async_loop = loop
        return self.async_
