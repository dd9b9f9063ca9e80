"""Shared plumbing for commands: settings, services and turning errors into exit codes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

import typer
from pydantic import ValidationError

from heldout.cli.output import errors
from heldout.config import Settings
from heldout.errors import HeldoutError
from heldout.services import Services, build_services

P = ParamSpec("P")
R = TypeVar("R")


def load_settings() -> Settings:
    """Settings from the environment, or a clean exit naming the bad variable."""
    try:
        return Settings()
    except ValidationError as exc:
        errors.print(f"[red]error:[/] invalid configuration: {exc}")
        raise typer.Exit(2) from exc


@contextmanager
def open_services(migrate: bool = True) -> Iterator[Services]:
    """Services for one command, closed at the end."""
    services = build_services(load_settings(), migrate=migrate)
    try:
        yield services
    finally:
        services.close()


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a HeldoutError as one clear line and exit non-zero instead of a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except HeldoutError as exc:
            errors.print(f"[red]error:[/] {exc.detail}", markup=True, highlight=False)
            raise typer.Exit(1) from exc

    return wrapper
