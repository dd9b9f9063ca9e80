"""The server's commit checks uploaded media as a local publish does: media that does not
decode, is beyond the caps, or (held out) still carries metadata is refused, nothing committed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from heldout.config import Settings
from heldout.formats.writer import ShardWriter
from tests.api.conftest import (
    FEATURES,
    LABEL_COLUMNS,
    METADATA,
    Api,
    Built,
    build_version,
    make_api,
)
from tests.live import make_key
from tests.security.media import png_with_text
from tests.security.server_process import server_process
from tests.security.test_abuse_preview import png_bomb


@pytest.fixture(params=["local", "s3"])
def server(request: pytest.FixtureRequest, settings_for: Callable[..., Settings],
           tmp_path: Path) -> Iterator[Api]:
    yield from make_api(settings_for(request.param, tmp_path / "data", rate_limit_per_minute=0))


def _replace_image(built: Built, split: str, row: int, data: bytes) -> Built:
    """Rewrite ``split``'s shards with ``data`` as the image of row ``row``."""
    rows = built.rows[split]
    rows[row]["image"] = {"bytes": data, "path": f"{split}-{row}.png"}
    features = FEATURES if split == "train" else FEATURES.drop(LABEL_COLUMNS)
    for shard in [s for s in built.shards if s.path.startswith(f"data/{split}-")]:
        (built.folder / shard.path).unlink()
    with ShardWriter(built.folder, split, features, target_bytes=10**9,
                     media_rows_per_group=4) as writer:
        writer.write_rows([{k: v for k, v in r.items() if k in features} for r in rows])
        new = writer.close()
    built.shards = [s for s in built.shards if not s.path.startswith(f"data/{split}-")] + new
    return built


def _refused(api: Api, built: Built, *needles: str) -> Any:
    r = api.publish(built)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    for needle in needles:
        assert needle in detail, detail
    assert api.client.get("/api/v1/datasets/pets/versions/1.0.0").status_code == 404
    return r


def test_held_out_media_with_metadata_is_refused(server: Api, tmp_path: Path) -> None:
    built = _replace_image(build_version(tmp_path / "b"), "test", 2, png_with_text(7))
    _refused(server, built, "row 2 column 'image'", "no embedded metadata", "PNG tEXt")


def test_media_that_does_not_decode_is_refused(server: Api, tmp_path: Path) -> None:
    truncated = png_with_text(5)[:200]
    built = _replace_image(build_version(tmp_path / "b"), "train", 1, truncated)
    _refused(server, built, "row 1 column 'image'")


def test_decompression_bombs_are_refused_from_their_header(server: Api,
                                                           tmp_path: Path) -> None:
    built = _replace_image(build_version(tmp_path / "b"), "train", 0, png_bomb())
    _refused(server, built, "13000×13000 pixels is more than")


def _http_publish(url: str, key: str, built: Built) -> httpx.Response:
    """What ``Api.publish`` does, over real HTTP."""
    auth = {"Authorization": f"Bearer {key}"}
    r = httpx.post(f"{url}/api/v1/datasets/pets/versions", headers=auth, timeout=60, json={
        "version": "1.0.0", "features": FEATURES.to_hf(), "metadata": METADATA})
    assert r.status_code == 201, r.text
    base = f"{url}/api/v1/datasets/pets/versions/1.0.0/drafts/{r.json()['draft_id']}"
    uploaded = []
    for shard in built.shards:
        r = httpx.put(f"{base}/shards/{Path(shard.path).name}", headers=auth, timeout=60,
                      content=(built.folder / shard.path).read_bytes())
        assert r.status_code == 200, r.text
        uploaded.append(r.json())
    assert built.labels is not None
    r = httpx.put(f"{base}/labels/test", params={"label_columns": ",".join(LABEL_COLUMNS)},
                  content=built.labels.read_bytes(), headers=auth, timeout=60)
    assert r.status_code == 200, r.text
    return httpx.post(f"{base}/commit", headers=auth, timeout=120,
                      json={"shards": uploaded, "statistics": {}})


@pytest.mark.slow
def test_a_decompression_bomb_upload_costs_the_server_no_memory(
        settings_for: Callable[..., Settings], tmp_path: Path) -> None:
    settings = settings_for("local", tmp_path / "data")
    key = make_key(settings, "pub", "publisher")
    built = _replace_image(build_version(tmp_path / "b"), "train", 0, png_bomb())
    with server_process(settings) as server:
        baseline = server.peak_rss_mib()
        r = _http_publish(server.url, key, built)
        peak = server.peak_rss_mib()
    assert r.status_code == 422 and "13000×13000 pixels" in r.json()["detail"]
    print(f"bomb commit: peak RSS {baseline:.0f} MiB before, {peak:.0f} MiB after")
    assert peak - baseline < 120, (baseline, peak)  # decoding it would take 507 MB
