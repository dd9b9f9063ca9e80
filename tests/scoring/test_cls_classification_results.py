"""What a classification result reports, checked field by field against scikit-learn.

Covers the parts of ``ClassificationResult`` the other scoring tests leave unread: the example
count, the per-class rows (label, precision, recall, F1, support), the JSON form of the counts,
the top-k values reported when a benchmark names none, zero examples, label arrays that are
not int64 (CIFAR ships uint8 labels; a binary task may use booleans), log-loss clipping at
both ends, which classes ROC AUC leaves out, top-k past the ranking's row chunks, and
``prf_from_counts`` on count arrays of different shapes.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from sklearn import metrics as skm

from heldout.scoring.classification import (
    MISSING,
    classification_metrics,
    confusion,
    log_loss,
    prf_from_counts,
    roc_auc_ovr,
    top_k_accuracy,
)

NAMES = ["cat", "dog", "bird"]
# one missing prediction (row 6, a true "dog"); classes differ in every per-class value
Y_TRUE = np.array([0, 0, 0, 1, 1, 1, 1, 2])
Y_PRED = np.array([0, 0, 1, 1, 2, 0, MISSING, 2])


@contextmanager
def no_warnings() -> Iterator[None]:
    """Scoring valid input must not print warnings into a worker's log."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_result_names_each_class_with_its_precision_recall_f1_and_support() -> None:
    with no_warnings():
        r = classification_metrics(Y_TRUE, Y_PRED, NAMES)
    # scikit-learn: a missing prediction is a label outside labels= (never a false positive)
    sk_pred = np.where(Y_PRED == MISSING, len(NAMES), Y_PRED)
    p, rec, f, s = skm.precision_recall_fscore_support(
        Y_TRUE, sk_pred, labels=[0, 1, 2], average=None, zero_division=0
    )
    assert [c.label for c in r.per_class] == NAMES
    assert [c.precision for c in r.per_class] == pytest.approx(list(p))
    assert [c.recall for c in r.per_class] == pytest.approx(list(rec))
    assert [c.f1 for c in r.per_class] == pytest.approx(list(f))
    assert [c.support for c in r.per_class] == [3, 4, 1] == list(s)
    # by hand: cat 2/3 precise, 2/3 recalled; dog 1/2 and 1/4; bird 1/2 and 1/1
    assert [c.precision for c in r.per_class] == pytest.approx([2 / 3, 1 / 2, 1 / 2])
    assert [c.recall for c in r.per_class] == pytest.approx([2 / 3, 1 / 4, 1.0])
    assert (r.n, r.n_missing) == (8, 1)
    rows = r.to_dict()["per_class"]
    assert rows[1] == {"label": "dog", "precision": 0.5, "recall": 0.25, "f1": pytest.approx(1 / 3),
                       "support": 4}


def test_counts_serialise_as_json_integers_with_and_without_missing_rows() -> None:
    complete = classification_metrics(Y_TRUE, np.where(Y_PRED == MISSING, 1, Y_PRED), NAMES)
    partial = classification_metrics(Y_TRUE, Y_PRED, NAMES)
    assert json.dumps(complete.to_dict()["missing_per_class"]) == "[0, 0, 0]"
    assert json.dumps(partial.to_dict()["missing_per_class"]) == "[0, 1, 0]"
    assert json.dumps(complete.to_dict()["confusion_matrix"]) == (
        "[[2, 1, 0], [1, 2, 1], [0, 0, 1]]"
    )
    assert json.dumps([complete.to_dict()["n"], complete.to_dict()["n_missing"]]) == "[8, 0]"


def test_zero_examples_score_zero_everywhere_without_warnings() -> None:
    empty = np.array([], dtype=np.int64)
    with no_warnings():
        r = classification_metrics(empty, empty, NAMES)
    assert (r.n, r.n_missing) == (0, 0)
    assert r.metrics() == dict.fromkeys(
        (
            "accuracy",
            "balanced_accuracy",
            "precision_macro",
            "recall_macro",
            "f1_macro",
            "precision_micro",
            "recall_micro",
            "f1_micro",
            "precision_weighted",
            "recall_weighted",
            "f1_weighted",
        ),
        0.0,
    )
    assert r.confusion_matrix.tolist() == [[0, 0, 0], [0, 0, 0], [0, 0, 0]]
    assert r.missing_per_class.tolist() == [0, 0, 0]
    assert [(c.label, c.support) for c in r.per_class] == [("cat", 0), ("dog", 0), ("bird", 0)]


