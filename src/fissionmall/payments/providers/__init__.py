"""Payment providers, built once per process from the settings."""

from __future__ import annotations

from typing import Any

from fissionmall.payments.providers.base import PaymentProvider
from fissionmall.payments.providers.sandbox import SandboxProvider


def build_providers(runtime: Any) -> dict[str, PaymentProvider]:
    """Only the configured provider exists: a sandbox notification is never accepted in production."""
    settings = runtime.settings
    if settings.payment_provider == "sandbox":
        return {"sandbox": SandboxProvider(runtime)}
    providers: dict[str, PaymentProvider] = {}
    if settings.payment_provider == "wechatpay":
        from fissionmall.payments.providers.wechatpay import WechatPayConfig, WechatPayProvider

        providers["wechatpay"] = WechatPayProvider(
            WechatPayConfig(
                mchid=settings.wechatpay_mchid, appid=settings.wechatpay_appid,
                apiv3_key=settings.wechatpay_apiv3_key,
                merchant_private_key_pem=settings.wechatpay_private_key_path.read_text(),
                merchant_cert_serial_no=settings.wechatpay_cert_serial_no,
                platform_public_key_pem=settings.wechatpay_public_key_path.read_text(),
                platform_public_key_id=settings.wechatpay_public_key_id,
                notify_url=f"{settings.public_base_url}/api/v1/payments/notify/wechatpay",
                api_base=settings.wechatpay_api_base,
            ),
            now=runtime.clock.now,
        )
    return providers
