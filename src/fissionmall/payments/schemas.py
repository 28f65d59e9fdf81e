from __future__ import annotations

from pydantic import BaseModel


class PayOut(BaseModel):
    payment_id: int | None
    """None when nothing is left to pay (a fully discounted order is paid at once)."""
    provider: str
    stage: str
    """full, deposit, or balance (the rest after a deposit, once the campaign succeeded)."""
    amount_fen: int
    params: dict[str, object]
    """What the client passes to wx.requestPayment (or, in the sandbox, to the complete call)."""
