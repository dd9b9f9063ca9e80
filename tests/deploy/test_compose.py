"""docker-compose.yml can't run here (no Docker engine): check its structure by parsing it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def test_minio_is_pinned_to_a_release_and_has_a_healthcheck(compose: dict[str, Any]) -> None:
    minio = compose["services"]["minio"]
    assert re.fullmatch(r"quay\.io/minio/minio:RELEASE\.\d{4}-\d\d-\d\dT[\d-]+Z", minio["image"])
    assert minio["healthcheck"]["test"] == ["CMD", "mc", "ready", "local"]


def test_bucket_init_creates_both_buckets_with_their_anonymous_policy(
    compose: dict[str, Any],
) -> None:
    init = compose["services"]["minio-init"]
    script = " ".join(init["command"])
    assert "mc mb --ignore-existing heldout/heldout-public heldout/heldout-private" in script
    assert "mc anonymous set none heldout/heldout-private" in script
    assert 'mc anonymous set "$$PUBLIC_BUCKET_POLICY" heldout/heldout-public' in script
    assert init["environment"]["PUBLIC_BUCKET_POLICY"] == "${PUBLIC_BUCKET_POLICY:-none}"
    assert init["depends_on"]["minio"]["condition"] == "service_healthy"


def test_postgres_has_a_healthcheck(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert ":" in postgres["image"] and not postgres["image"].endswith(":latest")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


@pytest.mark.parametrize("service", ["api", "worker"])
def test_api_and_worker_wait_for_healthy_dependencies(
    compose: dict[str, Any], service: str
) -> None:
    spec = compose["services"][service]
    depends = spec["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["minio-init"]["condition"] == "service_completed_successfully"
    env = spec["environment"]
    assert env["HELDOUT_STORAGE_BACKEND"] == "s3"
    assert env["HELDOUT_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert spec["command"][0] == "heldout"


def test_every_secret_is_required_from_the_environment(compose: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for variable in ("MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "POSTGRES_PASSWORD",
                     "HELDOUT_SECRET_KEY"):
        uses = re.findall(r"\$\{" + variable + r"(:[?-][^}]*)?\}", text)
        assert uses, f"{variable} is not used"
        assert all(use.startswith(":?") for use in uses), f"{variable} has a default"
    assert compose["services"]["api"]["environment"]["HELDOUT_ENVIRONMENT"] == "production"


def test_data_folders_are_never_python_packages() -> None:
    for folder in ("datasets", "benchmarks"):
        assert not list((ROOT / folder).rglob("__init__.py")), f"{folder}/ must not be a package"
