"""The recommender's tables (为你推荐): who bought what (implicit feedback, one row per customer and product), how many
customers bought each product and each pair of products, every product's nearest co-purchase neighbours, the friends
whose purchases a customer is shown, and how far the event log has been read."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Float, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, tenant_key


class RecommendWatermark(Base):
    """The last event id whose purchases and friendships are in the tables: moved in the transaction that folds them."""

    __tablename__ = "recommend_watermarks"

    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)


class Purchase(TenantIdMixin, Base):
    """A customer holds at least one paid, unrefunded order line of this product: the model's implicit feedback."""

    __tablename__ = "recommend_purchases"
    __table_args__ = (*tenant_key(), UniqueConstraint("merchant_id", "customer_id", "product_id"))

    merchant_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    product_id: Mapped[int] = mapped_column(Id)


class ProductBuyers(TenantIdMixin, Base):
    """How many customers bought the product (its row in `recommend_purchases` counted); no row when none."""

    __tablename__ = "recommend_buyers"
    __table_args__ = (*tenant_key(), UniqueConstraint("merchant_id", "product_id"),
                      CheckConstraint("buyers > 0", name="buyers_positive"))

    merchant_id: Mapped[int] = mapped_column(Id)
    product_id: Mapped[int] = mapped_column(Id)
    buyers: Mapped[int]


class CoPurchase(TenantIdMixin, Base):
    """How many customers bought both products (同买): kept in both directions, so a product's partners are one range
    of the unique key; no row when none."""

    __tablename__ = "recommend_pairs"
    __table_args__ = (*tenant_key(), UniqueConstraint("merchant_id", "product_id", "other_id"),
                      CheckConstraint("together > 0", name="together_positive"),
                      CheckConstraint("product_id <> other_id", name="two_products"))

    merchant_id: Mapped[int] = mapped_column(Id)
    product_id: Mapped[int] = mapped_column(Id)
    other_id: Mapped[int] = mapped_column(Id)
    together: Mapped[int]


class Neighbour(TenantIdMixin, Base):
    """One of a product's top-K co-purchase neighbours (买了又买), with its shrunk cosine similarity and its rank
    (1 = closest)."""

    __tablename__ = "recommend_neighbours"
    __table_args__ = (*tenant_key(), UniqueConstraint("merchant_id", "product_id", "rank"),
                      Index("ix_recommend_neighbours_neighbour", "merchant_id", "neighbour_id"))

    merchant_id: Mapped[int] = mapped_column(Id)
    product_id: Mapped[int] = mapped_column(Id)
    rank: Mapped[int]
    neighbour_id: Mapped[int] = mapped_column(Id)
    score: Mapped[float] = mapped_column(Float)


class Friend(TenantIdMixin, Base):
    """Someone whose purchases a customer is shown as 好友在买: who referred them, whom they referred, and whose share
    links they opened."""

    __tablename__ = "recommend_friends"
    __table_args__ = (*tenant_key(), UniqueConstraint("merchant_id", "customer_id", "friend_id"),
                      CheckConstraint("customer_id <> friend_id", name="two_people"))

    merchant_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    friend_id: Mapped[int] = mapped_column(Id)
