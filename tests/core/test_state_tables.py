"""Every stateful record's table of moves: the states it declares are exactly those its schema allows, its final
states move nowhere, and the moves DOMAIN.md names are allowed (or refused) as it says."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

import pytest
from sqlalchemy import CheckConstraint

from fissionmall.campaigns.assist.models import AssistPacket
from fissionmall.campaigns.assist.states import ASSIST_STATES, AssistStatus
from fissionmall.campaigns.bargain.models import Bargain
from fissionmall.campaigns.bargain.states import BARGAIN_STATES, BargainStatus
from fissionmall.campaigns.giftcards.models import Voucher
from fissionmall.campaigns.giftcards.states import VOUCHER_STATES, VoucherStatus
from fissionmall.campaigns.groupbuy.models import BuyingGroup
from fissionmall.campaigns.groupbuy.states import GROUP_STATES, GroupStatus
from fissionmall.campaigns.models import Campaign
from fissionmall.campaigns.packets.models import CouponPacket
from fissionmall.campaigns.packets.states import PACKET_STATES, PacketStatus
from fissionmall.campaigns.states import CAMPAIGN_STATES, CampaignStatus
from fissionmall.core.states import StateMachine
from fissionmall.coupons.models import Coupon, CouponTemplate
from fissionmall.coupons.states import COUPON_STATES, TEMPLATE_STATES, CouponStatus, TemplateStatus
from fissionmall.distribution.models import CommissionEntry, Distributor, Withdrawal
from fissionmall.distribution.states import (
    COMMISSION_STATES,
    DISTRIBUTOR_STATES,
    WITHDRAWAL_STATES,
    CommissionStatus,
    DistributorStatus,
    WithdrawalStatus,
)
from fissionmall.loyalty.dividend.models import DividendRun
from fissionmall.loyalty.dividend.states import RUN_STATES, RunStatus
from fissionmall.payments.models import Payment
from fissionmall.payments.states import PAYMENT_STATES, PaymentStatus

pytestmark = pytest.mark.backend_free

MACHINES: list[tuple[Any, StateMachine[Any], type[StrEnum]]] = [
    (Campaign, CAMPAIGN_STATES, CampaignStatus),
    (BuyingGroup, GROUP_STATES, GroupStatus),
    (Bargain, BARGAIN_STATES, BargainStatus),
    (AssistPacket, ASSIST_STATES, AssistStatus),
    (CouponPacket, PACKET_STATES, PacketStatus),
    (Voucher, VOUCHER_STATES, VoucherStatus),
    (Coupon, COUPON_STATES, CouponStatus),
    (CouponTemplate, TEMPLATE_STATES, TemplateStatus),
    (Distributor, DISTRIBUTOR_STATES, DistributorStatus),
    (CommissionEntry, COMMISSION_STATES, CommissionStatus),
    (Withdrawal, WITHDRAWAL_STATES, WithdrawalStatus),
    (Payment, PAYMENT_STATES, PaymentStatus),
    (DividendRun, RUN_STATES, RunStatus),
]
IDS = [model.__name__ for model, _, _ in MACHINES]


def allowed_by_schema(model: Any) -> set[str]:
    [check] = [c for c in model.__table__.constraints
               if isinstance(c, CheckConstraint) and str(c.sqltext).startswith("status IN")]
    return set(re.findall(r"'([a-z_]+)'", str(check.sqltext)))


@pytest.mark.parametrize(("model", "machine", "states"), MACHINES, ids=IDS)
def test_a_table_declares_every_state_its_schema_allows_and_no_other(model: Any, machine: StateMachine[Any],
                                                                     states: type[StrEnum]) -> None:
    assert set(machine.moves) == set(states) and {s.value for s in states} == allowed_by_schema(model)


@pytest.mark.parametrize(("model", "machine", "states"), MACHINES, ids=IDS)
def test_every_state_is_reached_or_initial_and_every_record_can_end(model: Any, machine: StateMachine[Any],
                                                                    states: type[StrEnum]) -> None:
    """No state a record could never get into, and none it could never leave towards a final one."""
    initial = next(iter(states))
    reachable = {initial} | {target for targets in machine.moves.values() for target in targets}
    assert reachable == set(states)
    assert machine.final()
    for state in states:
        seen, frontier = {state}, [state]
        while frontier:
            for target in machine.moves[frontier.pop()] - seen:
                seen.add(target)
                frontier.append(target)
        assert seen & machine.final(), f"{state} never ends"


def test_final_states_move_nowhere() -> None:
    assert GROUP_STATES.final() == {GroupStatus.SUCCEEDED, GroupStatus.FAILED}
    assert BARGAIN_STATES.final() == {BargainStatus.PURCHASED, BargainStatus.EXPIRED}
    assert ASSIST_STATES.final() == {AssistStatus.OPENED, AssistStatus.EXPIRED}
    assert PACKET_STATES.final() == {PacketStatus.FINISHED, PacketStatus.EXPIRED}
    assert VOUCHER_STATES.final() == {VoucherStatus.REFUNDED}
    assert CAMPAIGN_STATES.final() == {CampaignStatus.ENDED}
    assert TEMPLATE_STATES.final() == {TemplateStatus.ENDED}
    assert COUPON_STATES.final() == {CouponStatus.EXPIRED}
    assert WITHDRAWAL_STATES.final() == {WithdrawalStatus.PAID, WithdrawalStatus.REJECTED}
    assert COMMISSION_STATES.final() == {CommissionStatus.SETTLED}
    assert DISTRIBUTOR_STATES.final() == {DistributorStatus.APPROVED, DistributorStatus.REJECTED}
    assert PAYMENT_STATES.final() == {PaymentStatus.SUCCEEDED, PaymentStatus.CLOSED}
    assert RUN_STATES.final() == {RunStatus.CREDITED}


@pytest.mark.parametrize(("machine", "current", "target", "allowed"), [
    # a group that succeeded cannot fail afterwards, nor a failed one succeed (DOMAIN.md § Group buying)
    (GROUP_STATES, "open", GroupStatus.SUCCEEDED, True),
    (GROUP_STATES, "succeeded", GroupStatus.FAILED, False),
    (GROUP_STATES, "failed", GroupStatus.SUCCEEDED, False),
    # ongoing → reached_floor → purchased, or → expired; nothing comes back
    (BARGAIN_STATES, "ongoing", BargainStatus.PURCHASED, True),
    (BARGAIN_STATES, "reached_floor", BargainStatus.EXPIRED, True),
    (BARGAIN_STATES, "purchased", BargainStatus.EXPIRED, False),
    (BARGAIN_STATES, "reached_floor", BargainStatus.ONGOING, False),
    (ASSIST_STATES, "expired", AssistStatus.OPENED, False),
    (PACKET_STATES, "finished", PacketStatus.EXPIRED, False),
    # a voucher is redeemed at most once: a redeemed one is never redeemed again, a refunded one never used
    (VOUCHER_STATES, "redeemed", VoucherStatus.REDEEMED, False),
    (VOUCHER_STATES, "locked", VoucherStatus.SENT, False),
    (VOUCHER_STATES, "refunded", VoucherStatus.ACTIVE, False),
    (VOUCHER_STATES, "sent", VoucherStatus.ACTIVE, True),
    # draft → active ⇄ paused → ended
    (CAMPAIGN_STATES, "paused", CampaignStatus.ACTIVE, True),
    (CAMPAIGN_STATES, "ended", CampaignStatus.ACTIVE, False),
    (CAMPAIGN_STATES, "draft", CampaignStatus.PAUSED, False),
    (TEMPLATE_STATES, "ended", TemplateStatus.ACTIVE, False),
    (COUPON_STATES, "expired", CouponStatus.AVAILABLE, False),
    (COUPON_STATES, "used", CouponStatus.AVAILABLE, True),
    # commission frozen → settled; withdrawal requested → approved → paid | rejected
    (COMMISSION_STATES, "settled", CommissionStatus.FROZEN, False),
    (WITHDRAWAL_STATES, "requested", WithdrawalStatus.PAID, False),
    (WITHDRAWAL_STATES, "approved", WithdrawalStatus.REJECTED, True),
    (WITHDRAWAL_STATES, "paid", WithdrawalStatus.REJECTED, False),
    (DISTRIBUTOR_STATES, "rejected", DistributorStatus.APPROVED, False),
    (PAYMENT_STATES, "succeeded", PaymentStatus.PENDING, False),
    (RUN_STATES, "credited", RunStatus.CREDITED, False),
])
def test_named_moves(machine: StateMachine[Any], current: str, target: StrEnum, allowed: bool) -> None:
    assert machine.can_move(current, target) is allowed
