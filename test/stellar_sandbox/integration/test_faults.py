"""Fault injection as a stellar-sdk client (or a raw HTTP/SSE client) observes it.

Each fault is set through the in-process API (`net.faults`); `test_control` covers the same settings
over `POST /_sandbox/faults`. Nothing here asserts speed: latency is checked as a lower bound only.
"""
from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from stellar_sdk import Asset
from stellar_sdk.exceptions import BadRequestError, BadResponseError, StreamClientError
from stellar_sdk.operation import Payment

from stellar_sandbox import Sandbox
from stellar_sandbox.faults import FaultSettingsError
from test.stellar_sandbox.integration.support import build, next_event, read_sse, submit

pytestmark = pytest.mark.integration

XLM = Asset.native()
SSE = {"Accept": "text/event-stream"}
PROBLEM = "https://stellar.org/horizon-errors/"


@pytest.fixture
async def pair(net):
    payer, payee = await asyncio.gather(net.create_account(1000), net.create_account(10))
    return payer, payee


async def raw_get(url: str, **query: str) -> tuple[int, dict, dict]:
    async with aiohttp.ClientSession() as session, session.get(url, params=query) as response:
        return response.status, dict(response.headers), await response.json(content_type=None)


async def post_envelope(url: str, envelope_xdr: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.post(url, data={"tx": envelope_xdr}) as response:
        return response.status, await response.json(content_type=None)


# ----- latency -----


async def test_latency_is_added_to_matching_requests_only(net, server):
    net.faults.set(latency={"seconds": 0.3, "jitter": 0.1, "paths": ["/ledgers*"]})
    started = time.monotonic()
    page = await server.ledgers().limit(1).call()
    elapsed = time.monotonic() - started
    assert page["_embedded"]["records"]
    assert elapsed >= 0.3  # a lower bound only: never flaky
    await server.root().call()  # "/" does not match the pattern: not delayed
    assert net.faults.settings()["injected"]["latency"] == 1


async def test_latency_delays_submissions_as_well(net, server, pair):
    payer, payee = pair
    net.faults.set(latency=0.25)  # a bare number: seconds on every path
    started = time.monotonic()
    result = await submit(server, net.passphrase, payer, [Payment(payee.public_key, XLM, "1")])
    assert time.monotonic() - started >= 0.5  # load_account and the submission, 0.25 s each
    assert result["successful"]


# ----- injected errors -----


@pytest.mark.parametrize("status, problem_type, title", [
    (429, "rate_limit_exceeded", "Rate Limit Exceeded"),
    (500, "server_error", "Internal Server Error"),
    (503, "server_over_capacity", "Server Over Capacity"),
    (504, "timeout", "Timeout"),
])
async def test_injected_error_is_a_horizon_problem(net, status, problem_type, title):
    net.faults.set(errors={"rate": 1.0, "statuses": [status], "retry_after": 7})
    code, headers, body = await raw_get(f"{net.horizon_url}/ledgers")
    assert code == status
    assert headers["Content-Type"].startswith("application/problem+json")
    assert body["type"] == PROBLEM + problem_type and body["title"] == title and body["status"] == status
    assert body["detail"]
    if status == 429:
        assert headers["Retry-After"] == "7"
        assert headers["X-Ratelimit-Limit"] == "3600" and headers["X-Ratelimit-Remaining"] == "0"
        assert headers["X-Ratelimit-Reset"] == "7"
    else:
        assert "Retry-After" not in headers


async def test_sdk_sees_injected_errors_as_horizon_errors(net, server):
    net.faults.set(errors={"statuses": [429]})
    with pytest.raises(BadRequestError) as rate_limited:
        await server.ledgers().call()
    assert rate_limited.value.status == 429 and rate_limited.value.type == PROBLEM + "rate_limit_exceeded"
    net.faults.set(errors={"statuses": [503]})
    with pytest.raises(BadResponseError) as over_capacity:
        await server.fee_stats().call()
    assert over_capacity.value.status == 503 and over_capacity.value.type == PROBLEM + "server_over_capacity"
    net.faults.set(errors=None)
    assert (await server.fee_stats().call())["last_ledger"]


async def test_errors_apply_to_matching_paths_only_and_never_to_control_routes(net, server):
    net.faults.set(errors={"statuses": [500], "paths": ["/transactions*"]})
    assert (await server.ledgers().limit(1).call())["_embedded"]["records"]
    with pytest.raises(BadResponseError) as failed:
        await server.transactions().call()
    assert failed.value.status == 500
    net.faults.set(errors={"statuses": [500]})  # every path now, yet the control routes answer
    status, _, body = await raw_get(f"{net.horizon_url}/_sandbox/faults")
    assert status == 200 and body["errors"]["statuses"] == [500]


async def test_a_faulted_submission_is_not_applied(net, server, pair):
    payer, payee = pair
    envelope = await build(server, net.passphrase, payer, [Payment(payee.public_key, XLM, "1")])
    net.faults.set(errors={"statuses": [503], "paths": ["/transactions_async"]})
    status, body = await post_envelope(f"{net.horizon_url}/transactions_async", envelope.to_xdr())
    assert status == 503 and body["type"] == PROBLEM + "server_over_capacity"
    await net.close_ledger()
    assert net.network.transaction_status(envelope.hash_hex()) == "NOT_FOUND"
    net.faults.set(errors=None)
    status, body = await post_envelope(f"{net.horizon_url}/transactions_async", envelope.to_xdr())
    assert status == 201 and body == {"tx_status": "PENDING", "hash": envelope.hash_hex()}


async def test_error_rate_fails_about_that_share_of_requests():
    async with Sandbox(ledger_interval=None, fault_seed=7) as net:
        net.faults.set(errors={"rate": 0.3, "statuses": [429, 503]})
        statuses = []
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                async with session.get(f"{net.horizon_url}/ledgers") as response:
                    statuses.append(response.status)
    failed = [s for s in statuses if s != 200]
    assert set(statuses) == {200, 429, 503}
    assert 30 <= len(failed) <= 90  # 60 expected; the seed makes it repeatable
    assert net.faults.settings()["injected"]["errors"] == len(failed)


# ----- submissions that time out after being applied -----


async def test_sync_submission_times_out_yet_applies_and_is_found_by_hash(net, server, pair):
    payer, payee = pair
    envelope = await build(server, net.passphrase, payer, [Payment(payee.public_key, XLM, "5")])
    net.faults.set(submission_timeout={"rate": 1.0})
    with pytest.raises(BadResponseError) as timed_out:
        await server.submit_transaction(envelope, skip_memo_required_check=True)
    error = timed_out.value
    assert error.status == 504 and error.type == PROBLEM + "transaction_submission_timeout"
    assert error.extras["hash"] == envelope.hash_hex() and error.extras["envelope_xdr"] == envelope.to_xdr()
    found = await server.transactions().transaction(error.extras["hash"]).call()
    assert found["successful"] and found["envelope_xdr"] == envelope.to_xdr()
    payments = await server.payments().for_account(payee.public_key).order(desc=True).limit(1).call()
    assert payments["_embedded"]["records"][0]["amount"] == "5.0000000"
    assert net.faults.settings()["injected"]["submission_timeout"] == 1


async def test_async_submission_times_out_yet_applies(net, server, pair):
    payer, payee = pair
    envelope = await build(server, net.passphrase, payer, [Payment(payee.public_key, XLM, "2")])
    net.faults.set(submission_timeout={"paths": ["/transactions_async"]})
    with pytest.raises(BadResponseError) as timed_out:
        await server.submit_transaction_async(envelope, skip_memo_required_check=True)
    assert timed_out.value.status == 504 and timed_out.value.type == PROBLEM + "timeout"
    found = await server.transactions().transaction(envelope.hash_hex()).call()
    assert found["successful"] and found["ledger"] <= net.network.latest_ledger["sequence"]
    # resubmitting the same envelope, as the 504's detail advises, cannot apply it twice
    net.faults.set(submission_timeout=None)
    status, body = await post_envelope(f"{net.horizon_url}/transactions_async", envelope.to_xdr())
    assert status == 400 and body["tx_status"] == "ERROR"


async def test_held_submission_gets_no_answer_but_applies(net, server, pair):
    payer, payee = pair
    envelope = await build(server, net.passphrase, payer, [Payment(payee.public_key, XLM, "3")])
    net.faults.set(submission_timeout={"hold": 0.2})
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientError):  # the server drops the connection without a response
            async with session.post(f"{net.horizon_url}/transactions", data={"tx": envelope.to_xdr()}) as response:
                await response.read()
    found = await server.transactions().transaction(envelope.hash_hex()).call()
    assert found["successful"]


