"""Golden values from the references' own documentation and tests, and a hand-worked EER."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_curve

from heldout.scoring.classification import (
    classification_metrics,
    log_loss,
    roc_auc_ovr,
    top_k_accuracy,
)
from heldout.scoring.speech import speech_metrics
from heldout.scoring.verification import verification_metrics

NAMES3 = ["a", "b", "c"]


def test_sklearn_f1_docstring_example() -> None:
    # sklearn.metrics.f1_score docstring: macro 0.267, micro 0.333, weighted 0.267
    r = classification_metrics(np.array([0, 1, 2, 0, 1, 2]), np.array([0, 2, 1, 0, 0, 1]), NAMES3)
    assert r.f1_macro == pytest.approx(0.26666666666666666)
    assert r.f1_micro == pytest.approx(1 / 3)
    assert r.f1_weighted == pytest.approx(0.26666666666666666)
    assert [c.f1 for c in r.per_class] == pytest.approx([0.8, 0.0, 0.0])
    assert r.confusion_matrix.tolist() == [[2, 0, 0], [1, 0, 1], [0, 2, 0]]


@pytest.mark.parametrize(("k", "expected"), [(1, 0.25), (2, 0.5), (3, 1.0)])
def test_top_k_ties_towards_higher_index(k: int, expected: float) -> None:
    # sklearn test_top_k_accuracy_score_ties
    scores = np.array([[5, 5, 7, 0], [1, 5, 5, 5], [0, 0, 3, 3], [1, 1, 1, 1]], dtype=float)
    assert top_k_accuracy(np.array([0, 1, 2, 3]), scores, k) == pytest.approx(expected)


def test_ovr_auc_toy_data() -> None:
    # sklearn test_multiclass_ovr_roc_auc_toydata: macro 0.958333, weighted by prevalence
    scores = np.array([[1.0, 0.0, 0.0], [0.1, 0.5, 0.4], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]])
    macro, weighted = roc_auc_ovr(np.array([0, 1, 2, 2]), scores)
    assert macro == pytest.approx(0.958333, abs=1e-6)
    # per class 1, 1 and 0.875 (a tie at 0.4 counts one half); weights 1/4, 1/4, 1/2
    assert weighted == pytest.approx(0.25 + 0.25 + 0.5 * 0.875)


def test_log_loss_multiclass_example() -> None:
    # sklearn test_log_loss: 0.6904911
    probs = np.array([[0.2, 0.7, 0.1], [0.6, 0.2, 0.2], [0.6, 0.1, 0.3]])
    assert log_loss(np.array([1, 0, 2]), probs) == pytest.approx(0.6904911)


def test_jiwer_known_values() -> None:
    r = speech_metrics(["X Y X"], ["X Z"])
    assert r.wer == pytest.approx(2 / 3)
    assert r.mer == pytest.approx(2 / 3)
    assert r.wil == pytest.approx(5 / 6)
    assert (r.words.hits, r.words.substitutions, r.words.deletions, r.words.insertions) == (
        1,
        1,
        1,
        0,
    )


@pytest.mark.parametrize(
    ("refs", "hyps", "wer", "mer", "wil", "cer"),
    [
        ([""], [""], 0.0, 0.0, 0.0, 0.0),  # empty vs empty: no error
        ([""], ["a b"], 2.0, 1.0, 1.0, 3.0),  # all-empty reference: WER = insertions
        (["", "x"], ["a", "x"], 1.0, 0.5, 0.5, 1.0),  # one empty ref in a corpus: pooled
        (["a b"], [""], 1.0, 1.0, 1.0, 1.0),  # empty hypothesis: WIL 1
    ],
)
def test_jiwer_empty_reference_cases(
    refs: list[str], hyps: list[str], wer: float, mer: float, wil: float, cer: float
) -> None:
    r = speech_metrics(refs, hyps)
    assert (r.wer, r.mer, r.wil, r.cer) == pytest.approx((wer, mer, wil, cer))


def test_alignment_matches_jiwer_chunks() -> None:
    r = speech_metrics(["X Y X"], ["X Z"], alignments=True)
    assert r.alignments is not None
    a = r.alignments[0]
    assert a.reference == ("X", "Y", "X") and a.hypothesis == ("X", "Z")
    assert a.chunks() == [("equal", 0, 1, 0, 1), ("substitute", 1, 2, 1, 2), ("delete", 2, 3, 2, 2)]


def test_eer_and_min_dcf_worked_by_hand() -> None:
    # Sorted by score: 0.9 T, 0.8 T, 0.7 N, 0.3 T, 0.2 N, 0.1 N.
    # (P_fa, P_miss) as the threshold goes down: (0,1) (0,2/3) (0,1/3) (1/3,1/3) (1/3,0) ...
    # P_miss = P_fa first at threshold 0.7: EER = 1/3.
    labels = np.array([1, 1, 0, 1, 0, 0])
    scores = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1])
    r = verification_metrics(labels, scores, p_target=0.5)
    assert r.eer == pytest.approx(1 / 3)
    assert r.eer_threshold == pytest.approx(0.7)
    # DCF = 0.5 P_miss + 0.5 P_fa; its minimum 1/6 is at (0, 1/3) and (1/3, 0);
    # normalised by min(0.5, 0.5) = 0.5 -> 1/3.
    assert r.min_dcf == pytest.approx(1 / 3)
    # P_target 0.01: DCF = 0.01 P_miss + 0.99 P_fa, minimum 0.01/3 at (0, 1/3) -> /0.01 = 1/3,
    # reached at threshold 0.8.
    r2 = verification_metrics(labels, scores, p_target=0.01)
    assert r2.min_dcf == pytest.approx(1 / 3)
    assert r2.min_dcf_threshold == pytest.approx(0.8)
    assert r2.det_p_fa.tolist() == pytest.approx([0, 0, 0, 1 / 3, 1 / 3, 2 / 3, 1])
    assert r2.det_p_miss.tolist() == pytest.approx([1, 2 / 3, 1 / 3, 1 / 3, 0, 0, 0])


def test_eer_interpolates_between_points() -> None:
    # T 0.9, N 0.8, T 0.7, N 0.6: points (0,1) (0,.5) (.5,.5) (.5,0) (1,0) -> EER 0.5 exactly at
    # a point; with T 0.9, N 0.8, N 0.7, T 0.6: (0,1) (0,.5) (.5,.5) ... also 0.5.
    # A crossing at a vertex: T .9, N .8, T .7, T .6, N .5, N .4 (3 T, 3 N): points (P_fa, P_miss)
    # (0,1) (0,2/3) (1/3,2/3) (1/3,1/3) ...: P_miss = P_fa exactly at the vertex (1/3, 1/3).
    r = verification_metrics(np.array([1, 0, 1, 1, 0, 0]), np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4]))
    assert r.eer == pytest.approx(1 / 3)
    # Two trials, one of each kind, ranked wrong: segment from (0,1) to (1,1)... EER 1.
    r = verification_metrics(np.array([1, 0]), np.array([0.1, 0.9]))
    assert r.eer == pytest.approx(1.0)
    # Tied scores: one ROC step from (0,1) to (1,0); crossing at 0.5.
    r = verification_metrics(np.array([1, 0]), np.array([0.5, 0.5]))
    assert r.eer == pytest.approx(0.5)


def _roc_curve_eer(labels: list[int], scores: list[float]) -> float:
    """EER by linear interpolation of scikit-learn's roc_curve points (P_fa, 1 - TPR)."""
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    gap = (1 - tpr) - fpr
    i = int(np.flatnonzero(gap <= 0)[0])
    t = gap[i - 1] / (gap[i - 1] - gap[i])
    return float(fpr[i - 1] + t * (fpr[i] - fpr[i - 1]))


