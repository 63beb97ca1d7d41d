"""`GET /accounts/{id}` as a stream: the whole account at once, then again after each ledger that changed it."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest
from stellar_sdk import Asset
from stellar_sdk.operation import ManageSellOffer, Payment

from stellar_sandbox import Sandbox
from test.stellar_sandbox.integration.support import next_event, read_sse, submit

pytestmark = pytest.mark.integration

XLM = Asset.native()
SSE = {"Accept": "text/event-stream"}


def native(account: dict) -> dict:
    return next(balance for balance in account["balances"] if balance["asset_type"] == "native")


async def test_account_stream_sends_the_account_then_each_change(net, server):
    payer, payee, bystander = await asyncio.gather(net.create_account(100), net.create_account(10),
                                                   net.create_account(10))
    usd = await net.issue_asset("USD")
    async with aiohttp.ClientSession() as session, session.get(f"{net.horizon_url}/accounts/{payee.public_key}",
                                                               headers=SSE) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        (event_id, first), = await read_sse(stream, 1)  # at once, as Horizon's streamable object
        assert event_id is None and first["id"] == payee.public_key and native(first)["balance"] == "10.0000000"
        assert first["_links"]["self"]["href"].endswith(f"/accounts/{payee.public_key}")
        await submit(server, net.passphrase, payer, [Payment(bystander.public_key, XLM, "1")])  # not this account
        await submit(server, net.passphrase, payer, [Payment(payee.public_key, XLM, "2")])
        (_, paid), = await read_sse(stream, 1)  # the bystander's ledger sent nothing
        assert native(paid)["balance"] == "12.0000000" and paid["sequence"] == first["sequence"]
        await net.trust_and_fund(payee, usd, "50")
        (_, trusting), = await read_sse(stream, 1)
        assert trusting["subentry_count"] == 1 and int(trusting["sequence"]) == int(first["sequence"]) + 1
        assert trusting["balances"][0]["asset_code"] == "USD" and trusting["balances"][0]["balance"] == "50.0000000"
        await submit(server, net.passphrase, payee, [ManageSellOffer(usd, XLM, "20", "1")])
        (_, offering), = await read_sse(stream, 1)
        assert offering["subentry_count"] == 2
        assert offering["balances"][0]["selling_liabilities"] == "20.0000000"
        assert native(offering)["buying_liabilities"] == "20.0000000"


async def test_sdk_account_stream(net, server):
    payer, payee = await asyncio.gather(net.create_account(100), net.create_account(10))
    stream = server.accounts().account_id(payee.public_key).stream()
    assert native(await next_event(stream))["balance"] == "10.0000000"
    await submit(server, net.passphrase, payer, [Payment(payee.public_key, XLM, "1")])
    assert native(await next_event(stream))["balance"] == "11.0000000"
    await stream.aclose()


async def test_missing_account_stream_is_a_404_before_the_stream_opens(net):
    async with aiohttp.ClientSession() as session, session.get(
            f"{net.horizon_url}/accounts/GAAZI4TCR3TY5OJHCTJC2A4QSY6CJWJH5IAJTGKIN2ER7LBNVKOCCWN7",
            headers=SSE) as response:
        assert response.status == 404 and "problem+json" in response.headers["Content-Type"]


async def test_object_streams_end_after_horizons_limit_when_asked():
    async with Sandbox(ledger_interval=0.05, object_stream_limit=2) as net:
        payee = await net.create_account(10)
        async with aiohttp.ClientSession() as session, session.get(
                f"{net.horizon_url}/accounts/{payee.public_key}", headers=SSE) as stream:
            await read_sse(stream, 1)
            await net.fund(payee.public_key, 1)
            await read_sse(stream, 1)
            assert (await stream.content.read()).decode().endswith('event: close\ndata: "byebye"\n\n')
