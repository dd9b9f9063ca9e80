"""Score one stored submission: public and private parts, metrics with 95% intervals.

Standing benchmarks (``public_fraction`` 1) score the whole test set once (the public part).
Competitions score the public and the private parts separately, split by the keyed hash of
:mod:`heldout.benchmarks.split`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from heldout.benchmarks import phases
from heldout.benchmarks.spec import BenchmarkSpec
from heldout.benchmarks.split import public_mask, split_key
from heldout.benchmarks.submissions import score_config
from heldout.benchmarks.truth import load_truth, subset
from heldout.catalog.benchmark_models import Submission
from heldout.scoring import ScoreReport, Truth, compare, read_predictions, score
from heldout.services import Services

TEST_DELAY_ENV = "HELDOUT_TEST_SCORING_DELAY"  # honoured only when environment == "test"


@dataclass(frozen=True)
class Parts:
    """The truth of one submission's split, cut into the public and the private part."""

    public: Truth
    private: Truth | None


def parts(services: Services, spec: BenchmarkSpec, phase: str) -> Parts:
    """Public and private truths of a phase's split."""
    truth = load_truth(services, spec, phases.split_of(spec, phase))
    if not spec.is_competition:
        return Parts(truth, None)
    key = split_key(services.settings.secret_key.get_secret_value(), spec.id)
    mask = public_mask(truth.ids.tolist(), key, spec.public_fraction)
    return Parts(subset(truth, mask), subset(truth, ~mask))


def rows_for(table: pa.Table, ids: np.ndarray) -> pa.Table:
    """The prediction rows whose id is one of ``ids`` (ids compared as text)."""
    column = table.column("id").combine_chunks()
    if pa.types.is_integer(column.type) or pa.types.is_dictionary(column.type):
        column = pc.cast(column, pa.string())
    return table.filter(pc.is_in(column, value_set=pa.array(ids.tolist(), pa.string())))


def summary(report: ScoreReport, spec: BenchmarkSpec, n: int) -> dict[str, Any]:
    """What is stored and shown: the benchmark's metrics, their intervals, the sample size."""
    names = [m for m in spec.metrics if m in report.metrics]
    return {
        "primary_metric": spec.primary_metric,
        "primary": report.metrics[spec.primary_metric],
        "metrics": {m: report.metrics[m] for m in names},
        "intervals": {m: {"low": report.intervals[m].low, "high": report.intervals[m].high}
                      for m in names if m in report.intervals},
        "confidence": 0.95, "n": n,
    }


def load_predictions(services: Services, sub: Submission) -> pa.Table:
    data = services.stores.private.get_bytes(sub.object_key)
    table, _ = read_predictions(data, name=sub.filename,
                                max_bytes=services.settings.max_prediction_bytes)
    return table


def _test_delay(services: Services) -> None:
    if services.settings.environment == "test" and os.environ.get(TEST_DELAY_ENV):
        time.sleep(float(os.environ[TEST_DELAY_ENV]))


def score_submission(services: Services, spec: BenchmarkSpec,
                     sub: Submission) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(public scores, private scores or None) of a stored submission."""
    _test_delay(services)
    table = load_predictions(services, sub)
    cut = parts(services, spec, sub.phase)
    config = score_config(spec, services.settings.max_prediction_bytes)
    results: list[dict[str, Any] | None] = []
    for part in (cut.public, cut.private):
        if part is None or len(part.ids) == 0:
            results.append(None)
            continue
        report = score(spec.task, part, rows_for(table, part.ids), config, name=sub.filename)
        results.append(summary(report, spec, len(part.ids)))
    public, private = results
    assert public is not None
    return public, private


def p_leader_better(services: Services, spec: BenchmarkSpec, leader: Submission,
                    other: Submission, private: bool) -> float:
    """Paired bootstrap: the share of resamples where the leader beats ``other``."""
    cut = parts(services, spec, leader.phase)
    truth = cut.private if private and cut.private is not None else cut.public
    config = score_config(spec, services.settings.max_prediction_bytes)
    a = rows_for(load_predictions(services, leader), truth.ids)
    b = rows_for(load_predictions(services, other), truth.ids)
    result = compare(spec.task, truth, a, b, config)
    return float(result.p_a_better[spec.primary_metric])
