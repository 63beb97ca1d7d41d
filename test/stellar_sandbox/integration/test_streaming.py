"""SSE streams as Horizon sends them: wire format, cursor replay, resume without gaps or repeats."""
from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest
from stellar_sdk import Asset
from stellar_sdk.operation import ManageSellOffer, Payment

from stellar_sandbox import Sandbox
from test.stellar_sandbox.integration.support import next_event, read_sse, submit

pytestmark = pytest.mark.integration

XLM = Asset.native()
SSE = {"Accept": "text/event-stream"}


async def test_stream_opens_with_retry_and_hello_then_sends_ids(net):
    async with aiohttp.ClientSession() as session, session.get(f"{net.horizon_url}/ledgers",
                                                               params={"cursor": "now"}, headers=SSE) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        preamble = [(await response.content.readline()).decode() for _ in range(4)]
        assert preamble == ["retry: 1000\n", "event: open\n", 'data: "hello"\n', "\n"]
        (event_id, ledger), = await read_sse(response, 1)
    assert event_id == ledger["paging_token"] == str(ledger["sequence"] << 32)
    assert ledger["_links"]["self"]["href"].endswith(f"/ledgers/{ledger['sequence']}")


async def test_sdk_stream_follows_new_ledgers_from_now(net, server):
    start = net.network.latest_ledger["sequence"]
    stream = server.ledgers().cursor("now").stream()
    sequences = [(await next_event(stream))["sequence"] for _ in range(3)]
    await stream.aclose()
    assert sequences[0] > start and sequences == list(range(sequences[0], sequences[0] + 3))


async def test_reconnecting_with_last_event_id_misses_nothing_and_repeats_nothing(net, server):
    payer, payee = await asyncio.gather(net.create_account(100), net.create_account(100))
    url = f"{net.horizon_url}/accounts/{payee.public_key}/payments"

    async def pay(times: int) -> None:
        for _ in range(times):
            await submit(server, net.passphrase, payer, [Payment(payee.public_key, XLM, "1")])

    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers=SSE) as first_connection:
            await pay(3)
            seen = await read_sse(first_connection, 3)  # the create_account and two payments
        await pay(3)  # while disconnected
        last_id = seen[-1][0]
        async with session.get(url, params={"cursor": "0"}, headers={**SSE, "Last-Event-ID": last_id}) as resumed:
            await pay(1)
            seen += await read_sse(resumed, 5)  # the unread third payment, three missed, one live
    ids = [event_id for event_id, _ in seen]
    assert len(ids) == len(set(ids)) == 8
    history = await server.payments().for_account(payee.public_key).limit(200).call()
    assert ids == [record["paging_token"] for record in history["_embedded"]["records"]]
    assert [record["type"] for _, record in seen] == ["create_account"] + ["payment"] * 7


async def test_cursor_replays_history_then_follows_live(net, server):
    await asyncio.gather(net.create_account(10), net.create_account(10))
    everything = await server.transactions().limit(200).call()
    tokens = [t["paging_token"] for t in everything["_embedded"]["records"]]
    async with aiohttp.ClientSession() as session, session.get(f"{net.horizon_url}/transactions",
                                                               params={"cursor": tokens[0]}, headers=SSE) as stream:
        replayed = await read_sse(stream, len(tokens) - 1)
        assert [event_id for event_id, _ in replayed] == tokens[1:]
        live = asyncio.ensure_future(read_sse(stream, 1))
        created = await net.create_account(10)
        (event_id, record), = await live
    assert record["source_account"] == net.network.root_keypair.public_key
    assert record["ledger"] >= everything["_embedded"]["records"][-1]["ledger"]
    assert (await server.accounts().account_id(created.public_key).call())["id"] == created.public_key


async def test_stream_with_limit_ends_with_byebye(net):
    async with aiohttp.ClientSession() as session, session.get(f"{net.horizon_url}/ledgers",
                                                               params={"limit": "2"}, headers=SSE) as response:
        events = await read_sse(response, 3)
        assert [data for _, data in events][2] == "byebye"
        assert await response.content.read() == b""


