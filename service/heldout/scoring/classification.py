"""Classification metrics as vectorised numpy, matching scikit-learn 1.9 exactly.

Conventions (each checked against scikit-learn in ``tests/scoring``):

* **Label set.** Classes are the integer indices ``0..C-1`` of the benchmark's fixed
  label names (from the ground truth). Every per-class and averaged metric is over all
  ``C`` classes, as ``sklearn.metrics.*(labels=range(C))`` computes it; a label that is
  not in the set is rejected when predictions are parsed, so it can never change an
  average.
* **Missing predictions** (``missing: count-as-wrong``) are encoded as ``-1``: wrong for
  accuracy and top-k, a false negative of the true class (lowers its recall), never a
  false positive of any class -- exactly what scikit-learn gives for an extra label that
  is outside ``labels=``. For log loss and ROC AUC their score row is uniform ``1/C``.
* **zero_division.** A 0/0 precision, recall or F1 is ``0.0`` (scikit-learn's
  ``zero_division=0``, also what its default ``"warn"`` returns). F1 is
  ``2·TP / (2·TP + FP + FN)`` (scikit-learn >= 1.3). Classes with no true and no
  predicted example therefore count as 0 in the macro average.
* **Balanced accuracy** is the mean recall over classes with at least one true example
  (scikit-learn ``balanced_accuracy_score``, ``adjusted=False``).
* **Top-k** ties are broken as scikit-learn's ``top_k_accuracy_score``: among equal
  scores the class with the higher index ranks first. k >= C scores 1.0.
* **Log loss** clips probabilities to ``[eps, 1-eps]`` with ``eps`` the float64 machine
  epsilon, natural log, mean over examples (scikit-learn ``log_loss``).
* **ROC AUC** is one-vs-rest (Mann-Whitney rank statistic, ties count 1/2, equal to the
  trapezoidal ROC area), macro = unweighted mean, weighted = by class prevalence. Classes
  with no positive example in the test set are left out of both averages (scikit-learn
  raises instead); ``None`` when no class qualifies.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from heldout.scoring.results import ClassificationResult, PerClass

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
MISSING = -1


def confusion(y_true: IntArray, y_pred: IntArray, n_classes: int) -> tuple[IntArray, IntArray]:
    """Confusion matrix by ``bincount`` (rows true, columns predicted) and missing per class."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if y_pred.size and y_pred.min() < 0:
        present = y_pred >= 0
        missing = np.bincount(y_true[~present], minlength=n_classes)
        y_true, y_pred = y_true[present], y_pred[present]
    else:
        missing = np.zeros(n_classes, dtype=np.int64)
    flat = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes), missing


def _divide(num: FloatArray, den: FloatArray) -> FloatArray:
    """Elementwise num/den with 0.0 where den == 0 (zero_division=0)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out


def prf_from_counts(
    tp: FloatArray, pred_pos: FloatArray, support: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-class precision, recall and F1 from TP, predicted-positive and true counts.

    Works on any leading shape (e.g. ``(resamples, C)`` in the bootstrap).
    """
    precision = _divide(tp, pred_pos)
    recall = _divide(tp, support)
    f1 = _divide(2 * np.asarray(tp, dtype=np.float64), np.asarray(support + pred_pos))
    return precision, recall, f1


