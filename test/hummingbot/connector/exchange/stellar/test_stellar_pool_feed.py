"""Following a pair's liquidity pool on Horizon (a real SSE server on 127.0.0.1): its id as stellar-core makes it,
two reads at start, then its effects stream alone, resumed by cursor; the book gets its levels once a burst."""
import asyncio
import random
from typing import List

from hummingbot.core.data_type.order_book_message import OrderBookMessage
from stellar_sdk import Asset, Keypair

import hummingbot.connector.exchange.stellar.stellar_constants as CONSTANTS
import hummingbot.connector.exchange.stellar.stellar_web_utils as web_utils
from hummingbot.connector.exchange.stellar.stellar_api_order_book_data_source import StellarAPIOrderBookDataSource
from hummingbot.connector.exchange.stellar.stellar_order_book import StellarPoolMessage
from hummingbot.connector.exchange.stellar.stellar_pool_feed import pool_id_for
from hummingbot.connector.exchange.stellar.stellar_pool_levels import STROOPS, pool_levels
from stellar_sandbox.core import pools as sandbox_pools
from test.hummingbot.connector.exchange.stellar.data_source_test_support import (
    DOMAIN,
    ISSUER,
    MinimalConnector,
    horizon_book,
    page,
)
from test.hummingbot.connector.exchange.stellar.sse_test_server import Plan, SSETestServer
from test.isolated_asyncio_wrapper_test_case import IsolatedAsyncioWrapperTestCase
from test.waiting import wait_until

PAIR = "XLM-USDC"
USDC_KEY = f"USDC:{ISSUER}"
POOL_ID = pool_id_for(Asset.native(), Asset("USDC", ISSUER))
EFFECTS = f"/liquidity_pools/{POOL_ID}/effects"


def test_pool_ids_are_stellar_cores_whatever_the_assets_and_their_order():
    rng = random.Random(38)
    issuers = [Keypair.random().public_key for _ in range(12)]
    assets = [Asset.native()] + [Asset(code, rng.choice(issuers)) for code in
                                 ("USDC", "USD", "EURT", "A", "LONGERCODE12", "USDC", "BTC", "ETHX12345")]
    for _ in range(200):
        x, y = rng.sample(assets, 2)
        if x == y:
            continue
        expected = sandbox_pools.pool_id_for(sandbox_key(x), sandbox_key(y))
        assert pool_id_for(x, y) == pool_id_for(y, x) == expected


def sandbox_key(asset: Asset) -> str:
    return "native" if asset.issuer is None else f"{asset.code}:{asset.issuer}"


def pool_record(xlm: str, usdc: str) -> dict:
    return {"id": POOL_ID, "paging_token": POOL_ID, "fee_bp": 30, "type": "constant_product",
            "total_trustlines": "1", "total_shares": "100.0000000",
            "reserves": [{"asset": "native", "amount": xlm}, {"asset": USDC_KEY, "amount": usdc}]}


def effect(kind: str, xlm: str, usdc: str, pool_id: str = POOL_ID) -> dict:
    pool = pool_record(xlm, usdc)
    pool["id"] = pool_id
    pool.pop("paging_token")
    return {"type": kind, "liquidity_pool": pool}


