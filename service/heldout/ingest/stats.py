"""Dataset statistics for the manifest: class balance, image sizes, audio durations.

Histograms have 10 equal-width bins, like the Hugging Face dataset viewer's:
``{"bin_edges": [11 floats], "counts": [10 ints], "min", "max", "mean"}``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import numpy as np

from heldout.ingest.media import MediaInfo


def histogram(values: list[float], bins: int = 10) -> dict[str, Any]:
    """A 10-bin histogram of ``values`` (empty lists give zero counts)."""
    if not values:
        return {"bin_edges": [], "counts": [0] * bins, "min": None, "max": None, "mean": None}
    array = np.asarray(values, dtype=np.float64)
    counts, edges = np.histogram(array, bins=bins)
    return {
        "bin_edges": [round(float(e), 6) for e in edges],
        "counts": [int(c) for c in counts],
        "min": float(array.min()),
        "max": float(array.max()),
        "mean": round(float(array.mean()), 6),
    }


class StatsCollector:
    """Accumulates per-split statistics while files stream past (small numbers only)."""

    def __init__(self, label_names: list[str] | None) -> None:
        self.label_names = label_names
        self.class_counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.widths: dict[str, list[float]] = defaultdict(list)
        self.heights: dict[str, list[float]] = defaultdict(list)
        self.durations: dict[str, list[float]] = defaultdict(list)
        self.rates: dict[str, Counter[str]] = defaultdict(Counter)
        self.formats: dict[str, Counter[str]] = defaultdict(Counter)
        self.files: Counter[str] = Counter()
        self.bytes: Counter[str] = Counter()

    def add(self, split: str, label: Any, info: MediaInfo) -> None:
        """Record one valid example (``label``: a class name, index or None)."""
        self.files[split] += 1
        self.bytes[split] += info.size
        self.formats[split][info.format] += 1
        if label is not None:
            if isinstance(label, int) and self.label_names is not None:
                label = self.label_names[label]
            self.class_counts[split][str(label)] += 1
        if info.kind == "image":
            self.widths[split].append(float(info.width or 0))
            self.heights[split].append(float(info.height or 0))
        else:
            duration = info.duration
            if duration is not None:
                self.durations[split].append(duration)
            self.rates[split][str(info.sample_rate)] += 1

    def result(self, splits: list[str]) -> dict[str, Any]:
        """The ``statistics`` object (duplicate entries are added by the pipeline)."""
        out: dict[str, Any] = {
            "num_files": {s: self.files[s] for s in splits},
            "num_bytes": {s: self.bytes[s] for s in splits},
            "formats": {s: dict(self.formats[s]) for s in splits},
        }
        if self.label_names is not None or any(self.class_counts.values()):
            order = self.label_names or sorted({k for c in self.class_counts.values() for k in c})
            out["class_balance"] = {
                s: {name: self.class_counts[s][name] for name in order} for s in splits
            }
        if any(self.widths.values()):
            out["image_width"] = {s: histogram(self.widths[s]) for s in splits}
            out["image_height"] = {s: histogram(self.heights[s]) for s in splits}
        if any(self.durations.values()):
            out["audio_duration_seconds"] = {s: histogram(self.durations[s]) for s in splits}
            out["sample_rate"] = {s: dict(self.rates[s]) for s in splits}
        return out
