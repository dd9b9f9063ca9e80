"""Property tests: every metric against scikit-learn and jiwer on random, degenerate inputs."""

from __future__ import annotations

import warnings

import jiwer
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from heldout.scoring.bootstrap import classification_statistic, speech_statistic
from heldout.scoring.classification import MISSING, classification_metrics
from heldout.scoring.speech import speech_metrics, utterance_counts
from heldout.scoring.verification import verification_metrics

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def labelled(draw: st.DrawFn, with_missing: bool = False) -> tuple[np.ndarray, np.ndarray, int]:
    c = draw(st.integers(2, 7))
    n = draw(st.integers(1, 60))
    # degenerate: sometimes every true label is the same, sometimes a class is never predicted
    one_class = draw(st.booleans())
    true_hi = 0 if one_class else c - 1
    y_true = np.array(draw(st.lists(st.integers(0, true_hi), min_size=n, max_size=n)))
    pred_hi = c - 2 if draw(st.booleans()) else c - 1
    lo = MISSING if with_missing else 0
    y_pred = np.array(draw(st.lists(st.integers(lo, pred_hi), min_size=n, max_size=n)))
    return y_true, y_pred, c


def _sk(y_true: np.ndarray, y_pred: np.ndarray, c: int) -> dict[str, float]:
    # a missing prediction (-1) is an extra label outside labels= for scikit-learn
    y_pred = np.where(y_pred == MISSING, c, y_pred)
    labels = list(range(c))
    out = {"accuracy": skm.accuracy_score(y_true, y_pred)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["balanced_accuracy"] = skm.balanced_accuracy_score(y_true, y_pred)
        for avg in ("macro", "micro", "weighted"):
            p, r, f, _ = skm.precision_recall_fscore_support(
                y_true, y_pred, labels=labels, average=avg, zero_division=0
            )
            out[f"precision_{avg}"], out[f"recall_{avg}"], out[f"f1_{avg}"] = p, r, f
    return out


@SETTINGS
@given(labelled(with_missing=True))
def test_label_metrics_equal_sklearn(case: tuple[np.ndarray, np.ndarray, int]) -> None:
    y_true, y_pred, c = case
    r = classification_metrics(y_true, y_pred, [f"c{i}" for i in range(c)])
    ours = r.metrics()
    for name, value in _sk(y_true, y_pred, c).items():
        assert ours[name] == pytest.approx(value, abs=1e-12), name
    cm = skm.confusion_matrix(y_true, np.where(y_pred == MISSING, c, y_pred), labels=range(c + 1))
    assert np.array_equal(r.confusion_matrix, cm[:c, :c])
    assert np.array_equal(r.missing_per_class, cm[:c, c])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f1 = skm.f1_score(
            y_true,
            np.where(y_pred == MISSING, c, y_pred),
            labels=range(c),
            average=None,
            zero_division=0,
        )
    assert [p.f1 for p in r.per_class] == pytest.approx(list(f1))


@st.composite
def scored(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    c = draw(st.integers(3, 6))
    n = draw(st.integers(2, 50))
    y_true = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    # coarse values make ties frequent
    raw = (
        np.array(
            draw(st.lists(st.integers(0, 4), min_size=n * c, max_size=n * c)), dtype=float
        ).reshape(n, c)
        + 1e-3
    )
    return y_true, raw / raw.sum(axis=1, keepdims=True)


@SETTINGS
@given(scored())
def test_score_metrics_equal_sklearn(case: tuple[np.ndarray, np.ndarray]) -> None:
    y_true, probs = case
    c = probs.shape[1]
    labels = list(range(c))
    ks = tuple(range(1, c + 1))
    r = classification_metrics(y_true, probs.argmax(axis=1), [str(i) for i in labels], probs, ks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in ks:
            assert r.top_k_accuracy[k] == pytest.approx(
                skm.top_k_accuracy_score(y_true, probs, k=k, labels=labels)
            )
        assert r.log_loss == pytest.approx(skm.log_loss(y_true, probs, labels=labels), rel=1e-12)
    present = np.unique(y_true)
    if present.size == c:
        for avg, ours in (("macro", r.roc_auc_ovr_macro), ("weighted", r.roc_auc_ovr_weighted)):
            ref = skm.roc_auc_score(y_true, probs, multi_class="ovr", average=avg, labels=labels)
            assert ours == pytest.approx(ref, abs=1e-12)


@SETTINGS
@given(labelled(with_missing=True))
def test_bootstrap_statistic_on_identity_equals_metrics(
    case: tuple[np.ndarray, np.ndarray, int],
) -> None:
    y_true, y_pred, c = case
    r = classification_metrics(y_true, y_pred, [str(i) for i in range(c)])
    stat = classification_statistic(y_true, y_pred, c)
    values = stat(np.arange(len(y_true))[None, :])
    for name, v in values.items():
        assert v[0] == pytest.approx(getattr(r, name), abs=1e-12), name


WORDS = st.sampled_from(["a", "b", "c", "the", "cat", "été", "猫", "ß", "A", "x1", "", "  "])
TEXT = st.one_of(
    st.lists(WORDS, max_size=12).map(" ".join),
    st.text(alphabet=st.sampled_from("ab c\tÉ猫 \u3000\n"), max_size=20),
)


@SETTINGS
@given(st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=8))
def test_speech_metrics_equal_jiwer(pairs: list[tuple[str, str]]) -> None:
    refs = [r for r, _ in pairs]
    hyps = [h for _, h in pairs]
    ours = speech_metrics(refs, hyps, alignments=True)
    ref = jiwer.process_words(refs, hyps)
    assert (ours.wer, ours.mer, ours.wil) == (ref.wer, ref.mer, ref.wil)
    assert (
        ours.words.hits,
        ours.words.substitutions,
        ours.words.deletions,
        ours.words.insertions,
    ) == (ref.hits, ref.substitutions, ref.deletions, ref.insertions)
    assert ours.cer == jiwer.cer(refs, hyps)
    assert ours.alignments is not None
    for mine, theirs in zip(ours.alignments, ref.alignments, strict=True):
        assert mine.chunks() == [
            (c.type, c.ref_start_idx, c.ref_end_idx, c.hyp_start_idx, c.hyp_end_idx) for c in theirs
        ]
    for mine, words in zip(ours.alignments, ref.references, strict=True):
        assert list(mine.reference) == words


def test_very_long_utterances_equal_jiwer() -> None:
    rng = np.random.default_rng(3)
    vocab = [f"w{i}" for i in range(300)]
    refs = [" ".join(rng.choice(vocab, 5000)) for _ in range(3)]
    hyps = [" ".join(rng.choice(vocab, 4000)) for _ in range(2)] + [""]
    ours = speech_metrics(refs, hyps)
    ref = jiwer.process_words(refs, hyps)
    assert (ours.wer, ours.mer, ours.wil) == (ref.wer, ref.mer, ref.wil)
    assert ours.cer == jiwer.cer(refs, hyps)


@SETTINGS
@given(st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=8))
def test_speech_bootstrap_identity_equals_pooled(pairs: list[tuple[str, str]]) -> None:
    refs = [r for r, _ in pairs]
    hyps = [h for _, h in pairs]
    ours = speech_metrics(refs, hyps)
    uc = utterance_counts(refs, hyps)
    values = speech_statistic(uc.words, uc.chars)(np.arange(len(refs))[None, :])
    assert values["wer"][0] == ours.wer and values["cer"][0] == ours.cer
    assert values["wil"][0] == pytest.approx(ours.wil) and values["mer"][0] == ours.mer


def _reference_eer(labels: np.ndarray, scores: np.ndarray) -> float:
    """EER from sklearn's ROC: where the piecewise-linear ROC meets 1 - FPR."""
    fpr, tpr, _ = skm.roc_curve(labels, scores, drop_intermediate=False)
    fnr = 1 - tpr
    i = int(np.argmax(fnr - fpr <= 1e-12))
    d0, d1 = fnr[i - 1] - fpr[i - 1], fnr[i] - fpr[i]
    t = d0 / (d0 - d1) if d1 < 0 else 1.0
    return float(fpr[i - 1] + t * (fpr[i] - fpr[i - 1]))


@SETTINGS
@given(
    st.lists(st.tuples(st.integers(0, 1), st.integers(0, 6)), min_size=2, max_size=80).filter(
        lambda t: len({lab for lab, _ in t}) == 2
    ),
    st.sampled_from([0.01, 0.05, 0.5]),
)
def test_verification_equals_sklearn_roc(trials: list[tuple[int, int]], p_target: float) -> None:
    labels = np.array([t[0] for t in trials])
    scores = np.array([t[1] for t in trials], dtype=float)
    r = verification_metrics(labels, scores, p_target=p_target)
    assert r.eer == pytest.approx(_reference_eer(labels, scores), abs=1e-12)
    fpr, tpr, _ = skm.roc_curve(labels, scores, drop_intermediate=False)
    dcf = (p_target * (1 - tpr) + (1 - p_target) * fpr).min() / min(p_target, 1 - p_target)
    assert r.min_dcf == pytest.approx(dcf, abs=1e-12)
