"""The console's loyalty section (会员与积分): membership levels, points rules, tasks, the points mall (a link to its
campaigns), and the dividend plan with the "3+9" preset shown kept / refused rule by rule, in Chinese, with a button
that turns the kept part into live settings (through the merchant API, like every change)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fissionmall.core.deps import SessionDep
from fissionmall.core.money import yuan
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.distribution import service as distribution
from fissionmall.distribution import service as distribution_service
from fissionmall.distribution.plans import Plan, Reward
from fissionmall.distribution.rules import BASIS_ZH, FEATURE_ZH, UNLOCK_ZH
from fissionmall.loyalty.dividend import service as dividend
from fissionmall.loyalty.levels import service as levels
from fissionmall.loyalty.points import service as points
from fissionmall.loyalty.tasks import service as tasks
from fissionmall.web.console.session import ConsoleReader, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

SECTION = "/console/loyalty"
TABS = ((SECTION, "会员等级"), (f"{SECTION}/points", "积分规则"), (f"{SECTION}/tasks", "任务"),
        ("/console/campaigns?kind=points_mall", "积分商城"), (f"{SECTION}/dividend", "分红"),
        (f"{SECTION}/preset", "“3+9”方案"))
TASK_KINDS = {"invite_registered": "邀请好友注册", "friend_first_purchase": "好友首次下单",
              "share_click": "好友打开分享的商品", "checkin_streak": "连续签到", "review": "写评价",
              "post": "社区发帖"}
PERIODS = {"once": "一次性", "daily": "每天", "weekly": "每周"}
REWARD_KINDS = {"commission": "佣金", "bonus": "奖金", "rank": "晋升身份", "dividend_points": "分红积分",
                "dividend_pool": "分红池", "discount": "折扣"}
DEPTHS = {0: "本人", 1: "直接推荐（一级）", 2: "间接推荐（二级）"}
RUN_STATUS = {"computed": "已计算，发放中", "credited": "已发放"}


def _context(tab: str, **extra: Any) -> dict[str, Any]:
    return {"section": SECTION, "tabs": TABS, "tab": tab, **extra}


@router.get(SECTION, response_class=HTMLResponse)
async def levels_page(request: Request, console: ConsoleReader, session: SessionDep) -> HTMLResponse:
    plan = await levels.level_plan(session, console.staff.merchant_id)
    return render(request, "console/loyalty_levels.html", console, _context(SECTION, plan=plan))


@router.get(f"{SECTION}/points", response_class=HTMLResponse)
async def points_page(request: Request, console: ConsoleReader, session: SessionDep) -> HTMLResponse:
    config = await points.config_of(session, console.staff.merchant_id)
    return render(request, "console/loyalty_points.html", console, _context(f"{SECTION}/points", config=config))


@router.get(f"{SECTION}/tasks", response_class=HTMLResponse)
async def tasks_page(request: Request, console: ConsoleReader, session: SessionDep) -> HTMLResponse:
    found = await tasks.for_merchant(session, console.staff)
    return render(request, "console/loyalty_tasks.html", console, _context(
        f"{SECTION}/tasks", tasks=found, kinds=TASK_KINDS, periods=PERIODS))


@router.get(f"{SECTION}/dividend", response_class=HTMLResponse)
async def dividend_page(request: Request, console: ConsoleReader, session: SessionDep) -> HTMLResponse:
    merchant_id = console.staff.merchant_id
    return render(request, "console/loyalty_dividend.html", console, _context(
        f"{SECTION}/dividend", plan=await dividend.plan_view(session, merchant_id),
        runs=await dividend.runs_of(session, merchant_id), run_status=RUN_STATUS))


def pays(plan: Plan, reward: Reward) -> str:
    """What a reward of a plan pays and on what, in a merchant's words."""
    what = REWARD_KINDS.get(reward.kind, reward.kind)
    parts = [f"{what}，依据{BASIS_ZH[reward.basis]}"]
    if reward.kind in ("commission", "bonus"):
        parts.append(DEPTHS.get(reward.depth, f"第 {reward.depth} 级"))
    if reward.amount_fen:
        parts.append(f"每单 ¥{yuan(reward.amount_fen)}")
    if reward.rate_percent:
        parts.append(f"{reward.rate_percent:g}%")
    if reward.conditions:
        parts.append("条件：" + "、".join(
            f"{BASIS_ZH[c.basis]} ≥ {yuan(c.value) + ' 元' if c.basis in ('own_spend', 'own_net_spend') else c.value}"
            for c in reward.conditions))
    if reward.unlocked_by:
        parts.append("须先：" + "、".join(UNLOCK_ZH[u] for u in reward.unlocked_by))
    if reward.features:
        parts.append("含：" + "、".join(FEATURE_ZH[f] for f in reward.features))
    if reward.weights:
        parts.append(f"按{BASIS_ZH[reward.weights]}加权")
    return "；".join(parts)


@router.get(f"{SECTION}/preset", response_class=HTMLResponse)
async def preset_page(request: Request, console: ConsoleReader, session: SessionDep) -> HTMLResponse:
    preset = distribution_service.preset_three_plus_nine()
    plan, report = preset.plan, preset.report
    kept = set(report.kept)
    rows = [{"name": r.name, "pays": pays(plan, r), "kept": r.name in kept,
             "findings": [f for f in report.findings if f.reward == r.name and f.level != "ok"]} for r in plan.rewards]
    merchant_id = console.staff.merchant_id
    return render(request, "console/loyalty_preset.html", console, _context(
        f"{SECTION}/preset", plan=plan, report=report, rows=rows,
        general=[f for f in report.findings if f.reward is None],
        config=await distribution.config_of(session, merchant_id),
        dividend=await dividend.plan_view(session, merchant_id)))
