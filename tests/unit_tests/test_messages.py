"""Tests for _messages.py: LangChain messages <-> MiMo wire dicts."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    ChatMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)

from langchain_mimo_video import UnsupportedContentError
from langchain_mimo_video._messages import (
    ai_chunk_from_mimo,
    ai_message_from_mimo,
    message_to_mimo,
    messages_to_mimo,
    usage_from_mimo,
)
from langchain_mimo_video.video import VideoDefaults

D = VideoDefaults()
CALL = {"name": "lookup", "args": {"q": "cats"}, "id": "call_1", "type": "tool_call"}
WIRE_CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "lookup", "arguments": '{"q": "cats"}'},
}
FROM_MIMO = {"model_provider": "mimo"}


def convert(message: Any) -> dict[str, Any]:
    return message_to_mimo(message, D)


# -- user content ---------------------------------------------------------------


def test_plain_text_user_and_system() -> None:
    assert messages_to_mimo([SystemMessage("be brief"), HumanMessage("hi")], D) == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
    ]


def test_names_are_kept() -> None:
    assert convert(HumanMessage("hi", name="ana"))["name"] == "ana"


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("just text", {"type": "text", "text": "just text"}),
        (
            {"type": "image", "url": "https://e/a.png"},
            {"type": "image_url", "image_url": {"url": "https://e/a.png"}},
        ),
        (
            {"type": "image", "base64": "AAAA", "mime_type": "image/jpeg"},
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,AAAA"}},
        ),
        (
            {"type": "image", "source_type": "url", "url": "https://e/b.png"},
            {"type": "image_url", "image_url": {"url": "https://e/b.png"}},
        ),
        (
            {"type": "image_url", "image_url": {"url": "https://e/c.png", "detail": "low"}},
            {"type": "image_url", "image_url": {"url": "https://e/c.png", "detail": "low"}},
        ),
        (
            {"type": "image_url", "image_url": "https://e/d.png"},
            {"type": "image_url", "image_url": {"url": "https://e/d.png"}},
        ),
        (
            {"type": "audio", "base64": "UklG", "mime_type": "audio/wav"},
            {"type": "input_audio", "input_audio": {"data": "data:audio/wav;base64,UklG"}},
        ),
        (
            {"type": "audio", "url": "https://e/a.mp3"},
            {"type": "input_audio", "input_audio": {"data": "https://e/a.mp3"}},
        ),
        (
            {"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}},
            {
                "type": "input_audio",
                "input_audio": {"data": "data:audio/wav;base64,UklG", "format": "wav"},
            },
        ),
        (
            {"type": "input_audio", "input_audio": {"data": "https://e/a.wav"}},
            {"type": "input_audio", "input_audio": {"data": "https://e/a.wav"}},
        ),
        (
            {"type": "file", "base64": "UklG", "mime_type": "audio/mpeg"},
            {"type": "input_audio", "input_audio": {"data": "data:audio/mpeg;base64,UklG"}},
        ),
        ({"type": "text-plain", "text": "notes"}, {"type": "text", "text": "notes"}),
        ({"type": "future_part", "x": 1}, {"type": "future_part", "x": 1}),
        (
            {
                "type": "non_standard",
                "value": {"type": "video_url", "video_url": {"url": "https://e/v.mp4"}},
            },
            {
                "type": "video_url",
                "video_url": {"url": "https://e/v.mp4"},
                "fps": 2.0,
                "media_resolution": "default",
            },
        ),
    ],
)
def test_user_parts(block: Any, expected: dict[str, Any]) -> None:
    assert convert(HumanMessage(content=[block]))["content"] == [expected]


@pytest.mark.parametrize(
    "block",
    [
        {"type": "image", "file_id": "f-1"},
        {"type": "file", "base64": "JVBE", "mime_type": "application/pdf"},
        {"type": "image"},
    ],
)
def test_unsupported_user_parts(block: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedContentError):
        convert(HumanMessage(content=[block]))


def test_chat_message_keeps_its_role() -> None:
    assert convert(ChatMessage(role="developer", content="x")) == {
        "role": "developer",
        "content": "x",
    }


def test_unknown_message_type() -> None:
    with pytest.raises(UnsupportedContentError, match="RemoveMessage"):
        convert(RemoveMessage(id="1"))


# -- system and tool messages are text ------------------------------------------


def test_system_list_content_is_flattened() -> None:
    message = SystemMessage(content=[{"type": "text", "text": "a"}, "b"])
    assert convert(message)["content"] == "ab"


def test_tool_message_list_content_becomes_text() -> None:
    message = ToolMessage(
        content=[{"type": "text", "text": "found "}, {"type": "json", "json": {"n": 1}}],
        tool_call_id="call_1",
        name="lookup",
    )
    assert convert(message) == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": 'found {"type": "json", "json": {"n": 1}}',
    }


@pytest.mark.parametrize("kind", ["image", "image_url", "video", "file", "input_audio"])
def test_tool_message_with_media_is_refused(kind: str) -> None:
    message = ToolMessage(content=[{"type": kind, "url": "https://e/x"}], tool_call_id="c")
    with pytest.raises(UnsupportedContentError, match="only text in a tool message"):
        convert(message)


# -- assistant messages ----------------------------------------------------------


def test_tool_call_message_has_empty_string_content_never_null() -> None:
    wire = convert(AIMessage(content="", tool_calls=[CALL]))
    assert wire == {"role": "assistant", "content": "", "tool_calls": [WIRE_CALL]}


def test_reasoning_goes_back_only_for_mimo_messages() -> None:
    mine = AIMessage(
        content="",
        tool_calls=[CALL],
        response_metadata=FROM_MIMO,
        additional_kwargs={"reasoning_content": "because"},
    )
    foreign = AIMessage(
        content="",
        tool_calls=[CALL],
        response_metadata={"model_provider": "deepseek"},
        additional_kwargs={"reasoning_content": "theirs"},
    )
    assert convert(mine)["reasoning_content"] == "because"
    assert "reasoning_content" not in convert(foreign)


def test_v1_content_blocks_convert_back() -> None:
    message = AIMessage(
        content=[
            {"type": "reasoning", "reasoning": "step one. "},
            {"type": "reasoning", "reasoning": "step two."},
            {"type": "text", "text": "Calling."},
            {"type": "tool_call", "id": "call_1", "name": "lookup", "args": {"q": "cats"}},
        ],
        tool_calls=[CALL],
        response_metadata={**FROM_MIMO, "output_version": "v1"},
    )
    assert convert(message) == {
        "role": "assistant",
        "content": "Calling.",
        "tool_calls": [WIRE_CALL],
        "reasoning_content": "step one. step two.",
    }


def test_invalid_tool_calls_go_back_as_they_came() -> None:
    message = AIMessage(
        content="",
        invalid_tool_calls=[
            {
                "type": "invalid_tool_call",
                "id": "c9",
                "name": "lookup",
                "args": "{oops",
                "error": "x",
            }
        ],
    )
    assert convert(message)["tool_calls"] == [
        {"id": "c9", "type": "function", "function": {"name": "lookup", "arguments": "{oops"}}
    ]


def test_unicode_arguments_stay_readable() -> None:
    call = {**CALL, "args": {"q": "猫 🐱"}}
    wire = convert(AIMessage(content="", tool_calls=[call]))
    assert wire["tool_calls"][0]["function"]["arguments"] == '{"q": "猫 🐱"}'


# -- responses -------------------------------------------------------------------


def test_null_content_becomes_empty_string() -> None:
    message = ai_message_from_mimo(
        {"role": "assistant", "content": None, "reasoning_content": "only thoughts"}
    )
    assert message.content == ""
    assert message.additional_kwargs == {"reasoning_content": "only thoughts"}


def test_no_reasoning_key_when_absent() -> None:
    assert ai_message_from_mimo({"content": "x"}).additional_kwargs == {}


def test_empty_chunk_is_skipped() -> None:
    assert ai_chunk_from_mimo({"id": "1", "choices": []}) is None


def test_tool_call_chunk() -> None:
    chunk = ai_chunk_from_mimo(
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {"index": 0, "id": "c", "function": {"name": "f", "arguments": '{"a"'}}
                        ]
                    },
                }
            ]
        }
    )
    assert chunk is not None
    assert chunk.tool_call_chunks == [
        {"name": "f", "args": '{"a"', "id": "c", "index": 0, "type": "tool_call_chunk"}
    ]


def test_usage_keeps_mimo_details_as_given() -> None:
    usage = usage_from_mimo(
        {
            "prompt_tokens": 1260,
            "completion_tokens": 849,
            "total_tokens": 2109,
            "prompt_tokens_details": {
                "cached_tokens": 1256,
                "audio_tokens": 19,
                "video_tokens": 1144,
            },
            "completion_tokens_details": {"reasoning_tokens": 719},
        }
    )
    assert usage["input_token_details"] == {"cache_read": 1256, "audio": 19, "video": 1144}
    assert usage["output_token_details"] == {"reasoning": 719}


def test_usage_without_details() -> None:
    usage = usage_from_mimo({"prompt_tokens": 3, "completion_tokens": 4})
    assert usage == {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}


@pytest.mark.parametrize("stream", [False, True])
def test_reasoning_content_null_absent_or_empty_are_alike(stream: bool) -> None:
    """Thinking off: vendor samples send null, a live report saw the key absent."""

    def convert_one(extra: dict[str, Any]) -> Any:
        if stream:
            chunk = {"choices": [{"index": 0, "delta": {"content": "hi", **extra}}]}
            return ai_chunk_from_mimo(chunk)
        return ai_message_from_mimo({"role": "assistant", "content": "hi", **extra})

    forms = [convert_one({}), convert_one({"reasoning_content": None})]
    forms.append(convert_one({"reasoning_content": ""}))
    assert all(form == forms[0] for form in forms)
    assert "reasoning_content" not in forms[0].additional_kwargs
    assert [block["type"] for block in forms[0].content_blocks] == ["text"]


def test_usage_with_null_details_and_no_reasoning_tokens() -> None:
    usage = usage_from_mimo(
        {
            "prompt_tokens": 5,
            "completion_tokens": 2,
            "total_tokens": 7,
            "prompt_tokens_details": None,
            "completion_tokens_details": None,
        }
    )
    assert usage == {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7}


# -- audio content is checked like video content --------------------------------------

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00" + bytes(24)
AUDIO_HEADS = {
    "audio/wav": WAV,
    "audio/mpeg": b"ID3\x04\x00\x00" + bytes(40),
    "audio/flac": b"fLaC\x00\x00\x00\x22" + bytes(40),
    "audio/ogg": b"OggS\x00\x02" + bytes(40),
    "audio/aac": b"\xff\xf1\x50\x80" + bytes(40),
    "audio/mp4": b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00" + bytes(32),
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def audio_wire(block: dict[str, Any]) -> dict[str, Any]:
    part = convert(HumanMessage(content=[block]))["content"][0]
    assert part["type"] == "input_audio"
    return dict(part["input_audio"])


@pytest.mark.parametrize("mime", sorted(AUDIO_HEADS))
def test_a_wrong_declared_audio_type_is_corrected_from_the_bytes(mime: str) -> None:
    wrong = "audio/flac" if mime != "audio/flac" else "audio/wav"
    data = b64(AUDIO_HEADS[mime])
    wire = audio_wire({"type": "audio", "base64": data, "mime_type": wrong})
    assert wire == {"data": f"data:{mime};base64,{data}"}


def test_wav_bytes_declared_as_mpeg_go_as_wav_in_every_block_form() -> None:
    data = b64(WAV)
    forms = [
        {"type": "audio", "base64": data, "mime_type": "audio/mpeg"},
        {"type": "file", "base64": data, "mime_type": "audio/mpeg"},
        {"type": "audio", "source_type": "base64", "data": data, "mime_type": "audio/mpeg"},
        {"type": "input_audio", "input_audio": {"data": f"data:audio/mpeg;base64,{data}"}},
    ]
    for block in forms:
        assert audio_wire(block)["data"] == f"data:audio/wav;base64,{data}", block


def test_input_audio_keeps_its_format_made_to_agree_with_the_bytes() -> None:
    data = b64(WAV)
    assert audio_wire({"type": "input_audio", "input_audio": {"data": data, "format": "wav"}}) == {
        "data": f"data:audio/wav;base64,{data}",
        "format": "wav",
    }
    wrong = audio_wire({"type": "input_audio", "input_audio": {"data": data, "format": "mp3"}})
    assert wrong == {"data": f"data:audio/wav;base64,{data}", "format": "wav"}
    mp3 = b64(AUDIO_HEADS["audio/mpeg"])
    assert audio_wire({"type": "input_audio", "input_audio": {"data": mp3, "format": "mp3"}}) == {
        "data": f"data:audio/mpeg;base64,{mp3}",
        "format": "mp3",
    }


@pytest.mark.parametrize(
    ("head", "what"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(40), "PNG image"),
        (b"\xff\xd8\xff\xe0" + bytes(40), "JPEG image"),
        (b"\x00\x00\x00\x14ftypqt  " + bytes(40), "video"),
        (b'{"not": "audio"}', "JSON or text"),
    ],
)
def test_bytes_that_are_not_sound_are_refused(head: bytes, what: str) -> None:
    with pytest.raises(UnsupportedContentError, match=f"declared as audio/wav holds .*{what}"):
        convert(
            HumanMessage(content=[{"type": "audio", "base64": b64(head), "mime_type": "audio/wav"}])
        )


def test_bad_base64_audio_is_refused() -> None:
    with pytest.raises(UnsupportedContentError, match="not valid base64"):
        audio_wire({"type": "audio", "base64": "@@@@not base64", "mime_type": "audio/wav"})


def test_unknown_audio_bytes_keep_their_canonical_declared_type() -> None:
    data = b64(b"#!AMR\n" + bytes(40))
    assert audio_wire({"type": "audio", "base64": data, "mime_type": "audio/x-wav"}) == {
        "data": f"data:audio/wav;base64,{data}"
    }
    assert audio_wire({"type": "audio", "base64": data, "mime_type": "audio/amr"}) == {
        "data": f"data:audio/amr;base64,{data}"
    }


def test_audio_urls_are_not_touched() -> None:
    assert audio_wire({"type": "audio", "url": "https://e/a.mp3"}) == {"data": "https://e/a.mp3"}
