"""One place for configuration, read from the environment (``HUIQI_*``)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUIQI_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/huiqi.db",
        description="SQLAlchemy URL; postgresql://… uses psycopg 3. A relative SQLite path is taken from the working directory.",
    )
    rules_dir: Path | None = Field(
        default=None, description="rule pack folder (default: the engine's rules/)"
    )
    backend: Literal["durable", "python"] | None = Field(default=None, description="engine backend")
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="larger request bodies get 413")
    token_ttl_minutes: int = Field(default=480, ge=1, description="lifetime of a password-login token")
    login_max_failures: int = Field(
        default=5, ge=1, description="failed logins of one account from one client before it must wait"
    )
    login_max_failures_per_client: int = Field(
        default=20,
        ge=1,
        description="failed logins from one client, whatever the account, before it must wait",
    )
    login_max_failures_per_account: int = Field(
        default=50, ge=1, description="failed logins of one account from all clients before it must wait"
    )
    login_window_minutes: int = Field(
        default=15, ge=1, description="how long a failed login counts (and how long the wait can be)"
    )
    trusted_proxies: str = Field(
        default="",
        description=(
            "addresses or networks of the reverse proxies whose X-Forwarded-For is believed, comma-"
            "separated (e.g. 10.0.0.5,10.1.0.0/16); none by default. Run uvicorn with --no-proxy-headers."
        ),
    )
    stored_evaluations_per_day: int = Field(
        default=1000,
        ge=0,
        description="evaluations one account may store per day (China Standard Time); 0 = no limit",
    )
    default_lang: Literal["zh", "en"] = "zh"
    migrate_on_start: bool = Field(default=True, description="apply Alembic migrations when the app starts")
    examples_dir: Path = Field(
        default=REPO_ROOT / "tests" / "examples",
        description="example request bodies ({as_of, profile}) used for OpenAPI examples and `make run`",
    )
    db_pool_size: int = Field(default=5, ge=1)
    log_level: str = "info"

    @field_validator("database_url")
    @classmethod
    def _driver(cls, v: str) -> str:
        # psycopg 3 is the driver; plain postgresql:// would make SQLAlchemy look for psycopg2
        for prefix in ("postgresql://", "postgres://"):
            if v.startswith(prefix):
                return "postgresql+psycopg://" + v[len(prefix) :]
        return v

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, v: str) -> str:
        for part in v.split(","):
            if part.strip():
                ipaddress.ip_network(part.strip(), strict=False)  # ValueError names the bad one
        return v

    @property
    def proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(p.strip(), strict=False) for p in self.trusted_proxies.split(",") if p.strip()]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
