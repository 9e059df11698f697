"""``mimo-video`` through ``main()`` against servers on loopback.

The contract server (tests/mimo_server) answers as MiMo documents; a small hostile server
answers what no contract allows (HTML, broken JSON, error envelopes inside a 200, broken
streams). Every request the CLI makes goes to 127.0.0.1, and the servers' logs show what
was sent, or that nothing was.
"""

from __future__ import annotations

import io
import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from langchain_mimo_video import cli
from langchain_mimo_video._cli_output import summarise
from tests.mimo_server import MiMoContractServer

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

VIDEOS = Path(__file__).parents[1] / "data" / "videos"
KEY = "sk-cli-servers-0123456789abcdef"


def run(argv: list[str], **chat_params: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, stdout=out, stderr=err, **chat_params)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def server() -> Iterator[MiMoContractServer]:
    with MiMoContractServer(api_key=KEY) as running:
        yield running


@pytest.fixture
def mimo(server: MiMoContractServer) -> MiMoContractServer:
    server.reset()
    return server


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "mimo.key"
    path.write_text(KEY + "\n")
    return path


def connect(server: MiMoContractServer, key_file: Path) -> list[str]:
    """The command-line options that point the CLI at ``server`` with the key from a file."""
    return ["--base-url", server.base_url, "--api-key-file", str(key_file)]


@pytest.fixture(autouse=True)
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIMO_API_KEY", raising=False)
    monkeypatch.delenv("MIMO_BASE_URL", raising=False)


# -- every input is checked before anything is sent ----------------------------------


@pytest.mark.parametrize("command", ["describe", "estimate"])
def test_every_bad_video_is_reported_at_once_and_nothing_is_sent(
    command: str, mimo: MiMoContractServer, key_file: Path, tmp_path: Path
) -> None:
    not_a_video = tmp_path / "notes.mp4"
    not_a_video.write_text("meeting notes, not a video")
    videos = [str(VIDEOS / "kitten.mp4"), "tpyo.mp4", str(VIDEOS / "clip.mov"), str(not_a_video)]

    code, out, err = run([command, *videos, *connect(mimo, key_file)])

    assert code == cli.EXIT_BAD_VIDEO
    assert out == ""  # no answer, no estimate: the run stopped before any of them
    lines = err.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("mimo-video: Video file not found: tpyo.mp4")
    assert lines[1].startswith("mimo-video: ") and str(not_a_video) in lines[1]
    assert "not a video container" in lines[1]
    assert lines[2] == "mimo-video: 2 of 4 videos cannot be used; nothing was sent."
    assert mimo.requests == []


def test_good_videos_are_all_sent_when_every_one_checks_out(
    mimo: MiMoContractServer, key_file: Path
) -> None:
    videos = [str(VIDEOS / "kitten.mp4"), str(VIDEOS / "clip.mov"), str(VIDEOS / "clip.avi")]
    code, out, err = run(["describe", *videos, "--no-thinking", *connect(mimo, key_file)])
    assert code == 0, err
    assert len(mimo.chat_requests) == 3
    assert out.count("== ") == 3
    assert err.count("[tokens:") == 3


def test_a_web_address_without_its_scheme_gets_a_hint(
    mimo: MiMoContractServer, key_file: Path
) -> None:
    code, _, err = run(["describe", "example.com/v.mp4", *connect(mimo, key_file)])
    assert code == cli.EXIT_BAD_VIDEO
    assert "https://example.com/v.mp4" in err
    assert mimo.requests == []


def test_a_home_relative_path_is_expanded(
    mimo: MiMoContractServer, key_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    shutil.copy(VIDEOS / "kitten.mp4", tmp_path / "clip.mp4")
    code, out, err = run(["describe", "~/clip.mp4", *connect(mimo, key_file)])
    assert code == 0, err
    assert "Video 1: 2.0 s, 160x90" in out
    assert len(mimo.chat_requests) == 1


# -- --dry-run prints what is sent -------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_dry_run_prints_exactly_the_request_that_is_sent(
    stream: bool, mimo: MiMoContractServer, key_file: Path
) -> None:
    argv = ["describe", str(VIDEOS / "traffic.mp4"), "-q", "Colours?", "--max-tokens", "400"]
    argv += ["--stream"] * stream + connect(mimo, key_file)

    code, out, _ = run([*argv, "--dry-run", "--json"])
    assert code == 0
    assert mimo.requests == []
    shown = json.loads(out)
    assert shown["url"] == f"{mimo.base_url}/chat/completions"

    code, _, err = run(argv)
    assert code == 0, err
    sent = mimo.chat_requests[-1].body
    assert shown["request"] == summarise(sent)
    if stream:
        assert sent["stream"] is True
        assert sent["stream_options"] == {"include_usage": True}
    else:
        assert "stream" not in shown["request"]


def test_dry_run_text_names_the_base_url_and_never_the_key(
    mimo: MiMoContractServer, key_file: Path
) -> None:
    code, out, err = run(
        ["describe", str(VIDEOS / "clip.mov"), "--dry-run", "--stream", *connect(mimo, key_file)]
    )
    assert code == 0
    assert out.startswith(f"POST {mimo.base_url}/chat/completions\n")
    assert '"stream": true' in out
    assert '"include_usage": true' in out
    assert KEY not in out + err


# -- --base-url and --api-key-file -----------------------------------------------------


def test_key_from_a_file_reaches_the_server_and_is_never_printed(
    mimo: MiMoContractServer, key_file: Path
) -> None:
    code, out, err = run(["describe", str(VIDEOS / "kitten.mp4"), *connect(mimo, key_file)])
    assert code == 0, err
    assert mimo.chat_requests[0].status == 200  # the server accepted the key
    assert KEY not in out + err


