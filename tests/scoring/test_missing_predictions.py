"""``missing: count-as-wrong``: a missing prediction is wrong for every metric, never skipped.

README: missing predictions are "wrong (classification: no class — a false negative, never a
false positive; uniform probabilities for log loss/AUC; wrong for top-k)". Each test compares a
partial file with what that promise says the score must be, so dropping any part of it shows.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import log_loss, roc_auc_score

from heldout.scoring import ScoreConfig, ScoreReport, score
from heldout.scoring.classification import MISSING, classification_metrics

NAMES = ["cat", "dog", "bird"]
# c and d are the missing rows; d's true class is the last one, which wins every tie of a
# uniform row (scikit-learn's top-k tie rule), so a uniform row would be a "hit" for it.
TRUTH = pa.table({"id": ["a", "b", "c", "d", "e", "f"], "label": [0, 1, 1, 2, 0, 2]})
ANSWERED = {  # every answered row ranks its true class last: top-1 and top-2 misses
    "a": ("bird", [0.1, 0.3, 0.6]),
    "b": ("cat", [0.6, 0.1, 0.3]),
    "e": ("dog", [0.2, 0.5, 0.3]),
    "f": ("cat", [0.5, 0.4, 0.1]),
}
UNIFORM = [1 / 3, 1 / 3, 1 / 3]


def predictions(rows: dict[str, tuple[str, list[float]]]) -> pa.Table:
    ids = list(rows)
    return pa.table({
        "id": ids,
        "prediction": [rows[i][0] for i in ids],
        "scores": [rows[i][1] for i in ids],
    })


def partial_report(resamples: int = 0) -> ScoreReport:
    config = ScoreConfig(missing="count-as-wrong", top_k=(1, 2), resamples=resamples)
    return score("classification", TRUTH, predictions(ANSWERED), config, label_names=NAMES)


def test_a_missing_prediction_is_wrong_for_top_k() -> None:
    report = partial_report(resamples=200)
    assert report.metrics["top_1_accuracy"] == 0.0
    assert report.metrics["top_2_accuracy"] == 0.0
    # no resample can find a hit either
    for k in (1, 2):
        interval = report.intervals[f"top_{k}_accuracy"]
        assert (interval.low, interval.high) == (0.0, 0.0)


def test_missing_probabilities_are_uniform_for_log_loss_and_roc_auc() -> None:
    report = partial_report()
    filled = {**ANSWERED, "c": ("cat", UNIFORM), "d": ("cat", UNIFORM)}
    ids = TRUTH.column("id").to_pylist()
    y_true = TRUTH.column("label").to_pylist()
    probs = np.array([filled[i][1] for i in ids])
    expected_ll = log_loss(y_true, probs, labels=[0, 1, 2])
    expected_auc = roc_auc_score(y_true, probs, multi_class="ovr", labels=[0, 1, 2])
    assert report.metrics["log_loss"] == pytest.approx(expected_ll)
    assert report.metrics["roc_auc_ovr_macro"] == pytest.approx(expected_auc)
    # by hand: p(true) is 0.1 in three rows, 0.2 in one, and 1/3 in the two missing ones
    assert expected_ll == pytest.approx((3 * math.log(10) + math.log(5) + 2 * math.log(3)) / 6)


def test_log_loss_intervals_of_a_missing_row_equal_an_explicit_uniform_row() -> None:
    """The bootstrap resamples per-example losses: a missing row must be a uniform row there too
    (same seed and test set, so the same resamples)."""
    config = {"missing": "count-as-wrong", "resamples": 300, "top_k": [1, 2]}
    partial = score("classification", TRUTH, predictions(ANSWERED), config, label_names=NAMES)
    explicit = {**ANSWERED, "c": ("bird", UNIFORM), "d": ("cat", UNIFORM)}
    full = score("classification", TRUTH, predictions(explicit), config, label_names=NAMES)
    assert partial.metrics["log_loss"] == pytest.approx(full.metrics["log_loss"])
    low, high = partial.intervals["log_loss"].low, partial.intervals["log_loss"].high
    assert (low, high) == pytest.approx((full.intervals["log_loss"].low,
                                         full.intervals["log_loss"].high))
    assert low < high  # the resamples differ, so the comparison means something
    assert partial.metrics["roc_auc_ovr_macro"] == pytest.approx(full.metrics["roc_auc_ovr_macro"])


def test_classification_metrics_treat_minus_one_as_missing_whatever_its_scores_row() -> None:
    """Called directly (as the worker and the lab CLI do), a -1 prediction's scores row is not
    trusted: it is taken as uniform for log loss and ROC AUC, and never a top-k hit."""
    y_true = np.array([0, 1, 2, 2])
    y_pred = np.array([0, 1, MISSING, MISSING])
    confident = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    result = classification_metrics(y_true, y_pred, NAMES, confident, top_k=(1, 2))
    assert result.top_k_accuracy == {1: 0.5, 2: 0.5}
    uniform = confident.copy()
    uniform[2:] = 1 / 3
    assert result.log_loss == pytest.approx(log_loss(y_true, uniform, labels=[0, 1, 2]))
    assert result.roc_auc_ovr_macro == pytest.approx(
        roc_auc_score(y_true, uniform, multi_class="ovr", labels=[0, 1, 2]))
    assert result.accuracy == 0.5 and result.n_missing == 2
