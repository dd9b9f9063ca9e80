"""Preview bombs, played anonymously against a real ``heldout serve``: a 13000×13000 PNG and a
33 KB FLAC at 655,350 Hz × 8 channels are refused or shrunk without the server's memory
growing; previews are cached in the store; a saturated preview pool answers 503."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from heldout.api.app import create_app
from heldout.config import Settings
from heldout.formats.features import Audio, ClassLabel, Features, Image, Value
from heldout.repository import DatasetMetadata, DatasetRepository
from heldout.services import build_stores
from tests.security.media import png_with_text
from tests.security.server_process import server_process

BOMB_SIDE = 13_000
# What a bomb may add to the server's peak resident set: decoding the PNG would take
# 13000² × 3 = 507 MB; the server must not come near that.
RSS_GROWTH_BOUND_MIB = 120
PREVIEW = "/api/v1/datasets/bombs/versions/1.0.0/preview/train/{row}/{column}"


def png_bomb(side: int = BOMB_SIDE) -> bytes:
    """A valid RGB PNG of ``side``² black pixels, compressed to a few hundred KB."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))

    compressor, parts = zlib.compressobj(9), []
    row = bytes(1 + 3 * side)
    for _ in range(side):
        parts.append(compressor.compress(row))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(parts))
            + chunk(b"IEND", b""))


def flac_bomb() -> bytes:
    """Six seconds of 8-channel silence at 655,350 Hz: about 33 KB of FLAC."""
    out = io.BytesIO()
    sf.write(out, np.zeros((655_350 * 6, 8), dtype="float32"), 655_350, format="FLAC",
             subtype="PCM_16")
    return out.getvalue()


def plant(settings: Settings) -> None:
    """Commit ``bombs@1.0.0`` straight into the store (as an operator publish could)."""
    features = Features({"id": Value("string"), "image": Image(),
                         "audio": Audio(sampling_rate=16000), "label": ClassLabel(["a", "b"])})
    small = io.BytesIO()
    sf.write(small, np.zeros(16000, dtype="float32"), 16000, format="WAV")
    rows = [
        {"id": "bomb", "image": {"bytes": png_bomb(), "path": "bomb.png"},
         "audio": {"bytes": flac_bomb(), "path": "bomb.flac"}, "label": 0},
        {"id": "fine", "image": {"bytes": png_with_text(3), "path": "fine.png"},
         "audio": {"bytes": small.getvalue(), "path": "fine.wav"}, "label": 1},
    ]
    repo = DatasetRepository(build_stores(settings))
    draft = repo.create_draft("bombs", "1.0.0", features=features, metadata=DatasetMetadata(
        license="CC-BY-4.0", task="image-classification"))
    draft.write_split("train", rows)
    draft.commit(statistics={})


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["local", "s3"])
def test_preview_bombs_are_refused_or_shrunk_within_a_memory_bound(
        settings_for: Callable[..., Settings], tmp_path: Path, backend: str) -> None:
    settings = settings_for(backend, tmp_path / "data")
    plant(settings)
    with server_process(settings) as server:
        fine = httpx.get(server.url + PREVIEW.format(row=1, column="image"), timeout=60)
        assert fine.status_code == 200 and fine.headers["content-type"] == "image/png"
        clip = httpx.get(server.url + PREVIEW.format(row=1, column="audio"), timeout=60)
        assert clip.status_code == 200
        baseline = server.peak_rss_mib()
        image = httpx.get(server.url + PREVIEW.format(row=0, column="image"), timeout=60)
        assert image.status_code == 422, image.text
        assert "13000×13000" in image.json()["detail"]
        assert "too large to preview" in image.json()["detail"]
        audio = httpx.get(server.url + PREVIEW.format(row=0, column="audio"), timeout=60)
        assert audio.status_code == 200, audio.text
        peak = server.peak_rss_mib()
    assert len(audio.content) < 1024 * 1024  # was 52 MB
    samples, rate = sf.read(io.BytesIO(audio.content))
    assert rate <= 48_000 and (samples.ndim == 1 or samples.shape[1] <= 2)
    assert len(samples) <= 5 * rate
    print(f"preview bombs ({backend}): peak RSS {baseline:.0f} MiB before, {peak:.0f} after")
    assert peak - baseline < RSS_GROWTH_BOUND_MIB, (baseline, peak)


def test_previews_are_cached_in_the_store_and_bounded_in_number(
        settings_for: Callable[..., Settings], tmp_path: Path) -> None:
    settings = settings_for("local", tmp_path / "data", preview_concurrency=1)
    plant(settings)
    app = create_app(settings)
    prefix = "private/previews/bombs/1.0.0/train/"
    with TestClient(app) as client:
        stores = app.state.services.stores
        assert list(stores.private.list(prefix)) == []
        first = client.get(PREVIEW.format(row=1, column="image"))
        assert first.status_code == 200
        (cached,) = stores.private.list(prefix)  # cached, privately
        assert cached.key.startswith(prefix + "1-") and cached.key.endswith(".png")
        assert stores.private.get_bytes(cached.key) == first.content
        assert not any("previews" in o.key for o in stores.public.list(""))
        assert client.get("/api/v1/datasets/bombs/versions/1.0.0/files").status_code == 200
        app.state.preview_slots.acquire()  # every slot busy making a preview
        try:
            assert client.get(PREVIEW.format(row=1, column="image")).content == first.content
            busy = client.get(PREVIEW.format(row=1, column="audio"))  # not cached: needs a slot
        finally:
            app.state.preview_slots.release()
        assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
        assert busy.json()["type"].endswith("/busy")
        assert client.get(PREVIEW.format(row=1, column="audio")).status_code == 200
