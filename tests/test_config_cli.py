"""Settings refuse to start with a bad value, saying in one line which setting is wrong; the command line
works as documented, and the demo loads once against a fresh SQLite file."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from fissionmall.composition import build_runtime
from fissionmall.config import SettingsError, load_settings

pytestmark = pytest.mark.backend_free

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / ".venv" / "bin" / "fissionmall"
SETTING_NAMES = ("DATABASE_URL", "DATABASE_POOL_SIZE", "DATABASE_POOLER", "DATABASE_REPLICA_URL", "SECRET_KEY",
                 "PUBLIC_BASE_URL", "PAYMENT_PROVIDER", "MEDIA_DIR", "DEV_LOGIN", "DEFAULT_MERCHANT",
                 "TOKEN_TTL_SECONDS", "WECHAT_API_BASE", "SANDBOX_KEY", "TEST_DEPLOYMENT", "API_DOCS",
                 "MAX_BODY_BYTES", "MAX_UPLOAD_BYTES") + tuple(
    f"WECHATPAY_{n}" for n in ("MCHID", "APPID", "APIV3_KEY", "PRIVATE_KEY_PATH", "CERT_SERIAL_NO",
                               "PUBLIC_KEY_PATH", "PUBLIC_KEY_ID"))


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings come only from the test: no variables from the shell, no .env file from the working directory."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


# --- settings ----------------------------------------------------------------------------------------


def refusal(**overrides: object) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(**overrides)
    message = str(caught.value)
    assert "\n" not in message and message.strip() == message and message, message
    return message


def test_defaults_are_valid_for_the_embedded_mode():
    settings = load_settings()
    assert settings.is_sqlite and settings.dev_login_enabled
    assert settings.payment_provider == "sandbox"


@pytest.mark.parametrize("url", ["mysql://root@localhost/mall", "sqlite:///plain.db", "postgresql://u@h/db",
                                 "postgres+asyncpg://u@h/db", ""])
def test_database_url_needs_a_supported_async_driver(url):
    assert "DATABASE_URL" in refusal(database_url=url)


TEST_DEPLOYMENT = {"database_url": "postgresql+asyncpg://app@db/mall", "test_deployment": True,
                   "secret_key": "a-private-secret-0123456789abcdef", "sandbox_key": "a-private-sandbox-key-0123456789"}


def test_postgresql_needs_a_private_secret():
    message = refusal(**{**TEST_DEPLOYMENT, "secret_key": ""})
    assert "SECRET_KEY" in message
    settings = load_settings(**TEST_DEPLOYMENT)
    assert not settings.is_sqlite and not settings.dev_login_enabled


def test_the_worker_polls_each_second_on_sqlite_and_every_ten_seconds_on_postgresql():
    """On PostgreSQL a committed job wakes the worker (LISTEN/NOTIFY): its poll is only the fallback."""
    assert load_settings().worker_poll_every == 1.0
    assert load_settings(**TEST_DEPLOYMENT).worker_poll_every == 10.0
    assert load_settings(**TEST_DEPLOYMENT, worker_poll_seconds=2.5).worker_poll_every == 2.5
    assert load_settings().worker_sweep_seconds == 10.0


@pytest.mark.parametrize("name", ["worker_poll_seconds", "worker_sweep_seconds"])
@pytest.mark.parametrize("seconds", [0, -1, 3601, "often"])
def test_worker_intervals_are_sensible_numbers(name, seconds):
    assert name.upper() in refusal(**{name: seconds})


@pytest.mark.parametrize("size", [0, -1, 101, "many"])
def test_pool_size_is_a_sensible_number(size):
    assert "DATABASE_POOL_SIZE" in refusal(database_pool_size=size)


def test_a_pooler_and_a_replica_are_for_postgresql_and_named_exactly():
    replica = "postgresql+asyncpg://app@replica/mall"
    assert "DATABASE_POOLER" in refusal(database_pooler="pgbouncer")  # the embedded SQLite default
    assert "DATABASE_REPLICA_URL" in refusal(database_replica_url=replica)
    assert "DATABASE_POOLER" in refusal(**TEST_DEPLOYMENT, database_pooler="pgpool")
    assert "DATABASE_REPLICA_URL" in refusal(**TEST_DEPLOYMENT, database_replica_url="postgresql://app@replica/mall")
    settings = load_settings(**TEST_DEPLOYMENT, database_pooler="pgbouncer", database_replica_url=replica)
    assert (settings.database_pooler, settings.database_replica_url) == ("pgbouncer", replica)
    assert load_settings(**TEST_DEPLOYMENT, database_replica_url="").database_replica_url == ""  # unset


def test_the_pool_is_small_and_fixed_by_default():
    """Four connections per process and no overflow: on hot rows, more waiting transactions only slow the
    hand-over (docs/performance.md)."""
    engine = build_runtime(load_settings(**TEST_DEPLOYMENT)).engine
    assert (engine.pool.size(), engine.pool._max_overflow) == (4, 0)  # type: ignore[attr-defined]


def test_short_secret_is_refused():
    assert "SECRET_KEY" in refusal(secret_key="short")


def test_wechatpay_needs_all_of_its_settings():
    message = refusal(payment_provider="wechatpay", wechatpay_mchid="1900000109")
    assert "PAYMENT_PROVIDER" in message
    for name in ("WECHATPAY_APPID", "WECHATPAY_APIV3_KEY", "WECHATPAY_PRIVATE_KEY_PATH", "WECHATPAY_CERT_SERIAL_NO",
                 "WECHATPAY_PUBLIC_KEY_PATH", "WECHATPAY_PUBLIC_KEY_ID"):
        assert name in message
    assert "WECHATPAY_MCHID" not in message


def test_unknown_payment_provider_is_refused():
    assert "PAYMENT_PROVIDER" in refusal(payment_provider="alipay")


@pytest.mark.parametrize("url", ["mall.example.com", "ftp://mall.example.com", "https://", "https://mall example.com",
                                 "https://mall.example.com/shop"])
def test_public_base_url_must_be_an_http_origin(url):
    assert "PUBLIC_BASE_URL" in refusal(public_base_url=url)


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", "not a url")
    assert "PUBLIC_BASE_URL" in refusal()
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://mall.example.com")
    monkeypatch.setenv("DEFAULT_MERCHANT", "acme")
    settings = load_settings()
    assert (settings.public_base_url, settings.default_merchant) == ("https://mall.example.com", "acme")


# --- the command line --------------------------------------------------------------------------------


def environment(**env: str) -> dict[str, str]:
    """This process's environment without any setting, plus `env`; 80 columns, as on a server's log."""
    base = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    return {**base, **env, "COLUMNS": "80", "NO_COLOR": "1"}


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *args], cwd=cwd, env=environment(**env), capture_output=True, text=True,
                          timeout=120)


def test_help_of_every_command(tmp_path):
    """`--help` of the program and of each command exits 0 (run side by side: each start costs a second)."""
    commands = [[], ["serve"], ["worker"], ["migrate"], ["demo"]]
    running = [subprocess.Popen([str(CLI), *command, "--help"], cwd=tmp_path, env=environment(), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE) for command in commands]
    outputs = [process.communicate(timeout=120) for process in running]
    for command, process, (stdout, stderr) in zip(commands, running, outputs, strict=True):
        assert process.returncode == 0, (command, stderr)
        assert f"Usage: fissionmall {' '.join(command)}".rstrip() in stdout, (command, stdout)
    for command in ("serve", "worker", "migrate", "demo"):
        assert command in outputs[0][0]
    assert "--port" in outputs[1][0]


def test_bad_setting_stops_the_cli_with_one_line(tmp_path):
    """A wrong DATABASE_URL exits with status 2 and one line naming it (not a traceback, not wrapped)."""
    result = run("migrate", cwd=tmp_path, DATABASE_URL="mysql://x")
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert "DATABASE_URL" in lines[0]
    assert "Traceback" not in result.stderr


def table_counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_migrate_then_demo_twice(tmp_path):
    """The demo loads one merchant with its stores, products, SKUs and images; a second run adds nothing."""
    database, media = tmp_path / "x.db", tmp_path / "media"
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{database}", "MEDIA_DIR": str(media)}
    migrated = run("migrate", cwd=tmp_path, **env)
    assert migrated.returncode == 0, migrated.stderr
    assert table_counts(database)["merchants"] == 0

    first = run("demo", cwd=tmp_path, **env)
    assert first.returncode == 0, first.stderr
    assert "demo merchant loaded" in first.stderr
    after_first = table_counts(database)
    assert after_first["merchants"] == 1
    assert after_first["stores"] == 2
    assert after_first["products"] == 12
    assert after_first["skus"] >= 12
    assert after_first["staff"] == 4
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT slug FROM merchants").fetchall() == [("demo",)]
        assert connection.execute("SELECT count(*) FROM products WHERE status = 'on_sale'").fetchone() == (12,)
        assert connection.execute(
            "SELECT count(*) FROM products p WHERE NOT EXISTS (SELECT 1 FROM skus s WHERE s.product_id = p.id)"
        ).fetchone() == (0,)
        urls = [r[0] for r in connection.execute("SELECT url FROM product_images ORDER BY id")]
    assert len(urls) == 12
    images = [media / url.removeprefix("/media/") for url in urls]
    assert all(path.is_file() and path.read_bytes().startswith(b"\x89PNG") for path in images), urls
    written = {path: path.stat().st_mtime_ns for path in images}

    second = run("demo", cwd=tmp_path, **env)
    assert second.returncode == 0, second.stderr
    assert "already present" in second.stderr
    assert table_counts(database) == after_first
    assert {path: path.stat().st_mtime_ns for path in images} == written



def test_serve_with_two_workers_answers_on_one_port_and_stops_on_sigterm(tmp_path):
    """Each worker listens on its own SO_REUSEPORT socket; SIGTERM to the command stops every worker."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    database = f"sqlite+aiosqlite:///{tmp_path / 'mall.db'}"
    assert run("migrate", cwd=tmp_path, DATABASE_URL=database).returncode == 0
    server = subprocess.Popen([str(CLI), "serve", "--workers", "2", "--port", str(port)], cwd=tmp_path,
                              env=environment(DATABASE_URL=database), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 180  # a bound on waiting, generous for a busy machine
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5).status_code == 200
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0, server.stdout.read() if server.stdout else ""
    finally:
        server.kill()
