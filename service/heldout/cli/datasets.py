"""``heldout datasets list`` and ``show``: what a server (or, with --local, this machine) has."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from heldout.cli.common import handle_errors
from heldout.cli.output import console, print_json, print_table
from heldout.cli.remote import JSON_OPTION, TOKEN_OPTION, URL_OPTION, connect
from heldout.cli.show import (
    leakage_sentence,
    print_class_balance,
    print_splits,
    print_statistics,
)
from heldout.names import parse_ref

if TYPE_CHECKING:
    from heldout.formats.manifest import Manifest

LIST_COLUMNS = ("name", "latest_version", "task", "modality", "license", "visibility", "title")
LOCAL_OPTION = typer.Option(
    False, "--local", help="Operator: read this machine's catalog and store (HELDOUT_DATA_DIR) "
                           "instead of a server.")


def _remote_rows(url: str | None, token: str | None, filters: dict[str, str | None]
                 ) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with connect(url, token) as client:
        while True:
            page = client.list_datasets(offset=len(rows), task=filters["task"],
                                        modality=filters["modality"],
                                        license=filters["license"], q=filters["q"])
            rows.extend({k: item.get(k) for k in LIST_COLUMNS} for item in page["items"])
            if not page["items"] or len(rows) >= page["total"]:
                return rows


def _local_rows(filters: dict[str, str | None]) -> list[dict[str, Any]]:
    from heldout.catalog.datasets import list_datasets
    from heldout.cli.server import open_services

    with open_services() as services, services.catalog.session() as session:
        rows = [{k: getattr(d, k) for k in LIST_COLUMNS} for d in list_datasets(session)]
    return [r for r in rows if _matches(r, filters)]


def _matches(row: dict[str, Any], filters: dict[str, str | None]) -> bool:
    for key in ("task", "modality"):
        if filters[key] and row[key] != filters[key]:
            return False
    if filters["license"] and (row["license"] or "").lower() != filters["license"].lower():
        return False
    text = " ".join(str(row[k] or "") for k in ("name", "title")).lower()
    return not filters["q"] or filters["q"].lower() in text


@handle_errors
def list_command(
    task: str | None = typer.Option(None, "--task", help="Only this task, e.g. "
                                    "image-classification."),
    modality: str | None = typer.Option(None, "--modality", help="Only image, audio, …"),
    license: str | None = typer.Option(None, "--license", help="Only this SPDX license id."),
    search: str | None = typer.Option(None, "--search", help="Text in name, title or "
                                      "description."),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    local: bool = LOCAL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List datasets with their latest version."""
    filters = {"task": task, "modality": modality, "license": license, "q": search}
    rows = _local_rows(filters) if local else _remote_rows(url, token, filters)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no datasets" + (" match" if any(filters.values()) else " yet"))
        return
    print_table(
        "Datasets",
        ["name", "latest", "task", "modality", "license", "visibility"],
        [[r["name"], r["latest_version"], r["task"], r["modality"], r["license"],
          r["visibility"]] for r in rows],
        no_wrap=("name", "latest"),
    )


@handle_errors
def show_command(
    ref: str = typer.Argument(..., help="NAME or NAME@VERSION (default: latest)."),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    local: bool = LOCAL_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
) -> None:
    """Show a dataset version: splits, features, statistics."""
    name, version = parse_ref(ref)
    report: dict[str, Any] | None
    if local:
        from heldout.cli.server import open_services

        with open_services() as services:
            manifest = services.repository.manifest(name, version)
            versions = services.repository.list_versions(name)
            report = services.repository.report(name, manifest.version)  # the private one too
    else:
        with connect(url, token) as client:
            manifest = client.manifest(name, version)
            versions = [v["version"] for v in client.dataset(name).get("versions", [])]
            report = client.report(name, manifest.version)  # None unless owner or admin
    if as_json:
        body = manifest.model_dump(mode="json")
        if report is not None:
            body["private_report"] = report
        print_json(body)
        return
    _print_manifest(manifest, versions)
    if report is not None:
        _print_report(report)


def _print_report(report: dict[str, Any]) -> None:
    """The private ingest report (owner/admin view): held-out ids, statistics, names."""
    console.print("[bold]Private ingest report[/] (owner and admins only; never public)")
    if report.get("missing"):
        console.print(f"  {report['missing']}")
        return
    for split, ids in (report.get("held_out_ids") or {}).items():
        console.print(f"  held-out split {split}: {len(ids)} source → random id entries")
    statistics = report.get("statistics") or {}
    print_class_balance(statistics.get("class_balance") or {})
    skipped = report.get("skipped_files") or []
    if skipped:
        print_table(f"Skipped {len(skipped)} file(s)", ["split", "file", "reason"],
                    [[p.get("split", ""), p.get("file", ""), p.get("reason", "")]
                     for p in skipped[:50]])
    for split, dup in (statistics.get("duplicates") or {}).items():
        for group in dup.get("examples", [])[:5]:
            console.print(f"  duplicate in {split}: {', '.join(group)}")
    for pair in (report.get("leakage") or {}).get("examples", [])[:20]:
        files = ", ".join(f"{k}: {v}" for k, v in pair.items() if k not in ("sha256", "splits"))
        console.print(f"  leakage {pair.get('splits', '')}: {files}")


def _print_manifest(manifest: Manifest, versions: list[str]) -> None:
    console.print(f"[bold]{manifest.name}@{manifest.version}[/] — {manifest.title}",
                  highlight=False)
    console.print(f"{manifest.task}, {manifest.modality}, license {manifest.license}; created "
                  f"{manifest.created_at:%Y-%m-%d %H:%M} UTC; versions: {', '.join(versions)}",
                  highlight=False, soft_wrap=False)
    if manifest.description:  # prose is wrapped to the width (80 columns when piped)
        console.print(manifest.description, highlight=False, markup=False, soft_wrap=False)
    print_splits(manifest)
    print_table("Features", ["column", "type"],
                [[column, _feature_text(spec)] for column, spec in manifest.features.items()])
    if manifest.held_out_labels_public:
        console.print(f"[bold yellow]held-out labels are public:[/] "
                      f"{manifest.held_out_labels_public_reason or 'no reason given'} — "
                      "scores on this version are a demo, not a held-out test",
                      highlight=False, soft_wrap=False)
    print_statistics(manifest)
    skipped = manifest.statistics.get("skipped_files")
    if skipped or manifest.skipped_files:
        counts = skipped or {"?": len(manifest.skipped_files)}
        console.print("[yellow]invalid files were skipped:[/] "
                      + ", ".join(f"{split} {n}" for split, n in counts.items()))
    sentence = leakage_sentence(manifest.leakage or {})
    if sentence:
        console.print(f"[yellow]{sentence}[/]", highlight=False, soft_wrap=False)


def _feature_text(spec: dict[str, Any]) -> str:
    kind = spec.get("_type", "?")
    if kind == "ClassLabel":
        names = spec.get("names", [])
        shown = ", ".join(names[:10]) + (" …" if len(names) > 10 else "")
        return f"ClassLabel({len(names)}: {shown})"
    if kind == "Audio":
        return f"Audio({spec.get('sampling_rate')} Hz)"
    if kind == "Value":
        return str(spec.get("dtype"))
    return str(kind)
