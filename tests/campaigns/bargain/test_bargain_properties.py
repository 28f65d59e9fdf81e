"""Properties of the pure bargain rules (campaigns/bargain/rules.py and BargainSettings), over any valid plan:
exactly N cuts of at least 1 fen, non-increasing, summing to the fen to what lies between the price after the
initiator's cut and the floor; walking the schedule (with or without new-helper bonuses) reaches the floor exactly,
never passes it, and without bonuses needs exactly N helps; the published hash binds the schedule and the salt;
progress is rounded down (never overstated); the settings accept a plan exactly when it can reach its floor."""

from __future__ import annotations

import hashlib
import random
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from fissionmall.campaigns.bargain import rules
from fissionmall.campaigns.bargain.schemas import MAX_PRICE_FEN, BargainSettings
from fissionmall.core.durations import chinese_duration

pytestmark = pytest.mark.backend_free

# the autouse table-emptying fixture does nothing for tests without a database
settings.register_profile("bargain", suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=200,
                          deadline=None)
PROFILE = settings.get_profile("bargain")

seeds = st.integers(min_value=0, max_value=2**64)
helps = st.integers(min_value=1, max_value=100)


@st.composite
def plans(draw: st.DrawFn) -> tuple[int, int]:
    """(total to cut, N) with total ≥ N: any schedule the service may be asked to plan."""
    n = draw(helps)
    total = draw(st.one_of(st.integers(min_value=n, max_value=n + 10),  # barely enough: many 1-fen cuts
                           st.integers(min_value=n, max_value=MAX_PRICE_FEN)))
    return total, n


@st.composite
def valid_settings(draw: st.DrawFn) -> BargainSettings:
    """Any bargain settings the model accepts: start > floor and N cuts fit after the initiator's own cut."""
    start = draw(st.integers(min_value=2, max_value=MAX_PRICE_FEN))
    floor = draw(st.integers(min_value=0, max_value=start - 1))
    percent = draw(st.integers(min_value=0, max_value=50))
    left = start - floor - (start - floor) * percent // 100
    assume(left >= 1)
    n = draw(st.integers(min_value=1, max_value=min(100, left)))
    return BargainSettings.model_validate({
        "product_id": 1, "sku_id": 1, "start_price_fen": start, "floor_price_fen": floor,
        "self_cut_percent": percent, "helps_needed": n})


def planned(s: BargainSettings, seed: int) -> list[int]:
    return rules.plan_cuts(s.start_price_fen - s.floor_price_fen - rules.self_cut(s), s.helps_needed,
                           random.Random(seed))


# --- the schedule -----------------------------------------------------------------------------------------------------


@PROFILE
@given(plans(), seeds)
def test_plan_cuts_is_exactly_n_non_increasing_cuts_of_at_least_one_fen_summing_to_the_total(
        plan: tuple[int, int], seed: int) -> None:
    """P1: exactly N cuts, each ≥ 1 fen, the first the largest and none larger than the one before, sum to the fen."""
    total, n = plan
    cuts = rules.plan_cuts(total, n, random.Random(seed))
    assert len(cuts) == n
    assert sum(cuts) == total
    assert all(isinstance(c, int) and c >= 1 for c in cuts)
    assert all(a >= b for a, b in zip(cuts, cuts[1:], strict=False))
    assert cuts[0] == max(cuts)


@PROFILE
@given(plans(), seeds)
def test_plan_cuts_is_determined_by_its_random_source(plan: tuple[int, int], seed: int) -> None:
    """The same seed plans the same schedule (the service uses a system source; the maths holds for any)."""
    total, n = plan
    assert rules.plan_cuts(total, n, random.Random(seed)) == rules.plan_cuts(total, n, random.Random(seed))


@PROFILE
@given(st.integers(min_value=-5, max_value=100), st.integers(min_value=-5, max_value=100), seeds)
def test_plan_cuts_refuses_a_schedule_that_cannot_be_honest(total: int, n: int, seed: int) -> None:
    """P2: no N ≥ 1 or fewer fen than cuts is refused outright, never planned short."""
    assume(n < 1 or total < n)
    with pytest.raises(ValueError):
        rules.plan_cuts(total, n, random.Random(seed))


@PROFILE
@given(valid_settings(), seeds)
def test_a_valid_plan_always_has_an_honest_schedule_reaching_the_floor(s: BargainSettings, seed: int) -> None:
    """For any settings the model accepts: the initiator's cut plus the N cuts is exactly start − floor."""
    cuts = planned(s, seed)
    own = rules.self_cut(s)
    assert own == (s.start_price_fen - s.floor_price_fen) * s.self_cut_percent // 100
    assert 0 <= own < s.start_price_fen - s.floor_price_fen
    assert len(cuts) == s.helps_needed and min(cuts) >= 1
    assert own + sum(cuts) == s.start_price_fen - s.floor_price_fen


# --- walking the schedule ---------------------------------------------------------------------------------------------


