"""Held-out media come out of a publish with no embedded metadata, and decode to exactly the
same pixels and samples; location is removed from public splits unless kept."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from heldout.formats.manifest import Manifest
from heldout.ingest.pipeline import PublishOptions, publish_source
from heldout.ingest.scrub import scrub
from heldout.ingest.sources import FolderSource
from heldout.repository import DatasetMetadata, DatasetRepository
from heldout.storage.base import Stores
from tests.security import media

PNG_METADATA = (b"tEXt", b"zTXt", b"iTXt", b"tIME", b"eXIf")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _cells(repo: DatasetRepository, manifest: Manifest, split: str, column: str) -> list[bytes]:
    out = []
    for shard in manifest.splits[split].shards:
        key = f"datasets/{manifest.name}/{manifest.version}/{shard.path}"
        table = pq.read_table(pa.BufferReader(repo.stores.public.get_bytes(key)))
        out += [cell["bytes"] for cell in table.column(column).to_pylist()]
    return out


def _fingerprint(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _image_folder(root: Path) -> dict[str, set[str]]:
    """test/ and train/ with a tagged PNG and a GPS JPEG per class; decoded fingerprints."""
    decoded: dict[str, set[str]] = {"train": set(), "test": set()}
    for s, split in enumerate(("train", "test")):
        for c, cls in enumerate(("cat", "dog")):
            seed = 10 * s + c
            for name, data in ((f"IMG_{seed}.png", media.png_with_text(seed)),
                               (f"IMG_{seed}.jpg", media.jpeg_with_gps(seed))):
                _write(root / split / cls / name, data)
                decoded[split].add(_fingerprint(media.decoded(data)))
    return decoded


@pytest.mark.parametrize("keep", [False, True])
def test_held_out_images_lose_every_metadata_and_public_ones_their_location(
        stores: Stores, tmp_path: Path, keep: bool) -> None:
    repo = DatasetRepository(stores)
    decoded = _image_folder(tmp_path / "src")
    result = publish_source(repo, FolderSource(tmp_path / "src", "image"), "pets", "1.0.0",
                            DatasetMetadata(license="CC-BY-4.0", task="image-classification"),
                            PublishOptions(held_out=["test"], keep_metadata=keep, workers=1))
    for split in ("train", "test"):
        cells = _cells(repo, result.manifest, split, "image")
        assert {_fingerprint(media.decoded(c)) for c in cells} == decoded[split]  # same pixels
        for cell in cells:
            with Image.open(io.BytesIO(cell)) as image:
                exif = image.getexif()
                gps = dict(exif.get_ifd(0x8825))
                if split == "test":
                    assert media.SECRET.encode() not in cell
                    assert not any(kind in cell for kind in PNG_METADATA)
                    assert len(exif) == 0 and "comment" not in image.info
                    assert b"\xff\xfe" not in cell[:cell.find(b"\xff\xda")]  # no COM
                elif image.format == "JPEG":
                    assert exif[0x010F] == "CatCam"  # public: only location goes
                    assert (gps == {k: v for k, v in media.GPS.items()}) if keep else gps == {}
                else:
                    assert media.SECRET.encode() in cell


@pytest.mark.parametrize("fmt", ["WAV", "FLAC", "OGG", "MP3"])
def test_held_out_audio_loses_its_tags_and_keeps_its_samples(local_stores: Stores,
                                                              tmp_path: Path, fmt: str) -> None:
    make = media.mp3_with_id3 if fmt == "MP3" else (lambda seed: media.tagged_audio(seed, fmt))
    try:
        files = {(split, cls): make(10 * s + c) for s, split in enumerate(("train", "test"))
                 for c, cls in enumerate(("cat", "dog"))}
    except Exception as exc:  # pragma: no cover - libsndfile built without MP3
        pytest.skip(f"libsndfile cannot write {fmt} here: {exc}")
    suffix = "." + fmt.lower()
    for (split, cls), data in files.items():
        assert media.SECRET.encode() in data
        _write(tmp_path / "src" / split / cls / f"REC_{cls}{suffix}", data)
    repo = DatasetRepository(local_stores)
    result = publish_source(repo, FolderSource(tmp_path / "src", "audio"), "calls", "1.0.0",
                            DatasetMetadata(license="CC-BY-4.0", task="audio-classification"),
                            PublishOptions(held_out=["test"], workers=1))
    cells = _cells(repo, result.manifest, "test", "audio")
    assert len(cells) == 2
    expected = {_fingerprint(media.samples(files[("test", c)])) for c in ("cat", "dog")}
    assert {_fingerprint(media.samples(c)) for c in cells} == expected
    for cell in cells:
        assert media.SECRET.encode() not in cell
        assert b"LIST" not in cell and b"ID3" not in cell[:3] and b"TAG" not in cell[-128:-125]


def test_formats_that_cannot_be_scrubbed_losslessly_are_refused_when_held_out() -> None:
    out = io.BytesIO()
    Image.fromarray(media.pixels(1)).save(out, "GIF", comment=b"class: cat")
    gif = out.getvalue()
    with pytest.raises(ValueError, match="convert held-out images to PNG"):
        scrub(gif, "all")
    assert scrub(gif, "location").data == gif
    assert scrub(b"\x00\x01 not media", "location").data == b"\x00\x01 not media"
