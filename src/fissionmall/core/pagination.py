"""Cursors are row ids rendered as text; anything else a client sends is refused, never crashes."""

from __future__ import annotations

from fissionmall.core.errors import InvalidInput


def parse_cursor(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise InvalidInput("invalid_cursor", "cursor is not one this API gave out", field="cursor")
    return int(raw)