def test_key_from_stdin(mimo: MiMoContractServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"  {KEY}  \n"))
    argv = ["describe", str(VIDEOS / "kitten.mp4"), "--base-url", mimo.base_url]
    code, _, err = run([*argv, "--api-key-file", "-"])
    assert code == 0, err
    assert len(mimo.chat_requests) == 1


def test_a_wrong_key_from_a_file_is_an_api_error_that_does_not_show_it(
    mimo: MiMoContractServer, tmp_path: Path
) -> None:
    wrong = "sk-wrong-key-fedcba9876543210"
    (tmp_path / "k").write_text(wrong)
    argv = ["describe", str(VIDEOS / "kitten.mp4"), "--base-url", mimo.base_url]
    code, out, err = run([*argv, "--api-key-file", str(tmp_path / "k")], max_retries=0)
    assert code == cli.EXIT_API_ERROR
    assert "MiMo API error 401" in err
    assert len(err.splitlines()) == 1
    assert wrong not in out + err


def test_unreachable_base_url_is_named(key_file: Path) -> None:
    argv = ["describe", str(VIDEOS / "kitten.mp4"), "--base-url", "http://127.0.0.1:9/v1"]
    code, _, err = run([*argv, "--api-key-file", str(key_file)], max_retries=0)
    assert code == cli.EXIT_API_ERROR
    assert len(err.splitlines()) == 1
    assert "http://127.0.0.1:9/v1" in err
    assert "--base-url" in err


# -- estimate of a video that cannot be measured -----------------------------------------

UNREACHABLE = "http://127.0.0.1:9/video.mp4"  # nothing listens on port 9


def test_estimate_of_an_unreachable_url_is_incomplete_and_fails() -> None:
    code, out, err = run(["estimate", UNREACHABLE, str(VIDEOS / "kitten.mp4")])
    assert code == cli.EXIT_BAD_VIDEO
    first = out.split("== ")[1]
    assert f"not measured: the video at {UNREACHABLE}" in first
    assert "price: INCOMPLETE" in first
    assert "price: INCOMPLETE" not in out.split("== ")[2]  # the kitten was measured
    assert "1 of 2 videos could not be measured" in err
    assert "--allow-incomplete" in err


def test_estimate_allow_incomplete_exits_0_and_json_says_so() -> None:
    code, out, err = run(["estimate", UNREACHABLE, "--allow-incomplete", "--json"])
    assert code == 0
    assert err == ""
    record = json.loads(out)
    assert record["complete"] is False
    assert record["video_tokens"] == 0
    assert record["unmeasured"][0].startswith(f"the video at {UNREACHABLE}")


# -- answers that break: one line, exit 1, never a traceback ---------------------------


def test_a_stream_cut_mid_way_exits_1_with_one_line(
    mimo: MiMoContractServer, key_file: Path
) -> None:
    mimo.enqueue_fault("stream_cut", after_chunks=4)
    argv = ["describe", str(VIDEOS / "kitten.mp4"), "--stream", "--show-reasoning"]
    code, out, err = run([*argv, *connect(mimo, key_file)], max_retries=0)
    assert code == cli.EXIT_API_ERROR  # not 2 ("bad arguments")
    assert err.count("\n") == 1
    assert err.startswith("mimo-video: ")
    # a stream cut: the package's StreamInterruptedError, or the connection error under it
    assert "ended before it was finished" in err or "connection" in err.lower()
    assert out.startswith("[reasoning]\n")  # what arrived was shown
    assert out.endswith("\n")  # and its line ended before the error


_ERROR_ENVELOPE = {"error": {"code": "400", "message": "Param Incorrect", "param": "model"}}
BROKEN: dict[str, tuple[str, bytes]] = {
    "html": ("text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
    "bad-json": ("application/json", b'{"id": "x", "choices": ['),
    "empty-object": ("application/json", b"{}"),
    "no-choices": ("application/json", b'{"id": "x", "object": "chat.completion", "choices": []}'),
    "error-in-200": ("application/json", json.dumps(_ERROR_ENVELOPE).encode()),
    "null": ("application/json", b"null"),
    "list": ("application/json", b"[1, 2, 3]"),
    "sse-bad-json": ("text/event-stream", b"data: {this is not json\n\ndata: [DONE]\n\n"),
    "sse-error": (
        "text/event-stream",
        f"data: {json.dumps(_ERROR_ENVELOPE)}\n\ndata: [DONE]\n\n".encode(),
    ),
}


class _Hostile(BaseHTTPRequestHandler):
    """Answers ``POST /<case>/v1/chat/completions`` with ``BROKEN[case]``, status 200."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        content_type, body = BROKEN[self.path.split("/")[1]]
        self.server.hits += 1  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def hostile() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    httpd.hits = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield httpd
    httpd.shutdown()
    thread.join()
    httpd.server_close()


@pytest.mark.parametrize("stream", [False, True], ids=["invoke", "stream"])
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_answer_exits_1_with_one_line(
    case: str, stream: bool, hostile: ThreadingHTTPServer, key_file: Path
) -> None:
    port = hostile.server_address[1]
    before = hostile.hits  # type: ignore[attr-defined]
    argv = (
        ["describe", str(VIDEOS / "clip.mov"), "--stream"]
        if stream
        else ["describe", str(VIDEOS / "clip.mov")]
    )
    argv += ["--base-url", f"http://127.0.0.1:{port}/{case}/v1", "--api-key-file", str(key_file)]

    code, _, err = run(argv, max_retries=0)

    assert hostile.hits == before + 1  # type: ignore[attr-defined]
    assert code == cli.EXIT_API_ERROR, err
    assert err.count("\n") == 1, err
    assert err.startswith("mimo-video: ")
    assert "Traceback" not in err
    assert KEY not in err
