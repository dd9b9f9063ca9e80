"""Every object key and file name of the storage layout (README "How a dataset is stored").

This module alone formats and parses keys and shard names; its regexes are built from
:mod:`heldout.names`' patterns. It also owns the shape rules every key and relative path obeys
(:func:`check_key`, :func:`check_prefix`, :func:`check_relative_path`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from heldout.errors import InvalidName
from heldout.names import (
    NAME_PATTERN,
    SEMVER_PATTERN,
    SPLIT_PATTERN,
    check_name,
    check_split,
    check_version,
)

DATASETS_PREFIX = "datasets/"
DRAFTS_PREFIX = "private/drafts/"
LABELS_PREFIX = "private/labels/"
REPORTS_PREFIX = "private/reports/"
SUBMISSIONS_PREFIX = "private/submissions/"
BENCHMARKS_PREFIX = "private/benchmarks/"
DATA_DIR = "data/"
MANIFEST_FILE = "manifest.json"
CROISSANT_FILE = "croissant.json"
CARD_FILE = "README.md"
META_FILES = (MANIFEST_FILE, CROISSANT_FILE, CARD_FILE)
"""The files of a version folder besides its shards."""
MAX_KEY_BYTES = 1024


def _ungrouped(pattern: re.Pattern[str]) -> str:
    """A pattern's text with its capturing groups made non-capturing (to embed it)."""
    return re.sub(r"\((?!\?)", "(?:", pattern.pattern)


_SPLIT = _ungrouped(SPLIT_PATTERN)
SHARD_FILENAME = re.compile(rf"(?P<split>{_SPLIT})-(?P<i>[0-9]{{5}})-of-(?P<n>[0-9]{{5}})\.parquet")
"""``{split}-{i:05d}-of-{n:05d}.parquet``: the shard naming Hugging Face `datasets` recognises."""
SHARD_PATH = re.compile(re.escape(DATA_DIR) + SHARD_FILENAME.pattern)
"""A shard's path inside a version folder: ``data/{split}-{i:05d}-of-{n:05d}.parquet``."""
DRAFT_KEY = re.compile(
    re.escape(DRAFTS_PREFIX)
    + rf"(?P<name>{_ungrouped(NAME_PATTERN)})/(?P<version>{_ungrouped(SEMVER_PATTERN)})\.json"
)
MANIFEST_KEY = re.compile(
    re.escape(DATASETS_PREFIX)
    + rf"(?P<name>{_ungrouped(NAME_PATTERN)})/(?P<version>{_ungrouped(SEMVER_PATTERN)})/"
    + re.escape(MANIFEST_FILE)
)


@dataclass(frozen=True)
class ShardName:
    """A parsed shard file name: shard ``index`` of ``count`` of ``split``."""

    split: str
    index: int
    count: int


# --- versions ------------------------------------------------------------------------------
def version_prefix(name: str, version: str) -> str:
    """``datasets/{name}/{version}/``: everything public about one version."""
    return f"{DATASETS_PREFIX}{check_name(name)}/{check_version(version)}/"


def dataset_prefix(name: str) -> str:
    """``datasets/{name}/``."""
    return f"{DATASETS_PREFIX}{check_name(name)}/"


def manifest_key(name: str, version: str) -> str:
    """The manifest, written last: its presence is what makes a version committed."""
    return version_prefix(name, version) + MANIFEST_FILE


def parse_manifest_key(key: str) -> tuple[str, str] | None:
    """``(name, version)`` of a ``datasets/{name}/{version}/manifest.json`` key, else None."""
    match = MANIFEST_KEY.fullmatch(key)
    return (match.group("name"), match.group("version")) if match else None


def croissant_key(name: str, version: str) -> str:
    return version_prefix(name, version) + CROISSANT_FILE


def card_key(name: str, version: str) -> str:
    return version_prefix(name, version) + CARD_FILE


# --- shards --------------------------------------------------------------------------------
def shard_filename(split: str, index: int, count: int) -> str:
    """``{split}-{i:05d}-of-{n:05d}.parquet``: the naming Hugging Face `datasets` recognises."""
    return f"{check_split(split)}-{index:05d}-of-{count:05d}.parquet"


def shard_path(split: str, index: int, count: int) -> str:
    """The shard path inside a version folder: ``data/{split}-{i:05d}-of-{n:05d}.parquet``."""
    return DATA_DIR + shard_filename(split, index, count)


def shard_glob(split: str) -> str:
    """A glob matching every shard file name of ``split``."""
    return f"{check_split(split)}-*-of-*.parquet"


def split_files_glob(split: str) -> str:
    """``data/{split}-*.parquet``: a split's shards, as Croissant and HF configs name them."""
    return f"{DATA_DIR}{check_split(split)}-*.parquet"


def parse_shard_filename(filename: str) -> ShardName | None:
    """The parts of ``{split}-{i:05d}-of-{n:05d}.parquet``; None for any other name."""
    match = SHARD_FILENAME.fullmatch(filename)
    if match is None:
        return None
    return ShardName(match.group("split"), int(match.group("i")), int(match.group("n")))


