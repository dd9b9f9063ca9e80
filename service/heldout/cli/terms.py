"""``heldout datasets terms NAME [--accept]``: read and accept a gated dataset's terms."""

from __future__ import annotations

import typer

from heldout.cli.common import handle_errors
from heldout.cli.output import console, print_json
from heldout.cli.remote import TOKEN_OPTION, URL_OPTION, connect
from heldout.errors import InvalidInput


@handle_errors
def terms_command(
    name: str = typer.Argument(..., help="Dataset name."),
    accept: bool = typer.Option(False, "--accept", help="Accept the terms shown (recorded "
                                "with your user name, the terms version and the time)."),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show the terms of a gated dataset; with --accept, accept them (once, before pulling).

    The terms are accepted for the user of the key in use.
    """
    with connect(url, token) as client:
        dataset = client.dataset(name)
        terms = dataset.get("terms")
        if terms is None:
            raise InvalidInput(f"dataset {name!r} is {dataset.get('visibility', 'public')}: "
                               "it has no terms to accept")
        accepted = client.accept_terms(name) if accept and not terms["accepted"] else None
    if as_json:
        print_json({"dataset": name, "terms_version": terms["version"], "text": terms["text"],
                    "accepted": bool(terms["accepted"] or accepted)})
        return
    console.print(f"[bold]Terms of {name}[/] (version {terms['version']}):\n")
    console.print(terms["text"], markup=False, highlight=False)
    if terms["accepted"]:
        console.print("\n[green]You have accepted these terms.[/]")
    elif accepted:
        console.print(f"\n[green]Accepted[/] for {accepted.get('user', 'you')} — you can now "
                      f"pull {name}.")
    else:
        console.print(f"\nNot accepted yet: run `heldout datasets terms {name} --accept`.")

