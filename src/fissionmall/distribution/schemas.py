from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from fissionmall.distribution.plans import LintReport, Plan


class GradeRates(BaseModel):
    grade: int = Field(ge=1, le=20)
    name: str = Field(min_length=1, max_length=30)
    level1_bp: int = Field(ge=0, le=5000)
    """Level-1 commission in basis points of what the buyer paid (1000 = 10%)."""
    level2_bp: int = Field(default=0, ge=0, le=5000)


class ConfigIn(BaseModel):
    enabled: bool
    grades: list[GradeRates] = Field(min_length=1, max_length=20)
    level2_approval: str | None = Field(default=None, min_length=10, max_length=300)
    """Who approved level-2 commission and on what legal basis (required for any level-2 rate)."""
    auto_approve: bool = True
    binding_days: int | None = Field(default=None, ge=1, le=3650)
    self_purchase: bool = False
    withdraw_min_fen: int = Field(default=100, ge=30, le=1_000_000)
    """The smallest withdrawal (COMPLIANCE F6); WeChat Pay transfers start at 0.3 yuan."""
    withdraw_review: bool = True

    @field_validator("level2_approval")
    @classmethod
    def _meaningful(cls, approval: str | None) -> str | None:
        if approval is not None and len(approval.strip()) < 10:
            raise ValueError("a legal approval names who approved and on what basis (10 characters at least)")
        return approval.strip() if approval else approval

    @field_validator("grades")
    @classmethod
    def _distinct(cls, grades: list[GradeRates]) -> list[GradeRates]:
        if len({g.grade for g in grades}) != len(grades):
            raise ValueError("each grade once")
        return grades


class ConfigOut(ConfigIn):
    level2_approved_by: int | None
    level2_approved_at: datetime | None
    lint: LintReport


class DistributorOut(BaseModel):
    customer_id: int
    status: str
    grade: int
    applied_at: datetime
    decided_at: datetime | None


class EntryOut(BaseModel):
    order_id: int
    buyer_id: int
    level: int
    kind: str
    amount_fen: int
    status: str
    created_at: datetime


class PayeeOut(BaseModel):
    real_name: str
    id_tail: str
    checked_at: datetime


class MyDistributionOut(BaseModel):
    """A distributor's page: standing, who referred them, how many they referred, and their money."""

    distributor: DistributorOut | None
    referrer_id: int | None
    referrals: int
    frozen_fen: int
    settled_fen: int
    """May be negative: a refund after settlement is carried until new commission covers it."""
    withdrawable_fen: int
    """Settled commission less every withdrawal not rejected."""
    withdrawn_fen: int
    entries: list[EntryOut]
    payee: PayeeOut | None
    """The identity recorded for withdrawals (name and the ID number's last four), or None before it is."""


class TeamMemberOut(BaseModel):
    """A direct referral as their distributor sees them: a masked name and what they bought, nothing private."""

    name: str
    joined_at: datetime
    paid_orders: int


class PresetOut(BaseModel):
    plan: Plan
    report: LintReport


class IdentityIn(BaseModel):
    real_name: str = Field(min_length=2, max_length=40)
    id_number: str = Field(min_length=18, max_length=18)
    """A mainland resident ID number; kept only as a keyed hash and its last four characters."""


class WithdrawalIn(BaseModel):
    amount_fen: int = Field(ge=1, le=100_000_000)


class WithdrawalOut(BaseModel):
    id: int
    customer_id: int
    withdrawal_no: str
    amount_fen: int
    status: str
    reason: str | None
    bill_no: str | None
    package_info: str | None
    """While set, the customer confirms receipt in the mini-program (wx.requestMerchantTransfer)."""
    requested_at: datetime
    decided_at: datetime | None
    paid_at: datetime | None


class DecisionIn(BaseModel):
    reason: str | None = Field(default=None, min_length=2, max_length=200)


class GradeIn(BaseModel):
    grade: int = Field(ge=1, le=20)


class CommissionOut(BaseModel):
    """One line of the merchant's commission ledger: a commission, or a refund's reversal of one (negative)."""

    id: int
    beneficiary_id: int
    beneficiary_name: str
    order_id: int
    buyer_id: int
    level: int
    kind: str
    amount_fen: int
    rate_bp: int
    base_fen: int
    status: str
    created_at: datetime
    settled_at: datetime | None


class CommissionPage(BaseModel):
    items: list[CommissionOut]
    next_cursor: str | None
    """Pass as `cursor` for the next (older) page; None on the last."""


class PresetApplyIn(BaseModel):
    """What the kept part of the "3+9" plan needs from the merchant beyond the plan itself."""

    level2_approval: str | None = Field(default=None, min_length=10, max_length=300)
    """The recorded legal approval for the indirect subsidy (D1); without it level 2 stays off."""
    pool_bp: int = Field(default=300, ge=1, le=2000)
    """The dividend pool's share of the month's net sales (the plan does not say; at most 20%)."""


class AppliedRule(BaseModel):
    reward: str
    setting: str
    """What it became, in Chinese (or why it did not, for a kept rule that needs more)."""
    applied: bool


class PresetAppliedOut(BaseModel):
    rules: list[AppliedRule]
    """Each kept rule of the plan and the setting it became; refused rules are never among them."""
    distribution: ConfigOut
    dividend_enabled: bool
