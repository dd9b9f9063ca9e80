"""File listing and streaming (Range, ETag), row pages and media previews."""

from __future__ import annotations

import hashlib
import io

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import soundfile
from PIL import Image as PILImage

from tests.api.conftest import Api, Built
from tests.live import serving

BASE = "/api/v1/datasets/pets/versions/1.0.0"


def test_files_listing_has_urls_checksums_and_metadata_files(api: Api, published: Built) -> None:
    listing = api.client.get(f"{BASE}/files").json()
    assert listing["name"] == "pets" and listing["version"] == "1.0.0"
    assert listing["expires_in"] == api.settings.presign_expiry_seconds
    paths = [f["path"] for f in listing["files"]]
    assert paths[:3] == ["manifest.json", "croissant.json", "README.md"]
    manifest = api.client.get(BASE).json()
    assert sorted(paths[3:]) == sorted(
        s["path"] for split in manifest["splits"].values() for s in split["shards"])
    # public splits as uploaded; the held-out split resealed by the server (new ids, order)
    assert {s.path for s in published.shards if "/train-" in s.path} <= set(paths)
    for item in listing["files"]:
        url = item["url"]
        if api.settings.storage_backend == "s3":
            assert "X-Amz-Signature=" in url
            data = httpx.get(url).content
        else:
            assert url == f"{api.settings.public_base_url}{BASE}/files/{item['path']}"
            data = api.client.get(url.removeprefix(api.settings.public_base_url)).content
        assert hashlib.sha256(data).hexdigest() == item["sha256"]
        assert len(data) == item["num_bytes"]
    only_test = api.client.get(f"{BASE}/files", params={"split": "test"}).json()["files"]
    assert {f["split"] for f in only_test} == {None, "test"}
    missing = api.client.get(f"{BASE}/files", params={"split": "valid"})
    assert missing.status_code == 404 and "train" in missing.json()["detail"]


def test_streamed_file_supports_range_etag_and_416(api: Api, published: Built) -> None:
    shard = published.shards[0]
    data = (published.folder / shard.path).read_bytes()
    url = f"{BASE}/files/{shard.path}"
    full = api.client.get(url)
    assert full.status_code == 200 and full.content == data
    assert full.headers["etag"] == f'"{shard.sha256}"'
    assert full.headers["accept-ranges"] == "bytes"
    part = api.client.get(url, headers={"Range": "bytes=10-99"})
    assert part.status_code == 206 and part.content == data[10:100]
    assert part.headers["content-range"] == f"bytes 10-99/{len(data)}"
    tail = api.client.get(url, headers={"Range": "bytes=-16"})
    assert tail.status_code == 206 and tail.content == data[-16:]
    rest = api.client.get(url, headers={"Range": f"bytes={len(data) - 5}-"})
    assert rest.content == data[-5:]
    beyond = api.client.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(data)}"
    stale = api.client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert stale.status_code == 200 and stale.content == data
    assert api.client.get(url, headers={"If-None-Match": full.headers["etag"]}
                          ).status_code == 304
    head = api.client.head(url)
    assert head.status_code == 200 and head.headers["content-length"] == str(len(data))


def test_resume_over_real_http(local_api: Api, built: Built) -> None:
    """Through uvicorn: a download cut short continues with Range and ends identical."""
    assert local_api.publish(built).status_code == 200
    shard = built.shards[0]
    data = (built.folder / shard.path).read_bytes()
    with serving(local_api.client.app, lifespan="off") as url:
        url = f"{url}{BASE}/files/{shard.path}"
        got = b""
        with httpx.stream("GET", url) as response:
            for chunk in response.iter_bytes(1000):
                got += chunk
                break  # the connection "drops" after the first chunk
        rest = httpx.get(url, headers={"Range": f"bytes={len(got)}-"})
    assert rest.status_code == 206
    assert got + rest.content == data


