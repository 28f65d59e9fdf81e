"""Pure rules of helping."""

from __future__ import annotations

from fissionmall.campaigns.helping.schemas import HelpRules
from fissionmall.fraud.risk import HIGH_RISK


def risky_prize(rules: HelpRules, rank: int, prize_fen: int, minimum_fen: int) -> int:
    """What a prize becomes for the customer's risk rank, as the campaign published (F4)."""
    if rank < HIGH_RISK:
        return prize_fen
    return min(prize_fen, minimum_fen) if rules.high_risk == "minimum" else 0
