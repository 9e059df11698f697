"""ChatMiMoSettings: the fields ChatMiMo is configured with, and what they describe.

:class:`~langchain_mimo_video.chat_models.ChatMiMo` adds what a configured model does
(clients, requests, estimates, generation, tools). Here: the constructor arguments, checked
as they are set (an unknown or ill-typed one raises this package's error, not pydantic's),
the LangChain hooks that describe a configured model (serialization, tracing parameters,
profile) and the request parameters the fields stand for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from langchain_core.language_models import LangSmithParams
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.model_profile import ModelProfile
from langchain_core.utils import from_env, secret_from_env
from pydantic import AliasChoices, ConfigDict, Field, PrivateAttr, SecretStr, field_validator

from langchain_mimo_video._arguments import check_arguments
from langchain_mimo_video._clients import ClientCache
from langchain_mimo_video._messages import PROVIDER
from langchain_mimo_video._request import check_reasoning_effort, warn_if_retired
from langchain_mimo_video.data._profiles import get_profile
from langchain_mimo_video.limits import DEFAULT_FPS, DEFAULT_MEDIA_RESOLUTION, ReasoningEffort
from langchain_mimo_video.store import MediaStore
from langchain_mimo_video.video import VideoDefaults, validate_fps, validate_media_resolution

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_MODEL", "ChatMiMoSettings"]

DEFAULT_BASE_URL = "https://api.xiaomimimo.com/v1"
DEFAULT_MODEL = "mimo-v2.5"


class ChatMiMoSettings(BaseChatModel):
    """The configuration of a :class:`~langchain_mimo_video.chat_models.ChatMiMo`.

    Not used on its own: ``ChatMiMo`` is this plus what a model does. Its docstring
    describes every argument.
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    model_name: str = Field(default=DEFAULT_MODEL, alias="model")
    """Model name: ``mimo-v2.5`` or ``mimo-v2-omni`` for video."""
    api_key: SecretStr | None = Field(
        default_factory=secret_from_env("MIMO_API_KEY", default=None),
        validation_alias=AliasChoices("api_key", "mimo_api_key"),
    )
    """MiMo API key; read from ``MIMO_API_KEY`` when not given."""
    base_url: str = Field(
        default_factory=from_env("MIMO_BASE_URL", default=DEFAULT_BASE_URL),
        validation_alias=AliasChoices("base_url", "api_base"),
    )
    """API base URL; read from ``MIMO_BASE_URL`` when not given."""
    timeout: float | None = Field(
        default=None, validation_alias=AliasChoices("timeout", "request_timeout")
    )
    """Seconds to wait for a response (``None``: the SDK's default, 10 minutes).

    Also the whole deadline of each URL probe an estimate or the ``max_input_tokens`` guard
    makes (``None``: the probe's own 30 s).
    """
    max_retries: int = 2
    """Retries of 429, 5xx and connection failures, with exponential backoff."""
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = Field(
        default=None, validation_alias=AliasChoices("max_tokens", "max_completion_tokens")
    )
    """Cap on reasoning plus answer tokens, sent as ``max_completion_tokens``."""
    stop: list[str] | None = Field(
        default=None, validation_alias=AliasChoices("stop", "stop_sequences")
    )
    streaming: bool = False
    """Stream by default, also from ``invoke``."""
    stream_usage: bool = True
    """Ask for a final usage chunk when streaming."""
    thinking: bool | None = None
    """Reasoning on (``True``), off (``False``) or the model's default (``None``)."""
    reasoning_effort: ReasoningEffort | None = None
    """``"low"``, ``"medium"`` or ``"high"``, sent as ``reasoning_effort``; ``None`` sends none."""
    video_fps: float = DEFAULT_FPS
    """fps given to video parts that do not set their own."""
    video_media_resolution: Literal["default", "max"] = DEFAULT_MEDIA_RESOLUTION
    """media_resolution given to video parts that do not set their own."""
    max_input_tokens: int | None = None
    """Refuse, before sending, a request whose estimated input tokens exceed this.

    The estimate probes every video (see :meth:`estimate_request`); set it to
    ``llm.profile["max_input_tokens"]`` to guard the model's context length.
    """
    probe_private_urls: bool = True
    """Let the token guard's probes of URL videos reach loopback and private addresses.

    Turn it off (or pass ``probe_private_urls=False`` per call, as WatchVideoTool does) when
    video URLs come from untrusted input.
    """
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Other request fields, sent as given (e.g. ``frequency_penalty``)."""
    extra_body: dict[str, Any] | None = None
    """Fields merged into every request body last (overrides)."""
    auth_header: Literal["bearer", "api-key", "both"] = "bearer"
    """How the key travels: ``Authorization: Bearer`` (default, the header the SDK masks),
    MiMo's ``api-key`` header, or both (for gateways that want the other one)."""
    default_headers: Mapping[str, str] | None = None
    http_client: Any | None = Field(default=None, exclude=True)
    """An ``httpx2.Client`` for the sync SDK client (proxies, transports)."""
    http_async_client: Any | None = Field(default=None, exclude=True)
    """An ``httpx2.AsyncClient`` for the async SDK client."""
    media_store: MediaStore | None = Field(default=None, exclude=True)
    """Where ``mimo-media:`` reference parts (``VideoLoader(store=...)``) are resolved; the
    videos are streamed from it into each request, and estimated from its metadata."""

    _clients: ClientCache = PrivateAttr(default_factory=ClientCache)

    # -- validation ------------------------------------------------------------

    def __init__(self, **data: Any) -> None:
        # Checked before pydantic sees them, so a bad value raises this package's
        # error (not pydantic's wrapper), True or "2" are not coerced, and an unknown
        # argument is refused instead of silently dropped.
        check_arguments(type(self), data)
        if "video_fps" in data:
            validate_fps(data["video_fps"])
        if "video_media_resolution" in data:
            validate_media_resolution(data["video_media_resolution"])
        check_reasoning_effort(data.get("reasoning_effort"))
        super().__init__(**data)
        warn_if_retired(self.model_name)

    @field_validator("video_fps")
    @classmethod
    def _check_video_fps(cls, value: float) -> float:
        return validate_fps(value)

    @field_validator("video_media_resolution")
    @classmethod
    def _check_video_media_resolution(cls, value: str) -> str:
        return validate_media_resolution(value)

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    # -- LangChain hooks ---------------------------------------------------------

    @property
    def _llm_type(self) -> str:
        return "mimo-chat"

    @property
    def lc_secrets(self) -> dict[str, str]:
        """Constructor arguments that are secrets, by their environment variable."""
        return {"api_key": "MIMO_API_KEY"}

    @classmethod
    def is_lc_serializable(cls) -> bool:
        """ChatMiMo can be dumped with ``dumpd`` (the key as a secret reference)."""
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        """Return the import path used in serialized dumps."""
        return ["langchain_mimo_video", "chat_models"]

    @property
    def lc_attributes(self) -> dict[str, Any]:
        """Non-default attributes kept in serialized dumps."""
        return {"base_url": self.base_url} if self.base_url != DEFAULT_BASE_URL else {}

    def _resolve_model_profile(self) -> ModelProfile | None:
        profile = get_profile(self.model_name)
        return ModelProfile(**profile) if profile is not None else None  # type: ignore[typeddict-item]

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "base_url": self.base_url, **self._default_params}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = self._default_params | kwargs
        ls_params = LangSmithParams(
            ls_provider=PROVIDER,
            ls_model_name=str(params.get("model", self.model_name)),
            ls_model_type="chat",
        )
        if params.get("temperature") is not None:
            ls_params["ls_temperature"] = params["temperature"]
        max_tokens = params.get("max_tokens", params.get("max_completion_tokens"))
        if max_tokens is not None:
            ls_params["ls_max_tokens"] = max_tokens
        if stop or self.stop:
            ls_params["ls_stop"] = stop or self.stop
        return ls_params

    # -- parameters ------------------------------------------------------------

    @property
    def _default_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.model_name}
        if self.temperature is not None:
            params["temperature"] = self.temperature
        if self.top_p is not None:
            params["top_p"] = self.top_p
        if self.max_tokens is not None:
            params["max_completion_tokens"] = self.max_tokens
        if self.stop:
            params["stop"] = self.stop
        if self.reasoning_effort is not None:
            params["reasoning_effort"] = self.reasoning_effort
        return {**params, **self.model_kwargs}

    @property
    def video_defaults(self) -> VideoDefaults:
        """The fps / media_resolution given to video parts that set neither."""
        return VideoDefaults(fps=self.video_fps, media_resolution=self.video_media_resolution)
