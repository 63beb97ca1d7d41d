"""The market data and user stream data sources against the embedded Stellar sandbox: real
offers and trades, real Horizon JSON over HTTP and SSE, nothing scripted."""
import asyncio

import pytest
from hummingbot.core.data_type.common import TradeType
from stellar_sdk import Asset
from stellar_sdk.operation import ManageBuyOffer, ManageSellOffer

import hummingbot.connector.exchange.stellar.stellar_constants as CONSTANTS
import hummingbot.connector.exchange.stellar.stellar_web_utils as web_utils
from hummingbot.connector.exchange.stellar.stellar_api_order_book_data_source import StellarAPIOrderBookDataSource
from hummingbot.connector.exchange.stellar.stellar_api_user_stream_data_source import StellarAPIUserStreamDataSource
from hummingbot.connector.exchange.stellar.stellar_auth import StellarAuth
from hummingbot.connector.exchange.stellar.stellar_instrument_cache import InstrumentCache
from stellar_sandbox.sandbox import Sandbox, SandboxTransactionError
from test.hummingbot.connector.exchange.stellar.integration.conftest import submit
from test.waiting import wait_until

pytestmark = pytest.mark.integration

XLM = Asset.native()
PAIR = "XLM-USDC"


class SandboxConnector:
    def __init__(self, usdc: Asset) -> None:
        self.instrument_cache = InstrumentCache("stellar_sandbox_test", extra_markets=[f"USDC:{usdc.issuer}"])

    async def trading_pair_associated_to_exchange_symbol(self, symbol: str) -> str:
        return symbol

    async def exchange_symbol_associated_to_pair(self, trading_pair: str) -> str:
        return trading_pair



async def next_matching(queue: asyncio.Queue, predicate, timeout: float = 10.0):
    async def find():
        while True:
            item = await queue.get()
            if predicate(item):
                return item

    return await asyncio.wait_for(find(), timeout)


async def test_books_trades_and_account_events_from_the_sandbox():
    async with Sandbox(ledger_interval=0.05) as net:
        usdc = await net.issue_asset("USDC")
        maker = await net.create_account(xlm=1_000)
        taker = await net.create_account(xlm=1_000)
        await net.trust_and_fund(maker, usdc, "1000")
        await net.trust_and_fund(taker, usdc, "1000")

        connector = SandboxConnector(usdc)
        throttler = web_utils.create_throttler(CONSTANTS.build_rate_limits(CONSTANTS.LOCAL_HORIZON_REQUESTS_PER_HOUR))
        api_factory = web_utils.build_api_factory(throttler=throttler)
        book_source = StellarAPIOrderBookDataSource([PAIR], connector, api_factory, domain="stellar_sandbox_test",
                                                    horizon_url=net.horizon_url, stream_backoff_base=0.01)
        maker_auth = StellarAuth(maker.secret)
        user_source = StellarAPIUserStreamDataSource(maker_auth, connector, api_factory, domain="stellar_sandbox_test",
                                                     horizon_url=net.horizon_url, stream_backoff_base=0.01)
        snapshots, trades, user_events = asyncio.Queue(), asyncio.Queue(), asyncio.Queue()
        tasks = [
            asyncio.ensure_future(book_source.listen_for_subscriptions()),
            asyncio.ensure_future(book_source.listen_for_order_book_snapshots(None, snapshots)),
            asyncio.ensure_future(book_source.listen_for_trades(None, trades)),
            asyncio.ensure_future(user_source.listen_for_user_stream(user_events)),
        ]
        try:
            # Wait until every stream is open, so "now" cursors are behind what follows.
            await wait_until(lambda: net.horizon.hub.open_streams >= 6, timeout=10, what="all six streams open")

            # The maker bids for 100 XLM at 0.1 USDC (the ledger keeps it as selling 10 USDC) and
            # asks 50 XLM at 0.2 USDC.
            await submit(net, maker,
                         ManageBuyOffer(selling=usdc, buying=XLM, amount="100", price="0.1"),
                         ManageSellOffer(selling=XLM, buying=usdc, amount="50", price="0.2"))
            book = await next_matching(snapshots, lambda m: m.bids and m.asks)
            assert (book.bids[0].price, book.bids[0].amount) == pytest.approx((0.1, 100.0))
            assert (book.asks[0].price, book.asks[0].amount) == pytest.approx((0.2, 50.0))

            initial = await book_source.get_new_order_book(PAIR)
            assert initial.get_price(False) == pytest.approx(0.1)
            assert initial.get_price(True) == pytest.approx(0.2)

            # The taker sells 20 XLM into the bid.
            await submit(net, taker, ManageSellOffer(selling=XLM, buying=usdc, amount="20", price="0.1"))
            trade = await next_matching(trades, lambda m: True)
            assert trade.trading_pair == PAIR
            assert trade.content["price"] == pytest.approx(0.1)
            assert trade.content["amount"] == pytest.approx(20.0)
            assert trade.content["trade_type"] == float(TradeType.SELL.value)
            after = await next_matching(snapshots, lambda m: m.bids and abs(m.bids[0].amount - 80.0) < 1e-9)
            assert after.bids[0].price == pytest.approx(0.1)

            prices = await book_source.get_last_traded_prices([PAIR])
            assert prices[PAIR] == pytest.approx(0.1)

            # The maker's account streams: the account itself, its transaction, the offers it made, the fill's trade.
            def usdc_liabilities(account: dict) -> str:
                return next(b for b in account["balances"] if b.get("asset_code") == "USDC")["selling_liabilities"]

            seen, after_fill = {}, None
            while set(seen) != {"trade", "account", "offer", "transaction"} or after_fill is None:
                event = await asyncio.wait_for(user_events.get(), 10)
                seen.setdefault(event["channel"], event)
                if event["channel"] == "account" and usdc_liabilities(event["data"]) == "8.0000000":
                    after_fill = event   # the bid's 80 XLM left at 0.1: the account as the ledger has it now
            assert seen["trade"]["cursor"] == seen["trade"]["data"]["paging_token"]
            assert seen["trade"]["data"]["base_is_seller"] is not None
            assert seen["offer"]["data"]["seller"] == maker.public_key
            # Each account event is the whole account record, with no cursor to resume from.
            assert after_fill["cursor"] is None and after_fill["data"]["id"] == maker.public_key

            # A failed transaction charges its fee too (and may be the answer a submission waits
            # for): it reaches the user stream, though Horizon leaves failed ones out by default.
            with pytest.raises(SandboxTransactionError):
                await submit(net, maker, ManageSellOffer(selling=XLM, buying=usdc, amount="0", price="1",
                                                         offer_id=987654321))
            failed = await next_matching(user_events, lambda e: e["channel"] == "transaction"
                                         and e["data"]["successful"] is False)
            assert failed["data"]["source_account"] == maker.public_key
            assert int(failed["data"]["fee_charged"]) > 0
        finally:
            await book_source.close()
            await user_source.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await api_factory.close()
