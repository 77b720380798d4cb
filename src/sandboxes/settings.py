"""One place for the service's settings: ``Settings`` (environment prefix ``SANDBOXES_``).

Every shell (API server, worker processes, ``sandboxctl``) builds the same ``Settings``
so that a worker spawned by the API sees exactly the database and stacks directory the
API wrote to. Secrets are ``SecretStr`` so they never show up in a repr or a log line,
and outside dev mode the obvious placeholder secrets are refused at start-up rather
than discovered after tokens were issued with them.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sandboxes.paths import data_dir

__all__ = ["DEFAULT_PEPPER", "EngineKind", "Mode", "Settings", "SettingsError"]

#: The pepper used in dev mode when none is configured; refused in production mode.
DEFAULT_PEPPER = "dev-only-pepper-change-me"
_WEAK_SECRETS = {DEFAULT_PEPPER, "", "changeme", "change-me", "secret", "password", "pepper"}


class Mode(StrEnum):
    DEV = "dev"
    PRODUCTION = "production"


class EngineKind(StrEnum):
    """Which engine the worker processes drive: the real Pulumi one, or a fake for demos/benchmarks."""

    PULUMI = "pulumi"
    FAKE = "fake"


class SettingsError(ValueError):
    """Settings that must not be used (e.g. a default secret in production mode)."""


class Settings(BaseSettings):
    """The service's configuration, read from ``SANDBOXES_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="SANDBOXES_", extra="ignore", frozen=True)

    mode: Mode = Mode.DEV
    data_dir: Path = Field(default_factory=data_dir, description="records, API stack files, local backend")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<data_dir>/records.db"
    )
    stacks_dir: Path | None = Field(
        default=None, description="stack files of API-made sandboxes; default <data_dir>/stacks"
    )
    worker_pool_size: int = Field(default=2, ge=1, le=64, description="concurrent engine operations (one process each)")
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8700, ge=1, le=65535)
    token_pepper: SecretStr = Field(default=SecretStr(DEFAULT_PEPPER), description="HMAC key for token hashes")
    engine: EngineKind = EngineKind.PULUMI
    reserved_stack_dirs: list[Path] = Field(
        default_factory=list, description="other stack directories on the same backend whose slugs are taken"
    )
    fake_engine_delay: float = Field(default=0.0, ge=0, le=60, description="seconds the fake engine takes per op")

    @model_validator(mode="after")
    def _no_default_secrets(self) -> Settings:
        if self.mode == Mode.PRODUCTION:
            pepper = self.token_pepper.get_secret_value()
            if pepper.lower() in _WEAK_SECRETS or len(pepper) < 32:
                raise SettingsError(
                    "SANDBOXES_TOKEN_PEPPER is a default or short secret: in production mode set it to at least "
                    "32 random characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
                )
        return self

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'records.db'}"

    @property
    def effective_stacks_dir(self) -> Path:
        return (self.stacks_dir or self.data_dir / "stacks").resolve()

    def worker_env(self) -> dict[str, str]:
        """The variables a worker process needs to see the same records and stacks as its parent."""
        return {
            "SANDBOXES_MODE": self.mode.value,
            "SANDBOXES_DATA_DIR": str(self.data_dir),
            "SANDBOXES_DATABASE_URL": self.effective_database_url,
            "SANDBOXES_STACKS_DIR": str(self.effective_stacks_dir),
            "SANDBOXES_TOKEN_PEPPER": self.token_pepper.get_secret_value(),
            "SANDBOXES_ENGINE": self.engine.value,
            "SANDBOXES_FAKE_ENGINE_DELAY": str(self.fake_engine_delay),
        }
