import asyncio
import contextlib
import random

import aiohttp
import pytest

from hummingbot.connector.exchange.stellar.stellar_backoff import Backoff
from hummingbot.connector.exchange.stellar.stellar_sse import (
    HorizonStream,
    RecentTokens,
    SSEEvent,
    SSEParser,
    paging_token_key,
)
from test.hummingbot.connector.exchange.stellar.sse_test_server import Plan, SSETestServer
from test.waiting import wait_until

FAST = dict(healthy_after=60.0)   # tests decide "healthy" by events delivered, not by time


def fast_backoff(base: float = 0.001, cap: float = 0.05) -> Backoff:
    return Backoff(base=base, cap=cap, rng=random.Random(7))


# ----- parser -----

def feed_all(parser: SSEParser, chunks) -> list:
    events = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    return events


def test_parser_joins_multi_line_data_and_ignores_comments():
    parser = SSEParser()
    events = feed_all(parser, [b": keep-alive\n\nid: 5\nevent: trade\ndata: {\"a\":\ndata: 1}\n\n"])
    assert events == [SSEEvent("5", "trade", '{"a":\n1}')]
    assert parser.last_event_id == "5"


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_parser_same_events_for_every_line_ending_and_chunking(newline):
    text = newline.join([b"retry: 250", b"id: 1-1", b"data: one", b"", b"data:two", b"data:  three", b"", b""])
    whole = feed_all(SSEParser(), [text])
    one_byte_at_a_time = feed_all(SSEParser(), [text[i:i + 1] for i in range(len(text))])
    assert whole == [SSEEvent("1-1", "message", "one"), SSEEvent(None, "message", "two\n three")]
    assert one_byte_at_a_time == whole


def test_parser_crlf_split_between_chunks_is_one_line_end():
    parser = SSEParser()
    events = feed_all(parser, [b"data: a\r", b"\ndata: b\r\n\r\n"])
    assert events == [SSEEvent(None, "message", "a\nb")]


def test_parser_fields_per_spec():
    parser = SSEParser()
    events = feed_all(parser, [
        b"\xef\xbb\xbfdata: bom stripped\n\n",       # a UTF-8 BOM at the very start
        b"retry: soon\n",                            # not digits: ignored
        b"retry: 3000\n",
        b"id: bad\x00id\n",                          # NUL in an id: ignored
        b"unknown: field\n",
        b"data\n",                                   # a field with no colon: empty value
        b"\n",
        b"id: 9\n\n",                                # no data: nothing dispatched, id kept
    ])
    assert events == [SSEEvent(None, "message", "bom stripped"), SSEEvent(None, "message", "")]
    assert parser.retry_ms == 3000
    assert parser.last_event_id == "9"


def test_parser_discards_a_partial_event_when_the_connection_resets():
    parser = SSEParser()
    assert parser.feed(b"id: 3\ndata: half") == []
    parser.reset_connection()
    assert parser.feed(b"data: whole\n\n") == [SSEEvent(None, "message", "whole")]


def test_paging_token_key_orders_horizon_tokens_numerically():
    assert paging_token_key("99-3") < paging_token_key("100-1") < paging_token_key("100-2")
    assert paging_token_key("now") is None


def test_recent_tokens_forgets_the_oldest_beyond_capacity():
    recent = RecentTokens(2)
    assert recent.add("a") and recent.add("b")
    assert not recent.add("a")
    assert recent.add("c")          # evicts "a"
    assert recent.add("a")
    assert len(recent) == 2


def test_recent_tokens_needs_room_for_one_key():
    with pytest.raises(ValueError, match="at least 1"):
        RecentTokens(0)


# ----- HorizonStream against a real local server -----

@pytest.fixture
async def server():
    srv = SSETestServer()
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


async def take(stream: HorizonStream, n: int, timeout: float = 5.0) -> list:
    """The first `n` items of the stream; then closes the iteration (and so its connection)."""
    items = []
    events = stream.events_forever()

    async def consume():
        async for item in events:
            items.append(item)
            if len(items) == n:
                return

    try:
        await asyncio.wait_for(consume(), timeout)
    finally:
        await events.aclose()
    return items


