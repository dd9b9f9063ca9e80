"""``python -m heldout.api.snapshot [PATH]``: write the OpenAPI document to the committed
snapshot (``docs/openapi.json``; ``./dev openapi`` runs this). ``--check`` only compares."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from heldout.api.app import create_app
from heldout.config import Settings

SNAPSHOT = Path("docs/openapi.json")


def render(document: dict[str, Any]) -> str:
    """The snapshot's text: the document as served (key order kept), indented, final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def current_document() -> dict[str, Any]:
    """The OpenAPI document of an app over a throwaway local store and SQLite catalog."""
    with tempfile.TemporaryDirectory(prefix="heldout-openapi-") as folder:
        settings = Settings(environment="test", data_dir=Path(folder), storage_backend="local",
                            database_url=None)
        app = create_app(settings)
        try:
            return app.openapi()
        finally:
            app.state.services.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", type=Path, default=SNAPSHOT)
    parser.add_argument("--check", action="store_true", help="exit 1 if the snapshot is stale")
    args = parser.parse_args(argv)
    text = render(current_document())
    old = args.path.read_text(encoding="utf-8") if args.path.exists() else None
    if args.check:
        print(f"{args.path}: " + ("up to date" if old == text else "STALE: run ./dev openapi"))
        return 0 if old == text else 1
    args.path.parent.mkdir(parents=True, exist_ok=True)
    args.path.write_text(text, encoding="utf-8")
    print(f"{args.path}: " + ("unchanged" if old == text else "written"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
