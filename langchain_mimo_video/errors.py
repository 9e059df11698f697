"""Errors raised by langchain-mimo-video.

Every error this package raises on purpose derives from :class:`MiMoError`, so a
caller can catch them all with one ``except``. Each message names the rule that was
broken and what to do about it. Errors from the API itself are the openai SDK's
``openai.APIStatusError`` subclasses, with MiMo's error detail in the message.
"""

from __future__ import annotations


class MiMoError(Exception):
    """Base class for every error raised by this package."""


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


class VideoSourceError(MiMoError, ValueError):
    """A video source cannot be used: missing or unreadable file, or not a video at all."""


class UnsupportedContentError(MiMoError, ValueError):
    """A message holds content MiMo cannot take (for example a ``file_id`` reference)."""


class MediaError(MiMoError):
    """Decoding, probing or re-encoding a video failed, or PyAV is not installed."""


class TokenLimitError(MiMoError, ValueError):
    """A request's estimated input tokens exceed ``max_input_tokens``.

    Attributes:
        estimated: the estimated input tokens of the request.
        limit: the configured limit.

    """

    def __init__(self, message: str, *, estimated: int, limit: int) -> None:
        super().__init__(message)
        self.estimated = estimated
        self.limit = limit


class UnsafeSourceError(VideoValidationError):
    """A source was refused by a safety rule (path outside the allowed folders, private address)."""


class AmbiguousURLError(UnsafeSourceError):
    """A URL is spelled so that URL parsers disagree on its host, so it cannot be checked.

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


class MissingAPIKeyError(MiMoError):
    """No API key was given (``api_key=`` or the ``MIMO_API_KEY`` environment variable)."""


class StreamInterruptedError(MiMoError):
    """A streamed answer ended before MiMo finished it (no finish reason was received).

    Raised instead of returning a silently truncated answer. The partial text is in
    ``partial_content``.
    """

    def __init__(self, message: str, *, partial_content: str = "") -> None:
        super().__init__(message)
        self.partial_content = partial_content


class EmptyDescriptionError(MiMoError):
    """MiMo answered a video with no description text.

    This happens when ``max_tokens`` is spent on reasoning before the answer starts: raise
    ``max_tokens`` on the chat model, or switch reasoning off (``thinking=False``).
    """


__all__ = [
    "AmbiguousURLError",
    "EmptyDescriptionError",
    "MediaError",
    "MiMoError",
    "MissingAPIKeyError",
    "ProbeLimitError",
    "StreamInterruptedError",
    "TokenLimitError",
    "UnsafeSourceError",
    "UnsupportedContentError",
    "VideoSourceError",
    "VideoTooLargeError",
    "VideoValidationError",
]
