"""A CSV whose header row does not end within the first MiB is refused with the reason: its
later column names would not be read as text (an id such as 007 would become 7)."""

from __future__ import annotations

import pytest

from heldout.errors import PredictionError
from heldout.scoring.predictions import HEADER_BYTES, read_predictions


def test_a_header_row_longer_than_a_mib_is_refused() -> None:
    names = ",".join(f"column_{i:07d}" for i in range(HEADER_BYTES // 15 + 1))
    data = f"id,prediction,{names}\n007,cat\n".encode()
    with pytest.raises(PredictionError) as caught:
        read_predictions(data, name="wide.csv")
    assert str(caught.value) == (
        "wide.csv: not a readable CSV file: the header row is longer than 1 MiB")


def test_a_header_just_under_a_mib_is_read_and_every_column_stays_text() -> None:
    names = [f"c{i}".ljust(100_000, "x") for i in range(10)]
    names.append("last".ljust(HEADER_BYTES - 64 - 1_000_010 - len(",id,prediction"), "x"))
    filler, count = ",".join(names), len(names)
    data = f"{filler},id,prediction\n{',' * count}007,cat\n".encode()
    assert HEADER_BYTES - 128 < data.index(b"\n") < HEADER_BYTES
    table, _ = read_predictions(data, name="wide.csv")
    assert table.column("id").to_pylist() == ["007"]


def test_a_short_file_is_read_whole() -> None:
    table, _ = read_predictions(b"id,prediction\n007,cat", name="p.csv")
    assert table.column("id").to_pylist() == ["007"]
