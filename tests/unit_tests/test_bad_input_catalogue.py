"""A catalogue of documented limits and malformed inputs, each refused early with a typed error.

Every case must raise a subclass of :class:`MiMoError` whose message names the rule or the
fix. Every case that is a message input is sent through a real ``ChatMiMo`` (invoke,
stream and ainvoke) pointed at a local ``MiMoContractServer`` on loopback, and the server's
request log must stay empty: the input is refused before anything is sent.
"""

from __future__ import annotations

import base64
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import (
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)
from pytest_socket import SocketConnectBlockedError

from langchain_mimo_video import (
    ChatMiMo,
    MiMoError,
    MissingAPIKeyError,
    UnsupportedContentError,
    VideoLoader,
    VideoSourceError,
    VideoTooLargeError,
    VideoValidationError,
)
from langchain_mimo_video.limits import MAX_BASE64_BYTES
from langchain_mimo_video.video import validate_video_url
from tests.mimo_server import MiMoContractServer

# Unit tests get no sockets (tests/conftest.py), except this module, which talks to a
# contract server on loopback only (test_only_loopback_is_reachable proves the policy).
pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

VIDEOS = Path(__file__).parents[1] / "data" / "videos"
PORTRAIT_MP4 = (VIDEOS / "portrait.mp4").read_bytes()
URL = "https://example.com/clip.mp4"
PNG_URL = "https://example.com/frame.png"
MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


Messages = Callable[[], list[BaseMessage]]


def video(url: Any = URL, **fields: Any) -> dict[str, Any]:
    """A native MiMo video part with ``fields`` beside ``video_url``."""
    return {"type": "video_url", "video_url": {"url": url}, **fields}


def ask(*parts: Any) -> Messages:
    """A message factory (built lazily: some cases hold 50 MB of text)."""
    return lambda: [HumanMessage(content=[*parts, {"type": "text", "text": "What happens?"}])]


def over_the_base64_limit() -> list[BaseMessage]:
    header = "data:video/mp4;base64,"
    payload = "A" * (MAX_BASE64_BYTES - len(header) + 4)  # 4 characters over the limit
    return ask(video(header + payload))()


def padding_at_a_decode_piece_boundary() -> list[BaseMessage]:
    # The validator decodes base64 in 4 MiB pieces; '==' ending the first piece and
    # more data after it is broken base64 (MiMo and the contract server refuse it).
    payload = "A" * (4 * 1024 * 1024 - 4) + "AA==" + "AAAA"
    return ask(video("data:video/mp4;base64," + payload))()


@dataclass(frozen=True)
class MessageCase:
    messages: Messages
    error: type[MiMoError]
    fragment: str  # a regular expression searched in the message


def case(
    case_id: str, messages: Messages, error: type[MiMoError], fragment: str, *marks: Any
) -> Any:
    return pytest.param(MessageCase(messages, error, fragment), id=case_id, marks=marks)


V = VideoValidationError
U = UnsupportedContentError
RANGE = r"is outside MiMo's range \[0\.1, 10"
NOT_A_NUMBER = r"fps must be a number between 0\.1 and 10"
RESOLUTIONS = r"is not one of \['default', 'max'\]: use 'default' \(balanced\) or 'max'"
HTTP_ONLY = r"only from http\(s\) URLs.*For a local file pass its path to VideoLoader"
TOOL_TEXT_ONLY = r"accepts only text in a tool message"

