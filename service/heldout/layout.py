"""Object keys of the storage layout (ARCHITECTURE.md), all built here from checked names."""

from __future__ import annotations

from heldout.names import check_name, check_split, check_version


def version_prefix(name: str, version: str) -> str:
    """``datasets/{name}/{version}/``: everything public about one version."""
    return f"datasets/{check_name(name)}/{check_version(version)}/"


def dataset_prefix(name: str) -> str:
    """``datasets/{name}/``."""
    return f"datasets/{check_name(name)}/"


def manifest_key(name: str, version: str) -> str:
    """The manifest, written last: its presence is what makes a version committed."""
    return version_prefix(name, version) + "manifest.json"


def croissant_key(name: str, version: str) -> str:
    return version_prefix(name, version) + "croissant.json"


def card_key(name: str, version: str) -> str:
    return version_prefix(name, version) + "README.md"


def shard_key(name: str, version: str, shard_path: str) -> str:
    """A shard's key from its manifest path (``data/{split}-…parquet``)."""
    return version_prefix(name, version) + shard_path


def shard_filename(split: str, index: int, count: int) -> str:
    """``{split}-{i:05d}-of-{n:05d}.parquet``: the naming Hugging Face `datasets` recognises."""
    return f"{check_split(split)}-{index:05d}-of-{count:05d}.parquet"


def labels_key(name: str, version: str, split: str) -> str:
    """Held-out labels of one split (private store)."""
    return (
        f"private/labels/{check_name(name)}/{check_version(version)}/{check_split(split)}.parquet"
    )


def labels_prefix(name: str, version: str) -> str:
    return f"private/labels/{check_name(name)}/{check_version(version)}/"


def draft_key(name: str, version: str) -> str:
    """The draft lock and state of a version being published (private store)."""
    return f"private/drafts/{check_name(name)}/{check_version(version)}.json"


def preview_key(name: str, version: str, split: str, row: int, column: int,
                extension: str) -> str:
    """A cached preview (thumbnail or clip) of one media cell (private store: a cache, not
    part of the version); ``column`` is the column's position among the features."""
    if extension not in ("png", "wav") or row < 0 or column < 0:
        raise ValueError(f"bad preview key part: {row}, {column}, {extension!r}")
    return (f"private/previews/{check_name(name)}/{check_version(version)}/"
            f"{check_split(split)}/{row}-{column}.{extension}")


def submission_key(benchmark: str, submission_id: str) -> str:
    """Uploaded predictions of one submission (private store)."""
    submission = check_name(submission_id, "submission id")
    return f"private/submissions/{check_name(benchmark)}/{submission}/predictions.parquet"
