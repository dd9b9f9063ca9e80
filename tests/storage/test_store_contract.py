"""The ObjectStore contract: every test runs against the local folder store and real S3."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from heldout.errors import (
    IntegrityError,
    InvalidInput,
    InvalidName,
    ObjectNotFound,
    StoreUnavailable,
)
from heldout.services import build_stores
from heldout.storage.base import ObjectStore, Stores
from heldout.storage.factory import ensure_buckets
from heldout.storage.local import TMP_DIR, LocalStore
from heldout.storage.s3 import S3Store
from tests.s3server import empty_and_remove_bucket, make_settings

MB = 1024 * 1024


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ChunkedStream:
    """A stream of unknown length that hands out ``chunk`` bytes per read (like a socket)."""

    def __init__(self, data: bytes, chunk: int = 64 * 1024) -> None:
        self._data = memoryview(data)
        self._chunk = chunk
        self.pos = 0

    def read(self, size: int = -1) -> bytes:
        n = self._chunk if size is None or size < 0 else min(size, self._chunk)
        out = self._data[self.pos:self.pos + n].tobytes()
        self.pos += len(out)
        return out


class FailingStream(ChunkedStream):
    """Raises after ``fail_after`` bytes, like a client that disconnects mid-upload."""

    def __init__(self, data: bytes, fail_after: int, chunk: int = MB) -> None:
        super().__init__(data, chunk)
        self.fail_after = fail_after

    def read(self, size: int = -1) -> bytes:
        if self.pos >= self.fail_after:
            raise ConnectionResetError("client went away")
        return super().read(size)


@pytest.fixture
def store(stores: Stores) -> ObjectStore:
    return stores.public


@pytest.fixture(scope="module")
def big() -> bytes:
    """20 MB of random bytes: four parts and a bit at the tests' 5 MB part size."""
    return os.urandom(20 * MB + 12345)


def visible_keys(store: ObjectStore, prefix: str = "") -> list[str]:
    return [info.key for info in store.list(prefix)]


def assert_no_pending_upload(store: ObjectStore, key: str) -> None:
    """An aborted write leaves no partial data: no multipart upload on S3, no temp file in
    the folder store."""
    if isinstance(store, S3Store):
        result = store.client._list_multipart_uploads(store.bucket, prefix=key)
        assert list(result.uploads) == []
    else:
        assert isinstance(store, LocalStore)
        temp = store.root / TMP_DIR
        assert not temp.exists() or list(temp.iterdir()) == []


# -- put / get ---------------------------------------------------------------------------------

def test_put_bytes_then_get(store: ObjectStore) -> None:
    data = b"hello heldout"
    info = store.put("a/b/c.txt", data, content_type="text/plain")
    assert (info.key, info.size, info.sha256) == ("a/b/c.txt", len(data), sha(data))
    assert store.get_bytes("a/b/c.txt") == data
    assert store.exists("a/b/c.txt")


def test_put_stream_with_known_length(store: ObjectStore) -> None:
    data = os.urandom(300_000)
    info = store.put("k/known.bin", io.BytesIO(data), len(data))
    assert (info.size, info.sha256) == (len(data), sha(data))
    assert store.get_bytes("k/known.bin") == data


def test_put_stream_with_known_length_takes_exactly_length_bytes(store: ObjectStore) -> None:
    info = store.put("k/prefix.bin", io.BytesIO(b"0123456789"), 4)
    assert (info.size, info.sha256) == (4, sha(b"0123"))
    assert store.get_bytes("k/prefix.bin") == b"0123"


def test_put_stream_with_unknown_length(store: ObjectStore) -> None:
    data = os.urandom(300_000)
    info = store.put("k/unknown.bin", ChunkedStream(data, 7000))  # type: ignore[arg-type]
    assert (info.size, info.sha256) == (len(data), sha(data))
    assert store.stat("k/unknown.bin").sha256 == sha(data)
    assert store.get_bytes("k/unknown.bin") == data


