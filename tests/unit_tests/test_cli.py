"""Tests for the mimo-video command line (no sockets: answers come from FakeMiMo).

Tests against servers on loopback are in test_cli_servers.py.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tracemalloc
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from langchain_core.exceptions import OutputParserException

from langchain_mimo_video import VideoLoader, _cli_inputs, _request, cli
from langchain_mimo_video.errors import (
    EmptyDescriptionError,
    MiMoError,
    MissingAPIKeyError,
    StreamInterruptedError,
    VideoSourceError,
    VideoTooLargeError,
)
from langchain_mimo_video.store import MediaStore
from tests.unit_tests.by_reference import (
    ChatStarts,
    StreamingTransport,
    padded_video,
    use_temp_root,
)
from tests.unit_tests.fake_transport import FakeMiMo, completion, error_body, stream_of

# A model name the profile table does not know (a self-hosted MiMo-V2.5 under its served
# name), so the body shows the option was passed on; nothing is refused and no model is retired.
SELF_HOSTED = "MiMo-V2.5"

VIDEOS = Path(__file__).parents[1] / "data" / "videos"
KEY = "sk-cli-test-0123456789abcdef"


def run(argv: list[str], **chat_params: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, stdout=out, stderr=err, **chat_params)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIMO_API_KEY", raising=False)


def fake_params(fake: FakeMiMo) -> dict[str, Any]:
    return {"api_key": KEY, "max_retries": 0, **fake.clients()}


# -- estimate ------------------------------------------------------------------------


def test_estimate_needs_no_key(no_key: None) -> None:
    code, out, _ = run(["estimate", str(VIDEOS / "kitten.mp4"), "--fps", "1"])
    assert code == 0
    assert "2.0 s, 160x90, with audio" in out
    assert "2 frames at 160x96" in out
    assert "= 37 tokens" in out
    assert "price:" in out
    assert "CNY" in out


def test_estimate_json(no_key: None) -> None:
    code, out, _ = run(
        [
            "estimate",
            str(VIDEOS / "traffic.mp4"),
            str(VIDEOS / "clip.mov"),
            "--json",
            "--output-tokens",
            "500",
        ]
    )
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [Path(r["video"]).name for r in records] == ["traffic.mp4", "clip.mov"]
    assert records[0]["videos"][0]["frames"] == 12
    assert records[0]["cost"] == pytest.approx((records[0]["input_tokens"] * 1.0 + 500 * 2.0) / 1e6)


def test_estimate_of_a_clip(no_key: None) -> None:
    _, whole, _ = run(["estimate", str(VIDEOS / "traffic.mp4"), "--json"])
    _, clip, _ = run(
        ["estimate", str(VIDEOS / "traffic.mp4"), "--json", "--start", "2", "--end", "4"]
    )
    assert json.loads(clip)["videos"][0]["duration"] == pytest.approx(2.0, abs=0.25)
    assert json.loads(clip)["video_tokens"] < json.loads(whole)["video_tokens"]


# -- describe --------------------------------------------------------------------------


def test_describe_prints_answer_and_usage() -> None:
    fake = FakeMiMo().reply_json(completion(content="A kitten meows.", reasoning="hmm"))
    code, out, err = run(
        ["describe", str(VIDEOS / "kitten.mp4"), "-q", "What is it?"], **fake_params(fake)
    )
    assert code == 0
    assert out.strip() == "A kitten meows."
    assert "[tokens: 20 in (video 0, audio 0, cached 0), 12 out (reasoning 5)]" in err
    content = fake.last.body["messages"][0]["content"]
    assert content[0]["type"] == "video_url"
    assert content[0]["fps"] == 2.0
    assert content[1] == {"type": "text", "text": "What is it?"}


def test_describe_each_video_separately_or_together() -> None:
    fake = FakeMiMo().reply_json(completion(content="ok"))
    videos = [str(VIDEOS / "clip.mov"), str(VIDEOS / "clip.avi")]
    code, out, _ = run(["describe", *videos], **fake_params(fake))
    assert code == 0
    assert len(fake.seen) == 2
    assert out.count("== ") == 2
    together = FakeMiMo().reply_json(completion(content="ok"))
    run(["describe", *videos, "--together"], **fake_params(together))
    assert len(together.seen) == 1
    assert [p["type"] for p in together.last.body["messages"][0]["content"]] == [
        "video_url",
        "video_url",
        "text",
    ]


def test_describe_options_reach_the_request() -> None:
    fake = FakeMiMo().reply_json(completion())
    run(
        [
            "describe",
            str(VIDEOS / "traffic.mp4"),
            "--fps",
            "0.5",
            "--media-resolution",
            "max",
            "--no-thinking",
            "--max-tokens",
            "300",
            "--model",
            SELF_HOSTED,
        ],
        **fake_params(fake),
    )
    body = fake.last.body
    assert body["model"] == SELF_HOSTED
    assert body["thinking"] == {"type": "disabled"}
    assert body["max_completion_tokens"] == 300
    assert body["messages"][0]["content"][0]["fps"] == 0.5
    assert body["messages"][0]["content"][0]["media_resolution"] == "max"


def test_describe_stream_with_reasoning() -> None:
    body = completion(content="Red, then yellow, then green.", reasoning="Looking at colours.")
    fake = FakeMiMo().reply_stream(stream_of(body))
    code, out, err = run(
        ["describe", str(VIDEOS / "traffic.mp4"), "--stream", "--show-reasoning"],
        **fake_params(fake),
    )
    assert code == 0
    assert out == ("[reasoning]\nLooking at colours.\n[answer]\nRed, then yellow, then green.\n")
    assert "[tokens:" in err


def test_describe_json() -> None:
    fake = FakeMiMo().reply_json(completion(content="Green.", reasoning="r"))
    code, out, _ = run(["describe", str(VIDEOS / "portrait.mp4"), "--json"], **fake_params(fake))
    record = json.loads(out)
    assert code == 0
    assert record["answer"] == "Green."
    assert record["reasoning"] == "r"
    assert record["usage"]["output_token_details"] == {"reasoning": 5}


def test_empty_answer_is_explained() -> None:
    fake = FakeMiMo().reply_json(completion(content="", finish_reason="length"))
    code, _, err = run(["describe", str(VIDEOS / "clip.mov")], **fake_params(fake))
    assert code == 0
    assert "finish_reason=length" in err
    assert "--max-tokens" in err


def test_dry_run_needs_no_key_and_summarises_videos(no_key: None) -> None:
    code, out, _ = run(["describe", str(VIDEOS / "clip.mov"), "--dry-run", "-q", "Colour?"])
    assert code == 0
    assert out.startswith("POST https://api.xiaomimimo.com/v1/chat/completions")
    assert "data:video/quicktime;base64,<5,792 base64 characters>" in out
    assert '"text": "Colour?"' in out
    assert "input tokens:" in out
    assert len(out) < 3000  # the video is summarised, not dumped


# -- errors and exit codes -------------------------------------------------------------


def test_missing_key(no_key: None) -> None:
    code, out, err = run(["describe", str(VIDEOS / "clip.mov")])
    assert code == cli.EXIT_NO_KEY
    assert "MIMO_API_KEY" in err
    assert out == ""


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["estimate", "missing.mp4"], cli.EXIT_BAD_VIDEO, "not found"),
        (["estimate", str(VIDEOS / "kitten.mp4"), "--fps", "20"], cli.EXIT_USAGE, "0.1, 10"),
        (["estimate", "ftp://example.com/a.mp4"], cli.EXIT_USAGE, "http"),
        (
            ["estimate", "https://example.com/a.mp4", "--start", "3"],
            cli.EXIT_USAGE,
            "no server-side start/end",
        ),
        (["estimate", str(Path(__file__))], cli.EXIT_BAD_VIDEO, "not a video"),
    ],
)
def test_bad_input_exit_codes(argv: list[str], code: int, message: str) -> None:
    got, _, err = run(argv)
    assert got == code
    assert message in err


def test_bad_arguments_exit_2() -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["describe"], stdout=io.StringIO(), stderr=io.StringIO())
    assert caught.value.code == 2


def test_api_error_exit_1() -> None:
    fake = FakeMiMo().reply_json(error_body(402, "Insufficient balance", "top up"), status=402)
    code, _, err = run(["describe", str(VIDEOS / "clip.mov")], **fake_params(fake))
    assert code == cli.EXIT_API_ERROR
    assert "MiMo API error 402" in err
    assert "top up" in err


def test_a_cut_stream_is_an_api_error_not_bad_arguments() -> None:
    body = completion(content="Red, then yellow.", reasoning="r")
    fake = FakeMiMo().reply_stream(stream_of(body)[:-2], done=False)  # no finish chunk
    code, out, err = run(["describe", str(VIDEOS / "traffic.mp4"), "--stream"], **fake_params(fake))
    assert code == cli.EXIT_API_ERROR
    assert out == "Red, then yellow.\n"
    assert err.startswith("mimo-video: MiMo's streamed answer ended before it was finished")
    assert err.count("\n") == 1


class _BrokenAnswer(MiMoError, openai.APIError):
    """Stands for any API error class of the package: only its bases decide the exit code."""

    def __init__(self) -> None:
        openai.APIError.__init__(
            self, "broken answer", httpx2.Request("POST", "http://127.0.0.1/v1"), body=None
        )


class _BadOption(MiMoError, ValueError):
    """Stands for any bad-input class of the package."""


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (_BrokenAnswer(), cli.EXIT_API_ERROR),
        (_BadOption("fps"), cli.EXIT_USAGE),
        (MissingAPIKeyError("no key"), cli.EXIT_NO_KEY),
        (VideoTooLargeError("big", size=2, limit=1), cli.EXIT_BAD_VIDEO),
        (VideoSourceError("missing"), cli.EXIT_BAD_VIDEO),
        (StreamInterruptedError("cut"), cli.EXIT_API_ERROR),
        (EmptyDescriptionError("empty"), cli.EXIT_API_ERROR),
        (OutputParserException("not JSON"), cli.EXIT_API_ERROR),
    ],
)
def test_exit_codes_follow_the_error_families(error: BaseException, code: int) -> None:
    assert cli.exit_code(error) == code


# -- --version, --help, --api-key-file ------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"mimo-video {version('langchain-mimo-video')}\n"


def test_help_goes_to_the_given_stdout_and_lists_the_new_options() -> None:
    out = io.StringIO()
    with pytest.raises(SystemExit) as caught:
        cli.main(["describe", "--help"], stdout=out, stderr=io.StringIO())
    assert caught.value.code == 0
    text = out.getvalue()
    for option in ("--base-url", "--api-key-file", "--dry-run", "--no-fit", "--stream"):
        assert option in text
    assert "never printed" in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the API key file"),
        ("", "is empty"),
        ("\n  \n", "is empty"),
        ("sk-one\nsk-two\n", "must hold only the key"),
        ("sk-one sk-two", "must hold only the key"),
    ],
)
def test_unusable_key_files_exit_3_without_showing_their_content(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "key"
    if content is not None:
        path.write_text(content)
    code, out, err = run(["describe", str(VIDEOS / "clip.mov"), "--api-key-file", str(path)])
    assert code == cli.EXIT_NO_KEY
    assert message in err
    assert out == ""
    assert "sk-one" not in err


def test_missing_key_gives_command_line_advice(no_key: None) -> None:
    code, _, err = run(["describe", str(VIDEOS / "clip.mov")])
    assert code == cli.EXIT_NO_KEY
    assert "--api-key-file" in err
    assert "api_key=" not in err  # Python advice does not help on a command line


def test_bad_numbers_are_refused_by_the_parser() -> None:
    for argv in (["--max-tokens", "-5"], ["--max-tokens", "0"], ["--fps", "fast"]):
        err = io.StringIO()
        with pytest.raises(SystemExit) as caught:
            cli.main(["describe", str(VIDEOS / "clip.mov"), *argv], stderr=err)
        assert caught.value.code == cli.EXIT_USAGE
        assert argv[0] in err.getvalue()


def test_a_chat_option_the_model_refuses_is_a_usage_error() -> None:
    code, _, err = run(["describe", str(VIDEOS / "clip.mov"), "--dry-run"], temperature="hot")
    assert code == cli.EXIT_USAGE
    assert err.startswith("mimo-video: invalid option: temperature")
    assert err.count("\n") == 1


# -- command-line advice, re-encodes and progress ---------------------------------------


@pytest.fixture
def big_video(tmp_path: Path) -> Path:
    """A file whose base64 is over 50 MB and that starts like an MP4 (sparse: no disk cost)."""
    path = tmp_path / "big.mp4"
    with path.open("wb") as stream:
        stream.write((VIDEOS / "kitten.mp4").read_bytes())
        stream.truncate(38_000_000)
    return path


def test_no_fit_on_a_big_file_gives_command_line_advice(big_video: Path) -> None:
    code, out, err = run(["estimate", str(big_video), "--no-fit"])
    assert code == cli.EXIT_BAD_VIDEO
    assert err.startswith(f"mimo-video: {big_video}: 50.7 MB as base64, over MiMo's 50 MB limit")
    assert "drop --no-fit, or use --start/--end" in err
    assert "VideoLoader" not in err
    assert "fit=True" not in err
    assert out == ""


def test_estimate_says_it_measured_a_fitted_copy(no_key: None) -> None:
    code, out, err = run(["estimate", str(VIDEOS / "kitten.mp4"), "--start", "0", "--end", "1"])
    assert code == 0
    assert "160x96, with audio" in out  # what was measured: the copy that is sent
    assert "fitted copy: 160x96 from 160x90" in out
    assert "--start/--end" in out
    lines = err.splitlines()
    assert lines[0].startswith("mimo-video: re-encoding ")
    assert lines[-1].endswith(" s") and ": done in " in lines[-1]


def test_estimate_json_records_the_fitted_copy(no_key: None) -> None:
    _, out, _ = run(["estimate", str(VIDEOS / "kitten.mp4"), "--end", "1", "--json"])
    video = json.loads(out)["videos"][0]
    assert (video["width"], video["height"]) == (160, 96)
    assert video["reencoded_from"] == {"width": 160, "height": 90, "reason": "--start/--end"}
    _, whole, _ = run(["estimate", str(VIDEOS / "kitten.mp4"), "--json"])
    assert json.loads(whole)["videos"][0]["reencoded_from"] is None


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_re_encode_progress_updates_in_place_on_a_terminal(
    no_key: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_cli_inputs, "PROGRESS_INTERVAL", 0.001)
    err = _Terminal()
    code = cli.main(
        ["estimate", str(VIDEOS / "traffic.mp4"), "--start", "1", "--end", "5"],
        stdout=io.StringIO(),
        stderr=err,
    )
    assert code == 0
    text = err.getvalue()
    assert text.count("\r") >= 2  # at least one update, then the final line
    assert re.search(
        r"\rmimo-video: re-encoding \S+ at MiMo's frame size \(--start/--end\)\.\.\. \d+ s", text
    )
    assert text.endswith(" s\n") and ": done in " in text.rsplit("\r", 1)[1]


# -- pipes ---------------------------------------------------------------------------------


def test_a_closed_output_pipe_ends_quietly(tmp_path: Path) -> None:
    """`mimo-video ... --dry-run | head` when head has exited before the first write."""
    script = Path(sys.executable).with_name("mimo-video")
    argv = [str(script), "describe", *[str(VIDEOS / "clip.mov")] * 3, "--dry-run"]
    env = {key: value for key, value in os.environ.items() if key != "MIMO_API_KEY"}
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before anything is written
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == cli.EXIT_BROKEN_PIPE
    assert "Traceback" not in err
    assert "BrokenPipeError" not in err
    assert err == ""


def test_a_failed_re_encode_says_so_and_is_reported_with_the_rest(no_key: None) -> None:
    code, out, err = run(
        ["estimate", str(VIDEOS / "kitten.mp4"), "missing.mp4", "--start", "5", "--end", "6"]
    )
    assert code == cli.EXIT_USAGE  # the first failure decides: a range outside the video
    assert out == ""
    assert re.search(r"kitten\.mp4 at MiMo's frame size \(--start/--end\): failed after \d", err)
    assert "done in" not in err
    assert "missing.mp4" in err
    assert err.rstrip().endswith("2 of 2 videos cannot be used; nothing was sent.")


def test_large_plain_files_are_read_again_at_send_time_with_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    videos = [str(VIDEOS / "clip.mov"), str(VIDEOS / "kitten.mp4")]
    kept = FakeMiMo().reply_json(completion(content="ok"))
    assert run(["describe", *videos], **fake_params(kept))[0] == 0
    monkeypatch.setattr(_cli_inputs, "_KEEP_PARTS_UNDER", 0)  # every local part counts as large
    reread = FakeMiMo().reply_json(completion(content="ok"))
    assert run(["describe", *videos], **fake_params(reread))[0] == 0
    assert [seen.body for seen in reread.seen] == [seen.body for seen in kept.seen]
    assert len(reread.seen) == 2


def test_warnings_are_one_line_cli_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_request, "_warned", set())  # the retirement warning is once per process
    code, out, err = run(
        ["describe", str(VIDEOS / "clip.mov"), "--model", "mimo-v2-omni", "--dry-run"]
    )
    assert code == 0
    assert err.startswith("mimo-video: warning: mimo-v2-omni was retired on ")
    assert err.count("\n") == 1
    assert '"model": "mimo-v2-omni"' in out


def test_on_a_terminal_with_tqdm_the_re_encode_draws_a_bar(tmp_path: Path) -> None:
    """The real entry point with stderr on a pseudo-terminal: the loader's bar is drawn."""
    pytest.importorskip("tqdm")
    import fcntl
    import pty
    import struct
    import termios

    script = Path(sys.executable).with_name("mimo-video")
    argv = [str(script), "estimate", str(VIDEOS / "traffic.mp4"), "--start", "0", "--end", "6"]
    env = {key: value for key, value in os.environ.items() if key != "MIMO_API_KEY"}
    leader, follower = pty.openpty()
    # a terminal of 24 x 100 (a new pty is 0 x 0, where tqdm draws nothing)
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=follower, env=env, cwd=tmp_path
        )
        os.close(follower)
        out, _ = process.communicate(timeout=120)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed its end
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
    text = seen.decode(errors="replace")
    assert process.returncode == 0
    assert "re-encoding at MiMo's frame size:" in text  # the library's tqdm bar
    assert "mimo-video: re-encoding " in text and ": done in " in text
    assert b"fitted copy: " in out


