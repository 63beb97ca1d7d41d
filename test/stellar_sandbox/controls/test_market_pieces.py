"""The pure pieces of market activity: rate controller, price walk, maker and taker planning, prices."""
from __future__ import annotations

import math
import random
import statistics

import pytest

from stellar_sandbox.market.activity import MarketSettingsError, check_options, fraction
from stellar_sandbox.market.planner import ASK, BID, Cancel, MakerPlanner, Place, RestingOffer, Take, Update, plan_takes
from stellar_sandbox.market.rate import RateController
from stellar_sandbox.market.walk import PriceWalk

# ----- rate controller -----


def test_due_is_what_the_rate_asked_for_minus_applied_and_in_flight():
    controller = RateController(10.0, now=100.0)
    assert controller.due(100.0, applied=0, in_flight=0) == 0
    assert controller.due(100.5, applied=0, in_flight=0) == 5
    assert controller.due(100.5, applied=0, in_flight=5) == 0
    assert controller.due(101.0, applied=3, in_flight=2) == 5
    assert controller.due(101.0, applied=12, in_flight=0) == 0  # ahead of the rate: nothing, never negative


def test_failed_events_are_owed_again():
    controller = RateController(10.0, now=0.0)
    assert controller.due(0.5, applied=0, in_flight=0) == 5
    # the 5 submitted failed: they neither applied nor are in flight, so they are due again
    assert controller.due(0.6, applied=0, in_flight=0) == 6


def test_a_large_debt_is_forgiven_instead_of_bursting():
    controller = RateController(100.0, now=0.0, max_debt_seconds=1.0)
    assert controller.due(10.0, applied=0, in_flight=0) == 100  # 1,000 owed; one second's worth due
    assert controller.due(10.0, applied=0, in_flight=100) == 0  # and the rest is forgotten
    assert controller.due(10.5, applied=100, in_flight=0) == 50  # then the rate resumes from there


def test_set_rate_counts_from_the_change():
    controller = RateController(10.0, now=0.0)
    controller.set_rate(100.0, now=5.0, applied=50)
    assert controller.due(5.25, applied=50, in_flight=0) == 25
    controller.set_rate(0.0, now=6.0, applied=60)
    assert controller.due(60.0, applied=60, in_flight=0) == 0
    for bad in (-1.0, math.inf, math.nan):
        with pytest.raises(ValueError):
            controller.set_rate(bad, now=7.0, applied=60)


# ----- price walk -----


def test_walk_is_repeatable_and_stays_in_its_band():
    first = PriceWalk(2.0, volatility=0.5, rng=random.Random(1))
    second = PriceWalk(2.0, volatility=0.5, rng=random.Random(1))
    path = [first.step(1.0) for _ in range(2000)]
    assert path == [second.step(1.0) for _ in range(2000)]
    assert min(path) >= 0.2 and max(path) <= 20.0 and len(set(path)) > 100
    assert min(path) == 0.2 or max(path) == 20.0  # this volatility reaches the band


def test_walk_volatility_is_per_second_of_log_price():
    walk = PriceWalk(1.0, volatility=0.01, rng=random.Random(3))
    prices = [walk.mid] + [walk.step(0.25) for _ in range(4000)]
    returns = [math.log(b / a) for a, b in zip(prices, prices[1:], strict=False)]
    assert statistics.stdev(returns) == pytest.approx(0.01 * math.sqrt(0.25), rel=0.1)


def test_walk_without_volatility_or_time_stands_still():
    assert PriceWalk(1.5, volatility=0.0).step(10.0) == 1.5
    assert PriceWalk(1.5, volatility=0.3).step(0.0) == 1.5
    with pytest.raises(ValueError):
        PriceWalk(0.0)
    with pytest.raises(ValueError):
        PriceWalk(1.0, volatility=-0.1)


# ----- maker planner -----


