"""The reward-plan linter and the commission maths, as pure functions (distribution/rules.py, plans.py).

Each rule of COMPLIANCE D1–D7, S1, S2 fires with its id and level on the plan shapes it names, and stays quiet on
the lawful neighbour of each (a discount unlocked by spend, level 2 with approval, a pool weighted by own net
spend); the seed's "3+9" preset is split into exactly the documented kept and refused parts; commission is rounded
down on what was paid and the reversals of any sequence of refunds add up to the whole commission, to the fen.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from fissionmall.distribution.plans import Condition, Plan, Reward
from fissionmall.distribution.rules import commission, lint, reversed_share, three_plus_nine

pytestmark = pytest.mark.backend_free

APPROVAL = "法务部王律师 2026-11-30 批准二级分销，编号 LG-118"


# --- helpers ----------------------------------------------------------------------------------------------------------

def direct(name: str = "直推佣金", **extra: Any) -> Reward:
    """A lawful level-1 commission on a referral's purchase, changed by `extra`."""
    return Reward(**{"name": name, "kind": "commission", "basis": "referral_purchase", "depth": 1,
                     "rate_percent": 10.0, **extra})


def plan(*rewards: Reward, **extra: Any) -> Plan:
    return Plan(**{"name": "test plan", "rewards": list(rewards), **extra})


def found(report: Any) -> list[tuple[str, str, str | None]]:
    """(rule, level, reward) of every finding, in the linter's order."""
    return [(f.rule, f.level, f.reward) for f in report.findings]


def verdict(report: Any) -> tuple[bool, list[str], list[str]]:
    return report.ok, report.kept, report.refused


# --- the lawful baseline ----------------------------------------------------------------------------------------------

def test_a_single_level_commission_is_clean():
    """One level of commission on a real purchase, a freeze as long as the after-sale window: no finding at all."""
    report = lint(plan(direct(), freeze_days=7, after_sale_days=7))
    assert verdict(report) == (True, ["直推佣金"], [])
    assert report.findings == []


def test_an_empty_plan_is_clean():
    """Nothing to pay, nothing to find."""
    assert verdict(lint(plan())) == (True, [], [])
    assert lint(plan()).findings == []


# --- D1: depth --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [3, 4, 20])
@pytest.mark.parametrize("kind", ["commission", "bonus"])
def test_three_or_more_levels_are_blocked_even_with_approval(kind, depth):
    """Criminal cases start at three levels: D1 block, which no approval lifts."""
    report = lint(plan(direct("三级佣金", kind=kind, depth=depth), legal_approval=APPROVAL))
    assert verdict(report) == (False, [], ["三级佣金"])
    assert found(report) == [("D1", "block", "三级佣金")]
    assert str(depth) in report.findings[0].reason


@pytest.mark.parametrize("kind", ["commission", "bonus"])
def test_two_levels_need_a_recorded_approval(kind):
    """Level 2 without approval: D1 approve, kept but the plan is not ok; with approval: D1 ok and the plan is ok."""
    without = lint(plan(direct(), direct("间推佣金", kind=kind, depth=2)))
    assert verdict(without) == (False, ["直推佣金", "间推佣金"], [])
    assert found(without) == [("D1", "approve", "间推佣金")]

    with_approval = lint(plan(direct(), direct("间推佣金", kind=kind, depth=2), legal_approval=APPROVAL))
    assert verdict(with_approval) == (True, ["直推佣金", "间推佣金"], [])
    assert found(with_approval) == [("D1", "ok", "间推佣金")]
    assert APPROVAL in with_approval.findings[0].reason


def test_depth_does_not_apply_to_own_spend_rewards():
    """Points and discounts earned on one's own purchase are not referral commission: no D1 whatever their depth."""
    report = lint(plan(Reward(name="积分", kind="dividend_points", basis="own_spend", depth=3),
                       Reward(name="会员折扣", kind="discount", basis="own_spend", depth=2)))
    assert verdict(report) == (True, ["积分", "会员折扣"], [])
    assert report.findings == []


# --- D2: recruiting and team pay --------------------------------------------------------------------------------------

@pytest.mark.parametrize("basis", ["recruits", "team_size", "downline_sales", "level_fill", "matrix_position"])
def test_rewards_computed_from_recruiting_or_the_team_are_blocked(basis):
    """拉人头 / 团队计酬: a reward whose amount comes from recruits, team size, downline sales, fill or position."""
    report = lint(plan(direct(), Reward(name="团队奖", kind="bonus", basis=basis, depth=1, amount_fen=10_000)))
    assert verdict(report) == (False, ["直推佣金"], ["团队奖"])
    assert found(report) == [("D2", "block", "团队奖")]
    assert basis.replace("_", " ") in report.findings[0].reason


