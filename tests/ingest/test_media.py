"""File checks: decoding, reasons for bad files, the perceptual hash."""

from __future__ import annotations

import io

import imagehash
import numpy as np
import pytest
from PIL import Image

from heldout.ingest.media import check_media, phash
from tests.ingest.conftest import audio_bytes, image_bytes


@pytest.mark.parametrize("seed", range(8))
def test_phash_equals_imagehash(seed: int) -> None:
    rng = np.random.default_rng(seed)
    image = Image.fromarray((rng.random((20 + seed, 33, 3)) * 255).astype(np.uint8))
    assert phash(image) == int(str(imagehash.phash(image)), 16)


def test_valid_image_and_audio_are_described() -> None:
    png = image_bytes(1, size=(12, 10))
    checked = check_media("image", None, png, True)
    assert checked.reason is None and checked.data == png
    assert checked.info is not None
    assert (checked.info.format, checked.info.width, checked.info.height) == ("PNG", 12, 10)
    assert checked.info.phash is not None
    flac = audio_bytes(2, seconds=0.5, fmt="FLAC")
    info = check_media("audio", None, flac, False).info
    assert info is not None
    assert (info.format, info.sample_rate, info.channels, info.frames) == ("FLAC", 16000, 1, 8000)
    assert info.duration == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("kind", "data", "reason"),
    [
        ("image", b"", "empty file (0 bytes)"),
        ("image", b"just some text\n", "not an image"),
        ("image", image_bytes(3, size=(64, 64))[:200], "truncated"),
        ("image", image_bytes(3, size=(256, 256), fmt="JPEG")[:2000], "truncated"),
        ("audio", b"", "empty file (0 bytes)"),
        ("audio", b"not audio at all", "not an audio file"),
    ],
)
def test_bad_files_get_a_reason(kind: str, data: bytes, reason: str) -> None:
    checked = check_media(kind, None, data, True)  # type: ignore[arg-type]
    assert checked.info is None and checked.data is None
    assert checked.reason is not None and reason in checked.reason


def test_unreadable_path_is_reported(tmp_path: object) -> None:
    checked = check_media("image", "/nonexistent/heldout/x.png", None, True)
    assert checked.reason is not None and checked.reason.startswith("unreadable")


def test_jpeg_draft_hash_is_close_to_full_hash() -> None:
    data = image_bytes(4, size=(64, 64), fmt="JPEG")
    checked = check_media("image", None, data, True)
    assert checked.info is not None and checked.info.phash is not None
    full = int(str(imagehash.phash(Image.open(io.BytesIO(data)))), 16)
    assert bin(full ^ checked.info.phash).count("1") <= 12