async def test_stream_yields_parsed_records_after_hello(server, session):
    for i in range(1, 4):
        server.publish("/trades", f"{i}-0", {"n": i})
    stream = HorizonStream(session, server.base_url + "/trades", {"base_asset_type": "native"}, cursor="0",
                           backoff=fast_backoff(), **FAST)
    items = await take(stream, 3)
    assert items == [("1-0", {"n": 1}), ("2-0", {"n": 2}), ("3-0", {"n": 3})]
    request = server.route("/trades").requests[0]
    assert request["query"] == {"base_asset_type": "native", "cursor": "0"}
    assert request["headers"]["Accept"] == "text/event-stream"
    assert stream.last_event_id == "3-0"
    assert stream.retry_ms == 1000


async def test_stream_resumes_from_the_last_id_after_the_server_drops_it(server, session):
    for i in range(1, 6):
        server.publish("/effects", str(i), {"n": i})
    server.plan("/effects", Plan(drop_after=2), Plan(drop_after=1))
    after_drops = []

    async def on_connect(after_drop: bool):
        after_drops.append(after_drop)

    stream = HorizonStream(session, server.base_url + "/effects", cursor="0", backoff=fast_backoff(),
                           on_connect=on_connect, **FAST)
    items = await take(stream, 5)
    assert [data["n"] for _, data in items] == [1, 2, 3, 4, 5]          # nothing lost, nothing twice
    requests = server.route("/effects").requests
    assert [r["query"]["cursor"] for r in requests] == ["0", "2", "3"]
    assert [r["headers"].get("Last-Event-ID") for r in requests] == [None, "2", "3"]
    assert after_drops == [False, True, True]
    assert stream.reconnects == 2 and stream.errors == 2


async def test_stream_reconnects_after_byebye_without_counting_an_error(server, session):
    for i in range(1, 5):
        server.publish("/tx", str(i), {"n": i})
    server.plan("/tx", Plan(byebye_after=2))
    after_drops = []

    async def on_connect(after_drop: bool):
        after_drops.append(after_drop)

    stream = HorizonStream(session, server.base_url + "/tx", cursor="0", backoff=fast_backoff(),
                           on_connect=on_connect, **FAST)
    # Horizon asks for 1 s before reconnecting ("retry: 1000"); the test server's hello says so too,
    # so shorten it here to keep the test quick: the stream honours whatever the server last said.
    server.route("/tx").plans[0].raw = [b"retry: 5\n\n"]
    items = await take(stream, 4)
    assert [data["n"] for _, data in items] == [1, 2, 3, 4]
    assert [r["query"]["cursor"] for r in server.route("/tx").requests] == ["0", "2"]
    assert after_drops == [False, False]
    assert stream.errors == 0 and stream.reconnects == 1


async def test_stream_drops_events_it_has_already_delivered(server, session):
    # The server replays "2" (an inclusive cursor, a proxy retry...): it must not be seen twice.
    server.plan("/trades", Plan(raw=[b"id: 1\ndata: {\"n\": 1}\n\n", b"id: 2\ndata: {\"n\": 2}\n\n",
                                     b"id: 2\ndata: {\"n\": 2}\n\n", b"id: 1\ndata: {\"n\": 1}\n\n",
                                     b"id: 3\ndata: {\"n\": 3}\n\n"]))
    stream = HorizonStream(session, server.base_url + "/trades", cursor="now", backoff=fast_backoff(), **FAST)
    items = await take(stream, 3)
    assert [event_id for event_id, _ in items] == ["1", "2", "3"]
    assert stream.duplicates_dropped == 2


async def test_stream_parses_split_chunks_keepalives_and_skips_bad_json(server, session):
    server.plan("/fx", Plan(raw=[b": keep-alive\n\n", b"id: 1\nda", b"ta: {\"a\": [1,\n", b"data: 2]}\n\n",
                                 b"id: 2\ndata: not json\n\n", b"id: 3\r\ndata: {\"b\": true}\r\n\r\n"]))
    stream = HorizonStream(session, server.base_url + "/fx", cursor="now", backoff=fast_backoff(), **FAST)
    items = await take(stream, 2)
    assert items == [("1", {"a": [1, 2]}), ("3", {"b": True})]
    assert stream.parse_errors == 1


