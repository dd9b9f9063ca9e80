"""Prediction files: parse CSV, JSONL or Parquet and validate them against the test set.

Formats (one row per test example, keyed by ``id``; other columns are ignored):

* classification -- ``prediction``: a label name, or a label index (integer, or in text
  formats a decimal string that is not itself a label name; names win). Optional class
  probabilities, one per class in label-index order: a list column ``scores``
  (JSONL/Parquet; in CSV a string such as ``"[0.1, 0.9]"`` or ``"0.1 0.9"``), or the
  columns ``score_0`` ... ``score_{C-1}``. Each row must sum to 1 within the tolerance.
* speech recognition -- ``text`` (the empty string is a valid, empty hypothesis).
* verification -- ``score``: one finite number per trial, higher = more likely target.

Files are read in blocks (pyarrow streaming readers) after a size check; extension-type
columns are refused. ``id`` values are compared as strings (JSON numbers are turned into
their decimal text). In messages, "row N" is the N-th data row, 1-based (the CSV header is
not a row). Every problem found is reported in one ``PredictionError`` whose ``extra``
carries ``file`` and ``errors`` (a list of ``{"kind", "count", "first", ...}``); id lists
show the count and the first ten.

Missing predictions: policy ``error`` (default) rejects; ``count-as-wrong`` scores them as
wrong (classification: no class; speech: empty hypothesis; verification: the worst score,
-inf for a target trial and +inf for a non-target one). Predictions are never skipped.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq
from numpy.typing import NDArray

from heldout.errors import InvalidInput, PayloadTooLarge, PredictionError

Source = str | os.PathLike[str] | bytes | BinaryIO
MissingPolicy = Literal["error", "count-as-wrong"]
MISSING_POLICIES = ("error", "count-as-wrong")
DEFAULT_MAX_BYTES = 256 * 1024**2
FIRST = 10
_FORMATS = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_NUMBER = r"^\s*[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|nan|NaN|inf|Infinity)\s*$"
_INTEGER = r"^\s*[-+]?\d{1,18}\s*$"  # fits in int64; longer is not an index


class _Problems:
    """Collects every problem of a file and raises them together."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.messages: list[str] = []
        self.errors: list[dict[str, Any]] = []

    def add(self, kind: str, message: str, **info: Any) -> None:
        self.messages.append(message)
        self.errors.append({"kind": kind, **info})

    def raise_if_any(self) -> None:
        if self.messages:
            raise PredictionError(
                f"{self.name}: " + "; ".join(self.messages), file=self.name, errors=self.errors
            )


def _first(values: Sequence[Any]) -> str:
    return ", ".join(repr(v) for v in list(values)[:FIRST])


# --- reading ------------------------------------------------------------------------


def _detect_format(head: bytes, name: str, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in ("csv", "jsonl", "parquet"):
            raise PredictionError(
                f"{name}: unknown format {fmt!r}; use csv, jsonl or parquet", file=name
            )
        return fmt
    suffix = Path(name).suffix.lower()
    if suffix in _FORMATS:
        return _FORMATS[suffix]
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.lstrip().startswith(b"{"):
        return "jsonl"
    return "csv"


def _open(source: Source, name: str | None, max_bytes: int) -> tuple[pa.NativeFile, str, bytes]:
    """A seekable Arrow file after checking the size limit, its display name, first bytes."""
    if isinstance(source, bytes):
        data, label = source, name or "predictions"
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        label = name or path.name
        size = path.stat().st_size
        if size > max_bytes:
            raise PayloadTooLarge(
                f"{label}: {size} bytes is over the {max_bytes}-byte limit for predictions",
                file=label,
                size=size,
                limit=max_bytes,
            )
        handle = pa.OSFile(str(path), "rb")
        head = handle.read(8)
        handle.seek(0)
        return handle, label, head
    else:
        label = name or str(getattr(source, "name", "predictions"))
        data = source.read(max_bytes + 1)
    label = Path(label).name
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"{label}: over the {max_bytes}-byte limit for predictions",
            file=label,
            limit=max_bytes,
        )
    return pa.BufferReader(data), label, data[:8]


HEADER_BYTES = 1 << 20


def _csv_header(handle: pa.NativeFile) -> list[str]:
    """The column names: the first CSV record in the first MiB (a quoted name may hold a
    line break; lines may end in CR, LF or CRLF, as pyarrow reads them)."""
    handle.seek(0)
    head = handle.read(HEADER_BYTES)
    handle.seek(0)
    text = io.StringIO(head.decode("utf-8-sig", errors="replace"), newline="")
    header = next(csv.reader(text), [])
    if len(head) == HEADER_BYTES and text.tell() == len(text.getvalue()):
        raise csv.Error(f"the header row is longer than {HEADER_BYTES >> 20} MiB")
    return header


