"""Create shares, resolve their signed codes, record clicks, and attribute arrivals."""

from __future__ import annotations

from pathlib import Path

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog import service as catalog
from fissionmall.config import Settings
from fissionmall.core.auth import Shopper
from fissionmall.core.clock import Clock
from fissionmall.core.errors import InvalidInput, NotFound
from fissionmall.core.events import record_event
from fissionmall.core.runtime import Runtime
from fissionmall.core.tokens import read_code, sign_code
from fissionmall.customers import service as customers
from fissionmall.customers.hooks import Attribution
from fissionmall.merchants import service as merchants
from fissionmall.sharing import repository
from fissionmall.sharing.models import Share
from fissionmall.sharing.poster import PosterContent, cached_poster, render_qr_png
from fissionmall.sharing.schemas import ShareIn, ShareLanding, ShareOut, Sharer
from fissionmall.sharing.targets import TARGETS, PosterFacts, ShareTarget

CODE_PURPOSE = "share"
POSTERS = "posters"
"""The folder under media_dir where posters are kept by key."""


def share_code(settings: Settings, share_id: int) -> str:
    return sign_code(settings.signing_keys, CODE_PURPOSE, share_id)


def describe(settings: Settings, share: Share) -> ShareOut:
    code = share_code(settings, share.id)
    base = settings.public_base_url
    return ShareOut(code=code, link=share_link(settings, code), scene=code,
                    qr_url=f"{base}/api/v1/shares/{code}/qr.png", poster_url=f"{base}/api/v1/shares/{code}/poster.png")


async def create_share(session: AsyncSession, runtime: Runtime, shopper: Shopper, body: ShareIn) -> ShareOut:
    campaign_id = await TARGETS[body.target_type].check(session, shopper, body.target_id)
    sharer = await customers.get_customer(session, shopper.merchant_id, shopper.customer_id)
    now = runtime.clock.now()
    share = await repository.upsert(session, merchant_id=shopper.merchant_id, sharer_id=sharer.id,
                                    target_type=body.target_type, target_id=body.target_id, campaign_id=campaign_id,
                                    depth=sharer.depth, created_at=now)
    await record_event(session, merchant_id=share.merchant_id, kind="share", at=now, actor_id=sharer.id,
                       inviter_id=sharer.inviter_id, depth=sharer.depth, campaign_id=share.campaign_id,
                       subject=("share", share.id), data={"target_type": share.target_type,
                                                           "target_id": share.target_id})
    return describe(runtime.settings, share)


async def resolve(session: AsyncSession, settings: Settings, code: str) -> tuple[Share, str]:
    """The share behind a code and its sharer's nickname; a forged or edited code is not found."""
    share_id = read_code(settings.signing_keys, CODE_PURPOSE, code)
    found = await repository.with_sharer(session, share_id) if share_id is not None else None
    if found is None:
        raise NotFound("share_not_found", "this share link is not valid")
    return found


async def land(session: AsyncSession, runtime: Runtime, code: str, visitor: Shopper | None) -> ShareLanding:
    """Someone opened a share link: record the click, tell the page what to show."""
    share, nickname = await resolve(session, runtime.settings, code)
    visitor_id = visitor.customer_id if visitor and visitor.merchant_id == share.merchant_id else None
    await record_event(session, merchant_id=share.merchant_id, kind="click", at=runtime.clock.now(),
                       actor_id=visitor_id, inviter_id=share.sharer_id, depth=share.depth + 1,
                       campaign_id=share.campaign_id, subject=("share", share.id),
                       data={"target_type": share.target_type})
    return ShareLanding(code=code, target_type=share.target_type, target_id=share.target_id,
                        campaign_id=share.campaign_id, sharer=Sharer(id=share.sharer_id, nickname=nickname),
                        depth=share.depth + 1)


async def attribution(session: AsyncSession, settings: Settings, merchant_id: int, code: str) -> Attribution:
    """Whose share brought this customer or order; a code of another merchant is refused like a forgery."""
    share_id = read_code(settings.signing_keys, CODE_PURPOSE, code)
    found = await repository.with_sharer(session, share_id) if share_id is not None else None
    if found is None or found[0].merchant_id != merchant_id:
        raise InvalidInput("invalid_share_code", "the share code is not valid for this mall")
    share = found[0]
    return Attribution(share_id=share.id, sharer_id=share.sharer_id, depth=share.depth,
                       campaign_id=share.campaign_id)


async def qr_png(session: AsyncSession, settings: Settings, code: str) -> bytes:
    await resolve(session, settings, code)
    return await anyio.to_thread.run_sync(render_qr_png, share_link(settings, code))


def share_link(settings: Settings, code: str) -> str:
    return f"{settings.public_base_url}/s/{code}"


async def poster_png(session: AsyncSession, runtime: Runtime, code: str) -> tuple[str, Path]:
    """The poster of a share, drawn from the facts its target supplies (a product's price, a group's places
    left, a bargain's progress, a saved-money card …): its key, which changes whenever anything it shows does,
    and its file, drawn only if no poster with that key was kept."""
    settings = runtime.settings
    share, nickname = await resolve(session, settings, code)
    facts = await facts_of(session, runtime.clock, share)
    content = PosterContent(facts=facts, sharer_name=nickname, link=share_link(settings, code),
                            image_path=_local_media(settings, facts.image_url))
    folder = Path(settings.media_dir) / POSTERS
    return await anyio.to_thread.run_sync(cached_poster, folder, content)


async def facts_of(session: AsyncSession, clock: Clock, share: Share) -> PosterFacts:
    """What a share shows a friend, as of now: its poster's facts, which its landing page shows too."""
    target = TARGETS.get(share.target_type)
    if target is not None and target.poster is not None:
        return await target.poster(session, clock, share.merchant_id, share.target_id)
    return await mall_facts(session, share.merchant_id)


async def mall_facts(session: AsyncSession, merchant_id: int) -> PosterFacts:
    """An invitation to the mall, for a target with nothing of its own to show."""
    merchant = await merchants.merchant_by_id(session, merchant_id)
    return PosterFacts(title=f"{merchant.name} · 好物等你来挑", hero="邀请你来逛逛", hero_note=merchant.name,
                       tagline="长按识别二维码，进店逛逛")


def _local_media(settings: Settings, url: str | None) -> Path | None:
    """Only files under the media folder are read; anything else is drawn as a placeholder."""
    if not url or not url.startswith("/media/"):
        return None
    root = Path(settings.media_dir).resolve()
    path = (root / url.removeprefix("/media/")).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


async def product_target(session: AsyncSession, shopper: Shopper, product_id: int) -> int | None:
    await catalog.require_product(session, shopper.merchant_id, product_id, on_sale=True)
    return None


async def product_poster(session: AsyncSession, clock: Clock, merchant_id: int, product_id: int) -> PosterFacts:
    """A product: its picture, title and lowest price on sale."""
    card = await catalog.product_detail(session, merchant_id, product_id, shopper_view=False)
    prices = [sku.price_fen for sku in card.skus if sku.active]
    return PosterFacts(title=card.title, image_url=card.images[0] if card.images else None,
                       price_fen=min(prices) if prices else None)


PRODUCT = ShareTarget("product", product_target, product_poster)
"""Sharing's own target; the others come from the domains that own them (mechanics, orders, points)."""


async def reach_of(session: AsyncSession, merchant_id: int, campaign_ids: list[int]) -> tuple[int, int, int, int]:
    """(shares made, distinct sharers, customers brought, brought customers who shared in turn) over the campaigns:
    the simulator's defaults from a merchant's past campaigns."""
    return await repository.reach_of(session, merchant_id, campaign_ids)
