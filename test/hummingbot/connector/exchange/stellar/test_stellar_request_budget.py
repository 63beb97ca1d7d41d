"""The connector's own count of its Horizon requests, and the warning past the Horizon's hourly budget; and
that every REST read and stream opening of the connector is counted (HorizonApi, StreamGroup)."""
import logging
from typing import List

import pytest

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from hummingbot.connector.exchange.stellar import stellar_web_utils as web_utils
from hummingbot.connector.exchange.stellar.stellar_horizon_api import HorizonApi
from hummingbot.connector.exchange.stellar.stellar_request_budget import (
    REST,
    STREAM,
    SUBMIT,
    RequestBudget,
    requests_per_hour_of,
)
from hummingbot.connector.exchange.stellar.stellar_stream_group import StreamGroup
from test.hummingbot.connector.exchange.stellar.aioresponses_compat import aioresponses
from test.hummingbot.connector.exchange.stellar.sse_test_server import SSETestServer
from test.waiting import wait_until

HORIZON = "http://127.0.0.1:8000"
ACCOUNT = "/accounts/{account_id}"


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class Logs(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages: List[str] = []

    def emit(self, record):
        if record.levelno >= logging.WARNING:
            self.messages.append(record.getMessage())


@pytest.fixture
def logs():
    handler = Logs()
    logger = logging.getLogger("test.request_budget")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)


def budget(per_hour: float, clock: Clock, **options) -> RequestBudget:
    return RequestBudget(per_hour, "https://horizon.stellar.org", clock=clock,
                         logger=logging.getLogger("test.request_budget"), **options)


def spread(b: RequestBudget, clock: Clock, count: int, seconds: float, path: str = ACCOUNT, kind: str = REST):
    """`count` requests evenly over `seconds`, from the clock's time on."""
    step = seconds / count
    for _ in range(count):
        b.note(path, kind)
        clock.now += step


def test_the_budget_is_the_pool_of_the_rate_limits_rescaled_to_an_hour_and_shared():
    assert requests_per_hour_of(web_utils.rate_limits_for("https://horizon.stellar.org")) == 3600
    assert requests_per_hour_of(web_utils.rate_limits_for("http://127.0.0.1:8000")) == \
        CONSTANTS.LOCAL_HORIZON_REQUESTS_PER_HOUR
    assert requests_per_hour_of(CONSTANTS.RATE_LIMITS, share_pct=25) == 900
    assert RequestBudget.for_rate_limits(CONSTANTS.RATE_LIMITS, 50).requests_per_hour == 1800
    with pytest.raises(ValueError, match="pool"):
        requests_per_hour_of([])


def test_counts_per_kind_and_path_over_the_last_hour():
    clock = Clock()
    b = budget(3600, clock)
    b.note(ACCOUNT)
    b.note("/transactions_async", SUBMIT)
    b.note("/accounts/{account_id}/trades", STREAM)
    clock.now += 1800
    b.note(ACCOUNT)
    assert b.totals() == {(REST, ACCOUNT): 2, (SUBMIT, "/transactions_async"): 1,
                          (STREAM, "/accounts/{account_id}/trades"): 1}
    clock.now += 1900   # the first three are now more than an hour old
    assert b.last_hour() == {(REST, ACCOUNT): 1}
    assert b.per_hour() == 1.0
    assert b.totals()[(REST, ACCOUNT)] == 2


def test_no_warning_within_the_budget_nor_for_a_start_burst(logs):
    clock = Clock()
    b = budget(3600, clock)
    spread(b, clock, 200, 30)           # the start's reads: a burst, not a rate
    spread(b, clock, 100, 600)          # then 10 a minute for 10 minutes: 600 an hour
    assert logs.messages == [] and b.warnings == 0
    assert b.per_hour() < 3600