def _read_batches(handle: pa.NativeFile, fmt: str) -> pa.Table:
    if fmt == "parquet":
        pf = pq.ParquetFile(handle)
        return pa.Table.from_batches(list(pf.iter_batches(batch_size=65536)), pf.schema_arrow)
    if fmt == "jsonl":
        reader: Any = pajson.open_json(handle)
    else:
        columns = _csv_header(handle)
        reader = pacsv.open_csv(
            handle,
            read_options=pacsv.ReadOptions(block_size=1 << 22),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(columns, pa.string()), strings_can_be_null=False
            ),
        )
    return reader.read_all()


def read_predictions(
    source: Source,
    fmt: str | None = None,
    name: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[pa.Table, str]:
    """Read a prediction file into an Arrow table; returns the table and the file's name.

    Raises PayloadTooLarge over ``max_bytes`` and PredictionError for unreadable files or
    extension-type columns.
    """
    handle, label, head = _open(source, name, max_bytes)
    fmt = _detect_format(head, label, fmt)
    try:
        table = _read_batches(handle, fmt)
        table.column_names  # noqa: B018  (a column name that is not UTF-8 raises here)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError, csv.Error) as exc:
        raise PredictionError(
            f"{label}: not a readable {fmt.upper()} file: {exc}", file=label, format=fmt
        ) from None
    finally:
        handle.close()
    for f in table.schema:
        t = f.type
        while pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
            t = t.value_type
        if isinstance(t, pa.BaseExtensionType) or isinstance(f.type, pa.BaseExtensionType):
            raise PredictionError(
                f"{label}: column {f.name!r} has the extension type {f.type}; "
                "use plain strings and numbers",
                file=label,
                column=f.name,
            )
    return table, label


# --- validation helpers -------------------------------------------------------------


def _rows(mask: NDArray[np.bool_]) -> list[int]:
    return (np.flatnonzero(mask)[:FIRST] + 1).tolist()


def _report_nulls(arr: pa.Array, column: str, problems: _Problems, phrase: str,
                  row_of: Callable[[NDArray[np.bool_]], list[int]]) -> bool:
    """Add a ``null`` problem naming the rows where ``arr`` is null; True if there were any."""
    nulls = arr.is_null().to_numpy(zero_copy_only=False)
    if not nulls.any():
        return False
    problems.add(
        "null",
        f"column {column!r} {phrase} in {int(nulls.sum())} rows "
        f"(first rows: {_first(row_of(nulls))})",
        column=column,
        count=int(nulls.sum()),
        rows=row_of(nulls),
    )
    return True


def _report_wrong_type(problems: _Problems, column: str, expected: str, arr: pa.Array) -> None:
    """Add a ``wrong_type`` problem: ``column`` must hold ``expected``, not ``arr.type``."""
    problems.add("wrong_type", f"column {column!r} must hold {expected}, got {arr.type}",
                 column=column, type=str(arr.type))


def _require(table: pa.Table, columns: Sequence[str], problems: _Problems) -> None:
    absent = [c for c in columns if c not in table.column_names]
    if absent:
        problems.add(
            "missing_column",
            f"missing column {', '.join(map(repr, absent))} "
            f"(columns found: {', '.join(table.column_names) or 'none'})",
            columns=absent,
        )
    problems.raise_if_any()


def _string_column(table: pa.Table, column: str, problems: _Problems) -> pa.Array | None:
    """The column as strings; integers become their decimal text; others are wrong types."""
    arr = table.column(column).combine_chunks()
    if pa.types.is_integer(arr.type) or pa.types.is_dictionary(arr.type):
        arr = pc.cast(arr, pa.string())
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        _report_wrong_type(problems, column, "strings", arr)
        return None
    if _report_nulls(arr, column, problems, "is empty (null)", _rows):
        return None
    return arr


def _float_column(
    arr: pa.Array, column: str, problems: _Problems, parents: NDArray[np.int64] | None = None
) -> NDArray[np.float64] | None:
    """Numbers (or numeric text) as float64; reports wrong types, nulls and NaN/inf by row."""

    def row_of(mask: NDArray[np.bool_]) -> list[int]:
        if parents is None:
            return _rows(mask)
        return list(dict.fromkeys((parents[mask] + 1).tolist()))[:FIRST]

    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        # a null is not a bad number: it is reported as a null below, like in numeric columns
        bad = ~pc.match_substring_regex(arr, _NUMBER).fill_null(True).to_numpy(
            zero_copy_only=False
        )
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            problems.add(
                "wrong_type",
                f"column {column!r} must hold numbers; row {row_of(bad)[0]} has "
                f"{arr[i].as_py()!r} ({int(bad.sum())} such values, rows {_first(row_of(bad))})",
                column=column,
                count=int(bad.sum()),
                rows=row_of(bad),
            )
            return None
        arr = pc.cast(pc.utf8_trim_whitespace(arr), pa.float64())
    if pa.types.is_boolean(arr.type) or not (
        pa.types.is_integer(arr.type)
        or pa.types.is_floating(arr.type)
        or pa.types.is_null(arr.type)
    ):
        _report_wrong_type(problems, column, "numbers", arr)
        return None
    if _report_nulls(arr, column, problems, "has no value", row_of):
        return None
    values = arr.to_numpy(zero_copy_only=False).astype(np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        problems.add(
            "not_finite",
            f"column {column!r} has NaN or infinite values in {int(bad.sum())} rows "
            f"(first rows: {_first(row_of(bad))})",
            column=column,
            count=int(bad.sum()),
            rows=row_of(bad),
        )
        return None
    return values


@dataclass(frozen=True)
class Join:
    """Where each test example's prediction is: ``row[i]`` (-1 if missing)."""

    row: NDArray[np.int64]
    missing: NDArray[np.bool_]

    @property
    def n_missing(self) -> int:
        return int(self.missing.sum())


def join_ids(
    table: pa.Table,
    truth_ids: Sequence[str] | NDArray[Any],
    problems: _Problems,
    missing: MissingPolicy = "error",
) -> Join:
    """Match prediction ids to test ids; report duplicates, unknown and missing ids."""
    if missing not in MISSING_POLICIES:
        raise InvalidInput(f"missing policy must be one of {MISSING_POLICIES}, not {missing!r}")
    _require(table, ["id"], problems)
    ids = _string_column(table, "id", problems)
    problems.raise_if_any()
    assert ids is not None
    empty = pc.utf8_length(ids).to_numpy(zero_copy_only=False) == 0
    if empty.any():
        problems.add(
            "empty_id",
            f"{int(empty.sum())} rows have an empty id (first rows: {_first(_rows(empty))})",
            count=int(empty.sum()),
            rows=_rows(empty),
        )
    truth = pa.array([str(t) for t in truth_ids], pa.string())
    counts = pc.value_counts(ids)
    dup_mask = pc.greater(counts.field("counts"), 1)
    dups = counts.field("values").filter(dup_mask).to_pylist()
    if dups:
        problems.add(
            "duplicate_ids",
            f"{len(dups)} ids appear more than once "
            f"(first {min(FIRST, len(dups))}: {_first(dups)})",
            count=len(dups),
            first=dups[:FIRST],
        )
    pos = pc.index_in(ids, value_set=truth).to_numpy(zero_copy_only=False)
    unknown_mask = np.isnan(pos) if pos.dtype.kind == "f" else np.zeros(len(pos), bool)
    if unknown_mask.any():
        unknown = ids.filter(pa.array(unknown_mask)).to_pylist()
        problems.add(
            "unknown_ids",
            f"{len(unknown)} ids are not in the test set (first {min(FIRST, len(unknown))}: "
            f"{_first(unknown)})",
            count=len(unknown),
            first=unknown[:FIRST],
        )
    known_pos = np.where(unknown_mask, -1, np.nan_to_num(pos, nan=-1)).astype(np.int64)
    row = np.full(len(truth), -1, dtype=np.int64)
    keep = known_pos >= 0
    row[known_pos[keep][::-1]] = np.flatnonzero(keep)[::-1]
    absent = row < 0
    if absent.any() and missing == "error":
        names = truth.filter(pa.array(absent)).to_pylist()
        problems.add(
            "missing_ids",
            f"{len(names)} test ids have no prediction (first {min(FIRST, len(names))}: "
            f"{_first(names)}); every test example needs one",
            count=len(names),
            first=names[:FIRST],
        )
    return Join(row=row, missing=absent)


# --- per task -----------------------------------------------------------------------


@dataclass(frozen=True)
class ClassificationPredictions:
    """Predicted class per test example (-1 = missing) and optional probabilities."""

    labels: NDArray[np.int64]
    scores: NDArray[np.float64] | None
    n_missing: int


def _label_indices(arr: pa.Array, c: int, problems: _Problems) -> NDArray[np.int64] | None:
    """Integer predictions: label indices, each in ``0..c-1``."""
    if _report_nulls(arr, "prediction", problems, "is empty (null)", _rows):
        return None
    idx = arr.to_numpy(zero_copy_only=False).astype(np.int64)
    bad = (idx < 0) | (idx >= c)
    if bad.any():
        problems.add(
            "unknown_labels",
            f"column 'prediction' has label indices outside 0..{c - 1} in {int(bad.sum())} "
            f"rows (first rows: {_first(_rows(bad))}; values {_first(idx[bad].tolist())})",
            column="prediction",
            count=int(bad.sum()),
            rows=_rows(bad),
        )
        return None
    return idx


def _label_strings(arr: pa.Array, problems: _Problems) -> pa.Array | None:
    """Text predictions as a string array; other types and nulls are reported."""
    if pa.types.is_dictionary(arr.type):
        arr = pc.cast(arr, pa.string())
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        _report_wrong_type(problems, "prediction",
                           "label names (strings) or label indices (integers)", arr)
        return None
    if _report_nulls(arr, "prediction", problems, "is empty (null)", _rows):
        return None
    return arr


def _label_names_or_indices(
    arr: pa.Array, label_names: Sequence[str], problems: _Problems
) -> NDArray[np.int64] | None:
    """Text predictions: a label name, else the decimal text of a label index."""
    c = len(label_names)
    names = pa.array([str(n) for n in label_names], pa.string())
    pos = pc.index_in(arr, value_set=names)
    by_name = pos.is_valid().to_numpy(zero_copy_only=False)
    out = pos.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    if by_name.all():
        return out
    is_int = pc.match_substring_regex(arr, _INTEGER).to_numpy(zero_copy_only=False)
    use_int = ~by_name & is_int
    if use_int.any():
        text = pc.utf8_ltrim(pc.utf8_trim_whitespace(arr.filter(pa.array(use_int))), "+")
        ints = pc.cast(text, pa.int64())
        out[use_int] = np.asarray(ints.to_numpy(zero_copy_only=False), dtype=np.int64)
    bad = ~by_name & (~is_int | (out < 0) | (out >= c))
    if bad.any():
        values = arr.filter(pa.array(bad)).to_pylist()
        known = ", ".join(map(repr, list(label_names)[:FIRST])) + (" ..." if c > FIRST else "")
        problems.add(
            "unknown_labels",
            f"column 'prediction' has {int(bad.sum())} values that are neither a label "
            f"name nor an index 0..{c - 1} (first rows: {_first(_rows(bad))}; values "
            f"{_first(values)}); labels are {known}",
            column="prediction",
            count=int(bad.sum()),
            rows=_rows(bad),
            first=values[:FIRST],
        )
        return None
    return out


def _labels(
    arr: pa.Array, label_names: Sequence[str], problems: _Problems
) -> NDArray[np.int64] | None:
    """Predicted labels as indices into ``label_names`` (from indices, names or index text)."""
    if pa.types.is_integer(arr.type):
        return _label_indices(arr, len(label_names), problems)
    strings = _label_strings(arr, problems)
    return None if strings is None else _label_names_or_indices(strings, label_names, problems)


def _list_scores(arr: pa.Array, c: int, problems: _Problems) -> NDArray[np.float64] | None:
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        stripped = pc.utf8_trim(arr, "[] \t")
        arr = pc.split_pattern_regex(stripped, r"[,\s]+")
    if not (
        pa.types.is_list(arr.type)
        or pa.types.is_large_list(arr.type)
        or pa.types.is_fixed_size_list(arr.type)
    ):
        _report_wrong_type(problems, "scores", f"lists of {c} numbers", arr)
        return None
    if _report_nulls(arr, "scores", problems, "is empty (null)", _rows):
        return None
    lengths = pc.list_value_length(arr).to_numpy(zero_copy_only=False)
    wrong = lengths != c
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        problems.add(
            "score_count",
            f"column 'scores' must have {c} values per row (one per class); row {i + 1} has "
            f"{int(lengths[i])} ({int(wrong.sum())} such rows, first rows: {_first(_rows(wrong))})",
            column="scores",
            expected=c,
            rows=_rows(wrong),
        )
        return None
    parents = pc.list_parent_indices(arr).to_numpy(zero_copy_only=False)
    values = _float_column(pc.list_flatten(arr), "scores", problems, parents=parents)
    return None if values is None else values.reshape(len(arr), c)


def _column_scores(table: pa.Table, c: int, problems: _Problems) -> NDArray[np.float64] | None:
    found = [n for n in table.column_names if n.startswith("score_")]
    expected = [f"score_{i}" for i in range(c)]
    if sorted(found) != sorted(expected):
        problems.add(
            "score_columns",
            f"found {len(found)} score columns ({_first(found)}); expected {c}, "
            f"score_0 ... score_{c - 1}, one per class",
            found=found[:FIRST],
            expected=c,
        )
        return None
    cols = [_float_column(table.column(n).combine_chunks(), n, problems) for n in expected]
    if any(col is None for col in cols):
        return None
    return np.column_stack(cols)  # type: ignore[arg-type]


def _check_probabilities(
    scores: NDArray[np.float64], tolerance: float, problems: _Problems
) -> None:
    negative = np.asarray((scores < 0).any(axis=1) | (scores > 1).any(axis=1))
    if negative.any():
        problems.add(
            "score_range",
            f"scores must be probabilities in [0, 1]; {int(negative.sum())} rows are not "
            f"(first rows: {_first(_rows(negative))})",
            rows=_rows(negative),
        )
        return
    sums = scores.sum(axis=1)
    off = np.abs(sums - 1.0) > tolerance
    if off.any():
        i = int(np.flatnonzero(off)[0])
        problems.add(
            "score_sum",
            f"scores must sum to 1 within {tolerance:g}; row {i + 1} sums to {sums[i]:.6g} "
            f"({int(off.sum())} such rows, first rows: {_first(_rows(off))})",
            rows=_rows(off),
            tolerance=tolerance,
        )


def classification_predictions(
    table: pa.Table,
    name: str,
    truth_ids: Sequence[str] | NDArray[Any],
    label_names: Sequence[str],
    missing: MissingPolicy = "error",
    tolerance: float = 1e-3,
) -> ClassificationPredictions:
    """Validate a classification prediction table and align it with the test ids."""
    problems = _Problems(name)
    _require(table, ["id", "prediction"], problems)
    join = join_ids(table, truth_ids, problems, missing)
    labels = _labels(table.column("prediction").combine_chunks(), label_names, problems)
    scores = None
    c = len(label_names)
    if "scores" in table.column_names:
        scores = _list_scores(table.column("scores").combine_chunks(), c, problems)
    elif any(n.startswith("score_") for n in table.column_names):
        scores = _column_scores(table, c, problems)
    if scores is not None:
        _check_probabilities(scores, tolerance, problems)
    problems.raise_if_any()
    assert labels is not None
    found = ~join.missing
    y_pred = np.full(len(join.row), -1, dtype=np.int64)
    y_pred[found] = labels[join.row[found]]
    aligned = None
    if scores is not None:
        aligned = np.full((len(join.row), c), 1.0 / c)
        aligned[found] = scores[join.row[found]]
    return ClassificationPredictions(y_pred, aligned, join.n_missing)


@dataclass(frozen=True)
class SpeechPredictions:
    """Hypothesis per test utterance ("" when missing)."""

    texts: list[str]
    n_missing: int


def speech_predictions(
    table: pa.Table,
    name: str,
    truth_ids: Sequence[str] | NDArray[Any],
    missing: MissingPolicy = "error",
) -> SpeechPredictions:
    """Validate a speech prediction table and align it with the test ids."""
    problems = _Problems(name)
    _require(table, ["id", "text"], problems)
    join = join_ids(table, truth_ids, problems, missing)
    arr = table.column("text").combine_chunks()
    text = None
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        text = _string_column(table, "text", problems)
    else:
        _report_wrong_type(problems, "text", "strings", arr)
    problems.raise_if_any()
    assert text is not None
    take = pa.array(np.maximum(join.row, 0))
    texts = text.take(take).to_pylist() if len(text) else [""] * len(join.row)
    if join.n_missing:
        for i in np.flatnonzero(join.missing).tolist():
            texts[i] = ""
    return SpeechPredictions(texts, join.n_missing)


@dataclass(frozen=True)
class VerificationPredictions:
    """Score per test trial (missing: -inf for targets, +inf for non-targets)."""

    scores: NDArray[np.float64]
    n_missing: int


def verification_predictions(
    table: pa.Table,
    name: str,
    truth_ids: Sequence[str] | NDArray[Any],
    truth_labels: NDArray[np.int64],
    missing: MissingPolicy = "error",
) -> VerificationPredictions:
    """Validate a verification prediction table and align it with the test trials."""
    problems = _Problems(name)
    _require(table, ["id", "score"], problems)
    join = join_ids(table, truth_ids, problems, missing)
    values = _float_column(table.column("score").combine_chunks(), "score", problems)
    problems.raise_if_any()
    assert values is not None
    take = np.maximum(join.row, 0)
    scores = values[take] if len(values) else np.zeros(len(take))
    worst = np.where(np.asarray(truth_labels) == 1, -np.inf, np.inf)
    return VerificationPredictions(np.where(join.missing, worst, scores), join.n_missing)