MESSAGE_CASES = [
    # fps: a number in [0.1, 10]
    case("fps-0", ask(video(fps=0)), V, r"fps=0 " + RANGE),
    case("fps-0.09", ask(video(fps=0.09)), V, r"fps=0\.09 " + RANGE),
    case("fps-10.5", ask(video(fps=10.5)), V, r"fps=10\.5 " + RANGE),
    case("fps-negative", ask(video(fps=-1)), V, r"fps=-1 " + RANGE),
    case("fps-nan", ask(video(fps=float("nan"))), V, r"fps=nan " + RANGE),
    case("fps-inf", ask(video(fps=float("inf"))), V, r"fps=inf " + RANGE),
    case("fps-string", ask(video(fps="2")), V, NOT_A_NUMBER + r".*got '2' of type str"),
    case("fps-bool", ask(video(fps=True)), V, NOT_A_NUMBER + r".*got True of type bool"),
    case("fps-list", ask(video(fps=[2])), V, NOT_A_NUMBER + r".*of type list"),
    case("fps-in-extras-11", ask({"type": "video", "url": URL, "extras": {"fps": 11}}), V, RANGE),
    # media_resolution: "default" or "max"
    case("resolution-high", ask(video(media_resolution="high")), V, "'high' " + RESOLUTIONS),
    case("resolution-empty", ask(video(media_resolution="")), V, "'' " + RESOLUTIONS),
    case("resolution-upper-case", ask(video(media_resolution="MAX")), V, "'MAX' " + RESOLUTIONS),
    # fps / media_resolution inside video_url instead of beside it
    case(
        "fps-inside-video_url",
        ask({"type": "video_url", "video_url": {"url": URL, "fps": 2}}),
        V,
        r"fps must sit beside 'video_url' in a MiMo video part, not inside it",
    ),
    case(
        "resolution-inside-video_url",
        ask({"type": "video_url", "video_url": {"url": URL, "media_resolution": "max"}}),
        V,
        r"media_resolution must sit beside 'video_url'",
    ),
    case(
        "video_url-not-an-object",
        ask({"type": "video_url", "video_url": 42}),
        V,
        r"needs a 'video_url' object with a 'url'",
    ),
    # URL schemes: http(s) only
    case("scheme-ftp", ask(video("ftp://example.com/clip.mp4")), V, HTTP_ONLY),
    case("scheme-file", ask(video("file:///tmp/clip.mp4")), V, HTTP_ONLY),
    case("scheme-s3", ask(video("s3://bucket/clip.mp4")), V, HTTP_ONLY),
    case("relative-path-as-url", ask(video("clips/clip.mp4")), V, HTTP_ONLY),
    case("absolute-path-as-url", ask(video("/srv/clip.mp4")), V, HTTP_ONLY),
    case("empty-url", ask(video("")), V, r"A video URL must be a non-empty string"),
    case("https-without-host", ask(video("https://")), V, r"host"),
    # data URLs: video/* MIME type, base64, clean, not empty, at most 50 MB
    case(
        "data-url-image-mime",
        ask(video("data:image/png;base64,iVBORw0KGgo=")),
        V,
        r"must have a video MIME type \(e\.g\. video/mp4\), got 'image/png'",
    ),
    case("data-url-no-mime", ask(video("data:;base64,AAAA")), V, r"video MIME type.*got 'none'"),
    case(
        "data-url-not-base64",
        ask(video("data:video/mp4,AAAA")),
        V,
        r"only base64-encoded: 'data:video/mp4;base64,<base64>'",
    ),
    case("data-url-no-comma", ask(video("data:video/mp4;base64AAAA")), V, r"no ',' after"),
    case(
        "base64-bad-character",
        ask(video("data:video/mp4;base64,AA*A")),
        V,
        r"base64 is broken near character \d+.*Re-encode the file with standard base64",
    ),
    case(
        "base64-bad-length",
        ask(video("data:video/mp4;base64,AAAAA")),
        V,
        r"its length \(5 characters\) is not a multiple of 4",
    ),
    case("base64-padding-inside", ask(video("data:video/mp4;base64,AA==AAAA")), V, r"is broken"),
    case("base64-empty-payload", ask(video("data:video/mp4;base64,")), V, r"an empty payload"),
    case(
        "base64-over-50MB",
        over_the_base64_limit,
        VideoTooLargeError,
        r"over MiMo's 50 MB limit for base64 video\. Pass a public http\(s\) URL instead",
    ),
    case(
        "base64-padding-at-4MiB-boundary",
        padding_at_a_decode_piece_boundary,
        V,
        r"base64 is broken",
    ),
    # standard blocks
    case(
        "video-file_id",
        ask({"type": "video", "file_id": "file-123"}),
        U,
        r"cannot read videos by file id.*no file store\. Pass a public URL",
    ),
    case(
        "file-block-video-file_id",
        ask({"type": "file", "file_id": "file-123", "mime_type": "video/mp4"}),
        U,
        r"no file store",
    ),
    case("image-file_id", ask({"type": "image", "file_id": "file-9"}), U, r"no file store"),
    case(
        "video-base64-without-mime",
        ask({"type": "video", "base64": "AAAA"}),
        V,
        r"base64 video block needs its 'mime_type' \(e\.g\. 'video/mp4'\)",
    ),
    case(
        "video-without-source",
        ask({"type": "video"}),
        V,
        r"needs a 'url' or 'base64' \+ 'mime_type' field",
    ),
    case(
        "pdf-file-block",
        ask({"type": "file", "base64": "JVBERi0xLjQK", "mime_type": "application/pdf"}),
        U,
        r"file blocks of type 'application/pdf'.*Extract the text yourself",
    ),
    # media where MiMo takes only text
    case(
        "image-in-tool-message",
        lambda: [
            HumanMessage("Look."),
            ToolMessage(content=[{"type": "image", "url": PNG_URL}], tool_call_id="call_1"),
        ],
        U,
        TOOL_TEXT_ONLY + r", but it holds a 'image' block",
    ),
    case(
        "image_url-in-tool-message",
        lambda: [
            HumanMessage("Look."),
            ToolMessage(
                content=["see", {"type": "image_url", "image_url": {"url": PNG_URL}}],
                tool_call_id="call_1",
            ),
        ],
        U,
        TOOL_TEXT_ONLY + r".*Describe the media in text",
    ),
    case(
        "video-in-tool-message",
        lambda: [HumanMessage("Look."), ToolMessage(content=[video()], tool_call_id="call_1")],
        U,
        TOOL_TEXT_ONLY + r", but it holds a 'video_url' block",
    ),
    case(
        "video-in-system-message",
        lambda: [SystemMessage(content=[video()]), HumanMessage("What happens?")],
        U,
        r"accepts only text in a system message",
    ),
    case(
        "remove-message",
        lambda: [RemoveMessage(id="m1")],
        U,
        r"RemoveMessage cannot be sent to MiMo; use HumanMessage",
    ),
    # references to stored videos (MediaStore)
    case(
        "reference-without-a-store",
        ask({"type": "video", "file_id": "mimo-media:" + "a" * 64, "mime_type": "video/mp4"}),
        VideoSourceError,
        r"no MediaStore was given to resolve it",
    ),
    case(
        "reference-with-a-path-for-an-id",
        ask({"type": "video", "file_id": "mimo-media:../etc/passwd", "mime_type": "video/mp4"}),
        VideoSourceError,
        r"'\.\./etc/passwd' is not a MediaStore id: an id is the SHA-256",
    ),
]