def test_a_rate_over_the_budget_warns_once_an_hour_and_names_the_busiest_endpoints(logs):
    clock = Clock()
    b = budget(3600, clock)
    spread(b, clock, 600, 300)          # 2 a second: 7,200 an hour
    spread(b, clock, 100, 60, "/fee_stats")
    assert b.warnings == 1 and len(logs.messages) == 1
    message = logs.messages[0]
    assert "Horizon request budget exceeded" in message
    assert "3,600 an hour" in message and "https://horizon.stellar.org" in message
    assert "/accounts/{account_id} (REST reads) 600" in message
    assert "stellar_horizon_url" in message and "429" in message

    spread(b, clock, 1200, 1200)        # still over the budget, within the hour: no second warning
    assert b.warnings == 1
    spread(b, clock, 4500, 2700)        # an hour after the first warning: one more
    assert b.warnings == 2 and len(logs.messages) == 2
    assert "in the last hour" in logs.messages[1]


def test_after_an_hour_the_last_hour_counts_not_the_start():
    clock = Clock()
    b = budget(100, clock)
    spread(b, clock, 90, 3600)          # 90 in the first hour: within 100
    assert b.warnings == 0
    spread(b, clock, 30, 600)           # the next 10 min: the last hour now holds about 105
    assert b.warnings == 1


async def test_horizon_api_notes_every_call_and_reads_at_most_max_pages_of_trades():
    b = RequestBudget(3600, HORIZON)
    api = HorizonApi(web_utils.build_api_factory(), HORIZON, budget=b)
    trades = [{"paging_token": f"{i}-0", "ledger_close_time": "2030-01-01T00:00:00Z"} for i in range(200)]
    with aioresponses() as mock:
        mock.get(f"{HORIZON}/accounts/GA/trades?limit=200&order=desc", payload={"_embedded": {"records": trades}},
                 repeat=True)
        mock.get(f"{HORIZON}/accounts/GA/trades?cursor=199-0&limit=200&order=desc",
                 payload={"_embedded": {"records": trades}}, repeat=True)
        mock.post(f"{HORIZON}/transactions_async", status=201, payload={"tx_status": "PENDING", "hash": "ab"})
        assert len(await api.get_account_trades("GA", max_pages=1)) == 200
        assert len(await api.get_account_trades("GA", max_pages=2)) == 400
        await api.submit_transaction_async("AAAA")
    assert b.totals() == {(REST, CONSTANTS.ACCOUNT_TRADES_PATH): 3, (SUBMIT, "/transactions_async"): 1}


class Samples:
    def __init__(self):
        self.points: List[str] = []
        self.counters: List[str] = []

    def add(self, point, duration_ns):
        self.points.append(point)

    def incr(self, point, n):
        self.counters.append(point)


async def test_the_data_sources_rest_reads_and_stream_openings_are_measured_and_noted():
    server = SSETestServer()
    url = await server.start()
    server.set_rest("/order_book", {"bids": [], "asks": []})
    server.set_object("/order_book", {"bids": [], "asks": []})
    server.set_rest("/accounts/GA/trades", {"_embedded": {"records": []}})
    factory = web_utils.build_api_factory(web_utils.create_throttler(CONSTANTS.build_rate_limits(3_600_000)))
    b = RequestBudget(3_600_000, url)
    group = StreamGroup(factory, CONSTANTS.DEFAULT_DOMAIN, url, logging.getLogger("test.request_budget"), budget=b)
    samples = Samples()
    measurement.install(samples)
    try:
        await group.get_json("/order_book", {"limit": "1"})
        await group.get_json("/accounts/GA/trades", {"limit": "1"}, limit_id="/accounts/{account_id}/trades")
        stream = group.open_stream("pair", "book", "/order_book", None, None)
        events = stream.events_forever()
        await events.__anext__()
        await wait_until(lambda: stream.connected)
    finally:
        measurement.uninstall()
        await group.close()
        await factory.close()
        await server.stop()
    assert samples.points == ["horizon./order_book", "horizon./accounts/{account_id}/trades"]
    assert samples.counters == ["horizon_stream./order_book"]
    assert b.totals() == {(REST, "/order_book"): 1, (REST, "/accounts/{account_id}/trades"): 1,
                          (STREAM, "/order_book"): 1}
