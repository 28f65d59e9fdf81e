"""Catalog use cases: the shopper's browsing and the merchant's product management."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog import errors, repository
from fissionmall.catalog.models import Category, Product, ProductImage, Sku
from fissionmall.catalog.schemas import (
    CategoryIn,
    ProductCard,
    ProductDetail,
    ProductIn,
    ProductPage,
    ProductPatch,
    SkuIn,
    SkuOut,
    SkuPatch,
)
from fissionmall.core.audit import note_before
from fissionmall.core.clock import Clock
from fissionmall.core.errors import InvalidInput
from fissionmall.core.pagination import parse_cursor
from fissionmall.db.claims import Claim, Claims, LockOrder
from fissionmall.db.sql import add_unique


async def list_products(session: AsyncSession, merchant_id: int, *, cursor: str | None, limit: int,
                        category_id: int | None, on_sale_only: bool = True) -> ProductPage:
    rows = await repository.product_page(session, merchant_id, after_id=parse_cursor(cursor) or 0, limit=limit,
                                         category_id=category_id, on_sale_only=on_sale_only)
    items = [_card(*row) for row in rows]
    return ProductPage(items=items, next_cursor=str(items[-1].id) if len(items) == limit else None)


def _card(p: Product, price: int | None, image: str | None, stock: int) -> ProductCard:
    return ProductCard(id=p.id, title=p.title, subtitle=p.subtitle, category_id=p.category_id, status=p.status,
                       price_fen=price, image=image, in_stock=stock > 0)


async def cards_of(session: AsyncSession, merchant_id: int, product_ids: list[int]) -> dict[int, ProductCard]:
    """Each product's tile by id (the merchant's own, on sale or not: a post shows what was bought)."""
    if not product_ids:
        return {}
    ids = sorted(set(product_ids))
    rows = await repository.product_page(session, merchant_id, after_id=0, limit=len(ids), category_id=None,
                                         on_sale_only=False, product_ids=ids)
    return {row[0].id: _card(*row) for row in rows}


async def require_product(session: AsyncSession, merchant_id: int, product_id: int, *,
                          on_sale: bool = False) -> Product:
    product = await repository.product_with_parts(session, merchant_id, product_id)
    if product is None or (on_sale and product.status != "on_sale"):
        raise errors.product_not_found(product_id)
    return product


def detail(product: Product, *, shopper_view: bool) -> ProductDetail:
    skus = [s for s in product.skus if s.active or not shopper_view]
    return ProductDetail(
        id=product.id, title=product.title, subtitle=product.subtitle, description=product.description,
        category_id=product.category_id, status=product.status, images=[i.url for i in product.images],
        skus=[SkuOut.model_validate(s, from_attributes=True) for s in skus],
    )


async def product_detail(session: AsyncSession, merchant_id: int, product_id: int, *,
                         shopper_view: bool) -> ProductDetail:
    product = await require_product(session, merchant_id, product_id, on_sale=shopper_view)
    return detail(product, shopper_view=shopper_view)


async def _check_category(session: AsyncSession, merchant_id: int, category_id: int | None) -> None:
    if category_id is not None and await repository.category_of(session, merchant_id, category_id) is None:
        raise errors.category_not_found(category_id)


async def require_own(session: AsyncSession, merchant_id: int, scope: str, ids: list[int]) -> None:
    """A coupon's scope names this merchant's own products or categories: any other id, another merchant's
    included, is refused as not found."""
    model = Category if scope == "categories" else Product
    if ids and (missing := await repository.foreign_ids(session, merchant_id, model, ids)):
        raise (errors.category_not_found if model is Category else errors.product_not_found)(missing[0])


async def _add_with_codes(session: AsyncSession, merchant_id: int, row: Product | Sku, codes: list[str]) -> None:
    """Insert a product or SKU; the unique (merchant, code) key decides, then says which codes were taken."""
    if not await add_unique(session, row):
        raise errors.sku_code_taken(await repository.sku_code_taken(session, merchant_id, codes) or codes)


async def create_product(session: AsyncSession, merchant_id: int, body: ProductIn, clock: Clock) -> ProductDetail:
    await _check_category(session, merchant_id, body.category_id)
    product = Product(merchant_id=merchant_id, title=body.title, subtitle=body.subtitle,
                      description=body.description, category_id=body.category_id, status=body.status,
                      created_at=clock.now())
    product.images = [ProductImage(merchant_id=merchant_id, url=url, position=i) for i, url in enumerate(body.images)]
    product.skus = [Sku(merchant_id=merchant_id, **sku.model_dump()) for sku in body.skus]
    await _add_with_codes(session, merchant_id, product, [sku.code for sku in body.skus])
    return detail(product, shopper_view=False)


async def update_product(session: AsyncSession, merchant_id: int, product_id: int,
                         body: ProductPatch) -> ProductDetail:
    product = await require_product(session, merchant_id, product_id)
    changes = body.model_dump(exclude_unset=True)
    note_before(session, {field: [image.url for image in product.images] if field == "images"
                          else getattr(product, field) for field in changes})
    if "category_id" in changes:
        await _check_category(session, merchant_id, changes["category_id"])
    images = changes.pop("images", None)
    for field, value in changes.items():
        setattr(product, field, value)
    if images is not None:
        product.images = [ProductImage(merchant_id=merchant_id, url=url, position=i) for i, url in enumerate(images)]
    await session.flush()
    return detail(product, shopper_view=False)


async def add_sku(session: AsyncSession, merchant_id: int, product_id: int, body: SkuIn) -> SkuOut:
    await require_product(session, merchant_id, product_id)
    sku = Sku(merchant_id=merchant_id, product_id=product_id, **body.model_dump())
    await _add_with_codes(session, merchant_id, sku, [body.code])
    return SkuOut.model_validate(sku, from_attributes=True)


async def patch_sku(session: AsyncSession, merchant_id: int, sku_id: int, body: SkuPatch) -> SkuOut:
    sku = await repository.sku_of(session, merchant_id, sku_id)
    if sku is None:
        raise errors.sku_not_found(sku_id)
    changes = body.model_dump(exclude_unset=True, exclude={"stock_delta"})
    note_before(session, sku, [*changes, *(["stock"] if body.stock_delta else [])])
    if body.stock_delta:
        result = await session.execute(
            update(Sku).where(Sku.id == sku_id, Sku.stock + body.stock_delta >= 0)
            .values(stock=Sku.stock + body.stock_delta)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise errors.stock_below_zero(sku_id)
        await session.refresh(sku, ["stock"])
    for field, value in changes.items():
        setattr(sku, field, value)
    await session.flush()
    return SkuOut.model_validate(sku, from_attributes=True)


async def list_categories(session: AsyncSession, merchant_id: int) -> list[Category]:
    return await repository.categories(session, merchant_id)


async def add_category(session: AsyncSession, merchant_id: int, body: CategoryIn) -> Category:
    category = Category(merchant_id=merchant_id, **body.model_dump())
    if not await add_unique(session, category):
        raise InvalidInput("category_exists", f"category {body.name!r} exists", field="name")
    return category


async def sellable_skus(session: AsyncSession, merchant_id: int,
                        sku_ids: list[int]) -> list[tuple[Sku, str, int | None]]:
    return await repository.sellable_skus(session, merchant_id, sku_ids)


def stock_claims(wanted: dict[int, int], short: Callable[[int], Exception]) -> Claims:
    """Stock for every SKU, one guarded update each (applied in id order, so concurrent orders never deadlock);
    `short(sku_id)` is the error for a SKU without enough."""
    def claim(sku_id: int) -> Claim:
        async def refusal(_: AsyncSession) -> Exception:
            return short(sku_id)

        return Claim((LockOrder.STOCK, sku_id), repository.taking_stock, repository.STOCK_SUFFICES,
                     {"sku_id": sku_id, "quantity": wanted[sku_id]}, refusal)

    return Claims(tuple(claim(sku_id) for sku_id in sorted(wanted)))


async def release_stock(session: AsyncSession, quantities: dict[int, int]) -> None:
    await repository.return_stock(session, quantities)


async def sku_choices(session: AsyncSession, merchant_id: int, limit: int = 500, *, product_ids: Sequence[int] = (),
                      sku_ids: Sequence[int] = ()) -> list[tuple[int, str, int, str, int]]:
    """The merchant's products and their SKUs (newest products first), for a form that picks one; the products named
    and those holding the SKUs named (what a form already holds) are always among them."""
    return await repository.sku_choices(session, merchant_id, limit, product_ids, sku_ids)


async def titles_of(session: AsyncSession, merchant_id: int, product_ids: list[int]) -> dict[int, str]:
    """Each product's title by id (the merchant's own only), for lists that name products."""
    return await repository.titles(session, merchant_id, sorted(set(product_ids))) if product_ids else {}


# Reads the merchant console makes as the repository answers them (pages call domains through their services).
console_product_page = repository.console_product_page
