"""``heldout datasets publish`` and ``heldout datasets build``: ingest data and publish it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from heldout.accounts.access import ensure_dataset, set_access
from heldout.accounts.audit import record
from heldout.accounts.users import get_user
from heldout.cli.common import handle_errors
from heldout.cli.manage import read_terms
from heldout.cli.output import (
    console,
    print_json,
    print_table,
    transfer_callback,
    transfer_progress,
)
from heldout.cli.remote import TOKEN_OPTION, connect
from heldout.cli.server import open_services
from heldout.client.http import Client
from heldout.client.stage import publish_source_to_server
from heldout.errors import Forbidden, IngestError, Unauthorized
from heldout.ingest import PublishOptions, PublishResult, publish_source
from heldout.ingest.builtin import build_builtin, load_card
from heldout.ingest.checks import NEAR_DUPLICATE_THRESHOLD
from heldout.ingest.media import AUDIO_EXTENSIONS, IMAGE_EXTENSIONS
from heldout.ingest.sources import FolderSource, HFSource, TableSource
from heldout.ingest.sources.base import Source
from heldout.ingest.splitting import parse_fractions
from heldout.repository import DatasetMetadata
from heldout.services import Services

DEFAULT_TASKS = {"image": "image-classification", "audio": "automatic-speech-recognition"}


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


def _metadata(src: Source, title: str, description: str, license: str, task: str,
              card: Path | None) -> DatasetMetadata:
    return DatasetMetadata(
        title=title, description=description, license=license,
        task=task or DEFAULT_TASKS[src.kind], modality=src.kind, source={},
        card_markdown=card.read_text(encoding="utf-8") if card else None,
    )


def _check_publisher(client: Client) -> None:
    """Refuse early (before any file is read) if the key cannot publish on this server."""
    if not client.token:
        raise Unauthorized(f"publishing to {client.url} needs a publisher's API key: pass "
                           "--token, set HELDOUT_TOKEN or run `heldout login`")
    me = client.whoami()
    if me.get("role") not in ("admin", "publisher"):
        raise Forbidden(f"user {me.get('user')!r} has role {me.get('role')!r} on {client.url};"
                        " publishing needs the publisher (or admin) role")


def _publish_remote(client: Client, source: Source, name: str, version: str,
                    metadata: DatasetMetadata, options: PublishOptions, access: dict[str, Any],
                    staging_dir: Path | None, *, quiet: bool) -> PublishResult:
    """Check and stage locally, then upload to the client's server; the result carries its
    committed manifest."""
    with transfer_progress(quiet) as bar:
        task = bar.add_task(f"uploading {name}@{version}", total=None, visible=False)
        result, committed = publish_source_to_server(
            client, source, name, version, metadata, options, staging_dir=staging_dir,
            upload_progress=transfer_callback(bar, task), access=access or None)
    result.manifest = committed
    if not quiet:
        console.print(f"uploaded to {client.url}")
    return result


def _client_for(server: str | None, token: str | None, owner: str | None) -> Client | None:
    """A client for ``--server`` (None for an operator publish)."""
    if server is None:
        return None
    if owner is not None:
        raise IngestError("--owner is for operator publishes; over --server the key's user "
                          "owns what they first publish")
    return connect(server, token, url_flag="--server")


def _publish_local(source: Source, name: str, version: str, metadata: DatasetMetadata,
                   options: PublishOptions, access: dict[str, Any], owner: str | None
                   ) -> PublishResult:
    with open_services() as services:
        _set_owner(services, options, owner)
        if access:  # before the commit, so the version is never readable by others
            with services.catalog.session() as session:
                set_access(session, ensure_dataset(session, name), **access)
                record(session, "dataset.changed", name, detail={
                    k: v for k, v in access.items() if k != "terms_text"} | {"via": "cli"})
        return publish_source(services.repository, source, name, version, metadata, options)


SOURCE_ARG = typer.Argument(..., exists=True, help="Folder, table file or save_to_disk folder "
                            "to publish.")
FORMAT_OPTION = typer.Option(None, "--format", help="Source format (default: guessed).")
TASK_OPTION = typer.Option("", "--task", help="e.g. image-classification, "
                           "automatic-speech-recognition (default: from the modality).")
CARD_OPTION = typer.Option(None, "--card", exists=True, dir_okay=False,
                           help="Markdown dataset card (README).")
HELD_OUT_OPTION = typer.Option([], "--held-out", help="Split whose labels stay private "
                               "(repeatable).")
WITHHOLD_OPTION = typer.Option([], "--withhold-column", "--label-column",
                               help="Columns withheld from held-out splits (default: all but "
                               "id and media); --label-column is the old name.")
SKIP_OPTION = typer.Option(False, "--skip-invalid", help="Publish the valid files and record "
                           "the invalid ones.")
LEAK_OPTION = typer.Option(False, "--allow-leakage", help="Publish even if a file is in more "
                           "than one split.")
FRACTIONS_OPTION = typer.Option("train=0.8,test=0.2", "--split-fractions",
                                help="Used when the source has no splits.")
MEDIA_OPTION = typer.Option(None, "--media-column", help="Table: column of file paths or "
                            "bytes.")
CLASS_OPTION = typer.Option(None, "--class-column", help="Table: the class label column.")
SPLIT_OPTION = typer.Option(None, "--split-column", help="Table: the split column.")
ID_OPTION = typer.Option(None, "--id-column", help="Table: the id column.")
MODALITY_OPTION = typer.Option(None, "--modality", help="Table: image or audio (default: from "
                               "file extensions).")
NEAR_OPTION = typer.Option(NEAR_DUPLICATE_THRESHOLD, "--near-duplicate-bits",
                           help="pHash Hamming distance for near-duplicates.")
WORKERS_OPTION = typer.Option(None, "--workers", help="Worker processes (default: all cores).")
SERVER_OPTION = typer.Option(
    None, "--server", "--url", metavar="URL",
    help="Publish to this Heldout server over HTTP with a publisher's key instead of writing "
         "to this machine's store. Only this flag selects a server: HELDOUT_URL and "
         "`heldout login` do not (the key does come from --token, HELDOUT_TOKEN or the login "
         "saved for this URL).")
STAGING_OPTION = typer.Option(None, "--staging-dir", file_okay=False,
                              help="With --server: where the checked version is staged before "
                                   "upload (default: temp).")
VISIBILITY_OPTION = typer.Option(None, "--visibility", help="Commit it as public, gated or "
                                 "private (default: public, or as the dataset already is).")
TERMS_FILE_OPTION = typer.Option(None, "--terms-file", exists=True, dir_okay=False,
                                 help="Terms users accept first (with --visibility gated).")
TERMS_VERSION_OPTION = typer.Option(None, "--terms-version", help="Version of the terms "
                                    "(default: today).")
OWNER_OPTION = typer.Option(None, "--owner", help="Without --server: the user who owns the "
                            "dataset (default: none — operators and admins only; with --server "
                            "the key's user).")


KEEP_METADATA_OPTION = typer.Option(
    False, "--keep-metadata",
    help="Keep location (EXIF GPS) in public splits' media; held-out media never do.")


@handle_errors
def publish_command(
    source: Path = SOURCE_ARG,
    name: str = typer.Option(..., "--name", help="Dataset name (a-z, 0-9, . _ -)."),
    version: str = typer.Option(..., "--version", help="Semantic version, e.g. 1.0.0."),
    fmt: SourceFormat | None = FORMAT_OPTION,
    task: str = TASK_OPTION,
    license: str = typer.Option("other", "--license", help="SPDX license id."),
    title: str = typer.Option("", "--title"),
    description: str = typer.Option("", "--description"),
    card: Path | None = CARD_OPTION,
    held_out: list[str] = HELD_OUT_OPTION,
    label_column: list[str] = WITHHOLD_OPTION,
    skip_invalid: bool = SKIP_OPTION,
    allow_leakage: bool = LEAK_OPTION,
    keep_metadata: bool = KEEP_METADATA_OPTION,
    split_fractions: str = FRACTIONS_OPTION,
    seed: int = typer.Option(0, "--seed", help="Seed of the stratified split."),
    media_column: str | None = MEDIA_OPTION,
    class_column: str | None = CLASS_OPTION,
    split_column: str | None = SPLIT_OPTION,
    id_column: str | None = ID_OPTION,
    modality: str | None = MODALITY_OPTION,
    near_threshold: int = NEAR_OPTION,
    workers: int | None = WORKERS_OPTION,
    visibility: str | None = VISIBILITY_OPTION,
    terms_file: Path | None = TERMS_FILE_OPTION,
    terms_version: str | None = TERMS_VERSION_OPTION,
    server: str | None = SERVER_OPTION,
    token: str | None = TOKEN_OPTION,
    staging_dir: Path | None = STAGING_OPTION,
    owner: str | None = OWNER_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Validate every file of SOURCE and publish it as NAME@VERSION.

    --server URL (client): key checked first, files checked, staged, uploaded, re-verified and
    committed by the server. Without it (operator): into this machine's existing catalog and
    store. A failure publishes nothing; --visibility applies from the start.
    """
    access = {"visibility": visibility} if visibility else {}
    access |= read_terms(terms_file, terms_version)
    client = _client_for(server, token, owner)
    with client if client is not None else nullcontext():
        if client is not None:
            _check_publisher(client)
        src = _make_source(source, fmt or _guess_format(source),
                           fractions=parse_fractions(split_fractions), seed=seed,
                           media_column=media_column, label_column=class_column,
                           split_column=split_column, id_column=id_column, modality=modality)
        metadata = _metadata(src, title or name, description, license, task, card)
        options = PublishOptions(held_out=held_out, label_columns=label_column or None,
                                 skip_invalid=skip_invalid, allow_leakage=allow_leakage,
                                 keep_metadata=keep_metadata,
                                 near_duplicate_threshold=near_threshold, workers=workers,
                                 progress=not as_json)
        with _reporting_failures():
            result = (_publish_remote(client, src, name, version, metadata, options, access,
                                      staging_dir, quiet=as_json) if client is not None
                      else _publish_local(src, name, version, metadata, options, access, owner))
    _print_result(result, as_json)


