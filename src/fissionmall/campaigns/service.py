"""Campaign life cycle (draft → active ⇄ paused → ended), settings validation, linting, and the
guarded claims every mechanic shares: campaign stock and per-customer quota."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns import errors, repository
from fissionmall.campaigns.mechanic import KINDS, Mechanic
from fissionmall.campaigns.models import Campaign
from fissionmall.campaigns.schemas import CampaignIn, CampaignOut, CampaignPatch, Finding, LintOut
from fissionmall.campaigns.states import CAMPAIGN_STATES, EDITABLE, CampaignStatus
from fissionmall.catalog import service as catalog
from fissionmall.core.audit import note_before
from fissionmall.core.clock import Clock
from fissionmall.core.errors import Conflict, InvalidInput, NotFound
from fissionmall.core.messages import hint_for
from fissionmall.core.pagination import parse_cursor
from fissionmall.core.runtime import Runtime
from fissionmall.db.claims import Claim, Claims, LockOrder
from fissionmall.loyalty.levels import service as levels


def _kind(kind: str) -> Mechanic:
    if kind not in KINDS:
        raise errors.unknown_kind(kind)
    return KINDS[kind]


def typed_settings(kind: str, raw: dict[str, Any]) -> BaseModel:
    """The kind's settings model, or a 422 naming each bad field as settings.<field>."""
    try:
        return _kind(kind).settings_model.model_validate(raw)
    except ValidationError as exc:
        problems = [{"field": ".".join(["settings", *map(str, e["loc"])]), "message": e["msg"],
                     "hint": hint_for(dict(e))} for e in exc.errors()]
        raise InvalidInput("invalid_settings", f"{problems[0]['field']}: {problems[0]['message']}",
                           field=problems[0]["field"], errors=problems) from None


def out(campaign: Campaign) -> CampaignOut:
    return CampaignOut.model_validate(campaign, from_attributes=True)


async def _own_product(session: AsyncSession, merchant_id: int, product_id: int | None,
                       setting: str = "product_id") -> int | None:
    """The campaign's product must be one of the merchant's: a 422, never a foreign-key error."""
    if product_id is not None:
        try:
            await catalog.require_product(session, merchant_id, product_id)
        except NotFound:
            raise InvalidInput("invalid_settings", f"settings.{setting}: no product {product_id}",
                               field=f"settings.{setting}") from None
    return product_id


async def _own_products(session: AsyncSession, merchant_id: int, kind: Mechanic, settings: BaseModel) -> list[int]:
    """Every product the campaign sells, its main one first, each checked to be the merchant's."""
    if kind.products_of is None:
        product_id = await _own_product(session, merchant_id, kind.product_of(settings))
        return [] if product_id is None else [product_id]
    return [await _own_product(session, merchant_id, product_id, setting) or product_id
            for setting, product_id in kind.products_of(settings)]


async def create(session: AsyncSession, merchant_id: int, body: CampaignIn, clock: Clock) -> CampaignOut:
    settings = typed_settings(body.kind, body.settings)
    products = await _own_products(session, merchant_id, _kind(body.kind), settings)
    campaign = Campaign(merchant_id=merchant_id, kind=body.kind, name=body.name, status=CampaignStatus.DRAFT,
                        settings=settings.model_dump(mode="json"), product_id=products[0] if products else None,
                        starts_at=body.starts_at, ends_at=body.ends_at, stock_cap=body.stock_cap, sold=0,
                        created_at=clock.now())
    session.add(campaign)
    await session.flush()
    if products[1:]:
        await repository.set_other_products(session, merchant_id, campaign.id, products[1:])
    return out(campaign)


async def require(session: AsyncSession, merchant_id: int, campaign_id: int, kind: str | None = None) -> Campaign:
    campaign = await repository.campaign_of(session, merchant_id, campaign_id)
    if campaign is None or (kind is not None and campaign.kind != kind):
        raise errors.campaign_not_found(campaign_id)
    return campaign


