"""Download throughput: ``heldout.load_dataset`` vs stock ``datasets`` over s3fs vs raw minio GETs.

One run, one S3 server (SeaweedFS from tests/s3server.py, or HELDOUT_TEST_S3_ENDPOINT as
``host:port,access_key,secret_key``), one dataset of random-bytes "images" in 64 MB shards
published through the repository, one API process (uvicorn, S3 backend). Each contender
starts cold (fresh cache folder) and ends with a loaded ``datasets.Dataset`` (raw: bytes in
memory, the practical ceiling). Prints MB/s, rows/s and the ratios the issue sets as goals
(heldout ≥ 0.8× raw, ≥ 2× stock). Also times a warm second call (markers) and the same
with every file re-hashed, which is why the client keeps ``.verified`` markers.

    .venv/bin/python perf/download.py [--mb 400] [--rounds 2] [--workers 8]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.live import free_port  # noqa: E402
from tests.s3server import S3Endpoint, S3Server, endpoint_from_env, make_settings  # noqa: E402

from heldout.config import Settings  # noqa: E402
from heldout.formats.features import ClassLabel, Features, Image, Value  # noqa: E402
from heldout.repository import DatasetMetadata  # noqa: E402
from heldout.services import build_services, build_stores  # noqa: E402
from heldout.storage.factory import ensure_buckets  # noqa: E402

NAME, VERSION, SPLIT = "perf-images", "1.0.0", "train"
ROW_BYTES = 100_000


@contextmanager
def s3_server() -> Iterator[S3Endpoint]:
    configured = endpoint_from_env()
    if configured is not None:
        yield configured
        return
    server = S3Server.start()
    try:
        yield server.endpoint
    finally:
        server.stop()


def publish(settings: Settings, total_mb: int) -> tuple[int, int]:
    """Publish NAME@VERSION with ``total_mb`` of random image bytes; returns (rows, bytes)."""
    services = build_services(settings)
    try:
        features = Features({"id": Value("string"), "image": Image(),
                             "label": ClassLabel(["a", "b", "c", "d"])})
        draft = services.repository.create_draft(
            NAME, VERSION, features=features,
            metadata=DatasetMetadata(title="perf", license="CC0-1.0",
                                     task="image-classification", modality="image"),
        )
        rows = total_mb * 1_000_000 // ROW_BYTES
        rng = np.random.default_rng(0)
        pool = rng.bytes(ROW_BYTES * 2)

        def generate() -> Iterator[dict[str, Any]]:
            for i in range(rows):
                start = (i * 7919) % ROW_BYTES
                yield {"id": f"{i:07d}", "label": "abcd"[i % 4],
                       "image": {"bytes": pool[start:start + ROW_BYTES - 4]
                                 + i.to_bytes(4, "little"), "path": f"{i}.jpg"}}

        info = draft.write_split(SPLIT, generate())
        draft.commit()
        return info.num_rows, info.num_bytes
    finally:
        services.close()


@contextmanager
def api_process(settings: Settings) -> Iterator[str]:
    """The API (``create_app(settings)`` under uvicorn) in its own process, on the port of
    ``settings.public_base_url``."""
    port = int(settings.public_base_url.rsplit(":", 1)[1])
    env = {**os.environ, **settings_env(settings)}
    code = (
        "import uvicorn; from heldout.config import Settings; "
        "from heldout.api.app import create_app; "
        f"uvicorn.run(create_app(Settings()), host='127.0.0.1', port={port}, "
        "log_level='warning')"
    )
    process = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the API exited with {process.returncode}")
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the API did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def settings_env(settings: Settings) -> dict[str, str]:
    values = settings.model_dump()
    env = {}
    for key, value in values.items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"HELDOUT_{key.upper()}"] = str(value)
    return env


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=400, help="dataset size in MB")
    parser.add_argument("--rounds", type=int, default=2, help="cold runs per contender (best)")
    parser.add_argument("--workers", type=int, default=8, help="parallel GETs (all contenders)")
    args = parser.parse_args()

    import datasets
    from minio import Minio

    import heldout
    from heldout.client.download import download_version

    datasets.disable_progress_bars()
    work = Path(tempfile.mkdtemp(prefix="heldout-perf-"))
    try:
        with s3_server() as endpoint:
            settings = make_settings("s3", work / "data", endpoint,
                                     shard_target_bytes=64 * 1024**2,
                                     public_base_url=f"http://127.0.0.1:{free_port()}")
            ensure_buckets(build_stores(settings))
            t, (rows, size) = timed(lambda: publish(settings, args.mb))
            mb = size / 1e6
            print(f"published {NAME}@{VERSION}: {rows} rows, {mb:.0f} MB in "
                  f"{-(-size // (64 * 1024**2))} shards ({t:.1f} s)")
            minio = Minio(endpoint.endpoint, access_key=endpoint.access_key,
                          secret_key=endpoint.secret_key, secure=endpoint.secure,
                          region=endpoint.region)
            bucket = settings.public_bucket
            prefix = f"datasets/{NAME}/{VERSION}/data/"
            keys = [o.object_name for o in minio.list_objects(bucket, prefix, recursive=True)]

            def raw(verify: bool = False) -> int:
                def get(key: str) -> int:
                    response = minio.get_object(bucket, key)
                    try:
                        data = response.read()
                        if verify:
                            hashlib.sha256(data).hexdigest()
                        return len(data)
                    finally:
                        response.close()
                        response.release_conn()

                with ThreadPoolExecutor(args.workers) as pool:
                    return sum(pool.map(get, keys))

            def stock(cache: Path) -> Any:
                return datasets.load_dataset(
                    "parquet", split=SPLIT, cache_dir=str(cache),
                    data_files=f"s3://{bucket}/{prefix}{SPLIT}-*.parquet",
                    storage_options={
                        "key": endpoint.access_key, "secret": endpoint.secret_key,
                        "client_kwargs": {"endpoint_url": f"http://{endpoint.endpoint}",
                                          "region_name": endpoint.region},
                    },
                )

            with api_process(settings) as url:
                client = heldout.Client(url, workers=args.workers)

                def ours(cache: Path) -> Any:
                    return client.load_dataset(NAME, SPLIT, VERSION, cache_dir=cache)

                def ours_in_memory(cache: Path) -> Any:
                    return client.load_dataset(NAME, SPLIT, VERSION, cache_dir=cache,
                                               keep_in_memory=True)

                raw()  # warm-up: the server's first read of each object
                best: dict[str, float] = {}
                for round_ in range(args.rounds):
                    for index, (label, run) in enumerate((
                        ("raw minio GETs to memory", lambda _c: raw()),
                        ("raw GETs + sha256 (verified)", lambda _c: raw(verify=True)),
                        ("heldout.load_dataset (cold)", ours),
                        ("  … keep_in_memory=True (cold)", ours_in_memory),
                        ("stock datasets + s3fs (cold)", stock),
                    )):
                        cache = work / f"cache-{index}-{round_}"
                        seconds, result = timed(lambda run=run, cache=cache: run(cache))
                        if not label.startswith("raw"):
                            assert len(result) == rows, (label, len(result))
                        best[label] = min(best.get(label, float("inf")), seconds)
                        del result
                        if cache.name != "cache-2-0":  # heldout's first cache: warm runs
                            shutil.rmtree(cache, ignore_errors=True)
                warm_cache = work / "cache-2-0"
                warm, _ = timed(lambda: ours(warm_cache))
                rehash, _ = timed(lambda: download_version(
                    client, NAME, VERSION, split=SPLIT, cache_dir=warm_cache,
                    trust_markers=False))

            print(f"\n{'contender':34} {'seconds':>8} {'MB/s':>8} {'rows/s':>9}")
            for label, seconds in best.items():
                print(f"{label:34} {seconds:8.2f} {mb / seconds:8.0f} {rows / seconds:9.0f}")
            print(f"{'heldout second call (markers)':34} {warm:8.3f}")
            print(f"{'heldout second call (re-hash)':34} {rehash:8.3f}")
            ours_s = best["heldout.load_dataset (cold)"]
            raw_s = best["raw minio GETs to memory"]
            stock_s = best["stock datasets + s3fs (cold)"]
            print(f"\nheldout / raw ceiling: {raw_s / ours_s:.2f}x  (goal >= 0.8x)")
            print(f"heldout / stock datasets: {stock_s / ours_s:.2f}x  (goal >= 2x)")
            verified_s = best["raw GETs + sha256 (verified)"]
            print(f"heldout / raw GETs + sha256: {verified_s / ours_s:.2f}x")
            mem_s = best["  … keep_in_memory=True (cold)"]
            print(f"keep_in_memory: {raw_s / mem_s:.2f}x raw, {stock_s / mem_s:.2f}x stock")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
