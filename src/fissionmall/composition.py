"""The concrete adapters a process runs with, chosen once from the settings: the only module that names them all,
so that every package below takes the runtime by its protocols (`core/runtime.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from fissionmall.config import Settings, SettingsError
from fissionmall.core.auth import LoginThrottle
from fissionmall.core.clock import Clock, SystemClock
from fissionmall.core.gate import Gate, OpenGate, RedisGate
from fissionmall.core.logistics_provider import LogisticsProvider
from fissionmall.core.payment_provider import PaymentProvider
from fissionmall.core.runtime import Runtime
from fissionmall.core.windows import DatabaseWindows, RedisWindows, Windows
from fissionmall.db.engine import make_engine, make_sessionmaker
from fissionmall.logistics.providers.kuaidi100 import Kuaidi100Config, Kuaidi100Provider
from fissionmall.logistics.providers.sandbox import SandboxLogistics
from fissionmall.merchants import audit as staff_audit
from fissionmall.merchants import repository as merchants
from fissionmall.merchants.throttle import DatabaseLoginThrottle, RedisLoginThrottle
from fissionmall.payments.providers.sandbox import SandboxProvider

if TYPE_CHECKING:
    from fissionmall.payments.providers.wechatpay import WechatPayConfig


def build_runtime(settings: Settings, *, clock: Clock | None = None,
                  http_transport: httpx.AsyncBaseTransport | None = None, engine: AsyncEngine | None = None) -> Runtime:
    """`engine`: one the caller already holds (the test suite shares one per run); a new one from the settings
    otherwise."""
    engine = engine or make_engine(settings.database_url, pool_size=settings.database_pool_size,
                                   pooler=settings.database_pooler)
    replica = replica_engine_for(settings)
    runtime = Runtime(settings=settings, engine=engine, sessionmaker=make_sessionmaker(engine),
                      replica_engine=replica, replica_sessionmaker=make_sessionmaker(replica) if replica else None,
                      clock=clock or SystemClock(), http_transport=http_transport,
                      velocity=windows_for(settings.redis_url), gate=gate_for(settings.redis_url),
                      staff_standing=merchants.staff_standing,
                      staff_audit=staff_audit.write_staff_write, login_throttle=login_throttle_for(settings.redis_url))
    runtime.providers = build_providers(runtime)
    runtime.carriers = build_carriers(runtime)
    return runtime


def replica_engine_for(settings: Settings) -> AsyncEngine | None:
    """Every transaction on it is READ ONLY, as on a hot standby, so a route that wrote through it fails everywhere,
    not only in production."""
    if not settings.database_replica_url:
        return None
    return make_engine(settings.database_replica_url, pool_size=settings.database_pool_size,
                       pooler=settings.database_pooler).execution_options(postgresql_readonly=True)


def windows_for(redis_url: str | None) -> Windows:
    return RedisWindows(redis_url) if redis_url else DatabaseWindows()


def gate_for(redis_url: str | None) -> Gate:
    return RedisGate(redis_url) if redis_url else OpenGate()


def login_throttle_for(redis_url: str | None) -> LoginThrottle:
    return RedisLoginThrottle(redis_url) if redis_url else DatabaseLoginThrottle()


def build_providers(runtime: Runtime) -> dict[str, PaymentProvider]:
    """Only the configured provider exists: a sandbox notification is never accepted in production. WeChat Pay's
    client library is imported only by a process that uses it."""
    settings = runtime.settings
    if settings.payment_provider == "sandbox":
        return {"sandbox": SandboxProvider(settings.sandbox_key, runtime.clock, runtime.sessionmaker)}
    providers: dict[str, PaymentProvider] = {}
    if settings.payment_provider == "wechatpay":
        from fissionmall.payments.providers.wechatpay import WechatPayProvider

        providers["wechatpay"] = WechatPayProvider(wechatpay_config(settings), now=runtime.clock.now)
    return providers


def build_carriers(runtime: Runtime) -> dict[str, LogisticsProvider]:
    """Only the configured logistics provider exists, as with payments: a sandbox push is refused in production."""
    s = runtime.settings
    if s.tracking_provider == "sandbox":
        return {"sandbox": SandboxLogistics(s.sandbox_key, runtime.clock, runtime.sessionmaker)}
    if s.tracking_provider == "kuaidi100" and s.kuaidi100_key and s.kuaidi100_customer:
        config = Kuaidi100Config(key=s.kuaidi100_key, customer=s.kuaidi100_customer, salt=s.kuaidi100_salt,
                                 callback_url=f"{s.public_base_url}/api/v1/logistics/notify/kuaidi100",
                                 api_base=s.kuaidi100_api_base)
        return {"kuaidi100": Kuaidi100Provider(config, runtime.http_client)}
    return {}


def wechatpay_config(settings: Settings) -> WechatPayConfig:
    """The settings refuse to load without any of these when PAYMENT_PROVIDER=wechatpay; checked again here only so
    that the types say so."""
    s = settings
    if (s.wechatpay_mchid is None or s.wechatpay_appid is None or s.wechatpay_apiv3_key is None
            or s.wechatpay_private_key_path is None or s.wechatpay_cert_serial_no is None
            or s.wechatpay_public_key_path is None or s.wechatpay_public_key_id is None):
        raise SettingsError("invalid setting PAYMENT_PROVIDER: wechatpay needs every WECHATPAY_* setting")
    from fissionmall.payments.providers.wechatpay import WechatPayConfig

    return WechatPayConfig(
        mchid=s.wechatpay_mchid, appid=s.wechatpay_appid, apiv3_key=s.wechatpay_apiv3_key,
        merchant_private_key_pem=s.wechatpay_private_key_path.read_text(),
        merchant_cert_serial_no=s.wechatpay_cert_serial_no,
        platform_public_key_pem=s.wechatpay_public_key_path.read_text(),
        platform_public_key_id=s.wechatpay_public_key_id,
        notify_url=f"{s.public_base_url}/api/v1/payments/notify/wechatpay",
        api_base=s.wechatpay_api_base,
    )
