"""``load_dataset``: a downloaded version as a memory-mapped Hugging Face ``Dataset``.

Each verified Parquet shard is converted once into an Arrow IPC stream file under
``{version}/.heldout/arrow/`` (named by the shard's sha256, written to a temp name and renamed)
— the format ``datasets`` memory-maps. The conversion runs in the download threads as soon as
a shard is verified, so it overlaps the remaining transfers; nothing is copied into the
Hugging Face cache. Features come from the manifest, so Image, Audio and ClassLabel columns
are typed as published.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from heldout.client.audio import warn_undecoded_audio
from heldout.client.download import STATE_DIR, Download, download_version
from heldout.layout import is_shard_path

if TYPE_CHECKING:
    from heldout.client.http import Client

# ``datasets`` objects are typed Any: mypy run from the repo root resolves ``datasets`` to the
# repo's datasets/ recipes folder. Loaded = Dataset | DatasetDict | pa.Table | dict[str, Table].
HFDataset = Any
Loaded = Any


def _hf() -> Any:
    """The Hugging Face ``datasets`` module (imported on first use: it is slow to import)."""
    return importlib.import_module("datasets")



def arrow_path(folder: Path, sha256: str) -> Path:
    """Where the Arrow copy of the shard with this sha256 lives."""
    return folder / STATE_DIR / "arrow" / f"{sha256[:32]}.arrow"


def convert_shard(parquet: Path, target: Path) -> Path:
    """Write ``parquet`` as an Arrow IPC stream at ``target`` (atomically); return ``target``."""
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        source = pq.ParquetFile(parquet, memory_map=True)
        with pa.OSFile(str(temp), "wb") as sink, \
                pa.ipc.new_stream(sink, source.schema_arrow) as writer:
            for index in range(source.num_row_groups):  # one row group in memory at a time
                writer.write_table(source.read_row_group(index))
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return target


def _shard_tables(download: Download, split: str) -> list[pa.Table]:
    """Memory-mapped Arrow tables of ``split``'s shards (converted on first use)."""
    tables = []
    for shard in download.manifest._split(split).shards:
        path = convert_shard(download.path / shard.path, arrow_path(download.path, shard.sha256))
        # The map stays open as long as the table's buffers use it (as in ``datasets``).
        tables.append(pa.ipc.open_stream(pa.memory_map(str(path))).read_all())
    return tables


def read_arrow(download: Download, split: str) -> pa.Table:
    """The whole split as one memory-mapped ``pyarrow.Table`` (no copy of the data)."""
    tables = _shard_tables(download, split)
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def hf_features(download: Download, split: str, decode: bool = True) -> Any:
    """``datasets.Features`` of ``split``'s public columns, from the manifest.

    Audio columns stay undecoded unless torchcodec (which ``datasets`` needs to decode audio)
    is installed; decode them with :func:`heldout.client.audio.decode_audio`.
    """
    datasets = _hf()
    features = datasets.Features.from_dict(download.manifest.public_features(split))
    can_decode_audio = importlib.util.find_spec("torchcodec") is not None
    for name, feature in features.items():
        if isinstance(feature, datasets.Audio) and (not decode or not can_decode_audio):
            if decode:
                warn_undecoded_audio(name)
            features[name] = datasets.Audio(sampling_rate=feature.sampling_rate, decode=False)
        elif isinstance(feature, datasets.Image) and not decode:
            features[name] = datasets.Image(decode=False)
    return features


def read_parquet(download: Download, split: str) -> pa.Table:
    """The whole split read from its Parquet shards into memory (no Arrow copy on disk)."""
    tables = [pq.read_table(p, memory_map=True) for p in download.shard_paths(split)]
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def hf_dataset(download: Download, split: str, decode: bool = True,
               keep_in_memory: bool = False) -> HFDataset:
    """``split`` as a ``datasets.Dataset``: memory-mapped, or in memory with ``keep_in_memory``."""
    datasets = _hf()
    table_module = importlib.import_module("datasets.table")
    shards = download.manifest._split(split).shards
    if keep_in_memory:
        table = table_module.InMemoryTable(read_parquet(download, split))
    else:
        parts = [
            table_module.MemoryMappedTable.from_file(
                str(convert_shard(download.path / s.path, arrow_path(download.path, s.sha256))))
            for s in shards
        ]
        table = (parts[0] if len(parts) == 1
                 else table_module.ConcatenationTable.from_tables(parts))
    manifest = download.manifest
    info = datasets.DatasetInfo(
        description=manifest.description,
        citation=manifest.citation or "",
        license=manifest.license,
        features=hf_features(download, split, decode),
        dataset_name=manifest.name,
        version=manifest.version,
    )
    fingerprint = hashlib.sha256(
        ("heldout:" + ",".join(s.sha256 for s in shards) + f":{decode}").encode()
    ).hexdigest()[:16]
    return datasets.Dataset(table, info=info, split=datasets.NamedSplit(split),
                            fingerprint=fingerprint)


class _Converter:
    """Converts shards to Arrow in one background thread while the others still download.

    One thread, not one per download: conversions running side by side with every download
    compete for the same cores and memory bandwidth and were measured slower.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="heldout-arrow")
        self._futures: list[Future[Path]] = []

    def __call__(self, folder: Path, rel: str, sha256: str | None) -> None:
        if sha256 is not None and is_shard_path(rel):
            self._futures.append(
                self._pool.submit(convert_shard, folder / rel, arrow_path(folder, sha256)))

    def finish(self) -> None:
        """Wait for every conversion; re-raise the first failure."""
        self._pool.shutdown(wait=True)
        for future in self._futures:
            future.result()


def load_from_client(
    client: Client,
    name: str,
    split: str | None = None,
    version: str = "latest",
    *,
    cache_dir: str | Path | None = None,
    decode: bool = True,
    as_arrow: bool = False,
    keep_in_memory: bool = False,
) -> Loaded:
    """Download (or reuse) ``name@version`` with ``client`` and open it; see ``load_dataset``."""
    converter = None if keep_in_memory else _Converter()
    try:
        download = download_version(client, name, version, split=split,
                                    cache_dir=cache_dir or client.cache_dir, on_file=converter)
    finally:
        if converter is not None:
            converter.finish()
    if as_arrow or not decode:
        read = read_parquet if keep_in_memory else read_arrow
        if split is not None:
            return read(download, split)
        return {s: read(download, s) for s in download.splits}
    if split is not None:
        return hf_dataset(download, split, decode, keep_in_memory)
    return _hf().DatasetDict({s: hf_dataset(download, s, decode, keep_in_memory)
                              for s in download.splits})
