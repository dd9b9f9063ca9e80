"""A store that is down, misconfigured or answering garbage yields StoreUnavailable, not a trace."""

from __future__ import annotations

import hashlib
import http.server
import io
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from heldout.errors import HeldoutError, StoreUnavailable
from heldout.services import build_stores
from heldout.storage.base import ObjectStore
from heldout.storage.factory import ensure_buckets
from heldout.storage.local import LocalStore
from heldout.storage.s3 import S3Store, make_client
from tests.s3server import S3Endpoint, make_settings

SECRET = "very-secret-key-1234567890"
X_SHA = hashlib.sha256(b"x").hexdigest()


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def all_operations(store: ObjectStore) -> list[tuple[str, Callable[[], object]]]:
    return [
        ("put bytes", lambda: store.put("a/b", b"x")),
        ("put stream", lambda: store.put("a/b", io.BytesIO(b"x" * 100))),
        ("put known sha", lambda: store.put("a/b", io.BytesIO(b"x"), 1, sha256=X_SHA)),
        ("put_if_absent", lambda: store.put_if_absent("a/b", b"x")),
        ("open", lambda: store.open("a/b")),
        ("get_bytes", lambda: store.get_bytes("a/b")),
        ("get_range", lambda: store.get_range("a/b", 1, 2)),
        ("stat", lambda: store.stat("a/b")),
        ("exists", lambda: store.exists("a/b")),
        ("list", lambda: list(store.list("a/"))),
        ("delete", lambda: store.delete("a/b")),
        ("delete_prefix", lambda: store.delete_prefix("a/")),
        ("ping", store.ping),
    ]


def test_s3_store_on_a_closed_port_raises_store_unavailable() -> None:
    endpoint = f"127.0.0.1:{closed_port()}"
    store = S3Store(make_client(endpoint, "key", SECRET), "heldout-public", part_size=5 << 20)
    for name, call in all_operations(store):
        with pytest.raises(StoreUnavailable) as caught:
            call()
        problem = caught.value.to_problem()
        assert problem["status"] == 503, name
        assert endpoint in caught.value.detail, name
        assert SECRET not in str(problem), name
        assert caught.value.__suppress_context__, name  # no chained SDK traceback


def test_build_stores_for_a_down_server_fails_at_ensure_buckets(tmp_path: Path) -> None:
    settings = make_settings(
        "s3", tmp_path, S3Endpoint(f"127.0.0.1:{closed_port()}", "key", SECRET))
    stores = build_stores(settings)  # no network yet
    with pytest.raises(StoreUnavailable, match="unreachable"):
        ensure_buckets(stores)


def test_wrong_credentials_are_reported_without_the_secret(s3_server: S3Endpoint) -> None:
    client = make_client(s3_server.endpoint, s3_server.access_key, SECRET,
                         secure=s3_server.secure, region=s3_server.region)
    store = S3Store(client, "heldout-any-bucket", part_size=5 << 20)
    for name, call in all_operations(store):
        with pytest.raises(StoreUnavailable) as caught:
            call()
        assert "access key" in caught.value.detail or "does not exist" in caught.value.detail, name
        assert SECRET not in caught.value.detail


def test_missing_bucket_is_store_unavailable(s3_server: S3Endpoint) -> None:
    client = make_client(s3_server.endpoint, s3_server.access_key, s3_server.secret_key,
                         secure=s3_server.secure, region=s3_server.region)
    store = S3Store(client, "heldout-no-such-bucket-xyz", part_size=5 << 20)
    with pytest.raises(StoreUnavailable, match="bucket does not exist"):
        store.ping()
    with pytest.raises(StoreUnavailable, match="does not exist"):
        store.put("a", b"x")
    store.ensure()
    try:
        store.ping()
        store.put("a", b"x")
        assert store.get_bytes("a") == b"x"
    finally:
        store.delete("a")
        client.remove_bucket(store.bucket)


class _BrokenHandler(http.server.BaseHTTPRequestHandler):
    """Answers every request with a 503 HTML page, like a proxy in front of a dead store."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = b"<html>bad gateway</html>"
        self.send_response(503 if self.path != "/heldout-public/plain" else 200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def broken_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BrokenHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_server_answering_5xx_html_is_store_unavailable(broken_server: str) -> None:
    store = S3Store(make_client(broken_server, "key", SECRET), "heldout-public",
                    part_size=5 << 20)
    for name, call in all_operations(store):
        with pytest.raises(HeldoutError) as caught:
            call()
        assert isinstance(caught.value, StoreUnavailable), (name, caught.value)
        assert broken_server in caught.value.detail, name


def test_local_store_ping_on_missing_or_unusable_root(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="is not a folder"):
        LocalStore(tmp_path / "missing", "heldout-public").ping()
    a_file = tmp_path / "file"
    a_file.write_bytes(b"")
    with pytest.raises(StoreUnavailable, match="is not a folder"):
        LocalStore(a_file, "heldout-public").ping()
    with pytest.raises(StoreUnavailable, match="cannot create"):
        LocalStore(a_file / "sub", "heldout-public").put("x", b"1")
