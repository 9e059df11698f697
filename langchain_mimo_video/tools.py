"""WatchVideoTool: a LangChain tool that lets an agent ask MiMo questions about a video.

The agent's model picks the tool's arguments, so the tool treats them as untrusted input:
local files only from folders the developer allowed, only http(s) URLs, no private or
internal addresses by default, and a size limit checked before a file is read. Every
refusal, and every error the agent can fix by choosing other arguments, comes back to the
agent as a short text it can read (a ``ToolMessage`` with ``status="error"``); deployment
errors such as a missing API key are raised. The checks of the ``video`` argument live in
``_tool_sources``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final, Literal

import openai
from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, ToolException
from langchain_core.tools.base import ArgsSchema, ToolExceptionHandlerOutput
from pydantic import BaseModel, Field, PrivateAttr, field_validator, model_validator

from langchain_mimo_video._tool_sources import REFUSED, checked_source
from langchain_mimo_video.chat_models import ChatMiMo
from langchain_mimo_video.errors import (
    MiMoError,
    MiMoResponseError,
    MissingAPIKeyError,
    StreamInterruptedError,
)
from langchain_mimo_video.limits import DEFAULT_FPS, DEFAULT_MEDIA_RESOLUTION, MAX_FPS, MIN_FPS
from langchain_mimo_video.media.probing import PROBE_TIMEOUT_SECONDS
from langchain_mimo_video.store import MediaStore
from langchain_mimo_video.video import (
    FitMode,
    VideoLoader,
    VideoPart,
    validate_fps,
    validate_media_resolution,
)

__all__ = ["DEFAULT_PROMPT", "WatchVideoInput", "WatchVideoTool"]

DEFAULT_PROMPT: Final = (
    "You watch videos for another AI assistant and answer its question about the video. "
    "Answer only from what is seen and heard in the video. If the video does not show the "
    "answer, say so plainly instead of guessing. Cite the moments you rely on as mm:ss "
    "timestamps. Be concise and factual."
)
"""The default system instructions MiMo gets with every video."""

_DESCRIPTION: Final = (
    "Watch a video and answer a question about it. A video-understanding model (Xiaomi "
    "MiMo) watches the video, its frames and its sound, and returns its answer as text, "
    "citing moments as mm:ss. `video` is an http(s) URL of a video file (MP4, MOV, AVI or "
    "WMV; not a web page) or the path of a local video file in a folder this tool may read. "
    "`question` is what to find out; the model sees only the video and this question, not "
    "the conversation, so make it self-contained. Optional: `fps`, frames sampled per "
    "second (0.1-10, default 2; lower for long videos, higher for fast action); "
    "`media_resolution` 'max' to read small text or fine detail; `start` and `end` in "
    "seconds to watch only part of a local file."
)
_NO_LOCAL_FILES: Final = " Local files are not available: pass an http(s) URL."

# A broken or cut-off answer is the service's fault, not the video's or the question's.
_SERVICE_FAULT: Final = (
    "MiMo's service failed to answer ({what}); this is not a problem with the video or the "
    "question. Try again later, or go on without this video."
)
# API errors caused by what the agent asked for (the video, its size, its content); others
# (401 key, 402 balance, 403 permission, 404 model, 429/5xx after retries) are the
# deployment's problem and are raised.
_AGENT_FIXABLE_STATUS: Final = frozenset({400, 413, 415, 421, 422})


class WatchVideoInput(BaseModel):
    """Arguments of the ``watch_video`` tool."""

    video: str = Field(
        min_length=1,
        description=(
            "http(s) URL of a video file, or the path of a local video file in a folder this "
            "tool may read (a relative path is looked up in those folders)."
        ),
    )
    question: str = Field(
        min_length=1,
        description="What to find out from the video: one specific, self-contained question.",
    )
    fps: float | None = Field(
        default=None,
        ge=MIN_FPS,
        le=MAX_FPS,
        description="Frames sampled per second, 0.1-10 (default 2). Lower for long videos.",
    )
    media_resolution: Literal["default", "max"] | None = Field(
        default=None,
        description="'max' to read small text or fine detail (more tokens); else 'default'.",
    )
    start: float | None = Field(
        default=None, ge=0, description="Watch from this second on (local files only)."
    )
    end: float | None = Field(
        default=None, gt=0, description="Watch up to this second (local files only)."
    )

    @model_validator(mode="after")
    def _check_range(self) -> WatchVideoInput:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start}).")
        return self


class WatchVideoTool(BaseTool):
    r"""Let an agent watch a video with Xiaomi MiMo and get a text answer to a question.

    The tool sends the video (an http(s) URL as is, MiMo fetches it; a local file as
    base64, cut locally when ``start`` / ``end`` are given) and the question to
    :class:`~langchain_mimo_video.ChatMiMo`, and returns MiMo's answer as plain text,
    without its reasoning (MiMo accepts only text tool results, so the answer can go
    straight back into an agent's history).

    Local videos go by reference: the bytes to send are put in a
    :class:`~langchain_mimo_video.MediaStore` and the tool's chat model gets a reference
    block of a few hundred bytes (so do its callbacks and traces); the base64 is streamed
    from the store while the request is sent. The store is ``store`` if given, else the
    loader's or the llm's ``media_store``, else a temporary folder made for the call and
    removed when it ends (not the per-user cache: the agent picks the files, and copies of
    them should not pile up or outlive the call). So N calls in flight hold no video in
    memory, only N files on disk.

    Safety: the agent's model chooses ``video``, so by default the tool reads no local
    file at all and sends no URL that points into a private network:

    - Local paths are resolved (symlinks and ``..`` followed) and must lie inside one of
      ``allowed_dirs``; a relative path is looked up in each allowed folder in turn. Only
      regular files, at most ``max_file_bytes`` (checked with ``stat()`` before reading).
    - Only ``http://`` and ``https://`` URLs; ``data:``, ``file:``, ``ftp:`` and every other
      scheme are refused.
    - A URL whose host is (or resolves to) a loopback, private, link-local, reserved or
      cloud-metadata address, or does not resolve, is refused unless
      ``allow_private_urls=True``. MiMo's servers, not this process, fetch URL videos, so
      this is not about server-side request forgery here: it stops an agent from handing
      internal addresses to a third party. The same check guards any fetch this package
      makes itself (``ChatMiMo(max_input_tokens=...)`` probes URL videos for its
      estimate, after this check).
    - Paths are checked when the call starts; someone who can write into an allowed
      folder between that check and the read could still swap a file for a symlink.

    Errors: refusals and errors the agent can fix (a bad path, a file too large, a URL
    MiMo cannot fetch, a video it cannot decode, a time range on a URL video, a request
    MiMo rejects with 400/413/415/421/422) are raised as ``ToolException``; with
    ``handle_tool_error=True`` (the default) the agent gets them as a ``ToolMessage``
    starting ``"Cannot watch this video: "`` with ``status="error"``. Deployment errors are
    raised: ``MissingAPIKeyError`` (checked before any video is read), 401/402/403/404,
    and 429/5xx or connection errors after the SDK's retries. Invalid arguments (``fps``
    out of range...) raise pydantic's ``ValidationError``, which LangChain's agents turn
    into a message for the model.

    Setup:
        Install ``langchain-mimo-video`` (with ``[media]`` to cut or re-encode local
        files) and set ``MIMO_API_KEY``.

        .. code-block:: bash

            pip install -U "langchain-mimo-video[media]"
            export MIMO_API_KEY="sk-..."

    Key init args:
        llm: ChatMiMo | None
            The model that watches; ``None`` builds ``ChatMiMo()`` on first use (so the
            tool can be made without a key).
        allowed_dirs: Sequence[str | Path]
            Folders local videos may come from. Default: none (URLs only).
        allow_private_urls: bool
            Send URLs that point to private or internal hosts. Default ``False``.
        fps, media_resolution, fit:
            Defaults for the ``VideoLoader`` the tool builds; or pass ``loader``.
        max_file_bytes: int | None
            Largest local file, checked before reading (default 100 MB).
        prompt: str
            System instructions for MiMo (default :data:`DEFAULT_PROMPT`).
        max_answer_chars: int | None
            Longer answers are cut and marked (default 4000).
        store: MediaStore | None
            Where local videos are put for sending; default a temporary one per call.

    Instantiate:
        .. code-block:: python

            from langchain_mimo_video import ChatMiMo, WatchVideoTool

            tool = WatchVideoTool(
                llm=ChatMiMo(model="mimo-v2.5", max_tokens=2048),
                allowed_dirs=["./videos"],
                fps=1,
            )

    Invoke directly with args:
        .. code-block:: python

            tool.invoke({"video": "match.mp4", "question": "Who scores, and when?"})
            # '01:12 - the player in red shoots from the left ...'

    Invoke with a ToolCall:
        .. code-block:: python

            tool.invoke(
                {
                    "type": "tool_call",
                    "id": "call_1",
                    "name": "watch_video",
                    "args": {"video": "https://example.com/clip.mp4", "question": "Any text?"},
                }
            )
            # ToolMessage(content='...', tool_call_id='call_1', name='watch_video')

    Use in an agent:
        .. code-block:: python

            from langchain.agents import create_agent

            agent = create_agent(ChatMiMo(), [tool])
            agent.invoke({"messages": [("user", "What happens in 'match.mp4'?")]})
    """

    name: str = "watch_video"
    description: str = _DESCRIPTION
    args_schema: ArgsSchema | None = WatchVideoInput
    handle_tool_error: bool | str | Callable[[ToolException], ToolExceptionHandlerOutput] | None = (
        True
    )
    """Refusals come back to the agent as text (``ToolMessage`` with status "error")."""

    llm: ChatMiMo | None = None
    """The model that watches; ``None``: a ``ChatMiMo()`` built on first use."""
    loader: VideoLoader | None = None
    """Turns the video into a MiMo part; ``None``: one built from ``fps``,
    ``media_resolution``, ``fit`` and ``max_file_bytes``."""
    fps: float = DEFAULT_FPS
    """Frames sampled per second when the agent does not choose (0.1-10)."""
    media_resolution: Literal["default", "max"] = DEFAULT_MEDIA_RESOLUTION
    """Frame resolution when the agent does not choose."""
    fit: FitMode = True
    """Re-encode local videos that are over MiMo's base64 limit (see ``VideoLoader``)."""
    prompt: str = DEFAULT_PROMPT
    """System instructions sent with every video; empty: none."""
    max_answer_chars: int | None = Field(default=4000, ge=1)
    """Cut longer answers (a marker says how much was cut); ``None``: never cut."""
    allowed_dirs: Sequence[str | Path] = ()
    """Folders local videos may come from (resolved when the tool is built)."""
    allow_private_urls: bool = False
    """Allow URLs whose host is loopback, private, link-local, reserved or metadata."""
    max_file_bytes: int | None = Field(default=100_000_000, ge=0)
    """Largest local file accepted, checked with ``stat()`` before anything is read."""
    store: MediaStore | None = Field(default=None, exclude=True)
    """Where local videos are put before sending (the llm then gets a reference). ``None``:
    the loader's or the llm's store if they have one, else a temporary store per call,
    removed when the call ends."""

    _default_llm: ChatMiMo | None = PrivateAttr(default=None)

    # -- validation ------------------------------------------------------------

    # "before": pydantic would otherwise turn True into 1.0 and "2" into 2.0 first, where
    # ChatMiMo and VideoLoader refuse both.
    @field_validator("fps", mode="before")
    @classmethod
    def _check_fps(cls, value: Any) -> float:
        return validate_fps(value)

    @field_validator("media_resolution")
    @classmethod
    def _check_media_resolution(cls, value: str) -> str:
        return validate_media_resolution(value)

    @field_validator("allowed_dirs", mode="before")
    @classmethod
    def _resolve_dirs(cls, value: Any) -> Any:
        if isinstance(value, (str, os.PathLike)):
            value = [value]  # one folder, not a sequence of characters
        if not isinstance(value, Sequence | set | frozenset):
            return value
        return tuple(Path(folder).expanduser().resolve() for folder in value)

    @model_validator(mode="after")
    def _check_loader_options(self) -> WatchVideoTool:
        clash = sorted({"fps", "media_resolution", "fit"} & self.model_fields_set)
        if self.loader is not None and clash:
            raise ValueError(
                f"Pass either loader= or {', '.join(clash)}=, not both: the loader's own "
                "settings apply."
            )
        if not self.allowed_dirs and "description" not in self.model_fields_set:
            self.description = _DESCRIPTION + _NO_LOCAL_FILES
        return self

    # -- parts -----------------------------------------------------------------

    @property
    def chat_model(self) -> ChatMiMo:
        """The ``ChatMiMo`` that watches (``llm``, or the default one built on first use)."""
        if self.llm is not None:
            return self.llm
        if self._default_llm is None:
            self._default_llm = ChatMiMo()
        return self._default_llm

    @property
    def video_loader(self) -> VideoLoader:
        """The ``VideoLoader`` used (``loader``, or one built from this tool's settings)."""
        if self.loader is not None:
            return self.loader
        return VideoLoader(
            fps=self.fps,
            media_resolution=self.media_resolution,
            fit=self.fit,
            max_bytes=self.max_file_bytes,
        )

    # -- running ---------------------------------------------------------------

    def _run(
        self,
        video: str,
        question: str,
        fps: float | None = None,
        media_resolution: Literal["default", "max"] | None = None,
        start: float | None = None,
        end: float | None = None,
        run_manager: CallbackManagerForToolRun | None = None,
    ) -> str:
        llm = self.chat_model
        llm.require_api_key()  # a missing key is the deployment's error: raise it before any work
        with _agent_errors(video) as shown:
            source = self._checked_source(video)
            shown.source = source
            with self._store_for(source, llm) as store:
                part = self._loader_for(store).load(
                    source, start=start, end=end, fps=fps, media_resolution=media_resolution
                )
                config: RunnableConfig = (
                    {"callbacks": run_manager.get_child()} if run_manager is not None else {}
                )
                reply = _with_store(llm, store).invoke(
                    self._messages(part, question, start), config=config, **self._call_options()
                )
            return self._answer(reply, llm)

    async def _arun(
        self,
        video: str,
        question: str,
        fps: float | None = None,
        media_resolution: Literal["default", "max"] | None = None,
        start: float | None = None,
        end: float | None = None,
        run_manager: AsyncCallbackManagerForToolRun | None = None,
    ) -> str:
        llm = self.chat_model
        llm.require_api_key()
        with _agent_errors(video) as shown:
            # path checks and the URL's DNS lookup block: keep them off the event loop
            source = await asyncio.to_thread(self._checked_source, video)
            shown.source = source
            with self._store_for(source, llm) as store:
                part = await self._loader_for(store).aload(
                    source, start=start, end=end, fps=fps, media_resolution=media_resolution
                )
                config: RunnableConfig = (
                    {"callbacks": run_manager.get_child()} if run_manager is not None else {}
                )
                reply = await _with_store(llm, store).ainvoke(
                    self._messages(part, question, start), config=config, **self._call_options()
                )
            return self._answer(reply, llm)

    @contextlib.contextmanager
    def _store_for(self, source: str | Path, llm: ChatMiMo) -> Iterator[MediaStore | None]:
        """The store a local ``source`` goes through (a temporary one is removed after)."""
        if not isinstance(source, Path):
            yield None  # a URL: MiMo fetches it, nothing to store
            return
        given = self.store or self.video_loader.store or llm.media_store
        if given is not None:
            yield given
            return
        with tempfile.TemporaryDirectory(prefix="mimo-video-tool-") as folder:
            yield MediaStore(folder)

    def _loader_for(self, store: MediaStore | None) -> VideoLoader:
        loader = self.video_loader
        if store is None or loader.store is store:
            return loader
        loader = copy.copy(loader)  # the caller's loader keeps its own settings
        loader.store = store
        return loader

    def _call_options(self) -> dict[str, Any]:
        # A name checked by check_public_url could resolve elsewhere when ChatMiMo's token
        # guard probes it later, so the guard may not reach private addresses either.
        return {} if self.allow_private_urls else {"probe_private_urls": False}

    def _messages(self, part: VideoPart, question: str, start: float | None) -> list[BaseMessage]:
        text = question.strip()
        if start:
            offset = _mmss(start)
            text += (
                f"\n\n(This clip starts at {offset} of the full video: add {offset} to the "
                "times you see in the clip when you cite them.)"
            )
        messages: list[BaseMessage] = [SystemMessage(self.prompt)] if self.prompt else []
        messages.append(HumanMessage(content=[dict(part), {"type": "text", "text": text}]))
        return messages

    def _checked_source(self, video: str) -> str | Path:
        # A URL's lookup gets the model's timeout, as its probes do (a probe's own without).
        timeout = self.chat_model.timeout
        return checked_source(
            video,
            allowed_dirs=self.allowed_dirs,
            allow_private_urls=self.allow_private_urls,
            max_file_bytes=self.max_file_bytes,
            lookup_timeout=PROBE_TIMEOUT_SECONDS if timeout is None else timeout,
        )

    def _answer(self, reply: BaseMessage, llm: ChatMiMo) -> str:
        text = reply.text.strip()
        if not text:
            finish = reply.response_metadata.get("finish_reason")
            if finish == "length":
                why = (
                    f"its output limit (max_tokens={llm.max_tokens}) was used up by its "
                    "reasoning before it wrote an answer. Ask a narrower question or watch a "
                    "shorter part of the video."
                )
            elif finish == "content_filter":
                why = "the answer was withheld by MiMo's content filter."
            else:
                why = f"the reply held no text (finish reason {finish!r}). Try again."
            raise ToolException(f"MiMo gave no answer: {why}")
        limit = self.max_answer_chars
        if limit is not None and len(text) > limit:
            cut = len(text) - limit
            text = f"{text[:limit].rstrip()}\n[answer truncated: {cut} more characters not shown]"
        return text