def test_put_empty_object(store: ObjectStore) -> None:
    info = store.put("empty", b"")
    assert (info.size, info.sha256) == (0, sha(b""))
    assert store.get_bytes("empty") == b""
    assert store.stat("empty").size == 0
    store.put("empty-stream", io.BytesIO(b""))
    assert store.stat("empty-stream").sha256 == sha(b"")


@pytest.mark.parametrize("mode", ["unknown-length", "known-length", "known-sha"])
def test_large_multipart_put(store: ObjectStore, big: bytes, mode: str) -> None:
    length = len(big) if mode != "unknown-length" else None
    expected = sha(big) if mode == "known-sha" else None
    stream = ChunkedStream(big, MB)
    info = store.put("big/object.bin", stream, length, sha256=expected)  # type: ignore[arg-type]
    assert (info.size, info.sha256) == (len(big), sha(big))
    stat = store.stat("big/object.bin")
    assert (stat.size, stat.sha256) == (len(big), sha(big))
    with store.open("big/object.bin") as handle:
        got = b"".join(iter(lambda: handle.read(3 * MB), b""))
    assert got == big


def test_put_file(store: ObjectStore, tmp_path: Path) -> None:
    path = tmp_path / "file.bin"
    path.write_bytes(b"file contents")
    info = store.put_file("files/file.bin", str(path), sha256=sha(b"file contents"))
    assert info.sha256 == sha(b"file contents")
    assert store.get_bytes("files/file.bin") == b"file contents"


def test_overwrite_replaces_object(store: ObjectStore) -> None:
    store.put("over/x", b"first version")
    store.put("over/x", b"second")
    assert store.get_bytes("over/x") == b"second"
    assert store.stat("over/x").sha256 == sha(b"second")


def test_content_type_is_kept(store: ObjectStore) -> None:
    store.put("typed/m.json", b"{}", content_type="application/json")
    assert store.stat("typed/m.json").content_type == "application/json"


def test_open_reads_in_chunks_and_closes(store: ObjectStore) -> None:
    data = os.urandom(100_000)
    store.put("stream/x", data)
    handle = store.open("stream/x")
    try:
        assert handle.read(10) == data[:10]
        assert handle.read(90) == data[10:100]
        assert handle.read() == data[100:]
        assert handle.read(5) == b""
    finally:
        handle.close()


# -- ranged get --------------------------------------------------------------------------------

def test_get_range(store: ObjectStore) -> None:
    data = bytes(range(256)) * 40
    store.put("range/x", data)
    assert store.get_range("range/x", 0, 10) == data[:10]
    assert store.get_range("range/x", 100, 50) == data[100:150]
    assert store.get_range("range/x", 10000) == data[10000:]
    assert store.get_range("range/x", len(data) - 3, 100) == data[-3:]
    assert store.get_range("range/x", 5, 0) == b""
    assert store.get_range("range/x", len(data)) == b""
    assert store.get_range("range/x", len(data) + 10, 4) == b""


def test_get_range_refuses_negative_offsets(store: ObjectStore) -> None:
    store.put("range/y", b"abc")
    with pytest.raises(InvalidInput, match="invalid range"):
        store.get_range("range/y", -1, 2)


def test_get_range_of_large_object_crosses_parts(store: ObjectStore, big: bytes) -> None:
    store.put("range/big", io.BytesIO(big), len(big))
    offset = 5 * MB - 100
    assert store.get_range("range/big", offset, 1000) == big[offset:offset + 1000]


# -- list --------------------------------------------------------------------------------------

def test_list_is_recursive_and_in_key_order(store: ObjectStore) -> None:
    keys = ["d/a-b", "d/a/b", "d/a/c/d", "d/a0", "d/b", "d/B", "d/a.x", "e/x", "dd/x"]
    for key in keys:
        store.put(key, key.encode())
    listed = list(store.list("d/"))
    expected = sorted((k for k in keys if k.startswith("d/")), key=lambda k: k.encode())
    assert [info.key for info in listed] == expected
    assert {info.key: info.size for info in listed} == {k: len(k) for k in expected}
    assert visible_keys(store) == sorted(keys, key=lambda k: k.encode())