@contextmanager
def _reporting_failures() -> Iterator[None]:
    """Print the table of invalid or leaking files of a failed ingest, then re-raise."""
    try:
        yield
    except IngestError as exc:
        _report_failure(exc)
        raise


@handle_errors
def build_command(
    dataset: Builtin = typer.Argument(..., help="Built-in dataset to build and publish."),
    version: str | None = typer.Option(None, "--version", help="Version (default: the "
                                       "card's)."),
    owner: str | None = typer.Option(None, "--owner", help="The user who owns the dataset "
                                     "(default: none — operators and admins)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    if_missing: bool = typer.Option(
        False, "--if-missing", help="Do nothing if this version is already published."
    ),
) -> None:
    """Build a built-in dataset (digits, spoken-digits) and publish it into this machine's
    catalog and store (created if missing)."""
    with open_services(create=True) as services:
        card, _ = load_card(dataset.value)
        wanted = version or str(card["version"])
        if if_missing and wanted in services.repository.list_versions(card["name"]):
            console.print(f"{card['name']}@{wanted} is already published")
            return
        options = PublishOptions(progress=not as_json)
        _set_owner(services, options, owner)
        with _reporting_failures():
            result = build_builtin(services.repository, dataset.value, version=version,
                                   options=options)
    _print_result(result, as_json)
