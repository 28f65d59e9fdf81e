"""The campaign linter's findings in Chinese, by rule id and the check that found them: what is wrong and how to fix
it, with the finding's numbers filled in (amounts in yuan). The linters speak English to API clients; this is the one
table the console reads them through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fissionmall.campaigns.schemas import Finding
from fissionmall.core.money import yuan


@dataclass(frozen=True)
class Words:
    wrong: str
    fix: str


RULES: dict[str, str] = {
    "G1": "活动须指向本店存在且合适的商品、规格和优惠券",
    "G2": "付款方式（定金或全款）的后果须在上线前看清",
    "P3": "奖励须是真实的优惠，且事先公布、不超过上限",
    "P4": "原价须真实，不得虚构划线价",
    "F5": "奖励须有预算或库存支撑，发完即止",
    "PM1": "积分商城须先开通积分",
    "PM2": "兑换的优惠券须存在",
    "PM3": "积分 + 现金兑换须让积分真正抵扣",
}
"""Each rule id the campaign linters emit, as the merchant knows the rule."""

WORDS: dict[str, dict[str, Words]] = {
    "G1": {
        "product_missing": Words("所选商品（编号 {product_id}）在本店不存在", "在“活动商品”中重新选择本店的商品"),
        "sku_not_of_product": Words("规格（编号 {sku_id}）不属于所选商品（编号 {product_id}）",
                                    "选择活动商品下的规格，或改选该规格所属的商品"),
        "coupon_missing": Words("所选优惠券（编号 {template_id}）在本店不存在", "重新选择一张本店的优惠券"),
        "coupon_not_amount": Words("券包的每一份只能发放满减券（按金额抵扣）", "改选一张满减券，或先新建一张满减券"),
        "coupon_claimable": Words("这张券也能在领券中心直接领取，券包就失去了意义",
                                  "为券包单独建一张不在领券中心展示的券"),
    },
    "G2": {
        "deposit_not_split": Words("规格（编号 {sku_id}）的拼团价 {group_price_fen} 太低，"
                                   "无法拆成定金和尾款，将按全款收取",
                                   "提高该规格的拼团价，或接受它按全款收取"),
        "commission_on_full_payers": Words("团长佣金只按成团时已付全款的成员计算，付定金的成员不计佣金",
                                           "在活动说明中告知团长，或改为只收全款"),
    },
    "P3": {
        "group_price_not_lower": Words("规格（编号 {sku_id}）的拼团价 {group_price_fen} 不低于单独购买价 {price_fen}，"
                                       "拼团没有真正优惠", "把拼团价改为低于 {price_fen}"),
        "prize_above_cap": Words("单份奖励最多可能达到 {largest_fen}，超过促销奖励 50000 元的上限",
                                 "降低总金额或每份最高金额，或增加份数"),
    },
    "P4": {
        "start_above_price": Words("砍价起始价 {start_price_fen} 高于商品实际售价 {price_fen}，砍掉的金额是虚构的",
                                   "把起始价改为不高于 {price_fen}"),
    },
    "F5": {"pool_short": Words("奖池 {pool_fen} 按最低一档的最低金额 {min_fen} 也付不起全部 {winners} 份奖励，"
                               "后拆开的顾客可能拿不到（规则页会如实说明）", "提高奖池总额，或减少奖品份数")},
    "PM1": {"no_points": Words("本店尚未开通积分，顾客没有积分可兑换", "先在“会员与积分”中开通积分")},
    "PM2": {"coupon_missing": Words("所选优惠券（编号 {template_id}）在本店不存在", "重新选择一张本店的优惠券")},
    "PM3": {"cash_not_below_price": Words("另付现金 {cash_fen} 不低于商品售价 {price_fen}，积分没有抵扣任何金额",
                                          "把另付现金改为低于 {price_fen}")},
}
"""For each rule id, each check's words; {name} is a fact of the finding (names ending in _fen shown in yuan)."""

LEVELS = {"block": "阻止上线", "approve": "需审批", "warn": "提醒"}


def _facts(facts: dict[str, Any]) -> dict[str, Any]:
    return {key: f"¥{yuan(value)}" if key.endswith("_fen") and isinstance(value, int) else value
            for key, value in facts.items()}


def in_chinese(finding: Finding) -> dict[str, str]:
    """A finding as the console shows it: rule id, the rule, how serious, what is wrong, how to fix."""
    words = WORDS.get(finding.rule, {}).get(finding.check)
    facts = _facts(finding.facts)
    return {"rule": finding.rule, "title": RULES.get(finding.rule, "活动规则"), "level": finding.level,
            "level_name": LEVELS.get(finding.level, finding.level),
            "wrong": words.wrong.format(**facts) if words else "活动设置不符合该规则",
            "fix": words.fix.format(**facts) if words else "请检查相关设置后重新检查"}