@PROFILE
@given(st.integers(min_value=0, max_value=MAX_PRICE_FEN), st.integers(min_value=0, max_value=MAX_PRICE_FEN),
       st.integers(min_value=1, max_value=MAX_PRICE_FEN), st.integers(min_value=0, max_value=MAX_PRICE_FEN))
def test_apply_cut_never_passes_the_floor(floor: int, above: int, scheduled: int, bonus: int) -> None:
    """A cut is the scheduled cut plus the bonus, or exactly what is left to the floor, whichever is smaller."""
    price = floor + above
    cut = rules.apply_cut(price, floor, scheduled, bonus)
    assert 0 <= cut <= scheduled + bonus
    assert price - cut >= floor
    assert cut == (scheduled + bonus if above >= scheduled + bonus else above)


@PROFILE
@given(valid_settings(), seeds)
def test_without_bonuses_exactly_the_nth_help_reaches_the_floor(s: BargainSettings, seed: int) -> None:
    """Each help takes its scheduled cut whole; the price is above the floor until the N-th, then exactly at it."""
    cuts = planned(s, seed)
    price = s.start_price_fen - rules.self_cut(s)
    for k, scheduled in enumerate(cuts, start=1):
        assert price > s.floor_price_fen
        assert rules.helps_remaining(s.helps_needed, k - 1, price, s.floor_price_fen) == s.helps_needed - k + 1
        cut = rules.apply_cut(price, s.floor_price_fen, scheduled, 0)
        assert cut == scheduled
        price -= cut
        assert s.start_price_fen - price == rules.self_cut(s) + sum(cuts[:k])
    assert price == s.floor_price_fen
    assert rules.helps_remaining(s.helps_needed, s.helps_needed, price, s.floor_price_fen) == 0


@PROFILE
@given(valid_settings(), seeds, st.integers(min_value=1, max_value=MAX_PRICE_FEN), st.data())
def test_new_helper_bonuses_reach_the_floor_no_later_and_never_below_it(s: BargainSettings, seed: int, bonus: int,
                                                                        data: st.DataObject) -> None:
    """With any mix of new (bonus) and old helpers the floor is reached by the N-th help at the latest, never
    passed, and once there, nothing is left to cut; each cut is at least its scheduled one until the floor."""
    cuts = planned(s, seed)
    new = data.draw(st.lists(st.booleans(), min_size=len(cuts), max_size=len(cuts)))
    price = s.start_price_fen - rules.self_cut(s)
    taken: list[int] = []
    for scheduled, is_new in zip(cuts, new, strict=True):
        if price == s.floor_price_fen:
            break
        cut = rules.apply_cut(price, s.floor_price_fen, scheduled, bonus if is_new else 0)
        assert cut == min(scheduled + (bonus if is_new else 0), price - s.floor_price_fen)
        price -= cut
        taken.append(cut)
        assert price >= s.floor_price_fen
    assert price == s.floor_price_fen
    assert sum(taken) == s.start_price_fen - rules.self_cut(s) - s.floor_price_fen
    assert rules.helps_remaining(s.helps_needed, len(taken), price, s.floor_price_fen) == 0


# --- the published proof ----------------------------------------------------------------------------------------------

salts = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)


@PROFILE
@given(plans(), seeds, salts)
def test_schedule_hash_is_sha256_of_salt_and_cuts(plan: tuple[int, int], seed: int, salt: str) -> None:
    """Anyone can recompute the proof from the revealed salt and schedule."""
    cuts = rules.plan_cuts(*plan, random.Random(seed))
    expected = hashlib.sha256(f"{salt}:{','.join(str(c) for c in cuts)}".encode()).hexdigest()
    assert rules.schedule_hash(salt, cuts) == expected
    assert len(expected) == 64


@PROFILE
@given(plans(), seeds, salts, st.data())
def test_schedule_hash_changes_when_any_cut_changes(plan: tuple[int, int], seed: int, salt: str,
                                                    data: st.DataObject) -> None:
    """Changing one cut (even by 1 fen, even keeping the sum by moving a fen to another cut) changes the hash."""
    cuts = rules.plan_cuts(*plan, random.Random(seed))
    i = data.draw(st.integers(min_value=0, max_value=len(cuts) - 1))
    delta = data.draw(st.integers(min_value=-cuts[i] + 1, max_value=10**6).filter(lambda d: d != 0))
    edited = list(cuts)
    edited[i] += delta
    assert rules.schedule_hash(salt, edited) != rules.schedule_hash(salt, cuts)
    if len(cuts) > 1 and cuts[i] > 1:
        j = data.draw(st.integers(min_value=0, max_value=len(cuts) - 1).filter(lambda x: x != i))
        moved = list(cuts)
        moved[i] -= 1
        moved[j] += 1
        assert sum(moved) == sum(cuts)
        assert rules.schedule_hash(salt, moved) != rules.schedule_hash(salt, cuts)


@PROFILE
@given(plans(), seeds, salts, salts)
def test_schedule_hash_changes_when_the_salt_changes(plan: tuple[int, int], seed: int, salt: str,
                                                     other: str) -> None:
    assume(other != salt)
    cuts = rules.plan_cuts(*plan, random.Random(seed))
    assert rules.schedule_hash(other, cuts) != rules.schedule_hash(salt, cuts)


