import asyncio
from typing import List

from hummingbot.core.data_type.user_stream_tracker import UserStreamTracker
from stellar_sdk import Keypair

import hummingbot.connector.exchange.stellar.stellar_constants as CONSTANTS
import hummingbot.connector.exchange.stellar.stellar_web_utils as web_utils
from hummingbot.connector.exchange.stellar.stellar_api_user_stream_data_source import StellarAPIUserStreamDataSource
from hummingbot.connector.exchange.stellar.stellar_auth import StellarAuth
from test.hummingbot.connector.exchange.stellar.data_source_test_support import (
    DOMAIN,
    MinimalConnector,
    horizon_trade,
    page,
)
from test.hummingbot.connector.exchange.stellar.sse_test_server import Plan, SSETestServer
from test.isolated_asyncio_wrapper_test_case import IsolatedAsyncioWrapperTestCase
from test.waiting import wait_until

CHANNEL_SUFFIX = {"effect": "effects", "trade": "trades", "offer": "offers", "transaction": "transactions"}


def effect(token: str, kind: str = "account_credited") -> dict:
    return {"id": token.replace("-", "-000"), "paging_token": token, "type": kind, "amount": "1.0000000"}


def offer(offer_id: int, amount: str, ledger: int) -> dict:
    return {"id": str(offer_id), "paging_token": str(offer_id), "amount": amount, "last_modified_ledger": ledger}


def transaction(token: str) -> dict:
    return {"id": "ab" * 32, "paging_token": token, "successful": True}


