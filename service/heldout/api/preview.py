"""A page of rows from a split's public shards, and small previews of their media.

Only the row groups covering the page are read, over ranged GETs; only the split's *public*
columns are read (never a held-out label column, which the public shards of a held-out split
do not have anyway), and nothing under ``private/`` is ever touched.
"""

from __future__ import annotations

import io
import math
import threading
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import soundfile
from PIL import Image as PILImage

from heldout import layout
from heldout.errors import InvalidInput, NotFound, ObjectNotFound, ServiceBusy
from heldout.formats.features import Audio, Features, Image
from heldout.formats.manifest import Manifest, ShardInfo
from heldout.parquet_footer import read_footer
from heldout.storage.base import ObjectStore, Stores
from heldout.storage.rangefile import RangeFile

MAX_PAGE = 100
THUMBNAIL_PX = 128
CLIP_SECONDS = 5.0
# Preview bombs: a tiny file can claim a huge decode. Refused before decoding beyond these.
MAX_SOURCE_BYTES = 64 * 1024 * 1024  # one media cell
MAX_CELL_CHUNK_BYTES = 256 * 1024 * 1024  # the column chunk a cell is read from
MAX_DECODE_PIXELS = 16_000_000  # after JPEG draft scaling: 64 MB of RGBA at most
MAX_SOURCE_RATE = 768_000
MAX_SOURCE_CHANNELS = 64
MAX_CLIP_RATE = 48_000  # clips: ≤ 2 channels at ≤ 48 kHz, ≤ 5 s → ≤ 960 KB of WAV
CLIP_BLOCK = 16_384


@dataclass(frozen=True)
class _Slice:
    shard: ShardInfo
    start: int  # first row inside the shard
    stop: int  # one past the last row inside the shard
    global_start: int


def _slices(manifest: Manifest, split: str, offset: int, length: int) -> list[_Slice]:
    out, seen = [], 0
    end = offset + length
    for shard in manifest.split_info(split).shards:
        lo, hi = seen, seen + shard.num_rows
        if hi > offset and lo < end:
            start, stop = max(offset, lo) - lo, min(end, hi) - lo
            out.append(_Slice(shard, start, stop, lo + start))
        seen = hi
    return out


def _read_slice(store: ObjectStore, manifest: Manifest, piece: _Slice,
                columns: list[str], max_bytes: int | None = None) -> pa.Table:
    """Rows ``[start, stop)`` of one shard, reading only the row groups that hold them (and,
    with ``max_bytes``, refusing column chunks whose footer says they are larger)."""
    key = layout.shard_key(manifest.name, manifest.version, piece.shard.path)
    metadata = read_footer(store, key, piece.shard.num_bytes)
    parquet = pq.ParquetFile(RangeFile(store, key, piece.shard.num_bytes), metadata=metadata)
    present = [c for c in columns if c in parquet.schema_arrow.names]
    groups, first_row, cursor = [], None, 0
    for index in range(metadata.num_row_groups):
        rows = metadata.row_group(index).num_rows
        if cursor + rows > piece.start and cursor < piece.stop:
            groups.append(index)
            if first_row is None:
                first_row = cursor
        cursor += rows
    if max_bytes is not None:
        _check_chunk_sizes(metadata, groups, present, max_bytes)
    if not groups or first_row is None:
        return pa.table({c: pa.array([], type=parquet.schema_arrow.field(c).type)
                         for c in present})
    table = parquet.read_row_groups(groups, columns=present)
    return table.slice(piece.start - first_row, piece.stop - piece.start)


def _check_chunk_sizes(metadata: pq.FileMetaData, groups: list[int], columns: list[str],
                       max_bytes: int) -> None:
    names = [metadata.schema.column(i).path.split(".")[0]
             for i in range(metadata.num_columns)]
    for group in groups:
        row_group = metadata.row_group(group)
        size = sum(row_group.column(i).total_uncompressed_size
                   for i, name in enumerate(names) if name in columns)
        if size > max_bytes:
            raise InvalidInput(f"the row group holding this cell is {size} bytes; previews "
                               f"read at most {max_bytes}")


