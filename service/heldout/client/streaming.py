"""Streaming: iterate a split's rows over HTTP without downloading it first.

Each shard is read row group by row group with ranged GETs, in file order, so every byte is
hashed once as it arrives; when a shard's last byte is in, its sha256 is compared with the
manifest and a mismatch raises :class:`~heldout.errors.IntegrityError` (after that shard's
rows, like a download that fails its check at the end). Only the footer and the row group
being read are held in memory; nothing is written to disk, so a dataset larger than the disk
or the cache can be read. With Hugging Face ``datasets`` installed the rows come as a stock
``datasets.IterableDataset`` typed with the manifest's features.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq

from heldout.client.audio import warn_undecoded_audio
from heldout.errors import IntegrityError, InvalidInput
from heldout.formats.manifest import Manifest

if TYPE_CHECKING:
    from heldout.client.http import Client

TAIL_BYTES = 64 * 1024  # the footer (and a little more) is fetched once, up front
CHUNK_BYTES = 4 * 1024 * 1024  # read-ahead: the least one forward ranged GET asks for


@dataclass
class StreamStats:
    """What a stream did: bytes fetched, the most it held at once, shards verified."""

    fetched_bytes: int = 0
    peak_buffered_bytes: int = 0
    verified_shards: list[str] = field(default_factory=list)


class RemoteShard(io.RawIOBase):
    """A read-only, seekable file over one shard's URL, for ``pyarrow.parquet.ParquetFile``.

    Bytes are fetched forward, in order, into a window that :meth:`release` trims after each
    row group; every byte fetched that way goes through sha256 once.
    """

    def __init__(self, client: Client, url: str, size: int, sha256: str, path: str,
                 stats: StreamStats, readahead: int = CHUNK_BYTES) -> None:
        super().__init__()
        self.readahead = readahead
        self.client, self.url, self.size = client, url, size
        self.expected, self.path, self.stats = sha256, path, stats
        self._pos = 0
        self._hasher = hashlib.sha256()
        self._hashed = 0  # bytes [0, _hashed) went through the hash
        self._window_start = 0  # the window holds bytes [_window_start, _hashed)
        self._window = bytearray()
        self._tail_start = max(0, size - TAIL_BYTES)
        self._tail = self._get(self._tail_start, size)

    # -- io.RawIOBase --------------------------------------------------------------------
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        end = self.size if size is None or size < 0 else min(self.size, self._pos + size)
        data = self._bytes(self._pos, end) if end > self._pos else b""
        self._pos = end
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    # -- fetching ------------------------------------------------------------------------
    def _get(self, start: int, end: int) -> bytes:
        """Bytes [start, end) with one ranged GET (the token only goes to the server)."""
        with self.client.stream("GET", self.url, headers={"Range": f"bytes={start}-{end - 1}"},
                                what=f"streaming {self.path}") as response:
            data = response.read()
        if response.status_code == 200 and (start, end) != (0, self.size):
            data = data[start:end]  # a server that ignores Range sends it all
        if len(data) != end - start:
            raise IntegrityError(f"{self.path}: asked for {end - start} bytes at {start}, "
                                 f"got {len(data)}")
        self.stats.fetched_bytes += len(data)
        return data

    def _advance(self, end: int) -> None:
        """Hash (and keep in the window) every byte up to ``end``, in order."""
        while self._hashed < end:
            stop = min(max(end, self._hashed + self.readahead), self.size)
            if self._hashed >= self._tail_start:
                data = self._tail[self._hashed - self._tail_start: stop - self._tail_start]
            else:
                stop = min(stop, self._tail_start)
                data = self._get(self._hashed, stop)
            self._hasher.update(data)
            self._window += data
            self._hashed = stop
        buffered = len(self._window) + len(self._tail)
        self.stats.peak_buffered_bytes = max(self.stats.peak_buffered_bytes, buffered)

    def _bytes(self, start: int, end: int) -> bytes:
        if start >= self._tail_start:
            return self._tail[start - self._tail_start: end - self._tail_start]
        if end > self._hashed:
            self._advance(end)
        if start >= self._window_start:
            offset = start - self._window_start
            return bytes(self._window[offset: offset + end - start])
        return self._get(start, end)  # behind the window (rare): fetched again, not hashed

    def release(self, upto: int) -> None:
        """Forget window bytes before ``upto`` (the row groups already read)."""
        drop = min(max(0, upto - self._window_start), len(self._window))
        del self._window[:drop]
        self._window_start += drop

    def finish(self) -> None:
        """Hash the rest of the file and compare with the manifest's sha256."""
        self._advance(self.size)
        self.release(self.size)
        digest = self._hasher.hexdigest()
        if digest != self.expected:
            raise IntegrityError(f"{self.path}: sha256 {digest} does not match the manifest's "
                                 f"{self.expected}: the streamed rows of this shard are suspect")
        self.stats.verified_shards.append(self.path)


