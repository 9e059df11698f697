"""The API key never leaks: reprs, dumps, tracing, logs, exceptions, pickles and cassettes.

Every check uses a distinctive canary key and also looks for a fragment of it, so a key cut
or re-quoted on its way into some text is still caught. Requests go through the in-process
``FakeMiMo`` transport (no sockets). Checks that the key *is* used where it must be (the two
auth header, a pickled model) keep the absent-everywhere-else checks from passing vacuously.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import gzip
import json
import logging
import os
import pickle
import re
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
import vcr
import yaml
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.load import dumpd, dumps
from langchain_core.tracers.context import collect_runs
from pydantic import BaseModel, SecretStr

from langchain_mimo_video import ChatMiMo
from langchain_mimo_video._api_errors import MIN_SECRET_LENGTH, scrub
from tests.cassettes import CASSETTE_ROOT, ProvenancePersister, scrub_request, scrub_response
from tests.integration_tests.conftest import REPLAY_KEY
from tests.unit_tests.fake_transport import FakeMiMo, Seen, completion, error_body, sse, stream_of

KEY = "sk-SECRET-canary-0123456789abcdef"
TP_KEY = "tp-SECRET-canary-fedcba9876543210"
FRAGMENTS = ("SECRET-canary", "0123456789abcdef", "fedcba9876543210")
#: The key the contract server accepts by default (cassettes recorded locally used it).
CONTRACT_SERVER_KEY = "test-key"


def leaked(text: str | bytes) -> list[str]:
    """The canary keys, or fragments of them, found in ``text``."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return [needle for needle in (KEY, TP_KEY, *FRAGMENTS) if needle in text]


def model(fake: FakeMiMo | None = None, key: str = KEY, **kwargs: Any) -> ChatMiMo:
    params: dict[str, Any] = {"api_key": key, "max_retries": 0}
    if fake is not None:
        params.update(fake.clients())
    return ChatMiMo(**{**params, **kwargs})


class Weather(BaseModel):
    """Weather in a city."""

    city: str


# -- the model itself ---------------------------------------------------------------------


def text_forms(llm: ChatMiMo) -> dict[str, str]:
    """Every way a ChatMiMo is commonly turned into text (printing, dumps, tracing)."""
    return {
        "repr": repr(llm),
        "str": str(llm),
        "format": f"{llm!s} {llm!r}",
        "vars": repr(vars(llm)),
        "model_dump": repr(llm.model_dump()),
        "model_dump_json": llm.model_dump_json(),
        "model_dump_json_by_alias": llm.model_dump_json(by_alias=True),
        "dumpd": json.dumps(dumpd(llm)),
        "dumps": dumps(llm, pretty=True),
        "to_json": repr(llm.to_json()),
        "api_key_repr": repr(llm.api_key),
        "api_key_str": str(llm.api_key),
        "identifying_params": repr(llm._identifying_params),
        "ls_params": repr(llm._get_ls_params(stop=["x"])),
        "invocation_params": repr(llm._get_invocation_params(stop=["x"])),
        "llm_string": llm._get_llm_string(stop=["x"]),
        "deepcopy": repr(copy.deepcopy(llm)),
        "model_copy": repr(llm.model_copy()),
        "bound_tools": repr(llm.bind_tools([Weather], tool_choice="Weather")),
        "structured": repr(llm.with_structured_output(Weather)),
        "with_config": repr(llm.with_config(tags=["t"])),
    }


@pytest.mark.parametrize("key", [KEY, TP_KEY], ids=["pay-as-you-go", "token-plan"])
def test_key_is_in_no_text_form_of_the_model(key: str) -> None:
    llm = model(key=key, base_url="https://token-plan-sgp.xiaomimimo.com/v1", temperature=0.3)
    assert isinstance(llm.api_key, SecretStr) and llm.api_key.get_secret_value() == key
    for name, text in text_forms(llm).items():
        assert not leaked(text), name


