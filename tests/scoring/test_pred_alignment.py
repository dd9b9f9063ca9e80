# ruff: noqa: E501  (the expected messages are kept whole, as a participant reads them)
"""Matching prediction rows to test examples, and what missing rows become: the worst
verification score (+inf for a non-target trial, -inf for a target), an empty speech
hypothesis, no class; plus how verification score columns are checked. Observed through
``score`` and through the documented results of the parsers called directly."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from heldout.errors import PredictionError
from heldout.scoring import SpeechResult, VerificationResult, score
from heldout.scoring.predictions import (
    _Problems,
    join_ids,
    speech_predictions,
    verification_predictions,
)

VER = pa.table({"id": ["t1", "t2", "t3", "t4"], "label": [1, 0, 1, 0]})
ASR = pa.table({"id": ["u1", "u2"], "text": ["hello world", "good morning"]})
WRONG = {"resamples": 0, "missing": "count-as-wrong"}


def jl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def ver_rejected(data: bytes, name: str = "v.jsonl") -> PredictionError:
    with pytest.raises(PredictionError) as info:
        score("verification", VER, data, {"resamples": 0}, name=name)
    return info.value


# --- join_ids -----------------------------------------------------------------------


def test_join_names_the_row_of_each_test_example_and_minus_one_when_missing() -> None:
    table = pa.table({"id": ["c", "a", "x"], "v": [1, 2, 3]})
    problems = _Problems("p")
    join = join_ids(table, ["a", "b", "c"], problems, "count-as-wrong")
    assert join.row.tolist() == [1, -1, 0]
    assert join.missing.tolist() == [False, True, False]
    assert join.n_missing == 1
    assert problems.errors == [{"kind": "unknown_ids", "count": 1, "first": ["x"]}]


def test_join_refuses_missing_rows_by_default() -> None:
    problems = _Problems("p")
    join_ids(pa.table({"id": ["a"]}), ["a", "b"], problems)
    assert problems.messages == ["1 test ids have no prediction (first 1: 'b'); every test example needs one"]


def test_test_ids_are_compared_as_text() -> None:
    problems = _Problems("p")
    join = join_ids(pa.table({"id": [7, 10]}), np.array([10, 7, 8]), problems, "count-as-wrong")
    assert join.row.tolist() == [1, 0, -1]
    assert problems.errors == []


# --- verification -------------------------------------------------------------------


def test_missing_trials_get_the_worst_score_for_their_kind() -> None:
    table = pa.table({"id": ["t1"], "score": [0.5]})
    p = verification_predictions(table, "v", ["t1", "t2", "t3", "t4"], np.array([1, 0, 1, 0]), "count-as-wrong")
    assert p.scores.tolist() == [0.5, math.inf, -math.inf, math.inf]
    assert p.n_missing == 3


def test_missing_nontarget_outranks_every_target() -> None:
    # t4 (non-target) missing gets +inf: it is accepted at every threshold a target is
    r = score("verification", VER, b"id,score\nt1,0.9\nt2,0.1\nt3,0.8\n", WRONG, name="v.csv")
    assert isinstance(r.result, VerificationResult)
    assert r.result.n_missing == 1
    assert r.metrics["eer"] == 0.5


def test_an_empty_verification_file_counts_every_trial_as_wrong() -> None:
    r = score("verification", VER, b"id,score\n", WRONG, name="v.csv")
    assert isinstance(r.result, VerificationResult)
    assert r.result.n_missing == 4
    assert r.metrics["eer"] == 1.0
    p = verification_predictions(pa.table({"id": pa.array([], pa.string()), "score": pa.array([], pa.float64())}),
                                 "v", ["t1", "t2"], np.array([1, 0]), "count-as-wrong")
    assert p.scores.tolist() == [-math.inf, math.inf]


def test_verification_direct_call_refuses_missing_trials_by_default() -> None:
    with pytest.raises(PredictionError) as info:
        verification_predictions(pa.table({"id": ["t1"], "score": [0.5]}), "v", ["t1", "t2"], np.array([1, 0]))
    assert info.value.detail == "v: 1 test ids have no prediction (first 1: 't2'); every test example needs one"


def test_a_null_among_text_scores_is_reported_as_a_null() -> None:
    e = ver_rejected(jl([{"id": "t1", "score": "0.5"}, {"id": "t2", "score": None},
                         {"id": "t3", "score": "1e3"}, {"id": "t4", "score": None}]))
    assert e.detail == "v.jsonl: column 'score' has no value in 2 rows (first rows: 2, 4)"
    assert e.extra["errors"] == [{"kind": "null", "column": "score", "count": 2, "rows": [2, 4]}]


def test_a_score_column_of_only_nulls_is_reported_as_nulls() -> None:
    e = ver_rejected(jl([{"id": f"t{i}", "score": None} for i in range(1, 5)]))
    assert e.detail == "v.jsonl: column 'score' has no value in 4 rows (first rows: 1, 2, 3, 4)"


def test_text_scores_name_the_first_bad_value() -> None:
    e = ver_rejected(jl([{"id": "t1", "score": "0.5"}, {"id": "t2", "score": "high"},
                         {"id": "t3", "score": " 2 "}, {"id": "t4", "score": ""}]))
    assert e.detail == "v.jsonl: column 'score' must hold numbers; row 2 has 'high' (2 such values, rows 2, 4)"
    assert e.extra["errors"] == [{"kind": "wrong_type", "column": "score", "count": 2, "rows": [2, 4]}]


@pytest.mark.parametrize("value,typ", [([0.5], "list<item: double>"), ({"v": 1}, "struct<v: int64>"),
                                       (True, "bool")])
def test_scores_that_are_not_numbers_name_their_type(value: Any, typ: str) -> None:
    e = ver_rejected(jl([{"id": f"t{i}", "score": value} for i in range(1, 5)]))
    assert e.detail == f"v.jsonl: column 'score' must hold numbers, got {typ}"
    assert e.extra["errors"] == [{"kind": "wrong_type", "column": "score", "type": typ}]


def test_integer_and_text_scores_rank_like_numbers() -> None:
    r = score("verification", VER, jl([{"id": "t1", "score": 3}, {"id": "t2", "score": 1},
                                       {"id": "t3", "score": 2}, {"id": "t4", "score": 0}]), {"resamples": 0}, name="v.jsonl")
    assert r.metrics["eer"] == 0.0
    r = score("verification", VER, b"id,score\nt1, 1e1 \nt2,-.5\nt3,+2.\nt4,1.5\n", {"resamples": 0}, name="v.csv")
    assert r.metrics["eer"] == 0.0


# --- speech -------------------------------------------------------------------------


def test_missing_utterances_are_empty_hypotheses() -> None:
    p = speech_predictions(pa.table({"id": ["u2"], "text": ["x"]}), "a", ["u1", "u2", "u3"], "count-as-wrong")
    assert p.texts == ["", "x", ""]
    assert p.n_missing == 2
    r = score("speech-recognition", ASR, b"id,text\nu2,good morning\n", WRONG, name="a.csv")
    assert isinstance(r.result, SpeechResult)
    assert r.result.n_missing == 1
    assert r.metrics["wer"] == 0.5


def test_an_empty_speech_file_counts_every_utterance_as_wrong() -> None:
    r = score("speech-recognition", ASR, b"id,text\n", WRONG, name="a.csv")
    assert isinstance(r.result, SpeechResult)
    assert r.result.n_missing == 2
    assert r.metrics["wer"] == 1.0 and r.result.words.deletions == 4
    p = speech_predictions(pa.table({"id": pa.array([], pa.string()), "text": pa.array([], pa.string())}),
                           "a", ["u1", "u2"], "count-as-wrong")
    assert p.texts == ["", ""]


def test_speech_direct_call_refuses_missing_utterances_by_default() -> None:
    with pytest.raises(PredictionError) as info:
        speech_predictions(pa.table({"id": ["u1"], "text": ["x"]}), "a", ["u1", "u2"])
    assert info.value.detail == "a: 1 test ids have no prediction (first 1: 'u2'); every test example needs one"


def test_dictionary_encoded_speech_ids_are_text() -> None:
    table = pa.table({"id": pa.array(["u2", "u1"]).dictionary_encode(), "text": ["good morning", "hello world"]})
    p = speech_predictions(table, "a", ["u1", "u2"])
    assert p.texts == ["hello world", "good morning"]


def test_a_doubled_sign_is_not_a_number() -> None:
    e = ver_rejected(b"id,score\nt1,0.5\nt2,+-inf\nt3,--inf\nt4,-inf\n", "v.csv")
    assert e.detail == "v.csv: column 'score' must hold numbers; row 2 has '+-inf' (2 such values, rows 2, 3)"
