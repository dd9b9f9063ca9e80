"""``heldout.load_dataset(..., streaming=True)`` against a live server: row groups over ranged
GETs, every shard's sha256 checked as it completes, nothing cached."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import heldout
from heldout.client.streaming import StreamedSplit
from heldout.config import Settings
from heldout.errors import IntegrityError
from heldout.services import build_services
from tests.helpers import image_features, image_rows, metadata, png_bytes
from tests.live import free_port, running_api

ROWS = 450  # several row groups (~100 media rows each) in several shards


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Settings, str]]:
    settings = Settings(data_dir=tmp_path / "server", environment="test",
                        shard_target_bytes=400_000,
                        public_base_url=f"http://127.0.0.1:{free_port()}")
    services = build_services(settings)
    draft = services.repository.create_draft("big", "1.0.0", features=image_features(),
                                             metadata=metadata())
    draft.write_split("train", [{**row, "image": {"bytes": png_bytes(i, 48),
                                                   "path": row["image"]["path"]}}
                                for i, row in enumerate(image_rows("train", ROWS))])
    draft.commit()
    services.close()
    with running_api(settings) as url:
        yield settings, url


def test_stream_equals_the_download_and_caches_nothing(server: tuple[Settings, str],
                                                       tmp_path: Path) -> None:
    _, url = server
    cache = tmp_path / "cache"
    downloaded = heldout.load_dataset("big", split="train", url=url, as_arrow=True,
                                      cache_dir=tmp_path / "downloaded").to_pylist()
    stream = heldout.load_dataset("big", split="train", url=url, streaming=True,
                                  as_arrow=True, cache_dir=cache)
    assert isinstance(stream, StreamedSplit)
    stream.readahead_bytes = 32 * 1024
    rows = list(stream)
    assert rows == downloaded and len(rows) == ROWS
    split = stream.manifest.splits["train"]
    assert len(split.shards) > 1 and len(stream.stats.verified_shards) == len(split.shards)
    assert stream.stats.peak_buffered_bytes < split.num_bytes / 2  # bounded: row groups only
    assert not cache.exists() or not any(cache.rglob("*"))
    assert list(stream)[:3] == downloaded[:3]  # iterable again (an epoch)


def test_stream_as_a_stock_iterable_dataset(server: tuple[Settings, str]) -> None:
    import datasets

    _, url = server
    iterable = heldout.load_dataset("big", split="train", url=url, streaming=True)
    assert isinstance(iterable, datasets.IterableDataset)
    assert iterable.features["label"].names == ["cat", "dog", "fox"]
    first = next(iter(iterable))
    assert first["id"] == "train-0000" and first["image"].size == (48, 48)


def test_a_corrupt_shard_fails_its_check(server: tuple[Settings, str]) -> None:
    settings, url = server
    shard = sorted((settings.data_dir / "store").rglob("train-00000-of-*.parquet"))[0]
    data = bytearray(shard.read_bytes())
    data[len(data) // 3] ^= 0xFF  # inside the (uncompressed) image bytes
    shard.write_bytes(bytes(data))
    stream = heldout.load_dataset("big", split="train", url=url, streaming=True,
                                  as_arrow=True)
    with pytest.raises(IntegrityError, match="train-00000-of-"):
        list(stream)