def test_key_from_the_environment_is_in_no_text_form(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIMO_API_KEY", KEY)
    llm = ChatMiMo()
    assert llm.api_key is not None and llm.api_key.get_secret_value() == KEY
    for name, text in text_forms(llm).items():
        assert not leaked(text), name


def test_dump_keeps_a_reference_to_the_environment_variable_only() -> None:
    dumped = dumpd(model())
    assert dumped["kwargs"]["api_key"] == {"lc": 1, "type": "secret", "id": ["MIMO_API_KEY"]}


def test_the_key_is_sent_once_as_bearer() -> None:
    """The positive control: the key does travel, exactly where it must, and only there."""
    fake = FakeMiMo().reply_json(completion())
    model(fake).invoke("hi")
    assert fake.last.headers["authorization"] == f"Bearer {KEY}"
    others = {name: value for name, value in fake.last.headers.items() if name != "authorization"}
    assert not leaked(json.dumps(others))  # in no other header (no api-key by default)
    assert not leaked(json.dumps(fake.last.body))  # never in the body


# -- tracing (what LangSmith and callbacks receive) -----------------------------------------


class Recorder(BaseCallbackHandler):
    """Keeps everything the callbacks of a chat model run are given, as text."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def _keep(self, event: str, *args: Any, **kwargs: Any) -> None:
        self.seen.append(repr((event, args, kwargs)))

    def on_chat_model_start(self, *args: Any, **kwargs: Any) -> None:
        self._keep("on_chat_model_start", *args, **kwargs)

    def on_llm_new_token(self, *args: Any, **kwargs: Any) -> None:
        self._keep("on_llm_new_token", *args, **kwargs)

    def on_llm_end(self, *args: Any, **kwargs: Any) -> None:
        self._keep("on_llm_end", *args, **kwargs)

    def on_llm_error(self, *args: Any, **kwargs: Any) -> None:
        self._keep("on_llm_error", *args, **kwargs)


def traced(llm: ChatMiMo, *, stream: bool = False) -> tuple[list[str], list[str]]:
    """(callback payloads, serialized runs) of one call; a failing call is fine."""
    recorder = Recorder()
    with collect_runs() as collector:
        try:
            if stream:
                list(llm.stream("hi", config={"callbacks": [recorder]}))
            else:
                llm.invoke("hi", config={"callbacks": [recorder]})
        except openai.APIStatusError:
            pass
    runs = [run.model_dump_json() for run in collector.traced_runs]
    return recorder.seen, runs


@pytest.mark.parametrize("stream", [False, True], ids=["invoke", "stream"])
def test_traces_of_a_successful_call_hold_no_key(stream: bool) -> None:
    body = completion()
    fake = FakeMiMo().reply_stream(stream_of(body)) if stream else FakeMiMo().reply_json(body)
    seen, runs = traced(model(fake, temperature=0.1), stream=stream)
    assert any("on_chat_model_start" in event for event in seen)
    assert runs and '"ls_provider":"mimo"' in runs[0]  # tracing metadata is there
    for text in (*seen, *runs):
        assert not leaked(text)


@pytest.mark.parametrize("status", [400, 401, 500])
def test_traces_of_a_failing_call_hold_no_key(status: int) -> None:
    fake = FakeMiMo().reply_json(error_body(status, "Param Incorrect", "model"), status=status)
    seen, runs = traced(model(fake))
    assert any("on_llm_error" in event for event in seen)
    assert runs and f"MiMo API error {status}" in runs[0]
    for text in (*seen, *runs):
        assert not leaked(text)


class EchoEverything(FakeMiMo):
    """A server (or proxy) that echoes the request's headers into whatever it answers."""

    def __init__(self, status: int, *, stream: bool = False) -> None:
        super().__init__()
        self.status = status
        self.stream = stream

    def _answer(self, request: httpx2.Request) -> httpx2.Response:
        self.seen.append(Seen(headers=dict(request.headers), body={}))
        echo = json.dumps(dict(request.headers))
        if self.status != 200:
            body = error_body(self.status, f"Invalid API key {echo}", f"headers: {echo}")
            return httpx2.Response(self.status, json=body, headers={"x-echo": echo})
        answer = completion(content=f"you sent {echo}", reasoning=f"saw {echo}")
        answer["id"] = f"id-{echo}"
        if self.stream:
            return httpx2.Response(
                200,
                content=sse(stream_of(answer)),
                headers={"content-type": "text/event-stream", "x-echo": echo},
            )
        return httpx2.Response(200, json=answer, headers={"x-echo": echo})


@pytest.mark.parametrize("auth_header", ["bearer", "api-key", "both"])
@pytest.mark.parametrize("status", [401, 400, 500])
def test_an_echoed_key_reaches_no_callback_or_trace(status: int, auth_header: str) -> None:
    """LangChain copies error.response's body and headers into on_llm_error's payload."""
    fake = EchoEverything(status)
    seen, runs = traced(model(fake, auth_header=auth_header))
    assert leaked(json.dumps(fake.seen[-1].headers))  # the key was sent, and echoed
    errors = [event for event in seen if "on_llm_error" in event]
    assert errors and "Invalid API key" in errors[0]
    for text in (*seen, *runs):
        assert not leaked(text)


@pytest.mark.parametrize("stream", [False, True], ids=["invoke", "stream"])
def test_an_echoed_key_in_a_successful_answer_is_masked(stream: bool) -> None:
    fake = EchoEverything(200, stream=stream)
    llm = model(fake, auth_header="both")
    seen, runs = traced(llm, stream=stream)
    assert any("you sent" in event for event in seen)  # the echo arrived
    for text in (*seen, *runs):
        assert not leaked(text)
    reply = llm.invoke("hi") if not stream else None
    if reply is not None:
        texts = [str(reply.content), repr(reply.response_metadata), repr(reply.additional_kwargs)]
        assert "you sent" in texts[0]
        assert not leaked(" ".join(texts))


# -- logs ----------------------------------------------------------------------------------

LOGGERS = ("", "openai", "httpx2", "httpcore", "httpx", "langchain_core", "langchain_mimo_video")


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)  # restored after the test
    return caplog


