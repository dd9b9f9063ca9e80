"""Verification metrics (speaker, face): EER, normalised minDCF and DET points.

A trial is a target (label 1) or non-target (label 0) with a score; higher scores mean
"same identity". A threshold ``t`` accepts every trial with ``score >= t``. The ROC is
built once by sorting (O(n log n)) with one operating point per distinct score, plus the
"accept nothing" point, exactly the points of ``sklearn.metrics.roc_curve(...,
drop_intermediate=False)``.

* **EER** is where the piecewise-linear ROC crosses ``P_miss = P_fa``: on the segment
  between the last point with ``P_miss > P_fa`` and the next one, the crossing is found by
  linear interpolation (the common ``brentq(lambda x: 1 - x - interp1d(fpr, tpr)(x))``
  recipe, computed in closed form). ``eer_threshold`` is the score of the segment's end.
* **minDCF** follows the NIST SRE evaluation plans: ``DCF(t) = C_miss·P_miss(t)·P_target +
  C_fa·P_fa(t)·(1-P_target)``, normalised by ``min(C_miss·P_target,
  C_fa·(1-P_target))`` (the cost of the best trivial system), minimised over all
  thresholds including accept-all and reject-all. Defaults ``P_target = 0.01``,
  ``C_miss = C_fa = 1`` (SRE 2016-2021 primary parameters); a benchmark may change them
  and they are reported with the result.
* **DET** points are ``(P_fa, P_miss)`` of every ROC point, thinned to at most
  ``det_points`` points for plots (both ends kept); plot them on normal-deviate axes.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from heldout.errors import InvalidInput
from heldout.scoring.results import VerificationResult

FloatArray = NDArray[np.float64]
EQUAL_TOL = 1e-12  # rates closer than this count as equal (1 - 2/3 vs 1/3)


def roc_points(
    labels: NDArray[np.int64], scores: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(p_fa, p_miss, thresholds)`` at every distinct score, from reject-all to accept-all."""
    labels = np.asarray(labels)
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(scores)[::-1]  # order inside a group of tied scores is irrelevant
    s = scores[order]
    y = labels[order].astype(np.int64)
    last_of_group = np.r_[np.flatnonzero(s[1:] != s[:-1]), s.size - 1]
    tp = np.r_[0.0, np.cumsum(y)[last_of_group].astype(np.float64)]
    fp = np.r_[0.0, (last_of_group + 1) - tp[1:]]
    n_target, n_nontarget = tp[-1], fp[-1]
    p_miss = 1.0 - tp / n_target
    p_fa = fp / n_nontarget
    thresholds = np.r_[np.inf, s[last_of_group]]
    return p_fa, p_miss, thresholds


def eer(p_fa: FloatArray, p_miss: FloatArray, thresholds: FloatArray) -> tuple[float, float]:
    """Equal error rate by interpolating the ROC segment where P_miss meets P_fa."""
    diff = p_miss - p_fa  # decreasing from 1 at reject-all to -1 at accept-all
    i = int(np.argmax(diff <= EQUAL_TOL))  # first point with P_miss <= P_fa (to rounding)
    if i == 0:
        return float(p_fa[0]), float(thresholds[0])
    d0, d1 = diff[i - 1], diff[i]
    t = min(1.0, d0 / (d0 - d1)) if d1 < 0 else 1.0
    value = p_fa[i - 1] + t * (p_fa[i] - p_fa[i - 1])
    return float(value), float(thresholds[i])


def min_dcf(
    p_fa: FloatArray,
    p_miss: FloatArray,
    thresholds: FloatArray,
    p_target: float = 0.01,
    c_miss: float = 1.0,
    c_fa: float = 1.0,
) -> tuple[float, float]:
    """Normalised minimum detection cost and the threshold that reaches it."""
    dcf = c_miss * p_miss * p_target + c_fa * p_fa * (1.0 - p_target)
    default = min(c_miss * p_target, c_fa * (1.0 - p_target))
    i = int(np.argmin(dcf))
    return float(dcf[i] / default), float(thresholds[i])


def _thin(p_fa: FloatArray, p_miss: FloatArray, limit: int) -> tuple[FloatArray, FloatArray]:
    if p_fa.size <= limit:
        return p_fa, p_miss
    keep = np.unique(np.linspace(0, p_fa.size - 1, limit).round().astype(np.int64))
    return p_fa[keep], p_miss[keep]


def verification_metrics(
    labels: NDArray[np.int64],
    scores: FloatArray,
    p_target: float = 0.01,
    c_miss: float = 1.0,
    c_fa: float = 1.0,
    det_points: int = 501,
    n_missing: int = 0,
) -> VerificationResult:
    """EER, normalised minDCF and DET points; needs at least one trial of each kind."""
    labels = np.asarray(labels, dtype=np.int64)
    n_target = int(labels.sum())
    n_nontarget = int(labels.size - n_target)
    if n_target == 0 or n_nontarget == 0:
        raise InvalidInput(
            f"verification needs target and non-target trials; got {n_target} target "
            f"and {n_nontarget} non-target"
        )
    p_fa, p_miss, thr = roc_points(labels, scores)
    eer_value, eer_thr = eer(p_fa, p_miss, thr)
    dcf_value, dcf_thr = min_dcf(p_fa, p_miss, thr, p_target, c_miss, c_fa)
    det_fa, det_miss = _thin(p_fa, p_miss, det_points)
    return VerificationResult(
        n=int(labels.size),
        n_missing=n_missing,
        n_target=n_target,
        n_nontarget=n_nontarget,
        eer=eer_value,
        eer_threshold=eer_thr,
        min_dcf=dcf_value,
        min_dcf_threshold=dcf_thr,
        p_target=p_target,
        c_miss=c_miss,
        c_fa=c_fa,
        det_p_fa=det_fa,
        det_p_miss=det_miss,
    )
