"""MiMo's documented request contract: validation of a chat request, and what it contains.

:func:`parse_chat_request` checks a decoded JSON body against the rules in the vendor's
documentation (and the quirks public reports describe), loads and probes every media
part, counts prompt tokens, and returns a :class:`ChatRequest`. Every violation raises
:class:`ApiError`, which the server turns into MiMo's error body
``{"error": {"code": "400", "message": ..., "param": <the detail>, "type": ""}}``.
Unknown top-level fields are accepted and ignored, as OpenAI-compatible servers do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from langchain_mimo_video import limits

from . import formula
from .behaviour import Behaviour
from .probe import (
    FetchFailed,
    FetchTooLarge,
    MediaRejected,
    VideoProbe,
    probe_audio,
    probe_video,
    sniff_image,
)

#: Prompt tokens charged per image part (a fixed amount; MiMo documents no image formula).
IMAGE_TOKENS: Final = 256
#: The reported maximum output length.
MAX_OUTPUT_TOKENS: Final = 131_072

_STATUS_MESSAGES: Final = {
    400: "Param Incorrect",
    401: "Invalid API Key",
    402: "Insufficient Balance",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class ApiError(Exception):
    """An error answer: HTTP status, MiMo's error body, optional extra headers."""

    def __init__(
        self,
        status: int,
        param: str,
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status}: {param}")
        self.status = status
        self.param = param
        self.message = message or _STATUS_MESSAGES.get(status, "Error")
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """MiMo's error body: ``code`` is the status as a string, the detail is ``param``."""
        return {
            "error": {
                "code": str(self.status),
                "message": self.message,
                "param": self.param,
                "type": "",
            }
        }


def bad_request(param: str) -> ApiError:
    """A 400 answer whose ``param`` names the detail."""
    return ApiError(400, param)


@dataclass(frozen=True)
class ModelInfo:
    """What the server knows about one model."""

    multimodal: bool
    context: int
    thinking_by_default: bool


MODELS: Final[dict[str, ModelInfo]] = {
    "mimo-v2.5": ModelInfo(multimodal=True, context=1_000_000, thinking_by_default=True),
    "mimo-v2-omni": ModelInfo(multimodal=True, context=262_144, thinking_by_default=True),
    "mimo-v2.5-pro": ModelInfo(multimodal=False, context=1_000_000, thinking_by_default=True),
    "mimo-v2-pro": ModelInfo(multimodal=False, context=1_000_000, thinking_by_default=True),
    "mimo-v2-flash": ModelInfo(multimodal=False, context=262_144, thinking_by_default=False),
}


@dataclass(frozen=True)
class VideoInput:
    """A validated video part: where it is, how it was asked for, what it measured."""

    location: str
    fps: float
    media_resolution: str
    probe: VideoProbe
    tokens: formula.VideoTokens
    audio_tokens: int


@dataclass(frozen=True)
class ImageInput:
    """A validated image part."""

    location: str
    format: str
    size: int


@dataclass(frozen=True)
class AudioInput:
    """A validated ``input_audio`` part."""

    location: str
    duration: float
    tokens: int


@dataclass(frozen=True)
class Tool:
    """A function tool from the request."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass
class ChatRequest:
    """A validated chat request and everything the server measured in it."""

    model: str
    messages: list[dict[str, Any]]
    stream: bool = False
    include_usage: bool = False
    thinking: bool = True
    max_completion_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    json_mode: bool = False
    tools: list[Tool] = field(default_factory=list)
    tool_choice: str = "auto"
    """``"auto"``, ``"none"``, ``"required"``, or ``"function:<name>"`` for a named tool."""
    reasoning_effort: str | None = None
    """The validated ``reasoning_effort``; it changes nothing in the answer (as reported live)."""
    videos: list[VideoInput] = field(default_factory=list)
    images: list[ImageInput] = field(default_factory=list)
    audios: list[AudioInput] = field(default_factory=list)
    text_tokens: int = 0
    segments: list[tuple[bytes, int]] = field(default_factory=list)
    """``(digest of the canonical JSON, prompt tokens)`` of the tools, then of each message."""

    @property
    def video_tokens(self) -> int:
        """Vision + timestamp + special tokens of every video."""
        return sum(video.tokens.total for video in self.videos)

    @property
    def audio_tokens(self) -> int:
        """Tokens of video sound tracks and ``input_audio`` clips."""
        return sum(v.audio_tokens for v in self.videos) + sum(a.tokens for a in self.audios)

    @property
    def image_tokens(self) -> int:
        """The fixed amount per image part."""
        return IMAGE_TOKENS * len(self.images)

    @property
    def prompt_tokens(self) -> int:
        """Text + video + audio + image tokens."""
        return self.text_tokens + self.video_tokens + self.audio_tokens + self.image_tokens

    @property
    def named_tool(self) -> str | None:
        """The tool ``tool_choice`` names, if it names one."""
        prefix = "function:"
        return self.tool_choice[len(prefix) :] if self.tool_choice.startswith(prefix) else None


def text_tokens(text: str) -> int:
    """The server's text-token rule: one token per started 4 bytes of UTF-8."""
    return math.ceil(len(text.encode("utf-8")) / 4)


