"""Deterministic tool choice and tool arguments, from the request's text and JSON schemas.

The rules (also in the README):

* A tool is **mentioned** when its name appears in the user's text as a whole word, or, failing
  that, when a distinctive word of its name does (``get_weather`` is mentioned by "weather";
  words shorter than 4 letters and generic ones such as "tool" or "function" do not count).
* Arguments: if the text contains a call ``name(args)`` of the chosen tool, its literals
  (ints, floats, quoted strings, true/false/null, ``key=value``) fill the schema's properties
  in order, keyword ones by name. Every other *required* property gets a type-correct value:
  strings take the next quoted string of the text, else the whole text; numbers take the next
  number of the text, else 0 (moved inside any bounds); booleans are true; arrays are empty
  (or ``minItems`` generated items); objects are filled recursively; enums take the first value.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

_GENERIC_WORDS: Final = frozenset(
    {"tool", "tools", "function", "func", "call", "make", "create", "with", "from", "data"}
)
_ASKS_FOR_TOOL = re.compile(
    r"\b(use|using|call|calling|invoke|run)\b[^.?!]{0,24}?\b(tool|tools|function)\b",
    re.IGNORECASE,
)
# Quoted strings; a single quote only counts at a word boundary, so "What's" is no quote.
_QUOTED = re.compile(r"(?<!\w)'([^']*)'(?!\w)|\"([^\"]*)\"|`([^`]*)`|“([^”]*)”|「([^」]*)」")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")


def name_words(name: str) -> list[str]:
    """Distinctive lower-case words of a tool name (split at ``_``, ``-`` and camelCase)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    words = re.split(r"[\s_\-]+", spaced.lower())
    return [w for w in words if len(w) >= 4 and w not in _GENERIC_WORDS]


def mentioned_tool(names: list[str], text: str) -> str | None:
    """The tool the text mentions: by full name first (earliest), else by a name word."""
    best: tuple[int, int, str] | None = None
    for name in names:
        match = re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text)
        if match:
            # earliest mention wins; on a tie the longer name (magic_function_no_args).
            key = (match.start(), -len(name), name)
            best = key if best is None or key < best else best
    if best is not None:
        return best[2]
    lowered = text.lower()
    for name in names:
        for word in name_words(name):
            if re.search(rf"\b{re.escape(word)}s?\b", lowered):
                return name
    return None


def asks_for_a_tool(text: str) -> bool:
    """Whether the text asks to use a tool ("Use the tool.", "using the tool, ...")."""
    return bool(_ASKS_FOR_TOOL.search(text))


def build_arguments(name: str, schema: dict[str, Any], text: str) -> dict[str, Any]:
    """Arguments for tool ``name`` from its parameters ``schema`` and the user's text."""
    filler = _Filler(schema, text)
    properties: dict[str, Any] = schema.get("properties") or {}
    arguments: dict[str, Any] = {}
    call = _find_call(name, text)
    if call is not None:
        positional, keywords, span = call
        filler.exclude(span)
        free = [prop for prop in properties if prop not in keywords]
        given = {**dict(zip(free, positional, strict=False)), **keywords}
        for prop, value in given.items():
            if prop in properties:
                arguments[prop] = filler.coerce(value, properties[prop])
    for prop in schema.get("required") or []:
        if prop not in arguments:
            arguments[prop] = filler.value(properties.get(prop) or {}, prop)
    return arguments


