"""``score()`` and ``compare()``: one entry point per task family for service, worker and CLI.

Task families: ``classification``, ``speech-recognition``, ``verification``. Ground truth
is an Arrow table (or a mapping of column name to array, or a ``Truth``) with ``id`` and
``label`` (classification: label index, or label name from ``label_names``; verification:
1 target / 0 non-target) or ``text`` (speech recognition).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from heldout.errors import InvalidInput
from heldout.scoring import bootstrap as bs
from heldout.scoring.classification import (
    MISSING,
    classification_metrics,
    default_top_k,
    top_k_rank,
)
from heldout.scoring.normalizers import get_normalizer
from heldout.scoring.predictions import (
    DEFAULT_MAX_BYTES,
    MISSING_POLICIES,
    MissingPolicy,
    Source,
    classification_predictions,
    read_predictions,
    speech_predictions,
    verification_predictions,
)
from heldout.scoring.results import PairedComparison, ScoreReport
from heldout.scoring.speech import speech_metrics, utterance_counts
from heldout.scoring.verification import verification_metrics

LOWER_IS_BETTER = frozenset({"wer", "mer", "wil", "cer", "eer", "min_dcf", "log_loss"})


@dataclass(frozen=True)
class ScoreConfig:
    """Scoring options a benchmark fixes and publishes (see ``from_dict`` for YAML)."""

    missing: MissingPolicy = "error"
    normalizer: str = "none"
    top_k: tuple[int, ...] | None = None
    resamples: int = 1000
    seed: int = 0
    confidence: float = 0.95
    p_target: float = 0.01
    c_miss: float = 1.0
    c_fa: float = 1.0
    score_tolerance: float = 1e-3
    alignments: bool = False
    max_bytes: int = DEFAULT_MAX_BYTES
    primary_metric: str | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.missing not in MISSING_POLICIES:
            problems.append(f"missing must be one of {', '.join(MISSING_POLICIES)}")
        get_normalizer(self.normalizer)
        if self.resamples < 0:
            problems.append("resamples must be >= 0")
        if not 0 < self.confidence < 1:
            problems.append("confidence must be between 0 and 1")
        if not 0 < self.p_target < 1:
            problems.append("p_target must be between 0 and 1")
        if self.c_miss <= 0 or self.c_fa <= 0:
            problems.append("c_miss and c_fa must be positive")
        if self.top_k is not None and any(k < 1 for k in self.top_k):
            problems.append("top_k values must be >= 1")
        if problems:
            raise InvalidInput("invalid scoring config: " + "; ".join(problems))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ScoreConfig:
        """Build from a benchmark's ``scoring:`` mapping; unknown keys are refused."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput(
                f"unknown scoring option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        if data.get("top_k") is not None:
            data["top_k"] = tuple(int(k) for k in data["top_k"])
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every option."""
        out = asdict(self)
        if self.top_k is not None:
            out["top_k"] = list(self.top_k)
        return out


@dataclass(frozen=True)
class Truth:
    """Held-out ground truth in scoring form."""

    ids: NDArray[Any]
    labels: NDArray[np.int64] | None = None
    texts: list[str] | None = None
    label_names: tuple[str, ...] | None = None


def _columns(truth: pa.Table | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(truth, pa.Table):
        return {name: truth.column(name).to_pylist() for name in truth.column_names}
    return dict(truth)


def _speech_truth(ids: NDArray[Any], cols: dict[str, Any], _names: Sequence[str] | None) -> Truth:
    if "text" not in cols:
        raise InvalidInput("speech ground truth needs a 'text' column")
    texts = list(cols["text"])
    nulls = [i for i, text in enumerate(texts) if text is None]
    if nulls:
        raise InvalidInput(f"speech ground truth text is null in {len(nulls)} row(s), "
                           f"first at row {nulls[0]}")
    return Truth(ids, texts=[str(t) for t in texts])


def _raw_labels(task: str, cols: dict[str, Any]) -> list[Any]:
    if "label" not in cols:
        raise InvalidInput(f"{task} ground truth needs a 'label' column")
    return list(np.asarray(cols["label"]).tolist())


def _verification_truth(ids: NDArray[Any], cols: dict[str, Any],
                        _names: Sequence[str] | None) -> Truth:
    labels = _whole_numbers("verification", _raw_labels("verification", cols))
    if not np.isin(labels, (0, 1)).all():
        raise InvalidInput("verification labels must be 1 (target) or 0 (non-target)")
    return Truth(ids, labels=labels)


def _whole_numbers(task: str, raw: Any) -> NDArray[np.int64]:
    """Numeric labels as int64; a fraction (or NaN) is refused, not truncated."""
    values = np.asarray(raw)
    if values.dtype.kind == "f" and not np.array_equal(values, np.trunc(values)):
        raise InvalidInput(f"{task} ground truth labels must be whole numbers")
    return values.astype(np.int64)


def _classification_truth(ids: NDArray[Any], cols: dict[str, Any],
                          label_names: Sequence[str] | None) -> Truth:
    raw = _raw_labels("classification", cols)
    if not label_names:
        raise InvalidInput("classification ground truth needs the benchmark's label names")
    names = tuple(str(n) for n in label_names)
    if raw and isinstance(raw[0], str):
        lookup = {n: i for i, n in enumerate(names)}
        unknown = sorted({r for r in raw if r not in lookup})
        if unknown:
            raise InvalidInput(f"ground truth labels not in label names: {unknown[:10]}")
        labels = np.asarray([lookup[r] for r in raw], dtype=np.int64)
    else:
        labels = _whole_numbers("classification", raw)
        if labels.size and (labels.min() < 0 or labels.max() >= len(names)):
            raise InvalidInput(f"ground truth label indices must be in 0..{len(names) - 1}")
    return Truth(ids, labels=labels, label_names=names)


def make_truth(
    task: str,
    truth: Truth | pa.Table | Mapping[str, Any],
    label_names: Sequence[str] | None = None,
) -> Truth:
    """Normalise ground truth for ``task``; InvalidInput says what is wrong with it.

    A ``Truth`` is taken as it is, once it has the fields ``task`` reads.
    """
    kind = _task_kind(task)
    if isinstance(truth, Truth):
        lacking = [part for part in kind.needs if getattr(truth, part) is None]
        if lacking:
            raise InvalidInput(f"{task} ground truth needs {' and '.join(lacking)}")
        if "label_names" in kind.needs and not truth.label_names:
            raise InvalidInput(f"{task} ground truth needs at least one label name")
        if truth.labels is not None and truth.labels.dtype != np.int64:
            truth = replace(truth, labels=_whole_numbers(task, truth.labels))
        return truth
    cols = _columns(truth)
    if "id" not in cols:
        raise InvalidInput("ground truth needs an 'id' column")
    ids = np.asarray([str(i) for i in cols["id"]], dtype=object)
    if len(set(ids.tolist())) != len(ids):
        raise InvalidInput("ground truth ids are not unique")
    return kind.truth(ids, cols, label_names)


def _table(
    predictions: Source | pa.Table, config: ScoreConfig, name: str | None
) -> tuple[pa.Table, str]:
    if isinstance(predictions, pa.Table):
        return predictions, name or "predictions"
    return read_predictions(predictions, name=name, max_bytes=config.max_bytes)


@dataclass(frozen=True)
class _Measured:
    """What one task's scorer computes: the result, the bootstrap statistic, the count."""

    result: Any
    statistic: bs.Statistic
    n: int