@pytest.mark.parametrize("basis", ["recruits", "team_size", "downline_sales", "level_fill", "matrix_position"])
def test_rewards_conditioned_on_recruiting_or_the_team_are_blocked(basis):
    """A lawful commission becomes unlawful once its eligibility depends on recruits or the team's shape."""
    report = lint(plan(direct("条件佣金", conditions=[Condition(basis=basis, value=3)])))
    assert verdict(report) == (False, [], ["条件佣金"])
    assert found(report) == [("D2", "block", "条件佣金")]


def test_a_rank_for_recruiting_is_blocked():
    """"Recommend two to become boss": a rank earned by recruits is D2."""
    report = lint(plan(Reward(name="推荐两人当老板", kind="rank", basis="recruits",
                              conditions=[Condition(basis="recruits", value=2)])))
    assert found(report) == [("D2", "block", "推荐两人当老板")]
    assert verdict(report) == (False, [], ["推荐两人当老板"])


# --- D3: bought earning rights ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("unlock", ["entry_fee", "package_purchase", "spend_threshold", "paid_membership"])
@pytest.mark.parametrize("kind", ["commission", "bonus", "rank", "dividend_points", "dividend_pool"])
def test_the_right_to_earn_cannot_be_bought(kind, unlock):
    """变相入门费: any earning reward unlocked by a fee, a package, a paid membership or a spend threshold is D3."""
    reward = Reward(name="需先消费", kind=kind, basis="own_net_spend", depth=0, unlocked_by=[unlock],
                    weights="own_net_spend" if kind == "dividend_pool" else None)
    report = lint(plan(reward))
    assert found(report) == [("D3", "block", "需先消费")]
    assert unlock in report.findings[0].reason
    assert verdict(report) == (False, [], ["需先消费"])


@pytest.mark.parametrize("unlock", ["spend_threshold", "paid_membership"])
def test_a_discount_unlocked_by_spend_is_fine(unlock):
    """Spend-based member levels may give discounts: no D3 for a discount, whatever unlocks it."""
    report = lint(plan(Reward(name="会员 95 折", kind="discount", basis="own_spend", depth=0, rate_percent=5,
                              unlocked_by=[unlock])))
    assert verdict(report) == (True, ["会员 95 折"], [])
    assert report.findings == []


def test_a_spend_threshold_written_as_a_condition_is_still_a_bought_right_to_earn():
    """"Spend 899 before you may earn commission" is D3 however the plan phrases the threshold."""
    report = lint(plan(direct("消费 899 才有佣金", conditions=[Condition(basis="own_spend", value=89_900)])))
    assert ("D3", "block", "消费 899 才有佣金") in found(report)
    assert verdict(report) == (False, [], ["消费 899 才有佣金"])


# --- D4: structural pyramid features ----------------------------------------------------------------------------------

@pytest.mark.parametrize("feature, words", [
    ("width_limit", "width limit"), ("spillover", "spill-over"), ("pass_up", "pass-up"),
    ("exit_after_payout", "出局"), ("forced_repurchase", "forced re-purchase"), ("jiandian", "见点"),
    ("duipeng", "对碰"), ("jicha", "级差")])
def test_each_structural_pyramid_feature_is_blocked(feature, words):
    """Width limits, spill-over, pass-up, exit, forced re-purchase, 见点, 对碰, 级差: each D4, named."""
    report = lint(plan(direct("结构奖", features=[feature])))
    assert found(report) == [("D4", "block", "结构奖")]
    assert words in report.findings[0].reason
    assert verdict(report) == (False, [], ["结构奖"])


def test_an_exit_scheme_gets_one_finding_per_feature():
    """Pass-up plus exit after payout plus recruits: D2 and two D4 findings on the one reward."""
    report = lint(plan(Reward(name="贡献两人给上级后出局", kind="rank", basis="recruits",
                              features=["pass_up", "exit_after_payout"])))
    assert found(report) == [("D2", "block", "贡献两人给上级后出局"), ("D4", "block", "贡献两人给上级后出局"),
                             ("D4", "block", "贡献两人给上级后出局")]


# --- D5: generosity ---------------------------------------------------------------------------------------------------

def test_commission_up_to_thirty_percent_is_not_flagged():
    """Exactly 30% of the price (20% level 1 + 10% discount) is at the cap, not over it."""
    report = lint(plan(direct(rate_percent=20), item_price_fen=10_000, discount_percent=10))
    assert report.findings == []