def test_a_text_only_model_is_refused_before_sending_with_the_cli_option(no_key: None) -> None:
    code, out, err = run(
        ["describe", str(VIDEOS / "clip.mov"), "--model", "mimo-v2.5-pro", "--dry-run"]
    )
    assert code == cli.EXIT_USAGE
    assert out == ""
    assert "--model mimo-v2.5" in err
    assert "ChatMiMo(" not in err


def test_a_base_url_without_a_scheme_is_a_usage_error() -> None:
    code, out, err = run(
        ["describe", str(VIDEOS / "clip.mov"), "--dry-run", "--base-url", "api.example.com/v1"]
    )
    assert code == cli.EXIT_USAGE
    assert out == ""
    assert err == (
        "mimo-video: --base-url must be an http(s) URL such as https://api.xiaomimimo.com/v1, "
        "got 'api.example.com/v1'\n"
    )


# -- local videos go by reference --------------------------------------------------------


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_temp_root(tmp_path, monkeypatch)


@pytest.mark.parametrize("together", [False, True])
def test_describe_sends_whole_videos_while_the_model_sees_references(
    temp_root: Path, together: bool
) -> None:
    fake = FakeMiMo().reply_json(completion(content="ok"))
    recorder = ChatStarts()
    videos = [str(VIDEOS / "clip.mov"), str(VIDEOS / "kitten.mp4")]
    argv = ["describe", *videos] + (["--together"] if together else [])
    code, _, _ = run(argv, callbacks=[recorder], **fake_params(fake))
    assert code == 0
    sent = [p for seen in fake.seen for p in seen.body["messages"][0]["content"]]
    urls = [p["video_url"]["url"] for p in sent if p["type"] == "video_url"]
    assert urls == [VideoLoader().load(video)["video_url"]["url"] for video in videos]
    assert len(recorder.messages) == (1 if together else 2)
    for seen in recorder.messages:
        assert "mimo-media:" in seen
        assert "base64" not in seen
        assert len(seen.encode()) < 2048 * len(videos)
    assert list(temp_root.iterdir()) == []  # the run's store is gone


