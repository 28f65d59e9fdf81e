from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from fissionmall.catalog.schemas import ProductCard
from fissionmall.recommend.rules import Source

Context = Literal["home", "product", "order"]


class Recommendation(BaseModel):
    product: ProductCard
    source: Source
    """also_bought (co-purchase neighbours), friends (好友在买), popular (recent paid orders), new (recently listed)."""
    reason: str
    """What the shopper reads beside it: 买了又买, 好友在买, 热销 or 新品."""


class Recommendations(BaseModel):
    context: Context
    items: list[Recommendation]