# -- the contract server --------------------------------------------------------------


@pytest.fixture(scope="module")
def contract_server() -> Iterator[MiMoContractServer]:
    with MiMoContractServer(api_key="catalogue-key") as server:
        yield server


@pytest.fixture
def server(contract_server: MiMoContractServer) -> MiMoContractServer:
    contract_server.reset()
    return contract_server


@pytest.fixture
def llm(server: MiMoContractServer) -> ChatMiMo:
    return ChatMiMo(api_key=server.api_key, base_url=server.base_url, max_retries=0, timeout=20)


@pytest.mark.filterwarnings("ignore:A test tried to use socket:UserWarning")
def test_only_loopback_is_reachable() -> None:
    """pytest-socket honours this module's allow_hosts mark under the repo's conftest."""
    with pytest.raises(SocketConnectBlockedError):
        socket.create_connection(("192.0.2.1", 80), timeout=0.1)  # TEST-NET-1, never routed


def test_control_a_valid_message_reaches_the_server(
    llm: ChatMiMo, server: MiMoContractServer
) -> None:
    """Without this, 'no request arrived' below could pass for a dead server."""
    part = VideoLoader().load(VIDEOS / "portrait.mp4")
    reply = llm.invoke([HumanMessage(content=[part, "What happens?"])])
    assert 'Question: "What happens?"' in str(reply.content)
    assert [request.status for request in server.chat_requests] == [200]


def test_null_fps_and_media_resolution_mean_the_default(
    llm: ChatMiMo, server: MiMoContractServer
) -> None:
    """``None`` is not an error: like the contract says, it means the default."""
    url = VideoLoader().load(VIDEOS / "portrait.mp4")["video_url"]["url"]
    llm.invoke(ask(video(url, fps=None, media_resolution=None))())
    (request,) = server.chat_requests
    sent = request.body["messages"][0]["content"][0]
    assert sent == {
        "type": "video_url",
        "video_url": {"url": url},
        "fps": 2.0,
        "media_resolution": "default",
    }
    assert request.status == 200


# -- the catalogue: message inputs -------------------------------------------------------


@pytest.mark.parametrize("case", MESSAGE_CASES)
def test_bad_message_fails_before_any_request(
    case: MessageCase, llm: ChatMiMo, server: MiMoContractServer
) -> None:
    with pytest.raises(case.error, match=case.fragment) as caught:
        llm.invoke(case.messages())
    assert isinstance(caught.value, MiMoError)
    assert server.chat_requests == []
    with pytest.raises(case.error, match=case.fragment):
        list(llm.stream(case.messages()))
    assert server.requests == []


