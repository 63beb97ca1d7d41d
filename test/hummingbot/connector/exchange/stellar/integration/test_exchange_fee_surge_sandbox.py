"""StellarExchange against the embedded sandbox during a fee surge (`Sandbox.set_surge`: other traffic fills
every ledger, a bid must beat it, and a low one is refused with ERROR tx_insufficient_fee naming the fee
needed). An order whose bid the surge refuses goes again once at the fee asked, within the user's maximum,
and is placed once; above the maximum it fails with a message naming both fees, and nothing reaches the ledger.
"""
from hummingbot.core.data_type.common import TradeType
from hummingbot.core.event.events import MarketEvent

from test.hummingbot.connector.exchange.stellar.integration.conftest import StellarMarket
from test.hummingbot.connector.exchange.stellar.integration.test_exchange_failed_orders_sandbox import (
    failed,
    sequence_of,
)
from test.waiting import wait_until

SELL = TradeType.SELL
SURGE_FEE = 1000          # per operation: the other traffic's bid (and what an included transaction pays)


async def figures_read_before_the_surge(m: StellarMarket) -> None:
    cache = m.exchange.config_cache
    await wait_until(lambda: not cache.needs_refresh(), what="the fee figures read")
    assert cache.fee_per_op() == 100       # no surge yet: the base fee


def submissions(m: StellarMarket) -> int:
    return m.net.requests.count("/transactions_async", "POST")


async def test_a_surge_after_the_figures_were_read_still_places_the_order_once_at_the_higher_bid(stellar_market):
    m = stellar_market
    await figures_read_before_the_surge(m)
    sequence, posted = await sequence_of(m), submissions(m)
    m.net.set_surge(SURGE_FEE)
    try:
        order = await m.place_open(SELL, "10", "0.5")
        assert submissions(m) == posted + 2              # refused at the old bid, then once more
        offers = await m.offers()
        assert [o["id"] for o in offers] == [order.exchange_order_id]   # one offer: never placed twice
        tx = await m.transaction((await m.offer_transactions())[order.exchange_order_id])
        assert int(tx["max_fee"]) == SURGE_FEE + 1       # what the network asked
        assert int(tx["fee_charged"]) == SURGE_FEE       # the ledger's surge price
        assert await sequence_of(m) == sequence + 1      # one transaction applied: the refused one never did
        assert not m.failures()
        assert len([e for e in m.log(MarketEvent.SellOrderCreated) if e.order_id == order.client_order_id]) == 1
    finally:
        m.net.set_surge(None)


async def test_a_surge_above_the_users_maximum_fails_the_order_naming_both_fees(make_stellar_market):
    m = await make_stellar_market(stellar_max_fee_stroops=500)
    await figures_read_before_the_surge(m)
    sequence, posted = await sequence_of(m), submissions(m)
    m.net.set_surge(SURGE_FEE)
    try:
        client_order_id = await m.place(SELL, "10", "0.5")
        message = await failed(m, client_order_id)
        assert "fee_surge" in message and client_order_id in message
        assert f"asks {SURGE_FEE + 1} stroops per operation" in message
        assert "stellar_max_fee_stroops = 500" in message
        assert submissions(m) == posted + 1              # no retry above the maximum
        assert await m.offers() == []                    # nothing on the ledger
        assert await sequence_of(m) == sequence
    finally:
        m.net.set_surge(None)
