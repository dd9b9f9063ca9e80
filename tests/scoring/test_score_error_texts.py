"""Every rejection of score()/make_truth()/ScoreConfig says what was wrong: full texts pinned."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from heldout.errors import InvalidInput
from heldout.scoring import ScoreConfig, Truth, make_truth, score

NAMES = ("cat", "dog", "eel")
KNOWN = (
    "alignments, c_fa, c_miss, confidence, max_bytes, missing, normalizer, p_target, "
    "primary_metric, resamples, score_tolerance, seed, top_k"
)


def _detail(exc: pytest.ExceptionInfo[InvalidInput]) -> str:
    assert isinstance(exc.value.detail, str)
    assert str(exc.value) == exc.value.detail
    return exc.value.detail


def _config_error(**options: Any) -> str:
    with pytest.raises(InvalidInput) as exc:
        ScoreConfig(**options)
    return _detail(exc)


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"missing": "skip"}, "missing must be one of error, count-as-wrong"),
        ({"resamples": -1}, "resamples must be >= 0"),
        ({"confidence": 0.0}, "confidence must be between 0 and 1"),
        ({"confidence": 1.0}, "confidence must be between 0 and 1"),
        ({"confidence": 1.5}, "confidence must be between 0 and 1"),
        ({"p_target": 0.0}, "p_target must be between 0 and 1"),
        ({"p_target": 1.0}, "p_target must be between 0 and 1"),
        ({"p_target": 1.5}, "p_target must be between 0 and 1"),
        ({"c_miss": 0.0}, "c_miss and c_fa must be positive"),
        ({"c_fa": 0.0}, "c_miss and c_fa must be positive"),
        ({"c_miss": -1.0, "c_fa": 2.0}, "c_miss and c_fa must be positive"),
        ({"c_miss": 2.0, "c_fa": -1.0}, "c_miss and c_fa must be positive"),
        ({"top_k": (1, 0)}, "top_k values must be >= 1"),
    ],
    ids=lambda v: "-".join(f"{k}={x}" for k, x in v.items()) if isinstance(v, dict) else "",
)
def test_each_config_problem_is_named(options: dict[str, Any], problem: str) -> None:
    assert _config_error(**options) == f"invalid scoring config: {problem}"


def test_config_boundaries_just_inside_are_accepted() -> None:
    cfg = ScoreConfig(resamples=0, confidence=0.999, p_target=0.999, c_miss=1e-9, c_fa=1e-9,
                      top_k=(1,))
    assert cfg.resamples == 0 and cfg.top_k == (1,)


def test_every_config_problem_is_listed_in_one_rejection() -> None:
    detail = _config_error(missing="skip", resamples=-5, confidence=2.0, p_target=0.0,
                           c_miss=0.0, top_k=(0,))
    assert detail == (
        "invalid scoring config: missing must be one of error, count-as-wrong; "
        "resamples must be >= 0; confidence must be between 0 and 1; "
        "p_target must be between 0 and 1; c_miss and c_fa must be positive; "
        "top_k values must be >= 1"
    )


def test_unknown_options_are_named_with_the_known_ones() -> None:
    with pytest.raises(InvalidInput) as exc:
        ScoreConfig.from_dict({"resample": 10, "confidance": 0.9, "seed": 1})
    assert _detail(exc) == f"unknown scoring option(s) confidance, resample; known: {KNOWN}"


def test_unknown_normalizer_is_refused_by_the_config() -> None:
    with pytest.raises(InvalidInput) as exc:
        ScoreConfig(normalizer="klingon")
    assert _detail(exc) == (
        "unknown text normaliser 'klingon'; choose one of none, basic, english, chinese"
    )


def _truth_error(task: str, truth: Any, label_names: Any = None) -> str:
    with pytest.raises(InvalidInput) as exc:
        make_truth(task, truth, label_names)
    return _detail(exc)


def test_unknown_task_names_the_choices() -> None:
    assert _truth_error("regression", {"id": ["1"], "label": [0]}) == (
        "unknown task 'regression'; choose one of classification, speech-recognition, "
        "verification"
    )
    table = pa.table({"id": ["1"], "text": ["a"]})
    with pytest.raises(InvalidInput) as exc:
        score("asr", {"id": ["1"], "text": ["a"]}, table)
    assert _detail(exc) == (
        "unknown task 'asr'; choose one of classification, speech-recognition, verification"
    )


@pytest.mark.parametrize("task", ["classification", "speech-recognition", "verification"])
def test_truth_without_ids(task: str) -> None:
    cols = {"ID": ["1"], "label": [0], "text": ["a"]}
    assert _truth_error(task, cols, NAMES) == "ground truth needs an 'id' column"
    assert _truth_error(task, pa.table(cols), NAMES) == "ground truth needs an 'id' column"


@pytest.mark.parametrize("task", ["classification", "speech-recognition", "verification"])
def test_truth_with_repeated_ids(task: str) -> None:
    cols = {"id": ["1", "2", "1"], "label": [0, 1, 0], "text": ["a", "b", "c"]}
    assert _truth_error(task, cols, NAMES) == "ground truth ids are not unique"


def test_ids_repeated_after_text_conversion_are_not_unique() -> None:
    # ids are compared as text: the number 1 and the string "1" are the same id
    assert _truth_error("verification", {"id": [1, "1"], "label": [0, 1]}) == (
        "ground truth ids are not unique"
    )


@pytest.mark.parametrize("task", ["classification", "verification"])
def test_truth_without_labels(task: str) -> None:
    cols = {"id": ["1", "2"], "text": ["a", "b"]}
    assert _truth_error(task, cols, NAMES) == f"{task} ground truth needs a 'label' column"
    assert _truth_error(task, pa.table(cols), NAMES) == (
        f"{task} ground truth needs a 'label' column"
    )


def test_speech_truth_without_text() -> None:
    cols = {"id": ["1", "2"], "label": [0, 1]}
    assert _truth_error("speech-recognition", cols) == (
        "speech ground truth needs a 'text' column"
    )


def test_classification_truth_needs_label_names() -> None:
    assert _truth_error("classification", {"id": ["1"], "label": ["cat"]}) == (
        "classification ground truth needs the benchmark's label names"
    )


def test_unknown_label_names_are_listed_sorted_first_ten() -> None:
    labels = ["cat", *[f"x{i:02d}" for i in range(12, 0, -1)], "dog", "x05"]
    detail = _truth_error("classification", {"id": list(range(len(labels))), "label": labels},
                          NAMES)
    shown = [f"x{i:02d}" for i in range(1, 11)]
    assert detail == f"ground truth labels not in label names: {shown}"


def test_one_unknown_label_name() -> None:
    detail = _truth_error("classification", {"id": ["1", "2"], "label": ["cat", "Dog"]}, NAMES)
    assert detail == "ground truth labels not in label names: ['Dog']"


@pytest.mark.parametrize("bad", [[0, 3], [-1, 0], [3], [-1], [0, 1, 2, 7]])
def test_label_indices_outside_the_names(bad: list[int]) -> None:
    cols = {"id": [str(i) for i in range(len(bad))], "label": bad}
    assert _truth_error("classification", cols, NAMES) == (
        "ground truth label indices must be in 0..2"
    )


def test_label_index_range_follows_the_number_of_names() -> None:
    cols = {"id": ["1", "2"], "label": [0, 5]}
    assert _truth_error("classification", cols, ["a", "b", "c", "d", "e"]) == (
        "ground truth label indices must be in 0..4"
    )


@pytest.mark.parametrize("bad", [[0, 2], [1, -1], [3]])
def test_verification_labels_must_be_zero_or_one(bad: list[int]) -> None:
    cols = {"id": [str(i) for i in range(len(bad))], "label": bad}
    assert _truth_error("verification", cols) == (
        "verification labels must be 1 (target) or 0 (non-target)"
    )


def test_primary_metric_must_be_one_the_task_computes() -> None:
    truth = {"id": ["1", "2"], "text": ["a b", "c"]}
    hyp = pa.table({"id": ["1", "2"], "text": ["a b", "c"]})
    with pytest.raises(InvalidInput) as exc:
        score("speech-recognition", truth, hyp, {"primary_metric": "accuracy"})
    assert _detail(exc) == "primary metric 'accuracy' is not one of wer, mer, wil, cer"
    vtruth = {"id": ["1", "2"], "label": [1, 0]}
    scores = pa.table({"id": ["1", "2"], "score": [0.9, 0.1]})
    with pytest.raises(InvalidInput) as exc:
        score("verification", vtruth, scores, {"primary_metric": "wer"})
    assert _detail(exc) == "primary metric 'wer' is not one of eer, min_dcf"


def test_valid_truth_is_accepted_unchanged() -> None:
    t = make_truth("classification", {"id": ["a", "b"], "label": [2, 0]}, NAMES)
    assert t.labels is not None and t.labels.tolist() == [2, 0]
    assert np.asarray(t.ids).tolist() == ["a", "b"]


@pytest.mark.parametrize(
    ("task", "truth", "detail"),
    [
        ("classification", Truth(np.array(["1"], dtype=object), label_names=NAMES),
         "classification ground truth needs labels"),
        ("classification", Truth(np.array(["1"], dtype=object), labels=np.array([0])),
         "classification ground truth needs label_names"),
        ("classification", Truth(np.array(["1"], dtype=object), texts=["a"]),
         "classification ground truth needs labels and label_names"),
        ("verification", Truth(np.array(["1"], dtype=object), texts=["a"]),
         "verification ground truth needs labels"),
        ("speech-recognition", Truth(np.array(["1"], dtype=object), labels=np.array([1])),
         "speech-recognition ground truth needs texts"),
    ],
    ids=["cls-no-labels", "cls-no-names", "cls-speech-truth", "ver-speech-truth",
         "asr-verification-truth"],
)
def test_a_truth_built_for_another_task_is_refused(task: str, truth: Truth, detail: str) -> None:
    assert _truth_error(task, truth) == detail
    preds = pa.table({"id": ["1"], "prediction": [0], "text": ["a"], "score": [0.5]})
    with pytest.raises(InvalidInput) as exc:
        score(task, truth, preds, label_names=NAMES)
    assert _detail(exc) == detail


def test_a_truth_that_fits_is_used_as_it_is() -> None:
    truth = Truth(np.array(["1", "2"], dtype=object), labels=np.array([1, 0]))
    assert make_truth("verification", truth) is truth
    speech = Truth(np.array(["1"], dtype=object), texts=["a b"])
    assert make_truth("speech-recognition", speech) is speech
    cls = Truth(np.array(["1"], dtype=object), labels=np.array([0]), label_names=NAMES)
    assert make_truth("classification", cls, ["other", "names"]) is cls
