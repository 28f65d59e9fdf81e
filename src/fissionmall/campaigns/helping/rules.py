"""Pure rules of helping."""

from __future__ import annotations

from fissionmall.campaigns.helping.schemas import HelpRules
from fissionmall.fraud.risk import HIGH_RISK


def withholds(rules: HelpRules, rank: int) -> bool:
    """Whether the customer's risk rank withholds a prize altogether, as the campaign published (F4)."""
    return rank >= HIGH_RISK and rules.high_risk == "nothing"


def risky_prize(rules: HelpRules, rank: int, prize_fen: int, minimum_fen: int) -> int:
    """What a prize becomes for the customer's risk rank, as the campaign published (F4)."""
    if withholds(rules, rank):
        return 0
    return prize_fen if rank < HIGH_RISK else min(prize_fen, minimum_fen)
