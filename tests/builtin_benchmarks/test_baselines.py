"""The built-in baselines: pure functions over public Arrow tables, better than chance."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from heldout.benchmarks.baselines.data import read_public_split
from heldout.benchmarks.baselines.features import deltas, mel_filterbank, mfcc
from heldout.benchmarks.baselines.models import (
    BASELINES,
    BaselineInputs,
    logistic_regression_pixels,
    mfcc_dtw_templates,
    mfcc_mean_cosine,
    mfcc_stats_logistic_regression,
)
from heldout.benchmarks.baselines.templates import TemplateSet, recognise
from heldout.scoring import ScoreConfig, score
from heldout.services import Services
from tests.builtin_benchmarks.conftest import GROUP, private_labels

pytestmark = GROUP
DIGITS = tuple(str(d) for d in range(10))


def test_mfcc_shapes_and_a_tone_lands_in_its_mel_band() -> None:
    rate = 16000
    t = np.arange(rate) / rate
    tone = np.sin(2 * np.pi * 1000 * t)
    features = mfcc(tone, rate)
    assert features.shape == (1 + (rate - 400) // 160, 13)
    bank = mel_filterbank(rate)
    assert bank.shape == (40, 257)
    band = int(np.argmax(bank[:, round(1000 * 512 / rate)]))
    power = np.abs(np.fft.rfft(tone[:512] * np.hamming(512))) ** 2
    assert int(np.argmax(bank @ power)) == band
    assert mfcc(np.zeros(10), rate).shape == (1, 13)  # shorter than a frame: padded


def test_deltas_of_a_ramp_are_its_slope() -> None:
    ramp = np.arange(20, dtype=np.float64)[:, None] * np.array([[1.0, -2.0]])
    assert np.allclose(deltas(ramp)[2:-2], [[1.0, -2.0]])


def test_connected_word_dtw_recovers_a_sequence_of_templates() -> None:
    rng = np.random.default_rng(3)
    words = {w: np.cumsum(rng.normal(size=(int(rng.integers(8, 14)), 4)), axis=0)
             for w in "abcde"}
    templates = TemplateSet.build(list(words.items()))
    spoken = ["c", "a", "e", "e", "b"]
    stretched = [np.repeat(words[w], 2, axis=0) if i % 2 else words[w]
                 for i, w in enumerate(spoken)]
    utterance = np.vstack(stretched) + rng.normal(scale=0.05, size=(sum(map(len, stretched)), 4))
    assert recognise(utterance, templates, word_penalty=0.0) == spoken
    with pytest.raises(ValueError, match="at least one template"):
        TemplateSet.build([])


def test_every_built_in_baseline_name_is_registered() -> None:
    assert set(BASELINES) == {"logistic-regression-pixels", "mfcc-stats-logistic-regression",
                              "mfcc-dtw-templates", "mfcc-mean-cosine"}


def _split(services: Services, name: str, split: str) -> pa.Table:
    return read_public_split(services.repository, name, "1.0.0", split)


def test_digits_baseline_beats_chance(builtin_services: Services) -> None:
    labels = private_labels(builtin_services, "digits")
    test = _split(builtin_services, "digits", "test")
    assert test.column_names == ["id", "image"]
    predictions = logistic_regression_pixels(BaselineInputs(
        _split(builtin_services, "digits", "train"), test, "label", "image", DIGITS))
    report = score("classification", labels, predictions, ScoreConfig(top_k=(2,)),
                   label_names=DIGITS)
    assert report.metrics["accuracy"] > 0.9
    assert report.metrics["top_2_accuracy"] >= report.metrics["accuracy"]


def _speech(services: Services) -> tuple[pa.Table, pa.Table, pa.Table]:
    return (_split(services, "spoken-digits", "train"),
            _split(services, "spoken-digits", "test"), private_labels(services, "spoken-digits"))


def _only(test: pa.Table, ids: pa.Array) -> pa.Table:
    return test.filter(pc.is_in(test["id"], value_set=ids))


def test_keyword_spotting_baseline_beats_chance(builtin_services: Services) -> None:
    train, test, labels = _speech(builtin_services)
    singles = labels.filter(pc.is_valid(labels["digit"]))
    predictions = mfcc_stats_logistic_regression(BaselineInputs(
        train, _only(test, singles["id"].combine_chunks()), "digit", "audio", DIGITS))
    report = score("classification", {"id": singles["id"].to_pylist(),
                                      "label": singles["digit"].to_pylist()},
                   predictions, ScoreConfig(), label_names=DIGITS)
    assert report.metrics["accuracy"] > 0.5  # chance: 0.1


@pytest.mark.parametrize(("language", "normalizer", "metric"),
                         [("en", "english", "wer"), ("cmn", "chinese", "cer")])
def test_template_recogniser_beats_chance(builtin_services: Services, language: str,
                                          normalizer: str, metric: str) -> None:
    train, test, labels = _speech(builtin_services)
    rows = labels.filter(pc.equal(labels["language"], language))
    predictions = mfcc_dtw_templates(BaselineInputs(
        train, _only(test, rows["id"].combine_chunks()), "transcript", "audio",
        train_filter={"language": language}))
    report = score("speech-recognition", {"id": rows["id"].to_pylist(),
                                          "text": rows["transcript"].to_pylist()},
                   predictions, ScoreConfig(normalizer=normalizer))
    assert report.metrics[metric] < 0.5  # a guess of one random digit is far above 0.8


def test_speaker_verification_baseline_beats_chance(builtin_services: Services) -> None:
    train, test, labels = _speech(builtin_services)
    rng = np.random.default_rng(0)
    ids, speakers = labels["id"].to_pylist(), labels["speaker_id"].to_pylist()
    pairs = [tuple(rng.choice(len(ids), 2, replace=False)) for _ in range(600)]
    trials = pa.table({"id": [f"t{i}" for i in range(len(pairs))],
                       "enroll_id": [ids[a] for a, _ in pairs],
                       "test_id": [ids[b] for _, b in pairs]})
    truth = {"id": trials["id"].to_pylist(),
             "label": [int(speakers[a] == speakers[b]) for a, b in pairs]}
    predictions = mfcc_mean_cosine(BaselineInputs(train, test, "speaker_id", "audio",
                                                  trials=trials))
    report = score("verification", truth, predictions, ScoreConfig())
    assert report.metrics["eer"] < 0.45  # chance: 0.5
