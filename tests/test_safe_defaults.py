"""A server started as documented for production cannot run on settings that let a stranger pay, log in or sign:
start-up refuses them, each with one line naming the setting. The embedded demo signs with keys of its own,
generated on first run and kept; the API schema is served only where API_DOCS turns it on."""

from __future__ import annotations

import json
import re
import stat
import subprocess

import httpx
import pytest

from fissionmall.app import create_app
from fissionmall.config import PUBLISHED_KEYS, SettingsError, load_settings
from tests.payments.test_wechatpay_provider import APIV3_KEY
from tests.test_config_cli import CLI, clean_environment, environment  # noqa: F401  (autouse: no shell settings)

pytestmark = pytest.mark.backend_free

POSTGRES = "postgresql+asyncpg://mall@db.internal/mall"
PRIVATE = "k" * 16 + "-private-0123456789"
WECHATPAY = {"payment_provider": "wechatpay", "wechatpay_mchid": "1900000109", "wechatpay_appid": "wx8888888888888888",
             "wechatpay_apiv3_key": APIV3_KEY, "wechatpay_private_key_path": "/etc/mall/apiclient_key.pem",
             "wechatpay_cert_serial_no": "5157F09EFDC096DE15EBE81A47057A72",
             "wechatpay_public_key_path": "/etc/mall/pub_key.pem", "wechatpay_public_key_id": "PUB_KEY_ID_0114"}
PRODUCTION = {"database_url": POSTGRES, "secret_key": PRIVATE, **WECHATPAY}


def refusals(**settings: object) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings(**settings)
    lines = str(caught.value).splitlines()
    assert lines and all(line.startswith("invalid setting ") for line in lines), lines
    return lines


def refused(setting: str, **settings: object) -> None:
    """Refused with exactly one line, and that line names `setting`."""
    lines = refusals(**settings)
    assert len(lines) == 1 and lines[0].startswith(f"invalid setting {setting}:"), lines


def test_a_production_configuration_is_accepted():
    settings = load_settings(**PRODUCTION)
    assert not settings.dev_login_enabled and not settings.api_docs_enabled


def test_the_sandbox_is_refused_in_production_so_nobody_can_sign_a_payment_notification():
    """The sandbox's notifications are signed with SANDBOX_KEY: on a production server it would let anyone who
    holds (or guesses) the key mark orders paid. Only a declared test deployment may run it outside the demo."""
    sandbox = {"database_url": POSTGRES, "secret_key": PRIVATE, "sandbox_key": PRIVATE}
    refused("PAYMENT_PROVIDER", **sandbox)
    assert load_settings(**sandbox, test_deployment=True).payment_provider == "sandbox"


def test_the_logistics_sandbox_is_refused_where_the_payment_sandbox_is():
    """The sandbox carrier's pushes are signed with SANDBOX_KEY: in production they would let anyone mark a parcel
    signed for, and so the order received. Unset, a production server tracks nothing; the sandbox runs where the
    payment sandbox does."""
    refused("LOGISTICS_PROVIDER", **PRODUCTION, logistics_provider="sandbox", sandbox_key=PRIVATE)
    assert load_settings(**PRODUCTION).tracking_provider is None
    staging = load_settings(**PRODUCTION, logistics_provider="sandbox", test_deployment=True, sandbox_key=PRIVATE)
    assert staging.tracking_provider == "sandbox"
    refused("SANDBOX_KEY", **PRODUCTION, test_deployment=True, logistics_provider="sandbox")  # its pushes' salt
    assert load_settings(**PRODUCTION, test_deployment=True).tracking_provider is None  # paying with WeChat Pay
    paying_in_the_sandbox = {"database_url": POSTGRES, "secret_key": PRIVATE, "sandbox_key": PRIVATE}
    assert load_settings(**paying_in_the_sandbox, test_deployment=True).tracking_provider == "sandbox"


def test_kuaidi100_needs_its_key_and_customer_and_a_salt_long_enough_to_sign():
    refused("LOGISTICS_PROVIDER", **PRODUCTION, logistics_provider="kuaidi100")
    account = {"logistics_provider": "kuaidi100", "kuaidi100_key": "kKSQxPDo7654",
               "kuaidi100_customer": "FA7B3E7C1D2C4A5B9E8F0A1B2C3D4E5F"}
    assert load_settings(**PRODUCTION, **account).tracking_provider == "kuaidi100"
    refused("KUAIDI100_SALT", **PRODUCTION, **account, kuaidi100_salt="short")


def test_dev_login_is_refused_on_postgresql_unless_a_test_deployment():
    refused("DEV_LOGIN", **PRODUCTION, dev_login=True)
    assert load_settings(**PRODUCTION, dev_login=True, test_deployment=True).dev_login_enabled


@pytest.mark.parametrize("secret", ["", "x" * 31, *sorted(PUBLISHED_KEYS)])
def test_a_missing_published_or_short_secret_key_is_refused(secret):
    refused("SECRET_KEY", **{**PRODUCTION, "secret_key": secret})


