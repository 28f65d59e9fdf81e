"""The scenarios, each a small function: create its campaigns through the admin API, run its phases, read back
the invariants by SQL, and replay its statements with pgbench. Sizes are given as (full, --quick, capture).

The invariants are plain SQL that PostgreSQL and SQLite read alike, so every one is checked on both.

Every scenario uses customers no other scenario touched and campaigns of its own, on a product of its own, so the
invariants can be read per campaign and per SKU whatever ran before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bench.dataset import SKU_STOCK, price_of, sku_of
from bench.driver import Report
from bench.runner import Bench

HIGH_VOLUME_HELPS = {
    "helps_per_helper_per_day": 50,
    "velocity": {"per_customer_hour": 10_000, "per_device_hour": 10_000, "per_ip_range_hour": 100_000},
}
"""Help rules loose enough for a crowd: the bench measures the help path, not its refusals (docs/helping.md)."""


def answered(report: Report | None, label: str, outcome: str = "2") -> int:
    """How many `label` requests of a phase got an answer starting with `outcome` ("2": any success)."""
    if report is None or label not in report.labels:
        return 0
    return sum(n for status, n in report.labels[label].outcomes.items() if status.startswith(outcome))


async def money_and_stock(b: Bench, campaign_id: int, sku_id: int) -> None:
    """What every paying scenario must keep: money conserved, campaign stock and SKU stock equal to the orders."""
    await b.check(
        "money: payments succeeded = sum of orders' paid_fen",
        await b.value(
            "SELECT coalesce(sum(p.amount_fen), 0) FROM payments p JOIN orders o ON o.id = "
            "p.order_id WHERE o.campaign_id = $1 AND p.status = 'succeeded'",
            campaign_id,
        ),
        await b.value("SELECT coalesce(sum(paid_fen), 0) FROM orders WHERE campaign_id = $1", campaign_id),
    )
    await b.check(
        "every paid order paid exactly its total",
        await b.value(
            "SELECT count(*) FROM orders WHERE campaign_id = $1 AND paid_fen > 0 AND paid_fen <> total_fen", campaign_id
        ),
        0,
    )
    await b.check(
        "campaign sold = orders holding its units",
        await b.value("SELECT sold FROM campaigns WHERE id = $1", campaign_id),
        await b.value(
            "SELECT count(*) FROM orders WHERE campaign_id = $1 AND status NOT IN ('cancelled', 'refunded')",
            campaign_id,
        ),
    )
    await stock_matches(b, sku_id)


async def stock_matches(b: Bench, sku_id: int) -> None:
    await b.check(
        f"SKU {sku_id} stock taken = units in live orders (all scenarios)",
        SKU_STOCK - await b.value("SELECT stock FROM skus WHERE id = $1", sku_id),
        await b.value(
            "SELECT coalesce(sum(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = "
            "i.order_id WHERE i.sku_id = $1 AND o.status NOT IN ('cancelled', 'refunded')",
            sku_id,
        ),
    )


GROUP_SIZE = 5


async def group(b: Bench) -> None:
    """Leaders open many groups (order, pay, notification), then members fill every seat the same way."""
    groups, sku = b.size(2000, 100), sku_of(1)
    campaign = await b.admin.campaign(
        "group",
        "压测拼团",
        {
            "product_id": 1,
            "skus": [{"sku_id": sku, "group_price_fen": price_of(1) - 1000}],
            "group_size": GROUP_SIZE,
            "fill_minutes": 240,
            "per_customer_limit": 1,
        },
    )
    opened = await b.phase("open groups", "group_buy", b.customers(groups, campaign_id=campaign, sku_id=sku))
    ids = [
        r["id"] for r in await b.db.fetch("SELECT id FROM buying_groups WHERE campaign_id = $1 ORDER BY id", campaign)
    ]
    members = b.customers(len(ids) * (GROUP_SIZE - 1), campaign_id=campaign, sku_id=sku)
    for n, member in enumerate(members):  # round robin: concurrent members mostly land on different groups
        member["group_id"] = ids[n % len(ids)]
    joined = await b.phase("join + pay", "group_buy", members)
    await b.admin.end(campaign)
    if b.mode == "capture":
        return
    notify = "POST /payments/notify"
    await b.check("groups opened = leaders' payments confirmed", len(ids), answered(opened, notify))
    await b.check(
        "groups with more paid members than seats",
        await b.value("SELECT count(*) FROM buying_groups WHERE campaign_id = $1 AND paid_count > size", campaign),
        0,
    )
    await b.check(
        "seats taken by members = members' payments confirmed",
        await b.value("SELECT sum(paid_count) - count(*) FROM buying_groups WHERE campaign_id = $1", campaign),
        answered(joined, notify),
    )
    await b.check(
        "groups succeeded = groups full",
        await b.value("SELECT count(*) FROM buying_groups WHERE campaign_id = $1 AND status = 'succeeded'", campaign),
        await b.value("SELECT count(*) FROM buying_groups WHERE campaign_id = $1 AND paid_count = size", campaign),
    )
    await b.check(
        "orders to ship = seats taken",
        await b.value("SELECT count(*) FROM orders WHERE campaign_id = $1 AND status = 'to_ship'", campaign),
        await b.value("SELECT sum(paid_count) FROM buying_groups WHERE campaign_id = $1", campaign),
    )
    await money_and_stock(b, campaign, sku)
    await b.ceilings("group", joined, campaign=campaign, sku=sku)


async def flash(b: Bench) -> None:
    """A flash group-buy: a crowd races for the campaign's few units; exactly the cap sells, losers hear why."""
    seats, racers, sku = b.size(500, 50, capture=1), b.size(20_000, 2000, capture=2), sku_of(2)
    campaign = await b.admin.campaign(
        "group",
        "限时秒杀团",
        {
            "product_id": 2,
            "skus": [{"sku_id": sku, "group_price_fen": price_of(2) - 2000}],
            "group_size": 2,
            "fill_minutes": 240,
            "per_customer_limit": 1,
        },
        stock_cap=seats,
    )
    race = await b.phase("race", "group_buy", b.customers(racers, campaign_id=campaign, sku_id=sku))
    await b.admin.end(campaign)
    if b.mode == "capture":
        return
    await b.check("units sold = stock_cap", await b.value("SELECT sold FROM campaigns WHERE id = $1", campaign), seats)
    await b.check("orders answered 201 = stock_cap", answered(race, "POST /orders", "201"), seats)
    await b.check(
        "losers answered 409 campaign_sold_out", answered(race, "POST /orders", "409 campaign_sold_out"), racers - seats
    )
    await b.check("winners' payments confirmed = stock_cap", answered(race, "POST /payments/notify"), seats)
    await money_and_stock(b, campaign, sku)
    await b.ceilings("flash", race, campaign=campaign, sku=sku, seats=seats, racers=racers)


