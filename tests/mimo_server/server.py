"""A local HTTP server that implements MiMo's *documented* chat-completions contract.

This is a **test fixture, not a fake of MiMo's intelligence**. It exists because the live
MiMo API cannot be reached from the project's machines: integration tests record their
cassettes against it (and, with a real key, against the live API). It checks requests
the way MiMo's documentation says MiMo does (auth headers, models, video parts with
``fps`` / ``media_resolution`` beside ``video_url``, data-URL and size limits, containers,
tool-call and reasoning pass-back quirks, MiMo's error body), decodes every video with
PyAV, and reports usage computed with its own implementation of the documented token
formula. Its answers are deterministic text built from those measurements; it never
claims to understand anything. See ``tests/mimo_server/README.md`` for the rules.

Usage::

    with MiMoContractServer() as server:
        client = openai.OpenAI(api_key=server.api_key, base_url=server.base_url)
        server.enqueue_fault("429", retry_after=1)
        ...
        assert server.requests[-1].body["model"] == "mimo-v2.5"

Standalone: ``python -m tests.mimo_server --port 8765``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import socket
import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final
from urllib.parse import urlsplit

from .answers import Completion, answer
from .behaviour import Behaviour
from .contract import MODELS, ApiError, ChatRequest, parse_chat_request
from .probe import fetch
from .wire import completion_body, model_entry, models_body, response_id, stream_chunks, usage

logger = logging.getLogger(__name__)

#: Fault kinds :meth:`MiMoContractServer.enqueue_fault` accepts, with their options.
FAULT_OPTIONS: Final[dict[str, frozenset[str]]] = {
    **{
        status: frozenset({"retry_after", "message", "param"})
        for status in ("401", "402", "403", "429", "500", "503")
    },
    "reset": frozenset(),
    "stream_cut": frozenset({"after_chunks"}),
    "slow": frozenset({"seconds"}),
}
_SECRET_HEADERS: Final = frozenset(
    {"authorization", "api-key", "x-api-key", "proxy-authorization", "cookie"}
)
CHAT_PATH: Final = "/v1/chat/completions"
MODELS_PATH: Final = "/v1/models"


@dataclass(frozen=True)
class Fault:
    """A queued fault: its kind and options."""

    kind: str
    options: dict[str, Any] = field(default_factory=dict)

    def error(self) -> ApiError:
        """The error answer of a status fault (429 carries ``Retry-After``)."""
        status = int(self.kind)
        headers = {}
        if status == 429 or "retry_after" in self.options:
            headers["Retry-After"] = str(self.options.get("retry_after", 0))
        param = self.options.get("param", f"injected fault {self.kind}")
        return ApiError(status, param, self.options.get("message"), headers)


@dataclass
class RecordedRequest:
    """One request as it reached the server (secrets redacted)."""

    method: str
    path: str
    headers: dict[str, str]
    """Lower-cased names; ``authorization`` / ``api-key`` values read ``REDACTED``."""
    body: Any
    """The parsed JSON body, or None when there was none or it was not JSON."""
    body_size: int
    status: int | None = None
    """The HTTP status answered; None while in flight or when the connection was dropped."""
    fault: str | None = None
    """The kind of the injected fault this request consumed, if any."""
    usage: dict[str, Any] | None = None
    """The ``usage`` the server reported for this request (None when it answered none)."""


class MiMoContractServer:
    """MiMo's documented API on ``127.0.0.1`` in a background thread.

    Args:
        api_key: the key it accepts (``api-key: KEY`` or ``Authorization: Bearer KEY``).
        host: the address to bind.
        port: the port to bind; 0 picks a free one.
        fetch_timeout: seconds allowed to download a media URL.
        behaviour: how to behave where the evidence about the live API allows more than one
            way (default: :meth:`Behaviour.from_env`, the defaults changed by
            ``MIMO_SERVER_*`` environment variables).
        **options: fields of :class:`Behaviour` that override ``behaviour``, for example
            ``usage_chunk="finish"`` or ``auth_headers={"bearer"}``.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        api_key: str = "test-key",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        fetch_timeout: float = 10.0,
        behaviour: Behaviour | None = None,
        **options: Any,
    ) -> None:
        self.api_key = api_key
        self.behaviour = (behaviour or Behaviour.from_env()).replace(**options)
        self.fetch_timeout = fetch_timeout
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._faults: list[Fault] = []
        self._seen_prefixes: set[bytes] = set()
        self._stopping = threading.Event()
        self._httpd = _HTTPServer((host, port), self)
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (no path)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, ``http://HOST:PORT/v1``."""
        return f"{self.url}/v1"

    def start(self) -> MiMoContractServer:
        """Serve in a daemon thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="mimo-contract-server",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> MiMoContractServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- test controls -------------------------------------------------------------------

    def enqueue_fault(self, kind: str, **options: Any) -> None:
        """Queue a fault for the next chat request; queued faults are used one per request.

        Kinds: ``"401"``, ``"402"``, ``"403"``, ``"429"``, ``"500"``, ``"503"`` (MiMo's
        error body; options ``message``, ``param``, ``retry_after`` seconds, which 429
        always sends, default 0), ``"reset"`` (drop the connection without an answer),
        ``"stream_cut"`` (stop a streamed answer mid-way, before the finish chunk and
        ``[DONE]``; a non-streamed body is cut in half; option ``after_chunks``) and
        ``"slow"`` (wait ``seconds``, default 1, then answer normally).
        """
        if kind not in FAULT_OPTIONS:
            raise ValueError(f"unknown fault kind {kind!r}; choose from {sorted(FAULT_OPTIONS)}")
        unknown = set(options) - FAULT_OPTIONS[kind]
        if unknown:
            raise ValueError(f"fault {kind!r} takes no option(s) {sorted(unknown)}")
        with self._lock:
            self._faults.append(Fault(kind, dict(options)))

    @property
    def pending_faults(self) -> list[str]:
        """Kinds of the faults still queued."""
        with self._lock:
            return [fault.kind for fault in self._faults]

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received since start or :meth:`reset`, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The ``POST /v1/chat/completions`` requests of :attr:`requests`."""
        return [r for r in self.requests if r.path == CHAT_PATH]

    def reset(self) -> None:
        """Forget the request log, the queued faults and the prompt cache."""
        with self._lock:
            self._requests.clear()
            self._faults.clear()
            self._seen_prefixes.clear()

    # -- used by the handler -------------------------------------------------------------

    def _record(
        self, method: str, path: str, headers: Iterable[tuple[str, str]], raw: bytes
    ) -> RecordedRequest:
        redacted = {}
        for name, value in headers:
            name = name.lower()
            if name in _SECRET_HEADERS:
                value = "Bearer REDACTED" if value.lower().startswith("bearer ") else "REDACTED"
            redacted[name] = value
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        record = RecordedRequest(method, path, redacted, body, len(raw))
        with self._lock:
            self._requests.append(record)
        return record

    def _take_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    def _check_key(self, headers: Any) -> None:
        accepted = self.behaviour.auth_headers
        offered = []
        if "api-key" in accepted:
            offered.append(headers.get("api-key", "").strip())
        authorization = headers.get("Authorization", "")
        if "bearer" in accepted and authorization.lower().startswith("bearer "):
            offered.append(authorization[len("bearer ") :].strip())
        offered = [key for key in offered if key]
        if not offered:
            ways = {"api-key": "`api-key: KEY`", "bearer": "`Authorization: Bearer KEY`"}
            raise ApiError(
                401, "missing API key: send " + " or ".join(ways[w] for w in sorted(accepted))
            )
        if self.api_key not in offered:
            raise ApiError(401, "invalid API key")

    def _fetch(self, url: str, limit: int) -> bytes:
        return fetch(url, limit=limit, timeout=self.fetch_timeout)

    def _cached_tokens(self, request: ChatRequest) -> int:
        """Tokens of the longest prefix (tools, then whole messages) seen before.

        Every prefix of this request is remembered afterwards, so repeating a request
        exactly reports all its prompt tokens as cached.
        """
        running = hashlib.sha256(request.model.encode())
        cached = total = 0
        keys = []
        with self._lock:
            for digest, tokens in request.segments:
                running.update(digest)
                key = running.copy().digest()
                total += tokens
                if key in self._seen_prefixes:
                    cached = total
                keys.append(key)
            self._seen_prefixes.update(keys)
        return cached


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: MiMoContractServer) -> None:
        super().__init__(address, _Handler)
        self.app = app

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without this, Nagle's algorithm and the
    # client's delayed ACK hold every answer back by about 40 ms.
    disable_nagle_algorithm = True
    server_version = "MiMoContractServer/1.0"
    server: _HTTPServer
    _started = False  # whether a status line went out (then no error answer can follow)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    # -- dispatch ------------------------------------------------------------------------

    def _serve(self, method: str) -> None:
        self._started = False
        raw = self._read_body()
        path = urlsplit(self.path).path.rstrip("/")
        record = self.server.app._record(method, path, self.headers.items(), raw)
        try:
            self._route(method, path, raw, record)
        except ApiError as error:
            self._send_json(error.status, error.body(), record, error.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a bug in the fixture: answer 500 and say what happened
            logger.exception("contract server failed on %s %s", method, path)
            if self._started:
                self.close_connection = True
            else:
                failure = ApiError(500, f"contract server error: {exc!r}")
                self._send_json(500, failure.body(), record)

    def _route(self, method: str, path: str, raw: bytes, record: RecordedRequest) -> None:
        app = self.server.app
        if method == "POST" and path == CHAT_PATH:
            self._chat(raw, record)
        elif method == "GET" and path == MODELS_PATH:
            app._check_key(self.headers)
            hidden = frozenset() if app.behaviour.list_retired else app.behaviour.retired_models
            self._send_json(200, models_body(hidden), record)
        elif method == "GET" and path.startswith(MODELS_PATH + "/"):
            app._check_key(self.headers)
            name = path[len(MODELS_PATH) + 1 :]
            if name not in MODELS:
                raise ApiError(404, f"model {name!r} not found")
            self._send_json(200, model_entry(name), record)
        else:
            raise ApiError(404, f"no route for {method} {path}")

    def _chat(self, raw: bytes, record: RecordedRequest) -> None:
        app = self.server.app
        fault = app._take_fault()
        if fault is not None:
            record.fault = fault.kind
            if fault.kind == "reset":
                self._drop_connection()
                return
            if fault.kind == "slow":
                app._stopping.wait(float(fault.options.get("seconds", 1.0)))
            elif fault.kind != "stream_cut":
                raise fault.error()
        app._check_key(self.headers)
        if record.body is None:
            raise ApiError(400, "request body: not valid JSON")
        behaviour = app.behaviour
        try:
            request = parse_chat_request(record.body, app._fetch, behaviour)
        except ApiError as error:
            body = record.body
            streamed = isinstance(body, dict) and body.get("stream") is True
            if not streamed or behaviour.stream_errors == "json":
                raise
            self._send_stream_error(error, record, ok=behaviour.stream_errors == "sse_200")
            return
        rid = response_id(raw)
        completion = answer(request, rid)
        usage_ = usage(request, completion, app._cached_tokens(request))
        record.usage = usage_
        cut = fault if fault is not None and fault.kind == "stream_cut" else None
        if request.stream:
            self._send_stream(request, completion, rid, usage_, record, cut)
        else:
            payload = completion_body(request, completion, rid, usage_, behaviour)
            self._send_json(200, payload, record, cut_in_half=cut is not None)

    # -- I/O -----------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(
        self,
        status: int,
        payload: dict[str, Any],
        record: RecordedRequest,
        headers: dict[str, str] | None = None,
        *,
        cut_in_half: bool = False,
    ) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self._started = True
        record.status = status
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if cut_in_half:
            self.wfile.write(data[: len(data) // 2])
            self._drop_connection(graceful=True)
        else:
            self.wfile.write(data)

    def _send_stream(
        self,
        request: ChatRequest,
        completion: Completion,
        rid: str,
        usage_: dict[str, Any],
        record: RecordedRequest,
        cut: Fault | None,
    ) -> None:
        events = list(stream_chunks(request, completion, rid, usage_, self.server.app.behaviour))
        if cut is not None:
            finish = next(i for i, e in enumerate(events) if e["choices"][0]["finish_reason"])
            events = events[: min(cut.options.get("after_chunks") or max(1, finish // 2), finish)]
        self._started = True
        record.status = 200
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in events:
            self._write_chunk(f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode())
        if cut is not None:
            self._drop_connection(graceful=True)
            return
        self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")

    def _send_stream_error(self, error: ApiError, record: RecordedRequest, *, ok: bool) -> None:
        """MiMo's error body framed as one SSE event, as seen for ``stream: true`` requests.

        The third-party log shows ``data:{"error":...}`` (no space after the colon) under the
        error's status; ``ok`` sends it in a 200 event stream instead.
        """
        status = 200 if ok else error.status
        envelope = json.dumps(error.body(), ensure_ascii=False, separators=(",", ":"))
        data = b"data:" + envelope.encode() + b"\n\n"
        self._started = True
        record.status = status
        self.send_response(status)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Content-Length", str(len(data)))
        for name, value in error.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))

    def _drop_connection(self, *, graceful: bool = False) -> None:
        """Close the connection now: with FIN after a partial answer, else with a reset."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            if graceful:
                self.connection.shutdown(socket.SHUT_RDWR)
            else:
                linger = struct.pack("ii", 1, 0)
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            self.connection.close()