@pytest.mark.parametrize("key", ["", "x" * 31, *sorted(PUBLISHED_KEYS)])
def test_a_missing_published_or_short_sandbox_key_is_refused_when_the_sandbox_is_on(key):
    refused("SANDBOX_KEY", database_url=POSTGRES, secret_key=PRIVATE, test_deployment=True, sandbox_key=key)
    assert load_settings(**PRODUCTION, sandbox_key=key)  # WeChat Pay: the sandbox's key signs nothing


@pytest.mark.parametrize("key", ["0" * 31, "0" * 33])
def test_the_wechatpay_apiv3_key_must_be_32_characters(key):
    refused("WECHATPAY_APIV3_KEY", **{**PRODUCTION, "wechatpay_apiv3_key": key})


def test_every_refusal_is_reported_at_once():
    """PostgreSQL with nothing else set: each unsafe setting on a line of its own, so one restart fixes them all."""
    lines = refusals(database_url=POSTGRES, dev_login=True)
    assert [line.split(":")[0] for line in lines] == [
        "invalid setting SECRET_KEY", "invalid setting SANDBOX_KEY", "invalid setting PAYMENT_PROVIDER",
        "invalid setting DEV_LOGIN"]


def test_the_upload_limit_is_not_below_the_body_limit():
    refused("MAX_UPLOAD_BYTES", max_body_bytes=2 * 1024 * 1024, max_upload_bytes=1024 * 1024)


def test_serve_worker_and_migrate_print_the_refusals_and_stop(tmp_path):
    """As an operator sees it: status 2, one line per refused setting, no traceback, nothing started."""
    commands = ("serve", "worker", "migrate")
    running = [subprocess.Popen([str(CLI), command], cwd=tmp_path, env=environment(DATABASE_URL=POSTGRES),
                                text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for command in commands]
    for command, process in zip(commands, running, strict=True):
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 2, (command, stdout, stderr)
        lines = (stdout + stderr).strip().splitlines()
        assert [line.split(":")[1].strip() for line in lines] == [
            "invalid setting SECRET_KEY", "invalid setting SANDBOX_KEY", "invalid setting PAYMENT_PROVIDER"], lines
        assert all(line.startswith("fissionmall: ") for line in lines), lines


# --- the embedded demo's own keys ---------------------------------------------------------------------------


def test_the_embedded_demo_generates_its_keys_keeps_them_and_reuses_them(tmp_path):
    database = f"sqlite+aiosqlite:///{tmp_path / 'shop' / 'mall.db'}"
    first = load_settings(database_url=database)
    kept = tmp_path / "shop" / "secrets.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert json.loads(kept.read_text()) == {"secret_key": first.secret_key, "sandbox_key": first.sandbox_key}
    assert len(first.secret_key) >= 32 and len(first.sandbox_key) >= 32 and first.secret_key != first.sandbox_key

    again = load_settings(database_url=database)
    assert (again.secret_key, again.sandbox_key) == (first.secret_key, first.sandbox_key)

    elsewhere = load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
    assert {elsewhere.secret_key, elsewhere.sandbox_key}.isdisjoint({first.secret_key, first.sandbox_key})

    chosen = load_settings(database_url=database, secret_key=PRIVATE)
    assert (chosen.secret_key, chosen.sandbox_key) == (PRIVATE, first.sandbox_key)


def test_a_damaged_secrets_file_stops_start_up_naming_it(tmp_path):
    (tmp_path / "secrets.json").write_text("{not json")
    lines = refusals(database_url=f"sqlite+aiosqlite:///{tmp_path / 'mall.db'}")
    assert len(lines) == 1 and "SECRET_KEY" in lines[0] and "secrets.json" in lines[0]


# --- API docs ----------------------------------------------------------------------------------------------


async def answers(settings: dict[str, object], *paths: str) -> list[int]:
    app = create_app(load_settings(**settings))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mall.test") as client:
        return [(await client.get(path)).status_code for path in paths]


async def test_api_docs_are_off_in_production_and_on_in_the_embedded_demo(tmp_path):
    """The schema and its page map every operation: public only where API_DOCS says so. The page's Swagger UI is
    served by the mall itself (a mall on a closed network reaches no CDN); ReDoc is not served."""
    production = {"database_url": POSTGRES, "secret_key": PRIVATE, "sandbox_key": PRIVATE, "test_deployment": True,
                  "media_dir": tmp_path / "media"}
    embedded = {"database_url": f"sqlite+aiosqlite:///{tmp_path / 'mall.db'}", "media_dir": tmp_path / "media"}
    paths = ("/openapi.json", "/docs", "/docs/assets/swagger-ui-bundle.js", "/redoc")
    assert await answers(production, *paths) == [404, 404, 404, 404]
    assert await answers({**production, "api_docs": True}, *paths) == [200, 200, 200, 404]
    assert await answers(embedded, *paths) == [200, 200, 200, 404]
    assert await answers({**embedded, "api_docs": False}, *paths) == [404, 404, 404, 404]


async def test_the_docs_page_loads_nothing_from_elsewhere_and_nothing_inline(tmp_path):
    """Its scripts and styles are the mall's own files, so the pages' policy (`default-src 'self'`) lets it run."""
    app = create_app(load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'mall.db'}",
                                   media_dir=tmp_path / "media"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mall.test") as client:
        page = await client.get("/docs")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(source.startswith("/") for source in sources), sources
    assert "<script>" not in page.text and "<style" not in page.text