# --- what the page may say --------------------------------------------------------------------------------------------


@PROFILE
@given(st.integers(min_value=1, max_value=MAX_PRICE_FEN), st.data())
def test_progress_percent_is_rounded_down_never_overstated(start: int, data: st.DataObject) -> None:
    """P2: the percentage shown is the exact share rounded down: 100 only at the floor, 0 only before any cut."""
    floor = data.draw(st.integers(min_value=0, max_value=start - 1))
    price = data.draw(st.integers(min_value=floor, max_value=start))
    shown = rules.progress_percent(start, floor, price)
    assert 0 <= shown <= 100
    assert shown * (start - floor) <= (start - price) * 100 < (shown + 1) * (start - floor)
    assert (shown == 100) == (price == floor)
    if price < start:
        assert rules.progress_percent(start, floor, price + 1) <= shown


@PROFILE
@given(st.integers(min_value=1, max_value=100), st.data())
def test_helps_remaining_is_zero_at_the_floor_and_the_helps_left_otherwise(needed: int, data: st.DataObject) -> None:
    done = data.draw(st.integers(min_value=0, max_value=needed))
    floor = data.draw(st.integers(min_value=0, max_value=MAX_PRICE_FEN))
    above = data.draw(st.integers(min_value=0, max_value=1000))
    assert rules.helps_remaining(needed, done, floor + above, floor) == (0 if above == 0 else needed - done)


@PROFILE
@given(valid_settings())
def test_describe_publishes_n_the_floor_and_the_deadline(s: BargainSettings) -> None:
    """P1: the rules shown before anyone starts name N, the start and floor prices ("0 元" for a free floor), the
    duration in whole units (never "1.5 小时") and the limits."""
    text = "\n".join(rules.describe(s))
    floor = f"到底价 ¥{s.floor_price_fen // 100}.{s.floor_price_fen % 100:02d}" if s.floor_price_fen else "砍到 0 元"
    assert f"{s.helps_needed} 位好友各砍一刀即{floor}（" in text
    assert f"原价 ¥{s.start_price_fen // 100}.{s.start_price_fen % 100:02d}" in text
    assert f"发起后 {chinese_duration(s.duration_minutes * 60)}内有效" in text
    assert re.search(r"\d\.\d+ 小时", text) is None
    assert f"每天最多帮砍 {s.helps_per_helper_per_day} 次" in text
    assert f"每人限发起 {s.per_customer_limit} 次" in text
    assert ("发起人先自砍差价的" in text) == (s.self_cut_percent > 0)


# --- the settings ----------------------------------------------------------------------------------------------------


def raw_settings(**values: Any) -> dict[str, Any]:
    return {"product_id": 1, "sku_id": 1, **values}


def error_fields(exc: ValidationError) -> list[str]:
    return [".".join(map(str, e["loc"])) for e in exc.errors()]


@PROFILE
@given(st.integers(min_value=1, max_value=MAX_PRICE_FEN), st.integers(min_value=0, max_value=MAX_PRICE_FEN),
       st.integers(min_value=0, max_value=50), st.integers(min_value=1, max_value=100))
def test_settings_accept_a_plan_exactly_when_it_can_reach_its_floor(start: int, floor: int, percent: int,
                                                                    n: int) -> None:
    """start ≤ floor is refused on floor_price_fen; fewer fen than N after the initiator's cut on helps_needed;
    everything else is accepted (and then plannable)."""
    raw = raw_settings(start_price_fen=start, floor_price_fen=floor, self_cut_percent=percent, helps_needed=n)
    left = start - floor - (start - floor) * percent // 100
    if floor >= start:
        with pytest.raises(ValidationError) as refused:
            BargainSettings.model_validate(raw)
        assert error_fields(refused.value) == ["floor_price_fen"]
    elif left < n:
        with pytest.raises(ValidationError) as refused:
            BargainSettings.model_validate(raw)
        assert error_fields(refused.value) == ["helps_needed"]
    else:
        accepted = BargainSettings.model_validate(raw)
        assert len(planned(accepted, 0)) == n


def test_a_helper_reward_with_an_explicit_null_budget_is_refused_on_reward_budget() -> None:
    with pytest.raises(ValidationError) as refused:
        BargainSettings.model_validate(raw_settings(start_price_fen=1000, floor_price_fen=100, helps_needed=5,
                                                    helper_reward_fen=50, reward_budget=None))
    assert error_fields(refused.value) == ["reward_budget"]


def test_a_helper_reward_without_any_budget_is_refused_on_reward_budget() -> None:
    """F5: a reward of cash value needs a budget; leaving the budget out must be refused like an explicit null."""
    with pytest.raises(ValidationError) as refused:
        BargainSettings.model_validate(raw_settings(start_price_fen=1000, floor_price_fen=100, helps_needed=5,
                                                    helper_reward_fen=50))
    assert error_fields(refused.value) == ["reward_budget"]
