"""A campaign's forecast, kept to be compared with what happened after launch (预测与实际)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, same_merchant, tenant_key


class CampaignForecast(TenantIdMixin, Base):
    """One per campaign: the simulator's inputs and answer, made while the campaign was a draft or paused and kept
    unchanged once it is live."""

    __tablename__ = "campaign_forecasts"
    __table_args__ = (*tenant_key(), same_merchant("campaign_id", "campaigns"), same_merchant("made_by", "staff"),
                      UniqueConstraint("campaign_id", "merchant_id"))

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"))
    campaign_id: Mapped[int] = mapped_column(Id)
    made_at: Mapped[datetime]
    made_by: Mapped[int] = mapped_column(Id)
    inputs: Mapped[dict[str, Any]]
    """The SimulationIn that was run: the campaign's own settings and the assumptions."""
    answer: Mapped[dict[str, Any]]
    """The SimulationOut, whole."""
