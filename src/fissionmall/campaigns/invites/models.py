"""Invite rewards (邀请有礼): what each invited friend earned their inviter, once per friend per campaign."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, same_merchant, tenant_key


class InviteReward(TenantIdMixin, Base):
    __tablename__ = "invite_rewards"
    __table_args__ = (
        *tenant_key(),
        same_merchant("campaign_id", "campaigns"),
        same_merchant("inviter_id", "customers"),
        same_merchant("invitee_id", "customers"),
        UniqueConstraint("campaign_id", "invitee_id", "merchant_id"),
        Index("ix_invite_rewards_inviter", "campaign_id", "inviter_id"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    campaign_id: Mapped[int] = mapped_column(Id)
    inviter_id: Mapped[int] = mapped_column(Id)
    invitee_id: Mapped[int] = mapped_column(Id)
    outcome: Mapped[str] = mapped_column(String(20))
    """rewarded, or why not: not_new (device seen before), high_risk, limit_reached, budget_spent."""
    amount_fen: Mapped[int]
    created_at: Mapped[datetime]
