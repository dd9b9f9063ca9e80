"""Publish a source to a Heldout server: check and stage it locally, then upload the version.

The publisher needs no store credentials, only an API key with the publisher role. The
source goes through exactly the same pipeline as a local publish (every file checked,
leakage refused, held-out labels split off), into a throw-away local repository in a
temporary folder; its committed version is then streamed to the server's draft routes
(``heldout.client.publish``) and committed there, where every shard is verified again. A
failure at any step leaves nothing on the server: the draft is aborted.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from heldout.client.download import ProgressCallback
from heldout.client.http import Client
from heldout.client.publish import publish_folder
from heldout.formats.manifest import Manifest
from heldout.ingest.pipeline import PublishOptions, PublishResult, publish_source
from heldout.ingest.sources.base import Source
from heldout.layout import labels_key, manifest_key, report_key, shard_key
from heldout.repository import DatasetMetadata, DatasetRepository
from heldout.storage.base import Stores
from heldout.storage.local import LocalStore


def _staging_repository(root: Path) -> tuple[DatasetRepository, LocalStore, LocalStore]:
    public = LocalStore(root / "public", "staging-public")
    private = LocalStore(root / "private", "staging-private")
    public.ensure()
    private.ensure()
    return DatasetRepository(Stores(public=public, private=private)), public, private


def _version_folder(result: PublishResult, public: LocalStore, private: LocalStore,
                    folder: Path) -> Path:
    """Lay the staged version out as ``data/*.parquet``, ``labels/{split}.parquet``, manifest."""
    manifest = result.manifest
    (folder / "data").mkdir(parents=True)
    for split_info in manifest.splits.values():
        for shard in split_info.shards:
            source = public.root / shard_key(manifest.name, manifest.version, shard.path)
            shutil.move(source, folder / shard.path)
    if manifest.held_out:
        (folder / "labels").mkdir()
    for held_out in manifest.held_out:
        source = private.root / labels_key(manifest.name, manifest.version, held_out)
        shutil.move(source, folder / "labels" / f"{held_out}.parquet")
    shutil.copyfile(public.root / manifest_key(manifest.name, manifest.version),
                    folder / "manifest.json")
    shutil.move(private.root / report_key(manifest.name, manifest.version),
                folder / "report.json")
    return folder


def publish_source_to_server(
    client: Client,
    source: Source,
    name: str,
    version: str,
    metadata: DatasetMetadata,
    options: PublishOptions,
    *,
    staging_dir: str | Path | None = None,
    upload_progress: ProgressCallback | None = None,
    access: dict[str, Any] | None = None,
) -> tuple[PublishResult, Manifest]:
    """Check and stage ``source`` locally, then publish it as ``name@version`` on the server.

    Returns the local result (what the checks found) and the manifest the server committed.
    The staging folder (default: the system temp folder) needs room for one copy of the
    version; it is removed afterwards.
    """
    with tempfile.TemporaryDirectory(prefix="heldout-publish-", dir=staging_dir) as tmp:
        root = Path(tmp)
        repository, public, private = _staging_repository(root / "store")
        result = publish_source(repository, source, name, version, metadata, options)
        folder = _version_folder(result, public, private, root / "upload")
        staged = result.manifest
        as_staged = metadata.model_copy(update={  # the pipeline fills in modality and source
            "modality": staged.modality,
            "source": staged.source if isinstance(staged.source, dict) else metadata.source,
        })
        report = json.loads((folder / "report.json").read_bytes())
        committed = publish_folder(
            client, folder, name, version, features=staged.features,
            metadata=as_staged.model_dump(), progress=upload_progress,
            report=folder / "report.json",
            findings={k: report[k] for k in ("statistics", "skipped_files", "leakage")},
            access=access,
        )
    return result, committed


__all__ = ["publish_source_to_server"]
