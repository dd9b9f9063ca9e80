"""The seeded stratified split."""

from __future__ import annotations

from collections import Counter

import pytest

from heldout.errors import IngestError
from heldout.ingest.splitting import parse_fractions, stratified_split


def test_stratified_split_is_stratified_and_stable() -> None:
    keys = [f"f{i:03d}" for i in range(300)]
    labels = ["a"] * 100 + ["b"] * 150 + ["c"] * 50
    fractions = {"train": 0.8, "test": 0.2}
    out = stratified_split(keys, labels, fractions, seed=7)
    counts = Counter(zip(labels, out, strict=True))
    assert counts[("a", "test")] == 20 and counts[("b", "test")] == 30
    assert counts[("c", "test")] == 10
    # Listing order does not matter; the seed does.
    reversed_out = stratified_split(keys[::-1], labels[::-1], fractions, seed=7)
    assert reversed_out[::-1] == out
    assert stratified_split(keys, labels, fractions, seed=8) != out


def test_parse_fractions() -> None:
    assert parse_fractions("train=0.7, validation=0.1,test=0.2") == {
        "train": 0.7, "validation": 0.1, "test": 0.2}
    with pytest.raises(IngestError, match="sum to 1"):
        parse_fractions("train=0.7,test=0.2")
    with pytest.raises(IngestError, match="NAME=FRACTION"):
        parse_fractions("train")
