"""What a careless or hostile publisher uploads over HTTP: the server's commit checks held-out
shards against the manifest and reads untrusted Parquet with bounded memory."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from heldout.config import Settings
from heldout.formats.features import ClassLabel, Features, Image, Value
from heldout.services import build_services
from tests.helpers import png_bytes
from tests.live import free_port, make_key, running_api

FEATURES = Features({"id": Value("string"), "image": Image(),
                     "label": ClassLabel(["bird", "cat", "dog"])})
SHARD = "test-00000-of-00001.parquet"
PNG = png_bytes(1)  # a real image: the commit also checks media
METADATA = {"task": "image-classification", "license": "CC-BY-4.0", "modality": "image"}
RSS_BOUND_MB = 400
REPO_ROOT = Path(__file__).resolve().parents[2]


def parquet(**columns: Any) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    return buffer.getvalue()


def images(n: int, extra: dict[str, Any] | None = None) -> pa.Array:
    rows = [{"bytes": PNG, "path": f"{i}.png", **(extra or {})} for i in range(n)]
    return pa.array(rows)


def ids(n: int) -> pa.Array:
    return pa.array([f"{i:024x}" for i in range(n)])


class Publisher:
    """A publisher's raw HTTP calls to one server."""

    def __init__(self, url: str, key: str, name: str = "pets") -> None:
        self.client = httpx.Client(base_url=url + "/api/v1", timeout=120,
                                   headers={"Authorization": f"Bearer {key}"})
        self.name = name
        created = self.client.post(f"/datasets/{name}/versions",
                                   json={"version": "1.0.0", "features": FEATURES.to_hf(),
                                         "metadata": METADATA})
        assert created.status_code == 201, created.text
        self.base = f"/datasets/{name}/versions/1.0.0/drafts/{created.json()['draft_id']}"

    def shard(self, data: bytes, filename: str = SHARD) -> httpx.Response:
        return self.client.put(f"{self.base}/shards/{filename}", content=data)

    def labels(self, data: bytes, columns: str = "label") -> httpx.Response:
        return self.client.put(f"{self.base}/labels/test", content=data,
                               params={"label_columns": columns})

    def commit(self) -> httpx.Response:
        return self.client.post(f"{self.base}/commit", json={})


@pytest.fixture(params=["local", "s3"])
def server(request: pytest.FixtureRequest, settings_for: Callable[..., Settings],
           tmp_path: Path) -> Iterator[tuple[Settings, str, str]]:
    settings = settings_for(request.param, tmp_path / "server",
                            public_base_url=f"http://127.0.0.1:{free_port()}")
    with running_api(settings) as url:
        yield settings, url, make_key(settings, "pub", "publisher")


def assert_refused_and_gone(answer: httpx.Response, column: str, settings: Settings,
                            url: str) -> None:
    """A 422 problem naming ``column``; the draft is aborted and nothing of it is readable."""
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["column"] == column and repr(column) in problem["detail"]
    shard_url = f"{url}/api/v1/datasets/pets/versions/1.0.0/files/data/{SHARD}"
    assert httpx.get(shard_url).status_code == 404
    services = build_services(settings)
    try:
        assert list(services.stores.public.list("datasets/pets/")) == []
        assert list(services.stores.private.list("private/drafts/")) == []
        assert list(services.stores.private.list("private/labels/pets/")) == []
    finally:
        services.close()


def test_label_column_in_a_public_shard_is_refused(server: tuple[Settings, str, str]) -> None:
    settings, url, key = server
    publisher = Publisher(url, key)
    assert publisher.shard(parquet(id=ids(5), image=images(5), label=pa.array([0] * 5))
                           ).status_code == 200  # not yet known to be held out
    answer = publisher.labels(parquet(id=ids(5), label=pa.array([0, 1, 2, 0, 1])))
    assert_refused_and_gone(answer, "label", settings, url)


def test_label_column_after_the_labels_is_refused(server: tuple[Settings, str, str]) -> None:
    settings, url, key = server
    publisher = Publisher(url, key)
    assert publisher.labels(parquet(id=ids(5), label=pa.array([0] * 5))).status_code == 200
    answer = publisher.shard(parquet(id=ids(5), image=images(5), label=pa.array([0] * 5)))
    assert_refused_and_gone(answer, "label", settings, url)


@pytest.mark.parametrize("case", ["extra column", "label inside a struct", "input in labels"])
def test_anything_but_id_and_inputs_is_refused(server: tuple[Settings, str, str],
                                               case: str) -> None:
    settings, url, key = server
    publisher = Publisher(url, key)
    if case == "input in labels":
        publisher.shard(parquet(id=ids(5), image=images(5)))
        answer = publisher.labels(parquet(id=ids(5), label=pa.array([0] * 5), image=images(5)))
        column = "image"
    else:
        publisher.labels(parquet(id=ids(5), label=pa.array([0] * 5)))
        if case == "extra column":
            shard = parquet(id=ids(5), image=images(5), source=pa.array(["dog/1.png"] * 5))
            column = "source"
        else:
            shard = parquet(id=ids(5), image=images(5, {"label": "dog"}))
            column = "image"
        answer = publisher.shard(shard)
    assert_refused_and_gone(answer, column, settings, url)