def parse_shard_path(path: str) -> ShardName | None:
    """The parts of ``data/{split}-{i:05d}-of-{n:05d}.parquet``; None for any other path."""
    if not path.startswith(DATA_DIR):
        return None
    return parse_shard_filename(path.removeprefix(DATA_DIR))


def is_shard_path(path: str) -> bool:
    return SHARD_PATH.fullmatch(path) is not None


def shard_key(name: str, version: str, shard_path: str) -> str:
    """A shard's key from its manifest path (``data/{split}-…parquet``)."""
    return version_prefix(name, version) + shard_path


# --- private objects -----------------------------------------------------------------------
def labels_key(name: str, version: str, split: str) -> str:
    """Held-out labels of one split (private store)."""
    return f"{labels_prefix(name, version)}{check_split(split)}.parquet"


def labels_prefix(name: str, version: str) -> str:
    return f"{LABELS_PREFIX}{check_name(name)}/{check_version(version)}/"


def report_key(name: str, version: str) -> str:
    """The private ingest report of a version: held-out source names → ids, full statistics."""
    return f"{reports_prefix(name, version)}ingest.json"


def uploaded_report_key(name: str, version: str) -> str:
    """A publisher's own report uploaded into a draft (merged into ``ingest.json``)."""
    return f"{reports_prefix(name, version)}uploaded.json"


def reports_prefix(name: str, version: str) -> str:
    return f"{REPORTS_PREFIX}{check_name(name)}/{check_version(version)}/"


def draft_key(name: str, version: str) -> str:
    """The draft lock and state of a version being published (private store)."""
    return f"{DRAFTS_PREFIX}{check_name(name)}/{check_version(version)}.json"


def parse_draft_key(key: str) -> tuple[str, str] | None:
    """``(name, version)`` of a ``private/drafts/{name}/{version}.json`` key, else None."""
    match = DRAFT_KEY.fullmatch(key)
    return (match.group("name"), match.group("version")) if match else None


def preview_key(name: str, version: str, split: str, row: int, column: int,
                extension: str) -> str:
    """A cached preview (thumbnail or clip) of one media cell (private store: a cache, not
    part of the version); ``column`` is the column's position among the features."""
    if extension not in ("png", "wav") or row < 0 or column < 0:
        raise ValueError(f"bad preview key part: {row}, {column}, {extension!r}")
    return (f"private/previews/{check_name(name)}/{check_version(version)}/"
            f"{check_split(split)}/{row}-{column}.{extension}")


PREDICTION_EXTENSIONS = ("csv", "jsonl", "parquet")


def submission_key(benchmark: str, submission_id: str, ext: str = "parquet") -> str:
    """Uploaded predictions of one submission (private store), ``predictions.{ext}``."""
    submission = check_name(submission_id, "submission id")
    if ext not in PREDICTION_EXTENSIONS:
        raise InvalidName(f"prediction file type {ext!r} is not one of "
                          f"{', '.join(PREDICTION_EXTENSIONS)}")
    return f"{SUBMISSIONS_PREFIX}{check_name(benchmark)}/{submission}/predictions.{ext}"


def trials_key(benchmark: str) -> str:
    """The private trial list (with target labels) of a verification benchmark."""
    return f"{BENCHMARKS_PREFIX}{check_name(benchmark)}/trials.parquet"


# --- key shapes ----------------------------------------------------------------------------
def _show(key: str) -> str:
    """The key as shown in an error message (repr, shortened)."""
    text = repr(key)
    return text if len(text) <= 80 else text[:77] + "...'"


def _check_text(key: object, what: str) -> str:
    """Refuse non-strings, text that is not UTF-8 and keys over MAX_KEY_BYTES."""
    if not isinstance(key, str):
        raise InvalidName(f"invalid {what} {key!r}: must be a string")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise InvalidName(f"invalid {what} {_show(key)}: not valid UTF-8 ({exc.reason})") from None
    if size > MAX_KEY_BYTES:
        raise InvalidName(
            f"invalid {what} {_show(key)}: {size} bytes long, the limit is {MAX_KEY_BYTES}"
        )
    return key


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
            raise InvalidName(f"invalid {what} {_show(key)}: '{segment}' segments are not allowed")


def check_key(key: str) -> str:
    """Return ``key`` if it is a valid object key, else raise InvalidName saying why.

    Refused: non-strings, empty keys, a leading ``/``, empty segments (``a//b``, trailing
    ``/``), ``.``/``..`` segments, backslashes, NUL and other control characters, and keys
    longer than 1024 bytes in UTF-8.
    """
    _check_text(key, "object key")
    if not key:
        raise InvalidName("invalid object key '': must not be empty")
    _check_segments(key, "object key")
    return key


def check_prefix(prefix: str) -> str:
    """Return ``prefix`` if it is a valid listing prefix ("" or the start of a valid key).

    A prefix may end in ``/`` (a folder) or in a partial segment (``data/tr``).
    """
    _check_text(prefix, "key prefix")
    if prefix:
        _check_segments(prefix, "key prefix", allow_trailing_partial=True)
    return prefix


def check_relative_path(path: str) -> str:
    """Return ``path`` if it is a valid key or path relative to a folder (same rules as keys)."""
    _check_text(path, "path")
    if not path:
        raise InvalidName("invalid path '': must not be empty")
    _check_segments(path, "path")
    return path