@pytest.mark.parametrize("case", MESSAGE_CASES)
async def test_bad_message_fails_before_any_request_async(
    case: MessageCase, llm: ChatMiMo, server: MiMoContractServer
) -> None:
    with pytest.raises(case.error, match=case.fragment):
        await llm.ainvoke(case.messages())
    assert server.requests == []


def test_base64_limit_is_inclusive() -> None:
    """The 50 MB limit counts the whole data URL; exactly at the limit is still fine."""
    header = "data:video/quicktime;base64,"  # 28 characters: the payload stays a multiple of 4
    at_limit = header + "A" * (MAX_BASE64_BYTES - len(header))
    assert len(at_limit) == MAX_BASE64_BYTES and len(at_limit[len(header) :]) % 4 == 0
    assert validate_video_url(at_limit) is at_limit
    with pytest.raises(VideoTooLargeError) as caught:
        validate_video_url(at_limit + "AAAA")
    assert (caught.value.size, caught.value.limit) == (MAX_BASE64_BYTES + 4, MAX_BASE64_BYTES)


# -- the catalogue: missing key and model options -----------------------------------------


@pytest.mark.parametrize("key", [None, ""], ids=["no-key", "empty-key"])
def test_missing_api_key(
    key: str | None, server: MiMoContractServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MIMO_API_KEY", raising=False)
    llm = ChatMiMo(api_key=key, base_url=server.base_url, max_retries=0)
    with pytest.raises(MissingAPIKeyError, match=r"set the MIMO_API_KEY environment variable"):
        llm.invoke("Say hello.")
    with pytest.raises(MissingAPIKeyError, match=r"api_key=\.\.\."):
        list(llm.stream("Say hello."))
    assert server.requests == []


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        pytest.param(
            {"video_fps": 12},
            r"fps=12(\.0)? is outside MiMo's range",
            id="video_fps-12",
        ),
        pytest.param(
            {"video_fps": 0},
            r"is outside MiMo's range",
            id="video_fps-0",
        ),
        pytest.param(
            {"video_fps": float("nan")},
            r"is outside MiMo's range",
            id="video_fps-nan",
        ),
        pytest.param(
            {"video_media_resolution": "high"},
            r"'default' \(balanced\) or 'max'",
            id="video_media_resolution-high",
        ),
        pytest.param(
            {"video_fps": True},
            r"fps must be a number",
            id="video_fps-bool",
        ),
        pytest.param(
            {"video_fps": "2"},
            r"fps must be a number",
            id="video_fps-string",
        ),
    ],
)
def test_bad_model_defaults(options: dict[str, Any], fragment: str) -> None:
    with pytest.raises(VideoValidationError, match=fragment):
        ChatMiMo(api_key="catalogue-key", **options)


# -- the catalogue: VideoLoader sources and options -----------------------------------------


@dataclass(frozen=True)
class SourceCase:
    source: Callable[[Path], Any]  # gets a fresh tmp_path
    error: type[MiMoError]
    fragment: str
    loader: dict[str, Any] | None = None
    load: dict[str, Any] | None = None