def public_columns(manifest: Manifest, split: str) -> Features:
    """The columns a split exposes: its features without any held-out label column."""
    return manifest.public_features_obj(split)


def read_rows(store: ObjectStore, manifest: Manifest, split: str, offset: int, length: int,
              preview_base: str) -> dict[str, Any]:
    """The JSON page: public features, rows (media as preview URLs), totals."""
    if not 0 < length <= MAX_PAGE:
        raise InvalidInput(f"length must be between 1 and {MAX_PAGE}, got {length}")
    info = manifest.split_info(split)
    if offset < 0:
        raise InvalidInput(f"offset must be ≥ 0, got {offset}")
    features = public_columns(manifest, split)
    columns = list(features)
    rows: list[dict[str, Any]] = []
    for piece in _slices(manifest, split, offset, length):
        table = _read_slice(store, manifest, piece, columns)
        for i, row in enumerate(table.to_pylist()):
            index = piece.global_start + i
            rows.append({
                column: _cell(features[column], row.get(column),
                              f"{preview_base}/{split}/{index}/{column}")
                for column in columns
            })
    return {
        "name": manifest.name,
        "version": manifest.version,
        "split": split,
        "features": features.to_hf(),
        "rows": rows,
        "num_rows_total": info.num_rows,
        "offset": offset,
        "length": len(rows),
    }


def _cell(feature: Any, value: Any, preview_url: str) -> Any:
    if isinstance(feature, Image | Audio):
        if not isinstance(value, dict) or value.get("bytes") is None:
            return None
        return {"preview_url": preview_url, "path": value.get("path"),
                "num_bytes": len(value["bytes"])}
    return _jsonable(value)


