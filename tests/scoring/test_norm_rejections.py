"""Speech scoring rejections say what was wrong, in full; the largest vocabulary that can be
scored is scored, and one more word is refused with a reason rather than a crash."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from heldout.errors import InvalidInput
from heldout.scoring import ScoreConfig
from heldout.scoring.normalizers import get_normalizer
from heldout.scoring.speech import edit_counts, speech_metrics, utterance_counts

UNKNOWN_NORMALISER = (
    "unknown text normaliser 'klingon'; choose one of none, basic, english, chinese"
)


def test_unknown_normaliser_names_the_choices_and_the_field() -> None:
    with pytest.raises(InvalidInput) as e:
        get_normalizer("klingon")
    assert e.value.to_problem() == {
        "type": "https://heldout.dev/problems/invalid-input",
        "title": "Invalid input",
        "status": 422,
        "detail": UNKNOWN_NORMALISER,
        "field": "normalizer",
    }


@pytest.mark.parametrize(
    "call",
    [
        lambda: ScoreConfig(normalizer="klingon"),
        lambda: speech_metrics(["a"], ["a"], normalizer="klingon"),
        lambda: utterance_counts(["a"], ["a"], "klingon"),
    ],
)
def test_every_way_in_refuses_an_unknown_normaliser_the_same_way(
    call: Callable[[], object],
) -> None:
    with pytest.raises(InvalidInput) as e:
        call()
    assert (e.value.detail, e.value.extra) == (UNKNOWN_NORMALISER, {"field": "normalizer"})


def test_references_and_hypotheses_of_different_lengths() -> None:
    with pytest.raises(InvalidInput) as e:
        speech_metrics(["a", "b"], ["a"])
    assert e.value.detail == "2 references but 1 hypotheses"
    with pytest.raises(InvalidInput) as e:
        utterance_counts(["a"], ["a", "b", "c"], cer=False)
    assert e.value.detail == "1 references but 3 hypotheses"


def test_edit_counts_refuses_unpaired_sequences_instead_of_truncating() -> None:
    with pytest.raises(ValueError, match="zip"):
        edit_counts(["ab", "cd"], ["ab"])
    with pytest.raises(ValueError, match="zip"):
        edit_counts(["ab"], ["ab", "cd"])


# One code point per distinct word, 1..0x10FFFF without the 2048 surrogates.
MAX_WORDS = 0x10FFFF - 0x800


def test_vocabulary_limit_boundary() -> None:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    words = ["".join(w) for w in itertools.islice(itertools.product(alphabet, repeat=4), MAX_WORDS)]
    text = " ".join(words)
    r = speech_metrics([text], [""], cer=False)
    assert r.words.deletions == MAX_WORDS and r.wer == 1.0
    with pytest.raises(InvalidInput) as e:
        speech_metrics([text], ["zzzzz"], cer=False)
    assert e.value.detail == f"{MAX_WORDS + 1} distinct words; at most {MAX_WORDS} supported"
