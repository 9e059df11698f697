"""WatchVideoTool end to end: langchain-tests' suite and agents, replayed from cassettes.

The tool's own MiMo calls (and, in the ChatMiMo-agent tests, the agent's) replay from
``cassettes/test_tools/<test>.yaml``; record them with
``MIMO_RECORD=all pytest tests/integration_tests/test_tools.py``. Videos come from
``tests/data/videos``, the one folder the tool may read; they are named relative to it so
no machine path reaches a request or a cassette.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatResult
from langchain_tests.integration_tests import ToolsIntegrationTests

from langchain_mimo_video import ChatMiMo
from langchain_mimo_video.tools import WatchVideoTool
from tests.integration_tests.conftest import Target, current_target

VIDEOS = Path(__file__).parents[1] / "data" / "videos"
KITTEN = "Video 1: 2.0 s, 160x90"  # how the contract server describes kitten.mp4


def mimo(target: Target, **overrides: Any) -> ChatMiMo:
    return ChatMiMo(
        **target.chat_params(model="mimo-v2.5", max_tokens=400, max_retries=0, **overrides)
    )


def watch_tool(target: Target) -> WatchVideoTool:
    return WatchVideoTool(llm=mimo(target), allowed_dirs=[VIDEOS])


@pytest.mark.vcr
class TestWatchVideoToolIntegration(ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> type[WatchVideoTool]:
        return WatchVideoTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"llm": mimo(current_target()), "allowed_dirs": [VIDEOS]}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"video": "kitten.mp4", "question": "What animal is in the video?", "fps": 1}


# -- a deterministic agent model -------------------------------------------------


class ScriptedAgentModel(GenericFakeChatModel):
    """Calls watch_video as scripted, then answers from the tool's result.

    Takes tools like a real chat model (``bind_tools`` returns the model itself). Once the
    history ends with a tool result it answers ``"From the video: <result>"``, so the
    final answer really uses what the tool returned.
    """

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedAgentModel:
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        if messages and isinstance(messages[-1], ToolMessage):
            from langchain_core.outputs import ChatGeneration

            answer = AIMessage(f"From the video: {messages[-1].text}")
            return ChatResult(generations=[ChatGeneration(message=answer)])
        return super()._generate(messages, *args, **kwargs)


def scripted(args: dict[str, Any]) -> ScriptedAgentModel:
    call = {"name": "watch_video", "args": args, "id": "call_scripted_1", "type": "tool_call"}
    script: Iterator[AIMessage] = iter([AIMessage("", tool_calls=[call])])
    return ScriptedAgentModel(messages=script)


SCRIPTED_ARGS = {"video": "kitten.mp4", "question": "How big is the picture?", "fps": 2}


def check_scripted_run(messages: list[BaseMessage]) -> None:
    human, call, result, final = messages
    assert isinstance(human, HumanMessage)
    assert isinstance(call, AIMessage)
    assert call.tool_calls[0]["name"] == "watch_video"
    assert call.tool_calls[0]["args"] == SCRIPTED_ARGS
    assert isinstance(result, ToolMessage)
    assert result.status == "success"
    assert result.tool_call_id == "call_scripted_1"
    assert isinstance(result.content, str)  # MiMo's answer, as text
    assert KITTEN in result.content
    assert "at 2 fps" in result.content
    assert 'Question: "How big is the picture?' in result.content
    assert isinstance(final, AIMessage)
    assert final.content == f"From the video: {result.content}"


@pytest.mark.vcr
def test_scripted_agent_calls_the_tool(target: Target) -> None:
    agent = create_agent(scripted(SCRIPTED_ARGS), [watch_tool(target)])
    result = agent.invoke({"messages": [("user", "How big is kitten.mp4?")]})
    check_scripted_run(result["messages"])


@pytest.mark.vcr
async def test_scripted_agent_calls_the_tool_async(target: Target) -> None:
    agent = create_agent(scripted(SCRIPTED_ARGS), [watch_tool(target)])
    result = await agent.ainvoke({"messages": [("user", "How big is kitten.mp4?")]})
    check_scripted_run(result["messages"])


def test_scripted_agent_reads_a_refusal_and_finishes(target: Target) -> None:
    args = {"video": "../videos_secret/plans.mp4", "question": "What is planned?"}
    agent = create_agent(scripted(args), [watch_tool(target)])
    result = agent.invoke({"messages": [("user", "Watch the plans.")]})
    _, _, refusal, final = result["messages"]
    assert isinstance(refusal, ToolMessage)
    assert refusal.status == "error"
    assert refusal.content == (
        "Cannot watch this video: '../videos_secret/plans.mp4' is outside the folders this "
        "tool may read. Use a file in those folders or an http(s) URL."
    )
    assert final.content == f"From the video: {refusal.content}"  # the loop went on


# -- ChatMiMo as the agent's model ------------------------------------------------


@pytest.mark.vcr
def test_mimo_agent_passes_reasoning_back_over_the_tool_call(target: Target) -> None:
    """The agent's ChatMiMo calls watch_video, reads its answer and replies.

    The third request carries the assistant's tool call back to MiMo; in thinking mode
    MiMo (and the contract server) answer 400 unless its reasoning_content comes with it.
    """
    agent = create_agent(mimo(target), [watch_tool(target)])
    question = "Please call watch_video('kitten.mp4', 'How big is the picture?') and tell me."
    result = agent.invoke({"messages": [("user", question)]})
    _, call, tool_result, final = result["messages"]
    assert isinstance(call, AIMessage)
    assert call.tool_calls[0]["name"] == "watch_video"
    assert call.tool_calls[0]["args"] == {
        "video": "kitten.mp4",
        "question": "How big is the picture?",
    }
    assert call.additional_kwargs["reasoning_content"]  # kept, and passed back
    assert isinstance(tool_result, ToolMessage)
    assert KITTEN in tool_result.content
    assert isinstance(final, AIMessage)
    assert final.response_metadata["finish_reason"] == "stop"
    assert "The tool watch_video returned" in final.content
    assert KITTEN in final.content  # the agent's answer uses what the tool saw


@pytest.mark.vcr
def test_mimo_agent_reads_a_refusal(target: Target) -> None:
    agent = create_agent(mimo(target), [watch_tool(target)])
    question = "Please call watch_video('../secret.mp4', 'What is in it?') and tell me."
    result = agent.invoke({"messages": [("user", question)]})
    _, call, refusal, final = result["messages"]
    assert call.tool_calls[0]["args"]["video"] == "../secret.mp4"
    assert isinstance(refusal, ToolMessage)
    assert refusal.status == "error"
    assert "'../secret.mp4' is outside the folders this tool may read" in refusal.content
    assert isinstance(final, AIMessage)
    assert "outside the folders" in final.content  # the agent read the refusal
