"""The vendor's documented example, replayed from a cassette transcribed from the docs.

The cassette was not recorded: its request is the documented curl body and its response
the documented answer (see its provenance). Matching the request on its parsed JSON body
proves ChatMiMo sends that body, field for field; the assertions prove it parses that
answer. It always replays, even when re-recording everything else.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from langchain_mimo_video import ChatMiMo

DOC = json.loads((Path(__file__).parents[1] / "data" / "documented_example.json").read_text())


@pytest.mark.vcr(record_mode="none")
def test_documented_curl_example() -> None:
    system, user = DOC["request"]["messages"]
    llm = ChatMiMo(
        model="mimo-v2.5",
        max_tokens=1024,
        api_key="documented-example-key",
        base_url="https://api.xiaomimimo.com/v1",
        max_retries=0,
    )
    reply = llm.invoke([SystemMessage(system["content"]), HumanMessage(content=user["content"])])

    answer = DOC["response"]["choices"][0]["message"]
    assert reply.content == answer["content"]
    assert reply.additional_kwargs["reasoning_content"] == answer["reasoning_content"]
    assert reply.usage_metadata == {
        "input_tokens": 1260,
        "output_tokens": 849,
        "total_tokens": 2109,
        "input_token_details": {"cache_read": 1256, "audio": 19, "video": 1144},
        "output_token_details": {"reasoning": 719},
    }
    assert reply.response_metadata["id"] == DOC["response"]["id"]
    assert reply.response_metadata["finish_reason"] == "stop"
