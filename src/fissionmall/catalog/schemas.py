from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from fissionmall.core.schemas import Patch, RowId

MAX_PRICE_FEN = 100_000_000
"""¥1,000,000: anything above is a typing error, not a price."""

ImageUrl = str


def _check_image_url(url: str) -> str:
    if not (url.startswith(("https://", "http://", "/media/")) and len(url) <= 300 and " " not in url):
        raise ValueError("image url must be http(s):// or /media/… and at most 300 characters")
    return url


class SkuIn(BaseModel):
    code: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_\-.]+$")
    name: str = Field(min_length=1, max_length=100)
    price_fen: int = Field(ge=1, le=MAX_PRICE_FEN)
    stock: int = Field(default=0, ge=0, le=1_000_000)


class SkuPatch(Patch):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    price_fen: int | None = Field(default=None, ge=1, le=MAX_PRICE_FEN)
    stock_delta: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    """Relative, so a merchant's restock never overwrites reservations made meanwhile."""
    active: bool | None = None


class SkuOut(BaseModel):
    id: int
    code: str
    name: str
    price_fen: int
    stock: int
    active: bool


class ProductIn(BaseModel):
    title: str = Field(min_length=1, max_length=120)
    subtitle: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=20_000)
    category_id: RowId | None = None
    status: Literal["on_sale", "off_sale"] = "on_sale"
    images: list[ImageUrl] = Field(default_factory=list, max_length=20)
    skus: list[SkuIn] = Field(min_length=1, max_length=50)

    @field_validator("images")
    @classmethod
    def _images(cls, urls: list[str]) -> list[str]:
        return [_check_image_url(url) for url in urls]

    @field_validator("skus")
    @classmethod
    def _unique_codes(cls, skus: list[SkuIn]) -> list[SkuIn]:
        if len({sku.code for sku in skus}) != len(skus):
            raise ValueError("SKU codes must be unique")
        return skus


class ProductPatch(Patch):
    clearable = frozenset({"category_id"})

    title: str | None = Field(default=None, min_length=1, max_length=120)
    subtitle: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)
    category_id: RowId | None = None
    status: Literal["on_sale", "off_sale"] | None = None
    images: list[ImageUrl] | None = Field(default=None, max_length=20)

    @field_validator("images")
    @classmethod
    def _images(cls, urls: list[str] | None) -> list[str] | None:
        return None if urls is None else [_check_image_url(url) for url in urls]


class ProductCard(BaseModel):
    """A product in a list: enough for a grid tile."""

    id: int
    title: str
    subtitle: str
    category_id: int | None
    status: str
    price_fen: int | None
    """The lowest active SKU price."""
    image: str | None
    in_stock: bool


class ProductDetail(BaseModel):
    id: int
    title: str
    subtitle: str
    description: str
    category_id: int | None
    status: str
    images: list[str]
    skus: list[SkuOut]
    campaigns: list[dict[str, object]] = Field(default_factory=list)
    """Active campaigns on this product, with their prices (filled by campaign mechanics)."""


class ProductPage(BaseModel):
    items: list[ProductCard]
    next_cursor: str | None


class CategoryIn(BaseModel):
    name: str = Field(min_length=1, max_length=60)
    position: int = Field(default=0, ge=0, le=10_000)


class CategoryOut(CategoryIn):
    id: int