def _row_group_end(metadata: pq.FileMetaData, index: int) -> int:
    """The byte offset where row group ``index``'s column chunks end."""
    group = metadata.row_group(index)
    ends = []
    for c in range(group.num_columns):
        column = group.column(c)
        starts = [o for o in (column.dictionary_page_offset, column.data_page_offset)
                  if o is not None and o > 0]
        ends.append(min(starts) + column.total_compressed_size)
    return max(ends)


def iter_shard_rows(shard: RemoteShard, batch_rows: int = 0) -> Iterator[dict[str, Any]]:
    """Rows of one shard, a row group at a time; verified once the shard is done."""
    parquet = pq.ParquetFile(shard, pre_buffer=False)
    for index in range(parquet.num_row_groups):
        yield from parquet.read_row_group(index).to_pylist()
        shard.release(_row_group_end(parquet.metadata, index))
    shard.finish()


@dataclass
class StreamedSplit:
    """An iterable over one split's rows, as plain dicts (media as ``{"bytes", "path"}``).

    Each iteration opens its own connection and asks for fresh file URLs (presigned ones
    expire), so it can be iterated again, e.g. once per epoch.
    """

    client_type: type[Client]  # a new client (connection pool) for each pass
    url: str
    token: str | None
    manifest: Manifest
    split: str
    stats: StreamStats = field(default_factory=StreamStats)
    readahead_bytes: int = CHUNK_BYTES  # memory ≈ one row group + this + the footer

    def __iter__(self) -> Iterator[dict[str, Any]]:
        name, version = self.manifest.name, self.manifest.version
        with self.client_type(self.url, self.token) as client:
            listing = client.files(name, version, self.split)
            for entry in listing["files"]:
                if entry.get("split") != self.split:
                    continue
                shard = RemoteShard(client, client.absolute(entry["url"]),
                                    int(entry["num_bytes"]), str(entry["sha256"]),
                                    entry["path"], self.stats, self.readahead_bytes)
                yield from iter_shard_rows(shard)

    @property
    def num_rows(self) -> int:
        return self.manifest.splits[self.split].num_rows


def open_stream(client: Client, name: str, split: str, version: str = "latest"
                ) -> StreamedSplit:
    """A :class:`StreamedSplit` of ``name@version``'s ``split`` on ``client``'s server
    (only the manifest is fetched now)."""
    manifest = client.manifest(name, version)
    if split not in manifest.splits:
        raise InvalidInput(f"{name}@{manifest.version} has no split {split!r} (splits: "
                           f"{', '.join(manifest.splits)})")
    return StreamedSplit(type(client), client.url, client.token, manifest, split)


def stream_split(client: Client, name: str, split: str | None, version: str = "latest", *,
                 decode: bool = True, plain: bool = False) -> Any:
    """``split`` of ``name@version`` as a stream (see ``load_dataset(streaming=True)``)."""
    if split is None:
        raise InvalidInput("streaming reads one split: pass split=, e.g. split='train'")
    stream = open_stream(client, name, split, version)
    if plain or importlib.util.find_spec("datasets") is None:
        return stream
    return hf_iterable(stream, decode)


def hf_iterable(stream: StreamedSplit, decode: bool = True) -> Any:
    """The stream as a stock ``datasets.IterableDataset`` typed with the manifest's features
    (Audio stays undecoded bytes unless torchcodec is installed)."""
    datasets = importlib.import_module("datasets")
    features = datasets.Features.from_dict(stream.manifest.public_features(stream.split))
    can_decode_audio = importlib.util.find_spec("torchcodec") is not None
    for column, feature in features.items():
        if isinstance(feature, datasets.Audio) and (not decode or not can_decode_audio):
            if decode:
                warn_undecoded_audio(column)
            features[column] = datasets.Audio(sampling_rate=feature.sampling_rate, decode=False)
        elif isinstance(feature, datasets.Image) and not decode:
            features[column] = datasets.Image(decode=False)
    return datasets.IterableDataset.from_generator(_generate, features=features,
                                                   gen_kwargs={"stream": stream})


def _generate(stream: StreamedSplit) -> Iterator[dict[str, Any]]:
    yield from stream