async def test_rejected_submission_is_answered_even_when_timeouts_are_set(net, server, pair):
    payer, payee = pair
    bad_seq = await build(server, net.passphrase, payer, [Payment(payee.public_key, XLM, "1")], sequence_offset=9)
    net.faults.set(submission_timeout={"rate": 1.0})
    with pytest.raises(BadRequestError) as rejected:
        await server.submit_transaction(bad_seq, skip_memo_required_check=True)
    assert rejected.value.extras["result_codes"] == {"transaction": "tx_bad_seq"}
    assert net.faults.settings()["injected"]["submission_timeout"] == 0


# ----- dropped streams -----


async def pay(server, passphrase, payer, payee, times: int) -> None:
    for _ in range(times):
        await submit(server, passphrase, payer, [Payment(payee.public_key, XLM, "1")])


async def test_stream_dropped_on_demand_resumes_by_last_event_id_with_nothing_missed(net, server, pair):
    payer, payee = pair
    url = f"{net.horizon_url}/accounts/{payee.public_key}/payments"
    seen: list[tuple[str | None, dict | str]] = []
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params={"cursor": "0"}, headers=SSE) as first:
            await pay(server, net.passphrase, payer, payee, 2)
            seen += await read_sse(first, 3)  # the create_account and two payments
            assert net.faults.drop_streams() == 1
            with pytest.raises(aiohttp.ClientError):  # a reset, not a clean end of stream
                await read_sse(first, 1, timeout=5)
        await pay(server, net.passphrase, payer, payee, 2)  # while disconnected
        async with session.get(url, params={"cursor": "0"}, headers={**SSE, "Last-Event-ID": seen[-1][0]}) as again:
            await pay(server, net.passphrase, payer, payee, 1)
            seen += await read_sse(again, 3)
    history = await server.payments().for_account(payee.public_key).limit(200).call()
    tokens = [record["paging_token"] for record in history["_embedded"]["records"]]
    assert [event_id for event_id, _ in seen] == tokens and len(tokens) == 6
    assert net.faults.settings()["injected"]["stream_drop"] == 1


