from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from fissionmall.campaigns.helping.schemas import Budget


class InviteSettings(BaseModel):
    """Invite rewards: the inviter earns for each friend who really does something, never for sharing (S1)."""

    reward_on: Literal["register", "first_purchase"] = "first_purchase"
    """What the friend must do: become a new customer, or pay for a first order (the safer default)."""
    reward_fen: int = Field(ge=1, le=1_000_000)
    """Shop credit per friend."""
    max_friends: int = Field(default=10, ge=1, le=1000)
    """Friends one inviter is rewarded for, at most."""
    budget: Budget


class InviteRewardOut(BaseModel):
    invitee_id: int
    nickname: str
    outcome: str
    amount_fen: int
    created_at: datetime


class InviteProgressOut(BaseModel):
    """An inviter's page: who came through them, what each earned, and how many rewards are left."""

    campaign_id: int
    name: str
    reward_on: str
    reward_fen: int
    max_friends: int
    ends_at: datetime
    joined: int
    """Friends who signed up through the inviter's links (in any campaign), rewarded or not yet."""
    rewarded: int
    earned_fen: int
    friends: list[InviteRewardOut]
    rules: list[str]


class InviteCampaignOut(BaseModel):
    id: int
    name: str
    status: str
    reward_on: str
    reward_fen: int
    max_friends: int
    ends_at: datetime
    rules: list[str]
