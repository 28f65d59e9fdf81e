"""Demo data: one merchant with two stores, a dozen products with SKUs and images, a few customers.

Idempotent: running it again changes nothing (images are redrawn only if missing).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from fissionmall.catalog.models import Category, Product, ProductImage, Sku
from fissionmall.catalog.placeholder import draw_picture
from fissionmall.core.runtime import Runtime
from fissionmall.customers.models import Customer
from fissionmall.merchants.models import Merchant, Staff, Store
from fissionmall.merchants.schemas import MerchantCreate
from fissionmall.merchants.service import create_merchant

DEMO_SLUG = "demo"
DEMO_PASSWORD = "demo-pass-2026"
STAFF = [("owner", "owner"), ("operator", "operator"), ("finance", "finance"), ("support", "support")]
CATEGORIES = ["咖啡茶饮", "零食坚果", "生鲜水果", "家居日用"]
# (category, title, subtitle, colour, [(sku name, price fen, stock)])
PRODUCTS = [
    (0, "云南小粒咖啡豆 中度烘焙", "新鲜现烘，手冲意式通用", "#6f4e37", [("250g", 3990, 200), ("500g", 6990, 120)]),
    (0, "冷萃咖啡液 12 杯装", "0 糖 0 脂，冰水即溶", "#3b2f2f", [("经典", 4990, 300), ("榛果", 5290, 150)]),
    (0, "西湖龙井 明前特级", "罐装 100g", "#5b8c5a", [("100g", 12800, 80)]),
    (1, "每日坚果 30 包", "6 种坚果果干科学配比", "#c68642", [("30 包", 8990, 500), ("60 包", 16900, 200)]),
    (1, "手撕牛肉干", "内蒙古风干，香辣/原味", "#8b3a3a", [("原味 250g", 5990, 150), ("香辣 250g", 5990, 150)]),
    (1, "海苔脆片", "烤制不油炸", "#2e5e4e", [("10 袋", 1990, 1000)]),
    (2, "赣南脐橙 5 斤", "现摘现发，果径 75mm+", "#f28c28", [("5 斤", 3980, 400), ("10 斤", 6980, 200)]),
    (2, "丹东草莓 3 斤", "红颜奶油草莓，冷链直达", "#d7263d", [("3 斤", 9900, 60)]),
    (2, "泰国金枕榴莲", "整果 3-4 斤", "#c9b037", [("1 个", 15900, 40)]),
    (3, "竹纤维抽纸 24 包", "母婴可用，无荧光剂", "#7a9e7e", [("24 包", 4590, 800)]),
    (3, "全棉四件套", "60 支长绒棉", "#4a6fa5", [("1.5 米床", 29900, 50), ("1.8 米床", 33900, 50)]),
    (3, "不锈钢保温杯 500ml", "12 小时保温", "#34495e", [("星空黑", 6900, 300), ("樱花粉", 6900, 300)]),
]
CUSTOMERS = [("demo-alice", "小红"), ("demo-bob", "阿明"), ("demo-carol", "小丽"), ("demo-dave", "老王")]


def draw_product_image(path: Path, title: str, colour: str) -> None:
    """A clean placeholder photo: brand colour, the product's name, a soft highlight."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draw_picture(title, colour).save(path, "PNG", optimize=True)


async def load_demo(runtime: Runtime, progress: Callable[[str], None] = lambda _: None) -> bool:
    """Create the demo merchant if absent. Returns True when something was created."""
    now = runtime.clock.now()
    media = Path(runtime.settings.media_dir) / "demo"
    for index, (_, title, _, colour, _) in enumerate(PRODUCTS):
        image = media / f"product-{index + 1}.png"
        if not image.exists():
            draw_product_image(image, title, colour)
        progress(f"image {index + 1}/{len(PRODUCTS)}")
    async with runtime.sessionmaker() as session:
        if (await session.execute(select(Merchant).where(Merchant.slug == DEMO_SLUG))).scalar_one_or_none():
            return False
        (owner_name, _), *others = STAFF
        merchant, owner = await create_merchant(session, now, MerchantCreate(
            slug=DEMO_SLUG, name="裂变好物商城", owner_username=owner_name, owner_password=DEMO_PASSWORD))
        session.add_all([Store(merchant_id=merchant.id, name="静安旗舰店", address="上海市静安区南京西路 1 号"),
                         Store(merchant_id=merchant.id, name="徐汇社区店", address="上海市徐汇区天钥桥路 2 号")])
        session.add_all([Staff(merchant_id=merchant.id, username=name, password_hash=owner.password_hash, role=role)
                         for name, role in others])
        categories = [Category(merchant_id=merchant.id, name=name, position=i) for i, name in enumerate(CATEGORIES)]
        session.add_all(categories)
        await session.flush()
        for index, (category, title, subtitle, _, skus) in enumerate(PRODUCTS):
            product = Product(merchant_id=merchant.id, category_id=categories[category].id, title=title,
                              subtitle=subtitle, description=f"{title}：{subtitle}。", status="on_sale", created_at=now)
            product.images = [ProductImage(merchant_id=merchant.id, url=f"/media/demo/product-{index + 1}.png")]
            product.skus = [Sku(merchant_id=merchant.id, code=f"D{index + 1:02d}-{n + 1}", name=name, price_fen=price,
                                stock=stock) for n, (name, price, stock) in enumerate(skus)]
            session.add(product)
            progress(f"product {index + 1}/{len(PRODUCTS)}")
        session.add_all([Customer(merchant_id=merchant.id, openid=openid, nickname=nickname, created_at=now)
                         for openid, nickname in CUSTOMERS])
        await session.commit()
    return True
