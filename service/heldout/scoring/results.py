"""Small frozen result types, each JSON-serialisable through ``to_dict()``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Protocol, overload

import numpy as np


def _plain(value: Any) -> Any:
    """Convert numpy scalars/arrays, tuples and nested results into JSON-ready values."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class _Serialisable:
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of this result (NaN becomes ``null``)."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class Interval(_Serialisable):
    """A percentile bootstrap confidence interval for one metric."""

    low: float
    high: float
    confidence: float
    resamples: int
    seed: int


@dataclass(frozen=True)
class PerClass(_Serialisable):
    """Precision, recall, F1 and support of one class."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class ClassificationResult(_Serialisable):
    """Every classification metric; score-based ones are ``None`` without scores."""

    n: int
    n_missing: int
    accuracy: float
    balanced_accuracy: float
    precision_macro: float
    recall_macro: float
    f1_macro: float
    precision_micro: float
    recall_micro: float
    f1_micro: float
    precision_weighted: float
    recall_weighted: float
    f1_weighted: float
    per_class: tuple[PerClass, ...]
    confusion_matrix: np.ndarray  # (C, C): rows true, columns predicted; missing not counted
    missing_per_class: np.ndarray  # (C,): missing predictions per true class
    top_k_accuracy: dict[int, float] = field(default_factory=dict)
    log_loss: float | None = None
    roc_auc_ovr_macro: float | None = None
    roc_auc_ovr_weighted: float | None = None

    def metrics(self) -> dict[str, float]:
        """The scalar metrics by name (``top_{k}_accuracy`` for each k)."""
        out: dict[str, float] = {
            name: float(getattr(self, name))
            for name in (
                "accuracy",
                "balanced_accuracy",
                "precision_macro",
                "recall_macro",
                "f1_macro",
                "precision_micro",
                "recall_micro",
                "f1_micro",
                "precision_weighted",
                "recall_weighted",
                "f1_weighted",
            )
        }
        for k, v in self.top_k_accuracy.items():
            out[f"top_{k}_accuracy"] = v
        for name in ("log_loss", "roc_auc_ovr_macro", "roc_auc_ovr_weighted"):
            value = getattr(self, name)
            if value is not None:
                out[name] = float(value)
        return out


class _Words(Protocol):
    def words(self, side: str, i: int) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Alignment(_Serialisable):
    """One utterance's word alignment.

    ``edits`` are rapidfuzz Levenshtein editops ``(tag, ref_pos, hyp_pos)`` with tag
    ``replace``, ``delete`` or ``insert``; positions not edited are hits. ``chunks()`` gives
    the same alignment as jiwer's ``AlignmentChunk`` list. The word tokens are decoded from
    the shared corpus encoding when first asked for (``reference``, ``hypothesis``).
    """

    id: str
    edits: tuple[tuple[str, int, int], ...]
    ref_len: int
    hyp_len: int
    _corpus: _Words = field(repr=False, compare=False)
    _index: int = field(repr=False, compare=False)

    @property
    def reference(self) -> tuple[str, ...]:
        return self._corpus.words("ref", self._index)

    @property
    def hypothesis(self) -> tuple[str, ...]:
        return self._corpus.words("hyp", self._index)

    def chunks(self) -> list[tuple[str, int, int, int, int]]:
        """``(type, ref_start, ref_end, hyp_start, hyp_end)`` with jiwer's type names."""
        from rapidfuzz.distance import Editops

        ops: Any = Editops(list(self.edits), self.ref_len, self.hyp_len)  # type: ignore[arg-type]
        names = {"replace": "substitute"}
        return [
            (names.get(tag, tag), i1, i2, j1, j2)
            for tag, i1, i2, j1, j2 in ops.as_opcodes().as_list()
        ]

    def to_dict(self) -> dict[str, Any]:
        """id, reference and hypothesis words, and the jiwer-style chunks."""
        return {
            "id": self.id,
            "reference": list(self.reference),
            "hypothesis": list(self.hypothesis),
            "chunks": [list(c) for c in self.chunks()],
        }


class Alignments(Sequence[Alignment]):
    """Per-utterance alignments of a corpus, computed eagerly, viewed as ``Alignment``s.

    Holds the editops of every utterance; an ``Alignment`` view is made when indexed.
    """

    def __init__(
        self,
        ids: Sequence[str],
        edits: Sequence[Sequence[tuple[str, int, int]]],
        lengths: Sequence[tuple[int, int]],
        corpus: _Words,
    ) -> None:
        self._ids, self._edits, self._lengths, self._corpus = ids, edits, lengths, corpus

    def __len__(self) -> int:
        return len(self._edits)

    @overload
    def __getitem__(self, i: int) -> Alignment: ...
    @overload
    def __getitem__(self, i: slice) -> list[Alignment]: ...
    def __getitem__(self, i: int | slice) -> Alignment | list[Alignment]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        ref_len, hyp_len = self._lengths[i]
        return Alignment(
            str(self._ids[i]), tuple(self._edits[i]), ref_len, hyp_len, self._corpus, i
        )

    def to_dict(self) -> list[dict[str, Any]]:
        """Every alignment as a dict."""
        return [a.to_dict() for a in self]


@dataclass(frozen=True)
class ErrorCounts(_Serialisable):
    """Pooled edit counts: hits, substitutions, deletions, insertions."""

    hits: int
    substitutions: int
    deletions: int
    insertions: int

    @property
    def reference_length(self) -> int:
        return self.hits + self.substitutions + self.deletions

    @property
    def hypothesis_length(self) -> int:
        return self.hits + self.substitutions + self.insertions


@dataclass(frozen=True)
class SpeechResult(_Serialisable):
    """Pooled WER, MER, WIL (words) and CER (characters) with their counts."""

    n: int
    n_missing: int
    normalizer: str
    wer: float
    mer: float
    wil: float
    cer: float
    words: ErrorCounts
    chars: ErrorCounts
    alignments: Alignments | None = None

    def metrics(self) -> dict[str, float]:
        """The scalar metrics by name."""
        return {"wer": self.wer, "mer": self.mer, "wil": self.wil, "cer": self.cer}


@dataclass(frozen=True)
class VerificationResult(_Serialisable):
    """EER, normalised minDCF with its parameters, and DET curve points."""

    n: int
    n_missing: int
    n_target: int
    n_nontarget: int
    eer: float
    eer_threshold: float
    min_dcf: float
    min_dcf_threshold: float
    p_target: float
    c_miss: float
    c_fa: float
    det_p_fa: np.ndarray
    det_p_miss: np.ndarray

    def metrics(self) -> dict[str, float]:
        """The scalar metrics by name."""
        return {"eer": self.eer, "min_dcf": self.min_dcf}


@dataclass(frozen=True)
class ScoreReport(_Serialisable):
    """What ``score()`` returns: the metrics, their intervals and the full result."""

    task: str
    primary_metric: str
    metrics: dict[str, float]
    intervals: dict[str, Interval]
    result: ClassificationResult | SpeechResult | VerificationResult
    config: dict[str, Any]


@dataclass(frozen=True)
class PairedComparison(_Serialisable):
    """Paired bootstrap of two submissions on the same test set.

    ``p_a_better[m]`` is the share of resamples in which A is strictly better than B on
    metric ``m`` (ties count one half); ``delta[m]`` is metric(A) - metric(B).
    """

    task: str
    p_a_better: dict[str, float]
    delta: dict[str, float]
    delta_intervals: dict[str, Interval]
    resamples: int
    seed: int
