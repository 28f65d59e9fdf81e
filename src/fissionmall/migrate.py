"""Run Alembic from code, so `fissionmall migrate` needs no alembic.ini in the working directory.

The migrations sit beside `tables.py`, above every domain, since their environment reads the whole schema from it."""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str) -> None:
    """Alembic's env starts its own event loop, so run it in a thread from async code."""
    await asyncio.to_thread(upgrade, database_url)


@cache
def head_revision() -> str:
    """The revision the code expects the database to be at."""
    return str(ScriptDirectory.from_config(alembic_config("")).get_current_head())
