"""A real ``heldout serve`` in a subprocess, for attacks whose outcome is in its log or its
memory: the log is a file, and the peak resident set size (VmHWM) is read from /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from heldout.config import Settings
from tests.live import free_port


@dataclass
class ServerProcess:
    """A running server: its URL, process and log file."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    settings: Settings

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def status_kib(self, field: str) -> int:
        """A ``kB`` field of /proc/<pid>/status, such as VmRSS or VmHWM (peak RSS)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise KeyError(field)

    def peak_rss_mib(self) -> float:
        return self.status_kib("VmHWM") / 1024


def settings_env(settings: Settings) -> dict[str, str]:
    """``HELDOUT_*`` variables that reproduce ``settings`` in another process."""
    env: dict[str, str] = {}
    for field, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[f"HELDOUT_{field.upper()}"] = str(value).lower() if isinstance(value, bool) \
            else str(value)
    return env


@contextmanager
def server_process(settings: Settings, **overrides: Any) -> Iterator[ServerProcess]:
    """``heldout serve`` for ``settings`` (``overrides`` replace fields) on a free port."""
    port = free_port()
    settings = settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}",
                                           **overrides})
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELDOUT_")}
    env.update(settings_env(settings))
    log = Path(settings.data_dir) / f"serve-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "heldout"), "serve", "--port", str(port)],
            stdout=sink, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, log)
        yield ServerProcess(url, process, log, settings)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"heldout serve exited: {log.read_text(errors='replace')}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("heldout serve did not start within 180 s")