async def test_order_book_stream_sends_the_whole_book_only_when_it_changes(net, server):
    seller = await net.create_account(1000)
    usd, eur = await asyncio.gather(net.issue_asset("USD"), net.issue_asset("EUR"))
    await asyncio.gather(net.trust_and_fund(seller, usd, "100"))
    await net.trust_and_fund(seller, eur, "100")
    stream = server.orderbook(usd, XLM).stream()
    assert (await next_event(stream))["asks"] == []
    await submit(server, net.passphrase, seller, [ManageSellOffer(eur, XLM, "5", "1")])  # another book
    await submit(server, net.passphrase, seller, [ManageSellOffer(usd, XLM, "10", "2")])
    book = await next_event(stream)
    assert book["asks"] == [{"price_r": {"n": 2, "d": 1}, "price": "2.0000000", "amount": "10.0000000"}]
    await submit(server, net.passphrase, seller, [ManageSellOffer(usd, XLM, "5", "3")])
    book = await next_event(stream)
    await stream.aclose()
    assert [level["price"] for level in book["asks"]] == ["2.0000000", "3.0000000"]
    assert book["base"]["asset_code"] == "USD" and book["counter"] == {"asset_type": "native"}


async def test_trades_and_account_offers_stream(net, server):
    seller, buyer = await asyncio.gather(net.create_account(1000), net.create_account(1000))
    usd = await net.issue_asset("USD")
    await asyncio.gather(net.trust_and_fund(seller, usd, "100"), net.trust_and_fund(buyer, usd, "1"))
    trades = server.trades().for_asset_pair(usd, XLM).cursor("now").stream()
    trade_task = asyncio.ensure_future(next_event(trades))
    async with aiohttp.ClientSession() as session, session.get(
            f"{net.horizon_url}/accounts/{seller.public_key}/offers", headers=SSE) as offers:
        await submit(server, net.passphrase, seller, [ManageSellOffer(usd, XLM, "10", "2")])
        (offer_token, offer), = await read_sse(offers, 1)
    await submit(server, net.passphrase, buyer, [ManageSellOffer(XLM, usd, "4", "0.5")])
    trade = await trade_task
    await trades.aclose()
    assert offer_token == offer["id"]
    assert offer["seller"] == seller.public_key and offer["amount"] == "10.0000000"
    assert trade["base_offer_id"] == offer["id"] and trade["base_amount"] == "2.0000000"
    assert trade["counter_amount"] == "4.0000000" and trade["base_asset_code"] == "USD"


async def test_bad_cursor_is_a_400_before_the_stream_opens(net):
    async with aiohttp.ClientSession() as session, session.get(f"{net.horizon_url}/effects",
                                                               params={"cursor": "x-y"}, headers=SSE) as response:
        assert response.status == 400
        assert (await response.json())["extras"]["invalid_field"] == "cursor"


async def test_server_shutdown_ends_open_streams(net):
    async with aiohttp.ClientSession() as session, session.get(f"{net.horizon_url}/ledgers",
                                                               params={"cursor": "now"}, headers=SSE) as response:
        await read_sse(response, 1)
        assert net.horizon.hub.open_streams == 1
        await net.stop()
        assert await asyncio.wait_for(response.content.read(), 2) is not None
    assert net.horizon.hub.open_streams == 0


async def test_a_client_that_stops_reading_is_dropped_without_holding_up_the_network():
    async with Sandbox(ledger_interval=None, stream_write_timeout=0.3, stream_keep_alive=0.2) as sandbox:
        for _ in range(20_000):  # ~14 MB of ledger events to replay: more than the socket buffers hold
            sandbox.network.close_ledger()
        client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.setblocking(False)
        loop = asyncio.get_running_loop()
        await loop.sock_connect(client, ("127.0.0.1", sandbox.port))
        request = b"GET /ledgers HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
        await loop.sock_sendall(client, request)
        try:
            hub = sandbox.horizon.hub
            for _ in range(100):
                if hub.open_streams == 1:
                    break
                await asyncio.sleep(0.01)
            assert hub.open_streams == 1
            before = sandbox.network.latest_ledger["sequence"]
            await sandbox.close_ledger()  # the network goes on while the client is stuck
            assert sandbox.network.latest_ledger["sequence"] == before + 1
            for _ in range(500):
                if hub.open_streams == 0:
                    break
                await asyncio.sleep(0.01)
            assert hub.open_streams == 0
        finally:
            client.close()
