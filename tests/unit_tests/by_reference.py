"""Helpers for tests of components that send local videos by reference (tool, CLI).

What the chat model's callbacks received, a bigger valid video, the folder tempfile uses,
and a transport that reads request bodies piece by piece (so a test can measure what the
process holds while requests are in flight).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.load import dumpd

__all__ = ["ChatStarts", "StreamingTransport", "padded_video", "use_temp_root"]

VIDEOS = Path(__file__).parents[1] / "data" / "videos"


class ChatStarts(BaseCallbackHandler):
    """What each ``on_chat_model_start`` received, serialised as a tracer would.

    With ``temp``, also the names in that folder at each start.
    """

    def __init__(self, temp: Path | None = None) -> None:
        self.messages: list[str] = []
        self.temp = temp
        self.temp_during: list[list[str]] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.messages.append(json.dumps(dumpd(messages)))
        if self.temp is not None:
            self.temp_during.append(sorted(p.name for p in self.temp.iterdir()))


def padded_video(path: Path, extra: int) -> Path:
    """kitten.mp4 with an MP4 ``free`` box of ``extra`` random bytes: a valid, bigger file."""
    box = (extra + 8).to_bytes(4, "big") + b"free" + os.urandom(extra)
    path.write_bytes((VIDEOS / "kitten.mp4").read_bytes() + box)
    return path


def use_temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make tempfile create its folders in a fresh folder under ``tmp_path``; return it."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


class StreamingTransport(httpx2.BaseTransport):
    """Answers with ``reply(body_length)`` after reading the body piece by piece.

    ``httpx2.MockTransport`` reads (and keeps) the whole body on the request first.
    """

    def __init__(self, reply: Callable[[int], httpx2.Response]) -> None:
        self.reply = reply

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        stream: Any = request.stream
        return self.reply(sum(len(piece) for piece in stream))
