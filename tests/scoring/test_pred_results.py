# ruff: noqa: E501  (expected values are kept whole on one line)
"""Result objects as a caller reads them: ``to_dict()`` is plain JSON (numpy values become
numbers and lists, NaN becomes null, nested results become dicts), alignments can be indexed
from the end and sliced and match jiwer's, and each task names its metrics."""

from __future__ import annotations

import json
import math

import jiwer
import numpy as np
import pyarrow as pa

from heldout.scoring import ClassificationResult, Interval, SpeechResult, score
from heldout.scoring.results import ErrorCounts, PerClass

ASR = pa.table({"id": ["u1", "u2", "u3"], "text": ["hello big world", "good morning", "a b c"]})
HYP = ["hello world there", "good morning", "x b c d"]


def speech() -> SpeechResult:
    data = ("id,text\n" + "".join(f"u{i + 1},{h}\n" for i, h in enumerate(HYP))).encode()
    r = score("speech-recognition", ASR, data, {"resamples": 0, "alignments": True}, name="a.csv")
    assert isinstance(r.result, SpeechResult)
    return r.result


def test_an_interval_to_dict_turns_numpy_scalars_into_numbers_and_nan_into_null() -> None:
    i = Interval(low=np.float64(0.25), high=math.nan, confidence=0.95, resamples=np.int64(10), seed=3)  # type: ignore[arg-type]
    d = i.to_dict()
    assert d == {"low": 0.25, "high": None, "confidence": 0.95, "resamples": 10, "seed": 3}
    assert type(d["low"]) is float and type(d["resamples"]) is int
    assert Interval(np.float64(math.nan), 1.0, 0.9, 1, 0).to_dict()["low"] is None


def test_a_classification_report_is_plain_json_with_the_same_numbers() -> None:
    truth = pa.table({"id": ["a", "b", "c", "d"], "label": [0, 1, 2, 1]})
    data = b'id,prediction,scores\na,cat,"1 0 0"\nb,dog,"0 1 0"\nc,cat,"0.6 0.1 0.3"\nd,dog,"0 1 0"\n'
    r = score("classification", truth, data, {"resamples": 0}, label_names=["cat", "dog", "bird"], name="p.csv")
    assert isinstance(r.result, ClassificationResult)
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    res = d["result"]
    assert res["accuracy"] == 0.75 and res["n"] == 4
    assert res["confusion_matrix"] == [[1, 0, 0], [0, 2, 0], [1, 0, 0]]
    assert res["missing_per_class"] == [0, 0, 0]
    assert res["per_class"][0] == {"label": "cat", "precision": 0.5, "recall": 1.0,
                                   "f1": r.result.per_class[0].f1, "support": 1}
    assert res["per_class"][2] == {"label": "bird", "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert res["top_k_accuracy"] == {str(k): v for k, v in r.result.top_k_accuracy.items()}
    assert d["metrics"] == r.metrics
    assert res["log_loss"] == r.result.log_loss


def test_nested_sequences_and_counts_serialise_element_by_element() -> None:
    pc = PerClass("x", np.float64(0.5), 1.0, math.nan, np.int64(2))  # type: ignore[arg-type]
    assert pc.to_dict() == {"label": "x", "precision": 0.5, "recall": 1.0, "f1": None, "support": 2}
    assert ErrorCounts(1, 2, 3, 4).to_dict() == {"hits": 1, "substitutions": 2, "deletions": 3, "insertions": 4}


def test_alignments_serialise_like_jiwer() -> None:
    result = speech()
    assert result.alignments is not None
    for a, ref, hyp in zip(result.alignments, ASR.column("text").to_pylist(), HYP, strict=True):
        out = jiwer.process_words(ref, hyp)
        expected = [[c.type, c.ref_start_idx, c.ref_end_idx, c.hyp_start_idx, c.hyp_end_idx]
                    for c in out.alignments[0]]
        assert a.to_dict() == {"id": a.id, "reference": ref.split(), "hypothesis": hyp.split(),
                               "chunks": expected}
    d = result.to_dict()
    assert [x["id"] for x in d["alignments"]] == ["u1", "u2", "u3"]
    assert d["alignments"][0] == {"id": "u1", "reference": ["hello", "big", "world"],
                                  "hypothesis": ["hello", "world", "there"],
                                  "chunks": [["equal", 0, 1, 0, 1], ["substitute", 1, 3, 1, 3]]}


def test_alignments_index_from_the_end_and_slice() -> None:
    al = speech().alignments
    assert al is not None
    assert al[-1].id == "u3" and al[-3].id == "u1"
    assert al[-1].reference == ("a", "b", "c")
    assert [a.id for a in al[0:2]] == ["u1", "u2"]
    assert [a.id for a in al[1:]] == ["u2", "u3"]
    assert [a.id for a in al[::-1]] == ["u3", "u2", "u1"]
    assert al[1].hypothesis == ("good", "morning")


def test_alignment_ids_are_the_test_ids_as_text() -> None:
    truth = pa.table({"id": [7, 10], "text": ["a", "b"]})
    r = score("speech-recognition", truth, b"id,text\n7,a\n10,c\n", {"resamples": 0, "alignments": True}, name="a.csv")
    assert isinstance(r.result, SpeechResult) and r.result.alignments is not None
    assert [a.id for a in r.result.alignments] == ["7", "10"]
    assert r.result.alignments[1].to_dict()["id"] == "10"


def test_verification_reports_eer_and_min_dcf_by_name() -> None:
    truth = pa.table({"id": ["t1", "t2", "t3", "t4"], "label": [1, 0, 1, 0]})
    r = score("verification", truth, b"id,score\nt1,0.9\nt2,0.1\nt3,0.8\nt4,0.2\n", {"resamples": 0}, name="v.csv")
    assert r.metrics == {"eer": 0.0, "min_dcf": 0.0}
    assert r.result.metrics() == {"eer": 0.0, "min_dcf": 0.0}
