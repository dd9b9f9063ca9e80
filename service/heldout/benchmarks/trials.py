"""Verification trial lists: random same/different-speaker pairs of held-out utterances.

Built once at sync from the private labels (the speaker column), stored privately with their
target labels; the public list carries only ``id``, ``enroll_id`` and ``test_id``, with random
trial ids and a random order, so it says nothing about speakers.
"""

from __future__ import annotations

import secrets

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from heldout.benchmarks.spec import BenchmarkSpec, SpecError
from heldout.benchmarks.truth import labels_table, read_parquet
from heldout.errors import ObjectNotFound
from heldout.layout import trials_key
from heldout.services import Services


def draw_trials(ids: list[str], speakers: list[str], pairs: int,
                rng: np.random.Generator) -> pa.Table:
    """About half target (same speaker) and half non-target pairs of distinct utterances."""
    speaker_arr = np.asarray(speakers, dtype=object)
    by_speaker = {s: np.flatnonzero(speaker_arr == s) for s in set(speakers)}
    multi = [idx for idx in by_speaker.values() if len(idx) >= 2]
    if not multi or len(by_speaker) < 2:
        raise SpecError("field 'trials': the held-out split needs two speakers and a speaker "
                        "with two utterances to form target and non-target trials")
    rows: set[tuple[int, int]] = set()
    budget = pairs * 20
    while len(rows) < pairs and budget > 0:
        budget -= 1
        if len(rows) % 2 == 0:
            group = multi[rng.integers(len(multi))]
            a, b = rng.choice(group, 2, replace=False)
        else:
            a, b = rng.choice(len(ids), 2, replace=False)
            if speaker_arr[a] == speaker_arr[b]:
                continue
        rows.add((int(a), int(b)))
    order = list(rows)
    rng.shuffle(order)
    return pa.table({
        "id": [secrets.token_hex(8) for _ in order],
        "enroll_id": [ids[a] for a, _ in order],
        "test_id": [ids[b] for _, b in order],
        "label": np.asarray([int(speaker_arr[a] == speaker_arr[b]) for a, b in order],
                            dtype=np.int64),
    })


def ensure_trials(services: Services, spec: BenchmarkSpec, rebuild: bool = False) -> int:
    """Build and store the private trial list unless it exists; returns its length."""
    assert spec.trials is not None
    key = trials_key(spec.id)
    if not rebuild:
        try:
            return int(read_parquet(services, key).num_rows)
        except ObjectNotFound:
            pass
    table = labels_table(services, spec, spec.split)
    column = spec.trials.speaker_column
    if column not in table.column_names:
        raise SpecError(f"benchmark {spec.id!r}: field 'trials.speaker_column': {column!r} is "
                        f"not a held-out label column ({', '.join(table.column_names)})")
    trials = draw_trials([str(i) for i in table.column("id").to_pylist()],
                         [str(s) for s in table.column(column).to_pylist()],
                         spec.trials.pairs, np.random.default_rng(secrets.randbits(64)))
    sink = pa.BufferOutputStream()
    pq.write_table(trials, sink)
    services.stores.private.put(key, sink.getvalue().to_pybytes())
    return int(trials.num_rows)


def public_trials(services: Services, spec: BenchmarkSpec) -> pa.Table:
    """The trial list without its labels."""
    return read_parquet(services, trials_key(spec.id)).select(["id", "enroll_id", "test_id"])