class StellarAPIUserStreamDataSourceTests(IsolatedAsyncioWrapperTestCase):
    level = 0

    async def asyncSetUp(self) -> None:
        await super().asyncSetUp()
        self.log_records: List = []
        self.auth = StellarAuth(Keypair.random().secret)
        self.account = self.auth.account_id
        throttler = web_utils.create_throttler(CONSTANTS.build_rate_limits(CONSTANTS.LOCAL_HORIZON_REQUESTS_PER_HOUR))
        self.api_factory = web_utils.build_api_factory(throttler=throttler, auth=self.auth)
        self.server = SSETestServer()
        await self.server.start()
        self.data_source = StellarAPIUserStreamDataSource(
            auth=self.auth, connector=MinimalConnector(), api_factory=self.api_factory, domain=DOMAIN,
            horizon_url=self.server.base_url, stream_backoff_base=0.001, stream_backoff_cap=0.01)
        self.data_source.logger().setLevel(1)
        self.data_source.logger().addHandler(self)
        self.output = asyncio.Queue()
        self.listen_task = None

    async def asyncTearDown(self) -> None:
        self.data_source.logger().removeHandler(self)
        await self.stop_listening()
        await self.server.stop()
        await self.api_factory.close()
        await super().asyncTearDown()

    def handle(self, record):
        self.log_records.append(record)

    def path(self, channel: str) -> str:
        return f"/accounts/{self.account}/{CHANNEL_SUFFIX[channel]}"

    def start_listening(self) -> None:
        self.listen_task = asyncio.ensure_future(self.data_source.listen_for_user_stream(self.output))

    async def stop_listening(self) -> None:
        if self.listen_task is not None:
            self.listen_task.cancel()
            await asyncio.gather(self.listen_task, return_exceptions=True)
            self.listen_task = None

    async def wait_all_streams_open(self, count: int = 1) -> None:
        await wait_until(lambda: all(len(self.server.route(self.path(c)).requests) >= count
                                        for c in CHANNEL_SUFFIX))

    async def next_events(self, n: int, timeout: float = 5.0) -> list:
        return [await asyncio.wait_for(self.output.get(), timeout) for _ in range(n)]

    def stream_cursors(self, channel: str) -> list:
        return [r["query"].get("cursor") for r in self.server.route(self.path(channel)).requests]

    async def test_first_start_streams_after_the_newest_existing_record_of_each_channel(self):
        self.server.set_rest(self.path("effect"), page([effect("40-1")]))
        self.server.set_rest(self.path("trade"), page([horizon_trade("40-0")]))
        self.server.set_rest(self.path("offer"), page([offer(77, "5.0000000", 40)]))
        self.server.set_rest(self.path("transaction"), page([transaction("171798691840")]))
        self.server.publish(self.path("effect"), "40-1", effect("40-1"))     # existing: not an event
        self.start_listening()
        await self.wait_all_streams_open()

        self.server.publish(self.path("effect"), "41-1", effect("41-1"))
        self.server.publish(self.path("trade"), "41-0", horizon_trade("41-0"))
        self.server.publish(self.path("offer"), "78", offer(78, "3.0000000", 41))
        self.server.publish(self.path("transaction"), "176093659136", transaction("176093659136"))
        events = await self.next_events(4)

        by_channel = {e["channel"]: e for e in events}
        self.assertEqual({"effect", "trade", "offer", "transaction"}, set(by_channel))
        self.assertEqual("41-1", by_channel["effect"]["cursor"])
        self.assertEqual("account_credited", by_channel["effect"]["data"]["type"])
        self.assertEqual("41-0", by_channel["trade"]["cursor"])
        self.assertEqual("78", by_channel["offer"]["cursor"])
        self.assertEqual("176093659136", by_channel["transaction"]["cursor"])
        self.assertEqual(["40-1"], self.stream_cursors("effect"))
        self.assertEqual(["77"], self.stream_cursors("offer"))
        rest_query = self.server.route(self.path("effect")).rest_requests[0]
        self.assertEqual({"order": "desc", "limit": "1"}, rest_query)
        self.assertTrue(self.output.empty())
        self.assertGreater(self.data_source.last_recv_time, 0)

    async def test_start_cursor_falls_back_to_zero_for_empty_history_and_now_on_errors(self):
        self.server.set_rest(self.path("effect"), page([]))
        self.server.set_rest(self.path("trade"), page([]))
        self.server.set_rest(self.path("offer"), page([]))
        # no REST answer set for transactions: the server says 404
        self.start_listening()
        await self.wait_all_streams_open()

        self.assertEqual(["0"], self.stream_cursors("effect"))
        self.assertEqual(["now"], self.stream_cursors("transaction"))
        self.assertTrue(any(r.levelname == "WARNING" and "streaming transactions from now" in r.getMessage()
                            for r in self.log_records))

    async def test_reconnect_resumes_by_cursor_without_losing_or_repeating_events(self):
        for channel in CHANNEL_SUFFIX:
            self.server.set_rest(self.path(channel), page([]))
        self.server.plan(self.path("trade"), Plan(drop_after=1), Plan(drop_after=2))
        for i in range(1, 5):
            self.server.publish(self.path("trade"), f"{i}-0", horizon_trade(f"{i}-0"))
        self.start_listening()

        events = await self.next_events(4)
        # A repeat of an earlier trade would be queued before one published after them.
        self.server.publish(self.path("trade"), "5-0", horizon_trade("5-0"))
        events += await self.next_events(1)

        self.assertEqual(["1-0", "2-0", "3-0", "4-0", "5-0"], [e["cursor"] for e in events])
        self.assertEqual(["0", "1-0", "3-0"], self.stream_cursors("trade"))
        self.assertEqual("5-0", self.data_source.cursors["trade"])
        self.assertTrue(self.output.empty())

    async def test_restarting_the_listener_resumes_from_the_last_cursor_without_asking_horizon_again(self):
        for channel in CHANNEL_SUFFIX:
            self.server.set_rest(self.path(channel), page([]))
        self.start_listening()
        await self.wait_all_streams_open()
        self.server.publish(self.path("effect"), "5-1", effect("5-1"))
        self.assertEqual("5-1", (await self.next_events(1))[0]["cursor"])
        await self.stop_listening()

        self.server.publish(self.path("effect"), "6-1", effect("6-1"))   # while we were away
        self.start_listening()
        events = await self.next_events(1)

        self.assertEqual("6-1", events[0]["cursor"])
        self.assertEqual(["0", "5-1"], self.stream_cursors("effect"))
        self.assertEqual(1, len(self.server.route(self.path("effect")).rest_requests))

    async def test_close_ends_listening_closes_the_session_and_listening_again_resumes_from_the_cursor(self):
        for channel in CHANNEL_SUFFIX:
            self.server.set_rest(self.path(channel), page([]))
        self.start_listening()
        await self.wait_all_streams_open()
        self.server.publish(self.path("effect"), "5-1", effect("5-1"))
        self.assertEqual("5-1", (await self.next_events(1))[0]["cursor"])
        session = self.data_source._stream_group.session

        await self.data_source.close()

        self.assertTrue(session.closed)
        self.assertTrue(self.listen_task.done())
        await wait_until(lambda: self.server.open_streams == 0, what="the server saw all four streams close")
        await self.data_source.close()   # again: nothing left to do

        self.server.publish(self.path("effect"), "6-1", effect("6-1"))   # while we were away
        self.start_listening()
        self.assertEqual("6-1", (await self.next_events(1))[0]["cursor"])
        self.assertEqual(["0", "5-1"], self.stream_cursors("effect"))
        self.assertFalse(self.data_source._stream_group.session.closed)

    async def test_hummingbot_user_stream_tracker_stop_closes_the_session_and_start_resumes(self):
        for channel in CHANNEL_SUFFIX:
            self.server.set_rest(self.path(channel), page([]))
        tracker = UserStreamTracker(self.data_source)
        tracker_task = asyncio.ensure_future(tracker.start())
        await self.wait_all_streams_open()
        session = self.data_source._stream_group.session

        await tracker.stop()   # what the exchange's stop_network awaits
        await asyncio.gather(tracker_task, return_exceptions=True)

        self.assertTrue(session.closed)
        await wait_until(lambda: self.server.open_streams == 0, what="the server saw all four streams close")

        tracker_task = asyncio.ensure_future(tracker.start())
        await self.wait_all_streams_open(count=2)
        self.server.publish(self.path("trade"), "7-0", horizon_trade("7-0"))
        event = await asyncio.wait_for(tracker.user_stream.get(), 5)
        self.assertEqual("7-0", event["cursor"])
        await tracker.stop()
        await asyncio.gather(tracker_task, return_exceptions=True)
        self.assertTrue(self.data_source._stream_group.session is None)

    async def test_streams_connected_and_queued_messages(self):
        for channel in CHANNEL_SUFFIX:
            self.server.set_rest(self.path(channel), page([]))
        # The effects stream is refused with a long Retry-After: it stays down.
        self.server.plan(self.path("effect"), Plan(status=429, headers={"Retry-After": "60"}))
        self.assertEqual({}, self.data_source.streams_connected())
        self.assertEqual(0, self.data_source.queued_messages())
        self.start_listening()
        expected = {"account effects": False, "account trades": True, "account offers": True,
                    "account transactions": True}
        await wait_until(lambda: self.data_source.streams_connected() == expected
                         and self.data_source.stream_stats()["account effects"]["errors"] == 1)

        self.server.publish(self.path("trade"), "3-0", horizon_trade("3-0"))
        self.server.publish(self.path("transaction"), "12884905984", transaction("12884905984"))
        await wait_until(lambda: self.data_source.queued_messages() == 2)
        self.output.get_nowait()
        self.assertEqual(1, self.data_source.queued_messages())

        await self.data_source.close()   # also ends the effects stream's wait
        self.assertEqual({}, self.data_source.streams_connected())
        self.assertEqual(1, self.data_source.queued_messages())   # still waiting for the exchange to read it

    async def test_events_repeated_by_the_server_are_delivered_once(self):
        for channel in CHANNEL_SUFFIX:
            self.server.set_rest(self.path(channel), page([]))
        same_offer = b'id: 9\ndata: {"paging_token": "9", "amount": "5.0000000", "last_modified_ledger": 3}\n\n'
        changed_offer = b'id: 9\ndata: {"paging_token": "9", "amount": "2.0000000", "last_modified_ledger": 4}\n\n'
        effect_bytes = b'id: 7-1\ndata: {"paging_token": "7-1", "type": "trade"}\n\n'
        self.server.plan(self.path("offer"), Plan(raw=[same_offer, same_offer, changed_offer]))
        # The effect arrives, the connection drops, and a misbehaving server sends it again.
        self.server.plan(self.path("effect"), Plan(raw=[effect_bytes], end_after_raw=True),
                         Plan(raw=[effect_bytes]))
        # Sentinels, served after the repeats: once both arrived, any repeat would have arrived first.
        self.server.publish(self.path("offer"), "10", offer(10, "1.0000000", 5))
        self.server.publish(self.path("effect"), "8-1", effect("8-1"))
        self.start_listening()

        events = []
        while {"10", "8-1"} - {e["cursor"] for e in events}:
            events += await self.next_events(1)

        offers = [e["data"]["amount"] for e in events if e["channel"] == "offer"]
        effects = [e["cursor"] for e in events if e["channel"] == "effect"]
        self.assertEqual(["5.0000000", "2.0000000", "1.0000000"], offers)   # an offer's change is news, a repeat not
        self.assertEqual(["7-1", "8-1"], effects)
        self.assertTrue(self.output.empty())
        self.assertEqual(2, len(self.server.route(self.path("effect")).requests))

    async def test_stop_closes_streams_and_owned_session(self):
        for channel in CHANNEL_SUFFIX:
            self.server.set_rest(self.path(channel), page([]))
        self.start_listening()
        await wait_until(lambda: self.server.open_streams == 4)
        session = self.data_source._stream_group.session

        await self.stop_listening()

        self.assertTrue(session.closed)
        await self.data_source.stop()