def all_log_text(caplog: pytest.LogCaptureFixture) -> str:
    lines = [caplog.text]
    for record in caplog.records:
        lines.append(repr(record.args))
        lines.append(repr(getattr(record, "headers", "")))
        if record.exc_info:
            lines.extend(traceback.format_exception(*record.exc_info))
    return "\n".join(lines)


def test_debug_logs_of_a_request_with_a_retry_hold_no_key(
    debug_logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openai._base_client as sdk

    monkeypatch.setattr(sdk.time, "sleep", lambda seconds: None)
    fake = FakeMiMo().reply_json(error_body(500, "busy", "retry"), status=500)
    fake.reply_json(completion())
    model(fake, max_retries=1).invoke("hi")
    assert len(fake.seen) == 2
    names = {record.name for record in debug_logs.records}
    assert any(name.startswith("openai") for name in names)  # the SDK logged at DEBUG
    assert any(name.startswith("httpx2") for name in names)  # and so did the HTTP client
    assert not leaked(all_log_text(debug_logs))


@pytest.mark.parametrize("status", [400, 401, 500])
def test_debug_logs_of_a_failing_request_hold_no_key(
    debug_logs: pytest.LogCaptureFixture, status: int
) -> None:
    fake = FakeMiMo().reply_json(error_body(status, "Param Incorrect", "model"), status=status)
    with pytest.raises(openai.APIStatusError):
        try:
            model(fake).invoke("hi")
        except openai.APIStatusError:
            logging.getLogger("app").exception("MiMo call failed")  # what an app would do
            raise
    assert "MiMo call failed" in debug_logs.text
    assert not leaked(all_log_text(debug_logs))


def test_debug_logs_of_a_stream_hold_no_key(debug_logs: pytest.LogCaptureFixture) -> None:
    fake = FakeMiMo().reply_stream(stream_of(completion()))
    assert "".join(str(chunk.content) for chunk in model(fake).stream("hi")) == "Hello."
    assert debug_logs.records
    assert not leaked(all_log_text(debug_logs))


# -- exceptions ----------------------------------------------------------------------------


def failure(fake: FakeMiMo, **kwargs: Any) -> openai.APIStatusError:
    with pytest.raises(openai.APIStatusError) as caught:
        model(fake, **kwargs).invoke("hi")
    return caught.value


def exception_texts(error: BaseException) -> dict[str, str]:
    texts = {
        "str": str(error),
        "repr": repr(error),
        "args": repr(error.args),
        "traceback": "".join(traceback.format_exception(error)),
    }
    if error.__cause__ is not None:
        texts["cause"] = repr(error.__cause__)
    return texts


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, openai.BadRequestError),
        (401, openai.AuthenticationError),
        (500, openai.InternalServerError),
    ],
)
def test_api_errors_hold_no_key(status: int, error: type[Exception]) -> None:
    fake = FakeMiMo().reply_json(
        error_body(status, "Param Incorrect", "messages[0]"), status=status
    )
    caught = failure(fake)
    assert isinstance(caught, error)
    assert "messages[0]" in str(caught)  # the server's detail is there
    for name, text in exception_texts(caught).items():
        assert not leaked(text), name
    assert not leaked(repr(caught.body))


