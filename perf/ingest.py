"""Ingest speed: Heldout publish vs stock Hugging Face ``datasets``, measured in one run.

Generates N (default 3000) 256×256 JPEGs in 10 class folders, then times:

- **heldout**: ``FolderSource`` + ``publish_source`` into a local store, which reads, sha256-hashes,
  decodes (Pillow) and perceptual-hashes every image, checks duplicates/leakage, writes Parquet
  shards and commits the version (manifest, croissant, card).
- **datasets (as specified)**: ``Dataset.from_dict`` → ``cast_column("image", Image())`` →
  ``to_parquet``. Note: this writes the *paths* only, not the image bytes, so its Parquet file
  is not usable on another machine.
- **datasets + embed**: the same with the bytes embedded (``embed_table_storage``, what
  ``push_to_hub`` does), i.e. a self-contained file like Heldout's.

Files are read once before timing so every contestant sees a warm page cache.
Run: ``python perf/ingest.py [--n 3000] [--workers N]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")

import numpy as np
from PIL import Image


def make_images(root: Path, n: int, seed: int = 0) -> list[Path]:
    """N distinct 256×256 JPEGs (smooth random colour fields) under root/train/c{k}/."""
    rng = np.random.default_rng(seed)
    files = []
    for i in range(n):
        small = (rng.random((16, 16, 3)) * 255).astype(np.uint8)
        path = root / "train" / f"c{i % 10}" / f"{i:06d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(small).resize((256, 256), Image.Resampling.BICUBIC).save(path, quality=90)
        files.append(path)
    return files


def run_heldout(root: Path, out: Path, workers: int | None) -> float:
    from heldout.ingest import PublishOptions, publish_source
    from heldout.ingest.sources import FolderSource
    from heldout.repository import DatasetMetadata, DatasetRepository
    from heldout.storage.base import Stores
    from heldout.storage.local import LocalStore

    repo = DatasetRepository(Stores(LocalStore(out / "public", "public"),
                                    LocalStore(out / "private", "private")))
    start = time.perf_counter()
    result = publish_source(
        repo, FolderSource(root, "image"), "perf", "1.0.0",
        DatasetMetadata(title="perf", license="CC0-1.0", task="image-classification"),
        PublishOptions(workers=workers),
    )
    elapsed = time.perf_counter() - start
    assert result.manifest.total_rows == sum(1 for _ in root.rglob("*.jpg"))
    return elapsed


def run_datasets(files: list[Path], out: Path, embed: bool) -> float:
    import datasets
    from datasets.table import embed_table_storage

    start = time.perf_counter()
    ds = datasets.Dataset.from_dict({"image": [str(f) for f in files],
                                     "label": [int(f.parent.name[1:]) for f in files]})
    ds = ds.cast_column("image", datasets.Image())
    if embed:
        ds = ds.with_format("arrow").map(embed_table_storage, batched=True).with_format(None)
    ds.to_parquet(str(out / ("embedded.parquet" if embed else "paths.parquet")))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="number of images")
    parser.add_argument("--workers", type=int, default=None, help="Heldout worker processes")
    args = parser.parse_args()
    import datasets  # noqa: F401 - imported before timing: its import takes seconds

    with tempfile.TemporaryDirectory(prefix="heldout-perf-") as tmp:
        root = Path(tmp) / "images"
        files = make_images(root, args.n)
        size = sum(f.stat().st_size for f in files)
        for f in files:  # warm the page cache for everyone
            f.read_bytes()
        print(f"{args.n} JPEGs 256x256, {size / 1e6:.1f} MB, {os.cpu_count()} cores")
        times = {
            "heldout": run_heldout(root, Path(tmp) / "heldout", args.workers),
            "datasets (as specified, paths only)": run_datasets(files, Path(tmp), embed=False),
            "datasets + embedded bytes": run_datasets(files, Path(tmp), embed=True),
        }
        for name, seconds in times.items():
            print(f"{name:<38} {args.n / seconds:9.0f} images/s  ({seconds:.2f} s)")
        for name in list(times)[1:]:
            print(f"ratio heldout / {name}: {times[name] / times['heldout']:.2f}x")


if __name__ == "__main__":
    main()
