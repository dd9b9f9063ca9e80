"""Every field of a speech result, what is left out unless asked for, and alignments that name
the right rows and words (also past the surrogate block of the word encoding)."""

from __future__ import annotations

import math
import warnings

import jiwer
import numpy as np
import pytest

from heldout.scoring.results import ErrorCounts
from heldout.scoring.speech import speech_metrics, utterance_counts


def test_every_field_of_a_result() -> None:
    r = speech_metrics(
        ["The cat sat.", "Hello world"],
        ["the cat sat", "hello"],
        normalizer="basic",
        n_missing=1,
    )
    assert (r.n, r.n_missing, r.normalizer) == (2, 1, "basic")
    assert r.words == ErrorCounts(hits=4, substitutions=0, deletions=1, insertions=0)
    # characters of the normalised text: "hello world" -> "hello" deletes 6 of 22
    assert r.chars == ErrorCounts(hits=16, substitutions=0, deletions=6, insertions=0)
    assert (r.wer, r.cer) == (pytest.approx(1 / 5), pytest.approx(6 / 22))
    assert r.alignments is None
    assert r.to_dict() == {
        "n": 2,
        "n_missing": 1,
        "normalizer": "basic",
        "wer": pytest.approx(0.2),
        "mer": pytest.approx(0.2),
        "wil": pytest.approx(0.2),
        "cer": pytest.approx(6 / 22),
        "words": {"hits": 4, "substitutions": 0, "deletions": 1, "insertions": 0},
        "chars": {"hits": 16, "substitutions": 0, "deletions": 6, "insertions": 0},
        "alignments": None,
    }


def test_defaults_report_no_missing_rows_and_no_alignments() -> None:
    r = speech_metrics(["a b"], ["a c"])
    assert r.n_missing == 0 and r.normalizer == "none"
    assert r.alignments is None and r.to_dict()["alignments"] is None
    assert utterance_counts(["a b"], ["a c"]).edits is None


def test_without_cer_no_character_counts_and_cer_is_null() -> None:
    r = speech_metrics(["ab cd"], ["ab ce"], cer=False)
    assert math.isnan(r.cer) and r.to_dict()["cer"] is None
    assert r.chars == ErrorCounts(hits=0, substitutions=0, deletions=0, insertions=0)
    assert r.words == ErrorCounts(hits=1, substitutions=1, deletions=0, insertions=0)
    assert utterance_counts(["ab cd"], ["ab ce"], cer=False).chars.tolist() == [[0, 0, 0, 0]]
    # the chinese normaliser reports its token error rate as CER either way
    rz = speech_metrics(["\u6211\u7231"], ["\u6211\u6068"], normalizer="chinese", cer=False)
    assert rz.cer == 0.5 and rz.chars == rz.words


def test_alignments_are_named_by_the_given_ids_else_by_position() -> None:
    refs, hyps = ["a b", "c"], ["a", "d c"]
    named = speech_metrics(refs, hyps, ids=["utt-7", "utt-3"], alignments=True).alignments
    assert named is not None and [a.id for a in named] == ["utt-7", "utt-3"]
    plain = speech_metrics(refs, hyps, alignments=True).alignments
    assert plain is not None and [a.id for a in plain] == ["0", "1"]
    assert plain.to_dict() == [
        {
            "id": "0",
            "reference": ["a", "b"],
            "hypothesis": ["a"],
            "chunks": [["equal", 0, 1, 0, 1], ["delete", 1, 2, 1, 1]],
        },
        {
            "id": "1",
            "reference": ["c"],
            "hypothesis": ["d", "c"],
            "chunks": [["insert", 0, 0, 0, 1], ["equal", 0, 1, 1, 2]],
        },
    ]


def test_per_utterance_counts_are_integers() -> None:
    refs, hyps = ["a b c", "x"], ["a c d e", ""]
    uc = utterance_counts(refs, hyps)
    rows = uc.words.tolist()
    assert rows == [[1, 2, 0, 1], [0, 0, 1, 0]]
    for row, (ref, hyp) in zip(rows, zip(refs, hyps, strict=True), strict=True):
        out = jiwer.process_words(ref, hyp)
        assert row == [out.hits, out.substitutions, out.deletions, out.insertions]
    assert all(type(v) is int for row in rows for v in row)
    assert all(type(v) is int for row in uc.chars.tolist() for v in row)


@pytest.mark.parametrize(
    ("refs", "hyps"),
    [([""], ["a"]), ([""], [""]), (["a b"], [""]), (["", ""], ["", "x y"])],
)
def test_empty_sides_score_without_numpy_warnings(refs: list[str], hyps: list[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = speech_metrics(refs, hyps)
    expected = jiwer.process_words(refs, hyps)
    assert (r.wer, r.mer, r.wil) == (expected.wer, expected.mer, expected.wil)


def test_alignment_words_past_the_surrogate_block() -> None:
    """Word ids around 0xD7FF map to code points that skip the surrogates; every word of every
    alignment still reads back as written, and the counts match jiwer."""
    n_words = 0xD800 + 300
    words = [f"w{i}" for i in range(n_words)]
    refs = [" ".join(words[i : i + 100]) for i in range(0, n_words, 100)]
    hyps = list(refs)
    # word 0xD7FF is the first shifted one; pair it, and its neighbours, with low ids
    refs += ["w2047 w55295 w55296", "w55294 w55295", "w56000"]
    hyps += ["w55295 w2047 w55296", "w55295 w55296", "w1"]
    r = speech_metrics(refs, hyps, alignments=True, cer=False)
    assert r.alignments is not None
    for i, a in enumerate(r.alignments):
        assert (a.reference, a.hypothesis) == (tuple(refs[i].split()), tuple(hyps[i].split()))
    expected = jiwer.process_words(refs, hyps)
    assert (r.words.hits, r.words.substitutions, r.words.deletions, r.words.insertions) == (
        expected.hits,
        expected.substitutions,
        expected.deletions,
        expected.insertions,
    )
    assert r.wer == expected.wer


def test_counts_from_utterance_counts_give_the_same_result() -> None:
    refs, hyps = ["a b c", "d"], ["a x c", ""]
    uc = utterance_counts(refs, hyps, "basic", with_edits=True)
    assert uc.edits is not None
    reused = speech_metrics(refs, hyps, "basic", alignments=True, counts=uc)
    fresh = speech_metrics(refs, hyps, "basic", alignments=True)
    assert reused.to_dict() == fresh.to_dict()
    assert np.array_equal(uc.words.sum(axis=0), [2, 1, 1, 0])