async def test_stream_hands_out_event_text_undecoded_when_asked(server, session):
    # The order book data source compares each book's text with the last one's: nothing decoded here.
    server.plan("/ob", Plan(raw=[b"data: {\"bids\":[]}\n\n", b"data: not json\n\n"]))
    stream = HorizonStream(session, server.base_url + "/ob", cursor=None, decode=False, backoff=fast_backoff(),
                           **FAST)
    items = await take(stream, 2)
    assert items == [(None, '{"bids":[]}'), (None, "not json")]
    assert stream.events == 2 and stream.parse_errors == 0


async def test_stream_backs_off_exponentially_on_errors_then_resets_once_healthy(server, session):
    server.publish("/ob", "1", {"n": 1})
    server.plan("/ob", Plan(status=503), Plan(status=503), Plan(status=429, headers={"Retry-After": "0"}))
    backoff = fast_backoff()
    stream = HorizonStream(session, server.base_url + "/ob", cursor="0", backoff=backoff, **FAST)
    failures_seen = []
    original = backoff.next_delay

    def spy():
        delay = original()
        failures_seen.append((backoff.failures, delay))
        return delay

    backoff.next_delay = spy
    items = await take(stream, 1)
    assert items == [("1", {"n": 1})]
    assert [failures for failures, _ in failures_seen] == [1, 2, 3]
    for failures, delay in failures_seen:
        ceiling = backoff.ceiling(failures - 1)
        assert ceiling / 2 <= delay <= ceiling
    assert stream.errors == 3 and backoff.failures == 3
    # That connection delivered an event, so a drop now is retried at the base delay, not the 4th step.
    assert stream._next_delay(None) <= backoff.base
    assert backoff.failures == 1


@pytest.mark.parametrize("healthy_after, resets", [(0.2, True), (60.0, False)])
async def test_a_quiet_connection_resets_the_backoff_once_it_stayed_up_healthy_after(server, session,
                                                                                    healthy_after, resets):
    """A quiet account stream delivers no event; staying connected `healthy_after` seconds is what
    tells a working connection from a flapping one, so its next drop is retried at the base delay."""
    server.plan("/quiet", Plan(status=503), Plan(status=503))
    backoff = fast_backoff()
    stream = HorizonStream(session, server.base_url + "/quiet", cursor="now", backoff=backoff,
                           healthy_after=healthy_after)
    task = asyncio.ensure_future(take(stream, 1, timeout=1.0))
    await wait_until(lambda: stream.connected)   # the third attempt
    await asyncio.sleep(0.3)
    assert stream.errors == 2 and backoff.failures == 2
    delay = stream._next_delay(None)
    if resets:
        assert backoff.failures == 1 and delay <= backoff.base
    else:
        assert backoff.failures == 3 and delay > backoff.base
    with pytest.raises(asyncio.TimeoutError):
        await task   # nothing was published: the connection stayed quiet throughout


async def test_stream_error_event_and_non_event_stream_answers_reconnect(server, session):
    server.plan("/e", Plan(raw=[b"event: error\ndata: {\"title\": \"bad cursor\"}\n\n"], end_after_raw=True))
    server.publish("/e", "1", {"ok": 1})
    stream = HorizonStream(session, server.base_url + "/e", cursor="0", backoff=fast_backoff(), **FAST)
    items = await take(stream, 1)
    assert items == [("1", {"ok": 1})]
    assert stream.errors == 1


async def test_stop_ends_the_iteration_while_the_stream_is_idle(server, session):
    stream = HorizonStream(session, server.base_url + "/idle", cursor="now", backoff=fast_backoff(), **FAST)
    received = []

    async def consume():
        async for item in stream:
            received.append(item)

    task = asyncio.ensure_future(consume())
    await wait_until(lambda: stream.connects == 1)
    assert stream.connected
    stream.stop()
    await asyncio.wait_for(task, 2.0)
    assert received == [] and stream.stopped and not stream.connected


async def test_a_stream_stopped_while_connecting_drops_the_connection_it_gets(server, session):
    # stop() finds no connection to close then; the cancel that usually follows may be lost (Python 3.11's
    # wait_for can lose one), and the stream must not go on reading all the same.
    server.publish("/trades", "1-0", {"n": 1})

    @contextlib.asynccontextmanager
    async def stopped_on_the_way():
        stream.stop()
        yield

    stream = HorizonStream(session, server.base_url + "/trades", cursor="0", backoff=fast_backoff(),
                           throttle=stopped_on_the_way, **FAST)
    received = await asyncio.wait_for(collect(stream), 2.0)
    assert received == [] and stream.connects == 0 and not stream.connected
    assert len(server.route("/trades").requests) == 1   # it did connect, and left at once


