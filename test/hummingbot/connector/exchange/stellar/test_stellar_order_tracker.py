"""StellarOrderTracker finds orders exactly as Hummingbot's ClientOrderTracker does (only faster)."""
from decimal import Decimal
from unittest.mock import MagicMock

import pytest
from hummingbot.connector.client_order_tracker import ClientOrderTracker
from hummingbot.core.data_type.common import OrderType, TradeType
from hummingbot.core.data_type.in_flight_order import InFlightOrder

from hummingbot.connector.exchange.stellar.stellar_order_tracker import StellarOrderTracker


def _order(client_order_id: str, exchange_order_id=None) -> InFlightOrder:
    return InFlightOrder(client_order_id=client_order_id, trading_pair="XLM-USDC", order_type=OrderType.LIMIT,
                         trade_type=TradeType.SELL, amount=Decimal("1"), creation_timestamp=1.0,
                         price=Decimal("0.1"), exchange_order_id=exchange_order_id)


def _trackers():
    """A StellarOrderTracker and a stock ClientOrderTracker holding the same orders."""
    trackers = []
    for cls in (StellarOrderTracker, ClientOrderTracker):
        tracker = cls(connector=MagicMock())
        for order in (_order("active-1", "101"), _order("active-2"), _order("done-1", "201"), _order("done-2", "202")):
            tracker.start_tracking_order(order)
        tracker.stop_tracking_order("done-1")
        tracker.stop_tracking_order("done-2")
        trackers.append(tracker)
    return trackers


@pytest.mark.parametrize("client_order_id, exchange_order_id", [
    ("active-1", None), ("active-2", None), ("done-1", None), ("done-2", "202"),
    (None, "101"), (None, "201"), ("unknown", "202"), ("unknown", None), (None, None), (None, "999"),
])
def test_fetch_order_agrees_with_hummingbots_tracker(client_order_id, exchange_order_id):
    ours, stock = _trackers()
    found = ours.fetch_order(client_order_id, exchange_order_id)
    expected = stock.fetch_order(client_order_id, exchange_order_id)
    assert (found.client_order_id if found else None) == (expected.client_order_id if expected else None)


def test_a_finished_order_is_found_in_the_cache_until_it_expires():
    tracker, _ = _trackers()
    assert tracker.fetch_order("done-1").client_order_id == "done-1"
    tracker._cached_orders.clear()   # what the cache's 30 s expiry does
    assert tracker.fetch_order("done-1") is None
    assert tracker.fetch_order("active-1").client_order_id == "active-1"


async def test_the_exchange_uses_it():
    from hummingbot.connector.exchange.stellar.stellar_exchange import StellarExchange
    exchange = StellarExchange(stellar_horizon_url="http://127.0.0.1:9",
                               stellar_network_passphrase="Standalone Network ; February 2017",
                               trading_pairs=["XLM-USDC"], trading_required=False)
    assert isinstance(exchange._order_tracker, StellarOrderTracker)


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_cached_orders_are_the_unexpired_ones_in_order_as_hummingbots_tracker_gives_them():
    from cachetools import TTLCache

    clock = _Clock()
    ours, stock = _trackers()
    for tracker in (ours, stock):
        tracker._cached_orders = TTLCache(maxsize=100, ttl=30.0, timer=clock)
        for i, when in enumerate((0.0, 10.0, 20.0)):
            clock.now = when
            tracker._cached_orders[f"done-{i}"] = _order(f"done-{i}", str(300 + i))
    for now in (25.0, 35.0, 49.9, 50.0, 60.0):
        clock.now = now
        assert list(ours.cached_orders) == list(stock.cached_orders)
        assert list(ours.all_fillable_orders) == list(stock.all_fillable_orders)
        assert list(ours.all_fillable_orders_by_exchange_order_id) == \
            list(stock.all_fillable_orders_by_exchange_order_id)
    assert list(ours.cached_orders) == []


def test_an_offer_id_finds_its_active_order_first_and_a_finished_one_after():
    tracker = StellarOrderTracker(connector=MagicMock())
    active = _order("HBOT-active", "101")
    finished = _order("HBOT-finished", "202")
    tracker.start_tracking_order(active)
    tracker.start_tracking_order(finished)
    tracker.stop_tracking_order("HBOT-finished")     # kept in Hummingbot's cache for late fills
    assert tracker.fillable_order_for_offers("555", "101") is active
    assert tracker.fillable_order_for_offers("202", "555") is finished
    assert tracker.fillable_order_for_offers("555", "556") is None
