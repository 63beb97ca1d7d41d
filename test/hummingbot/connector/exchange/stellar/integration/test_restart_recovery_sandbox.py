"""A bot killed with offers on the book and started again: nothing is left unattended, nothing placed twice."""
import time
from decimal import Decimal
from typing import List

import aiohttp
import pytest
from hummingbot.core.data_type.common import OrderType, TradeType
from hummingbot.core.data_type.in_flight_order import InFlightOrder, OrderState
from hummingbot.core.event.event_logger import EventLogger
from hummingbot.core.event.events import MarketEvent
from hummingbot.core.web_assistant.connections.connections_factory import ConnectionsFactory
from stellar_sdk import Asset
from stellar_sdk.operation import ManageBuyOffer, ManageSellOffer

from hummingbot.connector.exchange.stellar.stellar_exchange import StellarExchange
from stellar_sandbox.sandbox import Sandbox
from test.hummingbot.connector.exchange.stellar.integration.conftest import submit
from test.waiting import wait_until

PAIR = "XLM-USD"
XLM = Asset.native()



async def offer_ids(net, account_id: str) -> List[str]:
    async with aiohttp.ClientSession() as session, \
            session.get(f"{net.horizon_url}/accounts/{account_id}/offers", params={"limit": 200}) as response:
        return sorted(str(o["id"]) for o in (await response.json())["_embedded"]["records"])


def restored(client_order_id: str, exchange_order_id, state: OrderState, amount: str, price: str) -> dict:
    return InFlightOrder(client_order_id=client_order_id, trading_pair=PAIR, order_type=OrderType.LIMIT,
                         trade_type=TradeType.SELL, amount=Decimal(amount), price=Decimal(price),
                         creation_timestamp=time.time() - 60, exchange_order_id=exchange_order_id,
                         initial_state=state).to_json()


@pytest.mark.integration
@pytest.mark.parametrize("policy", ["cancel", "adopt"])
async def test_restart_keeps_restored_orders_settles_unknown_offers_and_places_nothing(policy):
    ConnectionsFactory()._shared_client = None   # Hummingbot's process-wide session may belong to a closed loop
    async with Sandbox(ledger_interval=0.05) as net:
        trader, taker = await net.create_account(xlm=1000), await net.create_account(xlm=1000)
        usd = await net.issue_asset("USD")
        await net.trust_and_fund(trader, usd, "500")
        await net.trust_and_fund(taker, usd, "500")
        # The killed run left three offers: a sell a taker then partly filled (its order was saved), a sell and
        # a buy no saved order knows. A fourth order was saved while its transaction was still pending.
        await submit(net, trader, ManageSellOffer(selling=XLM, buying=usd, amount="10", price="0.5"),
                     ManageSellOffer(selling=XLM, buying=usd, amount="5", price="0.6"),
                     ManageBuyOffer(selling=usd, buying=XLM, amount="20", price="0.1"))
        known, sell_unknown, buy_unknown = sorted(await offer_ids(net, trader.public_key), key=int)
        await submit(net, taker, ManageBuyOffer(selling=usd, buying=XLM, amount="4", price="0.5"))
        exchange = StellarExchange(stellar_secret_key=trader.secret, stellar_markets=f"USD:{usd.issuer}",
                                   stellar_horizon_url=net.horizon_url, stellar_network_passphrase=net.passphrase,
                                   trading_pairs=[PAIR], stellar_unknown_offers=policy)
        fills, failures = EventLogger(), EventLogger()
        exchange.add_listener(MarketEvent.OrderFilled, fills)
        exchange.add_listener(MarketEvent.OrderFailure, failures)
        exchange.restore_tracking_states({
            "HBOT-known": restored("HBOT-known", known, OrderState.OPEN, "10", "0.5"),
            "HBOT-pending": restored("HBOT-pending", None, OrderState.PENDING_CREATE, "1", "0.7")})
        try:
            await exchange.start_network()
            await wait_until(lambda: exchange.status_dict["offers_recovered"], what="the offers settled at start")
            order = exchange.in_flight_orders["HBOT-known"]
            assert order.executed_amount_base == Decimal("4")            # the fill since the last run
            assert [(e.order_id, e.amount) for e in fills.event_log] == [("HBOT-known", Decimal("4"))]
            assert [e.order_id for e in failures.event_log] == ["HBOT-pending"]
            on_ledger = await offer_ids(net, trader.public_key)
            if policy == "cancel":
                assert on_ledger == [known]
                assert set(exchange.in_flight_orders) == {"HBOT-known"}
            else:
                assert on_ledger == sorted([known, sell_unknown, buy_unknown], key=int)
                adopted = {o.exchange_order_id: o for o in exchange.in_flight_orders.values()
                           if o.client_order_id != "HBOT-known"}
                assert set(adopted) == {sell_unknown, buy_unknown}
                sell, buy = adopted[sell_unknown], adopted[buy_unknown]
                assert (sell.trade_type, sell.amount, sell.price) == (TradeType.SELL, Decimal("5"), Decimal("0.6"))
                # the buy rests as 2 USD selling for XLM at 10 XLM per USD: 20 XLM at 0.1
                assert (buy.trade_type, buy.amount, buy.price) == (TradeType.BUY, Decimal("20"), Decimal("0.1"))
        finally:
            await exchange.stop_network()    # cancels what is still open
            await exchange.pipeline.stop()
            await ConnectionsFactory().close()
        assert await offer_ids(net, trader.public_key) == []
