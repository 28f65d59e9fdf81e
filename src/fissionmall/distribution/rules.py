"""Pure distribution rules: the plan linter (COMPLIANCE D1–D7, S1, S2), the "3+9" preset, and commission maths.

Engineering judgement from public sources, not legal advice: a plan is refused where its rewards depend on
recruiting, team structure or downline sales, where earning rights are bought, where structural pyramid
features appear, where commission reaches three levels, or where dividends are weighted by anything but the
member's own net spending.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from fissionmall.core.money import BASIS_POINTS, apply_rate, rate_bp_from_percent, share_of, whole_yuan, yuan
from fissionmall.distribution.plans import Condition, Finding, LintReport, Plan, Reward

RECRUITING = {"recruits", "team_size", "downline_sales", "level_fill", "matrix_position"}
RETURN_PROMISES = ("回本", "全返", "稳赚", "躺赚", "保本", "零风险")
INDUCING = ("转发", "分享到", "发到群", "集赞", "转发才能", "分享才能")
FEATURE_NAMES = {"width_limit": "a width limit", "spillover": "spill-over placement", "pass_up": "pass-up",
                 "exit_after_payout": "exit after payout (出局)", "forced_repurchase": "forced re-purchase",
                 "jiandian": "见点 rewards", "duipeng": "对碰 rewards", "jicha": "级差 rewards"}
CAP_PERCENT = 30
BASIS_ZH = {"referral_purchase": "推荐客户的购买", "own_spend": "本人消费", "own_net_spend": "本人净消费",
            "recruits": "拉新人数", "team_size": "团队人数", "downline_sales": "下线业绩", "level_fill": "层级排满",
            "matrix_position": "矩阵位置", "share": "分享次数", "dividend_points": "分红积分"}
UNLOCK_ZH = {"entry_fee": "入门费", "package_purchase": "购买套餐", "spend_threshold": "消费门槛",
             "paid_membership": "付费会员"}
FEATURE_ZH = {"width_limit": "限宽", "spillover": "滑落安置", "pass_up": "上交（贡献给上级）",
              "exit_after_payout": "出局", "forced_repurchase": "强制复购", "jiandian": "见点奖", "duipeng": "对碰奖",
              "jicha": "级差奖"}
"""The linter's words in Chinese, as a merchant reads them."""


def _reward_findings(plan: Plan, reward: Reward) -> list[Finding]:
    found: list[Finding] = []

    def add(rule: str, level: str, reason: str, message: str) -> None:
        found.append(Finding(rule=rule, level=level, reward=reward.name, reason=reason,  # type: ignore[arg-type]
                             message=message))

    if reward.kind in ("commission", "bonus") and reward.depth >= 3:
        add("D1", "block", f"it pays {reward.depth} levels deep; criminal cases start at three levels",
            f"佣金发放到第 {reward.depth} 级：三级及以上即按传销追究刑事责任")
    elif reward.kind in ("commission", "bonus") and reward.depth == 2:
        if plan.legal_approval:
            add("D1", "ok", f"level-2 commission, with the recorded legal approval: {plan.legal_approval}",
                f"二级佣金，已登记法律意见：{plan.legal_approval}")
        else:
            add("D1", "approve", "level-2 commission needs a recorded legal approval (a two-level scheme was "
                                 "fined as pyramid selling in 2022)",
                "二级佣金须先登记法律意见（谁批准、依据什么）：2022 年有二级分销小程序被认定为传销并处罚")
    recruiting = [c.basis for c in reward.conditions if c.basis in RECRUITING]
    if reward.basis in RECRUITING or recruiting:
        what = reward.basis if reward.basis in RECRUITING else recruiting[0]
        add("D2", "block", f"its amount or eligibility depends on {what.replace('_', ' ')} (拉人头 / 团队计酬)",
            f"金额或资格取决于{BASIS_ZH[what]}，属于拉人头、团队计酬")
    if reward.basis == "share" or any(c.basis == "share" for c in reward.conditions):
        add("S1", "block", "it rewards or is locked behind the act of sharing; a reward may depend only on what a "
                           "friend really does",
            "奖励分享行为本身，或须分享才能获得：奖励只能取决于好友在商城里的真实行为")
    bought: list[str] = list(reward.unlocked_by)
    bought_zh = [UNLOCK_ZH[u] for u in reward.unlocked_by]
    if reward.kind in ("commission", "bonus"):
        spends = [c for c in reward.conditions if c.basis in ("own_spend", "own_net_spend")]
        bought += [f"{c.basis.replace('_', ' ')} ≥ {c.value}" for c in spends]
        bought_zh += [f"{BASIS_ZH[c.basis]}满 {yuan(c.value)} 元" for c in spends]
    if bought and reward.kind != "discount":
        add("D3", "block", f"the right to earn it is bought ({', '.join(bought)}): a disguised entry fee",
            f"获得收益的资格要花钱买（{'、'.join(bought_zh)}），属于变相入门费")
    for feature in reward.features:
        add("D4", "block", f"it uses {FEATURE_NAMES[feature]}, a structural pyramid feature",
            f"使用了「{FEATURE_ZH[feature]}」，这是传销的结构特征")
    if reward.kind == "dividend_pool" and reward.weights not in ("own_net_spend", "dividend_points"):
        add("D7", "block", f"dividend shares weighted by {reward.weights or 'nothing stated'}; only the member's "
                           "own net spending may weigh",
            f"分红按{BASIS_ZH[reward.weights] if reward.weights else '未说明的依据'}加权：只能按会员本人的净消费加权")
    if reward.kind == "dividend_points" and reward.basis not in ("own_spend", "own_net_spend"):
        add("D7", "block", f"dividend points earned from {reward.basis.replace('_', ' ')}, not own spending",
            f"分红积分来自{BASIS_ZH[reward.basis]}，而不是本人消费")
    return found