Fetcher = Callable[[str, int], bytes]
"""Downloads a URL with a byte limit; raises :class:`FetchFailed` / :class:`FetchTooLarge`."""

_ROLES: Final = ("system", "user", "assistant", "tool")
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _digest(value: object) -> bytes:
    return hashlib.sha256(_canonical(value).encode()).digest()


def parse_chat_request(
    body: object, fetch: Fetcher, behaviour: Behaviour | None = None
) -> ChatRequest:
    """Validate a decoded ``/chat/completions`` body; raise :class:`ApiError` on violations.

    ``behaviour`` picks among the ways the evidence allows where the contract is open
    (default: :class:`Behaviour`'s defaults).
    """
    behaviour = behaviour or Behaviour()
    if not isinstance(body, dict):
        raise bad_request("request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("model: a model name is required")
    if model not in MODELS:
        raise ApiError(404, f"model {model!r} not found; known models: {', '.join(MODELS)}")
    if model in behaviour.retired_models:
        # What the live API answers since the V2 names went offline on 2026-06-30.
        raise bad_request(f"Not supported model {model}")
    info = MODELS[model]
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("messages: a non-empty list of messages is required")

    request = ChatRequest(model=model, messages=messages)
    _parse_options(body, request, info, behaviour)
    _parse_tools(body, request)
    _MessageParser(request, info, fetch, behaviour).parse_all()

    if request.prompt_tokens > info.context:
        raise bad_request(
            f"messages: the prompt is {request.prompt_tokens} tokens, over the "
            f"{info.context}-token context of {model}"
        )
    return request


def _parse_options(
    body: dict[str, Any], request: ChatRequest, info: ModelInfo, behaviour: Behaviour
) -> None:
    stream = body.get("stream", False)
    if stream is not None and not isinstance(stream, bool):
        raise bad_request("stream: must be a boolean")
    request.stream = bool(stream)
    options = body.get("stream_options")
    if options is not None:
        if not isinstance(options, dict) or not isinstance(
            options.get("include_usage", False), bool
        ):
            raise bad_request("stream_options: must be an object like {'include_usage': true}")
        request.include_usage = bool(options.get("include_usage", False))

    thinking = body.get("thinking")
    request.thinking = info.thinking_by_default
    if thinking is not None:
        kind = thinking.get("type") if isinstance(thinking, dict) else None
        if kind not in ("enabled", "disabled"):
            raise bad_request("thinking: must be {'type': 'enabled'} or {'type': 'disabled'}")
        request.thinking = kind == "enabled"
    request.reasoning_effort = _reasoning_effort(body, behaviour)

    for name in ("max_completion_tokens", "max_tokens"):
        cap = body.get(name)
        if cap is None:
            continue
        if behaviour.max_tokens_field not in ("both", name):
            raise bad_request(f"{name}: not supported; use {behaviour.max_tokens_field}")
        if isinstance(cap, bool) or not isinstance(cap, int) or not 1 <= cap <= MAX_OUTPUT_TOKENS:
            raise bad_request(f"{name}: must be an integer in [1, {MAX_OUTPUT_TOKENS}]")
        if request.max_completion_tokens is None:  # max_completion_tokens wins over max_tokens
            request.max_completion_tokens = cap

    stop = body.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    if stop is not None and (
        not isinstance(stop, list) or not all(isinstance(s, str) and s for s in stop)
    ):
        raise bad_request("stop: must be a non-empty string or a list of them")
    request.stop = stop or []

    response_format = body.get("response_format")
    if response_format is not None:
        kind = response_format.get("type") if isinstance(response_format, dict) else None
        if kind not in ("text", "json_object"):
            raise bad_request(
                f"response_format.type: {kind!r} is not supported; "
                "MiMo documents 'text' and 'json_object'"
            )
        request.json_mode = kind == "json_object"


def _reasoning_effort(body: dict[str, Any], behaviour: Behaviour) -> str | None:
    """The ``reasoning_effort`` if accepted: "minimal" got a 500 live, other unknowns a 400."""
    effort = body.get("reasoning_effort")
    if effort is None or (isinstance(effort, str) and effort in behaviour.reasoning_efforts):
        return effort
    levels = ("low", "medium", "high")
    known = [e for e in levels if e in behaviour.reasoning_efforts]
    allowed = ", ".join(known + sorted(behaviour.reasoning_efforts - set(levels)))
    if effort == "minimal":
        raise ApiError(500, f"reasoning_effort: {effort!r} failed; use one of {allowed}")
    raise bad_request(f"reasoning_effort: must be one of {allowed}, got {effort!r}")


def _parse_tools(body: dict[str, Any], request: ChatRequest) -> None:
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise bad_request("tools: must be a list of function tools")
        for index, tool in enumerate(tools):
            where = f"tools[{index}]"
            if not isinstance(tool, dict):
                tool = {}
            function = tool.get("function")
            if tool.get("type") != "function" or not isinstance(function, dict):
                raise bad_request(f"{where}: must be {{'type': 'function', 'function': {{...}}}}")
            name = function.get("name")
            if not isinstance(name, str) or not _TOOL_NAME.match(name):
                raise bad_request(f"{where}.function.name: must match [A-Za-z0-9_-]{{1,64}}")
            parameters = function.get("parameters") or {}
            if not isinstance(parameters, dict):
                raise bad_request(f"{where}.function.parameters: must be a JSON schema object")
            description = function.get("description") or ""
            request.tools.append(Tool(name, str(description), parameters))
        if request.tools:
            tokens = text_tokens(_canonical(tools))
            request.segments.append((_digest(tools), tokens))
            request.text_tokens += tokens

    choice = body.get("tool_choice")
    names = [tool.name for tool in request.tools]
    if choice is None:
        request.tool_choice = "auto"
    elif choice in ("auto", "none", "required"):
        request.tool_choice = choice
    elif isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        name = choice["function"].get("name")
        if name not in names:
            raise bad_request(f"tool_choice.function.name: {name!r} is not one of the tools")
        request.tool_choice = f"function:{name}"
    else:
        raise bad_request(
            "tool_choice: must be 'auto', 'none', 'required' or "
            "{'type': 'function', 'function': {'name': ...}}"
        )
    if request.tool_choice != "auto" and request.tool_choice != "none" and not names:
        raise bad_request("tool_choice: forcing a tool call needs `tools`")


class _MessageParser:
    """Walks the messages, validating each and counting its prompt tokens."""

    def __init__(
        self, request: ChatRequest, info: ModelInfo, fetch: Fetcher, behaviour: Behaviour
    ) -> None:
        self.request = request
        self.info = info
        self.fetch = fetch
        self.behaviour = behaviour

    def parse_all(self) -> None:
        for index, message in enumerate(self.request.messages):
            where = f"messages[{index}]"
            if not isinstance(message, dict):
                raise bad_request(f"{where}: must be an object")
            before = self.request.prompt_tokens
            role = message.get("role")
            if role == "user":
                self._user(message, where)
            elif role == "assistant":
                self._assistant(message, where)
            elif role == "tool":
                self._tool(message, where)
            elif role == "system":
                self._texts(message.get("content"), f"{where}.content", "system")
            else:
                raise bad_request(f"{where}.role: {role!r} is not one of {', '.join(_ROLES)}")
            tokens = self.request.prompt_tokens - before
            self.request.segments.append((_digest(message), tokens))

    # -- roles --------------------------------------------------------------------------

    def _texts(self, content: object, where: str, role: str) -> None:
        """Content that may hold only text: a string or a list of text parts."""
        if isinstance(content, str):
            self._count(content)
            return
        if not isinstance(content, list):
            raise bad_request(f"{where}: must be a string or a list of text parts")
        for index, part in enumerate(content):
            if not isinstance(part, dict):
                part = {}
            text = part.get("text")
            if part.get("type") != "text" or not isinstance(text, str):
                detail = "`text` is not set" if role == "tool" else "only text parts are allowed"
                raise bad_request(f"{where}[{index}]: {detail} (a {role} message holds text)")
            self._count(text)

    def _assistant(self, message: dict[str, Any], where: str) -> None:
        content = message.get("content")
        if content is None:
            raise bad_request(f"{where}.content: `text` is not present (send '' instead of null)")
        self._texts(content, f"{where}.content", "assistant")
        reasoning = message.get("reasoning_content")
        if reasoning is not None and not isinstance(reasoning, str):
            raise bad_request(f"{where}.reasoning_content: must be a string")
        if reasoning:
            self._count(reasoning)
        tool_calls = message.get("tool_calls")
        if tool_calls is None:
            return
        if not isinstance(tool_calls, list):
            raise bad_request(f"{where}.tool_calls: must be a list")
        for index, call in enumerate(tool_calls):
            spot = f"{where}.tool_calls[{index}]"
            function = call.get("function") if isinstance(call, dict) else None
            if (
                not isinstance(function, dict)
                or not isinstance(call.get("id"), str)
                or not isinstance(function.get("name"), str)
                or not isinstance(function.get("arguments"), str)
            ):
                raise bad_request(
                    f"{spot}: needs id, type 'function' and function.name / function.arguments"
                )
            self._count(function["name"] + function["arguments"])
        refuse_empty = self.behaviour.empty_reasoning == "refuse"
        missing = reasoning is None or (reasoning == "" and refuse_empty)
        if tool_calls and self.request.thinking and missing:
            raise bad_request(
                f"{where}.reasoning_content: The reasoning_content in the thinking mode must "
                "be passed back to the API."
            )

    def _tool(self, message: dict[str, Any], where: str) -> None:
        if not isinstance(message.get("tool_call_id"), str):
            raise bad_request(f"{where}.tool_call_id: a string is required")
        content = message.get("content")
        if content is None:
            raise bad_request(f"{where}.content: `text` is not set")
        self._texts(content, f"{where}.content", "tool")

    def _user(self, message: dict[str, Any], where: str) -> None:
        content = message.get("content")
        if isinstance(content, str):
            self._count(content)
            return
        if not isinstance(content, list) or not content:
            raise bad_request(f"{where}.content: must be a string or a non-empty list of parts")
        for index, part in enumerate(content):
            spot = f"{where}.content[{index}]"
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text":
                if not isinstance(part.get("text"), str):
                    raise bad_request(f"{spot}.text: must be a string")
                self._count(part["text"])
            elif kind in ("video_url", "image_url", "input_audio"):
                if not self.info.multimodal:
                    # Live, an image part sent to mimo-v2.5-pro gets 404 "No endpoints found
                    # that support image input"; video and audio presumably alike.
                    medium = {"video_url": "video", "image_url": "image"}.get(kind, "audio")
                    raise ApiError(
                        self.behaviour.text_only_media_status,
                        f"{spot}: No endpoints found that support {medium} input "
                        f"(model {self.request.model} does not accept {kind} input; "
                        f"use one of {', '.join(sorted(limits.VIDEO_MODELS))})",
                    )
                getattr(self, f"_{kind}")(part, spot)
            else:
                raise bad_request(f"{spot}.type: unsupported content part type {kind!r}")

    # -- media parts --------------------------------------------------------------------

    def _video_url(self, part: dict[str, Any], where: str) -> None:
        video = part.get("video_url")
        if not isinstance(video, dict) or not isinstance(video.get("url"), str):
            raise bad_request(f"{where}.video_url.url: a string URL is required")
        for key in ("fps", "media_resolution"):
            if key in video:
                raise bad_request(
                    f"{where}.video_url.{key}: `{key}` belongs beside `video_url` in the "
                    "content part, not inside it"
                )
        fps = part.get("fps")
        fps = limits.DEFAULT_FPS if fps is None else fps
        if not _is_number(fps) or not limits.MIN_FPS <= fps <= limits.MAX_FPS:
            raise bad_request(
                f"{where}.fps: must be a number in [{limits.MIN_FPS}, {limits.MAX_FPS:g}], "
                f"got {fps!r}"
            )
        if not self.behaviour.fps_float and fps != int(fps):
            raise bad_request(f"{where}.fps: must be an integer, got {fps!r}")
        resolution = part.get("media_resolution")
        resolution = limits.DEFAULT_MEDIA_RESOLUTION if resolution is None else resolution
        if resolution not in limits.MEDIA_RESOLUTIONS:
            raise bad_request(
                f"{where}.media_resolution: must be 'default' or 'max', got {resolution!r}"
            )
        data = self._load(video["url"], f"{where}.video_url.url", "video")
        try:
            probe = probe_video(data)
        except MediaRejected as exc:
            raise bad_request(f"{where}: Multimodal data is corrupted: {exc}") from exc
        duration = probe.duration_by(self.behaviour.duration)
        tokens = formula.video_tokens(duration, probe.width, probe.height, fps, resolution)
        special = self.behaviour.audio_special_tokens
        audio = formula.audio_tokens(duration, special=special) if probe.has_audio else 0
        self.request.videos.append(
            VideoInput(where, float(fps), resolution, probe, tokens, audio_tokens=audio)
        )

    def _image_url(self, part: dict[str, Any], where: str) -> None:
        image = part.get("image_url")
        if not isinstance(image, dict) or not isinstance(image.get("url"), str):
            raise bad_request(f"{where}.image_url.url: a string URL is required")
        data = self._load(image["url"], f"{where}.image_url.url", "image")
        fmt = sniff_image(data)
        if fmt is None:
            raise bad_request(
                f"{where}: invalid image format (expected png, jpeg, gif, webp or bmp bytes)"
            )
        self.request.images.append(ImageInput(where, fmt, len(data)))

    def _input_audio(self, part: dict[str, Any], where: str) -> None:
        audio = part.get("input_audio")
        if not isinstance(audio, dict) or not isinstance(audio.get("data"), str):
            raise bad_request(f"{where}.input_audio.data: a string URL or data URL is required")
        data = self._load(audio["data"], f"{where}.input_audio.data", "audio")
        try:
            duration = probe_audio(data)
        except MediaRejected as exc:
            raise bad_request(f"{where}: Multimodal data is corrupted: {exc}") from exc
        tokens = formula.audio_tokens(duration, special=self.behaviour.audio_special_tokens)
        self.request.audios.append(AudioInput(where, duration, tokens))

    def _load(self, url: str, where: str, kind: str) -> bytes:
        """Bytes of a data URL or an http(s) URL, with the documented size limits."""
        wrong_image = "invalid image format: " if kind == "image" else ""
        if url.startswith("data:"):
            header, comma, payload = url.partition(",")
            fields = header[len("data:") :].split(";")
            if not comma or "base64" not in fields[1:]:
                raise bad_request(f"{where}: a data URL must look like data:<mime>;base64,<data>")
            mime = fields[0].strip().lower()
            if not mime.startswith(f"{kind}/"):
                raise bad_request(
                    f"{where}: {wrong_image}MIME type {mime!r} is not a {kind} type ({kind}/*)"
                )
            if len(payload) > limits.MAX_BASE64_BYTES:
                raise bad_request(
                    f"{where}: the base64 string is {len(payload)} bytes, over the "
                    f"{limits.MAX_BASE64_BYTES}-byte limit"
                )
            try:
                return base64.b64decode(payload, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise bad_request(f"{where}: invalid base64 data ({exc})") from exc
        if url.startswith(("http://", "https://")):
            try:
                return self.fetch(url, limits.MAX_URL_VIDEO_BYTES)
            except FetchTooLarge as exc:
                raise bad_request(f"{where}: the {kind} at the URL is {exc}") from exc
            except FetchFailed as exc:
                raise bad_request(f"{where}: {exc}") from exc
        if kind == "audio":
            raise bad_request(
                f"{where}: must be a URL or a data URL (data:audio/<type>;base64,...), "
                "not bare base64"
            )
        raise bad_request(f"{where}: {wrong_image}the URL must be http(s) or a base64 data URL")

    def _count(self, text: str) -> None:
        self.request.text_tokens += text_tokens(text)