@pytest.mark.parametrize(
    ("labels", "scores", "by_hand"),
    [
        # T .9, N .8, T .7, N .6, N .5, T .4, N .3 (3 T, 4 N): (0,1) (0,2/3) (1/4,2/3) (1/4,1/3)
        # (1/2,1/3) ...: on the level segment P_miss = 1/3 from P_fa 1/4 to 1/2 the curves
        # cross at P_fa = 1/3, strictly inside it (no vertex has P_miss = P_fa).
        ([1, 0, 1, 0, 0, 1, 0], [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3], 1 / 3),
        # Tied scores make a sloped segment: T .9, then one T and two N tied at .5, N .1:
        # (0,1) (0,1/2) (2/3,0) (1,0). On P_miss = 1/2 - 3/4 P_fa the crossing is
        # x = 1/2 - 3x/4, x = 2/7 — inside the segment; no vertex rule (nearest vertex, mean
        # or max of its two rates: 1/4, 1/2, 2/3) gives 2/7.
        ([1, 1, 0, 0, 0], [0.9, 0.5, 0.5, 0.5, 0.1], 2 / 7),
    ],
)
def test_eer_crossing_strictly_inside_a_segment(labels: list[int], scores: list[float],
                                               by_hand: float) -> None:
    r = verification_metrics(np.array(labels), np.array(scores))
    assert r.eer == pytest.approx(by_hand)
    assert r.eer == pytest.approx(_roc_curve_eer(labels, scores))