def test_commission_and_discount_over_thirty_percent_warn():
    """20% + 10.5% discount = 30.5% of a 100-yuan item: D5 warn on the plan, which stays ok."""
    report = lint(plan(direct(rate_percent=20), item_price_fen=10_000, discount_percent=10.5))
    assert found(report) == [("D5", "warn", None)]
    assert "30.50 yuan per 100.00 yuan item, over 30%" in report.findings[0].reason
    assert verdict(report) == (True, ["直推佣金"], [])


def test_fixed_amounts_and_both_levels_count_towards_the_cap():
    """¥20 per order plus 11% at level 2 (approved) on a 100-yuan item: 31 yuan, over 30%."""
    report = lint(plan(direct(rate_percent=None, amount_fen=2_000),
                       direct("间推", depth=2, rate_percent=11), item_price_fen=10_000, legal_approval=APPROVAL))
    assert found(report) == [("D5", "warn", None), ("D1", "ok", "间推")]
    assert "31.00 yuan per 100.00 yuan item" in report.findings[0].reason


def test_commission_over_the_margin_warns_below_thirty_percent():
    """A 100-yuan item costing 85: 16% commission is under 30% of the price but over the 15-yuan margin."""
    report = lint(plan(direct(rate_percent=16), item_price_fen=10_000, item_cost_fen=8_500))
    assert found(report) == [("D5", "warn", None)]
    assert "over its margin" in report.findings[0].reason
    assert lint(plan(direct(rate_percent=15), item_price_fen=10_000, item_cost_fen=8_500)).findings == []


# --- D6: freeze -------------------------------------------------------------------------------------------------------

def test_a_freeze_shorter_than_the_after_sale_window_is_blocked():
    """Commission settling on day 6 of a 7-day window could pay out on goods still being returned: D6 block."""
    report = lint(plan(direct(), freeze_days=6, after_sale_days=7))
    assert found(report) == [("D6", "block", None)]
    assert report.ok is False
    assert (report.kept, report.refused) == (["直推佣金"], [])
    assert lint(plan(direct(), freeze_days=7, after_sale_days=7)).ok is True
    assert lint(plan(direct(), freeze_days=15, after_sale_days=7)).ok is True


# --- D7: dividends, points, promised returns --------------------------------------------------------------------------

@pytest.mark.parametrize("weights", [None, "own_spend", "recruits", "team_size", "downline_sales", "referral_purchase"])
def test_a_dividend_pool_weighted_by_anything_but_own_net_spend_is_blocked(weights):
    """Gross spend (refunds not taken off), recruits, the team, referrals, or no stated weight: D7."""
    report = lint(plan(Reward(name="分红池", kind="dividend_pool", basis="own_net_spend", depth=0, weights=weights)))
    assert found(report) == [("D7", "block", "分红池")]
    assert verdict(report) == (False, [], ["分红池"])


@pytest.mark.parametrize("weights", ["own_net_spend", "dividend_points"])
def test_a_dividend_pool_weighted_by_own_net_spend_or_its_points_is_kept(weights):
    """The lawful pool: weighted by the member's own net spend, or by the points that spend earned."""
    report = lint(plan(Reward(name="分红池", kind="dividend_pool", basis="own_net_spend", depth=0, weights=weights)))
    assert verdict(report) == (True, ["分红池"], [])
    assert report.findings == []


@pytest.mark.parametrize("basis", ["referral_purchase", "share"])
def test_dividend_points_earned_from_others_are_blocked(basis):
    """Points that weigh a dividend must come from one's own spending, not from referrals or sharing."""
    report = lint(plan(Reward(name="推荐积分", kind="dividend_points", basis=basis, depth=1)))
    assert ("D7", "block", "推荐积分") in found(report)
    assert report.refused == ["推荐积分"]


def test_points_bought_with_money_or_turned_into_cash_are_blocked():
    """Each way points become money is its own D7 block on the plan."""
    bought = lint(plan(direct(), points_bought_with_money=True))
    assert found(bought) == [("D7", "block", None)]
    assert "bought with money" in bought.findings[0].reason
    cashed = lint(plan(direct(), points_to_cash=True))
    assert found(cashed) == [("D7", "block", None)]
    assert "turned into cash" in cashed.findings[0].reason
    both = lint(plan(direct(), points_bought_with_money=True, points_to_cash=True))
    assert found(both) == [("D7", "block", None), ("D7", "block", None)]
    assert both.ok is False


@pytest.mark.parametrize("text, promise", [("买三单就回本", "回本"), ("消费全返，等于白拿", "全返"),
                                           ("稳赚不赔", "稳赚"), ("零风险创业", "零风险")])
