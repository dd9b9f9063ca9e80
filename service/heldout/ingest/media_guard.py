"""The server's check of uploaded media, as strict as a local publish: every media cell of
every uploaded shard decodes, is within the size caps, and (in a held-out split) carries no
embedded metadata. Anything else is refused, naming the shard, row and column.

Memory stays bounded whatever the file says: the footer is read first, a row group whose
media column chunks are larger than MAX_ROW_GROUP_BYTES is refused unread, and the rest are
read one row group (media columns only) at a time.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Iterator
from typing import Any

import pyarrow.parquet as pq
import soundfile as sf
from PIL import Image as PILImage

from heldout import layout
from heldout.errors import InvalidInput
from heldout.formats.features import Audio, Features, Image
from heldout.ingest.media import InvalidMedia, inspect_audio, inspect_image
from heldout.ingest.scrub import ScrubError, scrub
from heldout.parquet_footer import read_footer
from heldout.storage.base import ObjectStore
from heldout.storage.rangefile import RangeFile

MAX_MEDIA_BYTES = 64 * 1024 * 1024  # one cell
MAX_ROW_GROUP_BYTES = 512 * 1024 * 1024  # the media column chunks of one row group
MAX_IMAGE_PIXELS = 89_478_485  # Pillow's decompression-bomb threshold
MAX_SAMPLE_RATE = 768_000
MAX_CHANNELS = 64
MAX_PROBLEMS = 10


def _check_header(kind: str, data: bytes) -> None:
    """Caps read from the header, before anything is decoded."""
    if kind == "image":
        try:
            with warnings.catch_warnings():  # the size is checked just below
                warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
                with PILImage.open(io.BytesIO(data)) as image:
                    width, height = image.size
        except (OSError, ValueError, SyntaxError, PILImage.DecompressionBombError) as exc:
            raise InvalidMedia(f"not a readable image: {exc}") from None
        if width * height > MAX_IMAGE_PIXELS:
            raise InvalidMedia(f"{width}×{height} pixels is more than {MAX_IMAGE_PIXELS}")
        return
    try:
        info = sf.info(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise InvalidMedia(f"not an audio file soundfile can read: {exc}") from None
    if info.samplerate > MAX_SAMPLE_RATE or info.channels > MAX_CHANNELS:
        raise InvalidMedia(f"{info.channels} channels at {info.samplerate} Hz is beyond the caps "
                           f"({MAX_CHANNELS} channels, {MAX_SAMPLE_RATE} Hz)")


def check_cell(kind: str, data: bytes, held_out: bool) -> None:
    """InvalidMedia unless one media file is within the caps, decodes, and (held out) is
    free of embedded metadata."""
    if len(data) > MAX_MEDIA_BYTES:
        raise InvalidMedia(f"{len(data)} bytes is more than {MAX_MEDIA_BYTES}")
    _check_header(kind, data)
    digest = hashlib.sha256(data).hexdigest()
    if kind == "image":
        inspect_image(data, digest, want_phash=False)
    else:
        inspect_audio(data, digest)
    if held_out:
        try:
            left = scrub(data, "all").removed
        except ScrubError as exc:
            raise InvalidMedia(str(exc)) from None
        if left:
            raise InvalidMedia("a held-out file must carry no embedded metadata; it has "
                               + ", ".join(left))


def _row_groups(store: ObjectStore, key: str, size: int,
                columns: list[str]) -> Iterator[tuple[int, Any]]:
    """(first row, table of ``columns``) per row group, after checking its size."""
    metadata = read_footer(store, key, size)
    names = [metadata.schema.column(i).path.split(".")[0] for i in range(metadata.num_columns)]
    columns = [c for c in columns if c in names]
    parquet = pq.ParquetFile(RangeFile(store, key, size), metadata=metadata)
    first = 0
    for index in range(metadata.num_row_groups):
        group = metadata.row_group(index)
        chunk = sum(group.column(i).total_uncompressed_size
                    for i, name in enumerate(names) if name in columns)
        if chunk > MAX_ROW_GROUP_BYTES:
            raise InvalidInput(f"{key}: row group {index} holds {chunk} bytes of media; at most "
                               f"{MAX_ROW_GROUP_BYTES} per row group")
        yield first, parquet.read_row_group(index, columns=columns)
        first += group.num_rows


def check_shard_media(store: ObjectStore, key: str, size: int, features: Features,
                      held_out: bool) -> list[str]:
    """Problems (at most MAX_PROBLEMS) with the media cells of one uploaded shard."""
    kinds = {c: "image" if isinstance(f, Image) else "audio"
             for c, f in features.items() if isinstance(f, Image | Audio)}
    problems: list[str] = []
    if not kinds:
        return problems
    for first, table in _row_groups(store, key, size, list(kinds)):
        for column, kind in kinds.items():
            if column not in table.column_names:
                continue
            for offset, cell in enumerate(table.column(column).to_pylist()):
                data = (cell or {}).get("bytes")
                if data is None:
                    continue
                try:
                    check_cell(kind, bytes(data), held_out)
                except InvalidMedia as exc:
                    problems.append(f"{key.rsplit('/', 1)[-1]} row {first + offset} "
                                    f"column {column!r}: {exc}")
                    if len(problems) >= MAX_PROBLEMS:
                        return problems
    return problems


def check_draft_media(store: ObjectStore, name: str, version: str, features: Features,
                      splits: dict[str, Any], held_out: set[str]) -> None:
    """InvalidInput listing the bad media cells of a draft's uploaded shards (if any)."""
    problems: list[str] = []
    for split, info in splits.items():
        for shard in info.shards:
            key = layout.shard_key(name, version, shard.path)
            problems += check_shard_media(store, key, shard.num_bytes, features,
                                          split in held_out)
            if len(problems) >= MAX_PROBLEMS:
                break
    if problems:
        raise InvalidInput("uploaded media refused (nothing was committed):\n  "
                           + "\n  ".join(problems[:MAX_PROBLEMS]), problems=problems)
