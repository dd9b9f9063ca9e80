"""Text normalisers: documented behaviour on examples, and applied to both sides."""

from __future__ import annotations

import pytest

from heldout.scoring.normalizers import basic, chinese_tokens, english, jiwer_words
from heldout.scoring.speech import speech_metrics


def test_none_splits_like_jiwer() -> None:
    assert jiwer_words("  a  b\tc \t d ") == ["a", "b\tc", "d"]


def test_basic() -> None:
    assert basic("Hello,  WORLD! Don't   STRASSE-straße") == "hello world dont strasse strasse"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, World!", "hello world"),
        ("I won't go; it's fine", "i will not go it is fine"),
        ("They're here and we've gone", "they are here and we have gone"),
        ("Um, the colour is uh grey", "the color is gray"),
        ("twenty one apples", "21 apples"),
        ("one hundred and five", "105"),
        ("two thousand twenty", "2020"),
        ("one two three", "1 2 3"),
        ("it costs 1,000 dollars", "it costs 1000 dollars"),
        ("50% of 3.5", "50 percent of 3.5"),
        ("[noise] hello (laughs) there", "hello there"),
        ("café naïve", "cafe naive"),
    ],
)
def test_english(text: str, expected: str) -> None:
    assert english(text) == expected


def test_english_makes_equivalent_transcripts_match() -> None:
    r = speech_metrics(["The colour is twenty-one."], ["the color is 21"], normalizer="english")
    assert r.wer == 0.0


def test_chinese_as_wenet_char_mode() -> None:
    assert chinese_tokens("你好，世界！Hello world <unk>大家 abc123好") == [
        "你",
        "好",
        "世",
        "界",
        "HELLO",
        "WORLD",
        "大",
        "家",
        "ABC123",
        "好",
    ]
    r = speech_metrics(["我爱北京"], ["我爱南京。"], normalizer="chinese")
    assert r.cer == pytest.approx(0.25) and r.wer == r.cer
