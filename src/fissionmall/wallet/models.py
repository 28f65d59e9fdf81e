"""A customer's shop credit: an append-only ledger, and a balance kept by guarded statements (never < 0)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, same_merchant, tenant_key


class Wallet(TenantIdMixin, Base):
    __tablename__ = "wallets"
    __table_args__ = (*tenant_key(), same_merchant("customer_id", "customers"),
                      UniqueConstraint("customer_id", "merchant_id"),
                      CheckConstraint("balance_fen >= 0", name="balance_not_negative"))

    merchant_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    balance_fen: Mapped[int] = mapped_column(default=0)


class WalletEntry(TenantIdMixin, Base):
    """One movement. The unique key makes each grant or spend happen once per source, however retried."""

    __tablename__ = "wallet_entries"
    __table_args__ = (
        *tenant_key(),
        same_merchant("customer_id", "customers"),
        UniqueConstraint("customer_id", "kind", "source_type", "source_id", "merchant_id",
                         name="uq_wallet_entries_source"),
        Index("ix_wallet_entries_source", "source_type", "source_id"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    amount_fen: Mapped[int]
    """Positive: credit; negative: spent."""
    kind: Mapped[str] = mapped_column(String(30))
    source_type: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[int] = mapped_column(Id)
    campaign_id: Mapped[int | None] = mapped_column(Id)
    """The campaign whose budget paid for a credit, so every budget can be balanced against its grants."""
    created_at: Mapped[datetime]
