"""A writer process killed mid-upload leaves nothing visible (both backends)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from heldout.storage.base import Stores
from heldout.storage.local import TMP_DIR, LocalStore
from heldout.storage.s3 import S3Store

WRITER = r'''
import os, sys, time
from pathlib import Path
from heldout.storage.local import LocalStore
from heldout.storage.s3 import S3Store, make_client

backend, marker = sys.argv[1], Path(sys.argv[2])
target = os.environ["HELDOUT_CRASH_TARGET"]
if backend == "local":
    store = LocalStore(Path(target), "test")
else:
    endpoint, access, secret, bucket = target.split("|")
    store = S3Store(make_client(endpoint, access, secret), bucket, part_size=5 * 1024 * 1024)

class Stalls:
    """Hands out 12 MB (two parts and a bit), then signals the parent and hangs."""
    def __init__(self):
        self.sent = 0
    def read(self, size=-1):
        if self.sent >= 12 * 1024 * 1024:
            marker.write_text("stalled")
            time.sleep(600)
        chunk = os.urandom(min(size if size > 0 else 1 << 20, 1 << 20))
        self.sent += len(chunk)
        return chunk

store.put("crash/object.bin", Stalls())
'''


def run_and_kill(backend: str, target: str, marker: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "HELDOUT_CRASH_TARGET": target}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, backend, str(marker)], env=env,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if proc.poll() is not None:
                error = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"writer exited early: {error}")
            if time.monotonic() > deadline:
                pytest.fail("writer never reached the stall point")
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)


def test_killed_writer_leaves_nothing_visible(stores: Stores, tmp_path: Path) -> None:
    store = stores.public
    store.put("crash/other", b"kept")
    if isinstance(store, LocalStore):
        backend, target = "local", str(store.root)
    else:
        assert isinstance(store, S3Store)
        server = store.client._base_url.host
        creds = store.client._provider.retrieve()  # type: ignore[union-attr]
        backend, target = "s3", f"{server}|{creds.access_key}|{creds.secret_key}|{store.bucket}"
    run_and_kill(backend, target, tmp_path / "stalled")
    assert [info.key for info in store.list()] == ["crash/other"]
    assert not store.exists("crash/object.bin")
    if isinstance(store, LocalStore):
        leftovers = list((store.root / TMP_DIR).iterdir())
        assert len(leftovers) == 1  # the dead writer's temp file, invisible...
        os.utime(leftovers[0], (0, 0))
        store.ensure()  # ...and purged once stale
        assert list((store.root / TMP_DIR).iterdir()) == []
    else:
        assert isinstance(store, S3Store)
        pending = store.client._list_multipart_uploads(store.bucket, prefix="crash/")
        assert [u.object_name for u in pending.uploads] == ["crash/object.bin"]  # invisible
        assert store.abort_stale_uploads(older_than_seconds=3600) == 0
        assert store.abort_stale_uploads(older_than_seconds=0) == 1
        pending = store.client._list_multipart_uploads(store.bucket, prefix="crash/")
        assert list(pending.uploads) == []
