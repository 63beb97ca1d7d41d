"""One order's whole life against the sandbox, through the exchange alone (no strategy)."""
import time
from decimal import Decimal
from typing import Any, Callable

import aiohttp
import pytest
from hummingbot.core.data_type.common import OrderType
from hummingbot.core.data_type.in_flight_order import OrderState
from hummingbot.core.event.event_logger import EventLogger
from hummingbot.core.event.events import MarketEvent
from hummingbot.core.web_assistant.connections.connections_factory import ConnectionsFactory
from stellar_sdk import Account, Asset, Keypair, TransactionBuilder

from hummingbot.connector.exchange.stellar.stellar_exchange import StellarExchange
from stellar_sandbox.sandbox import Sandbox
from test.waiting import wait_until


async def _maker_sells(net, maker: Keypair, selling: Asset, buying: Asset, amount: str, price: str) -> None:
    sequence = net.network.state.account(maker.public_key).seq_num
    envelope = (TransactionBuilder(Account(maker.public_key, sequence), net.passphrase, base_fee=100)
                .append_manage_sell_offer_op(selling=selling, buying=buying, amount=amount, price=price)
                .add_time_bounds(0, 0).build())
    envelope.sign(maker)
    await net.submit(envelope.to_xdr(), "maker offer")


async def _wait_until(condition: Callable[[], Any], exchange: StellarExchange, timeout: float = 10.0) -> None:
    """Wait with the exchange's clock ticking, as Hummingbot's Clock would tick it."""
    def tick() -> None:
        now = time.time()
        exchange._set_current_timestamp(now)
        exchange.tick(now)
    await wait_until(condition, timeout=timeout, interval=0.02, on_poll=tick)


@pytest.mark.integration
async def test_orders_round_trip_against_the_sandbox():
    ConnectionsFactory()._shared_client = None   # Hummingbot's process-wide session may belong to a closed loop
    async with Sandbox(ledger_interval=0.05) as net:
        trader = await net.create_account(xlm=1000)
        maker = await net.create_account(xlm=1000)
        usd = await net.issue_asset("USD")
        await net.trust_and_fund(trader, usd, "500")
        await net.trust_and_fund(maker, usd, "500")
        await _maker_sells(net, maker, Asset.native(), usd, "10", "0.2")
        exchange = StellarExchange(stellar_secret_key=trader.secret, stellar_markets=f"USD:{usd.issuer}",
                                   stellar_horizon_url=net.horizon_url, stellar_network_passphrase=net.passphrase,
                                   trading_pairs=["XLM-USD"])
        fills, cancels = EventLogger(), EventLogger()
        exchange.add_listener(MarketEvent.OrderFilled, fills)
        exchange.add_listener(MarketEvent.OrderCancelled, cancels)
        try:
            await exchange.start_network()
            await _wait_until(lambda: exchange.ready, exchange)
            assert exchange.get_balance("USD") == Decimal("500")

            # Crosses the maker's 10 XLM at 0.2 and rests 5 XLM at 0.25.
            order_id = exchange.buy("XLM-USD", Decimal("15"), OrderType.LIMIT, Decimal("0.25"))
            await _wait_until(lambda: order_id in exchange.in_flight_orders, exchange)
            order = exchange.in_flight_orders[order_id]
            await _wait_until(lambda: order.current_state is OrderState.PARTIALLY_FILLED, exchange)
            assert (order.executed_amount_base, order.executed_amount_quote) == (Decimal("10"), Decimal("2"))

            # The maker takes 2 XLM more from our resting bid: the fill arrives on the account's trade stream.
            await _maker_sells(net, maker, Asset.native(), usd, "2", "0.25")
            await _wait_until(lambda: order.executed_amount_base == Decimal("12"), exchange)

            exchange.cancel("XLM-USD", order_id)
            await _wait_until(lambda: order.is_cancelled, exchange)
            await exchange._update_order_status()   # the REST backstop finds nothing new
            assert [(e.amount, e.price) for e in fills.event_log] == [(Decimal("10"), Decimal("0.2")),
                                                                      (Decimal("2"), Decimal("0.25"))]

            resting_id = exchange.buy("XLM-USD", Decimal("1"), OrderType.LIMIT, Decimal("0.01"))
            await _wait_until(lambda: exchange._order_tracker.fetch_order(resting_id) is not None
                              and exchange._order_tracker.fetch_order(resting_id).is_open
                              and exchange._order_tracker.fetch_order(resting_id).exchange_order_id, exchange)
        finally:
            await exchange.stop_network()   # cancels what is still open
            await exchange.pipeline.stop()
            await ConnectionsFactory().close()
        assert len(cancels.event_log) == 2
        async with aiohttp.ClientSession() as session, \
                session.get(f"{net.horizon_url}/accounts/{trader.public_key}/offers") as response:
            assert (await response.json())["_embedded"]["records"] == []
