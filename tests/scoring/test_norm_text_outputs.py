"""What each normaliser outputs on the edge cases its rules name (quotes, contractions,
whitespace and tags in WeNet tokens), and the same output in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from heldout.scoring.normalizers import NORMALIZERS, basic, chinese, chinese_tokens, english
from heldout.scoring.speech import speech_metrics


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # typographic apostrophes are apostrophes
        ("I don\u2019t know", "i do not know"),
        ("it\u2018s fine", "it is fine"),
        # punctuation around a contraction does not hide it, and goes away with it
        ("I won't, he can't.", "i will not he can not"),
        ("they're here.", "they are here"),
        ('"we\'ve"', "we have"),
        # a bare suffix is not a contraction of anything
        ("'s", "s"),
        ("n't", "n t"),
    ],
)
def test_english_contractions(text: str, expected: str) -> None:
    assert english(text) == expected


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("hello", ["HELLO"]),  # a run that reaches the end of the text
        ("a b", ["A", "B"]),
        ("a\tb", ["A", "B"]),  # tab, and the other separators WeNet lists, split runs
        ("a\r\nb", ["A", "B"]),
        ("a\u00a0b", ["A", "B"]),  # any Unicode space separator (Zs) splits and is dropped
        ("\u4f60\u3000\u597d", ["\u4f60", "\u597d"]),
        ("\u4f60\ufdd0\u597d", ["\u4f60", "\u597d"]),  # unassigned code points (Cn) are dropped
        ("a\u4f60", ["A", "\u4f60"]),  # a CJK character ends a run
        ("a\x80b", ["A", "\x80B"]),  # so does U+0080, the first non-ASCII code point
        ("a>b", ["A>B"]),  # ">" only ends a tag, not a word
        ("<unk> a", ["A"]),
        ("<a>b<c>d", ["BD"]),
        ("x<unk>\u4f60", ["X", "\u4f60"]),
    ],
)
def test_chinese_tokens(text: str, tokens: list[str]) -> None:
    assert chinese_tokens(text) == tokens
    assert chinese(text) == " ".join(tokens)


def test_chinese_normaliser_output_is_tokens_joined_by_one_space() -> None:
    assert NORMALIZERS["chinese"].apply("\u6211\u7231 ab,c <noise>") == "\u6211 \u7231 ABC"
    # the join matters to the score: a deleted last character is one deletion, not more
    r = speech_metrics(["\u6211\u7231"], ["\u6211"], normalizer="chinese")
    assert (r.words.hits, r.words.substitutions, r.words.deletions, r.words.insertions) == (
        1,
        0,
        1,
        0,
    )
    assert r.cer == 0.5


_PUNCTUATED = (
    "Wait\u203d \u00abOui\u00bb, 1\u20132 \u2014 \u00bfs\u00ed? #tag 50% \u300c\u4f60\u300d"
)


def test_punctuation_in_a_fresh_process_is_removed_as_in_a_warm_one() -> None:
    """The first normalisation in a new worker gives the same text as every later one."""
    here = (basic(_PUNCTUATED), english(_PUNCTUATED), chinese(_PUNCTUATED))
    assert here == (
        "wait oui 1 2 s\u00ed tag 50 \u4f60",
        "wait oui 1 2 si tag 50 percent \u4f60",
        "WAIT OUI 12 S \u00cd TAG 50 \u4f60",  # a non-ASCII letter is its own token
    )
    code = (
        "import sys\n"
        "from heldout.scoring.normalizers import basic, chinese, english\n"
        "t = sys.argv[1]\n"
        "print(repr((basic(t), english(t), chinese(t))))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run(
        [sys.executable, "-c", code, _PUNCTUATED],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert out.stderr == "" and out.stdout.strip() == repr(here)
