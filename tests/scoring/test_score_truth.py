"""Ground truth handed to ``score()``: labels of any integer type score alike, and what can't
be a label (a fraction, an empty list of label names) is refused, never truncated."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from heldout.errors import InvalidInput
from heldout.scoring import ScoreConfig, Truth, score

NAMES = ("cat", "dog", "fox")


def predictions_with_a_missing_row() -> pa.Table:
    return pa.table({"id": ["a", "b"], "prediction": ["cat", "dog"],
                     "scores": [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1]]})


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint32, np.int64])
def test_a_hand_built_truth_scores_alike_whatever_its_integer_type(dtype: type) -> None:
    truth = Truth(np.asarray(["a", "b", "c"], dtype=object),
                  labels=np.asarray([0, 1, 2], dtype=dtype), label_names=NAMES)
    config = ScoreConfig(missing="count-as-wrong", resamples=0)
    report = score("classification", truth, predictions_with_a_missing_row(), config)
    assert report.metrics["accuracy"] == pytest.approx(2 / 3)
    assert report.metrics["log_loss"] == pytest.approx(
        (-np.log(0.8) - np.log(0.8) + np.log(3)) / 3)


@pytest.mark.parametrize("truth", [
    {"id": ["a", "b"], "label": [0.0, 1.5]},
    {"id": ["a", "b"], "label": [0.0, float("nan")]},
])
def test_fractional_class_numbers_are_refused(truth: dict[str, list[object]]) -> None:
    with pytest.raises(InvalidInput) as caught:
        score("classification", truth, pa.table({"id": ["a", "b"], "prediction": ["cat", "cat"]}),
              label_names=NAMES)
    assert str(caught.value) == "classification ground truth labels must be whole numbers"


def test_whole_float_class_numbers_are_classes() -> None:
    report = score("classification", {"id": ["a", "b"], "label": [0.0, 2.0]},
                   pa.table({"id": ["a", "b"], "prediction": ["cat", "fox"]}),
                   ScoreConfig(resamples=0), label_names=NAMES)
    assert report.metrics["accuracy"] == 1.0


def test_a_fractional_verification_label_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        score("verification", {"id": ["t1", "t2"], "label": [1.0, 0.5]},
              pa.table({"id": ["t1", "t2"], "score": [0.9, 0.1]}))
    assert str(caught.value) == "verification ground truth labels must be whole numbers"


def test_classification_without_label_names_is_refused() -> None:
    predictions = pa.table({"id": ["a"], "prediction": ["cat"]})
    with pytest.raises(InvalidInput) as caught:
        score("classification", {"id": [], "label": []}, predictions, label_names=[])
    assert str(caught.value) == (
        "classification ground truth needs the benchmark's label names")
    empty = Truth(np.asarray([], dtype=object), labels=np.asarray([], dtype=np.int64),
                  label_names=())
    with pytest.raises(InvalidInput) as caught:
        score("classification", empty, predictions)
    assert str(caught.value) == "classification ground truth needs at least one label name"