def test_rows_page_reads_across_shards_with_media_previews(api: Api, published: Built) -> None:
    expected = published.rows["train"]
    page = api.client.get(f"{BASE}/rows", params={"split": "train", "offset": 3, "length": 15})
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["num_rows_total"] == len(expected) and body["offset"] == 3
    assert body["length"] == 15 and len(body["rows"]) == 15
    assert set(body["features"]) == {"id", "image", "clip", "caption", "label"}
    for i, row in enumerate(body["rows"], start=3):
        assert row["id"] == expected[i]["id"]
        assert row["caption"] == expected[i]["caption"]
        assert row["label"] == expected[i]["label"]
        assert row["image"]["preview_url"].endswith(f"{BASE}/preview/train/{i}/image")
    # the last page is short
    last = api.client.get(f"{BASE}/rows", params={"split": "train", "offset": 20,
                                                  "length": 100}).json()
    assert [r["id"] for r in last["rows"]] == [r["id"] for r in expected[20:]]
    assert api.client.get(f"{BASE}/rows", params={"length": 101}).status_code == 422

    image_url = body["rows"][0]["image"]["preview_url"]
    thumb = api.client.get(image_url.removeprefix(api.settings.public_base_url))
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/png"
    with PILImage.open(io.BytesIO(thumb.content)) as image:
        original = PILImage.open(io.BytesIO(expected[3]["image"]["bytes"]))
        assert image.size == original.size  # small images are not enlarged
        assert max(image.size) <= 128
    clip_url = body["rows"][0]["clip"]["preview_url"]
    clip = api.client.get(clip_url.removeprefix(api.settings.public_base_url))
    assert clip.status_code == 200 and clip.headers["content-type"] == "audio/wav"
    samples, rate = soundfile.read(io.BytesIO(clip.content))
    original_samples, _ = soundfile.read(io.BytesIO(expected[3]["clip"]["bytes"]))
    assert rate == 8000 and len(samples) == len(original_samples)
    label = api.client.get(f"{BASE}/preview/train/3/caption")
    assert label.status_code == 404 and "media" in label.json()["detail"]
    outside = api.client.get(f"{BASE}/preview/train/999/image")
    assert outside.status_code == 404


def test_large_image_thumbnail_and_long_clip_are_cut(local_api: Api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from heldout.formats.writer import ShardWriter
    from tests.api.conftest import FEATURES, METADATA, wav_bytes

    big = io.BytesIO()
    PILImage.fromarray(np.zeros((300, 500, 3), dtype=np.uint8)).save(big, format="PNG")
    row = {"id": "a", "image": {"bytes": big.getvalue(), "path": "a.png"},
           "clip": {"bytes": wav_bytes(1, seconds=12.0), "path": "a.wav"},
           "caption": "x", "label": 0}
    with ShardWriter(tmp_path, "train", FEATURES) as writer:
        writer.write_row(row)
        (shard,) = writer.close()
    c, auth = local_api.client, local_api.auth("pub")
    draft = c.post("/api/v1/datasets/big/versions", json={
        "version": "1.0.0", "features": FEATURES.to_hf(), "metadata": METADATA}, headers=auth)
    base = f"/api/v1/datasets/big/versions/1.0.0/drafts/{draft.json()['draft_id']}"
    assert c.put(f"{base}/shards/train-00000-of-00001.parquet",
                 content=(tmp_path / shard.path).read_bytes(), headers=auth).status_code == 200
    assert c.post(f"{base}/commit", json={}, headers=auth).status_code == 200
    thumb = c.get("/api/v1/datasets/big/versions/1.0.0/preview/train/0/image")
    with PILImage.open(io.BytesIO(thumb.content)) as image:
        assert image.size == (128, 77)
    clip = c.get("/api/v1/datasets/big/versions/1.0.0/preview/train/0/clip")
    samples, rate = soundfile.read(io.BytesIO(clip.content))
    assert len(samples) == 5 * rate


def test_manifest_and_card_are_the_stored_ones(api: Api, published: Built) -> None:
    stored = api.services.stores.public.get_bytes("datasets/pets/1.0.0/manifest.json")
    assert api.client.get(BASE).content == stored
    card = api.client.get(f"{BASE}/files/README.md")
    assert card.headers["content-type"].startswith("text/markdown")
    test_shard = api.client.get(BASE).json()["splits"]["test"]["shards"][-1]["path"]
    table = pq.read_table(pa.BufferReader(api.client.get(f"{BASE}/files/{test_shard}").content))
    assert "caption" not in table.column_names  # the held-out split's public shard
