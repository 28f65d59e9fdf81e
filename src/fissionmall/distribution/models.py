"""Distribution (分销): the merchant's switch and rates, distributors, and the commission ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, same_merchant, tenant_key


class DistributionConfig(TenantIdMixin, Base):
    __tablename__ = "distribution_configs"
    __table_args__ = (*tenant_key(),)

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"), unique=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    """Off: no new commission; everything written stays, settles and reverses as before. On: resumes."""
    grades: Mapped[list[Any]]
    """[{grade, name, level1_bp, level2_bp}]: rates in basis points of the amount actually paid."""
    level2_approval: Mapped[str | None] = mapped_column(String(300))
    """The recorded legal approval that allows level-2 commission (COMPLIANCE D1), with who recorded it."""
    level2_approved_by: Mapped[int | None] = mapped_column(Id)
    level2_approved_at: Mapped[datetime | None]
    auto_approve: Mapped[bool] = mapped_column(default=True)
    binding_days: Mapped[int | None]
    """A customer stays bound to their referrer this many days after joining; None: for good."""
    self_purchase: Mapped[bool] = mapped_column(default=False)
    """A distributor's own purchases earn them level-1 commission."""
    withdraw_min_fen: Mapped[int] = mapped_column(default=100)
    withdraw_review: Mapped[bool] = mapped_column(default=True)
    """Withdrawals wait for staff approval; off: each is approved and paid out as it is requested."""
    updated_at: Mapped[datetime]


class Distributor(TenantIdMixin, Base):
    __tablename__ = "distributors"
    __table_args__ = (*tenant_key(), same_merchant("customer_id", "customers"),
                      UniqueConstraint("customer_id", "merchant_id"),
                      CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
                      Index("ix_distributors_merchant_id", "merchant_id", "id"),
                      Index("ix_distributors_merchant_status", "merchant_id", "status", "id"))

    merchant_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    status: Mapped[str] = mapped_column(String(10))
    grade: Mapped[int] = mapped_column(default=1)
    applied_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class CommissionEntry(TenantIdMixin, Base):
    """Append-only. A commission is written frozen on payment, settles when its order completes (after the
    after-sale window: D6), and every refund writes its negative share, settled or frozen like what it reverses."""

    __tablename__ = "commission_entries"
    __table_args__ = (
        *tenant_key(),
        same_merchant("beneficiary_id", "customers"),
        same_merchant("order_id", "orders"),
        UniqueConstraint("entry_key", "merchant_id"),
        CheckConstraint("status IN ('frozen', 'settled')", name="status"),
        CheckConstraint("kind IN ('commission', 'reversal')", name="kind"),
        Index("ix_commission_entries_beneficiary", "beneficiary_id", "status"),
        Index("ix_commission_entries_order", "order_id"),
        Index("ix_commission_entries_merchant_id", "merchant_id", "id"),
        Index("ix_commission_entries_merchant_status_id", "merchant_id", "status", "id"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    beneficiary_id: Mapped[int] = mapped_column(Id)
    order_id: Mapped[int] = mapped_column(Id)
    buyer_id: Mapped[int] = mapped_column(Id)
    level: Mapped[int]
    """1 or 2 in the referral chain; 0 for a group leader's commission on the members of their group."""
    kind: Mapped[str] = mapped_column(String(12))
    amount_fen: Mapped[int]
    rate_bp: Mapped[int]
    base_fen: Mapped[int]
    status: Mapped[str] = mapped_column(String(10))
    entry_key: Mapped[str] = mapped_column(String(80))
    """Makes each write happen once however often its job runs."""
    created_at: Mapped[datetime]
    settled_at: Mapped[datetime | None]


class Payee(TenantIdMixin, Base):
    """Whom commission is paid out to, with the identity checked before any withdrawal (COMPLIANCE F6). Every
    withdrawal request locks this row, so two requests never spend the same balance."""

    __tablename__ = "payees"
    __table_args__ = (*tenant_key(), same_merchant("customer_id", "customers"),
                      UniqueConstraint("customer_id", "merchant_id"))

    merchant_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    real_name: Mapped[str] = mapped_column(String(40))
    id_number_hash: Mapped[str] = mapped_column(String(64))
    """HMAC of the resident ID number: the number itself is never stored."""
    id_tail: Mapped[str] = mapped_column(String(4))
    checked_at: Mapped[datetime]


class Withdrawal(TenantIdMixin, Base):
    """Settled commission taken out: requested → approved → paid, or rejected (by staff, or by a failed transfer),
    which makes the money withdrawable again. What is withdrawable is the settled ledger less every withdrawal not
    rejected."""

    __tablename__ = "withdrawals"
    __table_args__ = (
        *tenant_key(),
        same_merchant("customer_id", "customers"),
        UniqueConstraint("withdrawal_no", "merchant_id"),
        CheckConstraint("status IN ('requested', 'approved', 'paid', 'rejected')", name="status"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        Index("ix_withdrawals_customer_status", "customer_id", "status"),
        Index("ix_withdrawals_merchant_status", "merchant_id", "status", "id"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    withdrawal_no: Mapped[str] = mapped_column(String(32))
    """The transfer's out_bill_no: the provider pays one bill once, however often the payout is retried."""
    amount_fen: Mapped[int]
    status: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(200))
    provider: Mapped[str | None] = mapped_column(String(20))
    bill_no: Mapped[str | None] = mapped_column(String(64))
    package_info: Mapped[str | None] = mapped_column(Text)
    """When the provider waits for the customer to confirm receipt in the mini-program."""
    requested_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(Id)
    paid_at: Mapped[datetime | None]
