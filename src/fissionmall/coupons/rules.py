"""A held coupon as checkout prices it, and which cart lines it covers (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

CouponKind = Literal["amount", "percent", "free_shipping"]


class CartLine(Protocol):
    """What a coupon's scope looks at on a line of the cart."""

    @property
    def product_id(self) -> int: ...

    @property
    def category_id(self) -> int | None: ...


@dataclass(frozen=True)
class CouponChoice:
    """A coupon (or a social discount credit) the shopper holds and chose, as priced at checkout."""

    coupon_id: int
    name: str
    kind: CouponKind
    amount_fen: int = 0
    percent_off: int = 0
    cap_fen: int | None = None
    threshold_fen: int = 0
    scope: Literal["all", "categories", "products"] = "all"
    scope_ids: frozenset[int] = frozenset()
    stackable: bool = False

    def covers(self, line: CartLine) -> bool:
        if self.scope == "products":
            return line.product_id in self.scope_ids
        if self.scope == "categories":
            return line.category_id in self.scope_ids
        return True