def test_list_prefix_matches_partial_segments_like_s3(store: ObjectStore) -> None:
    for key in ["data/train-0.parquet", "data/train-1.parquet", "data/test-0.parquet",
                "dat/x", "data2/y", "data/trainset/z"]:
        store.put(key, b"x")
    assert visible_keys(store, "data/tr") == [
        "data/train-0.parquet", "data/train-1.parquet", "data/trainset/z"]
    assert visible_keys(store, "data/") == [
        "data/test-0.parquet", "data/train-0.parquet", "data/train-1.parquet", "data/trainset/z"]
    assert visible_keys(store, "data") == [
        "data/test-0.parquet", "data/train-0.parquet", "data/train-1.parquet",
        "data/trainset/z", "data2/y"]
    assert visible_keys(store, "data/trainset/") == ["data/trainset/z"]
    assert visible_keys(store, "nothing/") == []
    assert visible_keys(store, "data/train-0.parquet") == ["data/train-0.parquet"]


# -- delete ------------------------------------------------------------------------------------

def test_delete(store: ObjectStore) -> None:
    store.put("del/a/b", b"1")
    store.put("del/a/c", b"2")
    store.delete("del/a/b")
    assert not store.exists("del/a/b")
    assert visible_keys(store, "del/") == ["del/a/c"]
    store.delete("del/a/b")  # deleting a missing key is fine
    store.delete("never/existed")


def test_delete_prefix(store: ObjectStore) -> None:
    for key in ["v/1/a", "v/1/b/c", "v/10/a", "v/2/a"]:
        store.put(key, b"x")
    assert store.delete_prefix("v/1/") == 2
    assert visible_keys(store, "v/") == ["v/10/a", "v/2/a"]
    assert store.delete_prefix("v/1/") == 0
    assert store.delete_prefix("v/") == 2
    assert visible_keys(store) == []


# -- put_if_absent -----------------------------------------------------------------------------

def test_put_if_absent(store: ObjectStore) -> None:
    assert store.put_if_absent("marker/commit.json", b'{"n": 1}') is True
    assert store.put_if_absent("marker/commit.json", b'{"n": 2}') is False
    assert store.get_bytes("marker/commit.json") == b'{"n": 1}'
    assert store.stat("marker/commit.json").sha256 == sha(b'{"n": 1}')


def test_put_if_absent_after_ordinary_put_refuses(store: ObjectStore) -> None:
    store.put("marker/x", b"existing")
    assert store.put_if_absent("marker/x", b"new") is False
    assert store.get_bytes("marker/x") == b"existing"


def test_put_if_absent_concurrent_writers_exactly_one_wins(store: ObjectStore) -> None:
    for trial in range(5):
        key = f"race/{trial}/manifest.json"
        writers = 8
        barrier = threading.Barrier(writers)
        results: dict[int, bool] = {}
        errors: list[BaseException] = []

        def write(i: int, key: str = key, barrier: threading.Barrier = barrier,
                  results: dict[int, bool] = results,
                  errors: list[BaseException] = errors) -> None:
            try:
                barrier.wait()
                results[i] = store.put_if_absent(key, f"writer {i}".encode())
            except BaseException as exc:  # report it in the main thread
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        winners = [i for i, won in results.items() if won]
        assert len(winners) == 1, results
        assert store.get_bytes(key) == f"writer {winners[0]}".encode()


# -- integrity and all-or-nothing writes -------------------------------------------------------