def _with_store(llm: ChatMiMo, store: MediaStore | None) -> ChatMiMo:
    """``llm``, or a shallow copy (same clients) that resolves references from ``store``."""
    if store is None or llm.media_store is store:
        return llm
    return llm.model_copy(update={"media_store": store})


def _mmss(seconds: float) -> str:
    """``75`` -> ``"01:15"``, ``0.5`` -> ``"00:00.5"``, ``3725`` -> ``"1:02:05"``."""
    minutes, rest = divmod(round(seconds, 1), 60)
    rest = round(rest, 1)
    hours, minutes = divmod(int(minutes), 60)
    second = f"{int(rest):02d}" if rest == int(rest) else f"{rest:04.1f}"
    return f"{hours}:{minutes:02d}:{second}" if hours else f"{minutes:02d}:{second}"


class _Shown:
    """Remembers the resolved source, to show the agent its own spelling in messages."""

    def __init__(self, video: str) -> None:
        self.video = video
        self.source: str | Path | None = None

    def clean(self, message: str) -> str:
        if isinstance(self.source, Path):
            message = message.replace(str(self.source), self.video)
        return message


@contextlib.contextmanager
def _agent_errors(video: str) -> Iterator[_Shown]:
    """Turn errors the agent can act on into ``ToolException``; let the rest through."""
    shown = _Shown(video)
    try:
        yield shown
    except MissingAPIKeyError:
        raise
    except MiMoResponseError as error:
        what = "its answer was not a valid response"
        raise ToolException(_SERVICE_FAULT.format(what=what)) from error
    except StreamInterruptedError as error:
        what = "its answer was cut off before the end"
        raise ToolException(_SERVICE_FAULT.format(what=what)) from error
    except MiMoError as error:
        raise ToolException(REFUSED + shown.clean(str(error))) from error
    except openai.APIStatusError as error:
        if error.status_code not in _AGENT_FIXABLE_STATUS:
            raise
        raise ToolException(f"MiMo could not answer about this video: {error}") from error
