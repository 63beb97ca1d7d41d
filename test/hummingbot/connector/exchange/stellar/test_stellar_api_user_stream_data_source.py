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

CHANNEL_SUFFIX = {"account": "", "trade": "/trades", "offer": "/offers", "transaction": "/transactions"}
RECORD_CHANNELS = ("trade", "offer", "transaction")


def account_record(account_id: str, xlm: str, sequence: int = 4294967296) -> dict:
    """The account as Horizon's /accounts/{id} writes it; its paging token is the account id, always the same."""
    return {"id": account_id, "account_id": account_id, "paging_token": account_id, "sequence": str(sequence),
            "subentry_count": 0, "last_modified_ledger": 7,
            "balances": [{"balance": xlm, "buying_liabilities": "0.0000000", "selling_liabilities": "0.0000000",
                          "asset_type": "native"}]}


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
        return f"/accounts/{self.account}{CHANNEL_SUFFIX[channel]}"

    def serve_empty_history(self) -> None:
        for channel in RECORD_CHANNELS:
            self.server.set_rest(self.path(channel), page([]))

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
        self.server.set_rest(self.path("trade"), page([horizon_trade("40-0")]))
        self.server.set_rest(self.path("offer"), page([offer(77, "5.0000000", 40)]))
        self.server.set_rest(self.path("transaction"), page([transaction("171798691840")]))
        self.server.publish(self.path("trade"), "40-0", horizon_trade("40-0"))     # existing: not an event
        self.start_listening()
        await self.wait_all_streams_open()

        self.server.publish(self.path("trade"), "41-0", horizon_trade("41-0"))
        self.server.publish(self.path("offer"), "78", offer(78, "3.0000000", 41))
        self.server.publish(self.path("transaction"), "176093659136", transaction("176093659136"))
        events = await self.next_events(3)

        by_channel = {e["channel"]: e for e in events}
        self.assertEqual({"trade", "offer", "transaction"}, set(by_channel))
        self.assertEqual("41-0", by_channel["trade"]["cursor"])
        self.assertEqual("78", by_channel["offer"]["cursor"])
        self.assertEqual("176093659136", by_channel["transaction"]["cursor"])
        self.assertEqual(["40-0"], self.stream_cursors("trade"))
        self.assertEqual(["77"], self.stream_cursors("offer"))
        rest_query = self.server.route(self.path("trade")).rest_requests[0]
        self.assertEqual({"order": "desc", "limit": "1"}, rest_query)
        # The account stream has no cursor, so nothing is read over REST to start it.
        self.assertEqual([None], self.stream_cursors("account"))
        self.assertEqual([], self.server.route(self.path("account")).rest_requests)
        self.assertTrue(self.output.empty())
        self.assertGreater(self.data_source.last_recv_time, 0)

    async def test_the_account_stream_queues_the_whole_account_on_connect_and_on_each_change(self):
        self.serve_empty_history()
        self.server.set_object(self.path("account"), account_record(self.account, "100.0000000"))
        self.assertFalse(self.data_source.account_stream_current())
        self.start_listening()

        first = (await self.next_events(1))[0]
        self.assertEqual(("account", None), (first["channel"], first["cursor"]))
        self.assertEqual("100.0000000", first["data"]["balances"][0]["balance"])
        await wait_until(self.data_source.account_stream_current, what="the account stream current")

        # Every record carries the same paging token (the account id): each change must still come through.
        for xlm in ("90.0000000", "80.0000000"):
            self.server.set_object(self.path("account"), account_record(self.account, xlm))
        self.server.set_object(self.path("account"), account_record(self.account, "70.0000000", sequence=4294967297))
        seen = []
        while not seen or seen[-1] != "70.0000000":
            event = (await self.next_events(1))[0]
            self.assertEqual("account", event["channel"])
            seen.append(event["data"]["balances"][0]["balance"])
        self.assertNotIn("100.0000000", seen)
        self.assertEqual(seen, sorted(seen, reverse=True))   # in order, no repeat
        self.assertEqual(0, self.data_source.duplicates_dropped)
        self.assertNotIn("account", self.data_source.cursors)

    async def test_a_reconnected_account_stream_sends_the_account_anew(self):
        self.serve_empty_history()
        self.server.set_object(self.path("account"), account_record(self.account, "100.0000000"))
        # The first connection drops after its second event; the next one starts with the account as it is.
        self.server.plan(self.path("account"), Plan(drop_after=2))
        self.start_listening()
        self.assertEqual("100.0000000", (await self.next_events(1))[0]["data"]["balances"][0]["balance"])
        self.server.set_object(self.path("account"), account_record(self.account, "60.0000000"))

        events = await self.next_events(2)

        self.assertEqual(["60.0000000", "60.0000000"], [e["data"]["balances"][0]["balance"] for e in events])
        self.assertEqual(2, len(self.server.route(self.path("account")).requests))
        self.assertEqual([None, None], self.stream_cursors("account"))
        self.assertNotIn("Last-Event-ID", self.server.route(self.path("account")).requests[1]["headers"])
        await wait_until(self.data_source.account_stream_current, what="current on the new connection")
        self.assertEqual(1, self.data_source.stream_stats()["account"]["reconnects"])

        await self.data_source.close()
        self.assertFalse(self.data_source.account_stream_current())

    async def test_start_cursor_falls_back_to_zero_for_empty_history_and_now_on_errors(self):
        self.server.set_rest(self.path("trade"), page([]))
        self.server.set_rest(self.path("offer"), page([]))
        # no REST answer set for transactions: the server says 404
        self.start_listening()
        await self.wait_all_streams_open()

        self.assertEqual(["0"], self.stream_cursors("trade"))
        self.assertEqual(["now"], self.stream_cursors("transaction"))
        self.assertTrue(any(r.levelname == "WARNING" and "streaming transactions from now" in r.getMessage()
                            for r in self.log_records))

    async def test_reconnect_resumes_by_cursor_without_losing_or_repeating_events(self):
        self.serve_empty_history()
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
        self.serve_empty_history()
        self.start_listening()
        await self.wait_all_streams_open()
        self.server.publish(self.path("trade"), "5-0", horizon_trade("5-0"))
        self.assertEqual("5-0", (await self.next_events(1))[0]["cursor"])
        await self.stop_listening()

        self.server.publish(self.path("trade"), "6-0", horizon_trade("6-0"))   # while we were away
        self.start_listening()
        events = await self.next_events(1)

        self.assertEqual("6-0", events[0]["cursor"])
        self.assertEqual(["0", "5-0"], self.stream_cursors("trade"))
        self.assertEqual(1, len(self.server.route(self.path("trade")).rest_requests))

    async def test_close_ends_listening_closes_the_session_and_listening_again_resumes_from_the_cursor(self):
        self.serve_empty_history()
        self.start_listening()
        await self.wait_all_streams_open()
        self.server.publish(self.path("trade"), "5-0", horizon_trade("5-0"))
        self.assertEqual("5-0", (await self.next_events(1))[0]["cursor"])
        session = self.data_source._stream_group.session

        await self.data_source.close()

        self.assertTrue(session.closed)
        self.assertTrue(self.listen_task.done())
        await wait_until(lambda: self.server.open_streams == 0, what="the server saw all four streams close")
        await self.data_source.close()   # again: nothing left to do

        self.server.publish(self.path("trade"), "6-0", horizon_trade("6-0"))   # while we were away
        self.start_listening()
        self.assertEqual("6-0", (await self.next_events(1))[0]["cursor"])
        self.assertEqual(["0", "5-0"], self.stream_cursors("trade"))
        self.assertFalse(self.data_source._stream_group.session.closed)

    async def test_hummingbot_user_stream_tracker_stop_closes_the_session_and_start_resumes(self):
        self.serve_empty_history()
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
        self.serve_empty_history()
        # The account stream is refused with a long Retry-After: it stays down.
        self.server.plan(self.path("account"), Plan(status=429, headers={"Retry-After": "60"}))
        self.assertEqual({}, self.data_source.streams_connected())
        self.assertEqual(0, self.data_source.queued_messages())
        self.start_listening()
        expected = {"account": False, "account trades": True, "account offers": True,
                    "account transactions": True}
        await wait_until(lambda: self.data_source.streams_connected() == expected
                         and self.data_source.stream_stats()["account"]["errors"] == 1)
        self.assertFalse(self.data_source.all_streams_connected())
        self.assertFalse(self.data_source.account_stream_current())

        self.server.publish(self.path("trade"), "3-0", horizon_trade("3-0"))
        self.server.publish(self.path("transaction"), "12884905984", transaction("12884905984"))
        await wait_until(lambda: self.data_source.queued_messages() == 2)
        self.output.get_nowait()
        self.assertEqual(1, self.data_source.queued_messages())

        await self.data_source.close()   # also ends the account stream's wait
        self.assertEqual({}, self.data_source.streams_connected())
        self.assertEqual(1, self.data_source.queued_messages())   # still waiting for the exchange to read it

    async def test_events_repeated_by_the_server_are_delivered_once(self):
        self.serve_empty_history()
        same_offer = b'id: 9\ndata: {"paging_token": "9", "amount": "5.0000000", "last_modified_ledger": 3}\n\n'
        changed_offer = b'id: 9\ndata: {"paging_token": "9", "amount": "2.0000000", "last_modified_ledger": 4}\n\n'
        trade_bytes = b'id: 7-0\ndata: {"paging_token": "7-0", "base_amount": "1.0000000"}\n\n'
        self.server.plan(self.path("offer"), Plan(raw=[same_offer, same_offer, changed_offer]))
        # The trade arrives, the connection drops, and a misbehaving server sends it again.
        self.server.plan(self.path("trade"), Plan(raw=[trade_bytes], end_after_raw=True),
                         Plan(raw=[trade_bytes]))
        # Sentinels, served after the repeats: once both arrived, any repeat would have arrived first.
        self.server.publish(self.path("offer"), "10", offer(10, "1.0000000", 5))
        self.server.publish(self.path("trade"), "8-0", horizon_trade("8-0"))
        self.start_listening()

        events = []
        while {"10", "8-0"} - {e["cursor"] for e in events}:
            events += await self.next_events(1)

        offers = [e["data"]["amount"] for e in events if e["channel"] == "offer"]
        trades = [e["cursor"] for e in events if e["channel"] == "trade"]
        self.assertEqual(["5.0000000", "2.0000000", "1.0000000"], offers)   # an offer's change is news, a repeat not
        self.assertEqual(["7-0", "8-0"], trades)
        self.assertTrue(self.output.empty())
        self.assertEqual(2, len(self.server.route(self.path("trade")).requests))

    async def test_stop_closes_streams_and_owned_session(self):
        self.serve_empty_history()
        self.start_listening()
        await wait_until(lambda: self.server.open_streams == 4)
        session = self.data_source._stream_group.session

        await self.stop_listening()

        self.assertTrue(session.closed)
        await self.data_source.stop()