async def test_streams_dropped_every_n_seconds_and_sdk_resumes_by_cursor(net, server, pair):
    payer, payee = pair
    net.faults.set(stream_drop={"every": 0.3, "paths": ["/accounts/*/payments"]})
    ledgers = server.ledgers().cursor("now").stream()  # not matching: never dropped
    first_ledger = await next_event(ledgers)
    cursor, received, drops = "0", [], 0
    paying = asyncio.ensure_future(pay(server, net.passphrase, payer, payee, 8))
    while len(received) < 9:  # the create_account and eight payments, across several drops
        stream = server.payments().for_account(payee.public_key).cursor(cursor).stream()
        try:
            while len(received) < 9:
                record = await next_event(stream)
                received.append(record)
                cursor = record["paging_token"]
        except StreamClientError as dropped:
            drops += 1
            assert dropped.current_cursor == cursor  # the sdk reports where to resume
        finally:
            await stream.aclose()
    await paying
    assert drops >= 1
    history = await server.payments().for_account(payee.public_key).limit(200).call()
    assert [r["paging_token"] for r in received] == [r["paging_token"] for r in history["_embedded"]["records"]]
    assert (await next_event(ledgers))["sequence"] > first_ledger["sequence"]
    await ledgers.aclose()
    assert net.faults.settings()["injected"]["stream_drop"] >= drops


async def test_drop_streams_by_path(net):
    now = {"cursor": "now"}
    async with aiohttp.ClientSession() as session, \
            session.get(f"{net.horizon_url}/ledgers", params=now, headers=SSE) as ledgers, \
            session.get(f"{net.horizon_url}/trades", params=now, headers=SSE) as trades:
        await read_sse(ledgers, 1)
        await trades.content.readline()
        assert net.faults.settings()["open_streams"] == 2
        assert net.faults.drop_streams(["/trades"]) == 1
        with pytest.raises(aiohttp.ClientError):
            await read_sse(trades, 1, timeout=5)
        await read_sse(ledgers, 1)  # still open


# ----- a stalled ledger close -----


async def test_stalled_ledgers_close_nothing_until_released(net, server, pair):
    payer, payee = pair
    envelope = await build(server, net.passphrase, payer, [Payment(payee.public_key, XLM, "4")])
    net.faults.stall_ledgers()
    stalled_at = (await server.ledgers().order(desc=True).limit(1).call())["_embedded"]["records"][0]["sequence"]
    status, body = await post_envelope(f"{net.horizon_url}/transactions_async", envelope.to_xdr())
    assert status == 201 and body["tx_status"] == "PENDING"
    forced = asyncio.ensure_future(net.close_ledger())  # an explicit close waits as well
    await asyncio.sleep(0.4)  # eight ledger intervals
    assert not forced.done()
    latest = (await server.ledgers().order(desc=True).limit(1).call())["_embedded"]["records"][0]
    assert latest["sequence"] == stalled_at
    status, _, _ = await raw_get(f"{net.horizon_url}/transactions/{envelope.hash_hex()}")
    assert status == 404
    assert net.faults.settings()["ledger_stall"] is True
    net.faults.release_ledgers()
    closed = await asyncio.wait_for(forced, 5)
    assert closed["sequence"] > stalled_at
    found = await server.transactions().transaction(envelope.hash_hex()).call()
    assert found["successful"] and found["ledger"] > stalled_at


async def test_sync_submission_waits_through_a_stall(net, server, pair):
    payer, payee = pair
    net.faults.set(ledger_stall=True)
    submitting = asyncio.ensure_future(submit(server, net.passphrase, payer, [Payment(payee.public_key, XLM, "1")]))
    await asyncio.sleep(0.3)
    assert not submitting.done()
    net.faults.set(ledger_stall=False)
    assert (await asyncio.wait_for(submitting, 5))["successful"]


# ----- settings -----


async def test_settings_are_validated_before_anything_changes(manual_net):
    faults = manual_net.faults
    faults.set(latency=0.1)
    with pytest.raises(FaultSettingsError) as bad:
        faults.set(latency=0.5, errors={"rate": 1.5})
    assert bad.value.field == "errors.rate"
    assert faults.settings()["latency"]["seconds"] == 0.1 and faults.errors is None
    with pytest.raises(FaultSettingsError) as bad_stall:
        faults.set(latency=None, ledger_stall="yes")
    assert bad_stall.value.field == "ledger_stall" and faults.latency is not None
    cleared = faults.clear()
    assert all(cleared[kind] is None for kind in ("latency", "errors", "submission_timeout", "stream_drop"))
    assert cleared["ledger_stall"] is False