# --- untrusted Parquet: the id-dictionary bomb -----------------------------------------------
def id_bomb(rows: int = 2000, length: int = 1024 * 1024) -> pa.Array:
    """``rows`` ids that are all the same ``length``-byte string, dictionary-encoded: a few
    hundred bytes in Parquet, ``rows × length`` bytes once decoded."""
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int32)),
                                          pa.array(["a" * length]))


def bomb_file(**columns: Any) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer, compression="zstd", write_statistics=False,
                   dictionary_pagesize_limit=4 * 1024 * 1024)
    return buffer.getvalue()


SERVER_SCRIPT = """
import json, sys
import uvicorn
from pathlib import Path
from tests.s3server import make_settings
from heldout.api.app import create_app
args = json.loads(sys.argv[1])
settings = make_settings("local", Path(args["root"]), public_base_url=args["url"])
uvicorn.run(create_app(settings), host="127.0.0.1", port=args["port"], log_level="warning")
"""


def peak_rss_mb(pid: int) -> float:
    """The peak resident set size (VmHWM) of process ``pid``, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


@pytest.mark.slow
def test_id_dictionary_bomb_is_refused_within_a_memory_bound(tmp_path: Path) -> None:
    """The upload from the review (2,000 dictionary-encoded 1 MiB ids in well under 2 KB,
    once as the labels file, once as a public shard) is refused with a 4xx while the server
    process stays under RSS_BOUND_MB of peak memory (it reached 4.7 GB before)."""
    from tests.s3server import make_settings

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = make_settings("local", tmp_path / "server", public_base_url=url)
    key = make_key(settings, "pub", "publisher")  # also creates the database
    args = json.dumps({"root": str(tmp_path / "server"), "url": url, "port": port})
    process = subprocess.Popen([sys.executable, "-c", SERVER_SCRIPT, args], cwd=REPO_ROOT,
                               env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        bomb = bomb_file(id=id_bomb(), label=pa.array(np.zeros(2000, np.int64)))
        assert len(bomb) < 2000
        first = Publisher(url, key)
        assert first.shard(parquet(id=ids(2000), image=images(2000))).status_code == 200
        assert first.labels(bomb).status_code == 200
        labels_answer = first.commit()
        first.client.delete(first.base)
        second = Publisher(url, key)
        second.labels(parquet(id=ids(2000), label=pa.array(np.zeros(2000, np.int64))))
        assert second.shard(bomb_file(id=id_bomb(), image=images(2000))).status_code == 200
        shard_answer = second.commit()
        peak = peak_rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(30)
    for answer in (labels_answer, shard_answer):
        assert answer.status_code == 422, answer.text
        assert "ids are at most 256 bytes" in answer.json()["detail"]
    print(f"\n[memory] id-dictionary bomb: server peak RSS {peak:.0f} MB "
          f"(bound {RSS_BOUND_MB} MB)")
    assert peak < RSS_BOUND_MB


def test_ready_made_ids_and_order_are_redrawn(server: tuple[Settings, str, str]) -> None:
    """A publisher uploading their own held-out shards in class order with recomputable ids
    (sha1 of the source name) gets fresh random ids and a fresh order at commit."""
    import hashlib

    settings, url, key = server
    names = [f"test/{cls}/img_{i:03d}.png" for cls in ("bird", "cat", "dog") for i in range(40)]
    source_ids = pa.array([hashlib.sha1(n.encode()).hexdigest()[:16] for n in names])
    classes = pa.array([k // 40 for k in range(len(names))], pa.int64())
    publisher = Publisher(url, key)
    assert publisher.shard(parquet(id=source_ids, image=images(len(names)))).status_code == 200
    assert publisher.labels(parquet(id=source_ids, label=classes)).status_code == 200
    committed = publisher.commit()
    assert committed.status_code == 200, committed.text
    services = build_services(settings)
    try:
        manifest = services.repository.manifest("pets", "1.0.0")
        public: list[str] = []
        for shard in manifest.splits["test"].shards:
            data = services.stores.public.get_bytes(f"datasets/pets/1.0.0/{shard.path}")
            public.extend(pq.read_table(io.BytesIO(data)).column("id").to_pylist())
        report = services.repository.report("pets", "1.0.0")
    finally:
        services.close()
    assert not set(public) & set(source_ids.to_pylist())
    assert len(public) == len(names) and all(len(i) == 24 for i in public)
    assert report["held_out_ids"]["test"] == dict(zip(
        source_ids.to_pylist(), [report["held_out_ids"]["test"][s] for s in
                                 source_ids.to_pylist()], strict=True))
    truth = {report["held_out_ids"]["test"][s]: c for s, c in
             zip(source_ids.to_pylist(), classes.to_pylist(), strict=True)}
    by_position = sum(truth[i] == k // 40 for k, i in enumerate(public)) / len(public)
    assert by_position <= 1 / 3 + 3 * (2 / 9 / len(public)) ** 0.5
