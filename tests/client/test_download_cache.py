"""Where the download cache lives, and when a cached version is reused without a request: only
when every asked-for split is there and verified (a damaged cache is checked with the server and
repaired, after which it is reused offline again)."""

from __future__ import annotations

from pathlib import Path

import pytest

from heldout.client import Client
from heldout.client.download import default_cache_dir
from tests.client.faultproxy import FaultProxy


def test_the_cache_folder_follows_heldout_then_xdg_then_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HELDOUT_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "heldout"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "heldout"
    monkeypatch.setenv("HELDOUT_CACHE_DIR", "~/mine")
    assert default_cache_dir() == tmp_path / "home" / "mine"
    monkeypatch.setenv("XDG_CACHE_HOME", "")
    monkeypatch.setenv("HELDOUT_CACHE_DIR", "")
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "heldout"


def requests_for(proxy: FaultProxy, call: object) -> int:
    seen = len(proxy.requests)
    assert callable(call)
    call()
    return len(proxy.requests) - seen


def test_a_cached_split_is_reused_offline_and_another_split_is_fetched(
    proxy: FaultProxy, tmp_path: Path
) -> None:
    client = Client(proxy.url, cache_dir=tmp_path)
    client.download("pets", "1.0.0", split="train")
    assert requests_for(proxy, lambda: client.download("pets", "1.0.0", split="train")) == 0
    assert requests_for(proxy, lambda: client.download("pets", "1.0.0", split="test")) > 0
    assert requests_for(proxy, lambda: client.download("pets", "1.0.0")) == 0


@pytest.mark.parametrize("damage", ["manifest marker", "manifest", "shard gone",
                                    "shard corrupted"])
def test_a_damaged_cache_is_not_reused(proxy: FaultProxy, tmp_path: Path, damage: str) -> None:
    client = Client(proxy.url, cache_dir=tmp_path)
    first = client.download("pets", "1.0.0", split="train")
    verified = first.path / ".heldout" / "verified"
    marker = verified / "manifest.json.json"
    shard = first.manifest.splits["train"].shards[0]
    if damage == "manifest marker":
        marker.unlink()
    elif damage == "manifest":
        (first.path / "manifest.json").unlink()
    elif damage == "shard gone":
        (first.path / shard.path).unlink()
    else:
        data = bytearray((first.path / shard.path).read_bytes())
        data[len(data) // 2] ^= 0xFF
        (first.path / shard.path).write_bytes(bytes(data))
    results = []
    assert requests_for(proxy, lambda: results.append(
        client.download("pets", "1.0.0", split="train"))) > 0  # checked with the server
    assert results[0].manifest == first.manifest
    assert requests_for(proxy, lambda: client.download("pets", "1.0.0", split="train")) == 0
