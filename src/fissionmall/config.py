"""Settings from the environment. A bad or missing setting stops start-up with one clear line."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fissionmall.core.tokens import SigningKeys

DEV_SECRET = "dev-only-secret-change-me-in-production"


class SettingsError(Exception):
    """Raised with a one-line message naming the setting that is wrong."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_prefix="")

    database_url: str = Field(default="sqlite+aiosqlite:///./var/fissionmall.db")
    database_pool_size: int = Field(default=4, ge=1, le=100)
    """PostgreSQL connections per process (no overflow). Small on purpose: the database runs as many transactions at
    once as it has cores, and when orders race for one row (a SKU's stock in a sale) every extra transaction waiting
    on it slows the hand-over from one to the next; requests beyond the pool queue in the process, in order."""
    redis_url: str | None = None
    secret_key: str = Field(default=DEV_SECRET, min_length=16)
    dev_login: bool | None = None
    """Shopper dev-login; None means: on for the embedded SQLite mode only."""
    token_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60, le=90 * 24 * 3600)
    staff_token_ttl_seconds: int = Field(default=12 * 3600, ge=60, le=7 * 24 * 3600)
    """Short, so a disabled staff member's token dies within a working day."""
    public_base_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://[^\s/]+(:\d+)?$")
    media_dir: Path = Path("./var/media")
    default_merchant: str = Field(default="demo", min_length=1, max_length=40)
    """The mall shown to visitors who name none (no token, no ?merchant=)."""
    payment_provider: Literal["sandbox", "wechatpay"] = "sandbox"
    sandbox_key: str = Field(default="sandbox-signing-key-0123456789", min_length=16)
    wechat_api_base: str = Field(default="https://api.weixin.qq.com", pattern=r"^https?://")
    wechatpay_mchid: str | None = None
    wechatpay_appid: str | None = None
    wechatpay_apiv3_key: str | None = None
    wechatpay_private_key_path: Path | None = None
    wechatpay_cert_serial_no: str | None = None
    wechatpay_public_key_path: Path | None = None
    wechatpay_public_key_id: str | None = None
    wechatpay_api_base: str = "https://api.mch.weixin.qq.com"
    worker_interval_seconds: float = Field(default=1.0, gt=0, le=3600)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = False

    # operations: the job lease, the metrics endpoint
    job_lease_seconds: int = Field(default=120, ge=1, le=24 * 3600)
    """How long a worker holds a claimed job before another worker may run it (a worker that died loses its jobs
    after this); longer than the slowest provider call, so a live worker's job is not run twice at once."""
    metrics_token: str | None = Field(default=None, min_length=16)
    """When set, GET /metrics answers only a request bearing it (`Authorization: Bearer …`); unset, it is open."""

    # tenants: the platform operator
    platform_token: str | None = Field(default=None, min_length=32, max_length=200)
    """The platform operator's credential (sent as `Authorization: Bearer …`) for creating and listing merchants;
    unset, the platform API does not exist."""
    retired_secret_keys: str = ""
    """Former SECRET_KEYs, comma-separated, still accepted when reading tokens and share codes (never used to sign),
    so that rotating SECRET_KEY signs nobody out and breaks no shared link; drop one once its tokens have expired."""

    @field_validator("retired_secret_keys")
    @classmethod
    def _retired_keys_are_long(cls, value: str) -> str:
        if any(len(key) < 32 for key in _listed(value)):
            raise ValueError("each retired key must be at least 32 characters")
        return value

    @cached_property
    def signing_keys(self) -> SigningKeys:
        return SigningKeys(self.secret_key, tuple(_listed(self.retired_secret_keys)))

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def dev_login_enabled(self) -> bool:
        return self.is_sqlite if self.dev_login is None else self.dev_login

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if not self.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        if not self.is_sqlite and self.secret_key == DEV_SECRET:
            raise ValueError("SECRET_KEY must be set to a private value when DATABASE_URL is PostgreSQL")
        if self.payment_provider == "wechatpay":
            missing = [
                name
                for name in (
                    "wechatpay_mchid", "wechatpay_appid", "wechatpay_apiv3_key", "wechatpay_private_key_path",
                    "wechatpay_cert_serial_no", "wechatpay_public_key_path", "wechatpay_public_key_id",
                )
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(f"PAYMENT_PROVIDER=wechatpay needs {', '.join(m.upper() for m in missing)}")
        return self


def _listed(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def load_settings(**overrides: object) -> Settings:
    """Read settings; turn pydantic's report into one line a person can act on."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]).upper()
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"invalid setting {where}: {message}" if where else f"invalid settings: {message}") \
            from None
