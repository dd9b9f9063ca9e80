"""Checks shared by every store implementation (key shapes live in :mod:`heldout.layout`)."""

from __future__ import annotations

from heldout.errors import InvalidInput


def check_sha256(value: str | None) -> str | None:
    """Normalise an expected sha256 (64 hex digits, any case) to lower case; None passes."""
    if value is None:
        return None
    text = value.strip().lower() if isinstance(value, str) else ""
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise InvalidInput(f"invalid sha256 {value!r}: expected 64 hexadecimal digits")
    return text