def _plan_findings(plan: Plan) -> list[Finding]:
    found: list[Finding] = []
    if plan.freeze_days < plan.after_sale_days:
        found.append(Finding(rule="D6", level="block", reward=None, reason=(
            f"commission would settle {plan.freeze_days} days after completion, before the "
            f"{plan.after_sale_days}-day after-sale window ends"), message=(
            f"佣金在订单完成 {plan.freeze_days} 天后结算，早于 {plan.after_sale_days} 天的售后期结束")))
    if plan.points_bought_with_money:
        found.append(Finding(rule="D7", level="block", reward=None, reason="points can be bought with money",
                             message="积分可以用钱购买"))
    if plan.points_to_cash:
        found.append(Finding(rule="D7", level="block", reward=None, reason="points can be turned into cash",
                             message="积分可以兑换成现金"))
    for text in plan.copy_text:
        promise = next((p for p in RETURN_PROMISES if p in text), None)
        if promise:
            found.append(Finding(rule="D7", level="block", reward=None,
                                 reason=f"the copy promises a return ({promise}): {text}",
                                 message=f"文案承诺回报（{promise}）：{text}"))
        inducing = next((p for p in INDUCING if p in text), None)
        if inducing:
            found.append(Finding(rule="S2", level="warn", reward=None,
                                 reason=f"the copy induces sharing ({inducing}): {text}",
                                 message=f"文案诱导分享（{inducing}）：{text}"))
    if plan.item_price_fen:
        given = _given_per_sale(plan)
        ceiling = rate_bp_from_percent(CAP_PERCENT) * plan.item_price_fen
        margin = (plan.item_price_fen - plan.item_cost_fen) * BASIS_POINTS if plan.item_cost_fen is not None else None
        if given > ceiling or (margin is not None and given > margin):
            over_margin = margin is not None and given > margin
            found.append(Finding(rule="D5", level="warn", reward=None, reason=(
                f"commissions and discounts come to {yuan(int(given / BASIS_POINTS))} yuan per "
                f"{yuan(plan.item_price_fen)} yuan item, over "
                f"{'its margin' if over_margin else f'{CAP_PERCENT}%'}"), message=(
                f"每件 {yuan(plan.item_price_fen)} 元的商品，佣金与折扣合计 {yuan(int(given / BASIS_POINTS))} 元，"
                f"超过{'毛利' if over_margin else f'售价的 {CAP_PERCENT}%'}")))
    return found


def _given_per_sale(plan: Plan) -> Fraction:
    """What the plan gives away on one sale, in fen × basis points: exact, so a plan exactly at the cap is not
    over it by a float's error."""
    price = plan.item_price_fen or 0
    paying = [r for r in plan.rewards if r.kind in ("commission", "bonus")]
    return (sum(Fraction((r.amount_fen or 0) * BASIS_POINTS) for r in paying)
            + sum(rate_bp_from_percent(r.rate_percent or 0) * price for r in paying)
            + rate_bp_from_percent(plan.discount_percent) * price)


