"""Journey: 越拆越多. The rules page promises ¥1–2 for a customer's 1st opened packet, ¥2–4 for the 2nd and ¥5 for
the 3rd and later; the customer opens three packets through the pages, a friend helps each, and the third pays the
¥5 the rules page promised, credited to the wallet."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import SHOP, live_campaign

pytestmark = pytest.mark.backend_free

LADDER = [{"kind": "credit", "min_fen": 100, "max_fen": 200}, {"kind": "credit", "min_fen": 200, "max_fen": 400},
          {"kind": "credit", "min_fen": 500, "max_fen": 500}]
FRIENDS = ("阿强", "小美", "大刘")


async def test_the_third_opened_packet_pays_the_larger_prize_the_rules_page_promised(server: str, people,
                                                                                    shots: Path) -> None:
    campaign_id = await live_campaign(server, "assist", "越拆越多红包", {
        "helpers_needed": 1, "pool_fen": 10_000, "winners": 100, "per_customer_limit": 3, "ladder": LADDER,
        "velocity": {"per_ip_range_hour": 100_000}})
    opener = await people("小红")
    rules_url = f"/m/{SHOP}/assist-campaigns/{campaign_id}"
    page = await opener.open(rules_url)
    ladder = page.locator("table.ladder")
    assert [await row.inner_text() for row in await ladder.locator("tr").all()][1:] == [
        "第 1 个\t¥1.00–¥2.00 余额\t最低 ¥1.00，区间内随机", "第 2 个\t¥2.00–¥4.00 余额\t最低 ¥2.00，区间内随机",
        "第 3 个及以后\t¥5.00 余额\t固定"]
    await page.wait_for_selector("text=第 3 个及以后每个红包得¥5.00 店铺余额（固定）")
    await opener.shot(shots, "ladder-rules")

    prizes = []
    for rank, name in enumerate(FRIENDS, start=1):
        page = await opener.open(rules_url)
        await page.click("text=发起助力，拆红包")
        await page.wait_for_url("**/assists/*")
        packet_url = page.url
        friend = await people(name)
        landing = await friend.open(packet_url)
        await landing.click("form.act >> text=助力")
        await landing.wait_for_selector("text=你已为小红助力")
        assert friend.refused == []
        await page.reload()
        await page.wait_for_selector(f"text=红包已拆开（我拆开的第 {rank} 个）")
        state = await opener.api("GET", f"/assists/{packet_url.rsplit('/', 1)[1]}")
        assert (state["status"], state["outcome"], state["rank"]) == ("opened", "won", rank)
        prizes.append(state["prize_fen"])
    await page.wait_for_selector("text=¥5.00 已存入余额")
    await opener.shot(shots, "ladder-third-packet")

    assert 100 <= prizes[0] <= 200 and 200 <= prizes[1] <= 400 and prizes[2] == 500
    wallet = await opener.api("GET", "/wallet")
    assert wallet["balance_fen"] == sum(prizes)
    assert sorted(e["amount_fen"] for e in wallet["entries"]) == sorted(prizes)
    assert opener.refused == []
