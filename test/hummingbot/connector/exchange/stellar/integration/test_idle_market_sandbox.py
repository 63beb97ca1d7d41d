"""A quiet market costs no requests: Hummingbot's last-trade-price loop must not spin on an idle pair."""
import asyncio

import pytest
from hummingbot.core.web_assistant.connections.connections_factory import ConnectionsFactory
from stellar_sdk import Keypair

from hummingbot.connector.exchange.stellar.stellar_exchange import StellarExchange
from stellar_sandbox.sandbox import Sandbox
from test.waiting import wait_until

PAIR = "XLM-USD"
WINDOW_S = 3.0   # how long the idle market is watched


@pytest.mark.integration
async def test_an_idle_pair_costs_no_requests_once_its_book_is_ready():
    ConnectionsFactory()._shared_client = None   # Hummingbot's process-wide session may belong to a closed loop
    async with Sandbox(ledger_interval=0.1) as net:
        usd = await net.issue_asset("USD")   # never traded: no trade to read, ever
        exchange = StellarExchange(stellar_secret_key=Keypair.random().secret, stellar_markets=f"USD:{usd.issuer}",
                                   stellar_horizon_url=net.horizon_url, stellar_network_passphrase=net.passphrase,
                                   trading_pairs=[PAIR], trading_required=False)
        try:
            await exchange.start_network()
            await wait_until(lambda: exchange.order_book_tracker.ready, what="the order book")
            await wait_until(lambda: net.requests.count("/trades") >= 1, what="the last-price loop's first read")
            net.requests.clear()
            await asyncio.sleep(WINDOW_S)
            counts = net.requests.snapshot()["requests"]
            assert net.requests.count("/trades") == 0, counts
            assert net.requests.total("rest") <= 2, counts   # nothing polls faster than its interval
        finally:
            await exchange.stop_network()
            await ConnectionsFactory().close()


@pytest.mark.integration
async def test_stop_network_closes_the_sessions_the_streams_opened():
    ConnectionsFactory()._shared_client = None
    async with Sandbox(ledger_interval=0.1) as net:
        usd = await net.issue_asset("USD")
        exchange = StellarExchange(stellar_secret_key=Keypair.random().secret, stellar_markets=f"USD:{usd.issuer}",
                                   stellar_horizon_url=net.horizon_url, stellar_network_passphrase=net.passphrase,
                                   trading_pairs=[PAIR], trading_required=False)
        try:
            await exchange.start_network()
            await wait_until(lambda: any(exchange.streams_connected().values()), what="a market data stream")
            session = exchange.order_book_tracker.data_source._stream_group.session
            assert session is not None and not session.closed
            await exchange.stop_network()
            assert session.closed
            assert exchange.streams_connected() == {}
        finally:
            await exchange.stop_network()
            await ConnectionsFactory().close()
