"""Settings: defaults need no configuration; production refuses development secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from heldout.config import Settings


def test_defaults_run_with_no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("HELDOUT_"):
            monkeypatch.delenv(name)
    settings = Settings()
    assert settings.storage_backend == "local"
    assert str(settings.data_dir) == "heldout-data"
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert settings.resolved_database_url.endswith("heldout-data/catalog.db")


def test_settings_come_from_the_environment_and_are_frozen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HELDOUT_STORAGE_BACKEND", "s3")
    monkeypatch.setenv("HELDOUT_MAX_UPLOAD_BYTES", "1000")
    settings = Settings()
    assert settings.storage_backend == "s3" and settings.max_upload_bytes == 1000
    with pytest.raises(ValidationError):
        settings.max_upload_bytes = 5  # type: ignore[misc]


def test_production_refuses_default_secrets() -> None:
    with pytest.raises(ValidationError, match="HELDOUT_SECRET_KEY must be set"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="HELDOUT_S3_SECRET_KEY must be set"):
        Settings(environment="production", secret_key="x" * 32, storage_backend="s3")
    assert Settings(environment="production", secret_key="x" * 32).environment == "production"


def test_secrets_are_not_printed() -> None:
    settings = Settings(secret_key="super-secret-value", s3_secret_key="s3-secret-value")
    assert "super-secret-value" not in repr(settings)
    assert "s3-secret-value" not in str(settings)


def test_skip_migrations_is_a_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import sqlalchemy

    from heldout.api.app import app_from_env

    monkeypatch.setenv("HELDOUT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HELDOUT_SKIP_MIGRATIONS", "1")
    assert Settings().skip_migrations
    app_from_env()
    engine = sqlalchemy.create_engine(Settings().resolved_database_url)
    assert "alembic_version" not in sqlalchemy.inspect(engine).get_table_names()
    monkeypatch.setenv("HELDOUT_SKIP_MIGRATIONS", "0")
    app_from_env()
    assert "alembic_version" in sqlalchemy.inspect(engine).get_table_names()
