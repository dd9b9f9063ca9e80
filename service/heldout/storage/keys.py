"""Validation of object keys and listing prefixes, shared by every store implementation."""

from __future__ import annotations

from heldout.errors import InvalidInput, InvalidName

MAX_KEY_BYTES = 1024


def _show(key: str) -> str:
    """The key as shown in an error message (repr, shortened)."""
    text = repr(key)
    return text if len(text) <= 80 else text[:77] + "...'"


def _check_segments(key: str, what: str, *, allow_trailing_partial: bool = False) -> None:
    if "\\" in key:
        raise InvalidName(f"invalid {what} {_show(key)}: backslashes are not allowed")
    for index, char in enumerate(key):
        code = ord(char)
        if code < 32 or code == 127:
            raise InvalidName(
                f"invalid {what} {_show(key)}: control character {code:#04x} at position {index}"
            )
    if key.startswith("/"):
        raise InvalidName(f"invalid {what} {_show(key)}: must not start with '/'")
    segments = key.split("/")
    for position, segment in enumerate(segments):
        last = position == len(segments) - 1
        if segment == "":
            if last and allow_trailing_partial:
                continue
            raise InvalidName(
                f"invalid {what} {_show(key)}: empty path segment at segment {position + 1}"
            )
        if segment in (".", ".."):
            raise InvalidName(
                f"invalid {what} {_show(key)}: '{segment}' segments are not allowed"
            )


def check_key(key: str) -> str:
    """Return ``key`` if it is a valid object key, else raise InvalidName saying why.

    Refused: non-strings, empty keys, a leading ``/``, empty segments (``a//b``, trailing
    ``/``), ``.``/``..`` segments, backslashes, NUL and other control characters, and keys
    longer than 1024 bytes in UTF-8.
    """
    if not isinstance(key, str):
        raise InvalidName(f"invalid object key {key!r}: must be a string")
    if not key:
        raise InvalidName("invalid object key '': must not be empty")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise InvalidName(
            f"invalid object key {_show(key)}: not valid UTF-8 ({exc.reason})"
        ) from None
    if size > MAX_KEY_BYTES:
        raise InvalidName(
            f"invalid object key {_show(key)}: {size} bytes long, the limit is {MAX_KEY_BYTES}"
        )
    _check_segments(key, "object key")
    return key


def check_prefix(prefix: str) -> str:
    """Return ``prefix`` if it is a valid listing prefix ("" or the start of a valid key).

    A prefix may end in ``/`` (a folder) or in a partial segment (``data/tr``).
    """
    if not isinstance(prefix, str):
        raise InvalidName(f"invalid key prefix {prefix!r}: must be a string")
    if prefix == "":
        return prefix
    try:
        size = len(prefix.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise InvalidName(
            f"invalid key prefix {_show(prefix)}: not valid UTF-8 ({exc.reason})"
        ) from None
    if size > MAX_KEY_BYTES:
        raise InvalidName(
            f"invalid key prefix {_show(prefix)}: {size} bytes long, the limit is {MAX_KEY_BYTES}"
        )
    _check_segments(prefix, "key prefix", allow_trailing_partial=True)
    return prefix


def check_sha256(value: str | None) -> str | None:
    """Normalise an expected sha256 (64 hex digits, any case) to lower case; None passes."""
    if value is None:
        return None
    text = value.strip().lower() if isinstance(value, str) else ""
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise InvalidInput(f"invalid sha256 {value!r}: expected 64 hexadecimal digits")
    return text