class PoolFeedTests(IsolatedAsyncioWrapperTestCase):
    level = 0

    async def asyncSetUp(self) -> None:
        await super().asyncSetUp()
        self.log_records: List = []
        self.connector = MinimalConnector()
        throttler = web_utils.create_throttler(CONSTANTS.build_rate_limits(CONSTANTS.LOCAL_HORIZON_REQUESTS_PER_HOUR))
        self.api_factory = web_utils.build_api_factory(throttler=throttler)
        self.server = SSETestServer()
        await self.server.start()
        self.server.set_object("/order_book", horizon_book())
        self.data_source = StellarAPIOrderBookDataSource(
            trading_pairs=[PAIR], connector=self.connector, api_factory=self.api_factory, domain=DOMAIN,
            horizon_url=self.server.base_url, stream_backoff_base=0.001, stream_backoff_cap=0.01, include_pool=True)
        self.data_source.logger().setLevel(1)
        self.data_source.logger().addHandler(self)
        self.addCleanup(self.data_source.logger().removeHandler, self)
        self.tasks: List[asyncio.Task] = []
        self.output: asyncio.Queue = asyncio.Queue()

    async def asyncTearDown(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.data_source.close()
        await self.server.stop()
        await self.api_factory.close()
        await super().asyncTearDown()

    def handle(self, record):
        self.log_records.append(record)

    def listen(self) -> None:
        self.tasks.append(asyncio.ensure_future(self.data_source.listen_for_subscriptions()))
        self.tasks.append(asyncio.ensure_future(self.data_source.listen_for_order_book_snapshots(None, self.output)))

    async def next_pool_message(self) -> StellarPoolMessage:
        while True:
            message: OrderBookMessage = await asyncio.wait_for(self.output.get(), 5)
            if isinstance(message, StellarPoolMessage):
                return message

    async def test_the_pool_is_read_once_then_followed_by_its_effects_alone(self):
        self.server.set_rest(EFFECTS, page([{"paging_token": "40-1", "type": "trade"}]))
        self.server.set_rest("/liquidity_pools", page([pool_record("1000.0000000", "250.0000000")]))
        self.listen()

        first = await self.next_pool_message()
        self.assertEqual(pool_levels(1000 * STROOPS, 250 * STROOPS), first.content["pool"])
        effects = self.server.route(EFFECTS)
        await wait_until(lambda: len(effects.requests) == 1)
        self.assertEqual("40-1", effects.requests[0]["query"]["cursor"])   # from the newest effect: none missed
        self.assertEqual({"order": "desc", "limit": "1"}, effects.rest_requests[0])
        self.assertEqual({"reserves": f"native,{USDC_KEY}", "limit": "200"},
                         self.server.route("/liquidity_pools").rest_requests[0])

        self.server.publish(EFFECTS, "41-1", effect("liquidity_pool_trade", "990.0000000", "252.5000000"))
        second = await self.next_pool_message()
        self.assertEqual((990 * STROOPS, 2525 * STROOPS // 10), (second.content["pool"].base_reserve,
                                                                 second.content["pool"].quote_reserve))
        # Another pool's effect, or one with no pool in it, changes nothing; a deposit does.
        self.server.publish(EFFECTS, "42-1", {"type": "account_credited", "amount": "1.0000000"})
        self.server.publish(EFFECTS, "42-2", effect("liquidity_pool_trade", "1.0000000", "1.0000000", "ab" * 32))
        self.server.publish(EFFECTS, "43-1", effect("liquidity_pool_deposited", "1090.0000000", "277.7500000"))
        third = await self.next_pool_message()
        self.assertEqual(1090 * STROOPS, third.content["pool"].base_reserve)
        self.assertEqual(1, len(effects.rest_requests))
        self.assertEqual(1, len(self.server.route("/liquidity_pools").rest_requests))
        self.assertEqual(2, self.data_source.pool_feeds()[PAIR].effects)

    async def test_a_burst_of_effects_gives_the_book_one_message_with_the_last_reserves(self):
        self.server.set_rest(EFFECTS, page([]))
        self.server.set_rest("/liquidity_pools", page([]))
        self.listen()
        effects = self.server.route(EFFECTS)
        await wait_until(lambda: len(effects.requests) == 1)
        self.assertEqual("0", effects.requests[0]["query"]["cursor"])   # no effect yet: all that comes is new
        feed = self.data_source.pool_feeds()[PAIR]
        await wait_until(lambda: feed.reserves == (0, 0) and not feed.pending)
        self.assertFalse(any(isinstance(m, StellarPoolMessage) for m in self.output._queue))   # no pool: nothing
        feed_queue = self.data_source._message_queue[self.data_source._snapshot_messages_queue_key]
        parser = self.tasks.pop()   # hold the parser, so the burst waits in the queue as a ledger's would
        parser.cancel()
        await asyncio.gather(parser, return_exceptions=True)

        self.server.publish(EFFECTS, "1-1", effect("liquidity_pool_created", "0.0000000", "0.0000000"))
        self.server.publish(EFFECTS, "1-2", effect("liquidity_pool_deposited", "100.0000000", "25.0000000"))
        self.server.publish(EFFECTS, "2-1", effect("liquidity_pool_trade", "101.0000000", "24.7600000"))
        await wait_until(lambda: feed.effects == 3)
        self.assertEqual(1, sum(1 for raw in feed_queue._queue if "pool" in raw))
        self.tasks.append(asyncio.ensure_future(self.data_source.listen_for_order_book_snapshots(None, self.output)))
        message = await self.next_pool_message()
        self.assertEqual((101 * STROOPS, 2476 * STROOPS // 100), (message.content["pool"].base_reserve,
                                                                  message.content["pool"].quote_reserve))
        self.server.publish(EFFECTS, "3-1", {"type": "liquidity_pool_removed", "liquidity_pool_id": POOL_ID})
        gone = await self.next_pool_message()
        self.assertIsNone(gone.content["pool"])

    async def test_a_dropped_effects_stream_resumes_by_cursor_with_no_read(self):
        self.server.set_rest(EFFECTS, page([{"paging_token": "7-1"}]))
        self.server.set_rest("/liquidity_pools", page([pool_record("1000.0000000", "250.0000000")]))
        self.server.plan(EFFECTS, Plan(drop_after=1))
        self.listen()
        await self.next_pool_message()
        self.server.publish(EFFECTS, "8-1", effect("liquidity_pool_trade", "999.0000000", "250.2500000"))
        await self.next_pool_message()
        self.server.publish(EFFECTS, "9-1", effect("liquidity_pool_trade", "998.0000000", "250.5000000"))
        message = await self.next_pool_message()
        self.assertEqual(998 * STROOPS, message.content["pool"].base_reserve)
        effects = self.server.route(EFFECTS)
        self.assertEqual(["7-1", "8-1"], [r["query"]["cursor"] for r in effects.requests])
        self.assertEqual(1, len(effects.rest_requests))

    async def test_book_only_follows_no_pool(self):
        data_source = StellarAPIOrderBookDataSource(
            trading_pairs=[PAIR], connector=self.connector, api_factory=self.api_factory, domain=DOMAIN,
            horizon_url=self.server.base_url, stream_backoff_base=0.001, include_pool=False)
        task = asyncio.ensure_future(data_source.listen_for_subscriptions())
        await wait_until(lambda: self.server.open_streams == 2)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await data_source.close()
        self.assertEqual({}, data_source.pool_feeds())
        self.assertNotIn(EFFECTS, self.server.routes)
        self.assertNotIn("/liquidity_pools", self.server.routes)

    async def test_a_horizon_that_cannot_tell_the_pool_leaves_the_book_to_the_offers_and_is_asked_again_later(self):
        self.server.set_rest(EFFECTS, page([]))   # /liquidity_pools unanswered (404): a Horizon without pools
        self.assertGreaterEqual(self.data_source.POOL_RETRY_CAP, 600)   # then at most 2 reads each 10 min or more
        self.listen()
        message = await asyncio.wait_for(self.output.get(), 5)
        self.assertAlmostEqual(0.1, message.bids[0].price)   # the offers' book goes on
        await wait_until(lambda: any("_listen_pool_stream for XLM-USDC failed; restarting in" in r.getMessage()
                                     for r in self.log_records))
        await wait_until(lambda: len(self.server.route("/liquidity_pools").rest_requests) >= 2)   # asked again
        self.assertEqual([], self.server.route(EFFECTS).requests)   # no stream of a pool it could not find
        self.assertIsNone(self.data_source.pool_feeds()[PAIR].reserves)
