"""Errors raised by langchain-mimo-video.

Two roots. :class:`MiMoError`: everything this package raises on purpose, on its own
judgement (bad arguments, refused content, a video it cannot read, and answers that break
the API contract); each message names the rule that was broken and what to do about it.
:class:`MiMoAPIError`: a request was sent and failed. MiMo's error statuses and network
failures are re-raised as ``MiMoAPIError`` but not as ``MiMoError``, so an ``except
MiMoError`` written for bad input never swallows a rate limit; broken answers and cut
streams are both. Every ``MiMoAPIError`` also belongs to two other families, so code
written for either keeps working:

- the openai SDK's exception for the same failure (``openai.RateLimitError`` for a 429,
  ``openai.APIConnectionError`` for an unreachable server, ...);
- LangChain's provider-independent taxonomy in ``langchain_core.exceptions``
  (``ModelRateLimitError``, ``ModelConnectionError``, ...), whose ``is_retryable`` tells
  middleware, retries and fallbacks which failures a retry can fix.

The trees (``+`` the other parents of a class)::

    MiMoError
    ├── InvalidArgumentError            ValueError: an option this package cannot use
    │   └── UnknownArgumentError        a ChatMiMo argument that does not exist
    ├── UnknownPriceError               KeyError: no price known for a model
    ├── VideoValidationError            ValueError: a video part or option breaks a rule
    │   ├── VideoTooLargeError          over the 50 MB (base64) / 300 MB (URL) limit
    │   └── UnsafeSourceError           refused by a safety rule
    │       └── AmbiguousURLError       a URL that parsers read differently
    ├── VideoSourceError                ValueError: missing, unreadable or not a video
    │   └── ProbeLimitError             a remote probe hit its deadline or byte cap
    ├── UnsupportedContentError         ValueError: content MiMo (or this model) cannot take
    ├── TokenLimitError                 ValueError + ContextOverflowError
    ├── MediaError                      decoding or re-encoding failed, or no PyAV
    ├── MissingAPIKeyError              + ModelAuthenticationError
    ├── EmptyDescriptionError           an answer with no text
    ├── MiMoResponseError               + MiMoAPIError: a broken answer (see below)
    └── StreamInterruptedError          + MiMoAPIError: a stream cut before its end
    MiMoAPIError                        a request was sent and failed
    ├── MiMoStatusError                 openai.APIStatusError: an HTTP error status
    │   ├── MiMoBadRequestError         400 openai.BadRequestError + ModelInvalidRequestError
    │   │   └── MiMoContextOverflowError    400 "context too long" + ContextOverflowError
    │   ├── MiMoAuthenticationError     401 openai.AuthenticationError
    │   │                                   + ModelAuthenticationError
    │   ├── MiMoInsufficientBalanceError    402 ModelPermissionDeniedError
    │   ├── MiMoPermissionDeniedError   403 openai.PermissionDeniedError
    │   │                                   + ModelPermissionDeniedError
    │   ├── MiMoNotFoundError           404 openai.NotFoundError + ModelNotFoundError
    │   ├── MiMoContentFilteredError    421 ModelInvalidRequestError
    │   ├── MiMoRateLimitError          429 openai.RateLimitError + ModelRateLimitError
    │   ├── MiMoServerError             5xx openai.InternalServerError + ModelAPIError
    │   └── MiMoUnknownStatusError      other statuses + ModelInvalidRequestError
    ├── MiMoConnectionError             openai.APIConnectionError + ModelConnectionError
    │   └── MiMoTimeoutError            openai.APITimeoutError + ModelTimeoutError
    ├── MiMoResponseError               + MiMoError, openai.APIError + ModelAPIError
    └── StreamInterruptedError          + MiMoError, ModelConnectionError

One warning is not an error: :class:`RetiredModelWarning` (a ``FutureWarning``), given
once per model name when a retired model is asked for.

Statuses come from MiMo's error table (400 bad request, 401 bad key, 402 insufficient
balance, 403 forbidden, 404 model or capability not found, 421 content filtered, 429 too
frequent, 5xx server error). An error event inside a stream raises the class of the
status it carries. Every API error's message leads with ``MiMo API error <status>``, then
MiMo's ``message`` and ``param`` (where MiMo puts the useful detail) and a hint; the API
key never appears in a message, a body or an attached request.
"""

from __future__ import annotations

import httpx2
import openai
from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)

