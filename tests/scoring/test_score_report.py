"""score() reports what its options ask for: options reach the metrics, the report says so."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import log_loss as sk_log_loss
from sklearn.metrics import roc_curve

from heldout.errors import InvalidInput, PredictionError
from heldout.scoring import ScoreConfig, SpeechResult, VerificationResult, make_truth, score

NAMES = ("cat", "dog", "eel")
EPS = float(np.finfo(np.float64).eps)


def _ids(n: int) -> list[str]:
    return [f"u{i}" for i in range(n)]


# --- ground truth in ---------------------------------------------------------------------


def test_truth_label_names_become_indices() -> None:
    t = make_truth("classification", {"id": ["a", "b", "c"], "label": ["eel", "cat", "eel"]},
                   NAMES)
    assert t.labels is not None
    assert t.labels.tolist() == [2, 0, 2]
    assert t.labels.dtype == np.int64
    assert t.label_names == NAMES


def test_truth_from_an_arrow_table_and_from_a_mapping_agree() -> None:
    cols = {"id": ["a", "b", "c"], "label": ["dog", "cat", "eel"]}
    a = make_truth("classification", cols, NAMES)
    b = make_truth("classification", pa.table(cols), NAMES)
    assert a.labels is not None and b.labels is not None
    assert a.labels.tolist() == b.labels.tolist() == [1, 0, 2]
    assert list(a.ids) == list(b.ids) == ["a", "b", "c"]


def test_float_label_columns_are_class_indices() -> None:
    # a label column read as float (0.0, 2.0) still means classes 0 and 2
    t = make_truth("classification", {"id": ["a", "b"], "label": [0.0, 2.0]}, NAMES)
    assert t.labels is not None and t.labels.dtype == np.int64
    assert t.labels.tolist() == [0, 2]
    v = make_truth("verification", {"id": ["a", "b"], "label": [1.0, 0.0]})
    assert v.labels is not None and v.labels.dtype == np.int64
    assert v.labels.tolist() == [1, 0]


def test_float_labels_score_with_probabilities_like_sklearn() -> None:
    y = [0.0, 2.0, 1.0, 2.0]
    probs = [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3], [0.5, 0.25, 0.25]]
    preds = pa.table({"id": _ids(4), "prediction": [0, 2, 1, 0], "scores": probs})
    r = score("classification", {"id": _ids(4), "label": y}, preds, {"resamples": 20},
              label_names=NAMES)
    assert r.metrics["log_loss"] == pytest.approx(sk_log_loss(y, probs, labels=[0, 1, 2]))


def test_ids_are_kept_as_exact_text() -> None:
    # "a" and "a\x00" are different ids (a fixed-width numpy string would merge them)
    t = make_truth("verification", {"id": ["a", "a\x00", 7], "label": [1, 0, 1]})
    assert t.ids.dtype == object
    assert t.ids.tolist() == ["a", "a\x00", "7"]
    preds = pa.table({"id": ["a\x00", "a", "7"], "score": [0.1, 0.9, 0.8]})
    r = score("verification", t, preds, {"resamples": 0})
    assert r.metrics["eer"] == 0.0


# --- options reach the metrics -------------------------------------------------------------


def test_score_tolerance_is_the_configured_one() -> None:
    truth = {"id": _ids(2), "label": [0, 1]}
    preds = pa.table({"id": _ids(2), "prediction": [0, 1],
                      "scores": [[0.5, 0.52], [0.2, 0.8]]})  # row 1 sums to 1.02
    r = score("classification", truth, preds, {"score_tolerance": 0.05, "resamples": 0},
              label_names=["a", "b"])
    assert r.metrics["accuracy"] == 1.0
    with pytest.raises(PredictionError) as exc:
        score("classification", truth, preds, {"score_tolerance": 0.01},
              label_names=["a", "b"])
    assert "scores must sum to 1 within 0.01; row 1 sums to 1.02" in exc.value.detail


def test_top_k_from_a_yaml_mapping() -> None:
    cfg = ScoreConfig.from_dict({"top_k": ["2", 3]})
    assert cfg.top_k == (2, 3)
    assert isinstance(cfg.top_k, tuple)
    assert hash(cfg) == hash(ScoreConfig(top_k=(2, 3)))
    y = [0, 1, 2, 3]
    probs = [[0.4, 0.3, 0.2, 0.1], [0.4, 0.3, 0.2, 0.1], [0.4, 0.3, 0.2, 0.1],
             [0.4, 0.3, 0.2, 0.1]]
    preds = pa.table({"id": _ids(4), "prediction": [0, 0, 0, 0], "scores": probs})
    r = score("classification", {"id": _ids(4), "label": y}, preds,
              {"top_k": [2], "resamples": 30}, label_names=list("abcd"))
    assert r.metrics["top_2_accuracy"] == 0.5
    assert "top_3_accuracy" not in r.metrics
    assert set(r.intervals) >= {"top_2_accuracy", "log_loss", "accuracy"}


def test_config_to_dict_is_json_ready_with_every_option() -> None:
    cfg = ScoreConfig(top_k=(1, 3), resamples=5)
    out = cfg.to_dict()
    assert out["top_k"] == [1, 3] and isinstance(out["top_k"], list)
    assert set(out) == set(ScoreConfig().to_dict())
    assert json.loads(json.dumps(out)) == out
    assert ScoreConfig.from_dict(out) == cfg
    assert ScoreConfig().to_dict()["top_k"] is None


def test_log_loss_interval_is_positive_and_around_the_estimate() -> None:
    rng = np.random.default_rng(4)
    n = 300
    y = rng.integers(0, 3, n)
    raw = rng.random((n, 3)) + np.eye(3)[y]
    probs = raw / raw.sum(axis=1, keepdims=True)
    preds = pa.table({"id": _ids(n), "prediction": probs.argmax(axis=1),
                      "scores": probs.tolist()})
    r = score("classification", {"id": _ids(n), "label": y}, preds, {"resamples": 200},
              label_names=NAMES)
    expected = sk_log_loss(y, probs, labels=[0, 1, 2])
    assert r.metrics["log_loss"] == pytest.approx(expected)
    iv = r.intervals["log_loss"]
    assert 0 < iv.low < expected < iv.high


def test_log_loss_clips_certain_probabilities_as_sklearn() -> None:
    truth = {"id": _ids(3), "label": [0, 1, 0]}
    sure = pa.table({"id": _ids(3), "prediction": [0, 1, 0],
                     "scores": [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]})
    r = score("classification", truth, sure, {"resamples": 50}, label_names=["a", "b"])
    clipped = -math.log(1 - EPS)
    assert r.metrics["log_loss"] == pytest.approx(clipped, rel=1e-9)
    assert r.intervals["log_loss"].low == pytest.approx(clipped, rel=1e-9)
    assert r.intervals["log_loss"].high == pytest.approx(clipped, rel=1e-9)
    assert r.intervals["log_loss"].low > 0
    wrong = pa.table({"id": _ids(3), "prediction": [1, 0, 1],
                      "scores": [[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]})
    r = score("classification", truth, wrong, {"resamples": 50}, label_names=["a", "b"])
    assert r.metrics["log_loss"] == pytest.approx(-math.log(EPS))
    assert r.intervals["log_loss"].low == pytest.approx(-math.log(EPS))
    assert r.intervals["log_loss"].high == pytest.approx(-math.log(EPS))


# --- the report ---------------------------------------------------------------------------


def test_report_names_task_primary_metric_config_and_interval_confidence() -> None:
    truth = {"id": _ids(4), "label": [1, 0, 1, 0]}
    preds = pa.table({"id": _ids(4), "score": [0.9, 0.2, 0.4, 0.6]})
    cfg = {"resamples": 40, "seed": 3, "confidence": 0.8, "p_target": 0.2}
    r = score("verification", truth, preds, cfg)
    assert r.task == "verification"
    assert r.primary_metric == "eer"
    assert r.config == ScoreConfig.from_dict(cfg).to_dict()
    assert set(r.intervals) == {"eer", "min_dcf"}
    for iv in r.intervals.values():
        assert (iv.confidence, iv.resamples, iv.seed) == (0.8, 40, 3)
    body = r.to_dict()
    assert body["task"] == "verification" and body["config"]["p_target"] == 0.2


def test_narrower_confidence_gives_a_narrower_interval() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    pred = np.where(rng.random(200) < 0.7, y, (y + 1) % 3)
    truth = {"id": _ids(200), "label": y}
    preds = pa.table({"id": _ids(200), "prediction": pred})
    wide = score("classification", truth, preds, {"resamples": 300}, label_names=NAMES)
    narrow = score("classification", truth, preds, {"resamples": 300, "confidence": 0.5},
                   label_names=NAMES)
    w, n = wide.intervals["accuracy"], narrow.intervals["accuracy"]
    assert w.low < n.low < n.high < w.high


@pytest.mark.parametrize(
    ("normalizer", "primary"),
    [("chinese", "cer"), ("none", "wer"), ("basic", "wer"), ("english", "wer")],
)
def test_speech_primary_metric_follows_the_normaliser(normalizer: str, primary: str) -> None:
    truth = {"id": _ids(2), "text": ["你好 世界", "abc"]}
    hyp = pa.table({"id": _ids(2), "text": ["你好 世界", "abc"]})
    r = score("speech-recognition", truth, hyp, {"normalizer": normalizer, "resamples": 0})
    assert r.primary_metric == primary
    configured = score("speech-recognition", truth, hyp,
                       {"normalizer": normalizer, "primary_metric": "mer", "resamples": 0})
    assert configured.primary_metric == "mer"


def test_default_primary_metrics() -> None:
    c = score("classification", {"id": ["1"], "label": [0]},
              pa.table({"id": ["1"], "prediction": [0]}), {"resamples": 0}, label_names=NAMES)
    assert c.primary_metric == "accuracy"
    v = score("verification", {"id": ["1", "2"], "label": [1, 0]},
              pa.table({"id": ["1", "2"], "score": [1.0, 0.0]}), {"resamples": 0})
    assert v.primary_metric == "eer"


def test_prediction_table_rejections_name_the_file() -> None:
    truth = {"id": ["1"], "text": ["a"]}
    table = pa.table({"id": ["1"]})
    with pytest.raises(PredictionError) as exc:
        score("speech-recognition", truth, table)
    assert exc.value.detail == "predictions: missing column 'text' (columns found: id)"
    assert exc.value.extra["file"] == "predictions"
    with pytest.raises(PredictionError) as exc:
        score("speech-recognition", truth, table, name="run3.parquet")
    assert exc.value.detail == "run3.parquet: missing column 'text' (columns found: id)"
    assert exc.value.extra["file"] == "run3.parquet"


# --- speech --------------------------------------------------------------------------------


def test_speech_normaliser_is_applied_and_reported() -> None:
    truth = {"id": _ids(2), "text": ["Hello, World!", "good morning"]}
    hyp = pa.table({"id": _ids(2), "text": ["hello world", "Good Morning."]})
    plain = score("speech-recognition", truth, hyp, {"resamples": 0})
    assert plain.metrics["wer"] == 1.0
    assert isinstance(plain.result, SpeechResult) and plain.result.normalizer == "none"
    basic = score("speech-recognition", truth, hyp, {"normalizer": "basic", "resamples": 30})
    assert isinstance(basic.result, SpeechResult)
    assert basic.result.normalizer == "basic"
    assert basic.metrics == {"wer": 0.0, "mer": 0.0, "wil": 0.0, "cer": 0.0}
    assert basic.result.words.hits == 4
    assert basic.intervals["wer"].low == basic.intervals["wer"].high == 0.0


def test_speech_alignments_carry_the_truth_ids() -> None:
    truth = {"id": ["utt-b", "utt-a"], "text": ["a b c", "d e"]}
    hyp = pa.table({"id": ["utt-a", "utt-b"], "text": ["d x", "a c"]})
    r = score("speech-recognition", truth, hyp, {"alignments": True, "resamples": 0})
    assert isinstance(r.result, SpeechResult) and r.result.alignments is not None
    aligned = r.result.alignments.to_dict()
    assert [a["id"] for a in aligned] == ["utt-b", "utt-a"]
    assert aligned[0]["chunks"] == [["equal", 0, 1, 0, 1], ["delete", 1, 2, 1, 1],
                                    ["equal", 2, 3, 1, 2]]
    assert aligned[1]["hypothesis"] == ["d", "x"]
    off = score("speech-recognition", truth, hyp, {"resamples": 0})
    assert isinstance(off.result, SpeechResult) and off.result.alignments is None


def test_speech_missing_hypotheses_are_counted() -> None:
    truth = {"id": _ids(3), "text": ["a b", "c d", "e"]}
    hyp = pa.table({"id": ["u0", "u2"], "text": ["a b", "e"]})
    r = score("speech-recognition", truth, hyp, {"missing": "count-as-wrong", "resamples": 0})
    assert isinstance(r.result, SpeechResult)
    assert r.result.n_missing == 1
    assert r.result.n == 3
    assert r.metrics["wer"] == pytest.approx(2 / 5)
    assert r.to_dict()["result"]["n_missing"] == 1


# --- verification --------------------------------------------------------------------------


def _min_dcf(labels: list[int], scores: list[float], p: float, cm: float, cf: float) -> float:
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    dcf = cm * (1 - tpr) * p + cf * fpr * (1 - p)
    return float(np.min(dcf) / min(cm * p, cf * (1 - p)))


def test_verification_costs_reach_min_dcf_and_the_report() -> None:
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 80).tolist()
    scores = (rng.normal(size=80) + np.asarray(labels)).tolist()
    preds = pa.table({"id": _ids(80), "score": scores})
    truth = {"id": _ids(80), "label": labels}
    for p, cm, cf in [(0.3, 2.0, 5.0), (0.05, 4.0, 0.5), (0.9, 1.0, 1.0), (0.5, 3.0, 1.0)]:
        r = score("verification", truth, preds,
                  {"p_target": p, "c_miss": cm, "c_fa": cf, "resamples": 0})
        assert isinstance(r.result, VerificationResult)
        assert (r.result.p_target, r.result.c_miss, r.result.c_fa) == (p, cm, cf)
        assert r.metrics["min_dcf"] == pytest.approx(_min_dcf(labels, scores, p, cm, cf))


def test_verification_missing_trials_are_counted_and_intervals_computed() -> None:
    truth = {"id": _ids(6), "label": [1, 1, 1, 0, 0, 0]}
    preds = pa.table({"id": ["u0", "u1", "u3", "u4", "u5"], "score": [0.9, 0.8, 0.3, 0.2, 0.1]})
    r = score("verification", truth, preds,
              {"missing": "count-as-wrong", "resamples": 200, "seed": 1})
    assert isinstance(r.result, VerificationResult)
    assert r.result.n_missing == 1
    assert r.result.n == 6
    assert r.metrics["eer"] == pytest.approx(1 / 3)
    assert set(r.intervals) == {"eer", "min_dcf"}
    iv = r.intervals["eer"]
    assert 0.0 <= iv.low <= 1 / 3 <= iv.high <= 1.0
    assert iv.resamples == 200


def test_invalid_input_from_a_config_mapping_or_object_is_the_same() -> None:
    truth = {"id": ["1", "2"], "label": [1, 0]}
    preds = pa.table({"id": ["1", "2"], "score": [1.0, 0.0]})
    with pytest.raises(InvalidInput) as exc:
        score("verification", truth, preds, {"bogus": 1})
    assert "unknown scoring option(s) bogus" in exc.value.detail
    r = score("verification", truth, preds, ScoreConfig(resamples=7))
    assert r.intervals["eer"].resamples == 7


def test_scoring_with_probabilities_emits_no_warnings() -> None:
    truth = {"id": _ids(4), "label": [0, 1, 2, 0]}
    preds = pa.table({"id": _ids(4), "prediction": [0, 1, 1, 0],
                      "scores": [[0.8, 0.1, 0.1], [0.0, 1.0, 0.0], [0.2, 0.5, 0.3],
                                 [1.0, 0.0, 0.0]]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = score("classification", truth, preds, {"resamples": 50}, label_names=NAMES)
    assert r.metrics["accuracy"] == 0.75
    assert "log_loss" in r.intervals