async def update(session: AsyncSession, merchant_id: int, campaign_id: int, body: CampaignPatch) -> CampaignOut:
    campaign = await require(session, merchant_id, campaign_id)
    if campaign.status not in EDITABLE:
        raise errors.not_editable(campaign.status)
    changes = body.model_dump(exclude_unset=True)
    note_before(session, campaign, changes)
    if "settings" in changes:
        settings = typed_settings(campaign.kind, changes.pop("settings"))
        campaign.settings = settings.model_dump(mode="json")
        products = await _own_products(session, merchant_id, _kind(campaign.kind), settings)
        campaign.product_id = products[0] if products else None
        await repository.set_other_products(session, merchant_id, campaign.id, products[1:])
    for field, value in changes.items():
        setattr(campaign, field, value)
    if campaign.ends_at <= campaign.starts_at:
        raise InvalidInput("invalid_request", "ends_at must be after starts_at", field="ends_at")
    if campaign.stock_cap is not None and campaign.stock_cap < campaign.sold:
        raise InvalidInput("invalid_request", f"{campaign.sold} already sold: the cap cannot be lower",
                           field="stock_cap")
    await session.flush()
    return out(campaign)


async def lint(session: AsyncSession, merchant_id: int, campaign_id: int) -> LintOut:
    campaign = await require(session, merchant_id, campaign_id)
    kind = _kind(campaign.kind)
    findings: list[Finding] = await kind.check(session, merchant_id, typed_settings(campaign.kind, campaign.settings))
    return LintOut(ok=not any(f.level == "block" for f in findings), findings=findings)


async def activate(session: AsyncSession, merchant_id: int, campaign_id: int) -> CampaignOut:
    """Only a plan the linter does not block can go live."""
    campaign = await require(session, merchant_id, campaign_id)
    if not CAMPAIGN_STATES.can_move(campaign.status, CampaignStatus.ACTIVE):
        raise errors.invalid_transition(campaign.status, CampaignStatus.ACTIVE)
    report = await lint(session, merchant_id, campaign_id)
    if not report.ok:
        raise Conflict("lint_blocked", "the campaign breaks rules that block it from going live",
                       findings=[f.model_dump() for f in report.findings])
    kind = _kind(campaign.kind)
    if kind.on_activate is not None:
        await kind.on_activate(session, campaign, typed_settings(campaign.kind, campaign.settings))
    return await _move(session, campaign, CampaignStatus.ACTIVE)


async def pause(session: AsyncSession, merchant_id: int, campaign_id: int) -> CampaignOut:
    return await _move(session, await require(session, merchant_id, campaign_id), CampaignStatus.PAUSED)


async def end(session: AsyncSession, merchant_id: int, campaign_id: int) -> CampaignOut:
    return await _move(session, await require(session, merchant_id, campaign_id), CampaignStatus.ENDED)


async def _move(session: AsyncSession, campaign: Campaign, target: CampaignStatus) -> CampaignOut:
    if not await repository.move(session, campaign.id, target):
        raise errors.invalid_transition(campaign.status, target)
    await session.refresh(campaign)
    return out(campaign)


async def list_campaigns(session: AsyncSession, merchant_id: int, kind: str | None) -> list[CampaignOut]:
    return [out(c) for c in await repository.campaigns_of(session, merchant_id, kind)]


async def campaign_page(session: AsyncSession, merchant_id: int, kind: str | None, status: str | None,
                        cursor: str | None, limit: int) -> tuple[list[CampaignOut], str | None]:
    """A page of the merchant's campaigns (newest first) and the cursor of the next."""
    rows = await repository.campaign_page(session, merchant_id, kind, status, parse_cursor(cursor), limit)
    return [out(c) for c in rows], str(rows[-1].id) if len(rows) == limit else None


async def published_rules(session: AsyncSession, merchant_id: int, campaign: Campaign) -> list[str]:
    """What the shopper reads of the campaign: its kind's rules text, then the rules computed from its settings."""
    kind = _kind(campaign.kind)
    computed = [] if kind.describe is None else await kind.describe(
        session, merchant_id, typed_settings(campaign.kind, campaign.settings))
    return [kind.rules_text, *computed]


def _shown(campaign: Campaign) -> dict[str, Any]:
    """A live campaign as the shopper pages show it: what it is, what it sells, and its kind's summary."""
    return {"id": campaign.id, "kind": campaign.kind, "name": campaign.name, "product_id": campaign.product_id,
            "ends_at": campaign.ends_at.isoformat(),
            **_kind(campaign.kind).summary(typed_settings(campaign.kind, campaign.settings))}


async def live_for_product(session: AsyncSession, merchant_id: int, product_id: int,
                           clock: Clock) -> list[dict[str, Any]]:
    """The campaigns running on a product now, as its page shows them."""
    return [_shown(c) for c in await repository.live_for_product(session, merchant_id, product_id, clock.now())]


async def live_in_shop(session: AsyncSession, merchant_id: int, clock: Clock) -> list[dict[str, Any]]:
    """Every campaign running in the shop now, of every kind, for the mall's front page."""
    return [_shown(c) for c in await repository.live_in_shop(session, merchant_id, clock.now())]


