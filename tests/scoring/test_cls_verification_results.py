"""What a verification result reports: counts, costs, the rejection text, minDCF, DET points.

The golden tests check EER and minDCF values; these check the rest of ``VerificationResult``
(the trial counts and the cost parameters it reports), the whole text of the rejection when a
file has only one kind of trial (also as ``score()`` gives it), minDCF when a false alarm is the
cheaper error (the normaliser is then ``C_fa·(1 − P_target)``), and the DET points thinned
for plots.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import roc_curve

from heldout.errors import InvalidInput
from heldout.scoring import ScoreConfig, score
from heldout.scoring.verification import verification_metrics

# Sorted by score: 0.9 T, 0.8 T, 0.7 N, 0.3 T, 0.2 N, 0.1 N. (P_fa, P_miss) from reject-all:
# (0,1) (0,2/3) (0,1/3) (1/3,1/3) (1/3,0) (2/3,0) (1,0).
LABELS = np.array([1, 1, 0, 1, 0, 0])
SCORES = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1])


def test_result_reports_trial_counts_and_the_costs_it_used() -> None:
    r = verification_metrics(LABELS, SCORES, p_target=0.05, c_miss=2.0, c_fa=3.0, n_missing=2)
    assert (r.n, r.n_missing, r.n_target, r.n_nontarget) == (6, 2, 3, 3)
    assert (r.p_target, r.c_miss, r.c_fa) == (0.05, 2.0, 3.0)
    d = r.to_dict()
    assert {k: d[k] for k in ("n", "n_missing", "n_target", "n_nontarget")} == {
        "n": 6, "n_missing": 2, "n_target": 3, "n_nontarget": 3
    }
    assert (d["p_target"], d["c_miss"], d["c_fa"]) == (0.05, 2.0, 3.0)


def test_defaults_are_the_sre_costs_and_no_missing_trials() -> None:
    # NIST SRE 2016-2021 primary parameters: P_target 0.01, C_miss = C_fa = 1
    r = verification_metrics(LABELS, SCORES)
    assert (r.p_target, r.c_miss, r.c_fa, r.n_missing) == (0.01, 1.0, 1.0, 0)
    # DCF = 0.01 P_miss + 0.99 P_fa, least 0.01/3 at (0, 1/3), normalised by 0.01
    assert r.min_dcf == pytest.approx(1 / 3)
    assert r.min_dcf_threshold == pytest.approx(0.8)
    assert r.det_p_fa.size == 7  # 7 ROC points: far below the 501 kept for plots


@pytest.mark.parametrize(
    ("labels", "counts"),
    [([1, 1, 1], "3 target and 0 non-target"), ([0, 0], "0 target and 2 non-target"),
     ([], "0 target and 0 non-target")],
)
def test_one_kind_of_trial_is_rejected_saying_how_many_of_each(
    labels: list[int], counts: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        verification_metrics(np.array(labels, dtype=np.int64), np.linspace(0, 1, len(labels)))
    assert err.value.detail == (
        f"verification needs target and non-target trials; got {counts}"
    )
    assert str(err.value) == err.value.detail


def test_score_rejects_a_split_with_only_target_trials_with_the_same_text() -> None:
    truth = pa.table({"id": ["a", "b", "c"], "label": [1, 1, 1]})
    predictions = pa.table({"id": ["a", "b", "c"], "score": [0.1, 0.2, 0.3]})
    with pytest.raises(InvalidInput) as err:
        score("verification", truth, predictions, ScoreConfig(resamples=0))
    assert err.value.to_problem()["detail"] == (
        "verification needs target and non-target trials; got 3 target and 0 non-target"
    )


@pytest.mark.parametrize(
    ("p_target", "c_miss", "c_fa", "normaliser"),
    [
        # a miss costs 0.9, a false alarm 0.1: the best trivial system accepts everything
        (0.9, 1.0, 1.0, 0.1),
        # even odds, cheap false alarms: min(1 x 0.5, 0.1 x 0.5) = 0.05
        (0.5, 1.0, 0.1, 0.05),
    ],
)
def test_min_dcf_is_normalised_by_the_cheaper_trivial_system(
    p_target: float, c_miss: float, c_fa: float, normaliser: float
) -> None:
    r = verification_metrics(LABELS, SCORES, p_target=p_target, c_miss=c_miss, c_fa=c_fa)
    # DCF = C_miss P_miss P_target + C_fa P_fa (1 - P_target) is least at (1/3, 0), threshold
    # 0.3: no misses, one false alarm in three
    least = c_fa * (1 - p_target) / 3
    assert r.min_dcf == pytest.approx(least / normaliser)
    assert r.min_dcf == pytest.approx(1 / 3)
    assert r.min_dcf_threshold == pytest.approx(0.3)
    # the same from scikit-learn's ROC points
    fpr, tpr, _ = roc_curve(LABELS, SCORES, drop_intermediate=False)
    dcf = c_miss * (1 - tpr) * p_target + c_fa * fpr * (1 - p_target)
    assert r.min_dcf == pytest.approx(dcf.min() / min(c_miss * p_target, c_fa * (1 - p_target)))


def _trials(n: int) -> tuple[np.ndarray, np.ndarray]:
    """n trials with distinct scores, alternating target / non-target: n + 1 ROC points."""
    rng = np.random.default_rng(n)
    labels = np.arange(n) % 2
    scores = rng.permutation(n).astype(np.float64)
    return labels, scores


def _full_det(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    return fpr, 1 - tpr


def test_det_points_are_thinned_evenly_keeping_both_ends() -> None:
    labels, scores = _trials(12)  # 13 ROC points
    fa, miss = _full_det(labels, scores)
    assert fa.size == 13
    r = verification_metrics(labels, scores, det_points=5)
    keep = [0, 3, 6, 9, 12]  # evenly spread over 0..12, first and last included
    assert r.det_p_fa.tolist() == pytest.approx(fa[keep].tolist())
    assert r.det_p_miss.tolist() == pytest.approx(miss[keep].tolist())
    assert (r.det_p_fa[0], r.det_p_miss[0]) == (0.0, 1.0)  # reject all
    assert (r.det_p_fa[-1], r.det_p_miss[-1]) == (1.0, 0.0)  # accept all
    # at the limit or under it, every point is kept
    for limit in (13, 14):
        whole = verification_metrics(labels, scores, det_points=limit)
        assert whole.det_p_fa.tolist() == pytest.approx(fa.tolist())
        assert whole.det_p_miss.tolist() == pytest.approx(miss.tolist())


def test_det_curve_keeps_501_points_by_default() -> None:
    labels, scores = _trials(1000)  # 1001 ROC points
    fa, miss = _full_det(labels, scores)
    r = verification_metrics(labels, scores)
    assert r.det_p_fa.size == r.det_p_miss.size == 501
    assert r.det_p_fa.tolist() == pytest.approx(fa[::2].tolist())
    assert r.det_p_miss.tolist() == pytest.approx(miss[::2].tolist())
