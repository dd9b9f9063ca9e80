"""``heldout datasets head NAME``: the first rows of a split, from the server (no download)."""

from __future__ import annotations

from typing import Any

import typer

from heldout.cli.common import handle_errors
from heldout.cli.output import human_bytes, print_json, print_table
from heldout.cli.remote import JSON_OPTION, TOKEN_OPTION, URL_OPTION, connect
from heldout.names import parse_ref


def cell_text(value: Any, feature: dict[str, Any]) -> str:
    """One cell for a person: label names for class labels, media as kind and size."""
    kind = feature.get("_type")
    if value is None:
        return ""
    if kind in ("Image", "Audio") and isinstance(value, dict):
        return f"{kind.lower()} {human_bytes(int(value.get('num_bytes') or 0))}"
    if kind == "ClassLabel" and isinstance(value, int):
        names = feature.get("names") or []
        return f"{names[value]} ({value})" if 0 <= value < len(names) else str(value)
    return str(value)


@handle_errors
def head_command(
    ref: str = typer.Argument(..., help="NAME or NAME@VERSION (default: latest)."),
    rows: int = typer.Option(5, "-n", "--rows", min=1, max=100, help="How many rows."),
    split: str | None = typer.Option(None, "--split", "-s", help="Split (default: train, else "
                                     "the first)."),
    offset: int = typer.Option(0, "--offset", min=0, help="Start at this row."),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Print the first rows of a split, read on the server (media shown as kind and size;
    --json gives their preview URLs)."""
    name, version = parse_ref(ref)
    with connect(url, token) as client:
        page = client.rows(name, version, split=split, offset=offset, length=rows)
    if as_json:
        print_json(page)
        return
    features: dict[str, Any] = page.get("features") or {}
    columns = list(features) or list(page["rows"][0] if page["rows"] else [])
    print_table(
        f"{page['name']}@{page['version']} — {page['split']}, rows {page['offset']}–"
        f"{page['offset'] + page['length'] - 1} of {page['num_rows_total']}",
        columns,
        [[cell_text(row.get(c), features.get(c, {})) for c in columns] for row in page["rows"]],
        no_wrap=("id",),
    )
