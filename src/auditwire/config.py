"""Settings from the environment, validated once at start-up."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return value

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
