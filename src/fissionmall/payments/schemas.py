from __future__ import annotations

from pydantic import BaseModel


class PayOut(BaseModel):
    payment_id: int
    provider: str
    amount_fen: int
    params: dict[str, object]
    """What the client passes to wx.requestPayment (or, in the sandbox, to the complete call)."""
