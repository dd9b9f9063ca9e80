# ruff: noqa: E501  (the expected messages are kept whole, as a participant reads them)
"""Classification prediction files: how labels are read (names, indices, index text,
dictionary-encoded columns), how class probabilities are read (a list column in every list
type, or score_0 ... columns) and checked, with scikit-learn as the reference for what the
probabilities are then worth; and the defaults a direct caller of the parser gets."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import log_loss, roc_auc_score

from heldout.errors import InvalidInput, PredictionError
from heldout.scoring import ClassificationResult, ScoreReport, score
from heldout.scoring.predictions import classification_predictions

NAMES = ["cat", "dog", "bird"]
CLS = pa.table({"id": ["a", "b", "c", "d"], "label": [0, 1, 2, 1]})
Y = [0, 1, 2, 1]
PROBS = [[1.0, 0.0, 0.0], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.5, 0.0]]


def jl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def cls(data: bytes, name: str = "p.csv", names: list[str] = NAMES, truth: pa.Table = CLS,
        **cfg: object) -> ScoreReport:
    return score("classification", truth, data, {"resamples": 0, **cfg}, label_names=names, name=name)


def rejected(data: bytes, name: str = "p.csv", names: list[str] = NAMES, truth: pa.Table = CLS,
             **cfg: object) -> PredictionError:
    with pytest.raises(PredictionError) as info:
        cls(data, name, names, truth, **cfg)
    return info.value


def with_scores(rows: list[list[float]]) -> bytes:
    return jl([{"id": i, "prediction": p, "scores": s}
               for i, p, s in zip("abcd", [0, 1, 2, 0], rows, strict=True)])


# --- probabilities ------------------------------------------------------------------


def assert_sklearn_scores(r: ScoreReport) -> None:
    assert r.metrics["log_loss"] == pytest.approx(log_loss(Y, PROBS, labels=[0, 1, 2]), rel=1e-9)
    assert r.metrics["roc_auc_ovr_macro"] == pytest.approx(
        roc_auc_score(Y, PROBS, multi_class="ovr", average="macro", labels=[0, 1, 2]))


def test_score_columns_give_the_reference_log_loss() -> None:
    lines = "".join(f"{i},{p},{s[0]},{s[1]},{s[2]}\n"
                    for i, p, s in zip("abcd", ["cat", "dog", "bird", "cat"], PROBS, strict=True))
    r = cls(("id,prediction,score_0,score_1,score_2\n" + lines).encode())
    assert_sklearn_scores(r)
    # the columns may come in any order: each is taken by its class index
    lines = "".join(f"{i},{s[2]},{p},{s[0]},{s[1]}\n"
                    for i, p, s in zip("abcd", ["cat", "dog", "bird", "cat"], PROBS, strict=True))
    assert_sklearn_scores(cls(("id,score_2,prediction,score_0,score_1\n" + lines).encode()))


@pytest.mark.parametrize("kind", [pa.list_(pa.float64()), pa.large_list(pa.float64()),
                                  pa.list_(pa.float64(), 3), pa.list_(pa.float32())],
                         ids=["list", "large_list", "fixed_size_list", "float32"])
def test_every_list_type_of_scores_gives_the_reference_log_loss(kind: pa.DataType) -> None:
    probs = pa.array(PROBS, kind)
    r = cls(parquet(pa.table({"id": list("abcd"), "prediction": [0, 1, 2, 0], "scores": probs})), "p.parquet")
    if kind == pa.list_(pa.float32()):
        p32 = np.asarray(PROBS, np.float32).astype(np.float64)[np.arange(4), Y]
        eps = np.finfo(np.float64).eps
        expected = float(np.mean(-np.log(np.clip(p32, eps, 1 - eps))))
        assert r.metrics["log_loss"] == pytest.approx(expected, rel=1e-12)
    else:
        assert_sklearn_scores(r)


def test_scores_above_one_are_out_of_range_even_without_negatives() -> None:
    e = rejected(with_scores([[1.5, 0.0, 0.0], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.5, 0.0]]), "p.jsonl")
    assert e.detail == "p.jsonl: scores must be probabilities in [0, 1]; 1 rows are not (first rows: 1)"
    assert e.extra["errors"] == [{"kind": "score_range", "rows": [1]}]


def test_a_negative_probability_is_out_of_range_even_when_the_row_sums_to_one() -> None:
    e = rejected(with_scores([[1.0, 0.0, 0.0], [-0.5, 1.0, 0.5], [0.2, 0.2, 0.6], [1.2, -0.1, -0.1]]), "p.jsonl")
    assert e.detail == "p.jsonl: scores must be probabilities in [0, 1]; 2 rows are not (first rows: 2, 4)"
    assert e.extra["errors"] == [{"kind": "score_range", "rows": [2, 4]}]


def test_a_sum_exactly_at_the_tolerance_is_accepted() -> None:
    rows = [[0.25, 0.5, 0.5], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.25, 0.0]]  # sums 1.25 and 0.75
    r = cls(with_scores(rows), "p.jsonl", score_tolerance=0.25)
    assert r.metrics["accuracy"] == 0.75
    e = rejected(with_scores(rows), "p.jsonl", score_tolerance=0.24)
    assert e.detail == "p.jsonl: scores must sum to 1 within 0.24; row 1 sums to 1.25 (2 such rows, first rows: 1, 4)"
    assert e.extra["errors"] == [{"kind": "score_sum", "rows": [1, 4], "tolerance": 0.24}]


def test_a_zero_tolerance_accepts_rows_that_sum_to_exactly_one() -> None:
    rows = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.0]]
    assert cls(with_scores(rows), "p.jsonl", score_tolerance=0.0).metrics["accuracy"] == 0.75


def test_csv_score_strings_with_a_stray_letter_name_it() -> None:
    data = b'id,prediction,scores\na,cat,"[1, 0, 0]"\nb,dog,"0 1 0 X"\nc,bird,"X0 0 1"\nd,dog,"[0, 1, 0]"\n'
    e = rejected(data)
    assert e.detail == "p.csv: column 'scores' must have 3 values per row (one per class); row 2 has 4 (1 such rows, first rows: 2)"
    e = rejected(b'id,prediction,scores\na,cat,"[1, 0, 0]X"\nb,dog,"0 1 0"\nc,bird,"0 0 1"\nd,dog,"0 1 0"\n')
    assert e.detail == "p.csv: column 'scores' must hold numbers; row 1 has '0]X' (1 such values, rows 1)"


# --- labels -------------------------------------------------------------------------


def test_index_text_zero_is_the_first_label() -> None:
    r = cls(b"id,prediction\na,0\nb,1\nc,2\nd,1\n")
    assert r.metrics["accuracy"] == 1.0


def test_index_text_may_carry_a_sign_and_spaces() -> None:
    r = cls(b"id,prediction\na,+0\nb, 1\nc,+2 \nd,-0\n")
    assert r.metrics["accuracy"] == 0.75  # d is index 0, cat; the others are right


@pytest.mark.parametrize("value,row", [("-1", 2), ("3", 3), ("+3", 1), (" 7 ", 4),
                                       ("12345678901234567890", 2), ("1.0", 3)])
def test_index_text_outside_the_labels_is_named(value: str, row: int) -> None:
    cells = ["cat", "dog", "bird", "dog"]
    cells[row - 1] = value
    data = ("id,prediction\n" + "".join(f"{i},{c}\n" for i, c in zip("abcd", cells, strict=True))).encode()
    e = rejected(data)
    assert e.detail == (
        f"p.csv: column 'prediction' has 1 values that are neither a label name nor an index 0..2 "
        f"(first rows: {row}; values {value!r}); labels are 'cat', 'dog', 'bird'"
    )
    assert e.extra["errors"] == [{"kind": "unknown_labels", "column": "prediction", "count": 1,
                                  "rows": [row], "first": [value]}]


def test_unknown_label_names_are_reported_with_every_field() -> None:
    e = rejected(b"id,prediction\na,cat\nb,zebra\nc,7\nd,Dog\n")
    assert e.extra == {"file": "p.csv", "errors": [
        {"kind": "unknown_labels", "column": "prediction", "count": 3, "rows": [2, 3, 4],
         "first": ["zebra", "7", "Dog"]}]}


@pytest.mark.parametrize("n,suffix", [(3, ""), (10, ""), (11, " ..."), (12, " ...")])
def test_the_label_list_in_a_rejection_shows_ten_names_then_dots(n: int, suffix: str) -> None:
    names = [f"l{i}" for i in range(n)]
    truth = pa.table({"id": ["a", "b"], "label": [0, 1]})
    e = rejected(b"id,prediction\na,l0\nb,zzz\n", names=names, truth=truth)
    shown = ", ".join(repr(x) for x in names[:10])
    assert e.detail == (
        f"p.csv: column 'prediction' has 1 values that are neither a label name nor an index "
        f"0..{n - 1} (first rows: 2; values 'zzz'); labels are {shown}{suffix}"
    )


def test_no_label_names_refuses_every_prediction() -> None:
    # score() refuses such a truth first (test_score_truth.py); the reader on its own must too
    table = pa.table({"id": ["x"], "prediction": ["1"]})
    with pytest.raises(PredictionError) as info:
        classification_predictions(table, "p.csv", [], [])
    kinds = [err["kind"] for err in info.value.extra["errors"]]
    assert kinds == ["unknown_ids", "unknown_labels"]


def test_dictionary_encoded_columns_are_read_as_text() -> None:
    table = pa.table({
        "id": pa.array(["a", "b", "c", "d"]).dictionary_encode(),
        "prediction": pa.array(["cat", "dog", "bird", "1"]).dictionary_encode(),
    })
    r = cls(parquet(table), "p.parquet")
    assert r.metrics["accuracy"] == 1.0


def test_integer_ids_match_their_decimal_text() -> None:
    truth = pa.table({"id": ["1", "2", "30", "4"], "label": Y})
    table = pa.table({"id": pa.array([1, 2, 30, 4], pa.int32()), "prediction": [0, 1, 2, 1]})
    assert cls(parquet(table), "p.parquet", truth=truth).metrics["accuracy"] == 1.0
    assert cls(jl([{"id": 30, "prediction": "bird"}, {"id": 1, "prediction": "cat"},
                   {"id": 2, "prediction": "dog"}, {"id": 4, "prediction": "dog"}]), "p.jsonl",
               truth=truth).metrics["accuracy"] == 1.0


def test_an_empty_file_counts_every_example_as_wrong() -> None:
    for data, name in [(b"id,prediction\n", "p.csv"), (b"id,prediction,scores\n", "p.csv"),
                       (parquet(pa.table({"id": pa.array([], pa.string()), "prediction": pa.array([], pa.int64())})), "p.parquet")]:
        r = cls(data, name, missing="count-as-wrong")
        assert r.metrics["accuracy"] == 0.0
        assert isinstance(r.result, ClassificationResult)
        assert r.result.n_missing == 4
        assert r.result.missing_per_class.tolist() == [1, 2, 1]


def test_missing_rows_get_uniform_probabilities() -> None:
    rows = [{"id": "a", "prediction": 0, "scores": [0.6, 0.3, 0.1]},
            {"id": "c", "prediction": 2, "scores": [0.1, 0.1, 0.8]}]
    r = cls(jl(rows), "p.jsonl", missing="count-as-wrong")
    expected = log_loss(Y, [[0.6, 0.3, 0.1], [1 / 3] * 3, [0.1, 0.1, 0.8], [1 / 3] * 3], labels=[0, 1, 2])
    assert r.metrics["log_loss"] == pytest.approx(expected, rel=1e-12)
    assert r.metrics["accuracy"] == 0.5


def test_an_empty_test_set_scores_an_empty_file() -> None:
    truth = pa.table({"id": pa.array([], pa.string()), "label": pa.array([], pa.int64())})
    r = cls(b"id,prediction\n", truth=truth)
    assert r.result.n == 0
    e = rejected(b"id,prediction\nx,cat\n", truth=truth)
    assert e.detail == "p.csv: 1 ids are not in the test set (first 1: 'x')"


# --- the parser called directly -----------------------------------------------------


def test_direct_call_defaults_refuse_missing_rows_and_check_sums_to_a_thousandth() -> None:
    table = pa.table({"id": ["a", "b"], "prediction": ["cat", "1"]})
    with pytest.raises(PredictionError) as info:
        classification_predictions(table, "p", ["a", "b", "c"], NAMES)
    assert info.value.detail == "p: 1 test ids have no prediction (first 1: 'c'); every test example needs one"
    off = pa.table({"id": ["a"], "prediction": ["cat"], "scores": [[0.6, 0.2, 0.198]]})
    with pytest.raises(PredictionError, match=r"^p: scores must sum to 1 within 0.001; row 1 sums to 0.998 "):
        classification_predictions(off, "p", ["a"], NAMES)
    near = pa.table({"id": ["a"], "prediction": ["cat"], "scores": [[0.6, 0.2, 0.1995]]})
    assert classification_predictions(near, "p", ["a"], NAMES).scores is not None


def test_direct_call_reports_what_is_missing() -> None:
    table = pa.table({"id": ["b", "a"], "prediction": ["cat", "1"], "scores": [[1.0, 0, 0], [0, 1.0, 0]]})
    p = classification_predictions(table, "p", ["a", "b", "c"], NAMES, "count-as-wrong")
    assert p.labels.tolist() == [1, 0, -1]
    assert [NAMES[i] for i in p.labels[:2]] == ["dog", "cat"]  # usable as indices
    assert p.n_missing == 1
    assert p.scores is not None
    assert p.scores.tolist() == [[0, 1.0, 0], [1.0, 0, 0], [1 / 3, 1 / 3, 1 / 3]]


def test_direct_call_refuses_an_unknown_missing_policy() -> None:
    table = pa.table({"id": ["a"], "prediction": ["cat"]})
    with pytest.raises(InvalidInput) as info:
        classification_predictions(table, "p", ["a"], NAMES, "skip")  # type: ignore[arg-type]
    assert info.value.detail == "missing policy must be one of ('error', 'count-as-wrong'), not 'skip'"
