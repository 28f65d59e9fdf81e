"""Settings from the environment. A bad or missing setting stops start-up with one clear line."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

MIN_KEY_LENGTH = 32
PUBLISHED_KEYS = frozenset({"dev-only-secret-change-me-in-production", "sandbox-signing-key-0123456789"})
"""Defaults of earlier versions: public in the source history, so anyone could sign with them."""
EMBEDDED_SECRETS = ("secret_key", "sandbox_key")


def key_id(secret: str) -> str:
    """Names a key inside a token without revealing it: the start of a hash of it."""
    return hashlib.sha256(f"key-id:{secret}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class SigningKeys:
    """The key that signs, and the retired keys still accepted: rotating the key signs nobody out and breaks no
    shared link, as long as the old key stays listed (until its last token has expired). Defined with the settings
    that hold it, which sit below every package; `core.tokens` signs and reads with it."""

    current: str
    retired: tuple[str, ...] = ()

    @property
    def accepted(self) -> tuple[str, ...]:
        return (self.current, *self.retired)

    @cached_property
    def current_id(self) -> str:
        return key_id(self.current)

    @cached_property
    def _by_id(self) -> dict[str, str]:
        return {key_id(secret): secret for secret in reversed(self.accepted)}

    def by_id(self, kid: object) -> str | None:
        return self._by_id.get(kid) if isinstance(kid, str) else None


class SettingsError(Exception):
    """Raised with one line per wrong setting, each naming it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_prefix="")

    database_url: str = Field(default="sqlite+aiosqlite:///./var/fissionmall.db")
    database_pool_size: int = Field(default=4, ge=1, le=100)
    """PostgreSQL connections per process (no overflow). Small on purpose: the database runs as many transactions at
    once as it has cores, and when orders race for one row (a SKU's stock in a sale) every extra transaction waiting
    on it slows the hand-over from one to the next; requests beyond the pool queue in the process, in order."""
    database_pooler: Literal["pgbouncer"] | None = None
    """What DATABASE_URL (and DATABASE_REPLICA_URL) connect to when it is not PostgreSQL itself: `pgbouncer` in
    transaction mode hands each transaction to any server connection, so no prepared statement may outlive one."""
    database_replica_url: str | None = None
    """A streaming replica of DATABASE_URL's database: the GETs whose answer may lag (catalogue, campaign rules,
    analytics) read from it; everything else stays on the primary. Unset or empty: one database."""
    redis_url: str | None = None
    secret_key: str = ""
    """Signs tokens and share codes. Required outside the embedded demo, which generates its own."""
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
    sandbox_key: str = ""
    """The sandbox provider's signing key: whoever holds it can mark orders paid. Generated in the embedded demo."""
    wechat_api_base: str = Field(default="https://api.weixin.qq.com", pattern=r"^https?://")
    wechat_open_base: str = Field(default="https://open.weixin.qq.com", pattern=r"^https?://")
    """Where WeChat's web authorization page is (the shopper pages send a shopper there to sign in inside WeChat)."""
    wechatpay_mchid: str | None = None
    wechatpay_appid: str | None = None
    wechatpay_apiv3_key: str | None = None
    wechatpay_private_key_path: Path | None = None
    wechatpay_cert_serial_no: str | None = None
    wechatpay_public_key_path: Path | None = None
    wechatpay_public_key_id: str | None = None
    wechatpay_api_base: str = "https://api.mch.weixin.qq.com"
    logistics_provider: Literal["sandbox", "kuaidi100", "none"] | None = None
    """Who tracks shipped parcels; None means: the sandbox wherever the payment sandbox runs (the embedded demo, a test
    deployment paying in the sandbox), none elsewhere (shipments then carry their carrier and number only)."""
    kuaidi100_key: str | None = Field(default=None, min_length=8, max_length=64)
    kuaidi100_customer: str | None = Field(default=None, min_length=8, max_length=64)
    kuaidi100_salt: str | None = Field(default=None, min_length=16, max_length=64)
    """Signs Kuaidi100's pushes: set, parcels are subscribed and pushed; unset, they are polled (实时查询)."""
    kuaidi100_api_base: str = Field(default="https://poll.kuaidi100.com", pattern=r"^https?://[^\s]+$")
    logistics_poll_minutes: int = Field(default=240, ge=30, le=24 * 60)
    """How often a parcel is queried where nothing pushes (Kuaidi100 asks for half an hour or more per parcel)."""
    worker_poll_seconds: float | None = Field(default=None, gt=0, le=3600)
    """The longest an idle worker waits before looking for due jobs unasked; None: 10 s on PostgreSQL, where a committed
    job wakes the worker at once (LISTEN/NOTIFY) and this is only the fallback, 1 s on SQLite, where it is the only
    way (a cheap read: about 0.1% of a core)."""
    worker_sweep_seconds: float = Field(default=10.0, gt=0, le=3600)
    """How often the worker runs the sweeps (payment timeouts, expiries, auto-completion, analytics), which act at
    most this long after their moment; requests check every deadline themselves, so a late sweep refuses nobody."""
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

    # safe defaults: what a deployment allows, what a request may send
    test_deployment: bool = False
    """This deployment is for testing (staging, CI, the bench): allows the sandbox provider and dev login outside
    the embedded demo, both of which let anyone pay or log in as anyone."""
    api_docs: bool | None = None
    """Serve the API schema at /openapi.json; None means: on in the embedded demo only (it maps every operation)."""
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    """The largest request body read; larger ones are refused before they are read (413 body_too_large)."""
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    """The same limit for the image upload, which alone needs more than MAX_BODY_BYTES."""

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def dev_login_enabled(self) -> bool:
        return self.is_sqlite if self.dev_login is None else self.dev_login

    @property
    def tracking_provider(self) -> str | None:
        """The logistics provider this deployment runs, if any."""
        sandboxed = self.is_sqlite or (self.test_deployment and self.payment_provider == "sandbox")
        chosen = self.logistics_provider or ("sandbox" if sandboxed else "none")
        return None if chosen == "none" else chosen

    @property
    def worker_poll_every(self) -> float:
        return self.worker_poll_seconds or (1.0 if self.is_sqlite else 10.0)

    @property
    def api_docs_enabled(self) -> bool:
        return self.is_sqlite if self.api_docs is None else self.api_docs

    @property
    def embedded_secrets_path(self) -> Path:
        """Beside the SQLite file: the secrets belong to the data they sign for."""
        database = make_url(self.database_url).database
        folder = Path(database).parent if database and database != ":memory:" else Path("var")
        return folder / "secrets.json"

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if not self.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("DATABASE_URL: must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        if self.is_sqlite and not (self.secret_key and self.sandbox_key):
            generated = embedded_secrets(self.embedded_secrets_path)
            self.secret_key = self.secret_key or generated["secret_key"]
            self.sandbox_key = self.sandbox_key or generated["sandbox_key"]
        refusals = self._incomplete() + self._unsafe()
        if refusals:
            raise ValueError("\n".join(refusals))
        return self

    def _incomplete(self) -> list[str]:
        refusals = []
        if self.is_sqlite and self.database_pooler:
            refusals.append("DATABASE_POOLER: the embedded SQLite database has no pooler in front of it")
        if self.database_replica_url:
            if self.is_sqlite:
                refusals.append("DATABASE_REPLICA_URL: the embedded SQLite database has no replica")
            elif not self.database_replica_url.startswith("postgresql+asyncpg://"):
                refusals.append("DATABASE_REPLICA_URL: must start with postgresql+asyncpg://")
        if self.max_upload_bytes < self.max_body_bytes:
            refusals.append("MAX_UPLOAD_BYTES: must not be smaller than MAX_BODY_BYTES")
        if self.payment_provider == "wechatpay":
            missing = [name.upper() for name in (
                "wechatpay_mchid", "wechatpay_appid", "wechatpay_apiv3_key", "wechatpay_private_key_path",
                "wechatpay_cert_serial_no", "wechatpay_public_key_path", "wechatpay_public_key_id",
            ) if not getattr(self, name)]
            if missing:
                refusals.append(f"PAYMENT_PROVIDER: wechatpay needs {', '.join(missing)}")
        if self.logistics_provider == "kuaidi100" and not (self.kuaidi100_key and self.kuaidi100_customer):
            refusals.append("LOGISTICS_PROVIDER: kuaidi100 needs KUAIDI100_KEY and KUAIDI100_CUSTOMER")
        return refusals

    def _unsafe(self) -> list[str]:
        """What would let a stranger sign tokens or payment notifications, or log in as anyone: one line each."""
        refusals = [f"{name.upper()}: {problem}" for name, problem in (
            ("secret_key", _weak_key(self.secret_key)),
            ("sandbox_key", _weak_key(self.sandbox_key)
             if "sandbox" in (self.payment_provider, self.tracking_provider) else None),
        ) if problem]
        if self.payment_provider == "wechatpay" and self.wechatpay_apiv3_key and len(self.wechatpay_apiv3_key) != 32:
            refusals.append("WECHATPAY_APIV3_KEY: must be the 32 characters set in the WeChat Pay merchant platform")
        if self.is_sqlite or self.test_deployment:
            return refusals
        if self.payment_provider == "sandbox":
            refusals.append("PAYMENT_PROVIDER: the sandbox lets anyone holding SANDBOX_KEY mark orders paid; use "
                            "wechatpay, or set TEST_DEPLOYMENT=true on a staging, CI or bench deployment")
        if self.logistics_provider == "sandbox":
            refusals.append("LOGISTICS_PROVIDER: the sandbox lets anyone holding SANDBOX_KEY mark parcels signed for; "
                            "use kuaidi100 or none, or set TEST_DEPLOYMENT=true on a staging, CI or bench deployment")
        if self.dev_login_enabled:
            refusals.append("DEV_LOGIN: lets anyone log in as any shopper; allowed on PostgreSQL only with "
                            "TEST_DEPLOYMENT=true")
        return refusals


def _weak_key(key: str) -> str | None:
    if not key:
        return "must be set to a private random value outside the embedded demo"
    if key in PUBLISHED_KEYS:
        return "is a published default; set a private random value"
    if len(key) < MIN_KEY_LENGTH:
        return f"must be at least {MIN_KEY_LENGTH} characters"
    return None


def embedded_secrets(path: Path) -> dict[str, str]:
    """The embedded demo's keys: random on first run, kept (mode 0600) and reused, so tokens outlive a restart and
    no key is ever a constant in the code. Written whole, then linked into place, so processes starting together
    agree on one set and none reads a half-written file."""
    try:
        return _read_secrets(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = {name: secrets.token_urlsafe(48) for name in EMBEDDED_SECRETS}
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        json.dump(fresh, file)
    try:
        os.link(draft, path)
    except FileExistsError:
        return _read_secrets(path)
    finally:
        draft.unlink()
    return fresh


def _read_secrets(path: Path) -> dict[str, str]:
    try:
        kept = json.loads(path.read_text())
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise ValueError(f"SECRET_KEY: the embedded demo's {path} cannot be read ({exc})") from None
    if not (isinstance(kept, dict) and all(isinstance(kept.get(name), str) for name in EMBEDDED_SECRETS)):
        raise ValueError(f"SECRET_KEY: {path} is not the secrets file the embedded demo wrote")
    return kept


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
        lines = [f"{where}: {message}"] if where else message.splitlines()
        raise SettingsError("\n".join(f"invalid setting {line}" for line in lines)) from None
