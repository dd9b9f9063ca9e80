"""Behaviour specific to one backend: local temp files and xattrs; S3 metadata and uploads."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from minio.error import S3Error

from heldout.errors import Conflict, InvalidName
from heldout.storage.base import Stores
from heldout.storage.local import TMP_DIR, XATTR_SHA256, LocalStore
from heldout.storage.s3 import S3Store

MB = 1024 * 1024


class Unknown:
    """A stream of unknown length."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._pos + size
        out = self._data[self._pos:end]
        self._pos += len(out)
        return out


# -- local -------------------------------------------------------------------------------------

@pytest.fixture
def local(local_stores: Stores) -> LocalStore:
    store = local_stores.public
    assert isinstance(store, LocalStore)
    return store


def test_local_objects_are_plain_files(local: LocalStore) -> None:
    local.put("datasets/x/1.0.0/manifest.json", b"{}")
    assert (local.root / "datasets/x/1.0.0/manifest.json").read_bytes() == b"{}"


def test_local_temp_files_never_listed_and_cleaned_up(local: LocalStore) -> None:
    class Boom:
        def read(self, size: int = -1) -> bytes:
            raise OSError("disk went away")

    local.put("a", b"1")
    (local.root / TMP_DIR / "leftover.part").write_bytes(b"crashed write")
    with pytest.raises(OSError, match="disk went away"):
        local.put("b", Boom())  # type: ignore[arg-type]
    assert [i.key for i in local.list()] == ["a"]
    assert sorted(p.name for p in (local.root / TMP_DIR).iterdir()) == ["leftover.part"]
    with pytest.raises(InvalidName, match="reserved"):
        local.put(f"{TMP_DIR}/x", b"1")
    assert list(local.list(f"{TMP_DIR}/")) == []


def test_local_sha256_from_xattr_or_computed(local: LocalStore) -> None:
    local.put("x", b"abc")
    path = local.root / "x"
    try:
        cached = os.getxattr(path, XATTR_SHA256).decode()
    except OSError:
        cached = None  # filesystem without user xattrs: computed on stat
    if cached is not None:
        assert cached == hashlib.sha256(b"abc").hexdigest()
    # A file put there by other means (no xattr) still gets its sha256 computed.
    (local.root / "copied").write_bytes(b"outside")
    assert local.stat("copied").sha256 == hashlib.sha256(b"outside").hexdigest()


def test_local_delete_removes_empty_parents_only(local: LocalStore) -> None:
    local.put("p/q/r/s", b"1")
    local.put("p/other", b"2")
    local.delete("p/q/r/s")
    assert not (local.root / "p/q").exists()
    assert (local.root / "p/other").exists()
    assert local.root.is_dir()


def test_local_key_that_is_a_folder_conflicts(local: LocalStore) -> None:
    local.put("folder/file", b"1")
    with pytest.raises(Conflict):
        local.put("folder", b"2")
    with pytest.raises(Conflict):
        local.put("folder/file/deeper", b"3")


# -- s3 ----------------------------------------------------------------------------------------

@pytest.fixture
def s3(s3_stores: Stores) -> S3Store:
    store = s3_stores.public
    assert isinstance(store, S3Store)
    return store


def test_s3_sha256_is_user_metadata(s3: S3Store) -> None:
    data = b"metadata please"
    s3.put("m/small", Unknown(data), content_type="text/plain")  # type: ignore[arg-type]
    head = s3.client.stat_object(s3.bucket, "m/small")
    assert head.metadata is not None
    assert head.metadata["x-amz-meta-sha256"] == hashlib.sha256(data).hexdigest()
    assert head.content_type == "text/plain"


def test_s3_unknown_sha_multipart_is_recorded_after_upload(s3: S3Store) -> None:
    data = os.urandom(11 * MB)
    info = s3.put("m/big", Unknown(data), content_type="application/x-parquet")  # type: ignore[arg-type]
    head = s3.client.stat_object(s3.bucket, "m/big")
    assert head.metadata is not None and head.etag is not None
    assert head.metadata["x-amz-meta-sha256"] == info.sha256 == hashlib.sha256(data).hexdigest()
    assert head.content_type == "application/x-parquet"  # the self-copy keeps the type
    assert head.etag.endswith("-3")  # really a multipart object (5 MB parts)
    assert s3.get_bytes("m/big") == data


