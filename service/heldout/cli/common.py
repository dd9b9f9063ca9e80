"""Shared plumbing for every command: turning errors into one line (or JSON) and an exit code.

Kept light (no settings, database or HTTP imports) so that importing a command stays cheap.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import typer

from heldout.errors import HeldoutError

P = ParamSpec("P")
R = TypeVar("R")


def fail(error_type: str, detail: str, *, as_json: bool = False, code: int = 1) -> None:
    """End the command: ``error: detail`` on stderr (never wrapped), or with ``as_json`` a
    ``{"error": {"type", "detail"}}`` document on stdout; exit ``code``."""
    if as_json:
        print(json.dumps({"error": {"type": error_type, "detail": detail}}, ensure_ascii=False))
    else:
        sys.stderr.write(f"error: {detail}\n")
    raise typer.Exit(code)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a HeldoutError as one clear line (JSON under ``--json``) and exit non-zero
    instead of a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except HeldoutError as exc:
            fail(exc.slug, exc.detail, as_json=bool(kwargs.get("as_json")))
            raise  # unreachable: fail() always exits

    return wrapper

