"""Settings from the environment, validated once at start-up."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from auditwire.domain.retry import MAX_AGE
from auditwire.errors import ConfigError

ENV_PREFIX = "AUDITWIRE_"


class Plan(StrEnum):
    FREE = "free"
    PREMIUM = "premium"
    ULTIMATE = "ultimate"


class Settings(BaseSettings):
    """Every setting auditwire reads, each from `AUDITWIRE_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    data_dir: Path = Path("data")
    database_url: str = ""
    default_plan: Plan = Plan.ULTIMATE
    allow_local_requests: bool = False
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # Delivery (see docs/delivery.md). Durations in seconds.
    delivery_max_age: float = Field(default=MAX_AGE, gt=0)
    delivery_timeout: float = Field(default=8.0, gt=0)
    delivery_concurrency_per_destination: int = Field(default=16, ge=1, le=1024)
    delivery_concurrency: int = Field(default=256, ge=1, le=10_000)
    delivery_lease: float = Field(default=60.0, gt=0)
    delivery_batch_size: int = Field(default=500, ge=1, le=10_000)
    delivery_poll_interval: float = Field(default=1.0, gt=0)
    delivery_retry_base: float = Field(default=4.0, gt=0)
    delivery_retry_max: float = Field(default=3600.0, gt=0)
    delivery_circuit_failures: int = Field(default=5, ge=1)
    delivery_circuit_probe_base: float = Field(default=15.0, gt=0)
    delivery_circuit_probe_max: float = Field(default=900.0, gt=0)
    delivery_shutdown_grace: float = Field(default=10.0, ge=0)
    delivery_log_days: int = Field(default=14, ge=1, le=3650)  # days attempt records are kept
    # Google Cloud Logging destinations: Google's endpoints, or a proxy in front of them.
    gcp_token_url: str = "https://oauth2.googleapis.com/token"
    gcp_logging_url: str = "https://logging.googleapis.com/v2/entries:write"
    # AWS S3 destinations without an endpointUrl of their own: AWS (empty), or an
    # S3-compatible store every such destination writes to.
    s3_endpoint_url: str = ""

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return value

    @field_validator("gcp_token_url", "gcp_logging_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("s3_endpoint_url")
    @classmethod
    def _optional_http_url(cls, value: str) -> str:
        return cls._http_url(value) if value else value

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy async URL of the database, SQLite in the data directory by default."""
        return async_database_url(
            self.database_url or f"sqlite:///{self.data_dir / 'auditwire.db'}"
        )


def async_database_url(url: str) -> str:
    """Map a plain database URL to the async driver auditwire uses for it."""
    scheme, _, rest = url.partition("://")
    driver = {
        "sqlite": "sqlite+aiosqlite",
        "postgres": "postgresql+asyncpg",
        "postgresql": "postgresql+asyncpg",
    }.get(scheme, scheme)
    return f"{driver}://{rest}"


def load_settings() -> Settings:
    """Read the settings, turning the first invalid one into a ConfigError that names it."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ENV_PREFIX + str(first["loc"][0]).upper() if first["loc"] else ENV_PREFIX
        raise ConfigError(f"invalid setting {name}: {first['msg']}") from exc
