"""Held-out ground truth of a benchmark, read from the private store in scoring form.

The labels file of the benchmark's split (``private/labels/{name}/{version}/{split}.parquet``)
is filtered by the benchmark's ``filter`` (equality on label columns; a ClassLabel column
matches by name or index) and turned into a ``heldout.scoring.Truth``. Verification
benchmarks score trials instead: their truth is the private trial list built at sync.
Dataset versions are immutable, so truths are cached per process.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray

from heldout.benchmarks.memo import Memo
from heldout.benchmarks.spec import BenchmarkSpec, SpecError, score_hash
from heldout.errors import NotFound, ObjectNotFound
from heldout.formats.manifest import Manifest
from heldout.layout import labels_key, trials_key
from heldout.scoring import Truth, make_truth
from heldout.services import Services

_TRUTHS = Memo(16)  # per private store


def read_parquet(services: Services, key: str) -> pa.Table:
    """A private Parquet object as a table."""
    return pq.read_table(pa.BufferReader(services.stores.private.get_bytes(key)))


def manifest_of(services: Services, spec: BenchmarkSpec) -> Manifest:
    """The benchmark's dataset version; NotFound says the version is gone."""
    try:
        return services.repository.manifest(spec.dataset_name, spec.dataset_version)
    except NotFound:
        raise NotFound(f"benchmark {spec.id!r}: its dataset version {spec.dataset} no longer "
                       "exists; the benchmark cannot take or score submissions",
                       dataset=spec.dataset) from None


def apply_filter(table: pa.Table, spec: BenchmarkSpec, manifest: Manifest) -> pa.Table:
    """Rows of the labels table matching every ``filter`` equality."""
    for column, wanted in spec.filter.items():
        if column not in table.column_names:
            raise SpecError(f"benchmark {spec.id!r}: field 'filter': column {column!r} is not "
                            f"in the held-out labels ({', '.join(table.column_names)})")
        names = manifest.label_names.get(column)
        value: Any = wanted
        if names and isinstance(wanted, str):
            if wanted not in names:
                raise SpecError(f"benchmark {spec.id!r}: field 'filter': {wanted!r} is not a "
                                f"{column} label ({', '.join(names)})")
            value = names.index(wanted)
        table = table.filter(pc.equal(table.column(column), pa.scalar(value)))
    return table


def labels_table(services: Services, spec: BenchmarkSpec, split: str) -> pa.Table:
    """The filtered held-out labels of ``split``."""
    manifest = manifest_of(services, spec)
    if split not in manifest.held_out:
        raise SpecError(f"benchmark {spec.id!r}: field 'split': {split!r} is not a held-out "
                        f"split of {spec.dataset} (held out: {', '.join(manifest.held_out)})")
    try:
        table = read_parquet(services, labels_key(spec.dataset_name, spec.dataset_version, split))
    except ObjectNotFound:
        raise NotFound(f"the held-out labels of {spec.dataset} {split} are missing") from None
    return apply_filter(table, spec, manifest)


def _build(services: Services, spec: BenchmarkSpec, split: str) -> Truth:
    if spec.task == "verification":
        trials = read_parquet(services, trials_key(spec.id))
        return make_truth("verification", {"id": trials.column("id").to_pylist(),
                                           "label": trials.column("label").to_numpy()})
    table = labels_table(services, spec, split)
    if spec.truth_column not in table.column_names:
        raise SpecError(f"benchmark {spec.id!r}: field 'truth_column': {spec.truth_column!r} "
                        f"is not a held-out label column ({', '.join(table.column_names)})")
    table = table.filter(pc.is_valid(table.column(spec.truth_column)))  # no truth: not scored
    values = table.column(spec.truth_column).to_pylist()
    ids = [str(i) for i in table.column("id").to_pylist()]
    if spec.task == "speech-recognition":
        return make_truth("speech-recognition", {"id": ids, "text": values})
    names = manifest_of(services, spec).label_names.get(spec.truth_column)
    if names is None:
        names = sorted({str(v) for v in values})
        values = [str(v) for v in values]
    return make_truth("classification", {"id": ids, "label": values}, label_names=names)


def load_truth(services: Services, spec: BenchmarkSpec, split: str | None = None) -> Truth:
    """The benchmark's truth on ``split`` (default: its own split), cached per process."""
    split = split or spec.split
    key = (spec.id, score_hash(spec), split)
    cached: Truth | None = _TRUTHS.get(services.stores.private, key)
    if cached is None:
        cached = _build(services, spec, split)
        _TRUTHS.put(services.stores.private, key, cached)
    return cached


def subset(truth: Truth, mask: NDArray[np.bool_]) -> Truth:
    """The examples of ``truth`` where ``mask`` is true."""
    texts = None if truth.texts is None else [t for t, m in zip(truth.texts, mask, strict=True)
                                               if m]
    labels = None if truth.labels is None else truth.labels[mask]
    return Truth(truth.ids[mask], labels=labels, texts=texts, label_names=truth.label_names)