def _jsonable(value: Any) -> Any:
    """Python values from Arrow → JSON-safe ones (bytes summarised, NaN → null)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def read_cell(store: ObjectStore, manifest: Manifest, split: str, row_index: int,
              column: str) -> tuple[Any, Any]:
    """(feature, value) of one public media cell; NotFound for anything else."""
    features = public_columns(manifest, split)
    feature = features.get(column)
    if not isinstance(feature, Image | Audio):
        media = [c for c, f in features.items() if isinstance(f, Image | Audio)]
        raise NotFound(f"split {split!r} of {manifest.name}@{manifest.version} has no media "
                       f"column {column!r}; media columns are {media}")
    total = manifest.split_info(split).num_rows
    if not 0 <= row_index < total:
        raise NotFound(f"row {row_index} is outside split {split!r} (rows 0..{total - 1})")
    (piece,) = _slices(manifest, split, row_index, 1)
    table = _read_slice(store, manifest, piece, [column], MAX_CELL_CHUNK_BYTES)
    return feature, table.column(column)[0].as_py()


def make_preview(feature: Any, value: Any, where: str) -> tuple[bytes, str]:
    """A PNG thumbnail (≤ 128 px) of an image, or the first 5 s of a clip as WAV."""
    if not isinstance(value, dict) or value.get("bytes") is None:
        raise NotFound(f"{where} holds no media bytes")
    data = bytes(value["bytes"])
    if len(data) > MAX_SOURCE_BYTES:
        raise InvalidInput(f"{where} is {len(data)} bytes; previews are made of files up to "
                           f"{MAX_SOURCE_BYTES} bytes")
    if isinstance(feature, Image):
        return _thumbnail(data, where), "image/png"
    return _clip(data, where), "audio/wav"


def _thumbnail(data: bytes, where: str) -> bytes:
    """Size read from the header first; JPEGs decoded at reduced scale (``draft``); images
    that would still decode to more than MAX_DECODE_PIXELS are refused, not decoded."""
    try:
        with PILImage.open(io.BytesIO(data)) as opened:
            opened.draft("RGB", (THUMBNAIL_PX, THUMBNAIL_PX))  # JPEG: DCT scaling, no-op else
            width, height = opened.size
            if width * height > MAX_DECODE_PIXELS:
                raise InvalidInput(
                    f"{where}: a {width}×{height} image is too large to preview (at most "
                    f"{MAX_DECODE_PIXELS} pixels decoded)")
            opened.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
            image: PILImage.Image = opened
            if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
                image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
            out = io.BytesIO()
            image.save(out, format="PNG")
    except (OSError, ValueError, SyntaxError, EOFError, PILImage.DecompressionBombError) as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput(f"{where}: cannot decode the image: {exc}") from None
    return out.getvalue()


def _clip(data: bytes, where: str) -> bytes:
    """At most CLIP_SECONDS, decoded block by block, mixed down to ≤ 2 channels and decimated
    to ≤ MAX_CLIP_RATE: the clip is small whatever the header claims."""
    try:
        with soundfile.SoundFile(io.BytesIO(data)) as audio:
            rate, channels = audio.samplerate, audio.channels
            if rate > MAX_SOURCE_RATE or channels > MAX_SOURCE_CHANNELS:
                raise InvalidInput(
                    f"{where}: {channels} channels at {rate} Hz cannot be previewed (at most "
                    f"{MAX_SOURCE_CHANNELS} channels, {MAX_SOURCE_RATE} Hz)")
            step = max(1, math.ceil(rate / MAX_CLIP_RATE))
            wanted = min(audio.frames, int(CLIP_SECONDS * rate)) // step * step
            parts = [_reduce(block, step) for block in audio.blocks(
                blocksize=CLIP_BLOCK * step, frames=wanted, dtype="float32", always_2d=True)]
        samples = np.concatenate(parts) if parts else np.zeros((0, 1), dtype=np.float32)
        out = io.BytesIO()
        soundfile.write(out, samples, max(1, round(rate / step)), format="WAV", subtype="PCM_16")
    except (RuntimeError, soundfile.LibsndfileError, ValueError) as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput(f"{where}: cannot decode the audio: {exc}") from None
    return out.getvalue()


def _reduce(block: np.ndarray, step: int) -> np.ndarray:
    """Mix more than two channels down to mono; average every ``step`` frames."""
    if block.shape[1] > 2:
        block = block.mean(axis=1, keepdims=True)
    usable = len(block) // step * step
    if step > 1:
        block = block[:usable].reshape(-1, step, block.shape[1]).mean(axis=1)
    return block.astype(np.float32, copy=False)


def preview_bytes(stores: Stores, manifest: Manifest, split: str, row_index: int, column: str,
                  slots: threading.Semaphore) -> tuple[bytes, str]:
    """The cached preview of one media cell, made (within ``slots``) and stored if missing."""
    features = public_columns(manifest, split)
    feature = features.get(column)
    if not isinstance(feature, Image | Audio):
        read_cell(stores.public, manifest, split, row_index, column)  # raises NotFound
    extension, media_type = ("png", "image/png") if isinstance(feature, Image) \
        else ("wav", "audio/wav")
    total = manifest.split_info(split).num_rows
    if not 0 <= row_index < total:
        raise NotFound(f"row {row_index} is outside split {split!r} (rows 0..{total - 1})")
    key = layout.preview_key(manifest.name, manifest.version, split, row_index,
                             list(features).index(column), extension)
    try:
        return stores.private.get_bytes(key), media_type
    except ObjectNotFound:
        pass
    if not slots.acquire(blocking=False):
        raise ServiceBusy("every preview slot is busy making a preview; retry in a second",
                          retry_after=1)
    try:
        where = f"{manifest.name}@{manifest.version} {split}[{row_index}].{column}"
        cell_feature, value = read_cell(stores.public, manifest, split, row_index, column)
        data, media_type = make_preview(cell_feature, value, where)
    finally:
        slots.release()
    stores.private.put(key, data, content_type=media_type)
    return data, media_type
