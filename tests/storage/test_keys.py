"""Object key and prefix validation."""

from __future__ import annotations

import pytest

from heldout.errors import InvalidInput, InvalidName
from heldout.layout import check_key, check_prefix
from heldout.storage.keys import check_sha256

GOOD_KEYS = [
    "a",
    "datasets/cifar/1.0.0/manifest.json",
    "datasets/x/1.0.0/data/train-00000-of-00001.parquet",
    "private/labels/x/1.0.0/test.parquet",
    "ünïcode/名前.txt",
    ".hidden/file",
    "a" * 1024,
]

BAD_KEYS = [
    ("", "must not be empty"),
    ("/abs", "must not start with '/'"),
    ("../x", "'..' segments"),
    ("a/../b", "'..' segments"),
    ("./a", "'.' segments"),
    ("a//b", "empty path segment"),
    ("a/", "empty path segment"),
    ("a\\b", "backslash"),
    ("a\x00b", "control character 0x00"),
    ("a\nb", "control character 0x0a"),
    ("a\x7fb", "control character 0x7f"),
    ("a" * 1025, "1025 bytes long"),
    ("é" * 513, "1026 bytes long"),
]


@pytest.mark.parametrize("key", GOOD_KEYS)
def test_valid_keys_pass(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize(("key", "reason"), BAD_KEYS)
def test_invalid_keys_are_refused_with_the_reason(key: str, reason: str) -> None:
    with pytest.raises(InvalidName) as caught:
        check_key(key)
    assert reason in caught.value.detail
    assert caught.value.status == 422


def test_non_string_key_is_refused() -> None:
    with pytest.raises(InvalidName, match="must be a string"):
        check_key(b"bytes")  # type: ignore[arg-type]


@pytest.mark.parametrize("prefix", ["", "datasets/", "datasets/cif", "a/b/"])
def test_valid_prefixes(prefix: str) -> None:
    assert check_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["/", "/a", "../", "a//", "a/../", "a\\", "a\x00"])
def test_invalid_prefixes(prefix: str) -> None:
    with pytest.raises(InvalidName):
        check_prefix(prefix)


def test_sha256_is_normalised_and_checked() -> None:
    assert check_sha256(None) is None
    assert check_sha256("AB" * 32) == "ab" * 32
    with pytest.raises(InvalidInput, match="64 hexadecimal digits"):
        check_sha256("xyz")
