"""Where the built-in benchmark definitions live: the repository's ``benchmarks/`` folder."""

from __future__ import annotations

import os
from pathlib import Path

from heldout.errors import NotFound

ENV = "HELDOUT_BENCHMARKS_DIR"


def _is_folder(candidate: Path) -> bool:
    return candidate.is_dir() and any(candidate.glob("*.yaml"))


def benchmarks_dir() -> Path:
    """The built-in benchmark YAML folder (``HELDOUT_BENCHMARKS_DIR`` overrides the search)."""
    env = os.environ.get(ENV)
    if env:
        return Path(env)
    for parent in [*Path(__file__).resolve().parents, Path.cwd()]:
        candidate = parent / "benchmarks"
        if _is_folder(candidate) and (candidate / "digits-classification.yaml").is_file():
            return candidate
    raise NotFound(f"cannot find the built-in benchmarks folder (benchmarks/*.yaml); set {ENV} "
                   "or name the folder")
