"""Scoring speed against the reference implementations, measured in one run.

    .venv/bin/python perf/scoring.py           # full sizes (the issue's goals)
    .venv/bin/python perf/scoring.py --quick   # smaller sizes, a few seconds

Each line prints our time, the reference's time, the ratio and whether the values are
identical. Timings are the best of ``--repeat`` runs (default 1 full, 2 quick).
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import jiwer
import numpy as np
from sklearn import metrics as skm

from heldout.scoring.bootstrap import bootstrap, classification_statistic
from heldout.scoring.classification import classification_metrics, top_k_accuracy
from heldout.scoring.speech import speech_metrics
from heldout.scoring.verification import verification_metrics


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def line(name: str, ours: float, ref: float, same: bool | str, goal: str) -> None:
    print(
        f"{name:<48} ours {ours:8.3f}s  ref {ref:8.3f}s  x{ref / ours:7.1f}  "
        f"goal {goal:<6} identical: {same}"
    )


def classification(n: int, c: int, repeat: int) -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, c, n)
    p = np.where(rng.random(n) < 0.7, y, rng.integers(0, c, n))
    names = [str(i) for i in range(c)]
    t_ours, r = timed(lambda: classification_metrics(y, p, names), repeat)

    def ref() -> tuple[float, float, np.ndarray]:
        return (
            skm.accuracy_score(y, p),
            skm.f1_score(y, p, average="macro", labels=range(c)),
            skm.confusion_matrix(y, p, labels=range(c)),
        )

    t_ref, (acc, f1, cm) = timed(ref, repeat)
    same = r.accuracy == acc and r.f1_macro == f1 and np.array_equal(r.confusion_matrix, cm)
    line(f"accuracy+macro-F1+confusion, {n:.0e} preds, {c} cls", t_ours, t_ref, same, ">=20x")


def top5(n: int, c: int, repeat: int) -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, c, n)
    scores = rng.random((n, c)).astype(np.float64)
    scores[:, :10] = np.round(scores[:, :10], 1)  # some ties
    t_ours, ours = timed(lambda: top_k_accuracy(y, scores, 5), repeat)
    t_ref, ref = timed(lambda: skm.top_k_accuracy_score(y, scores, k=5, labels=range(c)), repeat)
    line(f"top-5 accuracy, {n}x{c} scores", t_ours, t_ref, ours == ref, ">=5x")


def corpus(n: int, seed: int = 2) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    vocab = np.array([f"w{i}" for i in range(20000)])
    refs, hyps = [], []
    for length in rng.integers(3, 40, n):
        words = vocab[rng.zipf(1.3, length) % len(vocab)]
        refs.append(" ".join(words))
        keep = words[rng.random(length) > 0.05]
        sub = rng.random(keep.size) < 0.1
        keep[sub] = vocab[rng.integers(0, len(vocab), int(sub.sum()))]
        hyps.append(" ".join(keep))
    return refs, hyps


def wer(n: int, repeat: int) -> None:
    refs, hyps = corpus(n)
    t_ours, r = timed(lambda: speech_metrics(refs, hyps, alignments=True, cer=False), repeat)
    t_ref, o = timed(lambda: jiwer.process_words(refs, hyps), repeat)
    same = (r.wer, r.mer, r.wil) == (o.wer, o.mer, o.wil) and (
        r.words.hits,
        r.words.substitutions,
        r.words.deletions,
        r.words.insertions,
    ) == (o.hits, o.substitutions, o.deletions, o.insertions)
    line(f"corpus WER+MER+WIL with alignments, {n} utts", t_ours, t_ref, same, ">=3x")
    t_ours, r = timed(lambda: speech_metrics(refs, hyps), repeat)
    t_ref, (o, c) = timed(lambda: (jiwer.process_words(refs, hyps), jiwer.cer(refs, hyps)), repeat)
    line(
        f"corpus WER+CER (no alignments), {n} utts",
        t_ours,
        t_ref,
        r.wer == o.wer and r.cer == c,
        "-",
    )


def reference_eer(labels: np.ndarray, scores: np.ndarray) -> float:
    fpr, tpr, _ = skm.roc_curve(labels, scores)
    fnr = 1 - tpr
    i = int(np.argmax(fnr - fpr <= 1e-12))
    d0, d1 = fnr[i - 1] - fpr[i - 1], fnr[i] - fpr[i]
    t = d0 / (d0 - d1) if d1 < 0 else 1.0
    return float(fpr[i - 1] + t * (fpr[i] - fpr[i - 1]))


def eer(n: int, repeat: int) -> None:
    rng = np.random.default_rng(3)
    labels = (rng.random(n) < 0.1).astype(np.int64)
    scores = np.round(rng.normal(size=n) + 2 * labels, 4)
    t_ours, r = timed(lambda: verification_metrics(labels, scores), repeat)
    t_ref, ref = timed(lambda: reference_eer(labels, scores), repeat)
    line(
        f"EER (+minDCF, DET), {n:.0e} trials",
        t_ours,
        t_ref,
        f"{abs(r.eer - ref) < 1e-12} (|d|={abs(r.eer - ref):.1e})",
        "-",
    )


def boot(n: int, resamples: int, peer_resamples: int, repeat: int) -> None:
    rng = np.random.default_rng(4)
    c = 10
    y = rng.integers(0, c, n)
    p = np.where(rng.random(n) < 0.7, y, rng.integers(0, c, n))
    stat = classification_statistic(y, p, c)
    t_ours, _ = timed(lambda: bootstrap(stat, n, resamples, seed=0), repeat)

    def peer() -> None:
        r = np.random.default_rng(0)
        for _ in range(peer_resamples):
            idx = r.integers(0, n, n)
            yt, yp = y[idx], p[idx]
            skm.accuracy_score(yt, yp)
            skm.balanced_accuracy_score(yt, yp)
            skm.precision_recall_fscore_support(yt, yp, average="macro", labels=range(c))

    t_peer, _ = timed(peer, 1)
    t_ref = t_peer * resamples / peer_resamples
    line(
        f"bootstrap {resamples} resamples, {n:.0e} ex (5 metrics)",
        t_ours,
        t_ref,
        f"n/a (ref: sklearn loop, {peer_resamples} timed)",
        "fast",
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    ap.add_argument("--repeat", type=int, default=None)
    args = ap.parse_args()
    q = args.quick
    repeat = args.repeat or (2 if q else 1)
    warnings.simplefilter("ignore")
    classification(10**5 if q else 10**7, 10 if q else 100, repeat)
    top5(2000 if q else 50000, 1000, repeat)
    wer(5000 if q else 100000, repeat)
    eer(10**4 if q else 10**6, repeat)
    boot(10**4 if q else 10**5, 200 if q else 1000, 10 if q else 20, repeat)


if __name__ == "__main__":
    main()
