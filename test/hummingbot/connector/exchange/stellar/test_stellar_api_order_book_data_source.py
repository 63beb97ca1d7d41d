import asyncio
import json
import math
import re
from typing import List

import aiohttp
import pytest
from aioresponses import aioresponses
from hummingbot.core.data_type.common import TradeType
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.data_type.order_book_message import OrderBookMessage, OrderBookMessageType
from hummingbot.core.data_type.order_book_row import OrderBookRow
from hummingbot.core.data_type.order_book_tracker import OrderBookTracker

import hummingbot.connector.exchange.stellar.stellar_constants as CONSTANTS
import hummingbot.connector.exchange.stellar.stellar_web_utils as web_utils
from hummingbot.connector.exchange.stellar.stellar_api_order_book_data_source import StellarAPIOrderBookDataSource
from hummingbot.connector.exchange.stellar.stellar_order_book import StellarOrderBook
from test.hummingbot.connector.exchange.stellar.data_source_test_support import (
    DOMAIN,
    ISSUER,
    MinimalConnector,
    book_level,
    horizon_book,
    horizon_trade,
    page,
)
from test.hummingbot.connector.exchange.stellar.sse_test_server import Plan, SSETestServer
from test.isolated_asyncio_wrapper_test_case import IsolatedAsyncioWrapperTestCase
from test.waiting import wait_until

PAIR = "XLM-USDC"
OTHER_PAIR = "XLM-EURT"
MOCK_HORIZON = "https://horizon.test"