def lint(plan: Plan) -> LintReport:
    """Every finding of the plan, and which rewards are kept or refused (refused: any block)."""
    findings = _plan_findings(plan)
    kept: list[str] = []
    refused: list[str] = []
    for reward in plan.rewards:
        own = _reward_findings(plan, reward)
        findings += own
        (refused if any(f.level == "block" for f in own) else kept).append(reward.name)
    ok = not any(f.level in ("block", "approve") for f in findings)
    return LintReport(ok=ok, kept=kept, refused=refused, findings=findings)


def three_plus_nine() -> Plan:
    """The seed's whole "3+9" plan on a 899-yuan item, as a merchant would ask for it."""
    price = 89_900

    def team(people: int) -> Condition:
        return Condition(basis="team_size", value=people)

    return Plan(
        name="3+9", item_price_fen=price, freeze_days=7, after_sale_days=7,
        copy_text=["消费 899 成为会员，推荐两人当老板", "每月 30 日平台分红"],
        rewards=[
            Reward(name="直推补贴 ¥100/单", kind="commission", basis="referral_purchase", depth=1, amount_fen=10_000),
            Reward(name="间推补贴 ¥50/单", kind="commission", basis="referral_purchase", depth=2, amount_fen=5_000),
            Reward(name="消费 899 才有补贴资格", kind="commission", basis="referral_purchase", depth=1,
                   unlocked_by=["spend_threshold"]),
            Reward(name="推荐两人成为老板", kind="rank", basis="recruits", conditions=[
                Condition(basis="recruits", value=2)]),
            Reward(name="老板团队补贴 ¥350", kind="bonus", basis="downline_sales", depth=2, amount_fen=35_000),
            Reward(name="贡献两人给上级后出局", kind="rank", basis="recruits",
                   features=["pass_up", "exit_after_payout"]),
            Reward(name="活跃 1 级：月消费 899 得 3596 分红积分", kind="dividend_points", basis="own_spend", depth=0,
                   conditions=[Condition(basis="own_spend", value=89_900)]),
            *[Reward(name=f"活跃 {level} 级：月消费 {whole_yuan(spend)} 元且团队 {shape}", kind="dividend_points",
                     basis="own_spend", depth=0, conditions=[Condition(basis="own_spend", value=spend), team(size)])
              for level, spend, shape, size in ((2, 179_800, "3x9", 12), (3, 359_600, "3x9x27", 39),
                                                (4, 719_200, "9x27x27", 63), (5, 1_438_400, "27x81x200", 308))],
            Reward(name="团队管理奖扣分红积分，不足须次月再消费 899 解冻", kind="bonus", basis="downline_sales",
                   depth=2, amount_fen=35_000, features=["forced_repurchase"]),
            Reward(name="每月 30 日分红池：3000 分以上按分红积分加权", kind="dividend_pool", basis="own_net_spend",
                   depth=0, weights="dividend_points"),
        ])


def commission(paid_fen: int, rate_bp: int) -> int:
    """Commission on what was actually paid, in basis points, rounded down."""
    return apply_rate(paid_fen, rate_bp)


def reversed_share(commission_fen: int, base_fen: int, refunded_fen: int) -> int:
    """How much of a commission the refunds so far take back in all: the same share as of the money, rounded
    down, so the last refund takes back exactly what is left."""
    return share_of(commission_fen, refunded_fen, base_fen) if base_fen > 0 else commission_fen


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def resident_id_problem(number: str, today: date) -> str | None:
    """What is wrong with a mainland resident ID number (GB 11643: 17 digits, a birth date, a mod 11-2 check
    character), or None. Payees must be adults: a minor cannot take commission out."""
    if len(number) != 18 or not number[:17].isascii() or not number[:17].isdigit():
        return "an ID number is 17 digits and a check digit"
    if ID_CHECK[sum(int(d) * w for d, w in zip(number[:17], ID_WEIGHTS, strict=True)) % 11] != number[17].upper():
        return "the check digit does not match"
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "the birth date in it is not a date"
    if born > today or today.year - born.year - ((today.month, today.day) < (born.month, born.day)) < 18:
        return "the payee must be 18 or older"
    return None


def masked_name(nickname: str) -> str:
    """A referral's name as their distributor sees it (阿花 → 阿*, 王小明 → 王*明): enough to recognise a friend,
    not to identify a stranger."""
    name = nickname.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
