"""Bootstrap intervals and paired comparisons: defaults, seeds, counts and degenerate resamples."""

from __future__ import annotations

import warnings

import numpy as np
import pyarrow as pa
import pytest

from heldout.scoring import Interval, ScoreConfig, VerificationResult, compare, score
from heldout.scoring.bootstrap import (
    IntArray,
    bootstrap,
    bootstrap_samples,
    classification_statistic,
    intervals,
    paired_bootstrap,
    resample_chunks,
    speech_statistic,
    verification_statistic,
)
from heldout.scoring.speech import utterance_counts
from heldout.scoring.verification import verification_metrics


def _cls(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    return y, np.where(rng.random(n) < 0.7, y, (y + 1) % 3)


def _bounds(iv: dict[str, Interval]) -> dict[str, tuple[float, float]]:
    return {k: (v.low, v.high) for k, v in iv.items()}


# --- bootstrap() --------------------------------------------------------------------------


def test_bootstrap_defaults_are_1000_resamples_seed_0_and_95_percent() -> None:
    y, p = _cls()
    stat = classification_statistic(y, p, 3)
    default = bootstrap(stat, len(y))
    assert default == bootstrap(stat, len(y), 1000, 0, 0.95)
    iv = default["accuracy"]
    assert (iv.resamples, iv.seed, iv.confidence) == (1000, 0, 0.95)
    samples = bootstrap_samples(stat, len(y))
    assert samples["accuracy"].shape == (1000,)
    explicit = bootstrap_samples(stat, len(y), 1000, 0)
    assert np.array_equal(samples["accuracy"], explicit["accuracy"])
    assert iv.low == pytest.approx(np.percentile(samples["accuracy"], 2.5))
    assert iv.high == pytest.approx(np.percentile(samples["accuracy"], 97.5))


def test_the_seed_chooses_the_resamples() -> None:
    y, p = _cls()
    stat = classification_statistic(y, p, 3)
    a, b = bootstrap(stat, len(y), 300, seed=11), bootstrap(stat, len(y), 300, seed=12)
    assert _bounds(a) != _bounds(b)
    assert _bounds(a) == _bounds(bootstrap(stat, len(y), 300, seed=11))
    assert (a["accuracy"].resamples, a["accuracy"].seed) == (300, 11)
    s11 = bootstrap_samples(stat, len(y), 300, 11)["accuracy"]
    assert a["accuracy"].low == pytest.approx(np.percentile(s11, 2.5))


def test_one_resample_gives_a_point_interval() -> None:
    y, p = _cls(50)
    stat = classification_statistic(y, p, 3)
    iv = bootstrap(stat, len(y), 1, seed=2)
    only = bootstrap_samples(stat, len(y), 1, 2)
    assert set(iv) == set(only)
    for name, values in only.items():
        assert values.shape == (1,)
        assert iv[name].low == iv[name].high == pytest.approx(float(values[0]))
        assert iv[name].resamples == 1
    assert bootstrap(stat, len(y), 0) == {}
    assert bootstrap(stat, 0, 100) == {}


def test_many_resamples_over_a_large_set_come_in_chunks_but_exactly_as_many() -> None:
    n = 5000  # 838 resamples per chunk

    def mean_index(idx: IntArray) -> dict[str, np.ndarray]:
        return {"m": idx.mean(axis=1)}

    samples = bootstrap_samples(mean_index, n, 900, 3)
    assert samples["m"].shape == (900,)
    chunks = list(resample_chunks(n, 900, 3))
    assert [c.shape for c in chunks] == [(838, n), (62, n)]
    assert chunks[0].min() == 0 and chunks[0].max() == n - 1


def test_intervals_of_infinite_samples_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = intervals({"m": np.array([np.inf, np.inf, 1.0, np.nan])}, 0.9, 4, 0)
    assert out["m"].low == np.inf
    assert (out["m"].confidence, out["m"].resamples, out["m"].seed) == (0.9, 4, 0)


# --- statistics ----------------------------------------------------------------------------


def test_classification_statistic_takes_float_labels_as_classes() -> None:
    y, p = _cls(60, seed=3)
    full = np.arange(60)[None, :]
    ints = classification_statistic(y, p, 3)(full)
    floats = classification_statistic(y.astype(np.float64), p, 3)(full)
    assert set(ints) == set(floats)
    for name in ints:
        assert floats[name] == pytest.approx(ints[name])
    assert ints["accuracy"][0] == pytest.approx(np.mean(y == p))


def test_speech_statistic_identity_equals_pooled_rates() -> None:
    refs, hyps = ["a b c", "d e", "f"], ["a x c", "d", "f g"]
    uc = utterance_counts(refs, hyps)
    out = speech_statistic(uc.words.tolist(), uc.chars.tolist())(np.arange(3)[None, :])
    assert out["wer"][0] == pytest.approx(3 / 6)
    assert out["cer"][0] == pytest.approx(5 / 9)  # 1 sub; " e" deleted; " g" inserted


def _identity(labels: list[int], scores: list[float] | np.ndarray, p: float = 0.01,
              cm: float = 1.0, cf: float = 1.0) -> None:
    n = len(labels)
    ref = verification_metrics(np.asarray(labels), np.asarray(scores, dtype=np.float64), p, cm, cf)
    got = verification_statistic(np.asarray(labels), np.asarray(scores), p, cm, cf)(
        np.arange(n)[None, :]
    )
    assert got["eer"][0] == pytest.approx(ref.eer, abs=1e-12)
    assert got["min_dcf"][0] == pytest.approx(ref.min_dcf, abs=1e-12)


def test_verification_statistic_with_ties_at_the_top() -> None:
    # the best score is shared by the non-target and one of the two targets: the first ROC
    # point is already past the crossing, EER interpolates from reject-all: 2/3
    _identity([0, 1, 1], [0.9, 0.9, 0.1])
    got = verification_statistic(np.array([0, 1, 1]), np.array([0.9, 0.9, 0.1]), 0.01, 1, 1)
    assert got(np.arange(3)[None, :])["eer"][0] == pytest.approx(2 / 3)
    _identity([0, 0, 1, 1, 0], [5.0, 5.0, 5.0, 1.0, 0.0])


@pytest.mark.parametrize(("p", "cm", "cf"), [(0.9, 1.0, 1.0), (0.5, 1.0, 0.2), (0.3, 2.0, 5.0)])
def test_verification_statistic_min_dcf_normalisation(p: float, cm: float, cf: float) -> None:
    rng = np.random.default_rng(9)
    labels = rng.integers(0, 2, 60)
    scores = rng.normal(size=60) + labels
    _identity(labels.tolist(), scores, p, cm, cf)


def test_verification_statistic_takes_hard_decisions_as_scores() -> None:
    labels = [1, 1, 0, 0, 1, 0]
    decisions = np.array([True, False, False, True, True, False])
    _identity(labels, decisions)


def test_resamples_without_both_kinds_of_trial_have_no_eer() -> None:
    labels = np.array([1, 0, 0, 0])
    stat = verification_statistic(labels, np.array([0.2, 0.9, 0.1, 0.3]), 0.01, 1.0, 1.0)
    idx = np.array([[1, 2, 3, 1], [0, 0, 0, 0], [0, 1, 2, 3]])
    out = stat(idx)
    assert np.isnan(out["eer"][:2]).all() and np.isnan(out["min_dcf"][:2]).all()
    assert out["eer"][2] == pytest.approx(2 / 3)


def test_few_targets_do_not_pull_the_eer_interval_to_zero() -> None:
    # 2 targets in 100 trials: one resample in eight draws no target; such resamples have no
    # EER and are left out, they must not count as a perfect system
    rng = np.random.default_rng(0)
    labels = np.array([1, 1] + [0] * 98)
    scores = rng.normal(size=100) + labels
    point = verification_metrics(labels, scores).eer
    samples = bootstrap_samples(verification_statistic(labels, scores, 0.01, 1, 1), 100, 400)
    drawn = ~np.isnan(samples["eer"])
    assert 0.05 < 1 - drawn.mean() < 0.25
    assert (samples["eer"][drawn] > 0).all()
    iv = bootstrap(verification_statistic(labels, scores, 0.01, 1, 1), 100, 400)["eer"]
    assert 0 < iv.low < point < iv.high


def test_small_verification_sets_and_missing_trials_score_without_warnings() -> None:
    truth = {"id": [str(i) for i in range(6)], "label": [1, 1, 1, 0, 0, 0]}
    preds = pa.table({"id": ["0", "3"], "score": [0.7, 0.2]})  # 2 targets, 2 non-targets lost
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = score("verification", truth, preds, {"missing": "count-as-wrong", "resamples": 300})
    assert isinstance(r.result, VerificationResult) and r.result.n_missing == 4
    scores = np.array([0.7, -np.inf, -np.inf, 0.2, np.inf, np.inf])
    ref = verification_metrics(np.array([1, 1, 1, 0, 0, 0]), scores)
    assert r.metrics["eer"] == pytest.approx(ref.eer)
    stat = verification_statistic(np.array([1, 1, 1, 0, 0, 0]), scores, 0.01, 1, 1)
    assert stat(np.arange(6)[None, :])["eer"][0] == pytest.approx(ref.eer)
    assert 0 <= r.intervals["eer"].low <= r.intervals["eer"].high <= 1


# --- paired comparisons --------------------------------------------------------------------


def _speech() -> tuple[dict[str, list[str]], pa.Table, pa.Table]:
    ids = [str(i) for i in range(8)]
    refs = ["a b c", "d e f", "g h", "i j k l", "m", "n o", "p q r", "s t"]
    good = ["a b c", "d e x", "g h", "i j k l", "m", "n", "p q r", "s t"]
    bad = ["a x c", "d e x", "g", "i j l", "x", "n o", "p r", "s t u"]
    return ({"id": ids, "text": refs}, pa.table({"id": ids, "text": good}),
            pa.table({"id": ids, "text": bad}))


def test_compare_identical_submissions_is_a_coin_toss_for_every_metric() -> None:
    truth, good, _ = _speech()
    cmp = compare("speech-recognition", truth, good, good, {"resamples": 100, "seed": 5})
    assert cmp.task == "speech-recognition"
    assert cmp.p_a_better == {"wer": 0.5, "mer": 0.5, "wil": 0.5, "cer": 0.5}
    assert cmp.delta == {"wer": 0.0, "mer": 0.0, "wil": 0.0, "cer": 0.0}
    for iv in cmp.delta_intervals.values():
        assert (iv.low, iv.high) == (0.0, 0.0)
        assert (iv.resamples, iv.seed, iv.confidence) == (100, 5, 0.95)
    assert (cmp.resamples, cmp.seed) == (100, 5)


def test_compare_uses_the_given_options_mapping_or_object() -> None:
    truth, good, bad = _speech()
    opts = {"resamples": 120, "seed": 9, "confidence": 0.8}
    by_dict = compare("speech-recognition", truth, good, bad, opts)
    by_obj = compare("speech-recognition", truth, good, bad, ScoreConfig.from_dict(opts))
    assert by_dict == by_obj
    assert (by_dict.resamples, by_dict.seed) == (120, 9)
    for iv in by_dict.delta_intervals.values():
        assert (iv.resamples, iv.seed, iv.confidence) == (120, 9, 0.8)
    a = score("speech-recognition", truth, good, {"resamples": 0}).metrics
    b = score("speech-recognition", truth, bad, {"resamples": 0}).metrics
    for name in ("wer", "mer", "wil", "cer"):
        assert by_dict.delta[name] == pytest.approx(a[name] - b[name])
        iv = by_dict.delta_intervals[name]
        assert iv.low <= by_dict.delta[name] <= iv.high
        assert iv.high < 0.0  # lower is better, and A is better in every resample
    assert by_dict.p_a_better["wer"] > 0.95
    wide = compare("speech-recognition", truth, good, bad, {**opts, "confidence": 0.99})
    assert wide.delta_intervals["wer"].low <= by_dict.delta_intervals["wer"].low


def test_paired_bootstrap_defaults_and_same_resamples_for_both() -> None:
    y, p = _cls(100, seed=4)
    stat = classification_statistic(y, p, 3)
    cmp = paired_bootstrap("classification", stat, stat, 100)
    assert (cmp.resamples, cmp.seed) == (1000, 0)
    assert cmp.p_a_better["accuracy"] == 0.5
    seeded = paired_bootstrap("classification", stat, stat, 100, frozenset({"accuracy"}), 50, 7)
    assert seeded.p_a_better["accuracy"] == 0.5  # a tie, lower or higher better
    assert seeded.delta_intervals["accuracy"].low == seeded.delta_intervals["accuracy"].high == 0
    assert (seeded.delta_intervals["accuracy"].resamples,
            seeded.delta_intervals["accuracy"].seed) == (50, 7)


def _verification_pair() -> tuple[dict[str, list], pa.Table, pa.Table]:
    # 2 targets among 22 trials: about one resample in eight draws no target at all
    ids = [str(i) for i in range(22)]
    labels = [1, 1] + [0] * 20
    perfect = [0.9, 0.8] + [0.1 * i / 20 for i in range(20)]
    inverted = [-s for s in perfect]
    return ({"id": ids, "label": labels}, pa.table({"id": ids, "score": perfect}),
            pa.table({"id": ids, "score": inverted}))


def test_resamples_without_a_value_do_not_count_against_a() -> None:
    truth, perfect, inverted = _verification_pair()
    cmp = compare("verification", truth, perfect, inverted, {"resamples": 300, "seed": 2})
    assert cmp.delta == {"eer": -1.0, "min_dcf": pytest.approx(-1.0)}
    assert cmp.p_a_better == {"eer": 1.0, "min_dcf": 1.0}  # in every resample with a target
    assert cmp.delta_intervals["eer"].low == cmp.delta_intervals["eer"].high == -1.0
    back = compare("verification", truth, inverted, perfect, {"resamples": 300, "seed": 2})
    assert back.p_a_better == {"eer": 0.0, "min_dcf": 0.0}
    same = compare("verification", truth, perfect, perfect, {"resamples": 300, "seed": 2})
    assert same.p_a_better == {"eer": 0.5, "min_dcf": 0.5}


def test_compare_on_two_trials_does_not_warn() -> None:
    truth = {"id": ["t", "n"], "label": [1, 0]}
    a = pa.table({"id": ["t", "n"], "score": [0.9, 0.1]})
    b = pa.table({"id": ["t", "n"], "score": [0.1, 0.9]})
    for seed in range(4):  # half of all resamples draw one kind of trial only
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            cmp = compare("verification", truth, a, b, {"resamples": 3, "seed": seed})
        assert cmp.delta["eer"] == -1.0
        p = cmp.p_a_better["eer"]
        assert p == 1.0 or np.isnan(p)  # NaN: none of the 3 resamples drew both kinds


def test_paired_metric_without_any_value_has_no_probability() -> None:
    def nothing(idx: IntArray) -> dict[str, np.ndarray]:
        return {"m": np.full(idx.shape[0], np.nan)}

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cmp = paired_bootstrap("verification", nothing, nothing, 3, frozenset(), 5, 0)
    assert np.isnan(cmp.p_a_better["m"])
    assert cmp.to_dict()["p_a_better"] == {"m": None}


def test_interval_of_a_metric_without_any_value_is_nan_without_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = intervals({"m": np.full(4, np.nan), "e": np.array([]), "k": np.array([np.nan, 2.0])},
                        0.95, 4, 1)
    assert np.isnan(out["m"].low) and np.isnan(out["m"].high)
    assert np.isnan(out["e"].low) and np.isnan(out["e"].high)
    assert out["k"].low == out["k"].high == 2.0
    assert out["m"].to_dict() == {"low": None, "high": None, "confidence": 0.95, "resamples": 4,
                                  "seed": 1}


def test_paired_resample_where_only_a_has_no_value_is_left_out() -> None:
    def a_stat(idx: IntArray) -> dict[str, np.ndarray]:
        return {"m": np.where(idx[:, 0] == 0, np.nan, 1.0)}  # undefined when row 0 drawn first

    def b_stat(idx: IntArray) -> dict[str, np.ndarray]:
        return {"m": np.zeros(idx.shape[0])}

    cmp = paired_bootstrap("classification", a_stat, b_stat, 4, frozenset(), 200, 1)
    assert cmp.p_a_better == {"m": 1.0}
    back = paired_bootstrap("classification", b_stat, a_stat, 4, frozenset(), 200, 1)
    assert back.p_a_better == {"m": 0.0}
    assert cmp.delta_intervals["m"].low == cmp.delta_intervals["m"].high == 1.0
