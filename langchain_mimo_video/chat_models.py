"""ChatMiMo: a LangChain chat model for Xiaomi MiMo, with video input, on the openai SDK.

Its fields, their checks and the hooks that describe a configured model are in
``_chat_settings`` (``ChatMiMoSettings``, its base); here is what the model does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any

import openai
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import (
    agenerate_from_stream,
    generate_from_stream,
)
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import (
    BaseModel,
)

from langchain_mimo_video._api_errors import mimo_errors
from langchain_mimo_video._body import apost_chat, post_chat
from langchain_mimo_video._chat_settings import DEFAULT_BASE_URL, DEFAULT_MODEL, ChatMiMoSettings
from langchain_mimo_video._clients import client_kwargs
from langchain_mimo_video._estimate import RequestEstimate, check_token_limit, estimate_request
from langchain_mimo_video._messages import messages_to_mimo
from langchain_mimo_video._request import (
    build_body,
    sdk_arguments,
)
from langchain_mimo_video._responses import (
    StreamAssembler,
    add_counts,
    aiter_chunks,
    chat_result,
    iter_chunks,
    parse_completion,
)
from langchain_mimo_video._structured import StructuredMethod, structured_output
from langchain_mimo_video._structured import tool_choice as choose_tool
from langchain_mimo_video.errors import MissingAPIKeyError
from langchain_mimo_video.store import MediaInfo, resolve_reference
from langchain_mimo_video.video import VideoDefaults

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_MODEL", "ChatMiMo"]


class ChatMiMo(ChatMiMoSettings):
    r"""Xiaomi MiMo chat model, with video, image and audio input and reasoning output.

    Setup:
        Install ``langchain-mimo-video`` and set ``MIMO_API_KEY``. Token Plan keys
        (``tp-...``) also need their regional ``MIMO_BASE_URL``.

        .. code-block:: bash

            pip install -U langchain-mimo-video
            export MIMO_API_KEY="sk-..."

    Key init args — completion params:
        model: str
            ``"mimo-v2.5"`` (default; text, image, audio and video). ``"mimo-v2.5-pro"``
            and ``"mimo-v2-flash"`` take text only. ``"mimo-v2-omni"`` was retired on
            2026-06-30 (accepted, with a ``RetiredModelWarning``).
        temperature, top_p: float | None
            Sampling; while thinking is on MiMo forces 1.0 and 0.95.
        max_tokens: int | None
            Cap on reasoning *and* answer together, sent as ``max_completion_tokens``.
        thinking: bool | None
            ``True`` / ``False`` switch reasoning on or off; ``None`` keeps the model's
            default (on for the video models).
        reasoning_effort: "low" | "medium" | "high" | None
            Sent as ``reasoning_effort`` when set.
        video_fps, video_media_resolution:
            Defaults for video parts that do not set their own (2 and ``"default"``).

    Key init args — client params:
        api_key: SecretStr | None
            From ``MIMO_API_KEY`` when not given. Sent once, as ``Authorization: Bearer``.
        auth_header: "bearer" | "api-key" | "both"
            Which header carries the key (``"bearer"`` by default; ``"api-key"`` or
            ``"both"`` for gateways that want MiMo's ``api-key`` header).
        base_url: str
            From ``MIMO_BASE_URL``, else ``https://api.xiaomimimo.com/v1``.
        timeout: float | None
            Seconds per request.
        max_retries: int
            Retries for 429, 5xx and connection errors, with backoff (default 2).

    Instantiate:
        .. code-block:: python

            from langchain_mimo_video import ChatMiMo

            llm = ChatMiMo(model="mimo-v2.5", max_tokens=1024)

    Invoke with a video:
        .. code-block:: python

            from langchain_core.messages import HumanMessage

            message = HumanMessage(
                content=[
                    {
                        "type": "video_url",
                        "video_url": {"url": "https://example.com/kitten.mp4"},
                        "fps": 2,
                        "media_resolution": "default",
                    },
                    {"type": "text", "text": "Describe the video."},
                ]
            )
            reply = llm.invoke([message])
            reply.content  # the answer
            reply.additional_kwargs["reasoning_content"]  # the model's reasoning
            reply.usage_metadata["input_token_details"]["video"]

    Invoke with a local video (VideoLoader reads, checks and, if needed, fits it):
        .. code-block:: python

            from langchain_mimo_video import VideoLoader

            part = VideoLoader(fps=1).load("clip.mp4", start=10, end=40)
            reply = llm.invoke([HumanMessage(content=[part, "What happens here?"])])

    Invoke with an image or audio:
        .. code-block:: python

            image = {"type": "image", "url": "https://example.com/cat.png"}
            audio = {"type": "audio", "base64": wav_base64, "mime_type": "audio/wav"}
            llm.invoke([HumanMessage(content=[image, audio, "Does the sound fit the picture?"])])

    Stream:
        .. code-block:: python

            for chunk in llm.stream([message]):
                print(chunk.content, end="")

    Tool calling:
        .. code-block:: python

            llm_with_tools = llm.bind_tools([get_weather], tool_choice="auto")

    Structured output:
        .. code-block:: python

            structured = llm.with_structured_output(Scene)  # function calling

    Errors:
        API failures are both the openai SDK's class and LangChain's
        (``except openai.RateLimitError`` and ``except ModelRateLimitError`` both catch a
        429); see :mod:`langchain_mimo_video.errors` for the tree.
    """

    # -- clients -----------------------------------------------------------------

    def require_api_key(self) -> None:
        """Raise unless a key is configured (``api_key=`` or ``MIMO_API_KEY``); nothing is sent.

        For callers that should fail on a missing key before any other work, as the tool
        and the CLI do.

        Raises:
            MissingAPIKeyError: if no key is configured; the message says how to set one.

        """
        if not self.has_api_key:
            raise MissingAPIKeyError(
                "No MiMo API key: set the MIMO_API_KEY environment variable or pass "
                "api_key=... to ChatMiMo. Token Plan keys (tp-...) also need their regional "
                "MIMO_BASE_URL, e.g. https://token-plan-cn.xiaomimimo.com/v1."
            )

    def _key(self) -> str:
        self.require_api_key()
        assert self.api_key is not None
        return self.api_key.get_secret_value()

    def _secret(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key is not None else None

    @property
    def has_api_key(self) -> bool:
        """Whether a key is configured (``api_key=`` or ``MIMO_API_KEY``); nothing is sent."""
        return self.api_key is not None and bool(self.api_key.get_secret_value())

    def _client_kwargs(self) -> dict[str, Any]:
        return client_kwargs(
            key=self._key(),
            base_url=self.base_url,
            max_retries=self.max_retries,
            timeout=self.timeout,
            default_headers=self.default_headers,
            auth_header=self.auth_header,
        )

    @property
    def client(self) -> openai.OpenAI:
        """The sync openai SDK client, built on first use."""
        return self._clients.sync_client(self._client_kwargs, self.http_client)

    @property
    def async_client(self) -> openai.AsyncOpenAI:
        """The async openai SDK client, built on first use in each event loop.

        Its connection pool belongs to the loop it was used in, so a model used from
        several ``asyncio.run`` calls gets a fresh client in each new loop.
        """
        return self._clients.async_client(self._client_kwargs, self.http_async_client)

    # -- request -----------------------------------------------------------------

    def request_body(
        self,
        messages: Sequence[BaseMessage],
        stop: list[str] | None = None,
        *,
        stream: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Return the exact JSON body a chat-completions call with these arguments sends.

        Pure: everything is converted and checked here (video parts, media the model
        cannot take, ``reasoning_effort``) without reading a file or a URL, without a key
        and before any client is touched, so a bad request fails without being sent. The
        ``max_input_tokens`` guard, which probes videos, is a separate step. ``mimo-media:``
        references stay references here; the video bytes are streamed in at send time.

        Args:
            messages: the conversation, as LangChain messages.
            stop: stop sequences for this call.
            stream: build the body of a streamed call.
            **kwargs: call options, as ``invoke`` takes them (``temperature=...``).

        Returns:
            The request body as a JSON-ready dict.

        Raises:
            VideoValidationError: for a video part that breaks a documented limit.
            UnsupportedContentError: for media the model cannot take.
            VideoSourceError: for a ``mimo-media:`` video that ``media_store`` does not hold.

        Example:
            .. code-block:: python

                body = ChatMiMo().request_body([HumanMessage("Hello")], temperature=0.2)

        """
        return build_body(
            {**self._default_params, **kwargs},
            messages_to_mimo(messages, self.video_defaults, self._resolve_reference),
            stop=stop,
            stream=stream,
            stream_usage=self.stream_usage,
            thinking=self.thinking,
            extra_body=self.extra_body,
        )

    def _check_token_limit(self, body: Mapping[str, Any], kwargs: Mapping[str, Any]) -> None:
        """The ``max_input_tokens`` guard: probe the request's videos, refuse if over.

        Raises:
            TokenLimitError: if the estimate is over ``max_input_tokens``.

        """
        if self.max_input_tokens is not None:
            check_token_limit(
                body,
                self.max_input_tokens,
                allow_private_network=kwargs.get("probe_private_urls", self.probe_private_urls),
                media_info=self._media_info,
                probe_timeout=self.timeout,
            )

    async def _acheck_token_limit(self, body: Mapping[str, Any], kwargs: Mapping[str, Any]) -> None:
        if self.max_input_tokens is not None:
            # the guard probes videos (files, URLs): keep that off the event loop
            await asyncio.to_thread(self._check_token_limit, body, kwargs)

    def _sdk_arguments(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return sdk_arguments(body, self.auth_header)

    def _resolve_reference(
        self, block: Mapping[str, Any], defaults: VideoDefaults
    ) -> dict[str, Any]:
        return resolve_reference(block, self.media_store, defaults)

    @property
    def _media_info(self) -> Callable[[str], MediaInfo] | None:
        return self.media_store.info if self.media_store is not None else None

    # -- estimates -----------------------------------------------------------------

    def estimate_request(
        self,
        messages: Sequence[BaseMessage],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        probe_urls: bool = True,
    ) -> RequestEstimate:
        """Estimate a request's input tokens, before sending it and without a key.

        Videos are probed and counted with the documented formula (URL videos by reading
        only their header and index); audio by its documented rate; text approximately.
        ``estimate.cost(model)`` prices it from the price table. Each URL's probe may take
        ``timeout`` seconds in all, as a request may (30 s when ``timeout`` is ``None``);
        one that runs past it is listed in ``unmeasured``.

        Args:
            messages: the messages you would send.
            tools: OpenAI-format tool dicts you would bind, counted as text.
            probe_urls: probe http(s) videos; when False they are listed as unmeasured.

        Returns:
            A :class:`~langchain_mimo_video.RequestEstimate` (importable from the package
            root), with one :class:`~langchain_mimo_video.VideoEstimate` per video.

        Example:
            .. code-block:: python

                estimate = llm.estimate_request([message])
                print(estimate.input_tokens, estimate.cost("mimo-v2.5", output_tokens=500))
        """
        wire = messages_to_mimo(messages, self.video_defaults, self._resolve_reference)
        return estimate_request(
            wire,
            tools,
            probe_urls=probe_urls,
            media_info=self._media_info,
            probe_timeout=self.timeout,
        )

    def get_num_tokens_from_messages(
        self,
        messages: list[BaseMessage],
        tools: Sequence[Any] | None = None,
    ) -> int:
        """Estimated input tokens of ``messages`` (videos counted exactly; see above)."""
        formatted = [convert_to_openai_tool(tool) for tool in tools] if tools else None
        return self.estimate_request(messages, tools=formatted).input_tokens

    # -- generation --------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.streaming:
            return generate_from_stream(
                self._stream(messages, stop=stop, run_manager=run_manager, **kwargs)
            )
        body = self.request_body(messages, stop, **kwargs)
        self._check_token_limit(body, kwargs)
        secret = self._secret()
        with mimo_errors(secret):
            raw = post_chat(
                self.client, body, self._sdk_arguments(body), self.media_store, stream=False
            )
        return chat_result(parse_completion(raw.http_response, secret))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.streaming:
            return await agenerate_from_stream(
                self._astream(messages, stop=stop, run_manager=run_manager, **kwargs)
            )
        body = self.request_body(messages, stop, **kwargs)
        await self._acheck_token_limit(body, kwargs)
        secret = self._secret()
        with mimo_errors(secret):
            raw = await apost_chat(
                self.async_client, body, self._sdk_arguments(body), self.media_store, stream=False
            )
        return chat_result(parse_completion(raw.http_response, secret))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        body = self.request_body(messages, stop, stream=True, **kwargs)
        self._check_token_limit(body, kwargs)
        secret = self._secret()
        assembler = StreamAssembler()
        with mimo_errors(secret):
            stream = post_chat(
                self.client, body, self._sdk_arguments(body), self.media_store, stream=True
            )
            for raw in iter_chunks(stream, secret):
                generation = assembler.feed(raw)
                if generation is None:
                    continue
                if run_manager:
                    run_manager.on_llm_new_token(generation.text, chunk=generation, logprobs=None)
                yield generation
        assembler.check_complete()

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        body = self.request_body(messages, stop, stream=True, **kwargs)
        await self._acheck_token_limit(body, kwargs)
        secret = self._secret()
        assembler = StreamAssembler()
        with mimo_errors(secret):
            stream = await apost_chat(
                self.async_client, body, self._sdk_arguments(body), self.media_store, stream=True
            )
            async for raw in aiter_chunks(stream, secret):
                generation = assembler.feed(raw)
                if generation is None:
                    continue
                if run_manager:
                    await run_manager.on_llm_new_token(
                        generation.text, chunk=generation, logprobs=None
                    )
                yield generation
        assembler.check_complete()

    def _combine_llm_outputs(self, llm_outputs: list[dict[str, Any] | None]) -> dict[str, Any]:
        total: dict[str, Any] = {}
        for output in llm_outputs:
            if output and output.get("token_usage"):
                total = add_counts(total, output["token_usage"])
        return {"model_name": self.model_name, "token_usage": total}

    # -- tools and structured output ---------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: dict[str, Any] | str | bool | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (functions, Pydantic models, ``BaseTool`` or OpenAI tool dicts).

        Args:
            tools: the tools the model may call.
            tool_choice: ``"auto"``, ``"none"``, ``"required"`` / ``"any"`` (call some
                tool), a tool's name (call that one), ``True`` (call the only tool) or an
                OpenAI ``tool_choice`` dict.
            strict: passed to each tool's schema (MiMo does not document strict mode).
            kwargs: other request fields, e.g. ``parallel_tool_calls``.

        """
        formatted = [convert_to_openai_tool(tool, strict=strict) for tool in tools]
        names = [tool["function"]["name"] for tool in formatted if "function" in tool]
        if tool_choice is not None and tool_choice is not False:
            kwargs["tool_choice"] = choose_tool(tool_choice, names)
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: StructuredMethod = "function_calling",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """Return a runnable whose output follows ``schema``.

        Args:
            schema: a Pydantic class, a TypedDict, or a JSON schema / OpenAI tool dict.
            method: ``"function_calling"`` (default) forces a call of a tool made from the
                schema. ``"json_schema"``: MiMo documents no strict JSON-schema mode, so
                this also uses a forced function call, which carries the schema to the
                model. ``"json_mode"`` sends ``response_format={"type": "json_object"}``;
                the prompt must then describe the keys wanted.
            include_raw: also return the raw message and any parsing error.
            strict: passed to the tool schema.
            **kwargs: not accepted; present for signature compatibility.
        """
        return structured_output(self, schema, method, include_raw, strict, kwargs)
