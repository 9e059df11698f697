"""How integration tests record and replay HTTP cassettes (vcrpy).

- **One switch.** ``MIMO_RECORD`` (``none`` by default) is the only thing that makes a
  test record; with ``CI`` set it is always ``none``. In ``none`` a request with no
  recorded answer fails the test: nothing falls back to the network.
- **Where.** ``cassettes/<test module>/<test name>.yaml`` at the top of the repository.
- **Provenance.** Every cassette carries a ``provenance`` block saying what answered: the
  local contract server (``tests/mimo_server``) or the live API, with model and date.
- **Matching.** Requests match on method, path and the JSON body compared as parsed JSON.
  Before a request is stored or matched, ``data:`` URLs in its body are replaced by their
  SHA-256 and length (cassettes stay small; the match still proves the exact bytes were
  sent), loopback URLs lose their port (test servers use ephemeral ports), and all
  request headers except ``content-type`` are dropped (no credential is ever stored).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from vcr.persisters.filesystem import FilesystemPersister
from vcr.request import Request
from vcr.serializers import compat

REPO = Path(__file__).resolve().parents[1]
CASSETTE_ROOT = REPO / "cassettes"

#: Response headers worth keeping; the rest (dates, cookies, server ids) are noise.
_KEPT_RESPONSE_HEADERS = {"content-type", "retry-after", "x-should-retry"}
_DATA_URL = re.compile(r"^data:(?P<mime>[^;,]*);base64,", re.IGNORECASE)
_LOOPBACK_URL = re.compile(r"^(https?)://(127\.0\.0\.1|localhost|\[::1\]):\d+/")


def record_mode() -> str:
    """The vcrpy record mode: ``MIMO_RECORD`` when not in CI, else ``none``."""
    if os.environ.get("CI"):
        return "none"
    return os.environ.get("MIMO_RECORD", "none") or "none"


def recording() -> bool:
    """Whether this run may write cassettes."""
    return record_mode() != "none"


def digest_data_url(url: str) -> str:
    """Replace a base64 data URL by its MIME type, SHA-256 and decoded-length stand-in."""
    match = _DATA_URL.match(url)
    if match is None:
        return url
    payload = url[match.end() :]
    sha = hashlib.sha256(payload.encode("ascii", "replace")).hexdigest()
    return f"data:{match['mime']};sha256={sha};base64-length={len(payload)}"


def _normalize(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _normalize(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalize(item) for item in value]
    if isinstance(value, str):
        if value[:5].lower() == "data:":
            return digest_data_url(value)
        return _LOOPBACK_URL.sub(r"\1://loopback/", value)
    return value


def scrub_request(request: Request) -> Request:
    """Prepare a request for storing and matching (see the module docstring)."""
    kept = {k: v for k, v in request.headers.items() if k.lower() == "content-type"}
    request.headers = kept
    request.uri = _LOOPBACK_URL.sub(r"\1://loopback/", request.uri)
    body = request.body
    if body:
        try:
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return request
        request.body = json.dumps(_normalize(parsed), ensure_ascii=False).encode()
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """Keep only the response headers a client acts on."""
    response["headers"] = {
        name: value
        for name, value in response["headers"].items()
        if name.lower() in _KEPT_RESPONSE_HEADERS
    }
    return response


def json_body_matcher(first: Request, second: Request) -> None:
    """Match two request bodies as parsed JSON (vcrpy matcher: raise AssertionError if not)."""
    if first.body == second.body:
        return
    try:
        left = json.loads(first.body or b"null")
        right = json.loads(second.body or b"null")
    except ValueError as error:
        raise AssertionError(f"bodies differ and are not both JSON: {error}") from None
    assert left == right, "JSON bodies differ"


class ProvenancePersister(FilesystemPersister):
    """Writes cassettes with a ``provenance`` block; reads them like vcrpy does."""

    provenance: dict[str, Any] = {}

    @staticmethod
    def save_cassette(cassette_path: Any, cassette_dict: Any, serializer: Any) -> None:
        interactions = [
            {
                "request": compat.convert_to_unicode(request._to_dict()),
                "response": compat.convert_to_unicode(response),
            }
            for request, response in zip(
                cassette_dict["requests"], cassette_dict["responses"], strict=True
            )
        ]
        data = {
            "provenance": dict(ProvenancePersister.provenance),
            "version": 1,
            "interactions": interactions,
        }
        path = Path(cassette_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(serializer.serialize(data))


def local_server_provenance() -> dict[str, Any]:
    """Provenance of cassettes recorded against the local contract server."""
    return {
        "recorded_against": "local MiMo contract server (tests/mimo_server), NOT the live API",
        "note": "Answers are deterministic fixtures built from the documented contract; "
        "usage follows the documented token formula applied to the video actually sent.",
        "recorded_on": dt.date.today().isoformat(),
    }


def live_provenance(base_url: str, model: str) -> dict[str, Any]:
    """Provenance of cassettes recorded against the live MiMo API."""
    return {
        "recorded_against": f"live MiMo API at {base_url}",
        "model": model,
        "recorded_on": dt.date.today().isoformat(),
    }
