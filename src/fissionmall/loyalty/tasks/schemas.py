"""The tasks' API shapes: a task as the merchant sets it, and a customer's progress."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from fissionmall.core.schemas import RowId

TaskKind = Literal["invite_registered", "friend_first_purchase", "share_click", "checkin_streak", "review", "post"]


class TaskIn(BaseModel):
    name: str = Field(min_length=1, max_length=60)
    kind: TaskKind
    """invite_registered: a friend registers through the customer's share; friend_first_purchase: such a friend
    pays for the first time; share_click: a friend opens the customer's product share (the share itself counts
    for nothing); checkin_streak: check in `target` days in a row; review: write reviews; post: publish
    community posts."""
    period: Literal["once", "daily", "weekly"] = "once"
    target: int = Field(default=1, ge=1, le=1000)
    reward_points: int = Field(default=0, ge=0, le=1_000_000)
    reward_template_id: RowId | None = None
    active: bool = True

    @model_validator(mode="after")
    def _rewarded(self) -> TaskIn:
        if not self.reward_points and self.reward_template_id is None:
            raise ValueError("a task rewards points, a coupon, or both")
        return self


class TaskPatch(BaseModel):
    active: bool


class TaskOut(TaskIn):
    id: int


class MyTaskOut(BaseModel):
    task: TaskOut
    period_key: str
    count: int
    done: bool
