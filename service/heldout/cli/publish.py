"""``heldout datasets publish`` and ``heldout datasets build``: ingest data and publish it."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from heldout.accounts.users import get_user
from heldout.cli.common import handle_errors, open_services
from heldout.cli.output import (
    console,
    print_json,
    print_table,
    transfer_callback,
    transfer_progress,
)
from heldout.errors import IngestError
from heldout.ingest import PublishOptions, PublishResult, publish_source
from heldout.ingest.checks import NEAR_DUPLICATE_THRESHOLD
from heldout.ingest.sources.base import Source
from heldout.repository import DatasetMetadata
from heldout.services import Services


class SourceFormat(StrEnum):
    """Source kinds ``publish`` understands."""

    imagefolder = "imagefolder"
    audiofolder = "audiofolder"
    table = "table"
    hf = "hf"


class Builtin(StrEnum):
    """The built-in datasets."""

    digits = "digits"
    spoken_digits = "spoken-digits"


def _guess_format(source: Path) -> SourceFormat:
    from heldout.ingest.media import AUDIO_EXTENSIONS, IMAGE_EXTENSIONS

    if source.is_file():
        return SourceFormat.table
    if (source / "dataset_dict.json").is_file() or (source / "dataset_info.json").is_file():
        return SourceFormat.hf
    for path in source.rglob("*"):
        suffix = path.suffix.lower()
        if suffix in IMAGE_EXTENSIONS:
            return SourceFormat.imagefolder
        if suffix in AUDIO_EXTENSIONS:
            return SourceFormat.audiofolder
    raise IngestError(f"{source}: cannot tell the format; pass --format")


def _make_source(source: Path, fmt: SourceFormat, *, fractions: dict[str, float] | None,
                 seed: int, media_column: str | None, label_column: str | None,
                 split_column: str | None, id_column: str | None,
                 modality: str | None) -> Source:
    from heldout.ingest.sources import FolderSource, HFSource, TableSource

    if fmt is SourceFormat.imagefolder:
        return FolderSource(source, "image", fractions=fractions, seed=seed)
    if fmt is SourceFormat.audiofolder:
        return FolderSource(source, "audio", fractions=fractions, seed=seed)
    if fmt is SourceFormat.hf:
        return HFSource(source)
    if media_column is None:
        raise IngestError("a table source needs --media-column (the column of file paths or bytes)")
    kind: Any = {"image": "image", "audio": "audio"}.get(modality or "")
    return TableSource(source, media_column=media_column, kind=kind, label_column=label_column,
                       split_column=split_column, id_column=id_column, fractions=fractions,
                       seed=seed)


def _print_result(result: PublishResult, as_json: bool) -> None:
    manifest = result.manifest
    if as_json:
        print_json({
            "name": manifest.name, "version": manifest.version,
            "splits": {s: i.num_rows for s, i in manifest.splits.items()},
            "held_out": sorted(manifest.held_out), "skipped_files": result.skipped_files,
            "duplicates": result.duplicates, "leakage": result.leakage,
        })
        return
    console.print(f"[green]published[/] {manifest.name}@{manifest.version}: "
                  + ", ".join(f"{s} {i.num_rows}" for s, i in manifest.splits.items())
                  + (f" (held out: {', '.join(manifest.held_out)})" if manifest.held_out else ""))
    if result.skipped_files:
        print_table(f"Skipped {len(result.skipped_files)} invalid file(s)", ["file", "reason"],
                    [[p["file"], p["reason"]] for p in result.skipped_files])
    for split, dup in result.duplicates.items():
        console.print(f"[yellow]warning:[/] {split}: {dup['extra_copies']} exact duplicate "
                      f"file(s) in {dup['groups']} group(s), e.g. {', '.join(dup['examples'][0])}")
    if result.leakage.get("exact_duplicates_across_splits"):
        console.print(f"[yellow]warning:[/] {result.leakage['exact_duplicates_across_splits']} "
                      "file(s) appear in more than one split (published with --allow-leakage)")
    near = result.near_duplicates.get("pairs", 0)
    if near:
        console.print(f"[yellow]note:[/] {near} near-duplicate image pair(s) across "
                      f"{', '.join(result.near_duplicates['compared'])} (pHash distance ≤ "
                      f"{result.near_duplicates['threshold_bits']} bits)")


def _set_owner(services: Services, options: PublishOptions, owner: str | None) -> None:
    """An operator publish names its owner (``--owner USER``); without it the dataset is
    operators' (no owner), or keeps the owner it has."""
    if owner is None:
        return
    with services.catalog.session() as session:
        options.owner_id = get_user(session, owner).id
    options.assign_owner = True


