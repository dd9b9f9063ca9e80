"""The root ``heldout`` command: sub-commands are registered from their own modules."""

from __future__ import annotations

import typer

from heldout import __version__
from heldout.cli import datasets, db

app = typer.Typer(
    name="heldout",
    help="Heldout: open AI training data and held-out benchmarks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(datasets.app, name="datasets")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"heldout {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Heldout: open AI training data and held-out benchmarks."""


def _register_commands() -> None:
    """Commands contributed by other modules; each module adds its own commands to ``app``."""
    from heldout.cli import (
        access,
        benchmarks,
        keys,
        leaderboard,
        publish,
        pull,
        serve,
        submissions,
        submit,
        terms,
        users,
        worker,
    )

    publish.register(datasets.app)
    pull.register(datasets.app)
    access.register(datasets.app)
    terms.register(datasets.app)
    app.command("serve")(serve.serve)
    app.command("worker")(worker.worker)
    app.add_typer(users.app, name="users")
    app.add_typer(keys.app, name="keys")
    app.add_typer(benchmarks.app, name="benchmarks")
    app.command("submit")(submit.submit_command)
    app.command("leaderboard")(leaderboard.leaderboard_command)
    app.add_typer(submissions.app, name="submissions")


_register_commands()
