"""Cursors are row ids rendered as text; anything else a client sends is refused, never crashes."""

from __future__ import annotations

from fissionmall.core.errors import InvalidInput


def row_id_in(text: str | None) -> int | None:
    """The row id a person typed (a search box, a filter) or None: ASCII digits only ("²" and "①" are digits to
    str.isdigit but not to int) and at most 18 of them, so it fits a BIGINT."""
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def parse_cursor(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise InvalidInput("invalid_cursor", "cursor is not one this API gave out", field="cursor")
    return int(raw)