def write(name: str, data: bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        (folder / name).write_bytes(data)
        return folder / name

    return make


def sparse_mp4(size: int) -> Callable[[Path], Path]:
    """A file of ``size`` bytes that starts like an MP4; no disk blocks are written."""

    def make(folder: Path) -> Path:
        path = folder / "huge.mp4"
        path.write_bytes(MP4_HEAD)
        os.truncate(path, size)
        return path

    return make


def source_case(
    case_id: str,
    source: Callable[[Path], Any],
    error: type[MiMoError],
    fragment: str,
    loader: dict[str, Any] | None = None,
    load: dict[str, Any] | None = None,
) -> Any:
    return pytest.param(SourceCase(source, error, fragment, loader, load), id=case_id)


def value_of(value: Any) -> Callable[[Path], Any]:
    return lambda folder: value


NOT_A_CONTAINER = r"is not a video container MiMo can read"

SOURCE_CASES = [
    source_case(
        "file-over-50MB-as-base64",
        sparse_mp4(40_000_000),
        VideoTooLargeError,
        r"is 40\.0 MB; as base64 it would be 53\.3 MB, over MiMo's 50 MB limit.*http\(s\) URL",
        loader={"fit": False},
    ),
    source_case(
        "file-over-50MB-fit-cannot-decode",
        sparse_mp4(40_000_000),
        MiMoError,  # fit=True tries to re-encode it; it only starts like an MP4
        r"not a video|PyAV",
    ),
    source_case(
        "file-over-max_bytes",
        write("small.mp4", (VIDEOS / "portrait.mp4").read_bytes()),
        VideoTooLargeError,
        r"over this loader's max_bytes of 0\.0 MB",
        loader={"max_bytes": 1000},
    ),
    source_case(
        "missing-file",
        lambda folder: folder / "missing.mp4",
        VideoSourceError,
        r"Video file not found: .*missing\.mp4\. Check the path",
    ),
    source_case("folder", lambda folder: folder, VideoSourceError, r"not a regular file|folder"),
    source_case("empty-file", write("empty.mp4", b""), VideoSourceError, r"is empty, not a video"),
    source_case(
        "text-file-named-mp4",
        write("notes.mp4", b"just some text, honestly\n"),
        VideoSourceError,
        NOT_A_CONTAINER + r" \(its name suggests video/mp4\).*convert it to MP4",
    ),
    source_case(
        "png-file",
        write("picture.png", PNG),
        VideoSourceError,
        NOT_A_CONTAINER + r": its content does not start like MP4, MOV, AVI or WMV",
    ),
    source_case(
        "png-bytes", value_of(PNG), VideoSourceError, r"The bytes are not a video container"
    ),
    source_case("empty-bytes", value_of(b""), VideoSourceError, r"^The bytes are empty"),
    source_case(
        "mime_type-image",
        value_of(MP4_HEAD),
        VideoValidationError,
        r"mime_type must be a video type such as 'video/mp4', got 'image/png'",
        load={"mime_type": "image/png"},
    ),
    source_case(
        "int-source",
        value_of(12345),
        VideoSourceError,
        r"Cannot load a video from a int: pass an http\(s\) URL, a data: URL, a path",
    ),
    source_case("loader-ftp-url", value_of("ftp://example.com/clip.mp4"), V, HTTP_ONLY),
    source_case(
        "loader-image-data-url",
        value_of("data:image/png;base64,iVBORw0KGgo="),
        V,
        r"video MIME type.*got 'image/png'",
    ),
    source_case("load-fps-20", value_of(MP4_HEAD), V, r"fps=20 " + RANGE, load={"fps": 20}),
    source_case(
        "load-resolution-ultra",
        value_of(MP4_HEAD),
        V,
        r"'ultra' " + RESOLUTIONS,
        load={"media_resolution": "ultra"},
    ),
    source_case("loader-fps-string", value_of(MP4_HEAD), V, NOT_A_NUMBER, loader={"fps": "1"}),
    source_case("loader-fps-0", value_of(MP4_HEAD), V, r"fps=0 " + RANGE, loader={"fps": 0}),
    source_case(
        "loader-resolution-none",
        value_of(MP4_HEAD),
        V,
        r"None " + RESOLUTIONS,
        loader={"media_resolution": None},
    ),
    # content that starts like a video but is not one: refused by load, not sent to MiMo
    source_case(
        "ftyp-box-then-garbage",
        value_of(PORTRAIT_MP4[:32] + b"\x13" * 5000),
        VideoSourceError,
        r"is not a video PyAV can read",
    ),
    source_case(
        "mp4-cut-short",
        value_of(PORTRAIT_MP4[: len(PORTRAIT_MP4) * 6 // 10]),
        VideoSourceError,
        r"first frame does not decode: the file is damaged or cut short",
    ),
    # what a person types
    source_case(
        "web-address-without-scheme",
        value_of("example.com/v.mp4"),
        VideoSourceError,
        r"write it with its scheme: 'https://example\.com/v\.mp4'",
    ),
    source_case(
        "home-path-with-a-nul-byte",
        value_of("~\x00"),
        VideoSourceError,
        r"Not a usable file name",
    ),
]


@pytest.mark.parametrize("case", SOURCE_CASES)
def test_bad_video_source(case: SourceCase, tmp_path: Path) -> None:
    source = case.source(tmp_path)
    with pytest.raises(case.error, match=case.fragment) as caught:
        VideoLoader(**(case.loader or {})).load(source, **(case.load or {}))
    assert isinstance(caught.value, MiMoError)


def test_oversize_error_carries_size_and_limit(tmp_path: Path) -> None:
    with pytest.raises(VideoTooLargeError) as caught:
        VideoLoader(fit=False).load(sparse_mp4(40_000_000)(tmp_path))
    assert caught.value.limit == MAX_BASE64_BYTES
    assert caught.value.size == len("data:video/mp4;base64,") + 4 * -(-40_000_000 // 3)


def test_the_catalogue_is_big_enough() -> None:
    assert len(MESSAGE_CASES) + len(SOURCE_CASES) >= 25