async def collect(stream: HorizonStream) -> list:
    return [item async for item in stream]


async def test_stop_interrupts_a_backoff_wait(server, session):
    server.plan("/down", *[Plan(status=500)] * 3)
    stream = HorizonStream(session, server.base_url + "/down", cursor="now",
                           backoff=Backoff(base=30.0, cap=60.0), **FAST)

    async def consume():
        async for _ in stream:
            pass

    task = asyncio.ensure_future(consume())
    await wait_until(lambda: stream.errors == 1)
    assert not stream.connected
    stream.stop()
    await asyncio.wait_for(task, 2.0)   # did not sit out the 15-30 s backoff
    assert stream.errors == 1


async def test_stop_then_cancel_during_a_backoff_wait_ends_the_task_cancelled(server, session):
    # What a data source's close() does to a stream waiting to reconnect: the cancel must not be lost.
    server.plan("/down", Plan(status=500))
    stream = HorizonStream(session, server.base_url + "/down", cursor="now",
                           backoff=Backoff(base=30.0, cap=60.0), **FAST)

    async def consume():
        async for _ in stream:
            pass

    task = asyncio.ensure_future(consume())
    await wait_until(lambda: stream.errors == 1)
    stream.stop()
    task.cancel()
    await asyncio.wait([task], timeout=2.0)
    assert task.cancelled()


# ----- moving between Horizons -----

async def test_move_reconnects_at_once_to_where_url_points_now_from_the_same_cursor(server, session):
    other = SSETestServer()
    await other.start()
    try:
        def publish(*numbers):   # the same records on both: paging tokens are the ledger's
            for i in numbers:
                server.publish("/trades", str(i), {"n": i})
                other.publish("/trades", str(i), {"n": i})

        publish(1, 2)
        target = [server.base_url]
        errors, received = [], []
        stream = HorizonStream(session, lambda: target[0] + "/trades", cursor="0", backoff=Backoff(base=30.0, cap=60.0),
                               on_error=lambda *args: errors.append(args), **FAST)

        async def consume():
            async for _token, data in stream:
                received.append(data["n"])

        task = asyncio.ensure_future(consume())
        await wait_until(lambda: len(received) == 2, what="two records from the first server")
        target[0] = other.base_url
        stream.move()
        await wait_until(lambda: other.route("/trades").requests, timeout=2.0, what="the stream on the other server")
        publish(3, 4)
        await wait_until(lambda: len(received) == 4, timeout=2.0, what="the next records, from the other")
        stream.stop()
        await asyncio.wait_for(task, 2.0)
        assert received == [1, 2, 3, 4]
        request = other.route("/trades").requests[0]
        assert request["query"]["cursor"] == "2" and request["headers"]["Last-Event-ID"] == "2"
        assert stream.url == other.base_url + "/trades"
        assert errors == [] and stream.errors == 0      # a move is no failure
    finally:
        await other.stop()


async def test_move_interrupts_a_backoff_wait(server, session):
    server.plan("/down", Plan(status=503))
    server.publish("/down", "1", {"n": 1})
    stream = HorizonStream(session, server.base_url + "/down", cursor="0", backoff=Backoff(base=30.0, cap=60.0),
                           **FAST)
    events = stream.events_forever()
    waiting = asyncio.ensure_future(events.__anext__())
    await wait_until(lambda: stream.errors == 1)
    stream.move()
    assert (await asyncio.wait_for(waiting, 2.0))[1] == {"n": 1}
    await events.aclose()


async def test_on_error_tells_a_refused_or_failed_connection_from_a_drop(server, session):
    server.plan("/e", Plan(status=503, headers={"Retry-After": "0"}), Plan(drop_after=1))
    for i in range(1, 3):
        server.publish("/e", str(i), {"n": i})
    errors = []
    stream = HorizonStream(session, server.base_url + "/e", cursor="0", backoff=fast_backoff(),
                           on_error=lambda url, error, dropped: errors.append((url, type(error).__name__, dropped)),
                           **FAST)
    assert [data["n"] for _, data in await take(stream, 2)] == [1, 2]
    url = server.base_url + "/e"
    assert errors == [(url, "SSEStreamError", False), (url, "ClientPayloadError", True)]
