"""Names and versions: the only way user text reaches an object key."""

from __future__ import annotations

import pytest

from heldout.errors import InvalidName
from heldout.names import SemVer, check_name, check_split, check_version, parse_ref


@pytest.mark.parametrize("name", ["digits", "spoken-digits", "a", "x1.v2_final", "0" * 64])
def test_good_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "A", "-x", ".hidden", "a/b", "..", "a..b", "a" * 65, "a b", "ü", "a\x00"]
)
def test_bad_names_say_what_is_allowed(name: str) -> None:
    with pytest.raises(InvalidName, match="is not allowed"):
        check_name(name)


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "01.0.0", "1.0.0/..", "latest", "",
                                     "1.0.1\u0660", "1.0.0-\u0661", "1.0.0\n"])
def test_bad_versions(version: str) -> None:
    with pytest.raises(InvalidName, match="not a semantic version"):
        check_version(version)


def test_semver_precedence() -> None:
    ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-rc.1", "1.0.0", "1.2.0",
               "1.10.0", "2.0.0"]
    assert sorted(ordered[::-1], key=SemVer) == ordered


def test_splits_and_refs() -> None:
    assert check_split("test") == "test"
    with pytest.raises(InvalidName):
        check_split("Test")
    assert parse_ref("digits") == ("digits", "latest")
    assert parse_ref("digits@1.2.0") == ("digits", "1.2.0")
    with pytest.raises(InvalidName):
        parse_ref("digits@1.2")
