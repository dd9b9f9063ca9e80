"""The bootstrap recomputes each metric per resample: every resample must equal the metric
computed from scratch on that resample's examples (drawn with repeats), for every task.

This is what makes an interval mean what it says; a shortcut in the vectorised per-resample
code (a wrong count, weight, tie rule or normaliser) shows up as one resample that differs.
"""

from __future__ import annotations

import numpy as np
import pytest

from heldout.scoring.bootstrap import (
    bootstrap,
    bootstrap_samples,
    classification_statistic,
    intervals,
    paired_bootstrap,
    resample_chunks,
    speech_statistic,
    verification_statistic,
)
from heldout.scoring.classification import MISSING, classification_metrics, top_k_rank
from heldout.scoring.normalizers import get_normalizer
from heldout.scoring.speech import speech_metrics, utterance_counts
from heldout.scoring.verification import verification_metrics

RESAMPLES = 25


def resamples(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(RESAMPLES, n))


@pytest.mark.parametrize("seed", range(4))
def test_classification_resamples_equal_a_recomputation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, c = 40, 4
    y_true = rng.integers(0, c, n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, c, n))
    y_pred[rng.random(n) < 0.15] = MISSING  # count-as-wrong rows
    probs = rng.dirichlet(np.ones(c), n)
    probs[y_pred == MISSING] = 1 / c
    ranks = top_k_rank(np.where(y_pred == MISSING, MISSING, y_true), probs)
    losses = -np.log(probs[np.arange(n), y_true])
    stat = classification_statistic(y_true, y_pred, c, ranks, (1, 2), losses)
    idx = resamples(n, seed)
    got = stat(idx)
    names = [str(i) for i in range(c)]
    for r in range(RESAMPLES):
        i = idx[r]
        want = classification_metrics(y_true[i], y_pred[i], names, probs[i], top_k=(1, 2))
        for metric in ("accuracy", "balanced_accuracy", "precision_macro", "recall_macro",
                       "f1_macro", "top_1_accuracy", "top_2_accuracy", "log_loss"):
            assert got[metric][r] == pytest.approx(want.metrics()[metric]), (metric, r)


@pytest.mark.parametrize("seed", range(4))
def test_verification_resamples_equal_a_recomputation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 30
    labels = rng.integers(0, 2, n)
    labels[:2] = [0, 1]
    scores = np.round(rng.normal(labels * 1.0, 1.0), 1)  # rounded: many tied scores
    p_target, c_miss, c_fa = [(0.01, 1.0, 1.0), (0.3, 2.0, 1.0), (0.5, 1.0, 3.0),
                              (0.05, 10.0, 1.0)][seed]
    stat = verification_statistic(labels, scores, p_target, c_miss, c_fa)
    idx = resamples(n, seed)
    got = stat(idx)
    for r in range(RESAMPLES):
        i = idx[r]
        if len(set(labels[i].tolist())) < 2:
            continue  # EER needs both kinds of trial
        want = verification_metrics(labels[i], scores[i], p_target, c_miss, c_fa)
        assert got["eer"][r] == pytest.approx(want.eer), r
        assert got["min_dcf"][r] == pytest.approx(want.min_dcf), r


@pytest.mark.parametrize("normalizer", ["none", "basic"])
def test_speech_resamples_equal_a_pooled_recomputation(normalizer: str) -> None:
    refs = ["the cat sat", "a dog", "hello world again", "", "one two three four", "yes"]
    hyps = ["the cat sat down", "a fog", "hello again", "noise", "one too three", ""]
    norm = get_normalizer(normalizer)
    counts = utterance_counts(refs, hyps, norm)
    stat = speech_statistic(counts.words, counts.chars)
    idx = resamples(len(refs), 7)
    got = stat(idx)
    for r in range(RESAMPLES):
        i = idx[r].tolist()
        want = speech_metrics([refs[k] for k in i], [hyps[k] for k in i], norm)
        for metric in ("wer", "mer", "wil", "cer"):
            assert got[metric][r] == pytest.approx(want.metrics()[metric]), (metric, r)
    assert "cer" not in speech_statistic(counts.words, counts.chars, cer=False)(idx)


def test_resamples_are_seeded_and_chunked_by_n_only() -> None:
    a = np.concatenate(list(resample_chunks(50, 1000, seed=3)))
    b = np.concatenate(list(resample_chunks(50, 1000, seed=3)))
    assert a.shape == (1000, 50) and np.array_equal(a, b)
    assert not np.array_equal(a, np.concatenate(list(resample_chunks(50, 1000, seed=4))))
    assert a.min() == 0 and a.max() == 49
    big = list(resample_chunks(3_000_000, 3, seed=0))  # one resample per chunk at this n
    assert [c.shape for c in big] == [(1, 3_000_000)] * 3


def test_percentile_intervals_and_their_edge_cases() -> None:
    samples = {"m": np.arange(101, dtype=np.float64), "gaps": np.array([np.nan, 1.0, 3.0])}
    out = intervals(samples, confidence=0.9, resamples=101, seed=5)
    assert (out["m"].low, out["m"].high) == pytest.approx((5.0, 95.0))
    assert (out["m"].confidence, out["m"].resamples, out["m"].seed) == (0.9, 101, 5)
    assert (out["gaps"].low, out["gaps"].high) == pytest.approx((1.1, 2.9))  # NaN ignored
    stat = speech_statistic(np.array([[1, 1, 0, 0]]), np.array([[1, 1, 0, 0]]))
    assert bootstrap(stat, 0) == {} and bootstrap(stat, 1, resamples=0) == {}
    assert set(bootstrap(stat, 1, resamples=10)) == {"wer", "mer", "wil", "cer"}


def test_paired_bootstrap_counts_wins_ties_and_direction() -> None:
    n = 20
    y_true = np.arange(n) % 2
    better = y_true.copy()
    worse = y_true.copy()
    worse[:5] = 1 - worse[:5]
    a = classification_statistic(y_true, better, 2)
    b = classification_statistic(y_true, worse, 2)
    same = paired_bootstrap("classification", a, a, n, resamples=200, seed=1)
    assert same.p_a_better["accuracy"] == 0.5  # every resample a tie: one half each
    assert same.delta["accuracy"] == 0.0
    cmp = paired_bootstrap("classification", a, b, n, resamples=200, seed=1)
    assert cmp.delta["accuracy"] == pytest.approx(0.25)
    assert cmp.p_a_better["accuracy"] > 0.95
    assert cmp.delta_intervals["accuracy"].low > 0
    assert (cmp.resamples, cmp.seed, cmp.task) == (200, 1, "classification")
    # lower is better: the same samples, the other direction
    losses_a = classification_statistic(y_true, better, 2, losses=np.full(n, 0.1))
    losses_b = classification_statistic(y_true, worse, 2, losses=np.full(n, 0.9))
    ll = paired_bootstrap("classification", losses_a, losses_b, n, frozenset({"log_loss"}),
                          resamples=100, seed=2)
    assert ll.p_a_better["log_loss"] == 1.0 and ll.delta["log_loss"] == pytest.approx(-0.8)
    samples = bootstrap_samples(a, n, resamples=30, seed=1)
    assert samples["accuracy"].shape == (30,) and np.all(samples["accuracy"] == 1.0)
