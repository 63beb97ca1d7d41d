"""`profiling.attribution`: Hummingbot's MarketsRecorder listeners timed apart from the connector's points, with a
real MarketsRecorder on an SQLite file (its module loaded only in this test's process, as a Hummingbot session has
it), and the profiler that finds it."""
import time
from decimal import Decimal

import pytest

from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from profiling.attribution import MarketsRecorderTiming, shared_markets_recorder
from profiling.recorder import LatencyRecorder


class FakeForwarder:
    def __init__(self, function):
        self._to_function = function

    def __call__(self, arg):
        self._to_function(1, None, arg)


class FakeMarketsRecorder:
    """What the timing reads of Hummingbot's MarketsRecorder: its (event, forwarder) pairs."""

    def __init__(self):
        self.calls = []
        fill = FakeForwarder(self._did_fill_order)
        self._event_pairs = [("OrderFilled", fill), ("BuyOrderCompleted", FakeForwarder(self._did_complete_order)),
                             ("SellOrderCompleted", FakeForwarder(self._did_complete_order))]

    def _did_fill_order(self, tag, market, event):
        time.sleep(0.002)
        self.calls.append(("fill", event))

    def _did_complete_order(self, tag, market, event):
        self.calls.append(("complete", event))


def test_listener_calls_are_timed_as_hummingbot_points_and_counted_inside_the_fill():
    recorder = LatencyRecorder()
    markets_recorder = FakeMarketsRecorder()
    timing = MarketsRecorderTiming(recorder)
    assert timing.attach(markets_recorder) and timing.attached

    start = measurement.now()
    markets_recorder._event_pairs[0][1]("fill-1")       # as Hummingbot's pub/sub calls a listener
    markets_recorder._event_pairs[1][1]("done-1")
    recorder.add(measurement.FILL_PROCESSING, measurement.now() - start)

    assert markets_recorder.calls == [("fill", "fill-1"), ("complete", "done-1")]
    snapshot = recorder.snapshot()
    assert snapshot["points"]["hummingbot.markets_recorder.did_fill_order"]["count"] == 1
    assert snapshot["points"]["hummingbot.markets_recorder.did_fill_order"]["kind"] == "hummingbot"
    assert snapshot["points"]["hummingbot.markets_recorder.did_fill_order"]["avg_ms"] >= 2.0
    nested = snapshot["nested"]["fill.processing"]
    assert set(nested["inner_ms"]) == {"hummingbot.markets_recorder.did_fill_order",
                                       "hummingbot.markets_recorder.did_complete_order"}
    assert 0.5 < nested["share"] <= 1.0


def test_detach_gives_the_listeners_back_and_a_second_attach_wraps_once():
    recorder = LatencyRecorder()
    markets_recorder = FakeMarketsRecorder()
    originals = [forwarder._to_function for _event, forwarder in markets_recorder._event_pairs]
    timing = MarketsRecorderTiming(recorder)
    timing.attach(markets_recorder)
    timing.attach(markets_recorder)
    markets_recorder._event_pairs[0][1]("fill")
    assert recorder.snapshot()["points"]["hummingbot.markets_recorder.did_fill_order"]["count"] == 1
    timing.detach()
    assert [forwarder._to_function for _event, forwarder in markets_recorder._event_pairs] == originals
    assert not timing.attached


def test_without_a_markets_recorder_nothing_is_attached_and_nothing_imported():
    import sys

    loaded = "hummingbot.connector.markets_recorder" in sys.modules
    timing = MarketsRecorderTiming(LatencyRecorder())
    if not loaded:
        assert shared_markets_recorder() is None
        assert timing.attach() is False
        assert "hummingbot.connector.markets_recorder" not in sys.modules


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_a_real_markets_recorder_writing_a_fill_is_timed(tmp_path):
    from hummingbot.client.config.client_config_map import ClientConfigMap
    from hummingbot.client.config.config_helpers import ClientConfigAdapter
    from hummingbot.connector.markets_recorder import MarketsRecorder
    from hummingbot.core.data_type.common import OrderType, TradeType
    from hummingbot.core.data_type.trade_fee import AddedToCostTradeFee
    from hummingbot.core.event.events import MarketEvent, OrderFilledEvent
    from hummingbot.core.pubsub import PubSub
    from hummingbot.model.sql_connection_manager import SQLConnectionManager, SQLConnectionType

    class Market(PubSub):
        name = display_name = "stellar"

        def add_trade_fills_from_market_recorder(self, fills):
            pass

        def add_exchange_order_ids_from_market_recorder(self, ids):
            pass

    market = Market()
    client_config = ClientConfigAdapter(ClientConfigMap())
    sql = SQLConnectionManager(client_config, SQLConnectionType.TRADE_FILLS, db_path=str(tmp_path / "t.sqlite"))
    markets_recorder = MarketsRecorder(sql, [market], "conf", "pmm", client_config.market_data_collection)
    markets_recorder.start()
    try:
        assert shared_markets_recorder() is markets_recorder
        recorder = LatencyRecorder()
        timing = MarketsRecorderTiming(recorder)
        assert timing.attach()  # the process-wide one
        start = measurement.now()
        market.trigger_event(MarketEvent.OrderFilled, OrderFilledEvent(
            timestamp=time.time(), order_id="buy-1", trading_pair="XLM-USDC", trade_type=TradeType.BUY,
            order_type=OrderType.LIMIT, price=Decimal("0.1"), amount=Decimal("10"),
            trade_fee=AddedToCostTradeFee(), exchange_trade_id="t-1"))
        recorder.add(measurement.FILL_PROCESSING, measurement.now() - start)
        timing.detach()
        snapshot = recorder.snapshot()
        assert snapshot["points"]["hummingbot.markets_recorder.did_fill_order"]["count"] == 1
        assert snapshot["nested"]["fill.processing"]["share"] > 0.5
    finally:
        markets_recorder.stop()
        MarketsRecorder._shared_instance = None
