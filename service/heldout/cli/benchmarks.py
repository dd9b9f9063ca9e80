"""``heldout benchmarks``: list and show benchmarks; sync, rescore and baselines (operator)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from heldout.benchmarks.actions import Actor, rescore
from heldout.benchmarks.baselines.run import run_baselines
from heldout.benchmarks.builtins import benchmarks_dir
from heldout.benchmarks.documents import benchmark_doc
from heldout.benchmarks.phases import now_utc
from heldout.benchmarks.queue import drain, worker_name
from heldout.benchmarks.registry import find, list_rows, spec_of, sync_benchmarks
from heldout.cli.common import handle_errors
from heldout.cli.output import console, print_json, print_table
from heldout.cli.scores import ARROWS, print_warnings
from heldout.cli.server import open_services
from heldout.client.http import Client

app = typer.Typer(help="Benchmarks: browse them; sync definitions, rescore, run the baselines.",
                  no_args_is_help=True)

URL_OPTION = typer.Option(None, "--url", envvar="HELDOUT_URL",
                          help="Ask this Heldout server (HELDOUT_URL; key from HELDOUT_TOKEN) "
                               "instead of the local catalog.")
JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")


def _remote_docs(url: str) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    with Client(url) as client:
        while True:
            page = client.benchmarks(offset=len(docs))
            docs.extend(page["items"])
            if not page["items"] or len(docs) >= page["total"]:
                return docs


def _local_docs() -> list[dict[str, Any]]:
    with open_services() as services, services.catalog.session() as session:
        now = now_utc()
        return [benchmark_doc(row, spec_of(row), now) for row in list_rows(session)]


def _local_doc(benchmark_id: str) -> dict[str, Any]:
    with open_services() as services, services.catalog.session() as session:
        row, spec = find(session, benchmark_id)
        return benchmark_doc(row, spec, now_utc())


@app.command("list")
@handle_errors
def list_command(url: str | None = URL_OPTION, as_json: bool = JSON_OPTION) -> None:
    """List benchmarks (local catalog, or a server with --url / HELDOUT_URL)."""
    docs = _remote_docs(url) if url else _local_docs()
    if as_json:
        print_json(docs)
        return
    if not docs:
        console.print("no benchmarks yet (run `heldout benchmarks sync`)")
        return
    print_table("Benchmarks", ["id", "kind", "task", "primary metric", "dataset", "phase",
                               "submissions", "title"],
                [[d["id"], d["kind"], d["task"],
                  f"{d['primary_metric']} {ARROWS[d['direction']][0]}", d["dataset"],
                  d.get("current_phase") or "closed", d.get("submissions", ""),
                  d["title"] + (" ⚠" if d.get("warnings") else "")] for d in docs])


def _print_benchmark(doc: dict[str, Any]) -> None:
    console.print(f"[bold]{doc['id']}[/] v{doc['version']} — {doc['title']} ({doc['kind']})",
                  highlight=False)
    if doc.get("description"):
        console.print(doc["description"], highlight=False)
    filt = ", ".join(f"{k} = {v}" for k, v in (doc.get("filter") or {}).items())
    rows = [["dataset", f"{doc['dataset']} split {doc['split']}" + (f" where {filt}" if filt
                                                                     else "")],
            ["task", doc["task"]], ["inputs", ", ".join(doc.get("input_columns") or [])],
            ["metrics", ", ".join(doc["metrics"])],
            ["primary", f"{doc['primary_metric']} ({ARROWS[doc['direction']]})"],
            ["normalizer", doc.get("normalizer")], ["missing predictions", doc.get("missing")],
            ["public fraction", doc.get("public_fraction")],
            ["public feedback", doc.get("public_feedback")],
            ["final selections", doc.get("max_final_selections")],
            ["license", doc.get("license")], ["submissions", doc.get("submissions")]]
    if doc.get("challenge"):
        rows.append(["challenge", f"target {doc['challenge']['target']}: "
                                  f"{doc['challenge'].get('prize') or ''}"])
    print_table("Definition", ["field", "value"], rows)
    print_table("Phases", ["name", "status", "starts", "ends", "split", "daily quota",
                           "total quota"],
                [[p["name"], p["status"], p.get("starts") or "—", p.get("ends") or "—",
                  p.get("split") or doc["split"], p.get("daily_quota") or "none",
                  p.get("total_quota") or "none"] for p in doc.get("phases") or []])
    print_warnings(doc)


@app.command("show")
@handle_errors
def show_command(benchmark: str = typer.Argument(..., help="Benchmark id."),
                 url: str | None = URL_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Show a benchmark: dataset, task, metrics and direction, phases and quotas, warnings."""
    if url:
        with Client(url) as client:
            doc = client.benchmark(benchmark)
    else:
        doc = _local_doc(benchmark)
    if as_json:
        print_json(doc)
    else:
        _print_benchmark(doc)


@app.command("sync")
@handle_errors
def sync_command(
    folder: Path | None = typer.Argument(None, help="Folder of benchmark YAML files "
                                         "(default: the built-in benchmarks/ folder)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create or update benchmarks from YAML files (operator: this server's catalog)."""
    folder = folder or benchmarks_dir()
    with open_services() as services:
        results = [r.to_dict() for r in sync_benchmarks(services, folder)]
    if as_json:
        print_json(results)
        return
    print_table(f"Benchmarks synced from {folder}", ["id", "version", "action", "source"],
                [[r["id"], r["version"], r["action"], r["source"]] for r in results])
    for r in results:
        for warning in r.get("warnings") or []:
            console.print(f"[yellow]warning:[/] {r['id']}: {warning}", highlight=False)


@app.command("rescore")
@handle_errors
def rescore_command(
    benchmark: str = typer.Argument(..., help="Benchmark id."),
    queue_only: bool = typer.Option(False, "--queue-only",
                                    help="Only queue the submissions (a running worker scores "
                                         "them) instead of scoring them here."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Score every submission of a benchmark again (after a scoring fix); old scores stay in
    each submission's history (operator)."""
    with open_services() as services:
        queued = rescore(services, benchmark, Actor())
        scored = 0 if queue_only else drain(services, worker_name())
    if as_json:
        print_json({"benchmark": benchmark, "queued": queued, "scored": scored})
    else:
        console.print(f"{benchmark}: {queued} submissions queued for rescoring"
                      + ("" if queue_only else f", {scored} scored"))


@app.command("baselines")
@handle_errors
def baselines_command(
    benchmarks: list[str] | None = typer.Argument(None, help="Benchmark ids (default: every "
                                                  "benchmark that names a built-in baseline)."),
    if_missing: bool = typer.Option(False, "--if-missing",
                                    help="Skip benchmarks whose current version already has a "
                                         "baseline submission."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Train the built-in baselines on public data, submit them as the system user
    (flagged as baselines) and score them (operator; no server needed)."""
    with open_services() as services:
        results = [r.to_dict() for r in run_baselines(services, benchmarks or None, if_missing)]
    if as_json:
        print_json(results)
        return
    print_table("Baselines", ["benchmark", "model", "action", "status", "metric", "score"],
                [[r["benchmark"], r["model_name"] or "—", r["action"], r["status"] or "—",
                  r["primary_metric"] or "", "" if r["primary"] is None
                  else f"{r['primary']:.4f}"] for r in results])
