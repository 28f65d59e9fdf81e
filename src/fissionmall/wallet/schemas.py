from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class WalletEntryOut(BaseModel):
    amount_fen: int
    kind: str
    source_type: str
    source_id: int
    created_at: datetime


class WalletOut(BaseModel):
    balance_fen: int
    entries: list[WalletEntryOut]
    """The latest movements, newest first."""