def _report_failure(exc: IngestError) -> None:
    problems = exc.extra.get("invalid_files") or []
    if problems:
        print_table(f"{len(problems)} invalid file(s)", ["file", "reason"],
                    [[p["file"], p["reason"]] for p in problems])
    leaks = exc.extra.get("leakage") or []
    if leaks:
        print_table("Files in more than one split", ["splits", "files"],
                    [[p["splits"], ", ".join(v for k, v in p.items()
                                             if k not in ("sha256", "splits"))] for p in leaks])


def _publish_remote(server: str, source: Source, name: str, version: str,
                    metadata: DatasetMetadata, options: PublishOptions, staging_dir: Path | None,
                    *, quiet: bool) -> PublishResult:
    """Check and stage locally, then upload to ``server``; the result carries its manifest."""
    from heldout.client.http import Client
    from heldout.client.stage import publish_source_to_server

    with Client(server) as client, transfer_progress(quiet) as bar:
        task = bar.add_task(f"uploading {name}@{version}", total=None, visible=False)
        progress = transfer_callback(bar, task)

        result, committed = publish_source_to_server(client, source, name, version, metadata,
                                                     options, staging_dir=staging_dir,
                                                     upload_progress=progress)
    result.manifest = committed
    if not quiet:
        console.print(f"uploaded to {client.url}")
    return result


