"""Every query about the catalog. The list page is one statement, whatever its length."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from fissionmall.catalog.models import Category, Product, ProductImage, Sku
from fissionmall.db.sql import table

ProductRow = tuple[Product, int | None, str | None, int]
"""(product, lowest active price, first image, stock of active SKUs)"""


async def product_page(session: AsyncSession, merchant_id: int, *, after_id: int, limit: int,
                       category_id: int | None, on_sale_only: bool,
                       product_ids: list[int] | None = None) -> list[ProductRow]:
    active_skus = (Sku.product_id == Product.id) & Sku.active
    min_price = select(func.min(Sku.price_fen)).where(active_skus).scalar_subquery()
    stock = select(func.coalesce(func.sum(Sku.stock), 0)).where(active_skus).scalar_subquery()
    first_image = (
        select(ProductImage.url).where(ProductImage.product_id == Product.id)
        .order_by(ProductImage.position, ProductImage.id).limit(1).scalar_subquery()
    )
    statement = (
        select(Product, min_price, first_image, stock)
        .where(Product.merchant_id == merchant_id, Product.id > after_id)
        .order_by(Product.id)
        .limit(limit)
    )
    if on_sale_only:
        statement = statement.where(Product.status == "on_sale")
    if category_id is not None:
        statement = statement.where(Product.category_id == category_id)
    if product_ids is not None:
        statement = statement.where(Product.id.in_(product_ids))
    return [(row[0], row[1], row[2], row[3]) for row in (await session.execute(statement)).all()]


async def product_with_parts(session: AsyncSession, merchant_id: int, product_id: int) -> Product | None:
    statement = (
        select(Product)
        .options(selectinload(Product.skus), selectinload(Product.images))
        .where(Product.merchant_id == merchant_id, Product.id == product_id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def sku_of(session: AsyncSession, merchant_id: int, sku_id: int) -> Sku | None:
    statement = select(Sku).where(Sku.merchant_id == merchant_id, Sku.id == sku_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def sku_code_taken(session: AsyncSession, merchant_id: int, codes: list[str]) -> list[str]:
    statement = select(Sku.code).where(Sku.merchant_id == merchant_id, Sku.code.in_(codes))
    return list((await session.execute(statement)).scalars())


async def sellable_skus(session: AsyncSession, merchant_id: int,
                        sku_ids: list[int]) -> list[tuple[Sku, str, int | None]]:
    """SKUs that can be ordered now (active, product on sale), with their product's title and category."""
    rows = await session.execute(_SELLABLE, dict(merchant_id=merchant_id, sku_ids=sku_ids))
    return [(row[0], row[1], row[2]) for row in rows.all()]


_SELLABLE = (
    select(Sku, Product.title, Product.category_id)
    .join(Product, Product.id == Sku.product_id)
    .where(Sku.merchant_id == bindparam("merchant_id"), Sku.id.in_(bindparam("sku_ids", expanding=True)), Sku.active,
           Product.status == "on_sale")
)
_SKUS = table(Sku)


def _stock_suffices(prefix: str) -> list[Any]:
    quantity: Any = bindparam(f"{prefix}quantity")
    return [_SKUS.c.id == bindparam(f"{prefix}sku_id"), _SKUS.c.stock >= quantity]


def taking_stock(prefix: str, insert: Any, after: Any) -> Any:
    """The guarded statement that reserves a SKU's stock (a contended claim: `db.claims.Claim`)."""
    statement = (update(_SKUS).where(*_stock_suffices(prefix))
                 .values(stock=_SKUS.c.stock - bindparam(f"{prefix}quantity")).returning(_SKUS.c.stock))
    return statement if after is None else statement.where(after)


STOCK_SUFFICES = select(_SKUS.c.id).where(*_stock_suffices(""))
"""Whether `taking_stock` would go through now: a plain read, no write, no lock (a preview)."""


async def return_stock(session: AsyncSession, quantities: dict[int, int]) -> None:
    for sku_id, quantity in sorted(quantities.items()):
        await session.execute(update(Sku).where(Sku.id == sku_id).values(stock=Sku.stock + quantity))