@pytest.mark.parametrize(
    ("n_classes", "expected"),
    [(1, [1]), (2, [1]), (5, [1]), (6, [1, 5]), (10, [1, 5])],
)
def test_top_k_reported_by_default_is_1_and_5_below_the_class_count(
    n_classes: int, expected: list[int]
) -> None:
    # top-5 is reported only when it can miss: with 5 or fewer classes it is always 1.0
    rng = np.random.default_rng(n_classes)
    y = rng.integers(0, n_classes, 12)
    probs = rng.dirichlet(np.ones(n_classes), 12)
    names = [f"c{i}" for i in range(n_classes)]
    r = classification_metrics(y, probs.argmax(axis=1), names, probs)
    assert sorted(r.top_k_accuracy) == expected
    assert [m for m in r.metrics() if m.startswith("top_")] == [
        f"top_{k}_accuracy" for k in expected
    ]
    for k in expected:
        assert r.top_k_accuracy[k] == pytest.approx(
            float(np.mean(np.argsort(-probs, axis=1, kind="stable")[:, :k] == y[:, None]) * k)
        )


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint32, np.int32])
def test_labels_of_any_integer_dtype_score_as_int64(dtype: type[np.integer]) -> None:
    # CIFAR-100 style: 100 classes, uint8 labels; one missing prediction and scores
    rng = np.random.default_rng(7)
    names = [f"c{i}" for i in range(100)]
    y_true = np.array([99, 5, 42, 0, 17, 63])
    y_pred = np.array([99, MISSING, 41, 0, 17, 2])
    probs = rng.dirichlet(np.ones(100), 6)
    probs[[0, 3], [99, 0]] = 1.0  # two confident hits
    ref = classification_metrics(y_true, y_pred, names, probs, (1, 5))
    with no_warnings():
        r = classification_metrics(y_true.astype(dtype), y_pred, names, probs, (1, 5))
    assert r.metrics() == ref.metrics()
    assert np.array_equal(r.confusion_matrix, ref.confusion_matrix)
    assert r.missing_per_class.tolist() == ref.missing_per_class.tolist()
    # the missing row (true class 5) is a top-k miss whatever its scores say
    assert ref.top_k_accuracy[1] == pytest.approx(2 / 6)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint64, np.int16])
def test_confusion_counts_labels_of_any_integer_dtype(dtype: type[np.integer]) -> None:
    y_true = np.array([99, 99, 5, 0])
    y_pred = np.array([98, 99, 5, 99])
    cm, missing = confusion(y_true.astype(dtype), y_pred.astype(dtype), 100)
    expected = np.zeros((100, 100), dtype=np.int64)
    for t, p in zip(y_true, y_pred, strict=True):
        expected[t, p] += 1
    assert np.array_equal(cm, expected)
    assert missing.tolist() == [0] * 100


def test_boolean_labels_of_a_binary_task_are_classes_0_and_1() -> None:
    y = np.array([True, False, True, True, False])
    probs = np.array([[0.2, 0.8], [0.7, 0.3], [0.6, 0.4], [0.1, 0.9], [0.45, 0.55]])
    as_int = y.astype(np.int64)
    with no_warnings():
        assert log_loss(y, probs) == pytest.approx(skm.log_loss(as_int, probs), rel=1e-12)
        assert top_k_accuracy(y, probs, 1) == pytest.approx(0.6)
        macro, weighted = roc_auc_ovr(y, probs)
    # sklearn's binary AUC of the positive column; OvR on two classes gives it for both
    auc = skm.roc_auc_score(as_int, probs[:, 1])
    assert (macro, weighted) == pytest.approx((auc, auc))
    assert auc == pytest.approx(5 / 6)


def test_log_loss_clips_probabilities_to_eps_and_1_minus_eps_like_sklearn() -> None:
    eps = np.finfo(np.float64).eps
    certain = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    with no_warnings():
        perfect = log_loss(np.array([0, 1]), certain)
        hopeless = log_loss(np.array([1, 0]), certain)
    # a perfect prediction still costs -log(1 - eps), exactly as scikit-learn says
    assert perfect == -np.log(1 - eps) == skm.log_loss([0, 1], certain, labels=[0, 1, 2])
    assert perfect > 0.0
    # probability 0 for the true class is finite: -log(eps) = 36.04
    assert hopeless == pytest.approx(-np.log(eps), rel=1e-15)
    assert hopeless == pytest.approx(skm.log_loss([1, 0], certain, labels=[0, 1, 2]), rel=1e-15)