def _classify(truth: Truth, table: pa.Table, label: str, config: ScoreConfig) -> _Measured:
    assert truth.labels is not None and truth.label_names is not None
    p = classification_predictions(
        table, label, truth.ids, truth.label_names, config.missing, config.score_tolerance
    )
    c = len(truth.label_names)
    ks = config.top_k or default_top_k(c)
    result = classification_metrics(truth.labels, p.labels, truth.label_names, p.scores, ks)
    ranks = losses = None
    if p.scores is not None:
        ranks = top_k_rank(np.where(p.labels == MISSING, MISSING, truth.labels), p.scores)
        eps = np.finfo(np.float64).eps
        true_p = p.scores[np.arange(len(truth.labels)), truth.labels]
        losses = -np.log(np.clip(true_p, eps, 1 - eps))
    stat = bs.classification_statistic(
        truth.labels, p.labels, c, ranks, tuple(ks) if ranks is not None else (), losses
    )
    return _Measured(result, stat, len(truth.labels))


def _recognise(truth: Truth, table: pa.Table, label: str, config: ScoreConfig) -> _Measured:
    assert truth.texts is not None
    sp = speech_predictions(table, label, truth.ids, config.missing)
    norm = get_normalizer(config.normalizer)
    uc = utterance_counts(truth.texts, sp.texts, norm, with_edits=config.alignments)
    result = speech_metrics(
        truth.texts,
        sp.texts,
        norm,
        ids=truth.ids.tolist(),
        alignments=config.alignments,
        n_missing=sp.n_missing,
        counts=uc,
    )
    return _Measured(result, bs.speech_statistic(uc.words, uc.chars), len(truth.texts))


