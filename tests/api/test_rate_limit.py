"""Rate limits: 429 problem+json with Retry-After per key or address; the client retries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from heldout.api.ratelimit import TokenBuckets
from heldout.client import Client
from heldout.config import Settings
from tests.api.conftest import Api, make_api
from tests.api.test_problems import assert_problem
from tests.live import serving


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_bursts_then_the_sustained_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate_per_minute=60, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(1.0)
    assert buckets.take("b") == 0.0  # clients are independent
    clock.now += 0.5
    assert buckets.take("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert buckets.take("a") == 0.0
    clock.now += 3600
    assert [buckets.take("a") for _ in range(4)][-1] > 0  # refills only up to the burst


def test_least_recently_seen_clients_are_forgotten() -> None:
    buckets = TokenBuckets(rate_per_minute=1, burst=1, max_clients=2, clock=Clock())
    assert buckets.take("a") == 0.0 and buckets.take("a") > 0
    buckets.take("b")
    buckets.take("c")  # "a" is dropped and starts over with a full bucket
    assert buckets.take("a") == 0.0


@pytest.fixture
def limited_api(settings_for: Callable[..., Settings], tmp_path: Path) -> Iterator[Api]:
    yield from make_api(settings_for("local", tmp_path / "data", rate_limit_per_minute=30,
                                     rate_limit_burst=3))


def test_over_the_limit_is_a_429_problem_with_retry_after(limited_api: Api) -> None:
    c = limited_api.client
    alice = limited_api.auth("alice")
    for _ in range(3):
        assert c.get("/api/v1/datasets", headers=alice).status_code == 200
    refused = c.get("/api/v1/datasets", headers=alice)
    body = assert_problem(refused, 429, "rate-limited")
    assert refused.headers["retry-after"] == "2"
    assert "user" in body["detail"] and "30 per minute" in body["detail"]
    assert c.get("/api/v1/datasets", headers=limited_api.auth("pub")).status_code == 200
    assert c.get("/healthz", headers=alice).status_code == 200  # health checks are exempt
    for _ in range(3):
        c.get("/api/v1/datasets")
    assert "address" in assert_problem(c.get("/api/v1/datasets"), 429, "rate-limited")["detail"]


def test_client_waits_for_retry_after_and_succeeds(limited_api: Api) -> None:
    with serving(limited_api.client.app, lifespan="off") as url:
        client = Client(url, limited_api.keys["alice"], backoff=0.01)
        for _ in range(5):  # two of these are answered 429 first, then retried
            assert client.list_datasets()["total"] == 0