HELPS_NEEDED = 5
HELPER_REWARD_FEN = 10


async def bargain(b: Bench) -> None:
    """Many bargains started, then friends cut each to its floor; one friend too many per bargain is refused."""
    count, sku = b.size(2000, 100), sku_of(3)
    campaign = await b.admin.campaign(
        "bargain",
        "压测砍价",
        {
            "product_id": 3,
            "sku_id": sku,
            "start_price_fen": price_of(3),
            "floor_price_fen": 990,
            "helps_needed": HELPS_NEEDED,
            "self_cut_percent": 10,
            "duration_minutes": 1440,
            "per_customer_limit": 1,
            "helper_reward_fen": HELPER_REWARD_FEN,
            "reward_budget": {"total_fen": 10_000_000},
            **HIGH_VOLUME_HELPS,
        },
    )
    started = await b.phase("start bargains", "bargain_start", b.customers(count, campaign_id=campaign))
    ids = [r["id"] for r in await b.db.fetch("SELECT id FROM bargains WHERE campaign_id = $1 ORDER BY id", campaign)]
    helpers = b.customers(len(ids) * (HELPS_NEEDED + 1))
    for n, helper in enumerate(helpers):
        helper["bargain_id"] = ids[n % len(ids)]
    helped = await b.phase("helps", "bargain_help", helpers)
    await b.admin.end(campaign)
    if b.mode == "capture":
        return
    label = "POST /bargains/{id}/helps"
    await b.check(
        "bargains = starts answered 201 = campaign sold",
        [
            len(ids),
            answered(started, "POST /bargains", "201"),
            await b.value("SELECT sold FROM campaigns WHERE id = $1", campaign),
        ],
        [count] * 3,
    )
    await b.check(
        "bargains at the floor after exactly N cuts",
        await b.value(
            "SELECT count(*) FROM bargains WHERE campaign_id = $1 AND status = 'reached_floor' "
            "AND price_fen = floor_price_fen AND helps_done = helps_needed",
            campaign,
        ),
        count,
    )
    await b.check(
        "help rows = helps answered 201 = bargains × N",
        [await b.value("SELECT count(*) FROM helps WHERE campaign_id = $1", campaign), answered(helped, label, "201")],
        [count * HELPS_NEEDED] * 2,
    )
    await b.check(
        "the friend too many answered 409 bargain_complete", answered(helped, label, "409 bargain_complete"), count
    )
    await b.check(
        "cuts sum to start − own cut − floor on every bargain",
        await b.value(
            "SELECT count(*) FROM bargains g WHERE campaign_id = $1 AND start_price_fen - "
            "self_cut_fen - floor_price_fen <> (SELECT coalesce(sum(amount_fen), 0) FROM helps h "
            "WHERE h.target_type = 'bargain' AND h.target_id = g.id)",
            campaign,
        ),
        0,
    )
    await b.check(
        "helper rewards credited = budget claimed = helps × reward",
        [
            await b.value(
                "SELECT coalesce(sum(amount_fen), 0) FROM wallet_entries WHERE campaign_id = $1 "
                "AND kind = 'helper_reward'",
                campaign,
            ),
            await b.value(
                "SELECT used FROM counters WHERE key = $1 AND period = 'all'", f"budget:{campaign}:helper_reward"
            ),
        ],
        [count * HELPS_NEEDED * HELPER_REWARD_FEN] * 2,
    )
    await b.ceilings("bargain", helped, campaign=campaign)


