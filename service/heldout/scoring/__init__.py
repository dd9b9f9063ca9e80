"""Scoring: prediction parsing and validation, metrics by task family, bootstrap intervals.

Plain vectorised numpy functions with no web or storage code; the service, the worker and
the lab CLI all call ``score()`` (and ``compare()`` for a paired bootstrap).
"""

from heldout.scoring.predictions import read_predictions
from heldout.scoring.results import (
    ClassificationResult,
    Interval,
    PairedComparison,
    ScoreReport,
    SpeechResult,
    VerificationResult,
)
from heldout.scoring.score import TASKS, ScoreConfig, Truth, compare, make_truth, score

__all__ = [
    "TASKS",
    "ClassificationResult",
    "Interval",
    "PairedComparison",
    "ScoreConfig",
    "ScoreReport",
    "SpeechResult",
    "Truth",
    "VerificationResult",
    "compare",
    "make_truth",
    "read_predictions",
    "score",
]
