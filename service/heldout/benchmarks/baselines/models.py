"""The built-in baselines as pure functions: public train table + public test inputs → predictions.

Each takes a :class:`BaselineInputs` (Arrow tables only; never held-out labels) and returns an
Arrow table in the prediction-file format of its task. ``BASELINES`` maps the model name a
benchmark's ``baseline.model_name`` names to its function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from heldout.benchmarks.baselines.features import (
    audio_mfcc,
    deltas,
    image_pixels,
    mfcc_statistics,
)
from heldout.benchmarks.baselines.templates import TemplateSet, recognise

Array = NDArray[np.float64]
SEED = 0
# Cost of starting a new word (negative: a bonus against deletions), in units of the summed
# frame distances; tuned by hand on the public validation split of spoken-digits.
WORD_PENALTY = -100.0


@dataclass(frozen=True)
class BaselineInputs:
    """What a baseline may see: public data only."""

    train: pa.Table  # the public train split, every column
    test: pa.Table  # the benchmark's public test inputs: id + input columns
    truth_column: str  # the column to learn (present in ``train`` only)
    input_column: str
    label_names: tuple[str, ...] | None = None  # classification: names in label-index order
    train_filter: Mapping[str, Any] = field(default_factory=dict)  # the benchmark's row filter
    trials: pa.Table | None = None  # verification: id, enroll_id, test_id


def train_rows(inputs: BaselineInputs) -> pa.Table:
    """Train rows that match the benchmark's filter and have a value to learn."""
    table = inputs.train
    for column, value in inputs.train_filter.items():
        if column in table.column_names:
            table = table.filter(pc.equal(table[column], pa.scalar(value)))
    return table.filter(pc.is_valid(table[inputs.truth_column]))


def _label_indices(values: list[Any], names: tuple[str, ...]) -> NDArray[np.int64]:
    lookup = {name: i for i, name in enumerate(names)}
    return np.asarray([v if isinstance(v, int) else lookup[str(v)] for v in values],
                      dtype=np.int64)


def _classify(inputs: BaselineInputs, vectorise: Callable[[Any], Array], c: float) -> pa.Table:
    """Scaled logistic regression on fixed-length vectors; predictions with probabilities."""
    if inputs.label_names is None:
        raise ValueError("a classification baseline needs the label names")
    names = inputs.label_names
    train = train_rows(inputs)
    x = np.vstack([vectorise(v) for v in train[inputs.input_column].to_pylist()])
    y = _label_indices(train[inputs.truth_column].to_pylist(), names)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000))
    model.fit(x, y)
    test_x = np.vstack([vectorise(v) for v in inputs.test[inputs.input_column].to_pylist()])
    probabilities = np.zeros((len(test_x), len(names)))
    probabilities[:, model.classes_] = model.predict_proba(test_x)
    predicted = probabilities.argmax(axis=1)
    return pa.table({
        "id": inputs.test["id"],
        "prediction": [names[i] for i in predicted],
        "scores": pa.array(probabilities.tolist(), type=pa.list_(pa.float64())),
    })


def logistic_regression_pixels(inputs: BaselineInputs) -> pa.Table:
    """Digits: logistic regression on the raw pixels."""
    return _classify(inputs, image_pixels, c=1.0)


def mfcc_stats_logistic_regression(inputs: BaselineInputs) -> pa.Table:
    """Keyword spotting: MFCC and delta means and deviations → logistic regression."""
    return _classify(inputs, lambda v: mfcc_statistics(audio_mfcc(v)), c=1.0)


def dtw_features(value: Any) -> Array:
    """MFCCs and deltas with per-utterance mean removed (frames for template matching)."""
    coefficients = audio_mfcc(value)
    both = np.hstack([coefficients, deltas(coefficients)])
    return both - both.mean(axis=0)


def _is_one_word(text: str) -> bool:
    words = text.split()
    return len(words) == 1 and (words[0].isascii() or len(words[0]) == 1)


def mfcc_dtw_templates(inputs: BaselineInputs) -> pa.Table:
    """Speech recognition: connected-word DTW against every one-word train utterance."""
    train = train_rows(inputs)
    templates = [
        (text.strip(), dtw_features(audio))
        for text, audio in zip(train[inputs.truth_column].to_pylist(),
                               train[inputs.input_column].to_pylist(), strict=True)
        if _is_one_word(str(text))
    ]
    template_set = TemplateSet.build(templates)
    texts = [" ".join(recognise(dtw_features(audio), template_set, WORD_PENALTY))
             for audio in inputs.test[inputs.input_column].to_pylist()]
    return pa.table({"id": inputs.test["id"], "text": pa.array(texts, type=pa.string())})


def mfcc_mean_embedding(value: Any) -> Array:
    """A speaker embedding: the mean of the MFCCs without c0 (loudness)."""
    coefficients = audio_mfcc(value, n_mfcc=20)[:, 1:]
    return np.asarray(coefficients.mean(axis=0), dtype=np.float64)


def mfcc_mean_cosine(inputs: BaselineInputs) -> pa.Table:
    """Speaker verification: cosine similarity of MFCC-mean embeddings, standardised
    with the mean and deviation of the train utterances."""
    if inputs.trials is None:
        raise ValueError("a verification baseline needs the trial list")
    train = np.vstack([mfcc_mean_embedding(v)
                       for v in inputs.train[inputs.input_column].to_pylist()])
    centre, scale = train.mean(axis=0), np.maximum(train.std(axis=0), 1e-9)
    ids = [str(i) for i in inputs.test["id"].to_pylist()]
    vectors = np.vstack([(mfcc_mean_embedding(v) - centre) / scale
                         for v in inputs.test[inputs.input_column].to_pylist()])
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    row = {i: n for n, i in enumerate(ids)}
    enroll = vectors[[row[str(i)] for i in inputs.trials["enroll_id"].to_pylist()]]
    test = vectors[[row[str(i)] for i in inputs.trials["test_id"].to_pylist()]]
    return pa.table({"id": inputs.trials["id"],
                     "score": pa.array((enroll * test).sum(axis=1), type=pa.float64())})


Baseline = Callable[[BaselineInputs], pa.Table]
BASELINES: dict[str, Baseline] = {
    "logistic-regression-pixels": logistic_regression_pixels,
    "mfcc-stats-logistic-regression": mfcc_stats_logistic_regression,
    "mfcc-dtw-templates": mfcc_dtw_templates,
    "mfcc-mean-cosine": mfcc_mean_cosine,
}
