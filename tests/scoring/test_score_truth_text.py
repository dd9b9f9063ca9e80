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
    class Small(normalizers._BoundedCache):
        limit = 3

    cache = Small()
    for ch in "abcde":
        cache[ch] = ch in "ae"
    assert cache == {"a": True, "b": False, "c": False}
    assert isinstance(normalizers._PUNCT_CACHE, normalizers._BoundedCache)
    assert normalizers._BoundedCache.limit == 65536
    assert normalizers.basic("Hello, world!") == "hello world"