def _find_call(name: str, text: str) -> tuple[list[Any], dict[str, Any], tuple[int, int]] | None:
    """Literals of the first ``name(...)`` in the text, and the call's span."""
    match = re.search(rf"(?<![\w.]){re.escape(name)}\s*\(", text)
    if not match:
        return None
    depth, quote, end = 1, "", -1
    for index in range(match.end(), len(text)):
        char = text[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                end = index
                break
    if end < 0:
        return None
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    for item in _split_arguments(text[match.end() : end]):
        key, eq, rest = item.partition("=")
        if eq and re.fullmatch(r"\s*[A-Za-z_]\w*\s*", key):
            keywords[key.strip()] = _literal(rest)
        else:
            positional.append(_literal(item))
    return positional, keywords, (match.start(), end + 1)


def _split_arguments(inner: str) -> list[str]:
    items, current, quote, depth = [], "", "", 0
    for char in inner:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(current)
            current = ""
            continue
        current += char
    items.append(current)
    return [item.strip() for item in items if item.strip()]


def _literal(item: str) -> Any:
    item = item.strip()
    if len(item) >= 2 and item[0] == item[-1] and item[0] in "'\"":
        return item[1:-1]
    words = {"true": True, "false": False, "null": None, "none": None}
    if item.lower() in words:
        return words[item.lower()]
    try:
        return json.loads(item)
    except ValueError:
        return item


def _schema_type(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if isinstance(kind, str):
        return kind
    if "properties" in schema:
        return "object"
    return "string"


class _Filler:
    """Makes values for schema properties from the text's quoted strings and numbers."""

    def __init__(self, root: dict[str, Any], text: str) -> None:
        self.root = root
        self.text = text.strip()
        self._excluded: tuple[int, int] = (0, 0)
        self._strings: list[str] | None = None
        self._numbers: list[float] | None = None

    def exclude(self, span: tuple[int, int]) -> None:
        """Do not draw quoted strings or numbers from ``span`` (an explicit call)."""
        self._excluded = span

    def _outside(self, match: re.Match[str]) -> bool:
        start, end = self._excluded
        return not start <= match.start() < end

    def _next_string(self) -> str | None:
        if self._strings is None:
            self._strings = [
                next(g for g in m.groups() if g is not None)
                for m in _QUOTED.finditer(self.text)
                if self._outside(m)
            ]
        return self._strings.pop(0) if self._strings else None

    def _next_number(self) -> float | None:
        if self._numbers is None:
            self._numbers = [
                float(m.group()) for m in _NUMBER.finditer(self.text) if self._outside(m)
            ]
        return self._numbers.pop(0) if self._numbers else None

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        for _ in range(16):  # follow $ref / anyOf chains, but never loop forever
            ref = schema.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/"):
                target: Any = self.root
                for part in ref[2:].split("/"):
                    target = target.get(part, {}) if isinstance(target, dict) else {}
                schema = target if isinstance(target, dict) else {}
                continue
            options = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
            if isinstance(options, list) and options:
                non_null = [o for o in options if isinstance(o, dict) and o.get("type") != "null"]
                schema = (non_null or options)[0]
                continue
            break
        return schema

    def coerce(self, value: Any, schema: dict[str, Any]) -> Any:
        """``value`` converted to the schema's type where that is lossless enough."""
        schema = self._resolve(schema)
        kind = _schema_type(schema)
        if kind == "integer" and isinstance(value, float) and value.is_integer():
            return int(value)
        if kind == "integer" and isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            return int(value)
        if kind == "number" and isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                return value
        if kind == "string" and not isinstance(value, str) and value is not None:
            return json.dumps(value) if isinstance(value, dict | list) else str(value)
        return value

    def value(self, schema: dict[str, Any], name: str) -> Any:
        """A deterministic, type-correct value for a property called ``name``."""
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0]
        kind = _schema_type(schema)
        if kind == "string":
            text = self._next_string() or self.text or name
            limit = schema.get("maxLength")
            return text[:limit] if isinstance(limit, int) else text
        if kind in ("integer", "number"):
            number = self._next_number()
            return self._bounded(0.0 if number is None else number, schema, kind == "integer")
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        if kind == "array":
            items = schema.get("items")
            count = schema.get("minItems")
            item_schema: dict[str, Any] = items if isinstance(items, dict) else {}
            return [
                self.value(item_schema, name) for _ in range(count if isinstance(count, int) else 0)
            ]
        properties = schema.get("properties") or {}
        return {
            prop: self.value(properties.get(prop) or {}, prop)
            for prop in schema.get("required") or []
        }

    @staticmethod
    def _bounded(number: float, schema: dict[str, Any], integer: bool) -> int | float:
        step = 1 if integer else 0.5
        low, high = schema.get("minimum"), schema.get("maximum")
        ex_low, ex_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
        if isinstance(low, int | float) and number < low:
            number = low
        if isinstance(ex_low, int | float) and number <= ex_low:
            number = ex_low + step
        if isinstance(high, int | float) and number > high:
            number = high
        if isinstance(ex_high, int | float) and number >= ex_high:
            number = ex_high - step
        return int(number) if integer else number
