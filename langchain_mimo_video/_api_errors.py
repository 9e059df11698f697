"""How a failed request becomes one of this package's errors (the tree is in ``errors``).

The openai SDK raises its own classes; :func:`mimo_errors` turns each into the class of
:mod:`langchain_mimo_video.errors` that is both that SDK class and LangChain's class for
the failure, with MiMo's detail and a hint in the message. Everything an error carries
(message, body, the attached response and request) is scrubbed of the API key first,
because tracers record it: LangChain copies ``error.response``'s body and headers into
the ``on_llm_error`` payload.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

import httpx2
import openai

from langchain_mimo_video.errors import (
    MiMoAPIError,
    MiMoAuthenticationError,
    MiMoBadRequestError,
    MiMoConnectionError,
    MiMoContentFilteredError,
    MiMoContextOverflowError,
    MiMoInsufficientBalanceError,
    MiMoNotFoundError,
    MiMoPermissionDeniedError,
    MiMoRateLimitError,
    MiMoResponseError,
    MiMoServerError,
    MiMoStatusError,
    MiMoTimeoutError,
    MiMoUnknownStatusError,
)

__all__ = [
    "STATUS_ERRORS",
    "broken_answer",
    "connection_error",
    "envelope_error",
    "mimo_errors",
    "scrub",
    "status_error",
]

#: MiMo's documented statuses and the class each raises; 5xx raise MiMoServerError.
STATUS_ERRORS: Final[Mapping[int, type[MiMoStatusError]]] = {
    400: MiMoBadRequestError,
    401: MiMoAuthenticationError,
    402: MiMoInsufficientBalanceError,
    403: MiMoPermissionDeniedError,
    404: MiMoNotFoundError,
    421: MiMoContentFilteredError,
    429: MiMoRateLimitError,
}

_STATUS_HINTS: Final[Mapping[int, str]] = {
    400: "the request was rejected as invalid",
    401: "check MIMO_API_KEY, and that Token Plan keys (tp-...) use their MIMO_BASE_URL",
    402: "the account's balance is used up; top it up in the MiMo console",
    403: "this key may not use this model or feature",
    404: "the model or endpoint does not exist; check the model name and base URL",
    421: "the content was filtered",
    429: "rate limited; retried with backoff until max_retries ran out",
}
_SERVER_HINT: Final = "the server failed; retried with backoff until max_retries ran out"
_BASE_URL_HINT: Final = (
    "Check the network, and MIMO_BASE_URL (or base_url=) if the API lives elsewhere: "
    "Token Plan keys (tp-...) use a regional URL such as "
    "https://token-plan-cn.xiaomimimo.com/v1. Retried with backoff until max_retries ran out."
)
# Wordings that mean "the input is longer than the context"; MiMo documents none.
_CONTEXT_OVERFLOW: Final = re.compile(
    r"context.{0,20}(length|window|limit)|maximum context|too many (input |prompt )?tokens"
    r"|prompt is too long|input is too long|exceeds? the (model'?s? )?(maximum|context)",
    re.IGNORECASE,
)
_SECRET_HEADERS: Final = frozenset(
    {"authorization", "api-key", "x-api-key", "proxy-authorization", "cookie", "set-cookie"}
)
_MASK: Final = "***"
#: Secrets shorter than this are no real key (MiMo's are ``sk-``/``tp-`` and dozens of
#: characters); they are masked as whole values only, never inside text.
MIN_SECRET_LENGTH: Final = 8
_EXCERPT_CHARS: Final = 200


# -- scrubbing ------------------------------------------------------------------------------


def scrub(value: Any, secret: str | None) -> Any:
    """Return ``value`` with ``secret`` masked, in nested dicts and lists too.

    A secret as long as a real key can be (``MIN_SECRET_LENGTH`` or more) is masked
    wherever it occurs, in values and mapping keys alike. A shorter one (a placeholder such
    as ``"k"``, which no server accepts as a key) is masked only where a whole value equals
    it, and mapping keys are left alone, so it cannot turn ``token_usage`` or
    ``completion_tokens`` into ``to***en_usage`` or ``completion_to***ens``.

    Args:
        value: a string, bytes, or a JSON-like tree of dicts, lists and scalars.
        secret: the API key to mask, or None.

    Returns:
        A masked copy (lists for tuples); ``value`` itself when there is nothing to mask.

    """
    if not secret:
        return value
    if isinstance(value, str):
        if len(secret) < MIN_SECRET_LENGTH:
            return _MASK if value == secret else value
        return value.replace(secret, _MASK)
    if isinstance(value, bytes):
        return scrub(value.decode("utf-8", "surrogateescape"), secret).encode(
            "utf-8", "surrogateescape"
        )
    if isinstance(value, Mapping):
        if len(secret) < MIN_SECRET_LENGTH:
            return {key: scrub(item, secret) for key, item in value.items()}
        return {scrub(key, secret): scrub(item, secret) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(item, secret) for item in value]
    return value


def _clean_headers(headers: httpx2.Headers, secret: str | None) -> list[tuple[str, str]]:
    return [
        (name, _MASK if name.lower() in _SECRET_HEADERS else scrub(value, secret))
        for name, value in headers.items()
    ]


def _clean_request(request: httpx2.Request, secret: str | None) -> httpx2.Request:
    """A copy of ``request`` without credentials (its body is kept, key-free)."""
    try:
        content = scrub(request.content, secret)
    except httpx2.RequestNotRead:
        content = b""
    return httpx2.Request(
        request.method,
        scrub(str(request.url), secret),
        headers=_clean_headers(request.headers, secret),
        content=content,
    )


def _content(response: httpx2.Response) -> bytes:
    try:
        return response.content
    except httpx2.ResponseNotRead:
        return b""


def _clean_response(
    response: httpx2.Response, secret: str | None, *, status: int | None = None, content: Any = None
) -> httpx2.Response:
    """A copy of ``response`` (and of its request) with the key masked everywhere."""
    body = _content(response) if content is None else content
    return httpx2.Response(
        status if status is not None else response.status_code,
        headers=_clean_headers(response.headers, secret),
        content=scrub(body, secret),
        request=_clean_request(response.request, secret),
    )


def excerpt(content: bytes | str, secret: str | None) -> str:
    """The start of ``content`` as text, key masked, for an error message."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    text = scrub(text, secret)
    text = " ".join(text.split())
    return text if len(text) <= _EXCERPT_CHARS else text[:_EXCERPT_CHARS] + "..."


