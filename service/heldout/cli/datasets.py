"""``heldout datasets``: list and show what is published."""

from __future__ import annotations

from typing import Any

import typer

from heldout.catalog.datasets import list_datasets
from heldout.cli.common import handle_errors, open_services
from heldout.cli.output import console, human_bytes, print_json, print_table
from heldout.formats.manifest import Manifest
from heldout.names import parse_ref

app = typer.Typer(help="Browse, publish and download datasets.", no_args_is_help=True)


URL_OPTION = typer.Option(None, "--url", envvar="HELDOUT_URL",
                          help="Ask this Heldout server (HELDOUT_URL; key from HELDOUT_TOKEN) "
                               "instead of the local catalog and store.")
LIST_COLUMNS = ("name", "latest_version", "task", "modality", "license", "visibility", "title")


def _remote_rows(url: str) -> list[dict[str, Any]]:
    from heldout.client.http import Client

    rows: list[dict[str, Any]] = []
    with Client(url) as client:
        while True:
            page = client.list_datasets(offset=len(rows))
            rows.extend({k: item.get(k) for k in LIST_COLUMNS} for item in page["items"])
            if not page["items"] or len(rows) >= page["total"]:
                return rows


@app.command("list")
@handle_errors
def list_command(
    url: str | None = URL_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List datasets with their latest version (local catalog, or a server with --url)."""
    rows = _remote_rows(url) if url else _local_rows()
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no datasets yet (publish one, or run `heldout db reindex`)")
        return
    print_table(
        "Datasets",
        ["name", "latest", "task", "modality", "license", "visibility"],
        [[r["name"], r["latest_version"], r["task"], r["modality"], r["license"],
          r["visibility"]] for r in rows],
    )


def _local_rows() -> list[dict[str, Any]]:
    with open_services() as services, services.catalog.session() as session:
        return [{k: getattr(d, k) for k in LIST_COLUMNS} for d in list_datasets(session)]


@app.command("show")
@handle_errors
def show_command(
    ref: str = typer.Argument(..., help="NAME or NAME@VERSION (default: latest)."),
    url: str | None = URL_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
) -> None:
    """Show a dataset version: splits, features, statistics (local, or a server with --url)."""
    name, version = parse_ref(ref)
    if url:
        from heldout.client.http import Client

        with Client(url) as client:
            manifest = client.manifest(name, version)
            versions = [v["version"] for v in client.dataset(name).get("versions", [])]
            report = client.report(name, manifest.version)  # None unless owner or admin
    else:  # the operator's own store: the private report too
        with open_services() as services:
            manifest = services.repository.manifest(name, version)
            versions = services.repository.list_versions(name)
            report = services.repository.report(name, manifest.version)
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
    _print_statistics({k: v for k, v in statistics.items() if k == "class_balance"})
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
    console.print(f"[bold]{manifest.name}@{manifest.version}[/] — {manifest.title}")
    console.print(f"task {manifest.task}, modality {manifest.modality}, license {manifest.license}")
    console.print(
        f"created {manifest.created_at:%Y-%m-%d %H:%M} UTC; versions: {', '.join(versions)}"
    )
    if manifest.description:
        console.print(manifest.description)
    print_table(
        "Splits",
        ["split", "rows", "size", "shards", "held out"],
        [
            [
                s.name,
                s.num_rows,
                human_bytes(s.num_bytes),
                len(s.shards),
                ", ".join(manifest.held_out[s.name].label_columns)
                if s.name in manifest.held_out
                else "",
            ]
            for s in manifest.splits.values()
        ],
    )
    print_table(
        "Features",
        ["column", "type"],
        [[column, _feature_text(spec)] for column, spec in manifest.features.items()],
    )
    if manifest.held_out_labels_public:
        console.print(f"[bold yellow]held-out labels are public:[/] "
                      f"{manifest.held_out_labels_public_reason or 'no reason given'} — "
                      "scores on this version are a demo, not a held-out test")
    _print_statistics(manifest.statistics)
    skipped = manifest.statistics.get("skipped_files")
    if skipped or manifest.skipped_files:
        counts = skipped or {"?": len(manifest.skipped_files)}
        console.print("[yellow]invalid files were skipped:[/] "
                      + ", ".join(f"{split} {n}" for split, n in counts.items()))
    if manifest.leakage:
        console.print(f"[yellow]leakage:[/] {manifest.leakage}")


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


def _print_statistics(statistics: dict[str, Any]) -> None:
    balance = statistics.get("class_balance") or {}
    for split, counts in balance.items():
        total = sum(counts.values()) or 1
        print_table(
            f"Class balance — {split}",
            ["label", "count", "share"],
            [
                [label, count, f"{100 * count / total:.1f}%  " + "█" * round(30 * count / total)]
                for label, count in counts.items()
            ],
        )
    for key, per_split in statistics.items():
        if key == "class_balance" or not isinstance(per_split, dict):
            continue
        for split, hist in per_split.items():
            if isinstance(hist, dict) and "bin_edges" in hist and "counts" in hist:
                _print_histogram(f"{key.replace('_', ' ')} — {split}", hist)


def _print_histogram(title: str, hist: dict[str, Any]) -> None:
    edges, counts = hist["bin_edges"], hist["counts"]
    peak = max(counts) or 1
    print_table(
        f"{title} (min {hist.get('min')}, mean {_fmt(hist.get('mean'))}, max {hist.get('max')})",
        ["range", "count", ""],
        [
            [f"{_fmt(edges[i])} – {_fmt(edges[i + 1])}", count, "█" * round(30 * count / peak)]
            for i, count in enumerate(counts)
        ],
    )


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
