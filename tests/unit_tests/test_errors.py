"""The error taxonomy: every API failure is the openai SDK's class and LangChain's class.

Every documented status and fault goes through all four paths (invoke, ainvoke, stream,
astream) over the in-process transport, and an error event inside a stream (before and
after the first chunk) surfaces like the unstreamed error of its status. Broken answers
(an HTML page, invalid JSON, bodies without choices) raise ``MiMoResponseError``. The tree
drawn in ``errors``' docstring is checked against the classes themselves.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import re
from typing import Any

import httpx2
import openai
import pytest
from langchain_core import exceptions as core_exceptions
from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)
from langchain_core.tools import tool

import langchain_mimo_video
from langchain_mimo_video import ChatMiMo, errors
from langchain_mimo_video.errors import (
    InvalidArgumentError,
    MiMoAPIError,
    MiMoError,
    MiMoResponseError,
    MiMoStatusError,
    TokenLimitError,
    UnknownPriceError,
)
from langchain_mimo_video.tokens import estimate_cost
from tests.unit_tests.fake_transport import FakeMiMo, completion, error_body, sse, stream_of

KEY = "sk-errors-test-key-0123456789abcdef"

#: MiMo's documented statuses: (openai class, LangChain class, retryable).
DOCUMENTED: dict[int, tuple[type[Exception], type[ModelError], bool]] = {
    400: (openai.BadRequestError, ModelInvalidRequestError, False),
    401: (openai.AuthenticationError, ModelAuthenticationError, False),
    402: (openai.APIStatusError, ModelPermissionDeniedError, False),
    403: (openai.PermissionDeniedError, ModelPermissionDeniedError, False),
    404: (openai.NotFoundError, ModelNotFoundError, False),
    421: (openai.APIStatusError, ModelInvalidRequestError, False),
    429: (openai.RateLimitError, ModelRateLimitError, True),
    500: (openai.InternalServerError, ModelAPIError, True),
    503: (openai.InternalServerError, ModelAPIError, True),
}
PATHS = ["invoke", "ainvoke", "stream", "astream"]


def model(fake: FakeMiMo, **kwargs: Any) -> ChatMiMo:
    return ChatMiMo(**{"api_key": KEY, "max_retries": 0, **fake.clients(), **kwargs})


def call(llm: ChatMiMo, path: str, prompt: str = "hi") -> Any:
    """Run one request through ``path``; returns the answer (or raises)."""
    if path == "invoke":
        return llm.invoke(prompt)
    if path == "stream":
        return list(llm.stream(prompt))

    async def run() -> Any:
        if path == "ainvoke":
            return await llm.ainvoke(prompt)
        return [chunk async for chunk in llm.astream(prompt)]

    return asyncio.run(run())


def raised(llm: ChatMiMo, path: str) -> BaseException:
    with pytest.raises((MiMoError, MiMoAPIError)) as caught:
        call(llm, path)
    return caught.value


def assert_families(
    error: BaseException, sdk: type[Exception], core: type[ModelError], retryable: bool
) -> None:
    assert isinstance(error, sdk), type(error).__mro__
    assert isinstance(error, core), type(error).__mro__
    assert isinstance(error, MiMoAPIError)
    assert type(error).is_retryable is retryable


# -- statuses --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("status", sorted(DOCUMENTED))
def test_every_documented_status_is_both_classes(status: int, path: str) -> None:
    sdk, core, retryable = DOCUMENTED[status]
    fake = FakeMiMo().reply_json(
        error_body(status, "Param Incorrect", f"detail of {status}"), status=status
    )
    error = raised(model(fake), path)
    assert_families(error, sdk, core, retryable)
    assert isinstance(error, MiMoStatusError) and error.status_code == status
    assert str(error).startswith(f"MiMo API error {status}: Param Incorrect - detail of {status}")
    assert error.param == f"detail of {status}"
    assert "[" in str(error)  # a hint
    assert len(fake.seen) == 1


@pytest.mark.parametrize("status", [400, 401, 429, 503])
def test_api_statuses_are_not_caught_by_except_mimo_error(status: int) -> None:
    """``except MiMoError`` is for bad input; a rate limit must not fall into it."""
    fake = FakeMiMo().reply_json(error_body(status, "x", "y"), status=status)
    assert not isinstance(raised(model(fake), "invoke"), MiMoError)


def test_an_undocumented_status_is_still_both_families() -> None:
    fake = FakeMiMo().reply_json(error_body(413, "Too Large", "body"), status=413)
    error = raised(model(fake), "invoke")
    assert_families(error, openai.APIStatusError, ModelInvalidRequestError, False)


def test_user_code_catching_either_family_catches_a_429() -> None:
    fake = FakeMiMo().reply_json(error_body(429, "Too frequent", "60 rpm"), status=429)
    llm = model(fake)
    with pytest.raises(openai.RateLimitError):
        llm.invoke("hi")
    caught_by: list[str] = []
    try:
        llm.invoke("hi")
    except ModelRateLimitError:
        caught_by.append("langchain")
    try:
        llm.invoke("hi")
    except openai.RateLimitError:
        caught_by.append("openai")
    assert caught_by == ["langchain", "openai"]


def test_a_context_overflow_400_is_a_context_overflow_error() -> None:
    fake = FakeMiMo().reply_json(
        error_body(400, "Param Incorrect", "the input exceeds the maximum context length"),
        status=400,
    )
    error = raised(model(fake), "invoke")
    assert_families(error, openai.BadRequestError, ContextOverflowError, False)
    assert isinstance(error, ModelInvalidRequestError)


def test_an_ordinary_400_is_not_a_context_overflow() -> None:
    fake = FakeMiMo().reply_json(error_body(400, "Param Incorrect", "fps out of range"), 400)
    assert not isinstance(raised(model(fake), "invoke"), ContextOverflowError)


# -- connection faults -------------------------------------------------------------------------


def failing_clients(exception: type[httpx2.RequestError]) -> dict[str, Any]:
    def fail(request: httpx2.Request) -> httpx2.Response:
        raise exception("the network said no", request=request)

    async def afail(request: httpx2.Request) -> httpx2.Response:
        raise exception("the network said no", request=request)

    return {
        "http_client": httpx2.Client(transport=httpx2.MockTransport(fail)),
        "http_async_client": httpx2.AsyncClient(transport=httpx2.MockTransport(afail)),
    }


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("exception", "sdk", "core"),
    [
        (httpx2.ConnectError, openai.APIConnectionError, ModelConnectionError),
        (httpx2.ReadTimeout, openai.APITimeoutError, ModelTimeoutError),
    ],
)
def test_connection_failures_are_both_classes_and_name_the_url(
    path: str,
    exception: type[httpx2.RequestError],
    sdk: type[Exception],
    core: type[ModelError],
) -> None:
    llm = ChatMiMo(
        api_key=KEY,
        base_url="https://mimo.example.test/v1",
        max_retries=0,
        **failing_clients(exception),
    )
    error = raised(llm, path)
    assert_families(error, sdk, core, True)
    message = str(error)
    assert "https://mimo.example.test/v1/chat/completions" in message
    assert "MIMO_BASE_URL" in message


def test_the_connection_error_says_why() -> None:
    llm = ChatMiMo(api_key=KEY, max_retries=0, **failing_clients(httpx2.ConnectError))
    assert "the network said no" in str(raised(llm, "invoke"))


# -- errors inside streams ----------------------------------------------------------------------


def envelope(status: int, param: str) -> dict[str, Any]:
    return error_body(status, "Param Incorrect", param)


def stream_reply(body: bytes, status: int = 200) -> httpx2.Response:
    return httpx2.Response(status, content=body, headers={"content-type": "text/event-stream"})


@pytest.mark.parametrize("path", ["stream", "astream"])
@pytest.mark.parametrize("status", sorted(DOCUMENTED))
def test_an_error_event_in_a_stream_is_the_class_of_its_status(status: int, path: str) -> None:
    sdk, core, retryable = DOCUMENTED[status]
    fake = FakeMiMo()
    fake.responses.append(stream_reply(sse([envelope(status, "in the stream")], done=False)))
    error = raised(model(fake), path)
    assert_families(error, sdk, core, retryable)
    assert isinstance(error, MiMoStatusError) and error.status_code == status
    assert error.param == "in the stream"
    assert str(error).startswith(f"MiMo API error {status}: Param Incorrect - in the stream")


@pytest.mark.parametrize("path", ["stream", "astream"])
def test_an_error_event_after_the_first_chunks_is_classified_too(path: str) -> None:
    chunks = stream_of(completion(content="A long answer that breaks."))[:3]
    fake = FakeMiMo()
    fake.responses.append(stream_reply(sse([*chunks, envelope(503, "overloaded")], done=False)))
    error = raised(model(fake), path)
    assert_families(error, openai.InternalServerError, ModelAPIError, True)
    assert "overloaded" in str(error)


def test_an_error_status_with_an_sse_body_keeps_the_param() -> None:
    fake = FakeMiMo()
    fake.responses.append(stream_reply(sse([envelope(400, "fps: out of range")]), status=400))
    error = raised(model(fake), "stream")
    assert_families(error, openai.BadRequestError, ModelInvalidRequestError, False)
    assert "fps: out of range" in str(error)


# -- broken answers ------------------------------------------------------------------------------

BROKEN: dict[str, tuple[bytes, str]] = {
    "html": (b"<html><body>502 Bad Gateway</body></html>", "text/html"),
    "invalid-json": (b'{"id": "x", "choices": [', "application/json"),
    "empty-object": (b"{}", "application/json"),
    "no-choices": (b'{"choices": []}', "application/json"),
    "error-in-200": (
        json.dumps(error_body(400, "gateway says no", "upstream")).encode(),
        "application/json",
    ),
    "null": (b"null", "application/json"),
    "list": (b"[1, 2]", "application/json"),
    "choice-without-message": (b'{"choices": [{"index": 0}]}', "application/json"),
}


@pytest.mark.parametrize("path", ["invoke", "ainvoke"])
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_answer_is_a_response_error(case: str, path: str) -> None:
    content, content_type = BROKEN[case]
    fake = FakeMiMo()
    fake.responses.append(
        httpx2.Response(200, content=content, headers={"content-type": content_type})
    )
    error = raised(model(fake), path)
    assert isinstance(error, MiMoResponseError), repr(error)
    assert_families(error, openai.APIError, ModelAPIError, True)
    assert isinstance(error, MiMoError)  # found by the package itself
    assert error.status_code == 200
    assert error.content_type == content_type
    assert error.excerpt and error.excerpt in content.decode()
    assert "MIMO_BASE_URL" in str(error)


@pytest.mark.parametrize("path", ["stream", "astream"])
@pytest.mark.parametrize(
    "event",
    [
        b"data: {this is not json\n\n",
        b"data: null\n\n",
        b"data: [1, 2]\n\n",
        b'data: {"choices": 3}\n\n',
    ],
    ids=["not-json", "null", "list", "bad-choices"],
)
def test_a_broken_stream_event_is_a_response_error(event: bytes, path: str) -> None:
    first = sse(stream_of(completion())[:2], done=False)
    fake = FakeMiMo()
    fake.responses.append(stream_reply(first + event))
    error = raised(model(fake), path)
    assert isinstance(error, MiMoResponseError), repr(error)
    assert error.content_type == "text/event-stream"


@pytest.mark.parametrize("path", ["stream", "astream"])
def test_a_stream_answered_with_html_is_a_response_error(path: str) -> None:
    fake = FakeMiMo()
    fake.responses.append(
        httpx2.Response(200, content=b"<html>login</html>", headers={"content-type": "text/html"})
    )
    error = raised(model(fake), path)
    assert isinstance(error, MiMoResponseError)
    assert "login" in error.excerpt


def test_a_broken_answer_that_echoes_the_key_does_not_carry_it() -> None:
    fake = FakeMiMo()
    fake.responses.append(
        httpx2.Response(
            200, content=f"<html>{KEY}</html>".encode(), headers={"content-type": "text/html"}
        )
    )
    error = raised(model(fake), "invoke")
    assert isinstance(error, MiMoResponseError)
    assert KEY not in f"{error} {error!r} {error.excerpt} {error.args}"


# -- deliberate raises are the package's ---------------------------------------------------------


@tool
def lookup(city: str) -> str:
    """Look a city up."""
    return city


@pytest.mark.parametrize(
    "action",
    [
        lambda llm: llm.bind_tools([lookup], tool_choice="nope"),
        lambda llm: llm.bind_tools([lookup, lookup], tool_choice=True),
        lambda llm: llm.bind_tools([lookup], tool_choice=3.5),
        lambda llm: llm.with_structured_output(None),
        lambda llm: llm.with_structured_output({"title": "x"}, method="xml"),
        lambda llm: llm.with_structured_output({"title": "x"}, shape="round"),
        lambda llm: estimate_cost("mimo-v2.5", -1),
        lambda llm: estimate_cost("mimo-v2.5", 10, cached_input_tokens=11),
    ],
    ids=[
        "tool-name",
        "tool-true",
        "tool-type",
        "no-schema",
        "method",
        "kwargs",
        "negative",
        "cached",
    ],
)
def test_bad_arguments_raise_the_package_class_and_still_a_value_error(action: Any) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        action(ChatMiMo(api_key=KEY))
    assert isinstance(caught.value, ValueError)


def test_an_unknown_price_is_a_package_error_and_still_a_key_error() -> None:
    with pytest.raises(UnknownPriceError) as caught:
        estimate_cost("mimo-v9", 10)
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, MiMoError)
    assert str(caught.value).startswith("No price known for model 'mimo-v9'")


def test_token_limit_error_is_a_context_overflow() -> None:
    assert issubclass(TokenLimitError, ContextOverflowError)
    assert issubclass(TokenLimitError, ValueError)


# -- the drawn tree is true -----------------------------------------------------------------------

_OTHER_PARENT = re.compile(
    r"openai\.\w+|\bModel\w+|\bMiMo\w*Error|\bContextOverflowError|\bValueError|\bKeyError"
)
_TREE_LINE = re.compile(r"^(?P<indent>[ │├└─]*)(?P<name>[A-Z]\w+)\b(?P<rest>.*)$")


def drawn_tree() -> list[tuple[int, str, str]]:
    """(depth, class name, rest of the line) of every class in errors' docstring tree."""
    doc = errors.__doc__ or ""
    block = doc.split("trees (", 1)[1].split("::", 1)[1].split("\n\n", 2)[1]
    rows: list[tuple[int, str, str]] = []
    for line in block.splitlines():
        if line.strip(" │").startswith("+"):  # a continued line: more parents of the last
            depth, name, rest = rows.pop()
            rows.append((depth, name, rest + line))
            continue
        match = _TREE_LINE.match(line[4:])
        assert match, line
        rows.append((len(match["indent"]) // 4, match["name"], match["rest"]))
    return rows


def test_the_tree_in_the_docstring_is_true() -> None:
    rows = drawn_tree()
    parents: list[type] = []
    for depth, name, rest in rows:
        cls = getattr(errors, name)
        del parents[depth:]
        if parents:
            assert issubclass(cls, parents[-1]), (name, parents[-1])
        parents.append(cls)
        for other in re.findall(_OTHER_PARENT, rest):
            if other.startswith("openai."):
                parent = getattr(openai, other.removeprefix("openai."))
            else:
                parent = (
                    getattr(errors, other, None)
                    or getattr(core_exceptions, other, None)
                    or getattr(builtins, other)
                )
            assert issubclass(cls, parent), (name, other)
    classes = {name: getattr(errors, name) for name in errors.__all__}
    assert {name for _, name, _ in rows} == {
        name
        for name, cls in classes.items()
        if isinstance(cls, type) and not issubclass(cls, Warning)
    }


def test_every_error_class_is_exported_from_the_package_root() -> None:
    for name in errors.__all__:
        assert getattr(langchain_mimo_video, name) is getattr(errors, name)
