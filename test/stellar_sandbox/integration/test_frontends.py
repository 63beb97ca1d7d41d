"""Several Horizon frontends over one network, each with its own faults, seen over real HTTP/SSE."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest
from stellar_sdk import Asset, ServerAsync
from stellar_sdk.client.aiohttp_client import AiohttpClient
from stellar_sdk.exceptions import BadRequestError, BadResponseError, NotFoundError
from stellar_sdk.operation import Payment

from stellar_sandbox import Sandbox
from test.stellar_sandbox.integration.support import build, get_json, read_sse, submit
from test.waiting import wait_until

pytestmark = pytest.mark.integration

XLM = Asset.native()
SSE = {"Accept": "text/event-stream"}
PROBLEM = "https://stellar.org/horizon-errors/"


@pytest.fixture
async def nets():
    """Three Horizon frontends over one network closing a ledger every 50 ms."""
    async with Sandbox(ledger_interval=0.05, horizons=3, submission_timeout=5.0, stream_keep_alive=0.2) as sandbox:
        yield sandbox


@pytest.fixture
async def servers(nets):
    clients = [ServerAsync(url, client=AiohttpClient()) for url in nets.horizon_urls]
    yield clients
    for client in clients:
        await client.close()


async def refused(url: str) -> bool:
    """Whether a connection to `url` is refused (nothing listens on its port)."""
    try:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            await response.read()
    except aiohttp.ClientConnectorError:
        return True
    return False


async def test_frontends_have_their_own_ports_and_one_network(nets, servers):
    assert len(nets.horizon_urls) == 3 == len(set(nets.horizon_urls)) and nets.horizon_url == nets.horizon_urls[0]
    assert nets.rpc_urls == [f"{url}/rpc" for url in nets.horizon_urls]
    assert [frontend.faults for frontend in nets.frontends][0] is nets.faults
    assert len({id(frontend.faults) for frontend in nets.frontends}) == 3
    payer, payee = await asyncio.gather(nets.create_account(100), nets.create_account(10))
    applied = await submit(servers[1], nets.passphrase, payer, [Payment(payee.public_key, XLM, "3")])
    seen = [await server.transactions().transaction(applied["hash"]).call() for server in servers]
    assert {record["paging_token"] for record in seen} == {applied["paging_token"]}
    accounts = [await server.accounts().account_id(payee.public_key).call() for server in servers]
    assert {account["balances"][-1]["balance"] for account in accounts} == {"13.0000000"}
    assert nets.frontends[1].requests.count("/transactions", method="POST") == 1
    assert nets.requests.count("/transactions", method="POST") == 0  # the first frontend's log


async def test_a_stream_resumes_from_its_cursor_on_another_frontend(nets, servers):
    payer, payee = await asyncio.gather(nets.create_account(100), nets.create_account(100))
    path = f"/accounts/{payee.public_key}/payments"

    async def pay(times: int) -> None:
        for _ in range(times):
            await submit(servers[2], nets.passphrase, payer, [Payment(payee.public_key, XLM, "1")])

    async with aiohttp.ClientSession() as session:
        async with session.get(nets.horizon_urls[0] + path, headers=SSE) as first:
            await pay(2)
            seen = await read_sse(first, 2)  # the create_account and one payment
        await pay(2)  # while the client moves to another frontend
        last_id = seen[-1][0]
        async with session.get(nets.horizon_urls[1] + path, headers={**SSE, "Last-Event-ID": last_id}) as resumed:
            await pay(1)
            seen += await read_sse(resumed, 4)
    ids = [event_id for event_id, _ in seen]
    history = await servers[1].payments().for_account(payee.public_key).limit(200).call()
    assert ids == [record["paging_token"] for record in history["_embedded"]["records"]]  # no gap, no repeat
    assert len(ids) == len(set(ids)) == 6


async def test_a_down_frontend_refuses_connections_and_comes_back_on_the_same_port(nets, servers):
    down = nets.frontends[1]
    port = down.port
    async with aiohttp.ClientSession() as session, session.get(down.url + "/ledgers", params={"cursor": "now"},
                                                               headers=SSE) as stream:
        await read_sse(stream, 1)
        down.faults.set(down=True)  # the process dies: listener closed, open connections reset
        assert down.is_down and down.faults.settings()["down"] is True
        with pytest.raises((aiohttp.ClientError, EOFError)):
            await read_sse(stream, 50)
    assert await refused(down.url + "/")
    assert (await servers[0].root().call())["history_latest_ledger"] > 0  # the others serve on
    payer, payee = await asyncio.gather(nets.create_account(100), nets.create_account(10))
    applied = await submit(servers[2], nets.passphrase, payer, [Payment(payee.public_key, XLM, "1")])
    down.faults.set(down=False)
    await wait_until(lambda: not down.is_down, what="the frontend listening again")
    assert down.port == port
    status, record = await get_json(f"{down.url}/transactions/{applied['hash']}")
    assert status == 200 and record["hash"] == applied["hash"]  # what happened meanwhile is there


async def test_down_for_a_while_through_its_own_control_route(nets):
    target = nets.frontends[2]
    async with aiohttp.ClientSession() as session, session.post(f"{target.url}/_sandbox/faults",
                                                                json={"down": {"seconds": 0.5}}) as response:
        assert response.status == 200 and (await response.json())["down"] is True
    assert await refused(target.url + "/")
    status, listed = await get_json(f"{nets.horizon_url}/_sandbox/frontends")
    assert status == 200 and [f["down"] for f in listed["frontends"]] == [False, False, True]
    await wait_until(lambda: not target.is_down, what="back after 0.5 s")
    assert (await get_json(target.url + "/"))[0] == 200


async def test_another_frontend_brings_a_down_one_back(nets):
    target = nets.frontends[1]
    async with aiohttp.ClientSession() as session:
        url = f"{nets.horizon_url}/_sandbox/frontends/1/faults"
        async with session.post(url, json={"down": True}) as response:
            assert (await response.json())["down"] is True
        assert await refused(target.url + "/")
        async with session.post(url, json={"down": False}) as response:
            assert response.status == 200
        await wait_until(lambda: not target.is_down, what="listening again")
        async with session.get(f"{nets.horizon_url}/_sandbox/frontends/7/faults") as response:
            assert response.status == 404


async def test_a_lagging_frontend_serves_old_state_and_catches_up(nets, servers):
    payer, payee = await asyncio.gather(nets.create_account(100), nets.create_account(10))
    lagging = nets.frontends[1]
    settings = lagging.faults.set(lag=3)
    assert settings["lag"]["ledgers"] == 3
    await wait_until(lambda: lagging.view.behind == 3, what="three ledgers behind")
    applied = await submit(servers[0], nets.passphrase, payer, [Payment(payee.public_key, XLM, "5")])
    with pytest.raises(NotFoundError):  # not ingested there yet
        await servers[1].transactions().transaction(applied["hash"]).call()
    old = await servers[1].accounts().account_id(payee.public_key).call()
    assert old["balances"][-1]["balance"] == "10.0000000"
    root, lag_root = await servers[0].root().call(), await servers[1].root().call()
    behind = root["history_latest_ledger"] - lag_root["history_latest_ledger"]
    assert behind >= 3 and root["core_latest_ledger"] - lag_root["core_latest_ledger"] >= 3
    assert (await servers[1].fee_stats().call())["last_ledger"] == str(lag_root["history_latest_ledger"])
    # it streams the payment only once it ingests the payment's ledger
    async with aiohttp.ClientSession() as session:
        url = f"{lagging.url}/accounts/{payee.public_key}/payments"
        async with session.get(url, params={"cursor": "now"}, headers=SSE) as stream:
            (_, payment), = await read_sse(stream, 1)
            assert payment["transaction_hash"] == applied["hash"]
            assert lagging.view.sequence >= applied["ledger"]
    lagging.faults.set(lag=0)  # catches up at once
    assert lagging.view.behind == 0
    caught_up = await servers[1].accounts().account_id(payee.public_key).call()
    assert caught_up["balances"][-1]["balance"] == "15.0000000"


async def test_a_silent_stream_sends_the_hello_and_nothing_more(nets):
    silent = nets.frontends[2]
    silent.faults.set(silent_streams={"paths": ["/ledgers"]})
    params = {"cursor": "now"}
    async with aiohttp.ClientSession() as session, \
            session.get(silent.url + "/ledgers", params=params, headers=SSE) as quiet, \
            session.get(nets.horizon_url + "/ledgers", params=params, headers=SSE) as lively:
        preamble = [(await quiet.content.readline()).decode() for _ in range(4)]
        assert preamble == ["retry: 1000\n", "event: open\n", 'data: "hello"\n', "\n"]
        await read_sse(lively, 10)  # ten ledgers closed (and keep-alives were due) meanwhile
        assert quiet.content.read_nowait() == b""  # not an event, not a keep-alive comment
        assert silent.faults.settings()["open_streams"] == 1
    assert silent.faults.settings()["injected"]["silent_streams"] == 1
    status, _ = await get_json(silent.url + "/ledgers")  # REST on the same frontend answers
    assert status == 200


async def test_each_frontend_has_its_own_errors(nets, servers):
    nets.frontends[1].faults.set(errors={"statuses": [429], "retry_after": 3})
    nets.frontends[2].faults.set(errors={"statuses": [503]})
    async with aiohttp.ClientSession() as session, session.get(nets.horizon_urls[1] + "/ledgers") as response:
        assert response.status == 429 and response.headers["Retry-After"] == "3"
        assert (await response.json(content_type=None))["type"] == PROBLEM + "rate_limit_exceeded"
    with pytest.raises(BadRequestError) as limited:
        await servers[1].root().call()
    assert limited.value.status == 429
    with pytest.raises(BadResponseError) as over:
        await servers[2].ledgers().call()
    assert over.value.status == 503
    assert (await servers[0].ledgers().limit(1).call())["_embedded"]["records"]
    nets.faults.set(ledger_stall=True)  # ledgers are the network's: every frontend sees the stall
    assert all(frontend.faults.ledgers_stalled for frontend in nets.frontends)
    nets.frontends[2].faults.set(ledger_stall=False)
    assert not nets.faults.ledgers_stalled


async def test_a_submission_to_a_lagging_frontend_applies_at_once_and_answers_once_ingested(nets, servers):
    payer, payee = await asyncio.gather(nets.create_account(100), nets.create_account(10))
    lagging = nets.frontends[2]
    lagging.faults.set(lag=2)
    envelope = await build(servers[0], nets.passphrase, payer, [Payment(payee.public_key, XLM, "1")])
    answered = await servers[2].submit_transaction(envelope, skip_memo_required_check=True)
    assert answered["successful"] and lagging.view.sequence >= answered["ledger"]
    assert nets.network.latest_ledger["sequence"] >= answered["ledger"] + 2  # it waited for its own ingestion


async def test_frontends_added_while_running_serve_the_same_network(net):
    created = await net.create_account(10)
    added = await net.add_horizon()
    rpc_only = await net.add_rpc()
    assert [frontend.index for frontend in net.frontends] == [0, 1, 2]
    assert net.horizon_urls == [net.horizon_url, added.url] and added.port != net.port
    status, account = await get_json(f"{added.url}/accounts/{created.public_key}")
    assert status == 200 and account["id"] == created.public_key
    async with aiohttp.ClientSession() as session, session.post(
            rpc_only.url, json={"jsonrpc": "2.0", "id": 1, "method": "getLatestLedger"}) as response:
        latest = (await response.json())["result"]["sequence"]
    assert abs(latest - net.network.latest_ledger["sequence"]) <= 1
