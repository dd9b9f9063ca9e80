"""``heldout db``: catalog migrations and reindexing from the bucket."""

from __future__ import annotations

import typer

from heldout.catalog.datasets import sync_from_bucket
from heldout.cli.common import handle_errors
from heldout.cli.output import console, print_json
from heldout.cli.server import open_services

app = typer.Typer(help="Catalog database: migrations and reindex from the bucket.",
                  no_args_is_help=True, add_completion=False, rich_markup_mode=None)


@app.command()
@handle_errors
def upgrade() -> None:
    """Apply all catalog migrations (also done automatically by `heldout serve`)."""
    with open_services(create=True) as services:
        console.print(f"catalog at {services.catalog.engine.url.render_as_string()} is up to date")


@app.command()
@handle_errors
def reindex(
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Rebuild the catalog's dataset index from the manifests in the bucket (creating the
    catalog database if it is missing)."""
    with open_services(create=True) as services:
        manifests = list(services.repository.iter_manifests())
        with services.catalog.session() as session:
            report = sync_from_bucket(session, manifests)
    if as_json:
        print_json(report.to_dict())
    else:
        console.print(
            f"{report.versions_seen} committed versions in the bucket: "
            f"{report.versions_added} added, {report.versions_removed} removed from the catalog, "
            f"{report.datasets_removed} datasets dropped"
        )