__all__ = [
    "AmbiguousURLError",
    "EmptyDescriptionError",
    "InvalidArgumentError",
    "MediaError",
    "MiMoAPIError",
    "MiMoAuthenticationError",
    "MiMoBadRequestError",
    "MiMoConnectionError",
    "MiMoContentFilteredError",
    "MiMoContextOverflowError",
    "MiMoError",
    "MiMoInsufficientBalanceError",
    "MiMoNotFoundError",
    "MiMoPermissionDeniedError",
    "MiMoRateLimitError",
    "MiMoResponseError",
    "MiMoServerError",
    "MiMoStatusError",
    "MiMoTimeoutError",
    "MiMoUnknownStatusError",
    "MissingAPIKeyError",
    "ProbeLimitError",
    "RetiredModelWarning",
    "StreamInterruptedError",
    "TokenLimitError",
    "UnknownArgumentError",
    "UnknownPriceError",
    "UnsafeSourceError",
    "UnsupportedContentError",
    "VideoSourceError",
    "VideoTooLargeError",
    "VideoValidationError",
]


class MiMoError(Exception):
    """Base class for every error raised by this package."""


# -- bad arguments, found before anything is sent ------------------------------------------


class InvalidArgumentError(MiMoError, ValueError):
    """An argument or option has a value this package cannot use.

    For example an unknown ``tool_choice``, a ``with_structured_output`` method that does
    not exist, or a negative token count. Raised before any request is sent.
    """


class UnknownArgumentError(InvalidArgumentError):
    """``ChatMiMo`` got an argument it has no field for (often a misspelling).

    Attributes:
        argument: the argument as given.
        suggestion: the field that was probably meant, or ``None``.

    """

    def __init__(self, message: str, *, argument: str, suggestion: str | None) -> None:
        super().__init__(message)
        self.argument = argument
        self.suggestion = suggestion


class UnknownPriceError(MiMoError, KeyError):
    """No price is known for a model; pass ``prices=`` with one.

    A ``KeyError``, so code that caught the plain ``KeyError`` keeps working.
    """

    def __str__(self) -> str:
        # KeyError's own __str__ shows the repr of its argument (quotes and escapes).
        return str(self.args[0]) if self.args else ""


class VideoValidationError(MiMoError, ValueError):
    """A video part or option breaks a documented rule (fps, media_resolution, URL, MIME).

    Raised before any request is sent.
    """


class VideoTooLargeError(VideoValidationError):
    """A video is over a documented size limit (50 MB base64, 300 MB by URL).

    Attributes:
        size: the size that was measured, in bytes.
        limit: the limit that applies, in bytes.

    """

    def __init__(self, message: str, *, size: int, limit: int) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit


class UnsafeSourceError(VideoValidationError):
    """A source was refused by a safety rule (path outside the allowed folders, private address)."""


class VideoSourceError(MiMoError, ValueError):
    """A video source cannot be used: missing or unreadable file, or not a video at all."""


class AmbiguousURLError(UnsafeSourceError):
    r"""A URL is spelled so that URL parsers disagree on its host, so it cannot be checked.

    For example a backslash before the query (``http://127.0.0.1\\@public.example/``), user
    info (``user@host``), whitespace or control characters, or a percent-encoded or
    non-ASCII host. The message says what to change. Raised before anything is fetched.
    """