def test_copy_promising_a_return_is_blocked(text, promise):
    """回本, 全返 and their kin in the copy: D7 block quoting the phrase."""
    report = lint(plan(direct(), copy_text=["正品好茶", text]))
    assert found(report) == [("D7", "block", None)]
    assert promise in report.findings[0].reason and text in report.findings[0].reason
    assert report.ok is False


@pytest.mark.parametrize("text", ["转发到三个群领红包", "分享才能解锁", "集赞 20 个送茶"])
def test_copy_inducing_shares_warns(text):
    """Inducing phrases in the copy: S2 warn, the plan stays ok."""
    report = lint(plan(direct(), copy_text=[text]))
    assert found(report) == [("S2", "warn", None)]
    assert verdict(report) == (True, ["直推佣金"], [])


def test_one_line_can_both_promise_a_return_and_induce_sharing():
    """Both findings for one line, the block first."""
    report = lint(plan(copy_text=["转发给好友，三单回本"]))
    assert found(report) == [("D7", "block", None), ("S2", "warn", None)]


def test_plain_copy_is_clean():
    """Describing the product and the referral reward honestly raises nothing."""
    assert lint(plan(direct(), copy_text=["明前龙井 100g", "好友通过你的链接购买，你得 10% 佣金"])).findings == []


# --- S1: sharing ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["commission", "bonus", "discount"])
def test_rewards_for_the_act_of_sharing_are_blocked(kind):
    """A reward for sharing itself, rather than what a friend does: S1 block."""
    report = lint(plan(Reward(name="分享奖励", kind=kind, basis="share", depth=0, amount_fen=100)))
    assert found(report) == [("S1", "block", "分享奖励")]
    assert verdict(report) == (False, [], ["分享奖励"])


def test_a_reward_locked_behind_sharing_is_blocked():
    """"Share three times to unlock the discount" is S1 however the lock is written."""
    report = lint(plan(Reward(name="分享三次解锁折扣", kind="discount", basis="own_spend", depth=0, rate_percent=5,
                              conditions=[Condition(basis="share", value=3)])))
    assert found(report) == [("S1", "block", "分享三次解锁折扣")]


# --- the "3+9" preset -------------------------------------------------------------------------------------------------

KEPT = ["直推补贴 ¥100/单", "间推补贴 ¥50/单", "活跃 1 级：月消费 899 得 3596 分红积分",
        "每月 30 日分红池：3000 分以上按分红积分加权"]
REFUSED_BY = {
    "消费 899 才有补贴资格": ["D3"],
    "推荐两人成为老板": ["D2"],
    "老板团队补贴 ¥350": ["D2"],
    "贡献两人给上级后出局": ["D2", "D4", "D4"],
    "活跃 2 级：月消费 1798 元且团队 3x9": ["D2"],
    "活跃 3 级：月消费 3596 元且团队 3x9x27": ["D2"],
    "活跃 4 级：月消费 7192 元且团队 9x27x27": ["D2"],
    "活跃 5 级：月消费 14384 元且团队 27x81x200": ["D2"],
    "团队管理奖扣分红积分，不足须次月再消费 899 解冻": ["D2", "D4"],
}


def test_the_three_plus_nine_preset_keeps_the_lawful_part_and_refuses_the_rest():
    """Kept: the direct and indirect subsidy, activity level 1 and the points-weighted pool; every other reward
    refused with exactly the documented blocking rules."""
    report = lint(three_plus_nine())
    assert report.kept == KEPT
    assert report.refused == list(REFUSED_BY)
    blocks: dict[str, list[str]] = {}
    for f in report.findings:
        if f.level == "block":
            assert f.reward is not None
            blocks.setdefault(f.reward, []).append(f.rule)
    assert blocks == REFUSED_BY


def test_the_three_plus_nine_preset_findings_in_full():
    """Besides the blocks: level 2 needs approval (the indirect subsidy and both depth-2 team bonuses), and the plan
    as asked gives away 850 of 899 yuan (D5); so it is not ok, and approval alone does not make it ok."""
    report = lint(three_plus_nine())
    assert report.ok is False
    assert [(rule, level, reward) for rule, level, reward in found(report) if level != "block"] == [
        ("D5", "warn", None), ("D1", "approve", "间推补贴 ¥50/单"), ("D1", "approve", "老板团队补贴 ¥350"),
        ("D1", "approve", "团队管理奖扣分红积分，不足须次月再消费 899 解冻")]
    assert "850.00 yuan per 899.00 yuan item" in report.findings[0].reason
    assert len(report.findings) == 4 + sum(len(rules) for rules in REFUSED_BY.values())

    approved = lint(three_plus_nine().model_copy(update={"legal_approval": APPROVAL}))
    assert approved.ok is False
    assert (approved.kept, approved.refused) == (KEPT, list(REFUSED_BY))
    assert [f.level for f in approved.findings if f.rule == "D1"] == ["ok", "ok", "ok"]