def test_errors_without_a_json_body_hold_no_key() -> None:
    fake = FakeMiMo()
    fake.responses.append(httpx2.Response(502, text="<html>bad gateway</html>"))
    caught = failure(fake)
    for name, text in exception_texts(caught).items():
        assert not leaked(text), name


class EchoingMiMo(FakeMiMo):
    """A server (or proxy) whose 401 body echoes the request headers it got."""

    def _answer(self, request: httpx2.Request) -> httpx2.Response:
        headers = dict(request.headers)
        body = error_body(401, f"Invalid API key {headers.get('api-key')}", f"headers: {headers}")
        return httpx2.Response(401, json=body)


def test_an_error_body_that_echoes_the_headers_does_not_leak_the_key() -> None:
    caught = failure(EchoingMiMo())
    assert "Invalid API key" in str(caught)
    for name in ("str", "repr", "args"):
        assert not leaked(exception_texts(caught)[name]), name


def test_the_failed_request_attached_to_an_error_holds_no_key_in_its_repr() -> None:
    fake = FakeMiMo().reply_json(error_body(401, "Invalid API key", "api-key"), status=401)
    caught = failure(fake)
    assert "[secure]" in repr(caught.request.headers)  # authorization is masked
    assert not leaked(repr(caught.request.headers))


# -- pickles ----------------------------------------------------------------------------------


def test_a_pickled_model_keeps_its_key_and_still_works() -> None:
    """Pickles are for worker processes, so they carry the key (treat them as secrets)."""
    data = pickle.dumps(model(temperature=0.2))
    assert KEY.encode() in data
    clone = pickle.loads(data)
    assert not leaked(repr(clone))
    fake = FakeMiMo().reply_json(completion())
    clone.http_client = fake.clients()["http_client"]
    assert clone.invoke("hi").content == "Hello."
    assert fake.last.headers["authorization"] == f"Bearer {KEY}"


def test_errors_of_a_pickled_model_hold_no_key() -> None:
    clone = pickle.loads(pickle.dumps(model()))
    fake = FakeMiMo().reply_json(error_body(401, "Invalid API key", "api-key"), status=401)
    clone.http_client = fake.clients()["http_client"]
    with pytest.raises(openai.AuthenticationError) as caught:
        clone.invoke("hi")
    for name, text in exception_texts(caught.value).items():
        assert not leaked(text), name


def test_a_model_that_cannot_be_pickled_says_so_without_the_key() -> None:
    llm = model(FakeMiMo())  # its http_client holds locks
    with pytest.raises(TypeError) as caught:
        pickle.dumps(llm)
    for name, text in exception_texts(caught.value).items():
        assert not leaked(text), name


# -- cassettes: what tests/integration_tests/test_cassettes.py does not check ------------------

CASSETTE_FILES = sorted(path for path in CASSETTE_ROOT.rglob("*") if path.is_file())
#: Key shapes with hyphens or underscores too (the other scan needs 16 alphanumerics).
KEY_SHAPE = re.compile(r"\b(?:sk|tp)-[A-Za-z0-9_-]{12,}")
KEPT_RESPONSE_HEADERS = {"content-type", "retry-after", "x-should-retry"}