class ProbeLimitError(VideoSourceError):
    """Reading a remote video to probe it hit one of the probe's limits.

    Attributes:
        limit: which limit: ``"deadline"`` (the whole probe took longer than its
            ``timeout``) or ``"bytes"`` (it read its byte cap: the file's stated size plus
            a margin, at most 300 MB).
        value: the limit, in seconds or bytes.
        bytes_read: the bytes read before the probe gave up.

    """

    def __init__(self, message: str, *, limit: str, value: float, bytes_read: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.value = value
        self.bytes_read = bytes_read


class UnsupportedContentError(MiMoError, ValueError):
    """A message holds content MiMo cannot take.

    For example a ``file_id`` reference, a PDF, or a video, image or audio part sent to a
    text-only model (``mimo-v2.5-pro``, ``mimo-v2-flash``). Raised before any request is sent.
    """


class TokenLimitError(MiMoError, ContextOverflowError, ValueError):
    """A request's estimated input tokens exceed ``max_input_tokens``.

    Also LangChain's ``ContextOverflowError``, so middleware that shortens the context
    and retries handles it. Raised before the request is sent.

    Attributes:
        estimated: the estimated input tokens of the request.
        limit: the configured limit.

    """

    def __init__(self, message: str, *, estimated: int, limit: int) -> None:
        super().__init__(message)
        self.estimated = estimated
        self.limit = limit


class MediaError(MiMoError):
    """Decoding, probing or re-encoding a video failed, or PyAV is not installed."""


class MissingAPIKeyError(MiMoError, ModelAuthenticationError):
    """No API key was given (``api_key=`` or the ``MIMO_API_KEY`` environment variable)."""


class EmptyDescriptionError(MiMoError):
    """MiMo answered a video with no description text.

    This happens when ``max_tokens`` is spent on reasoning before the answer starts: raise
    ``max_tokens`` on the chat model, or switch reasoning off (``thinking=False``).
    """


# -- a request was sent and failed ----------------------------------------------------------


class MiMoAPIError(Exception):
    """A request reached (or tried to reach) MiMo and failed.

    Every subclass is also an ``openai`` SDK exception (except
    :class:`StreamInterruptedError`) and a ``langchain_core.exceptions.ModelError``; read
    ``is_retryable`` to know whether sending the same request again may succeed. Only the
    failures this package finds itself (:class:`MiMoResponseError`,
    :class:`StreamInterruptedError`) are also :class:`MiMoError`.
    """


class MiMoStatusError(MiMoAPIError, openai.APIStatusError):
    """MiMo answered with an HTTP error status (also from an error event inside a stream).

    ``status_code``, ``param`` (MiMo's detail), ``code``, ``body`` and ``response`` are the
    openai SDK's attributes; the key is scrubbed from all of them.
    """


class MiMoBadRequestError(MiMoStatusError, openai.BadRequestError, ModelInvalidRequestError):
    """400: MiMo rejected the request as invalid (the detail is in ``param``). Not retryable."""


class MiMoContextOverflowError(MiMoBadRequestError, ContextOverflowError):
    """400 saying the input is longer than the model's context. Shorten it and retry."""


class MiMoAuthenticationError(
    MiMoStatusError, openai.AuthenticationError, ModelAuthenticationError
):
    """401: the key is wrong, or a Token Plan key (``tp-...``) is used on the wrong base URL."""


class MiMoInsufficientBalanceError(MiMoStatusError, ModelPermissionDeniedError):
    """402: the account's balance is used up. Top it up; retrying does not help."""


class MiMoPermissionDeniedError(
    MiMoStatusError, openai.PermissionDeniedError, ModelPermissionDeniedError
):
    """403: this key may not use this model or feature."""


class MiMoNotFoundError(MiMoStatusError, openai.NotFoundError, ModelNotFoundError):
    """404: the model, or the capability asked of it, does not exist."""


class MiMoContentFilteredError(MiMoStatusError, ModelInvalidRequestError):
    """421: MiMo's content filter refused the request. Not retryable as it is."""


class MiMoRateLimitError(MiMoStatusError, openai.RateLimitError, ModelRateLimitError):
    """429: too many requests, or the quota is used up. Retryable after a pause."""


class MiMoServerError(MiMoStatusError, openai.InternalServerError, ModelAPIError):
    """5xx: MiMo failed or is overloaded. Retryable."""


class MiMoUnknownStatusError(MiMoStatusError, ModelInvalidRequestError):
    """An error status MiMo does not document (e.g. a proxy's 407 or 413)."""


class MiMoConnectionError(MiMoAPIError, openai.APIConnectionError, ModelConnectionError):
    """MiMo could not be reached (DNS, refused or reset connection). Retryable.

    The message names the URL that was tried; a wrong ``MIMO_BASE_URL`` is the usual cause.
    """


class MiMoTimeoutError(MiMoConnectionError, openai.APITimeoutError, ModelTimeoutError):
    """MiMo did not answer within ``timeout`` seconds. Retryable."""

    def __init__(self, *, message: str = "Request timed out.", request: httpx2.Request) -> None:
        openai.APIConnectionError.__init__(self, message=message, request=request)


class MiMoResponseError(MiMoError, MiMoAPIError, openai.APIError, ModelAPIError):
    """MiMo (or something in between) answered with something that is not a valid answer.

    For example an HTML page, invalid JSON, a JSON body without ``choices``, or a stream
    event that is not JSON. Retryable, like a server failure.

    Attributes:
        status_code: the HTTP status of the answer.
        content_type: its ``Content-Type`` header (``""`` when there was none).
        excerpt: the start of what came back, with the API key masked.

    """

    def __init__(
        self,
        message: str,
        *,
        request: httpx2.Request,
        status_code: int,
        content_type: str,
        excerpt: str,
    ) -> None:
        openai.APIError.__init__(self, message, request, body=None)
        self.status_code = status_code
        self.content_type = content_type
        self.excerpt = excerpt


class StreamInterruptedError(MiMoError, MiMoAPIError, ModelConnectionError):
    """A streamed answer ended before MiMo finished it (no finish reason was received).

    Raised instead of returning a silently truncated answer. The partial text is in
    ``partial_content``. Retrying sends (and pays for) the request again.
    """

    def __init__(self, message: str, *, partial_content: str = "") -> None:
        super().__init__(message)
        self.partial_content = partial_content


# -- warnings ------------------------------------------------------------------------------


class RetiredModelWarning(FutureWarning):
    """A model name that MiMo has retired was asked for; the message names its replacement.

    Given once per model name and process. The name is still sent, in case a gateway or a
    self-hosted server still serves it; the live API answers it with a 400.
    """
