"""A nearest-template recogniser for connected words: one-stage dynamic time warping.

Every training utterance of a single word is a template (a sequence of feature frames). A test
utterance is explained as a sequence of templates end to end: the one-stage DP of Ney (1984)
warps each template (a frame may repeat, or up to one frame may be skipped) and may start a
new word at any frame, paying ``word_penalty``; the cheapest path through the test frames gives
the words. Pure numpy; one vectorised step per test frame over every template frame at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.distance import cdist

Array = NDArray[np.float64]
INF = np.inf


@dataclass(frozen=True)
class TemplateSet:
    """All templates concatenated: frames (N, d), the word and position of every frame."""

    frames: Array
    word_of_frame: NDArray[np.int64]
    position: NDArray[np.int64]
    is_end: NDArray[np.bool_]
    words: tuple[str, ...]

    @classmethod
    def build(cls, templates: Sequence[tuple[str, Array]]) -> TemplateSet:
        """From (word, frames) pairs; every template needs at least one frame."""
        if not templates:
            raise ValueError("a template recogniser needs at least one template")
        words = tuple(word for word, _ in templates)
        lengths = np.array([len(f) for _, f in templates], dtype=np.int64)
        if (lengths < 1).any():
            raise ValueError("every template needs at least one frame")
        owner = np.repeat(np.arange(len(templates)), lengths)
        starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
        position = np.arange(int(lengths.sum())) - starts
        is_end = position == lengths[owner] - 1
        frames = np.vstack([f for _, f in templates]).astype(np.float64)
        return cls(frames, owner, position, is_end, words)


def _shift(values: NDArray[Any], by: int, fill: Any) -> NDArray[Any]:
    out = np.empty_like(values)
    out[:by] = fill
    out[by:] = values[:-by]
    return out


def _step(previous: Array, starts: NDArray[np.int64], can_one: NDArray[np.bool_],
          can_two: NDArray[np.bool_]) -> tuple[Array, NDArray[np.int64]]:
    """Best predecessor within each template: stay, advance one, or advance two frames."""
    best, best_start = previous.copy(), starts.copy()
    for by, allowed in ((1, can_one), (2, can_two)):
        candidate = np.where(allowed, _shift(previous, by, INF), INF)
        better = candidate < best
        best[better] = candidate[better]
        best_start[better] = _shift(starts, by, 0)[better]
    return best, best_start


def recognise(features: Array, templates: TemplateSet, word_penalty: float) -> list[str]:
    """The cheapest sequence of template words that explains ``features`` (T, d)."""
    distance = cdist(features, templates.frames)
    n_frames = len(features)
    entry = templates.position == 0
    cost = np.where(entry, distance[0], INF)
    start = np.zeros(len(templates.frames), dtype=np.int64)
    end_cost = np.full(n_frames, INF)
    end_template = np.zeros(n_frames, dtype=np.int64)
    end_start = np.zeros(n_frames, dtype=np.int64)
    can_one, can_two = templates.position >= 1, templates.position >= 2
    for t in range(n_frames):
        if t > 0:
            cost, start = _step(cost, start, can_one, can_two)
            new_word = end_cost[t - 1] + word_penalty
            take = entry & (new_word < cost)
            cost = np.where(take, new_word, cost) + distance[t]
            start = np.where(take, t, start)
        ends = np.where(templates.is_end, cost, INF)
        best = int(np.argmin(ends))
        end_cost[t], end_start[t] = ends[best], start[best]
        end_template[t] = templates.word_of_frame[best]
    return _backtrace(end_template, end_start, templates.words)


def _backtrace(end_template: NDArray[np.int64], end_start: NDArray[np.int64],
               words: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    t = len(end_template) - 1
    while t >= 0:
        out.append(words[int(end_template[t])])
        t = int(end_start[t]) - 1
    return out[::-1]
