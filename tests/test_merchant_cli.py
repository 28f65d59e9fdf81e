"""`fissionmall merchant create|list`: an operator makes a tenant from the shell; the owner's password is typed
(hidden, twice) on a terminal, else generated and shown once; a bad input or a taken slug exits 2 with one line."""

from __future__ import annotations

import os
import pty
import select
import sqlite3
import time
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from tests.test_config_cli import CLI, environment, run

pytestmark = pytest.mark.backend_free


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("cli")
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'mall.db'}", "MEDIA_DIR": str(folder / "media")}
    migrated = run("migrate", cwd=folder, **env)
    assert migrated.returncode == 0, migrated.stderr
    return {**env, "folder": str(folder)}


def cli(database: dict[str, str], *args: str):
    env = {k: v for k, v in database.items() if k != "folder"}
    return run(*args, cwd=Path(database["folder"]), **env)


def owner_hash(database: dict[str, str], slug: str) -> tuple[str, str]:
    path = database["DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT s.username, s.password_hash FROM staff s JOIN merchants m "
                                  "ON m.id = s.merchant_id WHERE m.slug = ? AND s.role = 'owner'", (slug,)).fetchone()


def merchant_count(database: dict[str, str]) -> int:
    path = database["DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as connection:
        count: int = connection.execute("SELECT count(*) FROM merchants").fetchone()[0]
        return count


def one_line_refusal(result, word: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1 and word in lines[0], lines
    assert "Traceback" not in result.stderr


def on_terminal(database: dict[str, str], args: list[str], typed: list[str]) -> tuple[int, str]:
    """Run the command with a pseudo-terminal as its controlling terminal, typing each answer at each prompt."""
    env = environment(**{k: v for k, v in database.items() if k != "folder"})
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(database["folder"])
        os.execve(str(CLI), [str(CLI), *args], env)
    screen, answers, deadline = b"", list(typed), time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                screen += chunk
            if answers and screen.endswith(b": "):  # the whole prompt: echo is off by then
                os.write(fd, answers.pop(0).encode() + b"\n")
                screen += b"\n"
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), screen.decode(errors="replace")


def test_without_a_terminal_the_password_is_generated_and_shown_once(database):
    result = cli(database, "merchant", "create", "--slug", "tea-house", "--name", "Tea House")
    assert result.returncode == 0, result.stderr
    password = result.stdout.strip()
    assert len(password) >= 24 and password not in result.stderr
    username, password_hash = owner_hash(database, "tea-house")
    assert username == "owner" and PasswordHasher().verify(password_hash, password)


def test_on_a_terminal_the_password_is_typed_twice_and_never_shown(database):
    code, screen = on_terminal(database, ["merchant", "create", "--slug", "noodles", "--name", "面馆",
                                          "--owner", "wang"], ["a-typed-password", "a-typed-password"])
    assert code == 0, screen
    assert "a-typed-password" not in screen and "Repeat for confirmation" in screen, screen
    username, password_hash = owner_hash(database, "noodles")
    assert username == "wang" and PasswordHasher().verify(password_hash, "a-typed-password")


def test_a_short_typed_password_is_refused(database):
    before = merchant_count(database)
    code, screen = on_terminal(database, ["merchant", "create", "--slug", "short", "--name", "x"],
                               ["eleven-char", "eleven-char"])
    assert code == 2 and "owner password" in screen, screen
    assert merchant_count(database) == before


def test_a_taken_slug_or_a_bad_input_exits_2_with_one_line(database):
    cli(database, "merchant", "create", "--slug", "taken", "--name", "x", "--generate-password")
    before = merchant_count(database)
    one_line_refusal(cli(database, "merchant", "create", "--slug", "taken", "--name", "y"), "taken")
    one_line_refusal(cli(database, "merchant", "create", "--slug", "Bad_Slug", "--name", "y"), "--slug")
    one_line_refusal(cli(database, "merchant", "create", "--slug", "ok", "--name", "y", "--owner", "a b"), "--owner")
    assert merchant_count(database) == before


def test_list_shows_every_merchant(database):
    cli(database, "merchant", "create", "--slug", "listed", "--name", "Listed Mall")
    result = cli(database, "merchant", "list")
    assert result.returncode == 0, result.stderr
    assert "listed" in result.stdout and "Listed Mall" in result.stdout