@pytest.mark.parametrize("kind", ["bytes", "small-stream", "known-length-stream", "multipart"])
def test_sha_mismatch_stores_nothing(store: ObjectStore, big: bytes, kind: str) -> None:
    data = big if kind == "multipart" else b"some bytes that are not what was promised"
    wrong = sha(b"something else")
    payload: object = {
        "bytes": data,
        "small-stream": ChunkedStream(data, 5),
        "known-length-stream": io.BytesIO(data),
        "multipart": ChunkedStream(data, MB),
    }[kind]
    length = len(data) if kind == "known-length-stream" else None
    with pytest.raises(IntegrityError) as caught:
        store.put("integrity/x", payload, length, sha256=wrong)  # type: ignore[arg-type]
    assert wrong in caught.value.detail and sha(data) in caught.value.detail
    assert "integrity/x" in caught.value.detail
    assert visible_keys(store) == []
    assert not store.exists("integrity/x")
    assert_no_pending_upload(store, "integrity/x")


def test_sha_mismatch_keeps_the_previous_object(store: ObjectStore, big: bytes) -> None:
    store.put("integrity/y", b"good old bytes")
    with pytest.raises(IntegrityError):
        store.put("integrity/y", ChunkedStream(big, MB), sha256=sha(b"nope"))  # type: ignore[arg-type]
    assert store.get_bytes("integrity/y") == b"good old bytes"
    assert store.stat("integrity/y").sha256 == sha(b"good old bytes")


def test_matching_expected_sha_is_accepted_in_any_case(store: ObjectStore) -> None:
    info = store.put("integrity/z", b"abc", sha256=sha(b"abc").upper())
    assert info.sha256 == sha(b"abc")
    assert store.stat("integrity/z").sha256 == sha(b"abc")


def test_malformed_expected_sha_is_refused(store: ObjectStore) -> None:
    with pytest.raises(InvalidInput, match="64 hexadecimal digits"):
        store.put("integrity/w", b"abc", sha256="not-a-sha")
    assert visible_keys(store) == []


@pytest.mark.parametrize("fail_after", [100_000, 12 * MB], ids=["first-part", "after-two-parts"])
def test_stream_failing_midway_leaves_nothing(store: ObjectStore, big: bytes,
                                              fail_after: int) -> None:
    with pytest.raises(ConnectionResetError):
        store.put("broken/upload.bin", FailingStream(big, fail_after))  # type: ignore[arg-type]
    assert visible_keys(store) == []
    assert not store.exists("broken/upload.bin")
    assert_no_pending_upload(store, "broken/upload.bin")


def test_stream_failing_midway_keeps_the_previous_object(store: ObjectStore, big: bytes) -> None:
    store.put("broken/keep", b"previous")
    with pytest.raises(ConnectionResetError):
        store.put("broken/keep", FailingStream(big, 11 * MB), len(big))  # type: ignore[arg-type]
    assert store.get_bytes("broken/keep") == b"previous"


def test_stream_shorter_than_length_is_refused(store: ObjectStore) -> None:
    with pytest.raises(InvalidInput, match="stream ended after 3 bytes"):
        store.put("short/x", io.BytesIO(b"abc"), 10)
    assert visible_keys(store) == []


def test_bytes_with_wrong_length_is_refused(store: ObjectStore) -> None:
    with pytest.raises(InvalidInput, match="length 10 given but 3 bytes"):
        store.put("short/y", b"abc", 10)


# -- bad keys and missing objects --------------------------------------------------------------

@pytest.mark.parametrize("key", ["../x", "/abs", "a//b", "a\\b", "a/./b", "", "a/", "a\x00b"])
def test_invalid_keys_are_refused_everywhere(store: ObjectStore, key: str) -> None:
    calls = [
        lambda: store.put(key, b"x"),
        lambda: store.put_if_absent(key, b"x"),
        lambda: store.open(key),
        lambda: store.get_bytes(key),
        lambda: store.get_range(key, 0, 1),
        lambda: store.stat(key),
        lambda: store.delete(key),
        lambda: store.presigned_get_url(key, 60),
    ]
    for call in calls:
        with pytest.raises(InvalidName):
            call()
    assert visible_keys(store) == []


