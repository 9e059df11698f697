"""Tests for the shared helpers in ``langchain_mimo_video._utils``: one home each."""

from __future__ import annotations

import io

import pytest

from langchain_mimo_video import _utils, media, tokens, video
from langchain_mimo_video._estimate import estimate_request
from langchain_mimo_video.errors import MiMoError, VideoSourceError, VideoValidationError
from langchain_mimo_video.limits import AUDIO_SAMPLE_RATE


def test_one_video_source_type() -> None:
    assert video.VideoSource is media.VideoSource is _utils.VideoSource


def test_decode_data_url_round_trips() -> None:
    assert _utils.decode_data_url("data:video/mp4;base64,AAEC") == b"\x00\x01\x02"
    assert _utils.decode_data_url("data:video/mp4;base64,") == b""


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("data:video/mp4;base64", "no ','"),
        ("data:video/mp4;base64,AA EC", "standard base64"),
        ("data:video/mp4;base64,AA\nEC", "standard base64"),
        ("data:video/mp4;base64,AA=C", "standard base64"),
        ("data:video/mp4;base64,AAE", "standard base64"),
        ("data:video/mp4;base64,ÄÄÄÄ", "standard base64"),
    ],
)
def test_decode_data_url_refuses_broken_base64_with_a_typed_error(url: str, words: str) -> None:
    with pytest.raises(VideoValidationError, match=words) as caught:
        _utils.decode_data_url(url)
    assert isinstance(caught.value, ValueError)


def test_estimate_refuses_a_broken_data_url_as_the_loader_does() -> None:
    # Before: the estimate raised a bare MiMoError, the loader a binascii.Error.
    messages = [
        {
            "role": "user",
            "content": [{"type": "video_url", "video_url": {"url": "data:video/mp4;base64,A B"}}],
        }
    ]
    with pytest.raises(VideoValidationError, match="Cannot decode the data URL"):
        estimate_request(messages)
    with pytest.raises(MiMoError):
        estimate_request(messages)


def test_is_url() -> None:
    assert _utils.is_url("https://example.com/v.mp4")
    assert _utils.is_url("HTTP://example.com/v.mp4")
    assert not _utils.is_url("data:video/mp4;base64,AAAA")
    assert not _utils.is_url("clips/http://x.mp4")
    assert not _utils.is_url(b"https://example.com")


def test_shorten() -> None:
    assert _utils.shorten("abc") == "abc"
    long = "x" * 200
    assert _utils.shorten(long) == "x" * 77 + "..."
    assert len(_utils.shorten(long, 10)) == 10


def test_text_mode_error() -> None:
    error = _utils.text_mode_error(io.StringIO("x"), "The file object")
    assert isinstance(error, VideoSourceError)
    assert "binary mode" in str(error)
    assert _utils.text_mode_error(io.BytesIO(b"x"), "The file object") is None


def test_audio_tokens_follow_the_vendor_sample_rate() -> None:
    # The vendor's reference: int(duration * 24000) // 240 + 1 spectrogram frames.
    assert AUDIO_SAMPLE_RATE == 24_000
    spec = int(60 * AUDIO_SAMPLE_RATE) // 240 + 1
    t = (spec - 1) // 2 + 1
    t = t // 2 + int(t % 2 != 0)
    assert tokens.estimate_audio_tokens(60) == -(-t // 4) + 2
