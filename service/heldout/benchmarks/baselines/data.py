"""Public data a baseline reads: the shards of a committed split, straight from the public store.

Only the public store is read here, so a baseline can see what any participant downloads and
nothing more (held-out splits hold ``id`` and inputs only).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from heldout.layout import shard_key
from heldout.repository import DatasetRepository


def read_public_split(repository: DatasetRepository, name: str, version: str,
                      split: str) -> pa.Table:
    """Every public shard of ``name@version`` ``split``, concatenated."""
    manifest = repository.manifest(name, version)
    tables = [
        pq.read_table(pa.BufferReader(
            repository.stores.public.get_bytes(shard_key(name, version, shard.path))))
        for shard in manifest.split_info(split).shards
    ]
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]
