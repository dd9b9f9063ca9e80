# ruff: noqa: E501  (the expected messages are kept whole, as a participant reads them)
"""Every rejection of a prediction file, exactly as a participant sees it: the problem+json
``detail`` and the structured ``errors`` (kind, column, rows counted from 1, counts).

A participant fixes a file from these words alone, so they are part of the contract: a wrong
row number, a dropped count or a mislabelled kind is a bug even when the file is still refused.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from heldout.errors import PayloadTooLarge, PredictionError
from heldout.scoring import score
from heldout.scoring.predictions import read_predictions

NAMES = ["cat", "dog", "bird"]
CLS = pa.table({"id": ["a", "b", "c", "d"], "label": [0, 1, 2, 1]})
ASR = pa.table({"id": ["u1", "u2"], "text": ["hello world", "good morning"]})
VER = pa.table({"id": ["t1", "t2", "t3"], "label": [1, 0, 1]})
TRUTHS = {"classification": CLS, "speech-recognition": ASR, "verification": VER}
P = [["a", "cat"], ["b", "dog"], ["c", "bird"], ["d", "dog"]]


def jl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def rows(**cols: list[Any]) -> list[dict[str, Any]]:
    """The four good classification rows with extra columns."""
    out = []
    for i, (id_, p) in enumerate(P):
        row: dict[str, Any] = {"id": id_, "prediction": p}
        for k, v in cols.items():
            row[k] = v[i]
        out.append(row)
    return out


CASES: dict[str, tuple[str, bytes, str]] = {
 "scores_not_a_list": ("classification", jl(rows(scores=[5,5,5,5])), "p.jsonl"),
 "scores_null": ("classification", jl(rows(scores=[[.2,.3,.5],None,[.2,.3,.5],None])), "p.jsonl"),
 "scores_count": ("classification", b'id,prediction,scores\na,cat,"0.5 0.5"\nb,dog,"[0.2, 0.3, 0.5]"\nc,bird,"0.5,0.5"\nd,dog,"1"\n', "p.csv"),
 "scores_text": ("classification", b'id,prediction,scores\na,cat,"[0.5, x, 0.5]"\nb,dog,"[0.2, 0.3, 0.5]"\nc,bird,"[0.2 0.3 y]"\nd,dog,"[0.2 0.3 0.5]"\n', "p.csv"),
 "scores_nan": ("classification", jl(rows(scores=[[.2,.3,.5],[float("nan"),.5,.5],[.2,.3,.5],[.2,.3,.5]])), "p.jsonl"),
 "score_columns_count": ("classification", b"id,prediction,score_0,score_1\na,cat,0.5,0.5\nb,dog,0.5,0.5\nc,bird,0.5,0.5\nd,dog,0.5,0.5\n", "p.csv"),
 "score_columns_text": ("classification", b"id,prediction,score_0,score_1,score_2\na,cat,0.5,0.5,0\nb,dog,0.5,abc,0\nc,bird,0.5,0.5,0\nd,dog,0.5,0.5,0\n", "p.csv"),
 "score_columns_bool": ("classification", jl(rows(score_0=[True]*4, score_1=[.5]*4, score_2=[.5]*4)), "p.jsonl"),
 "score_columns_null": ("classification", jl(rows(score_0=[.2,None,.2,.2], score_1=[.3]*4, score_2=[.5]*4)), "p.jsonl"),
 "score_range": ("classification", jl(rows(scores=[[1.5,-.5,0],[.2,.3,.5],[.2,.3,.5],[.2,.3,.5]])), "p.jsonl"),
 "score_sum": ("classification", jl(rows(scores=[[.2,.3,.5],[.5,.5,.5],[.2,.3,.5],[.1,.1,.1]])), "p.jsonl"),
 "prediction_index_null": ("classification", jl([{"id":"a","prediction":0},{"id":"b","prediction":None},{"id":"c","prediction":2},{"id":"d","prediction":1}]), "p.jsonl"),
 "prediction_index_range": ("classification", jl([{"id":"a","prediction":0},{"id":"b","prediction":3},{"id":"c","prediction":-1},{"id":"d","prediction":1}]), "p.jsonl"),
 "prediction_float": ("classification", jl([{"id":"a","prediction":0.5},{"id":"b","prediction":1.0},{"id":"c","prediction":2.0},{"id":"d","prediction":1.0}]), "p.jsonl"),
 "prediction_name_null": ("classification", jl([{"id":"a","prediction":"cat"},{"id":"b","prediction":None},{"id":"c","prediction":"bird"},{"id":"d","prediction":"dog"}]), "p.jsonl"),
 "id_float": ("classification", jl([{"id":1.5,"prediction":"cat"}]), "p.jsonl"),
 "id_null_and_empty": ("classification", b"id,prediction\na,cat\n,dog\nc,bird\nd,dog\n", "p.csv"),
 "ids_dup_unknown_missing": ("classification", b"id,prediction\na,cat\na,cat\nz,dog\ny,dog\n", "p.csv"),
 "columns_missing": ("classification", b"ident,pred\na,cat\n", "p.csv"),
 "speech_text_int": ("speech-recognition", jl([{"id":"u1","text":1},{"id":"u2","text":2}]), "p.jsonl"),
 "speech_text_null": ("speech-recognition", jl([{"id":"u1","text":"hi"},{"id":"u2","text":None}]), "p.jsonl"),
 "verification_text": ("verification", b"id,score\nt1,0.5\nt2,abc\nt3,1e3\n", "p.csv"),
 "verification_null": ("verification", jl([{"id":"t1","score":0.5},{"id":"t2","score":None},{"id":"t3","score":1}]), "p.jsonl"),
 "verification_inf": ("verification", b"id,score\nt1,inf\nt2,0.1\nt3,-inf\n", "p.csv"),
 "verification_bool": ("verification", jl([{"id":"t1","score":True},{"id":"t2","score":False},{"id":"t3","score":True}]), "p.jsonl"),
}

EXPECTED: dict[str, dict[str, Any]] = {
    'scores_not_a_list': {
        "detail": "p.jsonl: column 'scores' must hold lists of 3 numbers, got int64",
        "errors": [{'kind': 'wrong_type', 'column': 'scores', 'type': 'int64'}],
    },
    'scores_null': {
        "detail": "p.jsonl: column 'scores' is empty (null) in 2 rows (first rows: 2, 4)",
        "errors": [{'kind': 'null', 'column': 'scores', 'count': 2, 'rows': [2, 4]}],
    },
    'scores_count': {
        "detail": "p.csv: column 'scores' must have 3 values per row (one per class); row 1 has 2 (3 such rows, first rows: 1, 3, 4)",
        "errors": [{'kind': 'score_count', 'column': 'scores', 'expected': 3, 'rows': [1, 3, 4]}],
    },
    'scores_text': {
        "detail": "p.csv: column 'scores' must hold numbers; row 1 has 'x' (2 such values, rows 1, 3)",
        "errors": [{'kind': 'wrong_type', 'column': 'scores', 'count': 2, 'rows': [1, 3]}],
    },
    'scores_nan': {
        "detail": "p.jsonl: column 'scores' has NaN or infinite values in 1 rows (first rows: 2)",
        "errors": [{'kind': 'not_finite', 'column': 'scores', 'count': 1, 'rows': [2]}],
    },
    'score_columns_count': {
        "detail": "p.csv: found 2 score columns ('score_0', 'score_1'); expected 3, score_0 ... score_2, one per class",
        "errors": [{'kind': 'score_columns', 'found': ['score_0', 'score_1'], 'expected': 3}],
    },
    'score_columns_text': {
        "detail": "p.csv: column 'score_1' must hold numbers; row 2 has 'abc' (1 such values, rows 2)",
        "errors": [{'kind': 'wrong_type', 'column': 'score_1', 'count': 1, 'rows': [2]}],
    },
    'score_columns_bool': {
        "detail": "p.jsonl: column 'score_0' must hold numbers, got bool",
        "errors": [{'kind': 'wrong_type', 'column': 'score_0', 'type': 'bool'}],
    },
    'score_columns_null': {
        "detail": "p.jsonl: column 'score_0' has no value in 1 rows (first rows: 2)",
        "errors": [{'kind': 'null', 'column': 'score_0', 'count': 1, 'rows': [2]}],
    },
    'score_range': {
        "detail": 'p.jsonl: scores must be probabilities in [0, 1]; 1 rows are not (first rows: 1)',
        "errors": [{'kind': 'score_range', 'rows': [1]}],
    },
    'score_sum': {
        "detail": 'p.jsonl: scores must sum to 1 within 0.001; row 2 sums to 1.5 (2 such rows, first rows: 2, 4)',
        "errors": [{'kind': 'score_sum', 'rows': [2, 4], 'tolerance': 0.001}],
    },
    'prediction_index_null': {
        "detail": "p.jsonl: column 'prediction' is empty (null) in 1 rows (first rows: 2)",
        "errors": [{'kind': 'null', 'column': 'prediction', 'count': 1, 'rows': [2]}],
    },
    'prediction_index_range': {
        "detail": "p.jsonl: column 'prediction' has label indices outside 0..2 in 2 rows (first rows: 2, 3; values 3, -1)",
        "errors": [{'kind': 'unknown_labels', 'column': 'prediction', 'count': 2, 'rows': [2, 3]}],
    },
    'prediction_float': {
        "detail": "p.jsonl: column 'prediction' must hold label names (strings) or label indices (integers), got double",
        "errors": [{'kind': 'wrong_type', 'column': 'prediction', 'type': 'double'}],
    },
    'prediction_name_null': {
        "detail": "p.jsonl: column 'prediction' is empty (null) in 1 rows (first rows: 2)",
        "errors": [{'kind': 'null', 'column': 'prediction', 'count': 1, 'rows': [2]}],
    },
    'id_float': {
        "detail": "p.jsonl: column 'id' must hold strings, got double",
        "errors": [{'kind': 'wrong_type', 'column': 'id', 'type': 'double'}],
    },
    'id_null_and_empty': {
        "detail": "p.csv: 1 rows have an empty id (first rows: 2); 1 ids are not in the test set (first 1: ''); 1 test ids have no prediction (first 1: 'b'); every test example needs one",
        "errors": [{'kind': 'empty_id', 'count': 1, 'rows': [2]}, {'kind': 'unknown_ids', 'count': 1, 'first': ['']}, {'kind': 'missing_ids', 'count': 1, 'first': ['b']}],
    },
    'ids_dup_unknown_missing': {
        "detail": "p.csv: 1 ids appear more than once (first 1: 'a'); 2 ids are not in the test set (first 2: 'z', 'y'); 3 test ids have no prediction (first 3: 'b', 'c', 'd'); every test example needs one",
        "errors": [{'kind': 'duplicate_ids', 'count': 1, 'first': ['a']}, {'kind': 'unknown_ids', 'count': 2, 'first': ['z', 'y']}, {'kind': 'missing_ids', 'count': 3, 'first': ['b', 'c', 'd']}],
    },
    'columns_missing': {
        "detail": "p.csv: missing column 'id', 'prediction' (columns found: ident, pred)",
        "errors": [{'kind': 'missing_column', 'columns': ['id', 'prediction']}],
    },
    'speech_text_int': {
        "detail": "p.jsonl: column 'text' must hold strings, got int64",
        "errors": [{'kind': 'wrong_type', 'column': 'text', 'type': 'int64'}],
    },
    'speech_text_null': {
        "detail": "p.jsonl: column 'text' is empty (null) in 1 rows (first rows: 2)",
        "errors": [{'kind': 'null', 'column': 'text', 'count': 1, 'rows': [2]}],
    },
    'verification_text': {
        "detail": "p.csv: column 'score' must hold numbers; row 2 has 'abc' (1 such values, rows 2)",
        "errors": [{'kind': 'wrong_type', 'column': 'score', 'count': 1, 'rows': [2]}],
    },
    'verification_null': {
        "detail": "p.jsonl: column 'score' has no value in 1 rows (first rows: 2)",
        "errors": [{'kind': 'null', 'column': 'score', 'count': 1, 'rows': [2]}],
    },
    'verification_inf': {
        "detail": "p.csv: column 'score' has NaN or infinite values in 2 rows (first rows: 1, 3)",
        "errors": [{'kind': 'not_finite', 'column': 'score', 'count': 2, 'rows': [1, 3]}],
    },
    'verification_bool': {
        "detail": "p.jsonl: column 'score' must hold numbers, got bool",
        "errors": [{'kind': 'wrong_type', 'column': 'score', 'type': 'bool'}],
    },
}

@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_rejection_names_every_problem_exactly(case: str) -> None:
    task, data, name = CASES[case]
    with pytest.raises(PredictionError) as caught:
        score(task, TRUTHS[task], data, {"resamples": 0},
              label_names=NAMES if task == "classification" else None, name=name)
    error = caught.value
    assert error.status == 422
    assert error.detail == EXPECTED[case]["detail"]
    assert error.extra.get("errors") == EXPECTED[case]["errors"]
    assert error.extra["file"] == name


def test_an_unreadable_file_is_named_with_its_format() -> None:
    with pytest.raises(PredictionError) as caught:
        read_predictions(b"PAR1 this is not parquet", name="p.parquet")
    assert caught.value.detail.startswith("p.parquet: not a readable PARQUET file: ")
    assert caught.value.extra == {"file": "p.parquet", "format": "parquet"}
    with pytest.raises(PredictionError, match="unknown format 'xlsx'; use csv, jsonl or parquet"):
        read_predictions(b"id,prediction\n", fmt="xlsx", name="p.xlsx")


@pytest.mark.parametrize(
    ("data", "name", "columns"),
    [
        (b'{"id": "a", "prediction": "cat"}\n', "p.ndjson", ["id", "prediction"]),
        (b'{"id": "a", "prediction": "cat"}\n', "p.json", ["id", "prediction"]),
        (b'{"id": "a", "prediction": "cat"}\n', "upload", ["id", "prediction"]),
        (b'  {"id": "a", "prediction": "cat"}\n', "upload", ["id", "prediction"]),
        (b"id,prediction\na,cat\n", "upload", ["id", "prediction"]),
        (b"id,prediction\na,cat\n", "P.CSV", ["id", "prediction"]),
    ],
)
def test_the_format_comes_from_the_name_then_the_content(data: bytes, name: str,
                                                         columns: list[str]) -> None:
    table, label = read_predictions(data, name=name)
    assert table.column_names == columns and table.num_rows == 1
    assert table.column("prediction").to_pylist() == ["cat"]
    assert label == name


def test_parquet_is_recognised_by_name_or_magic_bytes(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"id": ["a"], "prediction": ["cat"]}), buffer)
    for name in ("p.parquet", "p.pq", "upload"):
        table, _ = read_predictions(buffer.getvalue(), name=name)
        assert table.to_pylist() == [{"id": "a", "prediction": "cat"}]
    path = tmp_path / "preds.pq"
    path.write_bytes(buffer.getvalue())
    table, label = read_predictions(path)
    assert label == "preds.pq" and table.num_rows == 1
    table, label = read_predictions(io.BytesIO(buffer.getvalue()), name="dir/x.parquet")
    assert label == "x.parquet" and table.num_rows == 1


def test_a_csv_keeps_ids_as_text_exactly() -> None:
    table, _ = read_predictions(b"id,prediction\n007,1\n1e3,2\n", name="p.csv")
    assert table.column("id").to_pylist() == ["007", "1e3"]
    assert table.column("prediction").to_pylist() == ["1", "2"]


def test_size_limit_is_checked_for_bytes_streams_and_paths(tmp_path: Path) -> None:
    data = b"id,prediction\na,cat\n"
    path = tmp_path / "p.csv"
    path.write_bytes(data)
    for source in (data, io.BytesIO(data), path):
        with pytest.raises(PayloadTooLarge) as caught:
            read_predictions(source, name="p.csv", max_bytes=len(data) - 1)
        assert caught.value.status == 413
        assert caught.value.extra["limit"] == len(data) - 1
        assert caught.value.detail.startswith("p.csv: ")
        table, _ = read_predictions(source if not isinstance(source, io.BytesIO)
                                    else io.BytesIO(data), name="p.csv", max_bytes=len(data))
        assert table.num_rows == 1


def test_an_extension_type_column_is_refused() -> None:
    buffer = io.BytesIO()
    uuid = pa.uuid()
    table = pa.table({"id": ["a"], "prediction": ["cat"],
                      "extra": pa.ExtensionArray.from_storage(uuid, pa.array([b"0" * 16],
                                                                              pa.binary(16)))})
    pq.write_table(table, buffer)
    with pytest.raises(PredictionError) as caught:
        read_predictions(buffer.getvalue(), name="p.parquet")
    assert caught.value.detail == (
        "p.parquet: column 'extra' has the extension type extension<arrow.uuid>; "
        "use plain strings and numbers")
    assert caught.value.extra == {"file": "p.parquet", "column": "extra"}
