"""Pure community rules: the popularity score, keyword holds, the popular feed's cursor."""

from __future__ import annotations

import math
from datetime import datetime

from fissionmall.core.errors import InvalidInput

COMMENT_WEIGHT = 2
"""A comment says more than a like: it counts as two."""
TENFOLD_SECONDS = 12 * 3600
"""Age decay of the popular feed: a post twelve hours older needs ten times the likes and comments to rank the same."""


def hot_score(likes: int, comments: int, created_at: datetime) -> int:
    """热门 score: log10 of the engagement (likes + 2 × comments, at least 1), in units of TENFOLD_SECONDS, plus the
    post's creation time in seconds. Newer posts start higher, so older ones decay without the score ever being
    recomputed for the passing of time, and a post's order among others changes only when it is liked or commented."""
    engagement = max(likes + COMMENT_WEIGHT * comments, 1)
    return round(math.log10(engagement) * TENFOLD_SECONDS) + int(created_at.timestamp())


def held_by(text: str, keywords: list[str]) -> str | None:
    """The first of the merchant's keywords the text contains (case-insensitive), or None."""
    folded = text.casefold()
    return next((word for word in keywords if word.casefold() in folded), None)


def clean_keywords(words: list[str]) -> list[str]:
    """The merchant's keywords trimmed, empty ones dropped, each once, in the order given."""
    seen: dict[str, str] = {}
    for word in words:
        word = word.strip()
        if word and word.casefold() not in seen:
            seen[word.casefold()] = word
    return list(seen.values())


def hot_cursor(score: int, post_id: int) -> str:
    return f"{score}_{post_id}"


def parse_hot_cursor(raw: str | None) -> tuple[int, int] | None:
    """The popular feed's keyset cursor ("score_id"); anything else a client sends is refused."""
    if raw is None:
        return None
    score, _, post_id = raw.partition("_")
    if not all(part.isascii() and part.isdigit() and len(part) <= 18 for part in (score, post_id)):
        raise InvalidInput("invalid_cursor", "cursor is not one this API gave out", field="cursor")
    return int(score), int(post_id)
