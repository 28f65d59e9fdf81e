"""A campaign's forecast, kept to be compared with what happened after launch (预测与实际)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, IdMixin


class CampaignForecast(IdMixin, Base):
    """One per campaign: the simulator's inputs and answer, made while the campaign was a draft or paused and kept
    unchanged once it is live."""

    __tablename__ = "campaign_forecasts"

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"))
    campaign_id: Mapped[int] = mapped_column(Id, ForeignKey("campaigns.id"), unique=True)
    made_at: Mapped[datetime]
    made_by: Mapped[int] = mapped_column(Id, ForeignKey("staff.id"))
    inputs: Mapped[dict[str, Any]]
    """The SimulationIn that was run: the campaign's own settings and the assumptions."""
    answer: Mapped[dict[str, Any]]
    """The SimulationOut, whole."""
