"""Bootstrap: seeded, sensible intervals, paired comparisons."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from heldout.scoring import compare, score
from heldout.scoring.bootstrap import bootstrap, classification_statistic, verification_statistic
from heldout.scoring.verification import verification_metrics


def _cls_case(n: int = 400, acc: float = 0.8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    pred = np.where(rng.random(n) < acc, y, (y + 1) % 4)
    return y, pred


def test_same_seed_same_interval_other_seed_differs() -> None:
    y, p = _cls_case()
    stat = classification_statistic(y, p, 4)
    a = bootstrap(stat, len(y), 300, seed=7)
    b = bootstrap(stat, len(y), 300, seed=7)
    c = bootstrap(stat, len(y), 300, seed=8)
    assert a == b
    assert a["accuracy"] != c["accuracy"]


def test_interval_contains_estimate_and_shrinks_with_n() -> None:
    y, p = _cls_case(400)
    small = bootstrap(classification_statistic(y, p, 4), len(y), 500)["accuracy"]
    acc = float(np.mean(y == p))
    assert small.low < acc < small.high
    y2, p2 = _cls_case(6400)
    large = bootstrap(classification_statistic(y2, p2, 4), len(y2), 500)["accuracy"]
    assert (large.high - large.low) < (small.high - small.low) / 2
    # binomial standard error: the 95% half-width is close to 1.96 sqrt(p(1-p)/n)
    half = 1.96 * np.sqrt(acc * (1 - acc) / len(y))
    assert (small.high - small.low) / 2 == pytest.approx(half, rel=0.25)


def test_verification_statistic_identity_equals_metrics() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 500)
    scores = rng.normal(size=500) + labels
    r = verification_metrics(labels, scores, p_target=0.05)
    v = verification_statistic(labels, scores, 0.05, 1.0, 1.0)(np.arange(500)[None, :])
    assert v["eer"][0] == pytest.approx(r.eer, abs=1e-12)
    assert v["min_dcf"][0] == pytest.approx(r.min_dcf, abs=1e-12)


def test_paired_bootstrap_probabilities() -> None:
    y, good = _cls_case(500, acc=0.9, seed=2)
    _, bad = _cls_case(500, acc=0.6, seed=3)
    names = ["a", "b", "c", "d"]
    truth = pa.table({"id": [str(i) for i in range(500)], "label": y})

    def table(pred: np.ndarray) -> pa.Table:
        return pa.table({"id": [str(i) for i in range(500)], "prediction": pred})

    cmp = compare(
        "classification", truth, table(good), table(bad), {"resamples": 200}, label_names=names
    )
    assert cmp.p_a_better["accuracy"] == 1.0
    assert cmp.delta["accuracy"] == pytest.approx(np.mean(good == y) - np.mean(bad == y))
    same = compare(
        "classification", truth, table(good), table(good), {"resamples": 200}, label_names=names
    )
    assert same.p_a_better["accuracy"] == 0.5


def test_speech_paired_lower_is_better() -> None:
    truth = pa.table({"id": ["1", "2", "3"], "text": ["a b c", "d e f", "g h i"]})
    good = pa.table({"id": ["1", "2", "3"], "text": ["a b c", "d e f", "g h x"]})
    bad = pa.table({"id": ["1", "2", "3"], "text": ["a x c", "x e f", "g x x"]})
    cmp = compare("speech-recognition", truth, good, bad, {"resamples": 100})
    assert cmp.p_a_better["wer"] == 1.0


def test_score_report_has_intervals_for_primary_metrics() -> None:
    y, p = _cls_case(200)
    truth = pa.table({"id": [str(i) for i in range(200)], "label": y})
    preds = pa.table({"id": [str(i) for i in range(200)], "prediction": p})
    r = score(
        "classification", truth, preds, {"resamples": 100, "seed": 3}, label_names=list("abcd")
    )
    assert {"accuracy", "f1_macro", "balanced_accuracy"} <= set(r.intervals)
    assert r.to_dict()["intervals"]["accuracy"]["seed"] == 3
