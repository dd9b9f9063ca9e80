"""Which rows of a held-out split a benchmark scores, and which prediction rows it ignores.

A benchmark scores the rows of its split that its ``filter`` selects and that have a truth
value (keyword spotting over ``digit`` leaves out the digit strings, whose digit is null).
Participants see only ids and inputs, so they predict every row of the split: rows of the
split that the benchmark does not score are dropped before validation and scoring. Missing
predictions are counted against the whole split (public ids), never against the scored rows,
so no answer says which rows the filter selects. Ids that are not in the split at all are
kept, so they are reported as unknown.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from heldout.benchmarks.memo import Memo
from heldout.benchmarks.spec import BenchmarkSpec
from heldout.benchmarks.truth import read_parquet
from heldout.errors import PredictionError
from heldout.layout import labels_key
from heldout.scoring import Truth
from heldout.services import Services

_SPLIT_IDS = Memo(16)  # per private store


def split_ids(services: Services, spec: BenchmarkSpec, split: str) -> pa.Array:
    """Every id of the held-out ``split`` (as text), cached: dataset versions are immutable."""
    key = (spec.dataset, split)
    cached: pa.Array | None = _SPLIT_IDS.get(services.stores.private, key)
    if cached is None:
        table = read_parquet(services, labels_key(spec.dataset_name, spec.dataset_version,
                                                  split))
        cached = pc.cast(table.column("id").combine_chunks(), pa.string())
        _SPLIT_IDS.put(services.stores.private, key, cached)
    return cached


def in_scope(services: Services, spec: BenchmarkSpec, split: str, truth: Truth,
             table: pa.Table, name: str = "predictions") -> pa.Table:
    """``table`` without the rows of ``split`` that the benchmark does not score."""
    if spec.task == "verification" or "id" not in table.column_names:
        return table  # trial ids are the whole scope; a missing id column is reported later
    ids = pc.cast(table.column("id").combine_chunks(), pa.string())
    scored = pa.array([str(i) for i in truth.ids.tolist()], pa.string())
    if len(scored) == len(split_ids(services, spec, split)):
        return table
    if spec.missing == "error":
        _check_whole_split(split_ids(services, spec, split), ids, split, name)
    outside = pc.and_(pc.is_in(ids, value_set=split_ids(services, spec, split)),
                      pc.invert(pc.is_in(ids, value_set=scored)))
    return table.filter(pc.invert(pc.fill_null(outside, False)))


def _check_whole_split(split: pa.Array, ids: pa.Array, split_name: str, name: str) -> None:
    """Refuse a file that leaves out rows of the split, naming them from the whole split."""
    absent = split.filter(pc.invert(pc.is_in(split, value_set=ids))).to_pylist()
    if absent:
        first = ", ".join(repr(i) for i in absent[:10])
        raise PredictionError(
            f"{name}: {len(absent)} ids of split {split_name!r} are missing (first "
            f"{min(10, len(absent))}: {first}); predict every row of the split (rows the "
            "benchmark does not score are ignored)",
            file=name, errors=[{"kind": "missing_ids", "count": len(absent),
                                "first": absent[:10]}])
