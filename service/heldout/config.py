"""One frozen settings object, read from ``HELDOUT_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "heldout-development-secret-do-not-use"
DEVELOPMENT_S3_SECRET = "heldout-dev-s3-secret"


class Settings(BaseSettings):
    """Everything configurable about Heldout. Defaults run with no configuration at all."""

    model_config = SettingsConfigDict(env_prefix="HELDOUT_", frozen=True, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("heldout-data")

    storage_backend: Literal["local", "s3"] = "local"
    s3_endpoint: str = "127.0.0.1:9000"
    s3_access_key: str = "heldout"
    s3_secret_key: SecretStr = SecretStr(DEVELOPMENT_S3_SECRET)
    s3_secure: bool = False
    s3_region: str = "us-east-1"
    # Where users reach the S3 server, when it differs from s3_endpoint (e.g. "minio:9000"
    # inside compose, "data.example.org" outside): presigned download URLs use this host.
    s3_public_endpoint: str | None = None
    s3_public_secure: bool | None = None
    # The built-in datasets' cards and committed files (default: the repository's datasets/).
    datasets_dir: Path | None = None
    public_bucket: str = "heldout-public"
    private_bucket: str = "heldout-private"
    s3_part_size: int = Field(default=16 * 1024 * 1024, ge=5 * 1024 * 1024)
    s3_connect_timeout: float = Field(default=3.0, gt=0)  # seconds; fail fast when S3 is down
    s3_read_timeout: float = Field(default=120.0, gt=0)
    s3_retries: int = Field(default=2, ge=0)  # per request, on connection errors and 5xx

    database_url: str | None = None
    # Set by ``heldout serve`` for its worker processes: it migrates once before they start.
    skip_migrations: bool = False
    public_base_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)

    max_upload_bytes: int = Field(default=2 * 1024**3, gt=0)
    max_prediction_bytes: int = Field(default=256 * 1024**2, gt=0)
    presign_expiry_seconds: int = Field(default=3600, ge=1, le=7 * 24 * 3600)
    shard_target_bytes: int = Field(default=256 * 1024**2, gt=0)
    draft_ttl_seconds: int = Field(default=24 * 3600, ge=0)
    rate_limit_per_minute: int = Field(default=1200, ge=0)  # per key or address; 0 = off
    rate_limit_burst: int = Field(default=300, ge=1)
    # Per-publisher caps (admins have none); 0 = no cap.
    max_open_drafts_per_user: int = Field(default=10, ge=0)
    max_datasets_per_user: int = Field(default=100, ge=0)
    preview_concurrency: int = Field(default=2, ge=1)  # previews decoded at once per process
    # Benchmark service: `heldout serve` runs one scoring worker thread unless this is false;
    # a claimed scoring job whose worker stops renewing it is reclaimed after the lease.
    serve_worker: bool = True
    scoring_lease_seconds: int = Field(default=300, ge=1)
    rejected_daily_cap: int = Field(default=50, ge=0)  # rejected uploads per holder per UTC day

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment == "production":
            if self.secret_key.get_secret_value() == DEVELOPMENT_SECRET:
                raise ValueError("HELDOUT_SECRET_KEY must be set outside development")
            if (
                self.storage_backend == "s3"
                and self.s3_secret_key.get_secret_value() == DEVELOPMENT_S3_SECRET
            ):
                raise ValueError("HELDOUT_S3_SECRET_KEY must be set outside development")
        return self

    @property
    def resolved_database_url(self) -> str:
        """The catalog URL: the configured one, else SQLite inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'catalog.db').resolve()}"

    @property
    def local_store_root(self) -> Path:
        """Root folder of the local object store (one sub-folder per bucket)."""
        return self.data_dir / "store"
