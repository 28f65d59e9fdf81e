"""The console's front page in a desktop browser: signed in through the form, the day's figures and four charts (five
with the campaigns compared) drawn by ECharts (served by the mall itself), nothing refused by the pages' policy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import StaffDesk

pytestmark = pytest.mark.backend_free


async def test_the_owner_signs_in_and_sees_the_dashboard_charts(staff: Callable[[str], Awaitable[StaffDesk]],
                                                                shots: Path) -> None:
    owner = await staff("owner")
    page = owner.page
    assert page.url.endswith("/console")
    await page.wait_for_selector(".chart canvas")
    charts = await page.locator(".chart").count()  # the campaigns compared once the worker has folded their events
    assert charts in (4, 5) and await page.locator(".chart canvas").count() == charts
    assert "今日销售额" in await page.locator("main").inner_text()
    await owner.shot(shots, "console-dashboard")
    assert owner.refused == []
    async with page.expect_navigation():
        await page.click("text=退出登录")
    assert "/console/login" in page.url