def _ovr_reference(y: np.ndarray, scores: np.ndarray) -> tuple[float | None, float | None]:
    """Binary scikit-learn AUC per class that has positives and negatives; mean and weighted."""
    aucs, weights = [], []
    for k in range(scores.shape[1]):
        positive = y == k
        if positive.any() and not positive.all():
            aucs.append(skm.roc_auc_score(positive, scores[:, k]))
            weights.append(int(positive.sum()))
    if not aucs:
        return None, None
    return float(np.mean(aucs)), float(np.average(aucs, weights=weights))


SCORES3 = np.array(
    [[0.5, 0.3, 0.2], [0.2, 0.6, 0.2], [0.4, 0.1, 0.5], [0.3, 0.4, 0.3], [0.1, 0.2, 0.7]]
)


@pytest.mark.parametrize(
    "labels",
    [
        [0, 1, 0, 1, 1],  # bird never occurs: left out of both averages (scikit-learn raises)
        [0, 1, 2, 1, 2],  # every class present
        [2, 2, 2, 2, 1],  # bird has a single negative example: still counted; cat absent
    ],
)
def test_roc_auc_averages_the_classes_with_positives_and_negatives(labels: list[int]) -> None:
    y = np.array(labels)
    with no_warnings():
        macro, weighted = roc_auc_ovr(y, SCORES3)
    ref_macro, ref_weighted = _ovr_reference(y, SCORES3)
    assert ref_macro is not None and ref_weighted is not None
    assert macro == pytest.approx(ref_macro, abs=1e-12)
    assert weighted == pytest.approx(ref_weighted, abs=1e-12)


def test_roc_auc_counts_a_class_with_one_negative_example() -> None:
    # cat: 4 positives all above its one negative (AUC 1); dog: its one positive beats 1 of 4
    # negatives (AUC 0.25); bird absent
    y = np.array([0, 0, 0, 0, 1])
    macro, weighted = roc_auc_ovr(y, SCORES3)
    assert macro == pytest.approx((1.0 + 0.25) / 2)
    assert weighted == pytest.approx((4 * 1.0 + 1 * 0.25) / 5)


def test_roc_auc_is_none_when_every_example_has_the_same_class() -> None:
    with no_warnings():
        assert roc_auc_ovr(np.array([1, 1, 1, 1, 1]), SCORES3) == (None, None)
        r = classification_metrics(np.array([1, 1, 1, 1, 1]), np.array([1, 1, 0, 1, 2]), NAMES,
                                   SCORES3)
    assert r.roc_auc_ovr_macro is None and r.roc_auc_ovr_weighted is None
    assert "roc_auc_ovr_macro" not in r.metrics()


def test_top_k_ranks_every_row_of_a_long_file() -> None:
    # more rows than two of the ranking's 4096-row chunks: the last rows count too
    rng = np.random.default_rng(11)
    n = 9000
    scores = rng.random((n, 3))
    y = scores.argmax(axis=1)
    y[:3000] = (y[:3000] + 1) % 3  # the first third are top-1 misses
    assert top_k_accuracy(y, scores, 1) == pytest.approx(
        skm.top_k_accuracy_score(y, scores, k=1, labels=[0, 1, 2])
    )
    assert top_k_accuracy(y, scores, 1) == pytest.approx(6000 / 9000)


@pytest.mark.parametrize(
    ("tp", "pred_pos", "support"),
    [
        # per-resample counts (2 resamples x 3 classes) against one fixed support row
        ([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0]], [[2.0, 2.0, 1.0], [1.0, 4.0, 3.0]], [2.0, 4.0, 3.0]),
        # one TP row against per-resample predicted and true counts
        ([1.0, 2.0, 0.0], [[2.0, 2.0, 1.0], [1.0, 4.0, 0.0]], [[2.0, 4.0, 0.0], [3.0, 2.0, 1.0]]),
    ],
)
def test_prf_from_counts_broadcasts_count_arrays_like_numpy(
    tp: list[object], pred_pos: list[object], support: list[object]
) -> None:
    t, pp, s = np.broadcast_arrays(np.array(tp), np.array(pred_pos), np.array(support))
    precision, recall, f1 = prf_from_counts(np.array(tp), np.array(pred_pos), np.array(support))
    for got, num, den in ((precision, t, pp), (recall, t, s), (f1, 2 * t, s + pp)):
        assert got.shape == t.shape
        expected = [a / b if b else 0.0 for a, b in zip(num.ravel(), den.ravel(), strict=True)]
        assert got.ravel().tolist() == pytest.approx(expected)
