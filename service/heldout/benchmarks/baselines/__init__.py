"""Honest built-in baselines: trained on public train splits, predicting public test inputs."""

from heldout.benchmarks.baselines.models import BASELINES, BaselineInputs

__all__ = ["BASELINES", "BaselineInputs"]
