"""Download, cache, verify and resume from the real API, through a fault-injecting proxy."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from heldout.client import Client, ConnectionFailed, load_dataset
from heldout.client.download import download_version
from heldout.client.http import retry_delay
from heldout.config import Settings
from heldout.errors import IntegrityError, NotFound, Unauthorized
from tests.client.conftest import (
    LABELS,
    Published,
    behind,
    expected_public,
    publishing,
    set_visibility,
    without_paths,
)
from tests.client.faultproxy import Fault, FaultProxy
from tests.live import make_key


def rows_of(table: pa.Table) -> list[dict[str, Any]]:
    return table.to_pylist()


def shard_path(published: Published, split: str = "train", index: int = 0) -> str:
    manifest = published[0].manifest("pets")
    return manifest.splits[split].shards[index].path


def test_load_dataset_returns_every_published_row(proxy: FaultProxy, published: Published,
                                                  tmp_path: Path) -> None:
    rows = published.rows
    tables = load_dataset("pets", url=proxy.url, cache_dir=tmp_path, as_arrow=True)
    assert set(tables) == {"train", "test"}
    assert rows_of(tables["train"]) == expected_public(rows["train"])
    # the held-out split comes without its label column
    assert without_paths(rows_of(tables["test"])) == without_paths(
        expected_public(rows["test"], drop=("label",)))

    dataset = load_dataset("pets", "train", url=proxy.url, cache_dir=tmp_path)
    assert dataset.features["label"].names == LABELS
    first = dataset[0]
    assert first["image"].size == (8, 8)  # decoded by datasets as a PIL image
    assert first["label"] == 0 and first["id"] == "train-0000"
    undecoded = load_dataset("pets", "train", url=proxy.url, cache_dir=tmp_path,
                             decode=False)
    assert isinstance(undecoded, pa.Table)
    assert undecoded.column("image")[3].as_py()["bytes"] == rows["train"][3]["image"]["bytes"]


def test_dataset_is_memory_mapped_from_the_heldout_cache(proxy: FaultProxy,
                                                         tmp_path: Path) -> None:
    dataset = load_dataset("pets", "train", url=proxy.url, cache_dir=tmp_path / "c")
    files = [Path(f["filename"]) for f in dataset.cache_files]
    assert files, "a memory-mapped dataset lists its Arrow files"
    state = str(tmp_path / "c" / "pets" / "1.0.0" / ".heldout")
    assert all(str(f).startswith(state) for f in files)


def test_keep_in_memory_loads_the_same_rows_without_an_arrow_copy(
        proxy: FaultProxy, published: Published, tmp_path: Path) -> None:
    dataset = load_dataset("pets", "train", url=proxy.url, cache_dir=tmp_path,
                           keep_in_memory=True)
    assert dataset.cache_files == []
    assert not (tmp_path / "pets" / "1.0.0" / ".heldout" / "arrow").exists()
    plain = dataset.cast_column("image", dataset.features["image"].__class__(decode=False))
    assert plain.to_list() == expected_public(published[1]["train"])


def test_second_call_reuses_the_cache(proxy: FaultProxy, tmp_path: Path) -> None:
    client = Client(proxy.url, cache_dir=tmp_path)
    first = client.download("pets", "latest")
    assert first.downloaded_files == 6 and first.reused_files == 0
    seen = len(proxy.requests)
    again = client.download("pets", "1.0.0")  # concrete version, complete in cache: offline
    assert len(proxy.requests) == seen
    assert again.reused_files == 6 and again.downloaded_bytes == 0
    latest = client.download("pets")  # 'latest' needs one listing call to resolve, no file
    assert [r.path.split("?")[0] for r in proxy.requests[seen:]] == [
        "/api/v1/datasets/pets/versions/latest/files"]
    assert latest.downloaded_files == 0


def test_only_the_requested_split_is_downloaded(proxy: FaultProxy, tmp_path: Path) -> None:
    result = Client(proxy.url, cache_dir=tmp_path).download("pets", split="test")
    assert result.splits == ["test"]
    data = sorted(p.name for p in (result.path / "data").iterdir())
    assert data == ["test-00000-of-00001.parquet"]


def test_a_corrupt_stored_shard_is_reported_and_never_loaded(
        proxy: FaultProxy, published: Published, tmp_path: Path) -> None:
    rel = shard_path(published, "train", 1)
    stored = published[2] / "pets" / "1.0.0" / rel
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF
    stored.write_bytes(bytes(data))
    with pytest.raises(IntegrityError) as caught:
        load_dataset("pets", url=proxy.url, cache_dir=tmp_path)
    assert rel in str(caught.value) and "sha256" in str(caught.value)
    folder = tmp_path / "pets" / "1.0.0"
    assert not (folder / rel).exists()
    assert not list((folder / ".heldout" / "partial").rglob("*.partial"))
    # the intact shards were kept and verified for the next attempt
    assert (folder / shard_path(published, "train", 0)).exists()


def test_a_connection_cut_half_way_resumes_with_range(
        proxy: FaultProxy, published: Published, tmp_path: Path) -> None:
    rel = shard_path(published)
    proxy.faults[rel] = Fault(cut_after=100_000)
    client = Client(proxy.url, cache_dir=tmp_path, backoff=0.01)
    table = client.load_dataset("pets", "train", as_arrow=True)
    assert rows_of(table) == expected_public(published[1]["train"])
    ranges = [r.headers.get("Range") for r in proxy.requests if r.path.endswith(rel)]
    assert ranges == [None, "bytes=100000-"]


def test_a_partial_file_left_by_a_killed_run_is_resumed(
        proxy: FaultProxy, published: Published, tmp_path: Path) -> None:
    rel = shard_path(published)
    source = (published[2] / "pets" / "1.0.0" / rel).read_bytes()
    partial = tmp_path / "pets" / "1.0.0" / ".heldout" / "partial" / (rel + ".partial")
    partial.parent.mkdir(parents=True)
    partial.write_bytes(source[:123_456])
    result = Client(proxy.url, cache_dir=tmp_path).download("pets", "1.0.0")
    ranges = [r.headers.get("Range") for r in proxy.requests if r.path.endswith(rel)]
    assert ranges == ["bytes=123456-"]
    assert (result.path / rel).read_bytes() == source
    assert not partial.exists()


def test_a_corrupt_partial_file_is_thrown_away_and_fetched_again(
        proxy: FaultProxy, published: Published, tmp_path: Path) -> None:
    rel = shard_path(published)
    source = (published[2] / "pets" / "1.0.0" / rel).read_bytes()
    partial = tmp_path / "pets" / "1.0.0" / ".heldout" / "partial" / (rel + ".partial")
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"\0" * 5000)
    result = Client(proxy.url, cache_dir=tmp_path).download("pets", "1.0.0")
    ranges = [r.headers.get("Range") for r in proxy.requests if r.path.endswith(rel)]
    assert ranges == ["bytes=5000-", None]
    assert (result.path / rel).read_bytes() == source


def test_a_server_ignoring_range_still_gives_a_correct_file(
        proxy: FaultProxy, published: Published, tmp_path: Path) -> None:
    rel = shard_path(published)
    source = (published[2] / "pets" / "1.0.0" / rel).read_bytes()
    proxy.faults[rel] = Fault(ignore_range=True)
    partial = tmp_path / "pets" / "1.0.0" / ".heldout" / "partial" / (rel + ".partial")
    partial.parent.mkdir(parents=True)
    partial.write_bytes(source[:1000])
    result = Client(proxy.url, cache_dir=tmp_path).download("pets", "1.0.0")
    assert (result.path / rel).read_bytes() == source
    # asked to resume, got the whole file in a 200 (the proxy dropped Range) and started over
    assert [r.headers.get("Range") for r in proxy.requests if r.file == rel] == ["bytes=1000-"]


def test_a_cached_file_changed_on_disk_is_rehashed_and_fetched_again(
        proxy: FaultProxy, published: Published, tmp_path: Path) -> None:
    client = Client(proxy.url, cache_dir=tmp_path)
    first = client.download("pets", "1.0.0")
    rel = shard_path(published)
    target = first.path / rel
    data = bytearray(target.read_bytes())
    data[10] ^= 1
    target.write_bytes(bytes(data))  # same size, new mtime: the marker no longer vouches
    seen = len(proxy.requests)
    client.download("pets", "1.0.0")
    fetched = [r.path for r in proxy.requests[seen:] if r.file]
    assert fetched == [f"/api/v1/datasets/pets/versions/1.0.0/files/{rel}"]
    assert target.read_bytes() == (published[2] / "pets" / "1.0.0" / rel).read_bytes()


def test_rehash_mode_verifies_without_markers(proxy: FaultProxy, published: Published,
                                             tmp_path: Path) -> None:
    client = Client(proxy.url, cache_dir=tmp_path)
    first = client.download("pets", "1.0.0")
    again = download_version(client, "pets", "1.0.0", cache_dir=tmp_path, trust_markers=False)
    assert again.downloaded_files == 0 and again.reused_files == 6
    # Corrupt a cached shard behind the marker's back: same size, same mtime.
    rel = shard_path(published)
    target = first.path / rel
    stat = target.stat()
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    trusted = download_version(client, "pets", "1.0.0", cache_dir=tmp_path)
    assert trusted.downloaded_files == 0  # markers vouch without reading a byte ...
    seen = len(proxy.requests)
    rehashed = download_version(client, "pets", "1.0.0", cache_dir=tmp_path,
                                trust_markers=False)  # ... re-hashing every file does not
    assert [r.file for r in proxy.requests[seen:] if r.file] == [rel]
    assert rehashed.downloaded_files == 1 and rehashed.reused_files == 5
    assert target.read_bytes() == (published.root / "pets" / "1.0.0" / rel).read_bytes()


def test_429_and_503_are_retried_honouring_retry_after(
        proxy: FaultProxy, published: Published, tmp_path: Path) -> None:
    rel = shard_path(published)
    proxy.faults[rel] = Fault(status=429, status_times=2, retry_after="0")
    proxy.api_faults.extend([503, 502])
    client = Client(proxy.url, cache_dir=tmp_path, backoff=0.01)
    result = client.download("pets", "1.0.0")
    assert (result.path / rel).exists()
    hits = [r for r in proxy.requests if r.path.endswith(rel)]
    assert len(hits) == 3
    listing = [r for r in proxy.requests if r.path.endswith("/files")]
    assert len(listing) == 3


def test_retry_gives_up_with_the_last_error(proxy: FaultProxy, tmp_path: Path) -> None:
    proxy.api_faults.extend([503] * 5)
    client = Client(proxy.url, cache_dir=tmp_path, backoff=0.01, max_retries=2)
    with pytest.raises(Exception, match="injected") as caught:
        client.download("pets")
    assert getattr(caught.value, "status", None) == 503


def test_retry_delay_uses_retry_after_then_jittered_backoff() -> None:
    import httpx

    response = httpx.Response(429, headers={"Retry-After": "3"})
    assert retry_delay(1, response, 0.5, 30) == 3
    assert retry_delay(1, httpx.Response(429, headers={"Retry-After": "999"}), 0.5, 30) == 30
    delays = [retry_delay(4, None, 0.5, 30) for _ in range(200)]
    assert all(0 <= d <= 4.0 for d in delays) and max(delays) > 2.0


def test_missing_token_gives_a_clear_401(proxy: FaultProxy, published: Published,
                                         tmp_path: Path) -> None:
    set_visibility(published.settings, "pets", "gated")
    with pytest.raises(Unauthorized, match=r"HELDOUT_TOKEN.*'pets' is gated"):
        Client(proxy.url, token="", cache_dir=tmp_path).download("pets")
    with pytest.raises(Unauthorized, match="HELDOUT_TOKEN"):
        Client(proxy.url, token="not-a-key", cache_dir=tmp_path).download("pets")
    key = make_key(published.settings, "reader", "participant")
    reader = Client(proxy.url, token=key, cache_dir=tmp_path)
    reader.accept_terms("pets")
    seen = len(proxy.requests)
    result = reader.download("pets")
    assert result.downloaded_files == 6
    assert (result.path / shard_path(published)).read_bytes() == (
        published.root / "pets" / "1.0.0" / shard_path(published)).read_bytes()
    # on the local store the files come from the API too, so they need the key as well
    files = [r for r in proxy.requests[seen:] if r.file]
    assert len(files) == 6
    assert all(r.headers.get("Authorization") == f"Bearer {key}" for r in proxy.requests[seen:])


def test_the_token_goes_only_to_the_api_origin(settings_for: Callable[..., Settings],
                                               tmp_path: Path) -> None:
    # On S3 the listing hands out presigned URLs: files come straight from the object store,
    # here through a recording pass-through proxy that the URLs are signed for.
    with FaultProxy() as objects, FaultProxy() as api:
        settings = settings_for("s3", tmp_path / "server", shard_target_bytes=200_000,
                                public_base_url=api.url, s3_public_endpoint=objects.address)
        objects.start(f"http://{settings.s3_endpoint}")
        with publishing(settings) as published, behind(api, settings):
            key = make_key(settings, "reader", "participant")
            result = Client(api.url, token=key, cache_dir=tmp_path / "cache").download("pets")
            rel = shard_path(published)
            stored = published.repository.stores.public.get_bytes(f"datasets/pets/1.0.0/{rel}")
        assert result.downloaded_files == 6  # each verified against its sha256
        assert (result.path / rel).read_bytes() == stored
        assert [r.path for r in api.requests] == ["/api/v1/datasets/pets/versions/latest/files"]
        assert all(r.headers.get("Authorization") == f"Bearer {key}" for r in api.requests)
        assert len(objects.requests) == 6
        assert all("Authorization" not in r.headers for r in objects.requests)


def test_unknown_dataset_and_split_are_clear(proxy: FaultProxy, tmp_path: Path) -> None:
    client = Client(proxy.url, cache_dir=tmp_path)
    with pytest.raises(NotFound, match="'nope' does not exist"):
        client.download("nope")
    with pytest.raises(NotFound, match=r"nope@1\.0\.0 does not exist"):
        client.download("nope", "1.0.0")
    with pytest.raises(NotFound, match=r"no split 'dev'.*\['test', 'train'\]"):
        client.download("pets", split="dev")


def test_an_unreachable_server_fails_after_retries(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = Client(f"http://127.0.0.1:{port}", cache_dir=tmp_path, max_retries=1, backoff=0.01)
    with pytest.raises(ConnectionFailed, match="HELDOUT_URL"):
        client.download("pets")


def test_unexpected_listing_paths_are_refused(proxy: FaultProxy, tmp_path: Path) -> None:
    def hostile(listing: dict[str, Any]) -> dict[str, Any]:
        listing["files"][0]["path"] = "../../etc/passwd"
        return listing

    proxy.listing_rewrite = hostile  # the real listing, one path changed on the way
    with pytest.raises(Exception, match="unexpected file path"):
        Client(proxy.url, cache_dir=tmp_path).download("pets")
    assert not (tmp_path / "etc").exists() and not (tmp_path.parent / "etc").exists()


def test_cache_dir_comes_from_the_environment(proxy: FaultProxy, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELDOUT_CACHE_DIR", str(tmp_path / "env-cache"))
    monkeypatch.setenv("HELDOUT_URL", proxy.url)
    result = Client().download("pets", "1.0.0", split="train")
    assert result.path == tmp_path / "env-cache" / "pets" / "1.0.0"
    marker = result.path / ".heldout" / "verified" / (shard_path_of(result) + ".json")
    assert json.loads(marker.read_text())["sha256"] == result.manifest.splits["train"].shards[
        0].sha256


def shard_path_of(result: Any) -> str:
    return str(result.manifest.splits["train"].shards[0].path)


def test_shards_download_eight_at_a_time(listening_proxy: FaultProxy,
                                         settings_for: Callable[..., Settings],
                                         tmp_path: Path) -> None:
    """README: "Shards download in parallel (8 at a time)". The proxy holds file downloads
    until 8 are in flight, and counts the most it ever sees at once: exactly the limit."""
    settings = settings_for("local", tmp_path / "server", shard_target_bytes=20_000,
                            public_base_url=listening_proxy.url)
    with publishing(settings) as published, behind(listening_proxy, settings) as proxy:
        manifest = published.repository.manifest("pets")
        shards = sum(len(split.shards) for split in manifest.splits.values())
        assert shards > 8
        proxy.hold_files = 8
        result = Client(proxy.url, cache_dir=tmp_path / "a").download("pets", "1.0.0")
        assert proxy.peak_files == 8
        assert result.downloaded_files == shards + 3  # + manifest, croissant, card
        proxy.peak_files, proxy.hold_files = 0, 3
        Client(proxy.url, cache_dir=tmp_path / "b", workers=3).download("pets", "1.0.0")
        assert proxy.peak_files == 3