# -- the classes --------------------------------------------------------------------------


def error_class(status: int, detail: str = "") -> type[MiMoStatusError]:
    """The class for an HTTP error ``status`` (``detail`` tells a context overflow apart)."""
    if status == 400 and _CONTEXT_OVERFLOW.search(detail):
        return MiMoContextOverflowError
    if status in STATUS_ERRORS:
        return STATUS_ERRORS[status]
    return MiMoServerError if status >= 500 else MiMoUnknownStatusError


def _status_message(status: int, body: Any, fallback: str) -> str:
    detail = [str(body[key]) for key in ("message", "param") if body.get(key)]
    hint = _STATUS_HINTS.get(status) or (_SERVER_HINT if status >= 500 else "")
    text = f"MiMo API error {status}"
    if body.get("code") and str(body["code"]) != str(status):
        text += f" (code {body['code']})"
    if detail:
        text += ": " + " - ".join(detail)
    elif fallback:
        text += f": {fallback}"
    return f"{text} [{hint}]" if hint else text


def _envelope_from_text(text: str) -> dict[str, Any] | None:
    """MiMo's error object from a body that is an SSE event (``data: {"error": ...}``)."""
    for line in text.splitlines():
        if line.startswith("data:"):
            try:
                data = json.loads(line[5:])
            except ValueError:
                return None
            if isinstance(data, dict) and isinstance(data.get("error"), dict):
                return dict(data["error"])
            return None
    return None