@pytest.mark.parametrize("prefix", ["../", "/x", "a//"])
def test_invalid_prefixes_are_refused(store: ObjectStore, prefix: str) -> None:
    with pytest.raises(InvalidName):
        list(store.list(prefix))
    with pytest.raises(InvalidName):
        store.delete_prefix(prefix)


def test_missing_object_raises_object_not_found(store: ObjectStore) -> None:
    store.put("present/a", b"x")
    for call in [
        lambda: store.stat("present/missing"),
        lambda: store.open("present/missing"),
        lambda: store.get_bytes("present/missing"),
        lambda: store.get_range("present/missing", 0, 3),
        lambda: store.get_range("present/missing", 0),
        lambda: store.stat("present"),  # a "folder" is not an object
    ]:
        with pytest.raises(ObjectNotFound) as caught:
            call()
        assert caught.value.status == 404
        assert "present" in caught.value.detail
    assert not store.exists("present/missing")


# -- presigned URLs, ping, private store ------------------------------------------------------

def test_presigned_get_url(store: ObjectStore) -> None:
    data = os.urandom(50_000)
    store.put("dl/file.parquet", data)
    url = store.presigned_get_url("dl/file.parquet", 120)
    if isinstance(store, LocalStore):
        assert url is None
        return
    assert url is not None and url.startswith("http")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == data


def test_presigned_get_url_expiry(store: ObjectStore) -> None:
    store.put("dl/x", b"payload")
    if isinstance(store, LocalStore):
        # a folder has no URLs, whatever the expiry (the API streams the file instead) ...
        assert store.presigned_get_url("dl/x", 1) is None
        assert store.presigned_get_url("dl/x", 7 * 24 * 3600) is None
        # ... and the key is still checked
        with pytest.raises(InvalidName):
            store.presigned_get_url("../x", 60)
        return
    for bad in (0, -1, 7 * 24 * 3600 + 1):
        with pytest.raises(InvalidInput, match="expiry"):
            store.presigned_get_url("dl/x", bad)
    longest = store.presigned_get_url("dl/x", 7 * 24 * 3600)
    short = store.presigned_get_url("dl/x", 1)
    assert longest is not None and short is not None
    time.sleep(2.5)  # let the short one expire (no timing is asserted, only refusal after it)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(short, timeout=10)
    assert refused.value.code == 403
    with urllib.request.urlopen(longest, timeout=10) as response:
        assert response.read() == b"payload"


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_ping_says_whether_the_store_can_be_used(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    endpoint = request.getfixturevalue("s3_server") if backend == "s3" else None
    settings = make_settings(backend, tmp_path / "data", endpoint)
    stores = build_stores(settings)  # folders / buckets not created yet
    try:
        for store in (stores.public, stores.private):
            with pytest.raises(StoreUnavailable) as caught:
                store.ping()
            assert caught.value.status == 503
        ensure_buckets(stores)
        stores.public.ping()
        stores.private.ping()
    finally:
        if endpoint is not None:
            for bucket in (settings.public_bucket, settings.private_bucket):
                empty_and_remove_bucket(endpoint, bucket)


def test_public_and_private_stores_are_separate(stores: Stores) -> None:
    stores.private.put("private/labels/x/1.0.0/test.parquet", b"labels")
    assert visible_keys(stores.public) == []
    assert not stores.public.exists("private/labels/x/1.0.0/test.parquet")
    assert stores.private.get_bytes("private/labels/x/1.0.0/test.parquet") == b"labels"


def test_put_get_from_many_threads(store: ObjectStore) -> None:
    payloads = {f"threads/{i:02d}": os.urandom(10_000 + i) for i in range(16)}
    errors: list[BaseException] = []

    def work(key: str, data: bytes) -> None:
        try:
            store.put(key, data)
            assert store.get_bytes(key) == data
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=item) for item in payloads.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert visible_keys(store, "threads/") == sorted(payloads)

