"""The ``english`` normaliser writes spoken cardinals as digits: where a number starts, grows
and stops, worked by hand from the rules in the normalizers module docstring."""

from __future__ import annotations

import pytest

from heldout.scoring.normalizers import english
from heldout.scoring.speech import speech_metrics


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        # a scale word multiplies whatever came before it, down to one
        ("one thousand", "1000"),
        ("two hundred", "200"),
        ("three hundred forty", "340"),
        ("one hundred twelve", "112"),
        ("two thousand fifteen", "2015"),
        ("nineteen hundred", "1900"),
        ("two million three thousand five", "2003005"),
        # "and" joins after hundred and after a scale word
        ("one thousand and five", "1005"),
    ],
)
def test_one_cardinal_becomes_one_number(spoken: str, written: str) -> None:
    assert english(spoken) == written


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        # zero never starts a longer number, and nothing continues it
        ("zero one", "0 1"),
        ("one zero", "1 0"),
        ("zero hundred", "0 hundred"),
        ("zero sixty", "0 60"),
        ("zero twelve", "0 12"),
        # a teen or ten does not follow a tens word
        ("twenty ten", "20 10"),
        # hundred only multiplies 1..99 said as ones or teens
        ("twenty hundred", "20 hundred"),
        ("one hundred five hundred", "105 hundred"),
        # scales must decrease and multiply something
        ("one thousand thousand", "1000 thousand"),
        ("one thousand one thousand", "1001 thousand"),
        ("two thousand three thousand", "2003 thousand"),
        ("one million thousand", "1000000 thousand"),
        # "and" only after hundred or a scale word; a trailing "and" stays a word
        ("twenty and five", "20 and 5"),
        ("one hundred and", "100 and"),
        ("one hundred and apples", "100 and apples"),
        ("one hundred and and", "100 and and"),
    ],
)
def test_a_sequence_that_is_not_one_cardinal_stays_separate(spoken: str, written: str) -> None:
    assert english(spoken) == written


def test_numbers_written_either_way_score_as_equal_words() -> None:
    r = speech_metrics(
        ["one thousand and five people", "nineteen hundred"],
        ["1005 people", "19 hundred"],
        normalizer="english",
    )
    # "1900" vs "19 hundred": one substitution and one insertion out of 3 reference words
    assert (r.words.hits, r.words.substitutions, r.words.deletions, r.words.insertions) == (
        2,
        1,
        0,
        1,
    )
    assert r.wer == pytest.approx(2 / 3)