def status_error(error: openai.APIStatusError, secret: str | None) -> MiMoStatusError:
    """The package's class for an SDK status error, its message led by MiMo's detail."""
    body: Any = error.body
    if isinstance(body, str):  # an error status with an SSE body (a streamed request)
        body = _envelope_from_text(body) or body
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        body = body["error"]
    body = scrub(body, secret)
    fields = body if isinstance(body, Mapping) else {}
    status = error.status_code
    fallback = scrub(error.message, secret) if not isinstance(error.body, str) else ""
    if not fallback and isinstance(body, str):
        fallback = excerpt(body, secret)
    message = _status_message(status, fields, fallback)
    detail = f"{fields.get('message', '')} {fields.get('param', '')}"
    cls = error_class(status, detail)
    return cls(message, response=_clean_response(error.response, secret), body=body)


def envelope_error(
    envelope: Mapping[str, Any], response: httpx2.Response, secret: str | None
) -> MiMoStatusError:
    """The error for MiMo's error object arriving inside a stream (``data: {"error": ...}``).

    It raises the class of the status in its ``code``, as if it had come unstreamed.
    """
    code = str(envelope.get("code") or "")
    if code.isdigit() and 400 <= int(code) <= 599:
        status = int(code)
    else:
        status = response.status_code if response.status_code >= 400 else 500
    body = scrub(dict(envelope), secret)
    message = _status_message(status, body, "an error event in the stream")
    cls = error_class(status, f"{body.get('message', '')} {body.get('param', '')}")
    content = json.dumps({"error": body}, ensure_ascii=False).encode()
    clean = _clean_response(response, secret, status=status, content=content)
    return cls(message, response=clean, body=body)


def connection_error(error: openai.APIConnectionError, secret: str | None) -> MiMoConnectionError:
    """The package's class for an unreachable server or a timeout, naming the URL tried."""
    request = _clean_request(error.request, secret)
    url = str(request.url)
    if isinstance(error, openai.APITimeoutError):
        return MiMoTimeoutError(
            message=f"MiMo API timeout: no answer from {url} in time. Raise timeout= (seconds) "
            f"for long videos or answers. {_BASE_URL_HINT}",
            request=request,
        )
    cause = error.__cause__
    reason = scrub(f"{type(cause).__name__}: {cause}", secret) if cause is not None else ""
    reason = f" ({reason})" if reason and str(cause) else ""
    return MiMoConnectionError(
        message=f"MiMo API connection error: could not reach {url}{reason}. {_BASE_URL_HINT}",
        request=request,
    )


def broken_answer(
    response: httpx2.Response, problem: str, secret: str | None, content: bytes | str | None = None
) -> MiMoResponseError:
    """The error for an answer that is not what the API contract says.

    Args:
        response: the HTTP response that carried it.
        problem: what is wrong, e.g. ``"not JSON"``.
        secret: the API key, masked from everything the error carries.
        content: what to quote, when not the response's body (e.g. one SSE event).

    """
    content_type = response.headers.get("content-type", "")
    quoted = excerpt(_content(response) if content is None else content, secret)
    status = response.status_code
    return MiMoResponseError(
        f"MiMo API error {status}: the answer is not a valid chat completion ({problem}); "
        f"content-type {content_type or 'none'!r}, it began: {quoted!r}. Something between "
        "you and MiMo (a proxy or gateway) may have answered: check MIMO_BASE_URL, or retry.",
        request=_clean_request(response.request, secret),
        status_code=status,
        content_type=content_type,
        excerpt=quoted,
    )


@contextmanager
def mimo_errors(secret: str | None = None) -> Iterator[None]:
    """Re-raise the SDK's errors as this package's (see the module docstring).

    Errors of ours pass through unchanged. The original SDK error stays chained as the
    cause unless its own text holds the key.
    """
    try:
        yield
    except MiMoAPIError:
        raise
    except openai.APIStatusError as error:
        clean = status_error(error, secret)
        if secret and secret in f"{error.message} {error.body}":
            raise clean from None
        raise clean from error
    except openai.APIConnectionError as error:
        raise connection_error(error, secret) from error.__cause__
    except openai.APIError as error:
        # The SDK raises a bare APIError for an error event inside a stream.
        if isinstance(error.body, Mapping):
            request = error.request
            response = httpx2.Response(200, request=request)
            raise envelope_error(error.body, response, secret) from None
        raise
