"""Speech ground truth with a null text is refused (it used to be scored as the word "None"),
and the punctuation cache of the normalisers stays bounded whatever a submission holds."""

from __future__ import annotations

import pyarrow as pa
import pytest

from heldout.errors import InvalidInput
from heldout.scoring import normalizers, score


def test_a_null_reference_text_is_refused_naming_the_row() -> None:
    truth = {"id": ["u1", "u2", "u3"], "text": ["one", None, None]}
    predictions = pa.table({"id": ["u1", "u2", "u3"], "text": ["one", "None", "None"]})
    with pytest.raises(InvalidInput) as caught:
        score("speech-recognition", truth, predictions)
    assert str(caught.value) == (
        "speech ground truth text is null in 2 row(s), first at row 1")


def test_the_punctuation_cache_stops_growing_at_its_limit() -> None:
    every_character = "".join(chr(c) for c in range(0x20, 0x30000) if not 0xD800 <= c < 0xE000)
    assert normalizers.basic(every_character + "a!") == normalizers.basic(
        every_character + "a!")
    assert len(normalizers._PUNCT_CACHE) == normalizers._BoundedCache.limit
    assert normalizers.basic("Hello, world!") == "hello world"