def _verify(truth: Truth, table: pa.Table, label: str, config: ScoreConfig) -> _Measured:
    assert truth.labels is not None
    vp = verification_predictions(table, label, truth.ids, truth.labels, config.missing)
    result = verification_metrics(
        truth.labels,
        vp.scores,
        config.p_target,
        config.c_miss,
        config.c_fa,
        n_missing=vp.n_missing,
    )
    stat = bs.verification_statistic(
        truth.labels, vp.scores, config.p_target, config.c_miss, config.c_fa
    )
    return _Measured(result, stat, len(truth.labels))


@dataclass(frozen=True)
class TaskKind:
    """One task family: how its truth is read, how it is scored, its default primary metric."""

    primary: str
    truth: Callable[[NDArray[Any], dict[str, Any], Sequence[str] | None], Truth]
    measure: Callable[[Truth, pa.Table, str, ScoreConfig], _Measured]
    needs: tuple[str, ...]  # the Truth fields its scorer reads
    primary_for: Callable[[ScoreConfig], str] | None = None

    def primary_metric(self, config: ScoreConfig) -> str:
        """The configured primary metric, else this family's default for ``config``."""
        if config.primary_metric is not None:
            return config.primary_metric
        return self.primary_for(config) if self.primary_for else self.primary


def _speech_primary(config: ScoreConfig) -> str:
    return "cer" if config.normalizer == "chinese" else "wer"  # no word boundaries in Chinese


TASK_KINDS: dict[str, TaskKind] = {
    "classification": TaskKind("accuracy", _classification_truth, _classify,
                               ("labels", "label_names")),
    "speech-recognition": TaskKind("wer", _speech_truth, _recognise, ("texts",),
                                   _speech_primary),
    "verification": TaskKind("eer", _verification_truth, _verify, ("labels",)),
}
"""A new task family is a new entry here."""
TASKS = tuple(TASK_KINDS)
PRIMARY = {task: kind.primary for task, kind in TASK_KINDS.items()}


def _task_kind(task: str) -> TaskKind:
    if task not in TASK_KINDS:
        raise InvalidInput(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    return TASK_KINDS[task]


@dataclass(frozen=True)
class _Scored:
    report: ScoreReport
    statistic: bs.Statistic
    n: int


def _score(
    task: str,
    truth: Truth,
    predictions: Source | pa.Table,
    config: ScoreConfig,
    name: str | None,
) -> _Scored:
    kind = _task_kind(task)
    table, label = _table(predictions, config, name)
    measured = kind.measure(truth, table, label, config)
    metrics = measured.result.metrics()
    primary = kind.primary_metric(config)
    if primary not in metrics:
        raise InvalidInput(f"primary metric {primary!r} is not one of {', '.join(metrics)}")
    intervals = bs.bootstrap(measured.statistic, measured.n, config.resamples, config.seed,
                             config.confidence)
    report = ScoreReport(
        task=task,
        primary_metric=primary,
        metrics=metrics,
        intervals={k: v for k, v in intervals.items() if k in metrics},
        result=measured.result,
        config=config.to_dict(),
    )
    return _Scored(report, measured.statistic, measured.n)


def score(
    task: str,
    truth: Truth | pa.Table | Mapping[str, Any],
    predictions: Source | pa.Table,
    config: ScoreConfig | Mapping[str, Any] | None = None,
    *,
    label_names: Sequence[str] | None = None,
    name: str | None = None,
) -> ScoreReport:
    """Parse, validate and score one submission; metrics with bootstrap intervals.

    ``predictions`` is a path, bytes, a binary file or an already-read Arrow table.
    Raises PredictionError (bad file), PayloadTooLarge, or InvalidInput (bad truth/config).
    """
    cfg = config if isinstance(config, ScoreConfig) else ScoreConfig.from_dict(config)
    t = make_truth(task, truth, label_names)
    return _score(task, t, predictions, cfg, name).report


def compare(
    task: str,
    truth: Truth | pa.Table | Mapping[str, Any],
    predictions_a: Source | pa.Table,
    predictions_b: Source | pa.Table,
    config: ScoreConfig | Mapping[str, Any] | None = None,
    *,
    label_names: Sequence[str] | None = None,
) -> PairedComparison:
    """Paired bootstrap between two submissions: P(A beats B) for every metric."""
    cfg = config if isinstance(config, ScoreConfig) else ScoreConfig.from_dict(config)
    cfg_fast = ScoreConfig(**{**asdict(cfg), "resamples": 0, "alignments": False})
    t = make_truth(task, truth, label_names)
    a = _score(task, t, predictions_a, cfg_fast, None)
    b = _score(task, t, predictions_b, cfg_fast, None)
    return bs.paired_bootstrap(
        task,
        a.statistic,
        b.statistic,
        a.n,
        LOWER_IS_BETTER,
        cfg.resamples,
        cfg.seed,
        cfg.confidence,
    )