class StellarAPIOrderBookDataSourceTests(IsolatedAsyncioWrapperTestCase):
    level = 0

    async def asyncSetUp(self) -> None:
        await super().asyncSetUp()
        self.log_records: List = []
        self.connector = MinimalConnector()
        throttler = web_utils.create_throttler(CONSTANTS.build_rate_limits(CONSTANTS.LOCAL_HORIZON_REQUESTS_PER_HOUR))
        self.api_factory = web_utils.build_api_factory(throttler=throttler)
        self.server = SSETestServer()
        await self.server.start()
        self.listen_task = None
        self.data_source = self.make_data_source(self.server.base_url, [PAIR])

    async def asyncTearDown(self) -> None:
        if self.listen_task is not None:
            self.listen_task.cancel()
            await asyncio.gather(self.listen_task, return_exceptions=True)
        await self.server.stop()
        await self.api_factory.close()
        await super().asyncTearDown()

    def make_data_source(self, horizon_url: str, pairs: List[str], **options) -> StellarAPIOrderBookDataSource:
        data_source = StellarAPIOrderBookDataSource(
            trading_pairs=list(pairs), connector=self.connector, api_factory=self.api_factory,
            domain=DOMAIN, horizon_url=horizon_url, stream_backoff_base=0.001, stream_backoff_cap=0.01, **options)
        data_source.SNAPSHOT_RETRY_BASE = 0.001
        data_source.logger().setLevel(1)
        data_source.logger().addHandler(self)
        self.addCleanup(data_source.logger().removeHandler, self)
        return data_source

    def handle(self, record):
        self.log_records.append(record)

    def is_logged(self, level: str, fragment: str) -> bool:
        return any(r.levelname == level and fragment in r.getMessage() for r in self.log_records)

    # REST

    @aioresponses()
    async def test_get_new_order_book_from_a_rest_snapshot(self, mock_api):
        data_source = self.make_data_source(MOCK_HORIZON, [PAIR])
        url = re.compile(rf"^{re.escape(MOCK_HORIZON)}/order_book\?.*")
        mock_api.get(url, payload=horizon_book(best_bid=(1, 10, "50.0000000"), best_ask=(11, 100, "7.0000000")))

        order_book = await data_source.get_new_order_book(PAIR)

        bids = list(order_book.bid_entries())
        asks = list(order_book.ask_entries())
        self.assertEqual(1, len(bids))
        self.assertAlmostEqual(0.1, bids[0].price)
        self.assertAlmostEqual(500.0, bids[0].amount)    # 50 USDC at 0.1 USDC/XLM = 500 XLM
        self.assertAlmostEqual(0.11, asks[0].price)
        self.assertAlmostEqual(7.0, asks[0].amount)
        self.assertGreater(order_book.snapshot_uid, 0)
        request = next(iter(mock_api.requests.values()))[0]
        self.assertEqual({"selling_asset_type": "native", "buying_asset_type": "credit_alphanum4",
                          "buying_asset_code": "USDC", "buying_asset_issuer": ISSUER, "limit": "200"},
                         request.kwargs["params"])

    @aioresponses()
    async def test_get_new_order_book_retries_until_a_snapshot_arrives(self, mock_api):
        data_source = self.make_data_source(MOCK_HORIZON, [PAIR])
        url = re.compile(rf"^{re.escape(MOCK_HORIZON)}/order_book\?.*")
        mock_api.get(url, status=503, body="busy")
        mock_api.get(url, exception=TimeoutError())
        mock_api.get(url, payload=horizon_book())

        order_book = await data_source.get_new_order_book(PAIR)

        self.assertAlmostEqual(0.1, order_book.get_price(False))
        self.assertTrue(self.is_logged("WARNING", f"The order book snapshot for {PAIR} failed"))
        self.assertTrue(self.is_logged("WARNING", f"The order book snapshot for {PAIR} timed out"))

    @aioresponses()
    async def test_get_last_traded_prices_answers_every_pair_and_reads_each_once(self, mock_api):
        data_source = self.make_data_source(MOCK_HORIZON, [PAIR, OTHER_PAIR, "XLM-USDC:" + ISSUER])
        trades_url = f"{MOCK_HORIZON}/trades"
        # XLM-USDC: the newest trade, at 1/8 USDC per XLM
        mock_api.get(re.compile(rf"^{re.escape(trades_url)}\?.*counter_asset_code=USDC.*"),
                     payload=page([horizon_trade("9-0", price=(1, 8))]), repeat=True)
        # XLM-EURT: never traded, and no book tracked yet
        mock_api.get(re.compile(rf"^{re.escape(trades_url)}\?.*counter_asset_code=EURT.*"), payload=page([]),
                     repeat=True)

        prices = await data_source.get_last_traded_prices([PAIR, OTHER_PAIR])

        self.assertEqual(0.125, prices[PAIR])
        self.assertTrue(math.isnan(prices[OTHER_PAIR]))   # answered, so Hummingbot's tracker does not ask again
        request = [calls for key, calls in mock_api.requests.items() if "USDC" in str(key[1])][0][0]
        self.assertEqual("desc", request.kwargs["params"]["order"])
        self.assertEqual("1", request.kwargs["params"]["limit"])

        # Asked again (the tracker asks every 5 s for a pair without a trade in 3 minutes): no request at all,
        # and a pair without trades is priced by the middle of its book once there is one.
        book = OrderBook()
        book.apply_snapshot([OrderBookRow(0.2, 1.0, 1)], [OrderBookRow(0.3, 1.0, 1)], 1)
        self.connector.order_books[OTHER_PAIR] = book
        requests_before = sum(len(calls) for calls in mock_api.requests.values())
        prices = await data_source.get_last_traded_prices([PAIR, OTHER_PAIR])
        self.assertEqual({PAIR: 0.125, OTHER_PAIR: 0.25}, prices)
        self.assertEqual(requests_before, sum(len(calls) for calls in mock_api.requests.values()))

    @aioresponses()
    async def test_a_pair_whose_price_request_failed_is_asked_again_only_after_the_read_interval(self, mock_api):
        data_source = self.make_data_source(MOCK_HORIZON, [PAIR, OTHER_PAIR])
        trades_url = f"{MOCK_HORIZON}/trades"
        mock_api.get(re.compile(rf"^{re.escape(trades_url)}\?.*counter_asset_code=USDC.*"),
                     payload=page([horizon_trade("9-0", price=(1, 4))]))
        mock_api.get(re.compile(rf"^{re.escape(trades_url)}\?.*counter_asset_code=EURT.*"), status=500, body="",
                     repeat=True)
        now = [1000.0]
        data_source._time = lambda: now[0]

        prices = await data_source.get_last_traded_prices([PAIR, OTHER_PAIR])
        self.assertEqual(0.25, prices[PAIR])
        self.assertTrue(math.isnan(prices[OTHER_PAIR]))
        eurt_requests = lambda: sum(len(c) for k, c in mock_api.requests.items() if "EURT" in str(k[1]))  # noqa: E731
        self.assertEqual(1, eurt_requests())

        await data_source.get_last_traded_prices([OTHER_PAIR])
        self.assertEqual(1, eurt_requests())
        now[0] += data_source.LAST_PRICE_READ_INTERVAL
        await data_source.get_last_traded_prices([OTHER_PAIR])
        self.assertEqual(2, eurt_requests())

    # Streams (a real SSE server on 127.0.0.1)

    async def next_message(self, queue: asyncio.Queue, timeout: float = 5.0):
        return await asyncio.wait_for(queue.get(), timeout)

    async def test_listen_for_subscriptions_streams_books_as_snapshots(self):
        self.server.set_object("/order_book", horizon_book(best_bid=(1, 10, "5.0000000")))
        self.listen_task = asyncio.ensure_future(self.data_source.listen_for_subscriptions())
        output = asyncio.Queue()
        parser_task = asyncio.ensure_future(self.data_source.listen_for_order_book_snapshots(None, output))
        self.addCleanup(parser_task.cancel)

        first: OrderBookMessage = await self.next_message(output)
        self.server.set_object("/order_book", horizon_book(best_bid=(1, 5, "5.0000000")))
        second: OrderBookMessage = await self.next_message(output)

        self.assertEqual(OrderBookMessageType.SNAPSHOT, first.type)
        self.assertEqual(PAIR, first.trading_pair)
        self.assertAlmostEqual(50.0, first.bids[0].amount)
        self.assertAlmostEqual(0.2, second.bids[0].price)
        self.assertAlmostEqual(25.0, second.bids[0].amount)
        self.assertGreater(second.update_id, first.update_id)
        query = self.server.route("/order_book").requests[0]["query"]
        self.assertEqual("200", query["limit"])
        self.assertEqual("USDC", query["buying_asset_code"])
        self.assertNotIn("cursor", query)

    async def test_streamed_book_texts_go_in_as_their_changes_and_one_that_is_no_book_is_dropped(self):
        def event(bid_amount: str) -> bytes:
            book = horizon_book(best_bid=(1, 10, bid_amount))
            return f"data: {json.dumps(book, separators=(',', ':'))}\n\n".encode()   # compact, as Horizon's
        self.server.plan("/order_book", Plan(raw=[event("5.0000000"), b"data: {\"bids\":[\n\n",
                                                  event("6.0000000")]))
        self.listen_task = asyncio.ensure_future(self.data_source.listen_for_subscriptions())
        output = asyncio.Queue()
        parser_task = asyncio.ensure_future(self.data_source.listen_for_order_book_snapshots(None, output))
        self.addCleanup(parser_task.cancel)

        first: OrderBookMessage = await self.next_message(output)
        second: OrderBookMessage = await self.next_message(output)

        self.assertAlmostEqual(50.0, first.bids[0].amount)
        self.assertEqual(first.update_id, second.content["base_update_id"])
        self.assertEqual(([pytest.approx((0.1, 60.0))], []), second.content["changes"])   # the one level
        self.assertTrue(self.is_logged("WARNING", f"Dropped an order book event for {PAIR}"))
        book = StellarOrderBook()
        for message in (first, second):
            book.restore_from_snapshot_and_diffs(message, [])
        self.assertEqual([(0.1, 60.0)], [(round(e.price, 9), round(e.amount, 9)) for e in book.bid_entries()])

    async def test_listen_for_subscriptions_streams_trades_from_now(self):
        self.listen_task = asyncio.ensure_future(self.data_source.listen_for_subscriptions())
        output = asyncio.Queue()
        parser_task = asyncio.ensure_future(self.data_source.listen_for_trades(None, output))
        self.addCleanup(parser_task.cancel)
        trades = self.server.route("/trades")
        await wait_until(lambda: len(trades.requests) == 1)

        self.server.publish("/trades", "5-0", horizon_trade("5-0", price=(1, 8), base_is_seller=False))
        message: OrderBookMessage = await self.next_message(output)

        self.assertEqual("now", trades.requests[0]["query"]["cursor"])
        self.assertEqual({"base_asset_type": "native", "counter_asset_type": "credit_alphanum4",
                          "counter_asset_code": "USDC", "counter_asset_issuer": ISSUER, "cursor": "now"},
                         trades.requests[0]["query"])
        self.assertEqual(OrderBookMessageType.TRADE, message.type)
        self.assertEqual(0.125, message.content["price"])
        self.assertEqual(100.0, message.content["amount"])
        self.assertEqual(float(TradeType.SELL.value), message.content["trade_type"])

    async def test_trade_stream_resumes_by_cursor_after_a_drop_without_repeats(self):
        self.server.plan("/trades", Plan(drop_after=2))
        self.listen_task = asyncio.ensure_future(self.data_source.listen_for_subscriptions())
        trades = self.server.route("/trades")
        await wait_until(lambda: len(trades.requests) == 1)
        for i in range(1, 5):
            self.server.publish("/trades", f"{i}-0", horizon_trade(f"{i}-0"))
        queue = self.data_source._message_queue[self.data_source._trade_messages_queue_key]

        received = [(await self.next_message(queue))["trade"]["paging_token"] for _ in range(4)]
        # A repeat of 3-0 or 4-0 would be queued before a trade published after them.
        self.server.publish("/trades", "5-0", horizon_trade("5-0"))
        received.append((await self.next_message(queue))["trade"]["paging_token"])

        self.assertEqual(["1-0", "2-0", "3-0", "4-0", "5-0"], received)
        self.assertEqual(["now", "2-0"], [r["query"]["cursor"] for r in trades.requests])
        self.assertTrue(queue.empty())

    async def test_book_stream_drop_queues_a_rest_snapshot_before_live_books_continue(self):
        self.server.plan("/order_book", Plan(drop_after=1))
        self.server.set_object("/order_book", horizon_book(best_bid=(1, 10, "1.0000000")))
        self.server.set_rest("/order_book", horizon_book(best_bid=(1, 2, "1.0000000")))
        self.listen_task = asyncio.ensure_future(self.data_source.listen_for_subscriptions())
        output = asyncio.Queue()
        parser_task = asyncio.ensure_future(self.data_source.listen_for_order_book_snapshots(None, output))
        self.addCleanup(parser_task.cancel)

        messages = [await self.next_message(output) for _ in range(3)]

        # live book, then the REST resync after the drop, then the reconnected stream's book
        self.assertEqual([0.1, 0.5, 0.1], [round(m.bids[0].price, 7) for m in messages])
        self.assertEqual(1, len(self.server.route("/order_book").rest_requests))
        update_ids = [m.update_id for m in messages]
        self.assertEqual(sorted(update_ids), update_ids)
        stats = self.data_source.stream_stats()
        self.assertEqual(1, stats[f"{CONSTANTS.ORDER_BOOK_PATH} {PAIR}"]["reconnects"])

    async def test_subscribe_and_unsubscribe_a_pair_while_listening(self):
        self.listen_task = asyncio.ensure_future(self.data_source.listen_for_subscriptions())
        book_route = self.server.route("/order_book")
        await wait_until(lambda: len(book_route.requests) == 1)

        self.assertTrue(await self.data_source.subscribe_to_trading_pair(OTHER_PAIR))
        await wait_until(lambda: len(book_route.requests) == 2)
        self.assertEqual("EURT", book_route.requests[1]["query"]["buying_asset_code"])
        self.assertIn(OTHER_PAIR, self.data_source._trading_pairs)

        self.assertTrue(await self.data_source.unsubscribe_from_trading_pair(OTHER_PAIR))
        self.assertNotIn(OTHER_PAIR, self.data_source._trading_pairs)
        self.assertFalse(self.data_source._stream_group.is_running(OTHER_PAIR))
        self.assertEqual({f"{CONSTANTS.ORDER_BOOK_PATH} {PAIR}", f"{CONSTANTS.TRADES_PATH} {PAIR}"},
                         set(self.data_source.stream_stats()))

    async def test_cancelling_listen_closes_streams_and_the_owned_session(self):
        self.listen_task = asyncio.ensure_future(self.data_source.listen_for_subscriptions())
        await wait_until(lambda: self.server.open_streams == 2)
        session = self.data_source._stream_group.session

        self.listen_task.cancel()
        await asyncio.gather(self.listen_task, return_exceptions=True)
        self.listen_task = None

        self.assertTrue(session.closed)
        self.assertFalse(self.data_source._stream_group.is_running(PAIR))
        self.assertEqual([], self.data_source._stream_group.streams())

    async def test_close_ends_listening_closes_the_session_and_listening_can_start_again(self):
        self.listen_task = asyncio.ensure_future(self.data_source.listen_for_subscriptions())
        await wait_until(lambda: self.server.open_streams == 2)
        session = self.data_source._stream_group.session

        await self.data_source.close()

        self.assertTrue(session.closed)
        self.assertTrue(self.listen_task.done())
        self.assertEqual([], self.data_source._stream_group.streams())
        await wait_until(lambda: self.server.open_streams == 0, what="the server saw both streams close")
        await self.data_source.close()   # again: nothing left to do

        # Hummingbot restarts the network after a connectivity blip.
        self.listen_task = asyncio.ensure_future(self.data_source.listen_for_subscriptions())
        trades = self.server.route("/trades")
        await wait_until(lambda: len(trades.requests) == 2)
        self.server.publish("/trades", "5-0", horizon_trade("5-0"))
        queue = self.data_source._message_queue[self.data_source._trade_messages_queue_key]
        self.assertEqual("5-0", (await self.next_message(queue))["trade"]["paging_token"])
        new_session = self.data_source._stream_group.session
        self.assertIsNot(session, new_session)
        self.assertFalse(new_session.closed)

        await self.data_source.close()
        self.assertTrue(new_session.closed)

    async def test_close_while_a_stream_waits_to_reconnect_returns_at_once_and_leaves_nothing_running(self):
        trades = f"{CONSTANTS.TRADES_PATH} {PAIR}"
        self.server.plan("/trades", Plan(status=429, headers={"Retry-After": "60"}))
        self.listen_task = asyncio.ensure_future(self.data_source.listen_for_subscriptions())
        await wait_until(lambda: self.data_source.stream_stats().get(trades, {}).get("errors") == 1)

        await asyncio.wait_for(self.data_source.close(), 5)

        self.assertEqual([], self.data_source._stream_group.streams())
        self.assertFalse(self.data_source._stream_group.is_running(PAIR))
        self.assertEqual(1, len(self.server.route("/trades").requests))   # no stream was opened again

    async def test_close_leaves_a_session_passed_in_open(self):
        async with aiohttp.ClientSession() as session:
            data_source = self.make_data_source(self.server.base_url, [PAIR], session=session)
            await data_source.close()   # never listened: nothing to stop
            self.listen_task = asyncio.ensure_future(data_source.listen_for_subscriptions())
            await wait_until(lambda: self.server.open_streams == 2)

            await data_source.close()

            self.assertTrue(self.listen_task.done())
            self.assertFalse(session.closed)
            self.assertIs(session, data_source._stream_group.session)

    async def test_streams_connected_and_queued_messages(self):
        book, trades = f"{CONSTANTS.ORDER_BOOK_PATH} {PAIR}", f"{CONSTANTS.TRADES_PATH} {PAIR}"
        self.assertEqual({}, self.data_source.streams_connected())
        self.assertEqual(0, self.data_source.queued_messages())
        self.server.set_object("/order_book", horizon_book())
        # The trade stream drops after one trade, then is refused with a long Retry-After: it stays down.
        self.server.plan("/trades", Plan(drop_after=1), Plan(status=429, headers={"Retry-After": "60"}))
        self.listen_task = asyncio.ensure_future(self.data_source.listen_for_subscriptions())
        await wait_until(lambda: self.data_source.streams_connected() == {book: True, trades: True})

        self.server.publish("/trades", "5-0", horizon_trade("5-0"))
        await wait_until(lambda: self.data_source.stream_stats()[trades]["errors"] == 2, what="drop, then refusal")

        self.assertEqual({book: True, trades: False}, self.data_source.streams_connected())
        self.assertEqual(2, self.data_source.queued_messages())   # the book and the trade; nothing reads them
        self.data_source._message_queue[self.data_source._trade_messages_queue_key].get_nowait()
        self.assertEqual(1, self.data_source.queued_messages())
        await self.data_source.close()   # also ends the trade stream's wait
        self.assertEqual({}, self.data_source.streams_connected())

    async def test_a_pair_that_cannot_resolve_is_logged_and_does_not_stop_the_others(self):
        data_source = self.make_data_source(self.server.base_url, ["XLM-NOPE", PAIR])
        self.server.set_object("/order_book", horizon_book())
        self.listen_task = asyncio.ensure_future(data_source.listen_for_subscriptions())
        queue = data_source._message_queue[data_source._snapshot_messages_queue_key]

        raw = await self.next_message(queue)

        self.assertEqual(PAIR, raw["trading_pair"])
        await wait_until(lambda: self.is_logged("ERROR", "for XLM-NOPE failed; restarting in"))

    async def test_hummingbot_order_book_tracker_follows_the_streams(self):
        self.server.set_rest("/order_book", horizon_book(best_bid=(1, 10, "1.0000000")))
        self.server.set_object("/order_book", horizon_book(best_bid=(1, 10, "1.0000000")))
        tracker = QuickOrderBookTracker(self.data_source, [PAIR])
        tracker.start()
        self.addCleanup(tracker.stop)

        await asyncio.wait_for(tracker.wait_ready(), 5)
        order_book = tracker.order_books[PAIR]
        self.assertAlmostEqual(0.1, order_book.get_price(False))
        trades = self.server.route("/trades")
        await wait_until(lambda: len(trades.requests) == 1)

        self.server.set_object("/order_book", horizon_book(best_bid=(3, 20, "3.0000000")))
        self.server.publish("/trades", "8-0", horizon_trade("8-0", price=(3, 20)))
        await wait_until(lambda: abs(order_book.get_price(False) - 0.15) < 1e-12)
        await wait_until(lambda: abs(order_book.last_trade_price - 0.15) < 1e-12)

        self.assertAlmostEqual(20.0, next(order_book.bid_entries()).amount)   # 3 USDC at 0.15 = 20 XLM

    async def test_the_trackers_book_is_each_streamed_book_in_turn_across_a_drop_and_its_resync(self):
        """Books stream one after another (levels change, come and go), the stream drops and the REST
        resync brings a book of its own, then books stream again: after each book the tracker applies,
        its book is exactly that book (what a whole snapshot of it gives), mostly applied as a diff."""
        def book(step: int) -> dict:   # each step: one bid's amount changes, an ask level comes or goes
            bids = [book_level(1000 - 3 * i, 10_000, f"{1 + (i == step % 12) * step}.0000000") for i in range(12)]
            asks = [book_level(1001 + 3 * i, 10_000, f"{2 + i}.5000000") for i in range(10) if i != step % 4 + 3]
            return {"bids": bids, "asks": asks}

        def entries(order_book: OrderBook) -> tuple:
            return ([(e.price, e.amount) for e in order_book.bid_entries()],
                    [(e.price, e.amount) for e in order_book.ask_entries()])

        def whole(message: OrderBookMessage) -> tuple:
            order_book = OrderBook()
            order_book.apply_snapshot(message.bids, message.asks, message.update_id)
            return entries(order_book)

        self.server.plan("/order_book", Plan(drop_after=8))
        self.server.set_rest("/order_book", book(0))
        self.server.set_object("/order_book", book(0))
        tracker = QuickOrderBookTracker(self.data_source, [PAIR])
        tracker.start()
        self.addCleanup(tracker.stop)
        await asyncio.wait_for(tracker.wait_ready(), 5)
        order_book = tracker.order_books[PAIR]
        self.assertIsInstance(order_book, StellarOrderBook)
        applied = []   # (the book's best bid amount, it is the message's book, only its changes went in)
        restore = order_book.restore_from_snapshot_and_diffs

        def spy(message, past_diffs):
            restore(message, past_diffs)
            kept = any(e.update_id != message.update_id for e in [*order_book.bid_entries(), *order_book.ask_entries()])
            applied.append((message.bids[0].amount, entries(order_book) == whole(message), kept))
            self.assertEqual(message.update_id, order_book.snapshot_uid)

        order_book.restore_from_snapshot_and_diffs = spy
        for step in range(1, 16):
            if step == 7:   # the stream drops after its 8th book; the resync's REST book differs from all
                self.server.set_rest("/order_book", {"bids": [book_level(1, 10, "4.2000000")],
                                                     "asks": [book_level(11, 100, "1.0000000")]})
            self.server.set_object("/order_book", book(step))
            expected = StellarOrderBook.snapshot_message_from_exchange(book(step), metadata={"trading_pair": PAIR})
            await wait_until(lambda expected=expected: entries(order_book) == whole(expected), what=f"book {step}")
        self.assertTrue(all(exact for _, exact, _ in applied), applied)
        self.assertIn(42.0, [round(amount, 9) for amount, _, _ in applied])   # the resync's book (4.2 USDC at 0.1)
        self.assertGreaterEqual(sum(diff for _, _, diff in applied), 10)
        self.assertEqual(2, len(self.server.route("/order_book").rest_requests))   # the first book, the resync
        self.assertEqual(1, self.data_source.stream_stats()[f"{CONSTANTS.ORDER_BOOK_PATH} {PAIR}"]["reconnects"])

    async def test_tracker_stop_then_close_releases_everything_and_the_tracker_can_start_again(self):
        """What the exchange's stop_network and start_network do with the tracker and this data source."""
        self.server.set_rest("/order_book", horizon_book())
        self.server.set_object("/order_book", horizon_book())
        tracker = QuickOrderBookTracker(self.data_source, [PAIR])
        tracker.start()
        self.addCleanup(tracker.stop)
        await asyncio.wait_for(tracker.wait_ready(), 5)
        await wait_until(lambda: self.server.open_streams == 2)
        session = self.data_source._stream_group.session

        tracker.stop()   # cancels the listener without waiting for it
        await self.data_source.close()

        self.assertTrue(session.closed)
        self.assertEqual([], self.data_source._stream_group.streams())
        await wait_until(lambda: self.server.open_streams == 0, what="the server saw both streams close")

        tracker.start()
        await asyncio.wait_for(tracker.wait_ready(), 5)
        await wait_until(lambda: self.server.open_streams == 2, what="both streams open again")
        self.assertFalse(self.data_source._stream_group.session.closed)
        tracker.stop()
        await self.data_source.close()


class QuickOrderBookTracker(OrderBookTracker):
    """Hummingbot's tracker without its one-second pause between pairs at start."""

    @staticmethod
    async def _sleep(delay: float):
        await asyncio.sleep(0)
