"""效果预测 in the console: the form with the assumptions' defaults, opened from a campaign with the campaign's own
settings filled in, linked from the campaign's page and form."""

from __future__ import annotations

import re

import pytest

from tests.campaigns.groupbuy.test_group_flow import group_campaign
from tests.console.conftest import Desk
from tests.support import Mall

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")


def value_of(page: str, name: str) -> str:
    found = re.search(rf'<input name="{name}" type="text" value="([^"]*)"', page)
    assert found, name
    return found.group(1)


async def test_the_simulator_page_offers_the_defaults_of_a_kind(desk, mall: Mall) -> None:
    support: Desk = await desk("support")
    page = await support.page("/console/campaigns/simulate", kind="invite")
    assert page.status_code == 200, page.text
    text = page.text
    assert 'data-api="POST /api/v1/admin/simulations"' in text and "效果预测 · 邀请有礼" in text
    assert "本店还没有同类活动的数据" in text
    assert (value_of(text, "audience"), value_of(text, "share_rate"), value_of(text, "claims")) == ("10000", "0.3",
                                                                                                  "10")
    assert 'name="group_size"' not in text
    unknown = await support.page("/console/campaigns/simulate", kind="nonsense")
    assert "效果预测 · 拼团" in unknown.text


async def test_a_campaign_opens_the_simulator_with_its_own_settings(desk, mall: Mall) -> None:
    campaign_id = await group_campaign(mall)
    owner: Desk = await desk("owner")
    shown = (await owner.page(f"/console/campaigns/{campaign_id}")).text
    assert f'href="/console/campaigns/simulate?campaign={campaign_id}">预测效果' in shown
    form = (await owner.page(f"/console/campaigns/{campaign_id}/edit")).text
    assert f'href="/console/campaigns/simulate?campaign={campaign_id}">预测效果' in form
    assert 'href="/console/campaigns/simulate?kind=bargain">预测效果' in (
        await owner.page("/console/campaigns/new", kind="bargain")).text
    page = (await owner.page("/console/campaigns/simulate", campaign=str(campaign_id))).text
    assert "两人团" in page and value_of(page, "group_size") == "2"
    assert value_of(page, "window_hours") == "169"  # the campaign runs from an hour ago to 7 days on


async def test_the_save_button_is_for_staff_who_edit_campaigns_and_only_from_a_campaign(desk, mall: Mall) -> None:
    campaign_id = await group_campaign(mall)
    button = f'data-api="POST /api/v1/admin/campaigns/{campaign_id}/forecast">保存为该活动的预测'
    assert button in (await (await desk("owner")).page("/console/campaigns/simulate", campaign=str(campaign_id))).text
    assert button not in (await (await desk("support")).page("/console/campaigns/simulate",
                                                             campaign=str(campaign_id))).text
    assert "保存为该活动的预测" not in (await (await desk("owner")).page("/console/campaigns/simulate")).text
