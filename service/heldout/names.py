"""Validation of dataset, benchmark and split names and of semantic versions."""

from __future__ import annotations

import re
from functools import total_ordering

from heldout.errors import InvalidName

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
SPLIT_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,31}")
# ASCII only: ``\d`` would also match other scripts' digits (``1.0.1٠``), which ``int()`` accepts.
SEMVER_PATTERN = re.compile(
    r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)


def check_name(name: str, what: str = "name") -> str:
    """Return ``name`` if it is a valid dataset/benchmark name, else raise InvalidName."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or ".." in name:
        raise InvalidName(
            f"{what} {name!r} is not allowed: use 1-64 characters from a-z, 0-9, '.', '_', '-', "
            "starting with a letter or digit (and no '..')"
        )
    return name


def check_split(split: str) -> str:
    """Return ``split`` if it is a valid split name (``train``, ``test``, ``validation``…)."""
    if not isinstance(split, str) or not SPLIT_PATTERN.fullmatch(split):
        raise InvalidName(
            f"split {split!r} is not allowed: use 1-32 characters from a-z, 0-9, '_', "
            "starting with a letter"
        )
    return split


@total_ordering
class SemVer:
    """A parsed semantic version, ordered by SemVer 2.0 precedence."""

    def __init__(self, text: str) -> None:
        match = SEMVER_PATTERN.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise InvalidName(
                f"version {text!r} is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.0.0)"
            )
        self.text = text
        self.major, self.minor, self.patch = (int(match.group(i)) for i in (1, 2, 3))
        self.prerelease: tuple[str, ...] = (
            tuple(match.group(4).split(".")) if match.group(4) else ()
        )

    def _key(self) -> tuple[object, ...]:
        pre: tuple[object, ...] = tuple(
            (0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.prerelease
        )
        # A release sorts after every prerelease of the same version.
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, pre)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SemVer) and self._key() == other._key()

    def __lt__(self, other: SemVer) -> bool:
        return self._key() < other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"SemVer({self.text!r})"


def check_version(version: str) -> str:
    """Return ``version`` if it is a valid semantic version, else raise InvalidName."""
    SemVer(version)
    return version


def parse_ref(ref: str) -> tuple[str, str]:
    """Split ``NAME[@VERSION]`` into (name, version or 'latest')."""
    name, _, version = ref.partition("@")
    check_name(name)
    version = version or "latest"
    if version != "latest":
        check_version(version)
    return name, version


def only_prereleases(name: str, versions: list[str]) -> str:
    """The message when ``latest`` of ``name`` has nothing to stand for (only pre-releases or
    yanked versions): how to ask for a version instead."""
    shown = ", ".join(versions[:5]) or "none"
    return (f"dataset {name!r} has no release to call latest (versions: {shown}); pre-releases "
            f"and yanked versions are never latest: ask for one by number ({name}@VERSION), or "
            f"its owner can pin one with `heldout datasets manage {name} --latest VERSION`")
