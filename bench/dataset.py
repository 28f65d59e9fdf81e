"""The bench's own database, PostgreSQL or an SQLite file: created anew, migrated, then loaded in seconds.

One merchant as demo.py makes one (a store, an owner, categories, products with images and SKUs), and
`customers` shoppers who signed up a month ago, each on a device of their own (so the risk rules rank them as
ordinary customers, not as a farm). Campaigns are not loaded here: each scenario creates its own through the admin
API, so their settings pass the same validation and linting as a merchant's.

The SQL is the same on both databases: a recursive CTE rather than generate_series, timestamps bound from Python
rather than now(). Only making the database anew differs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bench import database
from bench.dividend import fresh_database
from fissionmall.core.auth import hash_password
from fissionmall.migrate import upgrade_async

MERCHANT = "bench"
OWNER, OWNER_PASSWORD = "owner", "bench-owner-pass"
PRODUCTS = 20
SKU_STOCK = 1_000_000
"""Deep stock: the scenarios race for campaign units and seats, not for the warehouse."""
CATEGORIES = ["咖啡茶饮", "零食坚果", "生鲜水果", "家居日用"]


async def create(url: str) -> None:
    """PostgreSQL: drop and create the database; SQLite: delete the file and its WAL. Then migrate."""
    if database.is_sqlite(url):
        path = database.sqlite_path(url)
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    else:
        await fresh_database(url)
    await upgrade_async(url)


async def load(url: str, customers: int, progress: Callable[[int], None], step: int = 20_000) -> None:
    """The merchant and its catalogue, then customers in chunks of `step` (one INSERT … SELECT each)."""
    db = await database.connect(url)
    try:
        now = datetime.now(UTC)
        await _merchant(db, now)
        for first in range(1, customers + 1, step):
            last = min(customers, first + step - 1)
            await db.execute(
                """
                INSERT INTO customers (merchant_id, openid, nickname, avatar_url, depth, signup_device_id, signup_ip,
                                       created_at)
                WITH RECURSIVE g(n) AS (SELECT CAST($1 AS integer) UNION ALL SELECT n + 1 FROM g WHERE n < $2)
                SELECT 1, 'bench-' || n, '顾客' || n, '', 0, 'dev-' || n, '10.0.0.1', $3 FROM g""",
                first,
                last,
                now - timedelta(days=30),
            )
            progress(last - first + 1)
        await db.execute("ANALYZE")
    finally:
        await db.close()


async def _merchant(db: database.Database, now: datetime) -> None:
    await db.execute(
        """
        INSERT INTO merchants (slug, name, payment_timeout_minutes, auto_receive_days, after_sale_days,
                               shipping_fee_fen, coupons_on_campaign_orders, restore_coupons_on_refund, created_at)
        VALUES ($1, '压测商城', 30, 10, 7, 0, false, true, $2)""",
        MERCHANT,
        now,
    )
    await db.execute("INSERT INTO stores (merchant_id, name, address, active) VALUES (1, '旗舰店', '上海', true)")
    await db.execute(
        "INSERT INTO staff (merchant_id, username, password_hash, role, active) VALUES (1, $1, $2, 'owner', true)",
        OWNER,
        hash_password(OWNER_PASSWORD),
    )
    await db.executemany(
        "INSERT INTO categories (merchant_id, name, position) VALUES (1, $1, $2)",
        [(name, i) for i, name in enumerate(CATEGORIES)],
    )
    products = range(1, PRODUCTS + 1)
    await db.executemany(
        """
        INSERT INTO products (merchant_id, category_id, title, subtitle, description, status, created_at)
        VALUES (1, $1, $2, $3, $4, 'on_sale', $5)""",
        [(1 + (p - 1) % 4, f"压测商品 {p}", f"副标题 {p}", f"商品 {p} 的详情", now) for p in products],
    )
    await db.executemany(
        "INSERT INTO product_images (merchant_id, product_id, url, position) VALUES (1, $1, $2, $3)",
        [(p, f"/media/bench/product-{p}-{n}.png", n) for p in products for n in range(3)],
    )
    await db.executemany(
        "INSERT INTO skus (merchant_id, product_id, code, name, price_fen, stock, active) "
        "VALUES (1, $1, $2, $3, $4, $5, true)",
        [(p, f"B{p}-{n}", f"规格 {n}", price_of(p, n), SKU_STOCK) for p in products for n in (1, 2)],
    )


def sku_of(product_id: int, n: int = 1) -> int:
    """SKU ids follow the insert order above: product p's n-th SKU."""
    return (product_id - 1) * 2 + n


def price_of(product_id: int, n: int = 1) -> int:
    return 2990 + product_id * 1000 + n * 500
