"""Seeded, vectorised bootstrap over test examples: intervals and paired comparisons.

Each resample draws ``n`` example indices with replacement (``numpy.random.default_rng(seed)``,
drawn in chunks whose size depends only on ``n``, so the same seed and test set give the
same resamples). Metrics are recomputed per resample from per-example quantities, never
by looping in Python over resamples:

* classification -- per-resample per-class counts by one ``bincount`` over offset keys
  (TP, predicted, true per class), giving accuracy, balanced accuracy, macro precision,
  recall and F1; top-k accuracy and log loss as means of per-example values. ROC AUC has
  no interval (it would need a rank per resample).
* speech -- utterances are resampled and WER/MER/WIL/CER are recomputed *pooled* from the
  per-utterance H/S/D/I counts (a weight matrix times the count matrix).
* verification -- trials are resampled as integer weights on the once-sorted scores; the
  ROC, EER and minDCF follow from weighted cumulative sums. A resample that drew no target
  or no non-target trial has neither (NaN, left out of the interval).

The interval is the percentile interval (``numpy.percentile``, linear) at the given
confidence, 95% by default. The paired bootstrap uses the same resamples for both
submissions; ``P(A beats B)`` counts ties as one half. Resamples in which a metric has no
value (NaN) are left out of its interval and of its ``P(A beats B)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import numpy as np
from numpy.typing import NDArray

from heldout.scoring.classification import MISSING, prf_from_counts
from heldout.scoring.results import Interval, PairedComparison
from heldout.scoring.speech import pooled_rates
from heldout.scoring.verification import EQUAL_TOL

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
Statistic = Callable[[IntArray], dict[str, FloatArray]]
CHUNK_ELEMENTS = 1 << 22


def resample_chunks(n: int, resamples: int, seed: int) -> Iterator[IntArray]:
    """Blocks of resample indices, shape ``(r, n)``, r depending only on ``n``."""
    rng = np.random.default_rng(seed)
    per_chunk = max(1, CHUNK_ELEMENTS // max(n, 1))
    done = 0
    while done < resamples:
        r = min(per_chunk, resamples - done)
        yield rng.integers(0, n, size=(r, n), dtype=np.int64)
        done += r


def _weights(idx: IntArray, n: int) -> FloatArray:
    """Multiplicity of each example in each resample, ``(r, n)``."""
    r = idx.shape[0]
    base = (np.arange(r, dtype=np.int64) * n)[:, None]
    return np.bincount((idx + base).ravel(), minlength=r * n).reshape(r, n).astype(np.float64)


def classification_statistic(
    y_true: IntArray,
    y_pred: IntArray,
    n_classes: int,
    top_k_ranks: IntArray | None = None,
    top_k: tuple[int, ...] = (),
    losses: FloatArray | None = None,
) -> Statistic:
    """Per-resample classification metrics from labels, predictions and per-example values."""
    y_true = np.asarray(y_true, dtype=np.int64)
    pred = np.where(np.asarray(y_pred) == MISSING, n_classes, y_pred).astype(np.int64)
    correct = pred == y_true
    tp_class = np.where(correct, y_true, n_classes)
    width = n_classes + 1

    def stat(idx: IntArray) -> dict[str, FloatArray]:
        r = idx.shape[0]
        base = (np.arange(r, dtype=np.int64) * width)[:, None]

        def counts(values: IntArray) -> FloatArray:
            flat = np.bincount((values[idx] + base).ravel(), minlength=r * width)
            return flat.reshape(r, width)[:, :n_classes].astype(np.float64)

        support, pred_pos, tp = counts(y_true), counts(pred), counts(tp_class)
        precision, recall, f1 = prf_from_counts(tp, pred_pos, support)
        present = support > 0
        out = {
            "accuracy": correct[idx].mean(axis=1),
            "balanced_accuracy": (recall * present).sum(axis=1) / present.sum(axis=1),
            "precision_macro": precision.mean(axis=1),
            "recall_macro": recall.mean(axis=1),
            "f1_macro": f1.mean(axis=1),
        }
        if top_k_ranks is not None:
            ranks = top_k_ranks[idx]
            for k in top_k:
                out[f"top_{k}_accuracy"] = (ranks < k).mean(axis=1)
        if losses is not None:
            out["log_loss"] = losses[idx].mean(axis=1)
        return out

    return stat


def speech_statistic(word_counts: IntArray, char_counts: IntArray, cer: bool = True) -> Statistic:
    """Per-resample pooled WER/MER/WIL (and CER) from per-utterance H/S/D/I counts."""
    words = np.asarray(word_counts, dtype=np.float64)
    chars = np.asarray(char_counts, dtype=np.float64)
    n = words.shape[0]

    def stat(idx: IntArray) -> dict[str, FloatArray]:
        w = _weights(idx, n)
        wer, mer, wil = pooled_rates(w @ words)
        out = {"wer": wer, "mer": mer, "wil": wil}
        if cer:
            out["cer"] = pooled_rates(w @ chars)[0]
        return out

    return stat


def verification_statistic(
    labels: IntArray, scores: FloatArray, p_target: float, c_miss: float, c_fa: float
) -> Statistic:
    """Per-resample EER and normalised minDCF from weighted cumulative sums."""
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-scores, kind="mergesort")
    y = np.asarray(labels, dtype=np.float64)[order]
    s = scores[order]
    last = np.r_[np.flatnonzero(s[1:] != s[:-1]), s.size - 1]  # as roc_points: inf == inf
    n = s.size
    default = min(c_miss * p_target, c_fa * (1.0 - p_target))

    def stat(idx: IntArray) -> dict[str, FloatArray]:
        w = _weights(idx, n)[:, order]
        tp = np.cumsum(w * y, axis=1)[:, last]
        fp = np.cumsum(w * (1.0 - y), axis=1)[:, last]
        zeros = np.zeros((w.shape[0], 1))
        tp, fp = np.hstack([zeros, tp]), np.hstack([zeros, fp])
        # A resample without target (or without non-target) trials has no EER and no minDCF:
        # its P_miss (or P_fa) row is NaN, and so is every value computed from it.
        with np.errstate(divide="ignore", invalid="ignore"):
            p_miss = 1.0 - tp / tp[:, -1:]
            p_fa = fp / fp[:, -1:]
        diff = p_miss - p_fa
        i = np.argmax(diff <= EQUAL_TOL, axis=1)  # >= 1 (diff is 1 at reject-all) unless NaN
        rows = np.arange(w.shape[0])
        prev = i - 1
        d0, d1 = diff[rows, prev], diff[rows, i]  # d0 > EQUAL_TOL >= d1: no division by 0
        t = np.where(d1 >= 0, 1.0, np.minimum(1.0, d0 / (d0 - d1)))
        eer = p_fa[rows, prev] + t * (p_fa[rows, i] - p_fa[rows, prev])
        dcf = (c_miss * p_miss * p_target + c_fa * p_fa * (1.0 - p_target)).min(axis=1)
        return {"eer": eer, "min_dcf": dcf / default}

    return stat


def bootstrap_samples(
    stat: Statistic, n: int, resamples: int = 1000, seed: int = 0
) -> dict[str, FloatArray]:
    """Every metric of ``stat`` over ``resamples`` bootstrap resamples, ``(resamples,)`` each."""
    parts: dict[str, list[FloatArray]] = {}
    for idx in resample_chunks(n, resamples, seed):
        for name, values in stat(idx).items():
            parts.setdefault(name, []).append(values)
    return {name: np.concatenate(v) for name, v in parts.items()}


def intervals(
    samples: Mapping[str, FloatArray], confidence: float, resamples: int, seed: int
) -> dict[str, Interval]:
    """Percentile intervals from bootstrap samples (NaN resamples ignored)."""
    alpha = (1.0 - confidence) / 2.0
    out = {}
    for name, values in samples.items():
        drawn = values[~np.isnan(values)]
        lo = hi = np.nan  # no resample gave the metric a value
        if drawn.size:
            with np.errstate(all="ignore"):
                lo, hi = np.percentile(drawn, [100 * alpha, 100 * (1 - alpha)])
        out[name] = Interval(float(lo), float(hi), confidence, resamples, seed)
    return out


def bootstrap(
    stat: Statistic, n: int, resamples: int = 1000, seed: int = 0, confidence: float = 0.95
) -> dict[str, Interval]:
    """Percentile bootstrap interval of every metric ``stat`` computes."""
    if n == 0 or resamples == 0:
        return {}
    return intervals(bootstrap_samples(stat, n, resamples, seed), confidence, resamples, seed)


def paired_bootstrap(
    task: str,
    stat_a: Statistic,
    stat_b: Statistic,
    n: int,
    lower_is_better: frozenset[str] = frozenset(),
    resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> PairedComparison:
    """Paired bootstrap of two submissions on the same examples (same resamples for both)."""
    a = bootstrap_samples(stat_a, n, resamples, seed)
    b = bootstrap_samples(stat_b, n, resamples, seed)
    p_better: dict[str, float] = {}
    delta_samples: dict[str, FloatArray] = {}
    for name in a:
        drawn = ~(np.isnan(a[name]) | np.isnan(b[name]))  # NaN: no value in that resample
        va, vb = a[name][drawn], b[name][drawn]
        better = va < vb if name in lower_is_better else va > vb
        p_better[name] = float(np.mean(better) + 0.5 * np.mean(va == vb)) if va.size else np.nan
        delta_samples[name] = va - vb
    full_idx = np.arange(n, dtype=np.int64)[None, :]
    ma, mb = stat_a(full_idx), stat_b(full_idx)
    return PairedComparison(
        task=task,
        p_a_better=p_better,
        delta={k: float(ma[k][0] - mb[k][0]) for k in ma},
        delta_intervals=intervals(delta_samples, confidence, resamples, seed),
        resamples=resamples,
        seed=seed,
    )