def test_the_kept_part_of_three_plus_nine_is_a_clean_plan_with_approval():
    """Only the kept rewards, with the legal approval on record: ok, with D1 ok as its only finding."""
    preset = three_plus_nine()
    lawful = preset.model_copy(update={"rewards": [r for r in preset.rewards if r.name in KEPT],
                                       "legal_approval": APPROVAL})
    report = lint(lawful)
    assert verdict(report) == (True, KEPT, [])
    assert found(report) == [("D1", "ok", "间推补贴 ¥50/单")]


# --- the plan model ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reward", [
    {"name": "", "kind": "commission", "basis": "referral_purchase"},
    {"name": "x", "kind": "salary", "basis": "referral_purchase"},
    {"name": "x", "kind": "commission", "basis": "vibes"},
    {"name": "x", "kind": "commission", "basis": "referral_purchase", "depth": 21},
    {"name": "x", "kind": "commission", "basis": "referral_purchase", "depth": -1},
    {"name": "x", "kind": "commission", "basis": "referral_purchase", "rate_percent": 100.5},
    {"name": "x", "kind": "commission", "basis": "referral_purchase", "amount_fen": -1},
    {"name": "x", "kind": "commission", "basis": "referral_purchase", "features": ["teleport"]},
    {"name": "x", "kind": "commission", "basis": "referral_purchase", "unlocked_by": ["a_smile"]},
    {"name": "x", "kind": "commission", "basis": "referral_purchase", "conditions": [{"basis": "recruits",
                                                                                      "value": -1}]},
])
def test_the_plan_model_refuses_malformed_rewards(reward):
    """What the linter judges must be well formed: unknown kinds, bases, features, and out-of-range numbers fail."""
    with pytest.raises(ValidationError):
        Plan.model_validate({"name": "p", "rewards": [reward]})


def test_the_plan_model_defaults():
    """A reward pays one level deep with nothing attached; a plan freezes for the 7-day after-sale window."""
    parsed = Plan.model_validate({"name": "p", "rewards": [{"name": "x", "kind": "commission",
                                                            "basis": "referral_purchase"}]})
    assert (parsed.freeze_days, parsed.after_sale_days, parsed.discount_percent, parsed.legal_approval) == (
        7, 7, 0, None)
    reward = parsed.rewards[0]
    assert (reward.depth, reward.conditions, reward.unlocked_by, reward.features, reward.weights) == (
        1, [], [], [], None)


# --- commission maths -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("paid, rate, expected", [(3000, 1000, 300), (3000, 500, 150), (999, 1000, 99),
                                                  (999, 333, 33), (1, 5000, 0), (0, 1000, 0), (19_999, 1, 1)])
def test_commission_is_basis_points_of_what_was_paid_rounded_down(paid, rate, expected):
    """Never rounded up: the merchant never pays a fen more than the rate."""
    assert commission(paid, rate) == expected


def test_reversals_in_the_worked_examples():
    """Half of 3000 refunded takes back 150 of 300 and 75 of 150; 999 refunded as 500 then 499 takes back 49 then
    the last 50 of 99."""
    assert reversed_share(300, 3000, 1500) == 150
    assert reversed_share(150, 3000, 1500) == 75
    assert reversed_share(99, 999, 500) == 49
    assert reversed_share(99, 999, 999) - reversed_share(99, 999, 500) == 50
    assert reversed_share(99, 999, 0) == 0
    assert reversed_share(99, 999, 2000) == 99


@given(paid=st.integers(1, 10_000_000), rate=st.integers(0, 5000),
       cuts=st.lists(st.integers(1, 10_000_000), min_size=1, max_size=8))
def test_the_reversals_of_any_refunds_add_up_to_the_whole_commission(paid, rate, cuts):
    """Refunds in any number of parts reaching the full payment: each step takes back ≥ 0, the running total never
    exceeds the commission, and the last one leaves exactly 0."""
    amount = commission(paid, rate)
    refunded, taken = 0, 0
    for cut in cuts:
        refunded = min(paid, refunded + cut)
        now = reversed_share(amount, paid, refunded)
        assert taken <= now <= amount
        assert now * paid <= amount * refunded  # never more than the refunded share
        taken = now
    assert reversed_share(amount, paid, paid) == amount
