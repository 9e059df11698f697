"""Run the MiMo contract server standalone: ``python -m tests.mimo_server --port 8765``."""

from __future__ import annotations

import argparse
import logging
import threading

from .server import MiMoContractServer


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.mimo_server",
        description="Serve MiMo's documented chat-completions contract locally (a test fixture).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind (default 8765)")
    parser.add_argument("--api-key", default="test-key", help="the key it accepts")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    with MiMoContractServer(args.api_key, host=args.host, port=args.port) as server:
        print(f"MiMo contract server at {server.base_url} (api key {server.api_key!r})", flush=True)
        print("Ctrl-C stops it.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopping")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