def test_a_maker_without_offers_places_quotes_on_the_right_side_of_the_mid():
    planner = MakerPlanner(random.Random(5), spread=0.002, size=(20.0, 200.0))
    intents = planner.plan([], mid=10.0, count=50)
    assert len(intents) == 50 and all(isinstance(i, (Place, Cancel, Update)) for i in intents)
    places = [i for i in intents if isinstance(i, Place)]
    assert places[:2] == intents[:2]  # below min_offers nothing can be touched yet
    assert {p.side for p in places} == {BID, ASK}
    assert all(p.price <= 10.0 * 0.999 for p in places if p.side == BID)
    assert all(p.price >= 10.0 * 1.001 for p in places if p.side == ASK)
    assert all(20.0 <= p.amount <= 200.0 for p in places)


def test_a_maker_touches_each_offer_once_and_cancels_the_furthest_first():
    offers = [RestingOffer(i, BID if i % 2 else ASK, 1.0 + (i - 5) / 100) for i in range(1, 11)]  # 10 > max 6
    planner = MakerPlanner(random.Random(9), max_offers=6)
    intents = planner.plan(offers, mid=1.0, count=8)
    touched = [i.offer_id for i in intents if isinstance(i, (Cancel, Update))]
    assert len(touched) == len(set(touched))
    cancels = [i for i in intents[:4] if isinstance(i, Cancel)]
    assert len(cancels) == 4  # over max_offers: cancel down to it first
    assert [c.offer_id for c in cancels][:2] == [10, 9]  # prices 1.05 and 1.04 are furthest from 1.0
    assert all(c.side == next(o.side for o in offers if o.offer_id == c.offer_id) for c in cancels)
    with pytest.raises(ValueError):
        MakerPlanner(random.Random(), min_offers=3, max_offers=2)


def test_an_update_requotes_at_the_current_mid():
    offers = [RestingOffer(i, BID, 0.5) for i in range(1, 5)]
    intents = MakerPlanner(random.Random(2)).plan(offers, mid=2.0, count=40)
    updates = [i for i in intents if isinstance(i, Update)]
    assert updates and all(1.9 < u.price < 2.0 and u.side == BID for u in updates)


# ----- takers -----


def test_takes_only_on_sides_with_offers_and_sized_in_the_asset_sent():
    rng = random.Random(4)
    assert plan_takes(rng, 5, 2.0, can_buy=False, can_sell=False) == []
    buys = plan_takes(rng, 20, 2.0, can_buy=True, can_sell=False, size=(1.0, 5.0))
    assert len(buys) == 20 and all(t.side == BID and 2.0 <= t.amount <= 10.0 for t in buys)  # counter sent
    sells = plan_takes(rng, 20, 2.0, can_buy=False, can_sell=True, size=(1.0, 5.0))
    assert all(t.side == ASK and 1.0 <= t.amount <= 5.0 for t in sells)  # base sent
    both = plan_takes(rng, 60, 1.0, can_buy=True, can_sell=True)
    assert {t.side for t in both} == {BID, ASK} and all(isinstance(t, Take) for t in both)


# ----- prices and options -----


def test_fraction_keeps_seven_decimals_within_int32():
    assert (fraction(1.2345678).n, fraction(1.2345678).d) == (12345678, 10_000_000)
    big = fraction(5000.123)
    assert big.n < 2**31 and big.n / big.d == pytest.approx(5000.123, rel=1e-6)
    assert fraction(1e-9).n == 1  # never a zero price


@pytest.mark.parametrize("options, field", [
    ({"rate": -1}, "rate"), ({"rate": True}, "rate"), ({"mid": -2}, "mid"), ({"volatility": -0.1}, "volatility"),
    ({"participants": 1}, "participants"), ({"participants": 2.5}, "participants"),
    ({"ops_per_tx": 0}, "ops_per_tx"), ({"take_share": 1.0}, "take_share"), ({"seed": "x"}, "seed"),
])
def test_start_options_are_checked_by_field(options, field):
    defaults = {"rate": 50.0, "mid": 1.0, "volatility": 0.01, "participants": None, "ops_per_tx": 5,
                "take_share": 0.2, "seed": None}
    check_options(**defaults)
    with pytest.raises(MarketSettingsError) as bad:
        check_options(**{**defaults, **options})
    assert bad.value.field == field