def _conditional_put(s3: S3Store, key: str, body: bytes) -> int:
    """A raw ``If-None-Match: *`` PUT (no existence check first): the HTTP status."""
    try:
        s3.client._put_object(s3.bucket, key, body, headers={"If-None-Match": "*"})
    except S3Error as exc:
        return int(exc.response.status)
    return 200


def test_s3_conditional_writes_are_honoured(s3: S3Store) -> None:
    """put_if_absent is atomic only because the server itself refuses an ``If-None-Match: *``
    PUT over an existing object: check the server's precondition, then a true race in which
    no writer's existence check can help (every writer sends its PUT at once)."""
    s3.put("cond/existing", b"first")
    assert _conditional_put(s3, "cond/existing", b"second") == 412
    assert s3.get_bytes("cond/existing") == b"first"
    for trial in range(3):
        key = f"cond/race-{trial}"
        barrier = threading.Barrier(8)
        statuses: dict[int, int] = {}

        def put(i: int, key: str = key, barrier: threading.Barrier = barrier,
                statuses: dict[int, int] = statuses) -> None:
            barrier.wait()
            statuses[i] = _conditional_put(s3, key, f"writer {i}".encode())

        threads = [threading.Thread(target=put, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [i for i, status in statuses.items() if status == 200]
        assert len(winners) == 1, statuses
        assert set(statuses.values()) <= {200, 409, 412}, statuses
        assert s3.get_bytes(key) == f"writer {winners[0]}".encode()
    assert s3.supports_conditional_writes() is True
    assert [i.key for i in s3.list("cond/")] == ["cond/existing"] + [
        f"cond/race-{t}" for t in range(3)]


def test_s3_list_order_is_byte_order_even_on_seaweedfs(s3: S3Store) -> None:
    keys = ["x/a/b", "x/a-b", "x/a0", "x/a.b"]
    for key in keys:
        s3.put(key, b"1")
    assert [i.key for i in s3.list("x/")] == sorted(keys, key=str.encode)


def test_s3_store_from_settings_uses_the_shared_client(s3_stores: Stores) -> None:
    assert isinstance(s3_stores.public, S3Store) and isinstance(s3_stores.private, S3Store)
    assert s3_stores.public.client is s3_stores.private.client
    assert s3_stores.public.bucket != s3_stores.private.bucket


def test_settings_for_builds_working_settings(settings_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from heldout.services import build_stores

    for backend in ("local", "s3"):
        settings = settings_for(backend, tmp_path / backend)
        stores = build_stores(settings)
        stores.public.put("hello", b"world")
        assert stores.public.get_bytes("hello") == b"world"
        stores.private.ping()


def test_presigned_urls_use_the_public_endpoint(settings_for: Any, tmp_path: Path) -> None:
    """Inside compose the API reaches MinIO as minio:9000; users get URLs for their host."""
    import urllib.request

    from heldout.services import build_stores

    internal = settings_for("s3", tmp_path)
    port = internal.s3_endpoint.rsplit(":", 1)[1]
    settings = internal.model_copy(update={"s3_public_endpoint": f"localhost:{port}"})
    stores = build_stores(settings)
    stores.public.put("dl/public.bin", b"for users")
    url = stores.public.presigned_get_url("dl/public.bin", 60)
    assert url is not None and url.startswith(f"http://localhost:{port}/")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"for users"
    untouched = build_stores(internal).public.presigned_get_url("dl/public.bin", 60)
    assert untouched is not None and untouched.startswith(f"http://{internal.s3_endpoint}/")


def test_s3_timeouts_and_retries_come_from_the_settings(tmp_path: Path) -> None:
    from heldout.config import Settings
    from heldout.services import build_stores

    settings = Settings(storage_backend="s3", data_dir=tmp_path, s3_connect_timeout=1.5,
                        s3_read_timeout=7, s3_retries=4)
    store = build_stores(settings).public
    assert isinstance(store, S3Store)
    pool = store.client._http.connection_pool_kw
    assert (pool["timeout"].connect_timeout, pool["timeout"].read_timeout) == (1.5, 7)
    assert pool["retries"].total == 4
