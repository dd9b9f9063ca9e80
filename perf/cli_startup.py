"""Start-up time of the ``heldout`` command against ``python -c pass`` (the floor).

Runs each command as a whole process, several times after a warm-up, and prints the
minimum and the median wall time, and the median over the floor's. ``datasets list`` asks a
real server (started here on a free port, with one small dataset) so its time includes one
HTTP round trip.

    python perf/cli_startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import publish_tiny  # noqa: E402
from tests.live import free_port, running_api  # noqa: E402

from heldout.config import Settings  # noqa: E402
from heldout.services import build_services  # noqa: E402

HELDOUT = str(Path(sys.executable).parent / "heldout")


def times(command: list[str], runs: int, env: dict[str, str]) -> list[float]:
    """Wall seconds of ``runs`` runs of ``command`` (after one warm-up run)."""
    result = []
    for index in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True)
        if index:
            result.append(time.perf_counter() - start)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "server", environment="test",
                            public_base_url=f"http://127.0.0.1:{free_port()}")
        services = build_services(settings)
        publish_tiny(services.repository)
        services.close()
        env = {k: v for k, v in os.environ.items() if not k.startswith("HELDOUT_")}
        env["HELDOUT_CONFIG_DIR"] = str(Path(tmp) / "config")
        with running_api(settings) as url:
            commands = {
                "python -c pass": [sys.executable, "-c", "pass"],
                "heldout --version": [HELDOUT, "--version"],
                "heldout --help": [HELDOUT, "--help"],
                "heldout datasets list": [HELDOUT, "datasets", "list", "--url", url],
            }
            measured = {label: times(cmd, args.runs, env) for label, cmd in commands.items()}
    floor = statistics.median(measured["python -c pass"])
    print(f"{'command':<24} {'min':>8} {'median':>8} {'median - floor':>15}   ({args.runs} runs)")
    for label, values in measured.items():
        median = statistics.median(values)
        print(f"{label:<24} {min(values):>7.3f}s {median:>7.3f}s {median - floor:>14.3f}s")


if __name__ == "__main__":
    main()
