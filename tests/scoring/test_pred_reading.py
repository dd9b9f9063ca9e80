# ruff: noqa: E501  (the expected messages are kept whole, as a participant reads them)
"""Reading a prediction file: which format it is read as, what it is called in messages,
how CSV headers are read (every named column stays text), and the size limit on each kind
of source. Observed through ``read_predictions`` and ``score`` as a caller sees them."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from heldout.errors import PayloadTooLarge, PredictionError
from heldout.scoring import ScoreReport, score
from heldout.scoring.predictions import read_predictions

NAMES = ["cat", "dog", "bird"]
CLS = pa.table({"id": ["a", "b", "c", "d"], "label": [0, 1, 2, 1]})
ZERO_IDS = pa.table({"id": ["007", "010"], "label": [0, 1]})
GOOD_CSV = b"id,prediction\na,cat\nb,dog\nc,bird\nd,dog\n"
GOOD_ROWS = [{"id": i, "prediction": p} for i, p in zip("abcd", ["cat", "dog", "bird", "dog"], strict=True)]
GOOD_JSONL = "".join(json.dumps(r) + "\n" for r in GOOD_ROWS).encode()


def parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


GOOD_PARQUET = parquet(pa.table({"id": list("abcd"), "prediction": ["cat", "dog", "bird", "dog"]}))


def cls(data: Any, name: str | None = None, truth: pa.Table = CLS, **cfg: object) -> ScoreReport:
    return score("classification", truth, data, {"resamples": 0, **cfg}, label_names=NAMES, name=name)


def rejected(data: Any, name: str | None = None, truth: pa.Table = CLS, **cfg: object) -> PredictionError:
    with pytest.raises(PredictionError) as info:
        cls(data, name, truth, **cfg)
    return info.value


# --- format: the extension decides, then the content, then CSV ------------------------


@pytest.mark.parametrize("fmt,data", [("csv", GOOD_CSV), ("jsonl", GOOD_JSONL), ("parquet", GOOD_PARQUET)])
def test_an_explicit_format_is_used_whatever_the_name(fmt: str, data: bytes) -> None:
    table, name = read_predictions(data, fmt=fmt, name="upload.txt")
    assert name == "upload.txt"
    assert table.to_pylist() == GOOD_ROWS


def test_an_unknown_explicit_format_names_the_file() -> None:
    with pytest.raises(PredictionError) as info:
        read_predictions(GOOD_CSV, fmt="xml", name="p.xml")
    assert info.value.detail == "p.xml: unknown format 'xml'; use csv, jsonl or parquet"
    assert info.value.extra == {"file": "p.xml"}


def test_the_extension_wins_over_content_that_looks_like_another_format() -> None:
    # CSV text in a file named .jsonl is read as JSON lines, and refused as such
    e = rejected(GOOD_CSV, "p.jsonl")
    assert e.detail == "p.jsonl: not a readable JSONL file: JSON parse error: Invalid value. in row 0"
    assert e.extra == {"file": "p.jsonl", "format": "jsonl"}


def test_extensions_are_matched_whatever_their_case() -> None:
    assert cls(GOOD_JSONL, "P.JSONL").metrics["accuracy"] == 1.0
    e = rejected(GOOD_CSV, "P.JSONL")
    assert e.extra["format"] == "jsonl"


def test_without_an_extension_parquet_and_json_lines_are_recognised_by_content() -> None:
    assert cls(GOOD_PARQUET).metrics["accuracy"] == 1.0
    assert cls(GOOD_JSONL).metrics["accuracy"] == 1.0
    # blank lines before the first object still make it JSON lines
    assert cls(b"\n  \n" + GOOD_JSONL).metrics["accuracy"] == 1.0


def test_content_sniffing_looks_at_the_first_eight_bytes(tmp_path: Path) -> None:
    # eight spaces before the "{": nothing JSON-like in the first eight bytes, so it is CSV
    data = b" " * 8 + GOOD_JSONL
    for source in (data, tmp_path / "preds"):
        if isinstance(source, Path):
            source.write_bytes(data)
        table, _ = read_predictions(source)
        assert table.column_names == ['        {"id": "a"', ' "prediction": "cat"}']  # CSV
    assert cls(b" " * 7 + GOOD_JSONL).metrics["accuracy"] == 1.0


def test_anything_else_is_csv_and_named_predictions_when_unnamed() -> None:
    with pytest.raises(PredictionError) as info:
        read_predictions(b"")
    assert info.value.detail == "predictions: not a readable CSV file: Empty CSV file"
    assert info.value.extra == {"file": "predictions", "format": "csv"}


# --- sources: paths, bytes, open files ----------------------------------------------


def test_files_on_disk_of_each_format_are_read(tmp_path: Path) -> None:
    for name, data in [("p.csv", GOOD_CSV), ("p.jsonl", GOOD_JSONL), ("p.parquet", GOOD_PARQUET),
                       ("noext_parquet", GOOD_PARQUET), ("noext_jsonl", GOOD_JSONL)]:
        path = tmp_path / name
        path.write_bytes(data)
        table, label = read_predictions(path)
        assert label == name
        assert table.to_pylist() == GOOD_ROWS, name


def test_an_open_file_is_named_after_its_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "mine.csv"
    path.parent.mkdir()
    path.write_bytes(b"id,prediction\na,cat\n")
    with open(path, "rb") as f:
        e = rejected(f)
    assert e.detail == "mine.csv: 3 test ids have no prediction (first 3: 'b', 'c', 'd'); every test example needs one"
    assert e.extra["file"] == "mine.csv"


def test_a_stream_without_a_name_is_called_predictions() -> None:
    e = rejected(io.BytesIO(b"id,prediction\na,cat\n"))
    assert e.detail.startswith("predictions: 3 test ids have no prediction")
    assert e.extra["file"] == "predictions"
    table, label = read_predictions(io.BytesIO(GOOD_CSV), name="given.csv")
    assert (label, table.num_rows) == ("given.csv", 4)


class _Endless(io.RawIOBase):
    """An upload that never ends: a bounded read gets its bytes, an unbounded one fails."""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            raise AssertionError("unbounded read of an upload")
        return b"x" * size


def test_an_endless_upload_is_cut_at_the_limit() -> None:
    with pytest.raises(PayloadTooLarge) as info:
        read_predictions(_Endless(), name="up.csv", max_bytes=1000)  # type: ignore[arg-type]
    assert info.value.detail == "up.csv: over the 1000-byte limit for predictions"
    assert info.value.extra == {"file": "up.csv", "limit": 1000}


def test_size_limit_on_bytes_is_exact() -> None:
    table, _ = read_predictions(GOOD_CSV, max_bytes=len(GOOD_CSV))
    assert table.num_rows == 4
    with pytest.raises(PayloadTooLarge) as info:
        read_predictions(GOOD_CSV, name="p.csv", max_bytes=len(GOOD_CSV) - 1)
    assert info.value.extra == {"file": "p.csv", "limit": len(GOOD_CSV) - 1}


def test_size_limit_on_a_path_reports_file_size_and_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(GOOD_CSV)
    with pytest.raises(PayloadTooLarge) as info:
        read_predictions(path, max_bytes=5)
    assert info.value.detail == f"big.csv: {len(GOOD_CSV)} bytes is over the 5-byte limit for predictions"
    assert info.value.extra == {"file": "big.csv", "size": len(GOOD_CSV), "limit": 5}


# --- CSV: every column named in the header is text ----------------------------------


def test_csv_ids_keep_leading_zeros() -> None:
    assert cls(b"id,prediction\n007,cat\n010,dog\n", "p.csv", ZERO_IDS).metrics["accuracy"] == 1.0


def test_csv_with_a_byte_order_mark_keeps_ids_as_text() -> None:
    data = b"\xef\xbb\xbfid,prediction\n007,cat\n010,dog\n"
    assert cls(data, "p.csv", ZERO_IDS).metrics["accuracy"] == 1.0


def test_csv_with_carriage_return_line_ends() -> None:
    for data in (b"id,prediction\r007,cat\r010,dog\r", b"id,prediction\r\n007,cat\r\n010,dog\r\n"):
        assert cls(data, "p.csv", ZERO_IDS).metrics["accuracy"] == 1.0


def test_csv_header_with_a_quoted_line_break_keeps_later_columns_as_text() -> None:
    data = b'"note\non two lines",id,prediction\nx,007,cat\ny,010,dog\n'
    assert cls(data, "p.csv", ZERO_IDS).metrics["accuracy"] == 1.0


def test_csv_names_win_over_indices_even_when_names_are_digits() -> None:
    # label names "1" and "0": the text "1" is the name "1" (index 0), not index 1
    truth = pa.table({"id": ["a", "b"], "label": [0, 1]})
    r = score("classification", truth, b"id,prediction\na,1\nb,0\n", {"resamples": 0},
              label_names=["1", "0"], name="p.csv")
    assert r.metrics["accuracy"] == 1.0


def test_csv_values_may_hold_quoted_line_breaks() -> None:
    data = b'id,text\nu1,"hello\nworld"\nu2,"good\r\nmorning"\n'
    table, _ = read_predictions(data, name="a.csv")
    assert table.to_pylist() == [{"id": "u1", "text": "hello\nworld"}, {"id": "u2", "text": "good\r\nmorning"}]


def test_csv_header_that_is_not_utf8_is_refused_as_unreadable() -> None:
    e = rejected(b"id,prediction,caf\xe9\na,cat,1\n", "p.csv")
    assert e.detail == (
        "p.csv: not a readable CSV file: 'utf-8' codec can't decode byte 0xe9 in position 3: "
        "unexpected end of data"
    )
    assert e.extra == {"file": "p.csv", "format": "csv"}


def test_csv_over_a_mebibyte_with_multibyte_text_is_read() -> None:
    # the header is looked for in the first MiB, which here ends inside a two-byte character
    filler = "é" * 700_000
    data = ("id,prediction,note\na,cat," + filler + "\nb,dog,x\nc,bird,x\nd,dog,x\n").encode()
    assert len(data) > 1 << 20
    assert cls(data, "p.csv").metrics["accuracy"] == 1.0


def test_empty_csv_cells_are_empty_text_not_missing() -> None:
    truth = pa.table({"id": ["u1", "u2"], "text": ["hello", "world"]})
    r = score("speech-recognition", truth, b"id,text\nu1,\nu2,world\n", {"resamples": 0}, name="a.csv")
    assert r.metrics["wer"] == 0.5


# --- Parquet ------------------------------------------------------------------------


def test_parquet_without_rows_is_read_with_its_columns() -> None:
    data = parquet(pa.table({"id": pa.array([], pa.string()), "prediction": pa.array([], pa.string())}))
    table, _ = read_predictions(data, name="p.parquet")
    assert table.column_names == ["id", "prediction"] and table.num_rows == 0
    e = rejected(data, "p.parquet")
    assert e.detail == "p.parquet: 4 test ids have no prediction (first 4: 'a', 'b', 'c', 'd'); every test example needs one"


def test_parquet_without_columns_lists_none_found() -> None:
    e = rejected(parquet(pa.table({})), "p.parquet")
    assert e.detail == "p.parquet: missing column 'id', 'prediction' (columns found: none)"
    assert e.extra["errors"] == [{"kind": "missing_column", "columns": ["id", "prediction"]}]


def _uuids(n: int) -> pa.ExtensionArray:
    return pa.ExtensionArray.from_storage(pa.uuid(), pa.array([b"0" * 16] * n, pa.binary(16)))


@pytest.mark.parametrize("column", [
    pa.ListArray.from_arrays([0, 1, 2, 3, 4], _uuids(4)),
    pa.LargeListArray.from_arrays([0, 1, 2, 3, 4], _uuids(4)),
    pa.FixedSizeListArray.from_arrays(_uuids(4), 1),
    pa.ListArray.from_arrays([0, 1, 2, 3, 4], pa.ListArray.from_arrays([0, 1, 2, 3, 4], _uuids(4))),
], ids=["list", "large_list", "fixed_size_list", "list_of_list"])
def test_extension_types_inside_lists_are_refused(column: pa.Array) -> None:
    data = parquet(pa.table({"id": list("abcd"), "prediction": [0, 1, 2, 1], "u": column}))
    e = rejected(data, "p.parquet")
    assert e.detail == f"p.parquet: column 'u' has the extension type {pq.read_table(io.BytesIO(data)).schema.field('u').type}; use plain strings and numbers"
    assert e.extra == {"file": "p.parquet", "column": "u"}


def test_csv_header_name_over_the_csv_field_limit_is_refused_as_unreadable() -> None:
    e = rejected(b"id,prediction," + b"x" * 200_000 + b"\na,cat,1\n", "p.csv")
    assert e.detail == "p.csv: not a readable CSV file: field larger than field limit (131072)"
    assert e.extra == {"file": "p.csv", "format": "csv"}


def test_csv_quoted_line_breaks_across_read_block_boundaries() -> None:
    # the file is read in 4 MiB blocks; most line breaks here are inside quoted values, so
    # a reader that split blocks at any line break would cut a value in two
    rows = b"".join(b'r%07d,"a\nb\nc\nd"\n' % i for i in range(500_000))  # 9.5 MB
    table, _ = read_predictions(b"id,text\n" + rows, name="p.csv")
    assert table.num_rows == 500_000
    assert set(table.column("text").unique().to_pylist()) == {"a\nb\nc\nd"}
    assert table.column("id")[-1].as_py() == "r0499999"


def test_csv_column_named_with_a_carriage_return_stays_text_past_the_first_block() -> None:
    # every named column is read as text, also one whose quoted name holds a lone CR: its
    # values look like integers for the first 4 MiB block and are text after it
    rows = b"".join(b"%d,r%07d\n" % (i, i) for i in range(400_000))  # 5.9 MB
    table, _ = read_predictions(b'"a\rb",id\n' + rows + b"text,rlast\n", name="p.csv")
    assert table.column_names == ["a\rb", "id"]
    assert table.column("a\rb")[-1].as_py() == "text"
    assert table.column("a\rb")[0].as_py() == "0"
