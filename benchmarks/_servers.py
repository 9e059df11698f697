"""Local HTTP servers for the benchmarks, all on 127.0.0.1.

* the MiMo contract server (tests/mimo_server) in a child process, so its work does not
  share the client's interpreter lock (``python -m benchmarks._servers`` runs it);
* a sink that reads a chat request's body and answers a fixed ``chat.completion``, to
  time the client path of large requests without the contract server's decoding;
* a static file server that honours ``Range``, counting the bytes it sends.

Every server here answers with TCP_NODELAY (``disable_nagle_algorithm``, which the
contract server sets on its own handler too). Python's ``http.server`` writes the status
line and headers, then the body, as two sends; with Nagle's algorithm on, the second one
waits for the client's delayed ACK and a loopback request stalls by about 40 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchmarks._common import REPO_ROOT

API_KEY = "bench-key"


@contextlib.contextmanager
def child_server(module: str, *args: str) -> Iterator[str]:
    """Run ``python -m module *args`` (a server that prints its base URL); yield the URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("http://"):
            raise RuntimeError(f"{module} did not start a server: {line!r}")
        yield line
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def contract_server_process() -> contextlib.AbstractContextManager[str]:
    """Run the contract server in a child process; yield its base URL (key: API_KEY)."""
    return child_server("benchmarks._servers", "--api-key", API_KEY)


# -- sink --------------------------------------------------------------------------------

FIXED_COMPLETION = {
    "id": "bench",
    "object": "chat.completion",
    "created": 1767225600,
    "model": "mimo-v2.5",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "The sink read the request and did not look at it.",
                "reasoning_content": "A fixed answer.",
            },
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 10, "total_tokens": 11},
}


class _SinkHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _SinkServer

    def do_POST(self) -> None:
        remaining = int(self.headers.get("Content-Length") or 0)
        head = b""
        while remaining > 0:
            piece = self.rfile.read(min(remaining, 1 << 20))
            if not piece:
                break
            if len(head) < 4096:
                head += piece[: 4096 - len(head)]
            remaining -= len(piece)
            self.server.bytes_received += len(piece)
        self.server.heads.append(head)
        body = json.dumps(FIXED_COMPLETION).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _SinkServer(ThreadingHTTPServer):
    daemon_threads = True
    bytes_received = 0
    heads: list[bytes]


@contextlib.contextmanager
def _serving(server: ThreadingHTTPServer) -> Iterator[None]:
    """Run ``server`` in a daemon thread for the duration of the block."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def sink_server() -> Iterator[_SinkServer]:
    """A chat-completions sink on 127.0.0.1 in a thread; ``base_url`` is set on it."""
    server = _SinkServer(("127.0.0.1", 0), _SinkHandler)
    server.heads = []
    with _serving(server):
        yield server


def base_url_of(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}/v1"


# -- static files with Range ------------------------------------------------------------

_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class _FileHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _FileServer

    def do_GET(self) -> None:
        path = self.server.files.get(self.path.split("?", 1)[0])
        if path is None:
            self.send_error(404)
            return
        size = path.stat().st_size
        start, stop = 0, size
        status = 200
        wanted = self.headers.get("Range")
        if wanted and self.server.ranges:
            match = _RANGE.match(wanted.strip())
            if match is None or not (match[1] or match[2]):
                self.send_error(416)
                return
            if match[1]:
                start = int(match[1])
                stop = min(size, int(match[2]) + 1) if match[2] else size
            else:
                start = max(0, size - int(match[2]))
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        self.send_response(status)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(stop - start))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{size}")
        self.end_headers()
        self.server.requests += 1
        with path.open("rb") as file:
            file.seek(start)
            remaining = stop - start
            try:
                while remaining > 0:
                    piece = file.read(min(remaining, 1 << 16))
                    if not piece:
                        break
                    self.wfile.write(piece)
                    remaining -= len(piece)
                    self.server.bytes_sent += len(piece)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _FileServer(ThreadingHTTPServer):
    daemon_threads = True
    files: dict[str, Path]
    ranges = True
    bytes_sent = 0
    requests = 0


@contextlib.contextmanager
def file_server(files: dict[str, Path]) -> Iterator[_FileServer]:
    """Serve ``files`` (URL path -> file) on 127.0.0.1 in a thread, honouring Range."""
    server = _FileServer(("127.0.0.1", 0), _FileHandler)
    server.files = dict(files)
    with _serving(server):
        yield server


def main() -> int:
    """Serve the contract server until terminated; print its base URL."""
    parser = argparse.ArgumentParser(description="MiMo contract server for the benchmarks")
    parser.add_argument("--api-key", default=API_KEY)
    args = parser.parse_args()
    from tests.mimo_server import MiMoContractServer

    with MiMoContractServer(args.api_key) as server:
        print(server.base_url, flush=True)
        threading.Event().wait()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
