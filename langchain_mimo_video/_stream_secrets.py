"""Masking the API key in streamed text when the key arrives split across chunks.

Each stream chunk is scrubbed on its own (``_api_errors.scrub``), but a server that echoes
the key can cut it between two deltas: ``"...sk-SEC"`` then ``"RET..."``. Neither piece is
the key, yet the callbacks, the chunks and the message they add up to would hold all of it.
:class:`KeyHoldback` keeps back the end of each streamed text (content, reasoning, tool-call
names and arguments) while it could still be the start of the key, at most ``len(key) - 1``
characters, and sends it on with the next piece of the same text once that shows whether it
was the key (masked) or not (sent unchanged). A held end also goes out as soon as the
choice moves on to another text (the answer after the reasoning, a tool call's arguments
after its name, the next tool call), since that text is then complete; whatever is still
held when a choice finishes goes out with its finish chunk, and at the end of the stream in
one last chunk.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_mimo_video._api_errors import MIN_SECRET_LENGTH, scrub

__all__ = ["KeyHoldback", "held_prefix_length"]

#: The delta fields whose text the client concatenates across chunks.
_TEXT_FIELDS = ("content", "reasoning_content")
_CALL_FIELDS = ("name", "arguments")

# (choice index, field) or (choice index, "tool_calls", call index, field)
_Path = tuple[Any, ...]


def held_prefix_length(text: str, secret: str) -> int:
    """How many characters at the end of ``text`` are a proper prefix of ``secret``.

    Args:
        text: streamed text, already masked.
        secret: the API key.

    Returns:
        The length of the longest end of ``text`` that ``secret`` starts with, shorter than
        ``secret`` itself; 0 when none.

    """
    for length in range(min(len(text), len(secret) - 1), 0, -1):
        if text.endswith(secret[:length]):
            return length
    return 0


class KeyHoldback:
    """Masks the key in streamed text even when it is split across chunks.

    Args:
        secret: the API key; ``None`` or a placeholder shorter than a real key turns the
            holdback off (such a value is masked as a whole value only, see ``scrub``).

    Example:
        .. code-block:: python

            holdback = KeyHoldback(key)
            for chunk in chunks:  # each already scrubbed on its own
                yield holdback.feed(chunk)
            last = holdback.flush()
            if last is not None:
                yield last

    """

    def __init__(self, secret: str | None) -> None:
        self._secret = secret if secret and len(secret) >= MIN_SECRET_LENGTH else None
        self._held: dict[_Path, str] = {}
        self._last: Mapping[str, Any] = {}

    def feed(self, chunk: dict[str, Any]) -> dict[str, Any]:
        """Return ``chunk`` with held text put in front and a possible key start held back.

        Args:
            chunk: one chunk, already scrubbed on its own; changed in place.

        Returns:
            The same chunk.

        """
        if self._secret is None:
            return chunk
        self._last = chunk
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta")
            index = choice.get("index", 0)
            finished = bool(choice.get("finish_reason"))
            moved = (
                self._feed_delta(index, delta, final=finished) if isinstance(delta, dict) else set()
            )
            if finished or moved:
                # finished: everything held goes out; moved on: the texts not continued here
                self._release_choice(index, choice, continued=set() if finished else moved)
        return chunk

    def flush(self) -> dict[str, Any] | None:
        """The chunk that carries the text still held at the end of the stream, if any.

        Returns:
            A chunk with the ``id``, ``model`` and ``created`` of the last one and a delta per
            choice that still held text, or ``None`` when nothing is held.

        """
        if not self._held:
            return None
        base = {
            key: self._last[key]
            for key in ("id", "object", "created", "model")
            if key in self._last
        }
        choices: dict[Any, dict[str, Any]] = {}
        for path in sorted(self._held, key=repr):
            choice = choices.setdefault(path[0], {"index": path[0], "delta": {}})
            self._put(choice["delta"], path, self._held[path])
        self._held.clear()
        return {**base, "choices": list(choices.values())}

    # -- inside ---------------------------------------------------------------------------

    def _feed_delta(self, index: Any, delta: dict[str, Any], *, final: bool) -> set[_Path]:
        """Hold back or release the delta's texts; return the paths that carried text."""
        carried: set[_Path] = set()
        for field in _TEXT_FIELDS:
            if isinstance(delta.get(field), str):
                if delta[field]:
                    carried.add((index, field))
                delta[field] = self._pass((index, field), delta[field], final=final)
        for call in delta.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, dict) else None
            if not isinstance(function, dict):
                continue
            for field in _CALL_FIELDS:
                if isinstance(function.get(field), str):
                    path = (index, "tool_calls", call.get("index", 0), field)
                    if function[field]:
                        carried.add(path)
                    function[field] = self._pass(path, function[field], final=final)
        return carried

    def _pass(self, path: _Path, piece: str, *, final: bool) -> str:
        assert self._secret is not None
        text: str = scrub(self._held.pop(path, "") + piece, self._secret)
        keep = 0 if final else held_prefix_length(text, self._secret)
        if keep:
            self._held[path] = text[-keep:]
            return text[:-keep]
        return text

    def _release_choice(self, index: Any, choice: dict[str, Any], continued: set[_Path]) -> None:
        """Put what the choice holds, but for the texts ``continued`` here, into ``choice``."""
        paths = [path for path in self._held if path[0] == index and path not in continued]
        if not paths:
            return
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            delta = choice["delta"] = {}
        for path in paths:
            self._put(delta, path, self._held.pop(path))

    @staticmethod
    def _put(delta: dict[str, Any], path: _Path, text: str) -> None:
        """Add ``text`` (released, so sent whole) to ``delta`` at ``path``."""
        if len(path) == 2:
            delta[path[1]] = text + (delta.get(path[1]) or "")
            return
        calls = delta.setdefault("tool_calls", [])
        call = next((c for c in calls if c.get("index", 0) == path[2]), None)
        if call is None:
            call = {"index": path[2], "function": {}}
            calls.append(call)
        function = call.setdefault("function", {})
        function[path[3]] = text + (function.get(path[3]) or "")