def test_a_failed_send_removes_the_temporary_store(temp_root: Path) -> None:
    fake = FakeMiMo().reply_json(error_body(400, "Param Incorrect", "corrupted"), status=400)
    code, _, _ = run(["describe", str(VIDEOS / "clip.mov")], **fake_params(fake))
    assert code == _cli_inputs.EXIT_API_ERROR
    assert len(fake.seen) == 1
    assert list(temp_root.iterdir()) == []


def test_a_store_given_to_main_is_used_and_kept(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "store")
    fake = FakeMiMo().reply_json(completion(content="ok"))
    code, _, _ = run(["describe", str(VIDEOS / "clip.mov")], media_store=store, **fake_params(fake))
    assert code == 0
    (media_id,) = [p.name for p in (tmp_path / "store").rglob("*") if len(p.name) == 64]
    with store.open(media_id) as file:
        assert file.read() == (VIDEOS / "clip.mov").read_bytes()


def test_dry_run_of_a_stored_video_shows_the_data_url_it_stands_for(no_key: None) -> None:
    code, out, _ = run(["describe", str(VIDEOS / "kitten.mp4"), "--dry-run", "--json"])
    assert code == 0
    record = json.loads(out)
    (video, _) = record["request"]["messages"][0]["content"]
    inline = VideoLoader().load(VIDEOS / "kitten.mp4")["video_url"]["url"]
    header = inline.split(",", 1)[0]
    assert video["video_url"]["url"] == (
        f"{header},<{len(inline) - len(header) - 1:,} base64 characters>"
    )
    assert "mimo-media:" not in out


def test_videos_waiting_to_be_sent_are_not_held_as_data_urls(tmp_path: Path) -> None:
    """All videos are checked before the first send; what is held during it is measured."""
    videos = [str(padded_video(tmp_path / f"v{n}.mp4", 2_000_000)) for n in range(3)]
    data_url_chars = len(VideoLoader().load(videos[0])["video_url"]["url"])
    received: list[int] = []
    held: list[int] = []

    def reply(length: int) -> httpx2.Response:
        received.append(length)
        held.append(tracemalloc.get_traced_memory()[0])
        return httpx2.Response(200, json=completion(content="ok"))

    client = httpx2.Client(transport=StreamingTransport(reply))
    # first-use imports are not the videos
    assert run(["describe", videos[0]], api_key=KEY, max_retries=0, http_client=client)[0] == 0
    received.clear()
    held.clear()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        code, _, _ = run(["describe", *videos], api_key=KEY, max_retries=0, http_client=client)
    finally:
        tracemalloc.stop()
    assert code == 0
    assert len(received) == 3
    assert all(length > data_url_chars for length in received)  # each got its whole video
    # inline, the videos not yet sent would be held as data URLs meanwhile
    assert max(held) - before < data_url_chars / 4