def register(datasets_app: typer.Typer) -> None:
    """Add ``publish`` and ``build`` to the ``heldout datasets`` command group."""

    @datasets_app.command("publish")
    @handle_errors
    def publish_command(
        source: Path = typer.Argument(..., exists=True, help="Folder, table file or "
                                      "save_to_disk folder to publish."),
        name: str = typer.Option(..., "--name", help="Dataset name (a-z, 0-9, . _ -)."),
        version: str = typer.Option(..., "--version", help="Semantic version, e.g. 1.0.0."),
        fmt: SourceFormat | None = typer.Option(None, "--format", help="Source format "
                                                "(default: guessed)."),
        task: str = typer.Option("", "--task", help="e.g. image-classification, "
                                 "automatic-speech-recognition (default: from the modality)."),
        license: str = typer.Option("other", "--license", help="SPDX license id."),
        title: str = typer.Option("", "--title"),
        description: str = typer.Option("", "--description"),
        card: Path | None = typer.Option(None, "--card", exists=True, dir_okay=False,
                                         help="Markdown dataset card (README)."),
        held_out: list[str] = typer.Option([], "--held-out", help="Split whose labels stay "
                                           "private (repeatable)."),
        label_column: list[str] = typer.Option([], "--label-column", help="Columns withheld "
                                               "from held-out splits (default: all but id and "
                                               "media)."),
        skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Publish the valid "
                                          "files and record the invalid ones."),
        allow_leakage: bool = typer.Option(False, "--allow-leakage", help="Publish even if "
                                           "a file is in more than one split."),
        keep_metadata: bool = typer.Option(False, "--keep-metadata", help="Keep location "
                                           "(EXIF GPS) in public splits' media; held-out "
                                           "media never keep any metadata."),
        split_fractions: str = typer.Option("train=0.8,test=0.2", "--split-fractions",
                                            help="Used when the source has no splits."),
        seed: int = typer.Option(0, "--seed", help="Seed of the stratified split."),
        media_column: str | None = typer.Option(None, "--media-column", help="Table: column "
                                                "of file paths or bytes."),
        class_column: str | None = typer.Option(None, "--class-column", help="Table: the "
                                                "class label column."),
        split_column: str | None = typer.Option(None, "--split-column", help="Table: the "
                                                "split column."),
        id_column: str | None = typer.Option(None, "--id-column", help="Table: the id column."),
        modality: str | None = typer.Option(None, "--modality", help="Table: image or audio "
                                            "(default: from file extensions)."),
        near_threshold: int = typer.Option(NEAR_DUPLICATE_THRESHOLD, "--near-duplicate-bits",
                                           help="pHash Hamming distance for near-duplicates."),
        workers: int | None = typer.Option(None, "--workers", help="Worker processes "
                                           "(default: all cores)."),
        server: str | None = typer.Option(
            None, "--server", envvar="HELDOUT_URL", show_envvar=False,
            help="Publish to this Heldout server over HTTP with a publisher key "
                 "(HELDOUT_TOKEN) instead of writing to the store directly.",
        ),
        staging_dir: Path | None = typer.Option(None, "--staging-dir", file_okay=False,
                                                help="With --server: where the checked version "
                                                "is staged before upload (default: temp)."),
        owner: str | None = typer.Option(None, "--owner", help="Without --server: the user "
                                         "who owns the dataset (default: none — operators "
                                         "and admins only; with --server the key's user)."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Validate every file of SOURCE and publish it as NAME@VERSION.

        Without --server the version is written to the configured store (HELDOUT_STORAGE_*);
        with --server it is checked and staged locally, then uploaded and committed on the
        server, which verifies every shard again. Either way a failure publishes nothing.
        """
        from heldout.ingest.splitting import parse_fractions

        fmt = fmt or _guess_format(source)
        src = _make_source(source, fmt, fractions=parse_fractions(split_fractions), seed=seed,
                           media_column=media_column, label_column=class_column,
                           split_column=split_column, id_column=id_column, modality=modality)
        default_task = {"image": "image-classification",
                        "audio": "automatic-speech-recognition"}[src.kind]
        metadata = DatasetMetadata(
            title=title or name, description=description, license=license,
            task=task or default_task, modality=src.kind, source={},
            card_markdown=card.read_text(encoding="utf-8") if card else None,
        )
        options = PublishOptions(held_out=held_out, label_columns=label_column or None,
                                 skip_invalid=skip_invalid, allow_leakage=allow_leakage,
                                 keep_metadata=keep_metadata,
                                 near_duplicate_threshold=near_threshold, workers=workers,
                                 progress=not as_json)
        try:
            if server is not None:
                if owner is not None:
                    raise IngestError("--owner is for operator publishes; over --server the "
                                      "key's user owns what they first publish")
                result = _publish_remote(server, src, name, version, metadata, options,
                                         staging_dir, quiet=as_json)
            else:
                with open_services() as services:
                    _set_owner(services, options, owner)
                    result = publish_source(services.repository, src, name, version, metadata,
                                            options)
        except IngestError as exc:
            _report_failure(exc)
            raise
        _print_result(result, as_json)

    @datasets_app.command("build")
    @handle_errors
    def build_command(
        dataset: Builtin = typer.Argument(..., help="Built-in dataset to build and publish."),
        version: str | None = typer.Option(None, "--version", help="Version (default: the "
                                           "card's)."),
        owner: str | None = typer.Option(None, "--owner", help="The user who owns the "
                                         "dataset (default: none — operators and admins)."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
        if_missing: bool = typer.Option(
            False, "--if-missing", help="Do nothing if this version is already published."
        ),
    ) -> None:
        """Build a built-in dataset (digits, spoken-digits) and publish it."""
        from heldout.ingest.builtin import build_builtin, load_card

        with open_services() as services:
            card, _ = load_card(dataset.value, services.settings.datasets_dir)
            wanted = version or str(card["version"])
            if if_missing and wanted in services.repository.list_versions(card["name"]):
                console.print(f"{card['name']}@{wanted} is already published")
                return
            options = PublishOptions(progress=not as_json)
            _set_owner(services, options, owner)
            try:
                result = build_builtin(services.repository, dataset.value, version=version,
                                       folder=services.settings.datasets_dir,
                                       options=options)
            except IngestError as exc:
                _report_failure(exc)
                raise
        _print_result(result, as_json)