async def live_of_kind(session: AsyncSession, merchant_id: int, kind: str, clock: Clock) -> list[Campaign]:
    return await repository.live_of_kind(session, merchant_id, kind, clock.now())


async def any_live(session: AsyncSession, merchant_id: int, kinds: tuple[str, ...]) -> bool:
    return await repository.any_live(session, merchant_id, kinds)


def require_live(campaign: Campaign, clock: Clock, opens_by: datetime | None = None) -> None:
    """Friends act on a campaign only while it runs: paused or ended, nothing more is given. `opens_by`: the
    moment the campaign must have started by for this customer (later than now with early access)."""
    now = clock.now()
    if (campaign.status != CampaignStatus.ACTIVE or not campaign.starts_at <= (opens_by or now)
            or campaign.ends_at <= now):
        raise errors.campaign_not_live()


async def claims(session: AsyncSession, campaign: Campaign, customer_id: int, quantity: int, limit: int,
                 runtime: Runtime) -> Claims:
    """What taking part needs: campaign units and one use of the customer's quota, each a guarded statement that
    the use case applies last (the campaign's row is one every order of a sale races for). The campaign must be
    live for the customer now: before the start, members whose level gives early access come in that many hours
    early."""
    now = runtime.clock.now()
    opens_by = now + await _early_access(session, campaign, customer_id, now)
    require_live(campaign, runtime.clock, opens_by)

    async def limit_reached(_: AsyncSession) -> Exception:
        return errors.limit_reached(limit)

    quota = Claim((LockOrder.ALLOWANCE, campaign.id), repository.taking_quota, repository.QUOTA_LEFT, {
        "merchant": campaign.merchant_id, "campaign": campaign.id, "customer": customer_id, "limit": limit},
        limit_reached)
    return Claims((_units(campaign, quantity, runtime, opens_by), quota))


async def quota_left(session: AsyncSession, campaign: Campaign, customer_id: int, limit: int) -> bool:
    """Whether the customer may still take part `limit` times over (a plain read, for a page's offer to go again)."""
    found = await session.execute(repository.QUOTA_LEFT, {"campaign": campaign.id, "customer": customer_id,
                                                           "limit": limit})
    return found.first() is not None


def _units(campaign: Campaign, quantity: int, runtime: Runtime, opens_by: datetime) -> Claim:
    """Campaign units, and telling the admission gate what is left: the one way units are taken."""

    async def sold_out(session: AsyncSession) -> Exception:
        await session.refresh(campaign)
        require_live(campaign, runtime.clock, opens_by)
        await runtime.gate.learn(campaign.id, 0)
        return errors.sold_out()

    async def taken(row: tuple[Any, ...]) -> None:
        if row[0] is not None:
            await runtime.gate.learn(campaign.id, row[0])

    return Claim((LockOrder.CAMPAIGN_UNITS, campaign.id), repository.taking_units, repository.UNITS_LEFT, {
        "campaign_id": campaign.id, "quantity": quantity, "now": runtime.clock.now(), "opens_by": opens_by},
        sold_out, taken)


async def _early_access(session: AsyncSession, campaign: Campaign, customer_id: int, now: datetime) -> timedelta:
    if campaign.starts_at <= now:
        return timedelta(0)
    level = await levels.benefits(session, campaign.merchant_id, customer_id)
    return timedelta(hours=level.early_access_hours if level else 0)


async def take_units(session: AsyncSession, campaign: Campaign, quantity: int, runtime: Runtime) -> bool:
    """Campaign stock alone (a packet handed out by a worker job, which owns its transaction), by the same claim
    as taking part, applied at once; False when the campaign has none left or has ended."""
    try:
        await Claims((_units(campaign, quantity, runtime, runtime.clock.now()),)).apply(session)
    except Conflict:
        return False
    return True


async def give_units(session: AsyncSession, campaign_id: int, quantity: int) -> None:
    await repository.return_stock(session, campaign_id, quantity)


async def unclaim(session: AsyncSession, campaign_id: int, customer_id: int, quantity: int) -> None:
    await repository.return_stock(session, campaign_id, quantity)
    await repository.return_quota(session, campaign_id, customer_id)


async def live_by_kind(session: AsyncSession, merchant_id: int) -> dict[str, int]:
    """How many of the merchant's campaigns are live, by kind."""
    return await repository.live_campaigns_by_kind(session, merchant_id)
