from __future__ import annotations

import pytest

from fissionmall.core.runtime import Runtime
from tests.recommend.history import History, Shop
from tests.support import Mall


@pytest.fixture
async def shop(mall: Mall, runtime: Runtime) -> Shop:
    shop = Shop(mall, History(runtime, mall.merchant_id, runtime.clock.now()))
    await shop.stock()
    return shop
