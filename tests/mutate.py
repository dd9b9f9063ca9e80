"""``./dev mutate [module]``: mutation testing (mutmut 3) of the modules that guard data and scores.

mutmut 3 imports mutated code from ``./src`` (or ``.``) of the folder it runs in, and our source
root is ``service``. So each module gets its own work folder ``mutants-work/<module>/`` holding
``src`` and ``tests`` (symlinks to the checkout) and a ``pyproject.toml`` made from ours:
``[tool.mutmut]`` (shared options) plus the module's entry in ``[tool.heldout.mutate]`` — which
files to mutate and the few test paths that exercise them, so a run takes minutes, not hours.
mutmut writes its copy and results into ``mutants-work/<module>/mutants/`` (git-ignored); a
second run reuses them and only re-tests what changed.

Usage: ``./dev mutate [module ...] [--results | --summary | --rerun-survivors]`` (no module:
every one, in turn). Timeouts count as killed (the mutant made a test hang).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "mutants-work"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def _table(name: str, values: dict[str, Any]) -> str:
    lines = [f"[{name}]"] + [f"{k} = {_toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def load_config() -> tuple[dict[str, Any], dict[str, Any], dict[str, dict[str, Any]]]:
    """(pytest ini options, shared mutmut options, module entries) from pyproject.toml."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    tool = data["tool"]
    return tool["pytest"]["ini_options"], tool["mutmut"], tool["heldout"]["mutate"]


def prepare(module: str) -> Path:
    """The work folder of ``module``, with its src/tests links and generated pyproject."""
    pytest_ini, shared, modules = load_config()
    entry = modules[module]
    folder = WORK / module
    folder.mkdir(parents=True, exist_ok=True)
    for link, target in (("src", ROOT / "service"), ("tests", ROOT / "tests")):
        path = folder / link
        if not path.is_symlink():
            path.symlink_to(target, target_is_directory=True)
    mutmut = {
        **shared,
        "source_paths": ["src/heldout"],
        "only_mutate": [f"src/heldout/{pattern}" for pattern in entry["mutate"]],
        "pytest_add_cli_args_test_selection": list(entry["tests"]),
    }
    text = _table("tool.pytest.ini_options", pytest_ini) + "\n" + _table("tool.mutmut", mutmut)
    (folder / "pyproject.toml").write_text(text, encoding="utf-8")
    return folder


def mutmut(folder: Path, *args: str) -> int:
    command = [str(Path(sys.executable).parent / "mutmut"), *args]
    return subprocess.call(command, cwd=folder)


def statuses(folder: Path) -> dict[str, str]:
    """Each mutant's status from the last run (killed, survived, timeout, no tests, ...)."""
    command = [str(Path(sys.executable).parent / "mutmut"), "results", "--all", "true"]
    out = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=True).stdout
    return dict(line.strip().rsplit(": ", 1) for line in out.splitlines() if ": " in line)


_DIFFS = """
import sys
from mutmut.__main__ import SourceFileMutationData, walk_mutatable_files
from mutmut.mutation.diff_apply import get_diff_for_mutant
wanted = set(sys.argv[1:])
for path in walk_mutatable_files():
    data = SourceFileMutationData(path=path)
    data.load()
    for name in sorted(wanted & set(data.exit_code_by_key)):
        print(f"# {name}\\n" + get_diff_for_mutant(name, path=path) + "\\n")
"""


EQUIVALENTS = ROOT / "tests" / "mutation_equivalents"


def equivalents(module: str) -> dict[str, str]:
    """Mutants of ``module`` reviewed as equivalent (no observable change), with the reason.

    Read from ``tests/mutation_equivalents/<module>*.toml``: one ``"mutant name" = "why"`` per
    line under ``[equivalent]``. A listed mutant that a test kills is simply killed.
    """
    found: dict[str, str] = {}
    for path in sorted(EQUIVALENTS.glob(f"{module}*.toml")):
        found.update(tomllib.loads(path.read_text("utf-8")).get("equivalent", {}))
    return found


def survivor_diffs(module: str, folder: Path) -> int:
    """Print the diff of every surviving (or untested) mutant not reviewed as equivalent."""
    reviewed = equivalents(module)
    names = [n for n, s in statuses(folder).items()
             if s in ("survived", "no tests") and n not in reviewed]
    return subprocess.call([sys.executable, "-c", _DIFFS, *names], cwd=folder)


def summary(module: str, folder: Path) -> str:
    """One line: killed / non-equivalent mutants, with the other statuses counted.

    Untested mutants count as survivors; survivors listed as equivalent leave the denominator.
    """
    reviewed = equivalents(module)
    counts: dict[str, int] = {}
    for name, status in statuses(folder).items():
        if status in ("survived", "no tests") and name in reviewed:
            status = "equivalent"
        counts[status] = counts.get(status, 0) + 1
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    tested = killed + counts.get("survived", 0) + counts.get("no tests", 0)
    share = f"{100 * killed / tested:.1f}%" if tested else "n/a"
    others = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    return f"{module}: {killed}/{tested} non-equivalent mutants killed ({share}); {others}"


def main(argv: list[str] | None = None) -> int:
    _, _, modules = load_config()
    parser = argparse.ArgumentParser(prog="./dev mutate", description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", choices=[*modules, []], metavar="module",
                        help=f"one of: {', '.join(modules)} (default: all)")
    parser.add_argument("--results", action="store_true",
                        help="list the surviving mutants of the last run instead of running")
    parser.add_argument("--diffs", action="store_true",
                        help="print the diffs of the surviving mutants of the last run")
    parser.add_argument("--summary", action="store_true",
                        help="print killed/tested per module from the last run")
    parser.add_argument("--rerun-survivors", action="store_true",
                        help="run only the mutants that survived last time and are not "
                             "reviewed as equivalent (after new tests)")
    parser.add_argument("--max-children", type=int, default=2)
    args = parser.parse_args(argv)
    status = 0
    for module in args.modules or list(modules):
        folder = prepare(module)
        if args.results:
            status |= mutmut(folder, "results")
            continue
        if args.diffs:
            status |= survivor_diffs(module, folder)
            continue
        if args.summary:
            print(summary(module, folder))
            continue
        names: list[str] = []
        if args.rerun_survivors:
            reviewed = equivalents(module)  # can't be killed: no need to run them again
            names = [n for n, s in statuses(folder).items()
                     if s in ("survived", "no tests") and n not in reviewed]
            if not names:
                continue
        started = time.monotonic()
        status |= mutmut(folder, "run", "--max-children", str(args.max_children), *names)
        print(f"mutate {module}: {time.monotonic() - started:.0f} s "
              f"(results: ./dev mutate --results {module})", flush=True)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