PACKET_SLOTS, PACKET_TOTAL_FEN = 100, 10_000
ASSIST_HELPERS, ASSIST_POOL_FEN = 4, 100_000


async def viral(b: Bench) -> None:
    """A link goes round: a crowd claims one share-coupon packet's 100 coupons and helps open assist packets that
    all draw from one prize pool, at the same moment."""
    crowd = b.size(5000, 500, capture=4)
    winners = b.size(200, 20)
    template = await b.admin.coupon_template(
        {"name": "分享券", "kind": "amount", "amount_fen": 1, "valid_days": 7, "claimable": False}
    )
    share = await b.admin.campaign(
        "share_coupon",
        "压测分享券",
        {
            "template_id": template,
            "slots": PACKET_SLOTS,
            "total_fen": PACKET_TOTAL_FEN,
            "duration_hours": 24,
            **HIGH_VOLUME_HELPS,
        },
    )
    buyer = b.customers(1, sku_id=sku_of(4))
    await b.phase("buyer pays", "buy_normal", buyer, concurrency=1)

    async def the_packet() -> Any:
        return await b.value("SELECT id FROM coupon_packets WHERE campaign_id = $1", share)

    packet = await b.wait_for("the worker to make the buyer's share-coupon packet", the_packet)
    assist = await b.admin.campaign(
        "assist",
        "压测助力红包",
        {
            "helpers_needed": ASSIST_HELPERS,
            "pool_fen": ASSIST_POOL_FEN,
            "winners": winners,
            "min_prize_fen": 1,
            "win_percent": 100,
            "per_customer_limit": 1,
            "duration_minutes": 1440,
            **HIGH_VOLUME_HELPS,
        },
    )
    owners = -(-crowd // ASSIST_HELPERS)
    await b.phase("open assist packets", "assist_open", b.customers(owners, campaign_id=assist))
    ids = [
        r["id"] for r in await b.db.fetch("SELECT id FROM assist_packets WHERE campaign_id = $1 ORDER BY id", assist)
    ]
    people = b.customers(len(ids) * ASSIST_HELPERS, packet_id=packet)
    for n, person in enumerate(people):
        person["assist_id"] = ids[n % len(ids)]
    burst = await b.phase("burst", "viral", people)
    await b.admin.end(share)
    await b.admin.end(assist)
    if b.mode == "capture":
        return
    claims, helps = "POST /packets/{id}/claims", "POST /assists/{id}/helps"
    await b.check(
        "coupons claimed = slots = claims answered 201",
        [
            await b.value("SELECT count(*) FROM coupons WHERE source_type = 'packet' AND source_id = $1", packet),
            answered(burst, claims, "201"),
        ],
        [PACKET_SLOTS] * 2,
    )
    await b.check(
        "claimed coupons sum to the packet's total",
        await b.value("SELECT sum(amount_fen) FROM coupons WHERE source_type = 'packet' AND source_id = $1", packet),
        PACKET_TOTAL_FEN,
    )
    await b.check(
        "claims refused with a clear code (packet_empty / packet_closed)",
        answered(burst, claims, "409 packet_empty") + answered(burst, claims, "409 packet_closed"),
        len(people) - PACKET_SLOTS,
    )
    opened = min(winners, len(ids))
    await b.check(
        "assist packets opened / won / pool_empty",
        [
            await b.value("SELECT count(*) FROM assist_packets WHERE campaign_id = $1 AND status = 'opened'", assist),
            await b.value("SELECT count(*) FROM assist_packets WHERE campaign_id = $1 AND outcome = 'won'", assist),
            await b.value(
                "SELECT count(*) FROM assist_packets WHERE campaign_id = $1 AND outcome = 'pool_empty'", assist
            ),
        ],
        [len(ids), opened, len(ids) - opened],
    )
    await b.check(
        "prizes credited = the first prize slots, within the pool",
        [
            await b.value(
                "SELECT coalesce(sum(amount_fen), 0) FROM wallet_entries WHERE campaign_id = $1 "
                "AND kind = 'assist_prize'",
                assist,
            ),
            await b.value("SELECT coalesce(sum(prize_fen), 0) FROM assist_packets WHERE campaign_id = $1", assist)
            <= ASSIST_POOL_FEN,
        ],
        [
            await b.value(
                "SELECT coalesce(sum(amount_fen), 0) FROM prize_slots WHERE owner_type = 'assist' AND "
                "owner_id = $1 AND seq <= $2",
                assist,
                opened,
            ),
            True,
        ],
    )
    await b.check(
        "assist helps answered 201 = packets × helpers needed", answered(burst, helps, "201"), len(ids) * ASSIST_HELPERS
    )
    await b.ceilings("viral", burst, packet=packet, assist=assist)


async def browse(b: Bench) -> None:
    """Visitors without login: the product list and product pages (with their live campaigns)."""
    visitors = b.size(10_000, 1000)
    pages = await b.phase("browse", "browse", [{"id": n, "product_id": 1 + n % 20} for n in range(visitors)])
    if b.mode == "load":
        await b.check(
            "every page answered 200",
            answered(pages, "GET /products", "200") + answered(pages, "GET /products/{id}", "200"),
            2 * visitors,
        )


Scenario = Callable[[Bench], Awaitable[None]]
COUPON_PERCENT_OFF = 10


async def order(b: Bench) -> None:
    """Newcomers' first orders, 16 at a time: sign in, claim a 10% coupon, order, pay, provider's confirmation.
    What one order costs the machine (server and PostgreSQL CPU per journey) is the figure this phase is for."""
    count, product = b.size(4000, 400), 6
    sku = sku_of(product)
    template = await b.admin.coupon_template(
        {"name": "新人九折", "kind": "percent", "percent_off": COUPON_PERCENT_OFF, "valid_days": 7}
    )
    first = b.next_customer
    buyers = await b.phase(
        "first orders", "sign_in_and_buy", b.customers(count, template_id=template, sku_id=sku), concurrency=16
    )
    if b.mode == "capture":
        return
    price = price_of(product)
    total = price - price * COUPON_PERCENT_OFF // 100
    await b.check(
        "newcomers signed up = logins answered",
        await b.value(
            "SELECT count(*) FROM customers WHERE openid LIKE 'order-bench-%' "
            "AND CAST(substr(openid, 13) AS INTEGER) BETWEEN $1 AND $2",
            first,
            first + count - 1,
        ),
        answered(buyers, "POST /auth/dev-login"),
    )
    await b.check(
        "coupons used = orders paid = confirmations",
        [
            await b.value("SELECT count(*) FROM coupons WHERE template_id = $1 AND status = 'used'", template),
            await b.value(
                "SELECT count(*) FROM orders WHERE status = 'to_ship' AND id IN "
                "(SELECT order_id FROM coupons WHERE template_id = $1)",
                template,
            ),
        ],
        [answered(buyers, "POST /payments/notify")] * 2,
    )
    await b.check(
        f"every paid order paid the price less {COUPON_PERCENT_OFF}% ({total} fen)",
        await b.value(
            "SELECT count(*) FROM orders WHERE paid_fen > 0 AND paid_fen <> $2 AND id IN "
            "(SELECT order_id FROM coupons WHERE template_id = $1)",
            template,
            total,
        ),
        0,
    )
    await b.check(
        "money: payments succeeded = orders' paid_fen",
        await b.value(
            "SELECT coalesce(sum(p.amount_fen), 0) FROM payments p JOIN coupons c ON c.order_id = p.order_id "
            "WHERE c.template_id = $1 AND p.status = 'succeeded'",
            template,
        ),
        await b.value(
            "SELECT coalesce(sum(o.paid_fen), 0) FROM orders o JOIN coupons c ON c.order_id = o.id "
            "WHERE c.template_id = $1",
            template,
        ),
    )
    await stock_matches(b, sku)
    await b.ceilings("order", buyers, template=template, product=product, sku=sku, price=price,
                     adjustment=total - price, total=total)


SCENARIOS: dict[str, tuple[str, Scenario]] = {
    "group": ("Group join + pay on many groups", group),
    "flash": ("Flash group-buy: a crowd races for a capped campaign", flash),
    "bargain": ("Bargain helps on many bargains", bargain),
    "viral": ("Viral burst: one share-coupon packet and one assist pool", viral),
    "browse": ("Browse: product list and product pages", browse),
    "order": ("A newcomer's first order: sign in, claim a coupon, order, pay, confirmation", order),
}
