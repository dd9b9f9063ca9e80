"""Every rejection path of prediction files, with its message, and the missing policies."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from heldout.errors import InvalidInput, PayloadTooLarge, PredictionError
from heldout.scoring import ClassificationResult, ScoreConfig, ScoreReport, SpeechResult, score
from heldout.scoring.predictions import read_predictions

NAMES = ["cat", "dog", "bird"]
CLS_TRUTH = pa.table({"id": ["a", "b", "c", "d"], "label": [0, 1, 2, 1]})
ASR_TRUTH = pa.table({"id": ["u1", "u2"], "text": ["hello world", "good morning"]})
VER_TRUTH = pa.table({"id": ["t1", "t2", "t3"], "label": [1, 0, 1]})
NO_BOOT = {"resamples": 0}


def cls(data: bytes, name: str = "preds.csv", **cfg: object) -> ScoreReport:
    return score(
        "classification", CLS_TRUTH, data, {**NO_BOOT, **cfg}, label_names=NAMES, name=name
    )


def rejected(data: bytes, name: str = "preds.csv", **cfg: object) -> PredictionError:
    with pytest.raises(PredictionError) as info:
        cls(data, name, **cfg)
    return info.value


def jsonl(rows: Sequence[Mapping[str, object]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


GOOD = b"id,prediction\na,cat\nb,dog\nc,bird\nd,1\n"


def test_good_csv_jsonl_parquet_agree(tmp_path: Path) -> None:
    rows = [
        {"id": i, "prediction": p} for i, p in zip("abcd", ["cat", "dog", "bird", 1], strict=True)
    ]
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"id": list("abcd"), "prediction": [0, 1, 2, 1]}), path)
    results = [
        cls(GOOD),
        cls(jsonl(rows[:3]) + b'{"id": "d", "prediction": "1"}\n', "p.jsonl"),
        score("classification", CLS_TRUTH, path, NO_BOOT, label_names=NAMES),
    ]
    assert all(r.metrics["accuracy"] == 1.0 for r in results)


def test_size_limit() -> None:
    with pytest.raises(PayloadTooLarge, match=r"preds.csv: over the 10-byte limit"):
        cls(GOOD, max_bytes=10)


def test_size_limit_on_path(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(GOOD)
    with pytest.raises(PayloadTooLarge, match=r"big.csv: 37 bytes is over the 5-byte limit"):
        read_predictions(path, max_bytes=5)


def test_unreadable_parquet() -> None:
    e = rejected(b"PAR1 not really parquet", name="p.parquet")
    assert e.detail.startswith("p.parquet: not a readable PARQUET file")


def test_unreadable_jsonl_reports_parse_error() -> None:
    e = rejected(b'{"id": "a", "prediction": "cat"}\n{"id": \n', name="p.jsonl")
    assert "p.jsonl: not a readable JSONL file" in e.detail


def test_extension_type_column_refused() -> None:
    storage = pa.array([b"0" * 16] * 4, pa.binary(16))
    ext = pa.ExtensionArray.from_storage(pa.uuid(), storage)
    data = parquet(pa.table({"id": list("abcd"), "prediction": [0, 1, 2, 1], "u": ext}))
    e = rejected(data, name="p.parquet")
    assert "p.parquet: column 'u' has the extension type" in e.detail


def test_missing_column() -> None:
    e = rejected(b"id,label\na,cat\n")
    assert e.detail == "preds.csv: missing column 'prediction' (columns found: id, label)"
    assert e.extra["errors"][0]["kind"] == "missing_column"


def test_duplicate_unknown_and_missing_ids_counted_with_first_ten() -> None:
    rows = "".join(f"x{i},cat\n" for i in range(12))
    e = rejected(f"id,prediction\na,cat\na,dog\nb,cat\n{rows}".encode())
    assert "1 ids appear more than once (first 1: 'a')" in e.detail
    first_ten = ", ".join(f"'x{i}'" for i in range(10))
    assert f"12 ids are not in the test set (first 10: {first_ten})" in e.detail
    assert "2 test ids have no prediction (first 2: 'c', 'd')" in e.detail
    kinds = {err["kind"]: err for err in e.extra["errors"]}
    assert kinds["unknown_ids"]["count"] == 12 and len(kinds["unknown_ids"]["first"]) == 10
    assert kinds["missing_ids"]["first"] == ["c", "d"]
    assert e.extra["file"] == "preds.csv"


def test_empty_id() -> None:
    e = rejected(b"id,prediction\na,cat\n,dog\nb,cat\nc,cat\nd,cat\n")
    assert "1 rows have an empty id (first rows: 2)" in e.detail


def test_null_id_in_jsonl() -> None:
    e = rejected(
        jsonl([{"id": None, "prediction": "cat"}, {"id": "a", "prediction": "cat"}]), name="p.jsonl"
    )
    assert "column 'id' is empty (null) in 1 rows (first rows: 1)" in e.detail


def test_count_as_wrong_never_improves_the_score() -> None:
    partial = b"id,prediction\na,cat\nb,dog\n"
    r = cls(partial, missing="count-as-wrong")
    assert r.metrics["accuracy"] == 0.5
    assert r.result.n_missing == 2
    assert isinstance(r.result, ClassificationResult)
    assert r.result.missing_per_class.tolist() == [0, 1, 1]
    # scoring only the answered rows would give 1.0: skipping must not be what happens
    assert r.metrics["recall_macro"] < 1.0


def test_unknown_label_name_and_index() -> None:
    e = rejected(b"id,prediction\na,cat\nb,zebra\nc,7\nd,dog\n")
    assert (
        "column 'prediction' has 2 values that are neither a label name nor an index 0..2 "
        "(first rows: 2, 3; values 'zebra', '7'); labels are 'cat', 'dog', 'bird'"
    ) in e.detail


def test_label_index_out_of_range_in_parquet() -> None:
    data = parquet(pa.table({"id": list("abcd"), "prediction": [0, 1, 3, -1]}))
    e = rejected(data, name="p.parquet")
    assert "label indices outside 0..2 in 2 rows (first rows: 3, 4; values 3, -1)" in e.detail


def test_prediction_wrong_type() -> None:
    data = parquet(pa.table({"id": list("abcd"), "prediction": [0.0, 1.0, 2.0, 1.0]}))
    e = rejected(data, name="p.parquet")
    assert "column 'prediction' must hold label names (strings) or label indices" in e.detail
    assert "got double" in e.detail


def test_scores_wrong_number_of_columns() -> None:
    e = rejected(b"id,prediction,score_0,score_1\na,cat,1,0\nb,cat,1,0\nc,cat,1,0\nd,cat,1,0\n")
    assert "found 2 score columns ('score_0', 'score_1'); expected 3" in e.detail


def test_scores_list_wrong_length() -> None:
    rows = [{"id": i, "prediction": "cat", "scores": [0.5, 0.5, 0.0]} for i in "abc"]
    rows.append({"id": "d", "prediction": "cat", "scores": [0.5, 0.5]})
    e = rejected(jsonl(rows), name="p.jsonl")
    assert "column 'scores' must have 3 values per row (one per class); row 4 has 2" in e.detail


def test_scores_not_summing_to_one() -> None:
    rows = [{"id": i, "prediction": "cat", "scores": [0.5, 0.5, 0.0]} for i in "abc"]
    rows.append({"id": "d", "prediction": "cat", "scores": [0.5, 0.4, 0.0]})
    e = rejected(jsonl(rows), name="p.jsonl")
    assert "scores must sum to 1 within 0.001; row 4 sums to 0.9" in e.detail


def test_scores_out_of_range() -> None:
    rows = [{"id": i, "prediction": "cat", "scores": [1.5, -0.5, 0.0]} for i in "abcd"]
    e = rejected(jsonl(rows), name="p.jsonl")
    assert "scores must be probabilities in [0, 1]; 4 rows are not" in e.detail


def test_scores_nan_in_csv_string_column() -> None:
    data = (
        b'id,prediction,scores\na,cat,"[1,0,0]"\nb,cat,"[nan,0,1]"\n'
        b'c,cat,"1 0 0"\nd,cat,"[1,0,0]"\n'
    )
    e = rejected(data)
    assert "column 'scores' has NaN or infinite values in 1 rows (first rows: 2)" in e.detail


def test_scores_csv_string_parses() -> None:
    data = (
        b'id,prediction,scores\na,cat,"[1,0,0]"\nb,dog,"0 1 0"\n'
        b'c,bird,"[0, 0, 1]"\nd,dog,"[0,1,0]"\n'
    )
    r = cls(data)
    log_loss = r.metrics["log_loss"]
    assert log_loss == pytest.approx(np.finfo(float).eps, abs=1e-12)


def test_score_not_a_number() -> None:
    data = (
        b"id,prediction,score_0,score_1,score_2\n"
        b"a,cat,1,0,0\nb,cat,one,0,0\nc,cat,1,0,0\nd,cat,1,0,0\n"
    )
    e = rejected(data)
    assert "column 'score_0' must hold numbers; row 2 has 'one'" in e.detail


def test_verification_nan_and_type() -> None:
    with pytest.raises(PredictionError) as info:
        score(
            "verification", VER_TRUTH, b"id,score\nt1,0.5\nt2,nan\nt3,inf\n", NO_BOOT, name="v.csv"
        )
    assert info.value.detail == (
        "v.csv: column 'score' has NaN or infinite values in 2 rows (first rows: 2, 3)"
    )
    data = jsonl(
        [{"id": "t1", "score": "high"}, {"id": "t2", "score": "low"}, {"id": "t3", "score": "x"}]
    )
    with pytest.raises(PredictionError, match=r"v\.jsonl: column 'score' must hold numbers; row 1"):
        score("verification", VER_TRUTH, data, NO_BOOT, name="v.jsonl")


def test_verification_missing_counts_as_worst() -> None:
    r = score(
        "verification",
        VER_TRUTH,
        b"id,score\nt1,0.9\nt2,0.1\n",
        {**NO_BOOT, "missing": "count-as-wrong"},
        name="v.csv",
    )
    # t3 (a target) gets -inf: ranked below the non-target, so the EER is not 0
    assert r.metrics["eer"] > 0
    full = score(
        "verification", VER_TRUTH, b"id,score\nt1,0.9\nt2,0.1\nt3,0.8\n", NO_BOOT, name="v.csv"
    )
    assert full.metrics["eer"] == 0.0


def test_speech_wrong_type_null_and_missing() -> None:
    with pytest.raises(PredictionError, match="column 'text' must hold strings, got int64"):
        score(
            "speech-recognition",
            ASR_TRUTH,
            jsonl([{"id": "u1", "text": 3}]),
            NO_BOOT,
            name="a.jsonl",
        )
    with pytest.raises(PredictionError, match=r"column 'text' is empty \(null\) in 1 rows"):
        score(
            "speech-recognition",
            ASR_TRUTH,
            jsonl([{"id": "u1", "text": None}, {"id": "u2", "text": "x"}]),
            NO_BOOT,
            name="a.jsonl",
        )
    r = score(
        "speech-recognition",
        ASR_TRUTH,
        jsonl([{"id": "u1", "text": "hello world"}]),
        {**NO_BOOT, "missing": "count-as-wrong"},
        name="a.jsonl",
    )
    assert isinstance(r.result, SpeechResult)
    assert r.metrics["wer"] == 0.5 and r.result.words.deletions == 2


def test_unknown_format_and_bad_config() -> None:
    with pytest.raises(PredictionError, match="unknown format 'xml'"):
        read_predictions(GOOD, fmt="xml", name="p.xml")
    with pytest.raises(InvalidInput, match=r"unknown scoring option.*colour"):
        ScoreConfig.from_dict({"colour": "red"})
    with pytest.raises(InvalidInput, match="missing must be one of error, count-as-wrong"):
        ScoreConfig(missing="skip")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="unknown text normaliser 'klingon'"):
        ScoreConfig(normalizer="klingon")


@pytest.mark.parametrize("table", [
    pa.table({"id": ["a", "b"], "prediction": pa.array([1, None], pa.int64())}),
    pa.table({"id": ["a", "b"], "prediction": ["cat", None]}),
    pa.table({"id": ["a", "b"], "prediction": ["cat", "dog"],
              "scores": pa.array([[0.5, 0.5], None], pa.list_(pa.float64()))}),
], ids=["label-index", "label-name", "scores"])
def test_every_null_report_says_the_same_thing(table: pa.Table) -> None:
    e = rejected(parquet(table), name="p.parquet")
    (null,) = [err for err in e.extra["errors"] if err["kind"] == "null"]
    assert set(null) == {"kind", "column", "count", "rows"}
    assert (null["count"], null["rows"]) == (1, [2])
    assert f"column {null['column']!r} is empty (null) in 1 rows (first rows: 2)" in e.detail
