"""Every status write is a compare-and-set against the record's table of moves: a record moves only from a state
that allows it, a record moved first by someone else is left alone, and each move writes its event."""

from __future__ import annotations

from enum import StrEnum

import pytest
from sqlalchemy import select

from fissionmall.core.events import Event
from fissionmall.core.runtime import Runtime
from fissionmall.core.states import Moved, StateMachine, transition
from fissionmall.db.sql import table
from fissionmall.orders.models import Order
from fissionmall.orders.states import ORDER_STATES, OrderStatus
from tests.support import Mall


class Light(StrEnum):
    RED = "red"
    GREEN = "green"
    AMBER = "amber"


@pytest.mark.backend_free
def test_a_machine_knows_the_sources_of_each_move_and_its_final_states() -> None:
    lights = StateMachine({Light.RED: {Light.GREEN}, Light.GREEN: {Light.AMBER}, Light.AMBER: {Light.RED}})
    assert lights.sources(Light.GREEN) == {Light.RED}
    assert lights.can_move("green", Light.AMBER) and not lights.can_move("green", Light.RED)
    assert not lights.can_move("blue", Light.RED)
    assert lights.final() == frozenset()
    assert ORDER_STATES.final() == {OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.REFUNDED}


@pytest.mark.backend_free
def test_a_machine_refuses_a_move_to_a_state_it_does_not_declare() -> None:
    with pytest.raises(ValueError, match="amber"):
        StateMachine({Light.RED: {Light.AMBER}})


async def test_transition_moves_only_what_its_state_allows_once_and_writes_each_move(mall: Mall,
                                                                                     runtime: Runtime) -> None:
    alice = await mall.shopper("alice")
    first = (await mall.order(alice))["id"]
    second = (await mall.order(alice))["id"]
    orders = table(Order)
    async with runtime.sessionmaker() as session, session.begin():
        assert await transition(session, ORDER_STATES, orders, [first], OrderStatus.SHIPPED,
                                at=runtime.clock.now()) == []  # not from pending payment
        moved = await transition(session, ORDER_STATES, orders, [first, second], OrderStatus.CANCELLED,
                                 at=runtime.clock.now(), values={"closed_at": runtime.clock.now()},
                                 event=Moved("order_cancelled_test", "order"))
        assert sorted(moved) == sorted([first, second])
        assert await transition(session, ORDER_STATES, orders, [first], OrderStatus.CANCELLED,
                                at=runtime.clock.now()) == []  # already there: nothing moves twice
    async with runtime.sessionmaker() as session:
        statuses = (await session.execute(select(Order.status).where(Order.id.in_([first, second])))).scalars()
        assert set(statuses) == {"cancelled"}
        events = (await session.execute(select(Event.subject_id).where(Event.kind == "order_cancelled_test")))
        assert sorted(events.scalars()) == sorted([first, second])