def cassette_strings(path: Path) -> Iterator[str]:
    """Every string in a cassette: raw text, gzip content, YAML values, binary and JSON bodies."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8", "replace")
    yield text
    if path.suffix not in (".yaml", ".yml", ".json"):
        return
    stack: list[Any] = [json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, bytes):  # a !!binary body, maybe gzip-compressed
            if item[:2] == b"\x1f\x8b":
                item = gzip.decompress(item)
            stack.append(item.decode("utf-8", "replace"))
        elif isinstance(item, str):
            yield item
            stripped = item.strip()
            if stripped[:1] in ("{", "["):
                with contextlib.suppress(ValueError):  # a JSON body, its escapes decoded
                    stack.append(json.loads(stripped))
            elif re.fullmatch(r"[A-Za-z0-9+/]{24,}={0,2}", stripped):
                with contextlib.suppress(ValueError):  # a base64 blob
                    stack.append(base64.b64decode(stripped, validate=True))


def test_there_are_cassettes_to_scan() -> None:
    assert len(CASSETTE_FILES) >= 50  # every file under cassettes/, whatever its type


@pytest.mark.parametrize(
    "path", CASSETTE_FILES, ids=lambda path: str(path.relative_to(CASSETTE_ROOT))
)
def test_cassette_holds_no_key_anywhere(path: Path) -> None:
    secrets = [REPLAY_KEY, CONTRACT_SERVER_KEY, KEY, TP_KEY]
    if os.environ.get("MIMO_API_KEY"):
        secrets.append(os.environ["MIMO_API_KEY"])
    for text in cassette_strings(path):
        assert not KEY_SHAPE.search(text), f"a key-shaped string: {KEY_SHAPE.search(text)}"
        assert not re.search(r"\bBearer\s+\S", text), "an Authorization value"
        for secret in secrets:  # as a whole token, so "latest-keyframe" is not "test-key"
            assert not re.search(rf"(?<![\w-]){re.escape(secret)}(?![\w-])", text), secret


@pytest.mark.parametrize(
    "path",
    [path for path in CASSETTE_FILES if path.suffix in (".yaml", ".yml")],
    ids=lambda path: str(path.relative_to(CASSETTE_ROOT)),
)
def test_cassette_response_headers_are_only_the_kept_ones(path: Path) -> None:
    for interaction in yaml.safe_load(path.read_text())["interactions"]:
        headers = {name.lower() for name in interaction["response"]["headers"]}
        assert headers <= KEPT_RESPONSE_HEADERS


def test_recording_with_the_canary_key_stores_no_trace_of_it(tmp_path: Path) -> None:
    """Record through the project's scrubbers; the response sets key-bearing headers too."""
    fake = FakeMiMo().reply_json(
        completion(),
        headers={"set-cookie": f"session={KEY}", "x-echo-api-key": KEY, "retry-after": "0"},
    )
    recorder = vcr.VCR(
        record_mode="all",
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        decode_compressed_response=True,
    )
    recorder.register_persister(ProvenancePersister)
    cassette_path = tmp_path / "canary.yaml"
    with recorder.use_cassette(str(cassette_path)):
        model(fake, default_headers={"x-api-key": KEY}).invoke("hi")
    assert fake.last.headers["authorization"] == f"Bearer {KEY}"  # the key was really sent
    text = cassette_path.read_text()
    assert "Hello." in text  # the interaction was recorded
    assert not leaked(text)
    for item in cassette_strings(cassette_path):
        assert not leaked(item)


# -- scrub: values, not field names; short placeholders are no key -------------------------


def test_a_short_placeholder_key_leaves_field_names_and_text_alone() -> None:
    # Before: with api_key="k", token_usage came back as "to***en_usage" and
    # completion_tokens as "completion_to***ens".
    fake = FakeMiMo().reply_json(completion(content="kinky kites"))
    llm = ChatMiMo(api_key="k", max_retries=0, **fake.clients())
    reply = llm.invoke("hi")
    usage = reply.response_metadata["token_usage"]
    assert "completion_tokens" in usage and "prompt_tokens" in usage
    assert reply.content == "kinky kites"


@pytest.mark.parametrize(
    "secret", ["sk-0123456789abcdef0123456789abcdef", "tp-eightch", "12345678"]
)
def test_a_real_length_key_is_masked_everywhere_in_values_and_keys(secret: str) -> None:
    payload = {
        "error": {"message": f"bad key {secret}!", "param": [f"Bearer {secret}", secret]},
        f"echo-{secret}": b"raw " + secret.encode(),
    }
    clean = scrub(payload, secret)
    assert secret not in repr(clean)
    assert clean["error"]["message"] == "bad key ***!"
    assert clean["error"]["param"] == ["Bearer ***", "***"]
    assert clean["echo-***"] == b"raw ***"


def test_a_short_secret_is_masked_as_a_whole_value_only() -> None:
    payload = {"key": "k", "token_usage": {"completion_tokens": 3}, "note": "kept", "b": b"k"}
    assert scrub(payload, "k") == {
        "key": "***",
        "token_usage": {"completion_tokens": 3},
        "note": "kept",
        "b": b"***",
    }
    assert scrub("k", "k") == "***"
    assert scrub("sk-abc", "sk-abc") == "***"
    assert scrub("xsk-abcx", "sk-abc") == "xsk-abcx"
    assert MIN_SECRET_LENGTH == 8


def test_scrub_keeps_bytes_that_are_not_utf8() -> None:
    secret = "sk-0123456789abcdef"
    raw = b"\xff\xfe " + secret.encode() + b" \x80"
    assert scrub(raw, secret) == b"\xff\xfe *** \x80"
