"""Products, SKUs (price and stock), categories and images: one catalog shared by all stores."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fissionmall.db.base import Base, Id, TenantIdMixin, same_merchant, tenant_key


class Category(TenantIdMixin, Base):
    __tablename__ = "categories"
    __table_args__ = (*tenant_key(referenced=True), UniqueConstraint("merchant_id", "name"))

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"))
    name: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(default=0)


class Product(TenantIdMixin, Base):
    __tablename__ = "products"
    __table_args__ = (
        *tenant_key(referenced=True),
        same_merchant("category_id", "categories"),
        CheckConstraint("status IN ('on_sale', 'off_sale')", name="status"),
        Index("ix_products_merchant_status_id", "merchant_id", "status", "id"),
        Index("ix_products_merchant_category_id", "merchant_id", "category_id", "id"),
    )

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"))
    category_id: Mapped[int | None] = mapped_column(Id)
    """None: in no category. Its key has no ON DELETE SET NULL, which would clear the product's merchant_id with it;
    nothing deletes a category (a deletion would first clear its products' category_id)."""
    title: Mapped[str] = mapped_column(String(120))
    subtitle: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="on_sale")
    created_at: Mapped[datetime]

    skus: Mapped[list[Sku]] = relationship(order_by="Sku.id", lazy="raise")
    images: Mapped[list[ProductImage]] = relationship(order_by="ProductImage.position", lazy="raise",
                                                      cascade="all, delete-orphan")


class ProductImage(TenantIdMixin, Base):
    __tablename__ = "product_images"
    __table_args__ = (*tenant_key(), same_merchant("product_id", "products", ondelete="CASCADE"))

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"))
    product_id: Mapped[int] = mapped_column(Id, index=True)
    url: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(default=0)


class Sku(TenantIdMixin, Base):
    """A sellable variant. Stock is reserved by one guarded UPDATE when an order is placed."""

    __tablename__ = "skus"
    __table_args__ = (
        *tenant_key(referenced=True),
        same_merchant("product_id", "products", ondelete="CASCADE"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price_fen > 0", name="price_positive"),
        UniqueConstraint("merchant_id", "code"),
    )

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"))
    product_id: Mapped[int] = mapped_column(Id, index=True)
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(100))
    price_fen: Mapped[int]
    stock: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