async def categories(session: AsyncSession, merchant_id: int) -> list[Category]:
    statement = select(Category).where(Category.merchant_id == merchant_id).order_by(Category.position, Category.id)
    return list((await session.execute(statement)).scalars())


async def category_of(session: AsyncSession, merchant_id: int, category_id: int) -> Category | None:
    statement = select(Category).where(Category.merchant_id == merchant_id, Category.id == category_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def foreign_ids(session: AsyncSession, merchant_id: int, model: type[Product] | type[Category],
                      ids: list[int]) -> list[int]:
    """Those of `ids` that name no row of this merchant's (another merchant's, or none at all)."""
    statement = select(model.id).where(model.merchant_id == merchant_id, model.id.in_(ids))
    own = set((await session.execute(statement)).scalars())
    return [found for found in ids if found not in own]


ConsoleProductRow = tuple[Product, int | None, int | None, str | None, int, int]
"""(product, lowest and highest SKU price, first image, stock of all its SKUs, how many SKUs)"""


async def console_product_page(session: AsyncSession, merchant_id: int, *, before_id: int | None, limit: int,
                               title: str = "", category_id: int | None = None,
                               status: str | None = None) -> list[ConsoleProductRow]:
    """The merchant's products, newest first, one keyset page: searched by title, filtered by category and status,
    each with its price range, main image and stock total (every SKU, on sale or not). One statement."""
    skus = Sku.product_id == Product.id
    low = select(func.min(Sku.price_fen)).where(skus).scalar_subquery()
    high = select(func.max(Sku.price_fen)).where(skus).scalar_subquery()
    stock = select(func.coalesce(func.sum(Sku.stock), 0)).where(skus).scalar_subquery()
    count = select(func.count(Sku.id)).where(skus).scalar_subquery()
    first_image = (
        select(ProductImage.url).where(ProductImage.product_id == Product.id)
        .order_by(ProductImage.position, ProductImage.id).limit(1).scalar_subquery()
    )
    statement = (select(Product, low, high, first_image, stock, count).where(Product.merchant_id == merchant_id)
                 .order_by(Product.id.desc()).limit(limit))
    if before_id is not None:
        statement = statement.where(Product.id < before_id)
    if title:
        statement = statement.where(Product.title.icontains(title, autoescape=True))
    if category_id is not None:
        statement = statement.where(Product.category_id == category_id)
    if status is not None:
        statement = statement.where(Product.status == status)
    return [(row[0], row[1], row[2], row[3], row[4], row[5]) for row in (await session.execute(statement)).all()]


async def sku_choices(session: AsyncSession, merchant_id: int, limit: int, product_ids: Sequence[int] = (),
                      sku_ids: Sequence[int] = ()) -> list[tuple[int, str, int, str, int]]:
    """(product id, title, SKU id, SKU name, price) of the merchant's newest products, for a form's choice; the
    products named by `product_ids` and those holding `sku_ids` are always there, whole, however old."""
    columns = (Product.id, Product.title, Sku.id, Sku.name, Sku.price_fen)
    newest = (select(*columns).join(Sku, Sku.product_id == Product.id).where(Product.merchant_id == merchant_id)
              .order_by(Product.id.desc(), Sku.id).limit(limit))
    rows = {row[2]: (row[0], row[1], row[2], row[3], row[4]) for row in (await session.execute(newest)).all()}
    if product_ids or sku_ids:
        holding = select(Sku.product_id).where(Sku.id.in_(list(sku_ids)))
        named = (select(*columns).join(Sku, Sku.product_id == Product.id)
                 .where(Product.merchant_id == merchant_id,
                        or_(Product.id.in_(list(product_ids)), Product.id.in_(holding))))
        for row in (await session.execute(named)).all():
            rows.setdefault(row[2], (row[0], row[1], row[2], row[3], row[4]))
    return sorted(rows.values(), key=lambda row: (-row[0], row[2]))


async def titles(session: AsyncSession, merchant_id: int, product_ids: list[int]) -> dict[int, str]:
    statement = select(Product.id, Product.title).where(Product.merchant_id == merchant_id,
                                                        Product.id.in_(product_ids))
    return {product_id: title for product_id, title in await session.execute(statement)}
