"""Tests for the mimo-video command line (no sockets: answers come from FakeMiMo)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from langchain_mimo_video import cli
from tests.unit_tests.fake_transport import FakeMiMo, completion, error_body, stream_of

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
            "mimo-v2-omni",
        ],
        **fake_params(fake),
    )
    body = fake.last.body
    assert body["model"] == "mimo-v2-omni"
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
