"""The bench's own database: dropped, created, migrated, then loaded with set-based SQL in seconds.

One merchant as demo.py makes one (a store, an owner, categories, products with images and SKUs), and
`customers` shoppers who signed up a month ago, each on a device of their own (so the risk rules rank them as
ordinary customers, not as a farm). Campaigns are not loaded here: each scenario creates its own through the admin
API, so their settings pass the same validation and linting as a merchant's.
"""

from __future__ import annotations

from collections.abc import Callable

import asyncpg

from bench.dividend import fresh_database
from fissionmall.core.auth import hash_password
from fissionmall.db.migrate import upgrade_async

MERCHANT = "bench"
OWNER, OWNER_PASSWORD = "owner", "bench-owner-pass"
PRODUCTS = 20
SKU_STOCK = 1_000_000
"""Deep stock: the scenarios race for campaign units and seats, not for the warehouse."""
CATEGORIES = ["咖啡茶饮", "零食坚果", "生鲜水果", "家居日用"]


def plain_url(url: str) -> str:
    """asyncpg's form of a SQLAlchemy URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def create(url: str) -> None:
    await fresh_database(url)
    await upgrade_async(url)


async def load(url: str, customers: int, progress: Callable[[int], None], step: int = 20_000) -> None:
    """The merchant and its catalogue, then customers in chunks of `step` (one INSERT … SELECT each)."""
    connection = await asyncpg.connect(plain_url(url))
    try:
        async with connection.transaction():
            await _merchant(connection)
        for first in range(1, customers + 1, step):
            last = min(customers, first + step - 1)
            await connection.execute(
                """
                INSERT INTO customers (merchant_id, openid, nickname, avatar_url, depth, signup_device_id, signup_ip,
                                       created_at)
                SELECT 1, 'bench-' || g, '顾客' || g, '', 0, 'dev-' || g, '10.0.0.1', now() - interval '30 days'
                FROM generate_series($1::int, $2::int) g""",
                first,
                last,
            )
            progress(last - first + 1)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def _merchant(connection: asyncpg.Connection) -> None:
    await connection.execute(
        """
        INSERT INTO merchants (slug, name, payment_timeout_minutes, auto_receive_days, after_sale_days,
                               shipping_fee_fen, coupons_on_campaign_orders, restore_coupons_on_refund, created_at)
        VALUES ($1, '压测商城', 30, 10, 7, 0, false, true, now())""",
        MERCHANT,
    )
    await connection.execute(
        "INSERT INTO stores (merchant_id, name, address, active) VALUES (1, '旗舰店', '上海', true)"
    )
    await connection.execute(
        "INSERT INTO staff (merchant_id, username, password_hash, role, active) VALUES (1, $1, $2, 'owner', true)",
        OWNER,
        hash_password(OWNER_PASSWORD),
    )
    await connection.executemany(
        "INSERT INTO categories (merchant_id, name, position) VALUES (1, $1, $2)",
        [(name, i) for i, name in enumerate(CATEGORIES)],
    )
    await connection.execute(
        """
        INSERT INTO products (merchant_id, category_id, title, subtitle, description, status, created_at)
        SELECT 1, 1 + (g - 1) % 4, '压测商品 ' || g, '副标题 ' || g, '商品 ' || g || ' 的详情', 'on_sale', now()
        FROM generate_series(1, $1::int) g""",
        PRODUCTS,
    )
    await connection.execute(
        """
        INSERT INTO product_images (merchant_id, product_id, url, position)
        SELECT 1, p, '/media/bench/product-' || p || '-' || n || '.png', n
        FROM generate_series(1, $1::int) p, generate_series(0, 2) n""",
        PRODUCTS,
    )
    await connection.execute(
        """
        INSERT INTO skus (merchant_id, product_id, code, name, price_fen, stock, active)
        SELECT 1, p, 'B' || p || '-' || n, '规格 ' || n, 2990 + p * 1000 + n * 500, $2, true
        FROM generate_series(1, $1::int) p, generate_series(1, 2) n
        ORDER BY p, n""",
        PRODUCTS,
        SKU_STOCK,
    )


def sku_of(product_id: int, n: int = 1) -> int:
    """SKU ids follow the insert order above: product p's n-th SKU."""
    return (product_id - 1) * 2 + n


def price_of(product_id: int, n: int = 1) -> int:
    return 2990 + product_id * 1000 + n * 500