def top_k_rank(y_true: IntArray, scores: FloatArray, chunk: int = 4096) -> IntArray:
    """Zero-based rank of the true class in each row, ties towards the higher index.

    Rank = number of classes with a strictly higher score plus the number with an equal
    score and a higher index; a row is a top-k hit when rank < k. ``-1`` labels (missing)
    get rank C.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    n, c = scores.shape
    ranks = np.full(n, c, dtype=np.int64)
    cols = np.arange(c)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        t = y_true[start:stop]
        ok = t >= 0
        block = scores[start:stop][ok]
        tt = t[ok]
        st = block[np.arange(tt.size), tt][:, None]
        higher = np.count_nonzero(block > st, axis=1)
        tied_after = np.count_nonzero((block == st) & (cols > tt[:, None]), axis=1)
        ranks[start:stop][ok] = higher + tied_after
    return ranks


def top_k_accuracy(y_true: IntArray, scores: FloatArray, k: int) -> float:
    """Share of rows whose true class is among the k best scores (scikit-learn ties)."""
    return float(np.mean(top_k_rank(y_true, scores) < k))


def _fill_missing_scores(y_true: IntArray, y_pred: IntArray, scores: FloatArray) -> FloatArray:
    missing = np.asarray(y_pred) < 0
    if not missing.any():
        return scores
    scores = scores.copy()
    scores[missing] = 1.0 / scores.shape[1]
    return scores


def log_loss(y_true: IntArray, probs: FloatArray) -> float:
    """Mean negative log probability of the true class, clipped as scikit-learn does."""
    eps = np.finfo(np.float64).eps
    p = probs[np.arange(len(y_true)), np.asarray(y_true, dtype=np.int64)]
    return float(np.mean(-np.log(np.clip(p, eps, 1 - eps))))


def roc_auc_ovr(y_true: IntArray, scores: FloatArray) -> tuple[float | None, float | None]:
    """One-vs-rest ROC AUC, (macro, weighted), over classes with positives and negatives."""
    y_true = np.asarray(y_true, dtype=np.int64)
    n, c = scores.shape
    n_pos = np.bincount(y_true, minlength=c).astype(np.float64)
    n_neg = n - n_pos
    ok = (n_pos > 0) & (n_neg > 0)
    if not ok.any():
        return None, None
    from scipy.stats import rankdata  # scipy.stats takes seconds to import: only when needed

    ranks = rankdata(scores, axis=0)  # average ranks for ties
    pos_rank_sum = np.bincount(y_true, weights=ranks[np.arange(n), y_true], minlength=c)
    auc = (pos_rank_sum[ok] - n_pos[ok] * (n_pos[ok] + 1) / 2) / (n_pos[ok] * n_neg[ok])
    return float(np.mean(auc)), float(np.average(auc, weights=n_pos[ok]))


def default_top_k(n_classes: int) -> tuple[int, ...]:
    """Top-k values reported by default: 1 and 5, keeping those below the class count."""
    return tuple(k for k in (1, 5) if k < n_classes) or (1,)


def classification_metrics(
    y_true: IntArray,
    y_pred: IntArray,
    label_names: Sequence[str],
    scores: FloatArray | None = None,
    top_k: Sequence[int] | None = None,
) -> ClassificationResult:
    """All classification metrics. ``y_pred`` uses ``-1`` for a missing prediction."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    c = len(label_names)
    n = int(y_true.size)
    cm, missing = confusion(y_true, y_pred, c)
    tp = np.diag(cm).astype(np.float64)
    pred_pos = cm.sum(axis=0).astype(np.float64)
    support = (cm.sum(axis=1) + missing).astype(np.float64)
    precision, recall, f1 = prf_from_counts(tp, pred_pos, support)
    micro_p, micro_r, micro_f = prf_from_counts(tp.sum(), pred_pos.sum(), support.sum())
    has_true = support > 0
    weights = support if support.sum() > 0 else None

    def weighted(x: FloatArray) -> float:
        return float(np.average(x, weights=weights)) if weights is not None else 0.0

    top: dict[int, float] = {}
    ll = auc_macro = auc_weighted = None
    if scores is not None:
        ranks = top_k_rank(np.where(y_pred < 0, MISSING, y_true), scores)
        for k in top_k or default_top_k(c):
            top[int(k)] = float(np.mean(ranks < k))
        filled = _fill_missing_scores(y_true, y_pred, scores)
        ll = log_loss(y_true, filled)
        auc_macro, auc_weighted = roc_auc_ovr(y_true, filled)
    return ClassificationResult(
        n=n,
        n_missing=int(missing.sum()),
        accuracy=float(tp.sum() / n) if n else 0.0,
        balanced_accuracy=float(np.mean(recall[has_true])) if has_true.any() else 0.0,
        precision_macro=float(np.mean(precision)),
        recall_macro=float(np.mean(recall)),
        f1_macro=float(np.mean(f1)),
        precision_micro=float(micro_p),
        recall_micro=float(micro_r),
        f1_micro=float(micro_f),
        precision_weighted=weighted(precision),
        recall_weighted=weighted(recall),
        f1_weighted=weighted(f1),
        per_class=tuple(
            PerClass(str(name), float(p), float(r), float(f), int(s))
            for name, p, r, f, s in zip(label_names, precision, recall, f1, support, strict=True)
        ),
        confusion_matrix=cm,
        missing_per_class=missing,
        top_k_accuracy=top,
        log_loss=ll,
        roc_auc_ovr_macro=auc_macro,
        roc_auc_ovr_weighted=auc_weighted,
    )
