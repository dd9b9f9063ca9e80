"""JSON views of catalog rows and manifests for the dataset routes."""

from __future__ import annotations

from typing import Any

from heldout.catalog.models import Dataset, DatasetVersion, iso
from heldout.formats.manifest import Manifest


def dataset_item(row: Dataset) -> dict[str, Any]:
    """One entry of the dataset listing."""
    return {
        "name": row.name,
        "title": row.title,
        "description": row.description,
        "task": row.task,
        "modality": row.modality,
        "license": row.license,
        "visibility": row.visibility,
        "latest_version": row.latest_version,
        "deprecated": row.deprecated_at is not None,
        "deprecation_message": row.deprecation_message,
    }


def manifest_item(manifest: Manifest) -> dict[str, Any]:
    """A listing entry for a dataset the catalog does not know (read from its manifest)."""
    return {
        "name": manifest.name,
        "title": manifest.title or manifest.name,
        "description": manifest.description,
        "task": manifest.task,
        "modality": manifest.modality,
        "license": manifest.license,
        "visibility": "public",
        "latest_version": manifest.version,
        "deprecated": False,
        "deprecation_message": None,
        **labels_public(manifest.model_dump(mode="json")),
    }


LABELS_PUBLIC = ("held_out_labels_public", "held_out_labels_public_reason")


def labels_public(manifest: dict[str, Any]) -> dict[str, Any]:
    """Whether the held-out labels of a version can be had elsewhere, and why (old versions
    have no such field: false)."""
    return {
        "held_out_labels_public": bool(manifest.get("held_out_labels_public", False)),
        "held_out_labels_public_reason": manifest.get("held_out_labels_public_reason"),
    }


def version_item(row: DatasetVersion) -> dict[str, Any]:
    """One version of a dataset (newest first in the detail view)."""
    splits = row.manifest.get("splits", {}) if isinstance(row.manifest, dict) else {}
    return {
        "version": row.version,
        "num_rows": row.num_rows,
        "num_bytes": row.num_bytes,
        "splits": {name: info.get("num_rows") for name, info in splits.items()},
        "held_out": sorted(row.manifest.get("held_out", {})) if isinstance(row.manifest, dict)
        else [],
        **labels_public(row.manifest if isinstance(row.manifest, dict) else {}),
        "created_at": iso(row.created_at),
        "committed_at": iso(row.committed_at),
    }


def manifest_version_item(manifest: Manifest) -> dict[str, Any]:
    """A version entry built from a manifest (datasets unknown to the catalog)."""
    return {
        "version": manifest.version,
        "num_rows": manifest.total_rows,
        "num_bytes": manifest.total_bytes,
        "splits": {name: info.num_rows for name, info in manifest.splits.items()},
        "held_out": sorted(manifest.held_out),
        **labels_public(manifest.model_dump(mode="json")),
        "created_at": iso(manifest.created_at),
        "committed_at": iso(manifest.created_at),
    }
