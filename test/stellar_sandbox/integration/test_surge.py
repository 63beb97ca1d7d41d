"""Surge pricing a test drives (`POST /_sandbox/fees`, `net.set_surge`), as a client sees it over HTTP."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest
from stellar_sdk import Asset
from stellar_sdk import xdr as stellar_xdr
from stellar_sdk.exceptions import BadRequestError
from stellar_sdk.operation import Payment

from test.stellar_sandbox.integration.support import build, get_json
from test.waiting import wait_until

pytestmark = pytest.mark.integration

XLM = Asset.native()


async def post_json(url: str, body=None, method: str = "POST") -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.request(method, url, json=body) as response:
        return response.status, await response.json(content_type=None)


async def post_envelope(url: str, envelope_xdr: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.post(url, data={"tx": envelope_xdr}) as response:
        return response.status, await response.json(content_type=None)


async def test_surge_raises_what_a_low_bid_gets_and_fee_stats_show_it(net, server):
    payer, payee = await asyncio.gather(net.create_account(100), net.create_account(10))
    status, fees = await post_json(f"{net.horizon_url}/_sandbox/fees", {"surge_fee": 5000})
    assert status == 200 and fees == {"base_fee": 100, "surge_fee": 5000, "inclusion_fee": 5001}
    # a bid at the base fee: refused at once, with the fee it would need in the result
    low = await build(server, net.passphrase, payer, [Payment(payee.public_key, XLM, "1")], base_fee=100)
    status, body = await post_envelope(f"{net.horizon_url}/transactions_async", low.to_xdr())
    assert status == 400 and body["tx_status"] == "ERROR"
    result = stellar_xdr.TransactionResult.from_xdr(body["error_result_xdr"])
    assert result.result.code == stellar_xdr.TransactionResultCode.txINSUFFICIENT_FEE
    assert result.fee_charged.int64 == 5001
    status, again = await post_envelope(f"{net.horizon_url}/transactions_async", low.to_xdr())
    assert status == 503 and again["tx_status"] == "TRY_AGAIN_LATER"  # the refused hash is banned a while
    # the synchronous route says it as Horizon does
    other = await build(server, net.passphrase, payer, [Payment(payee.public_key, XLM, "2")], base_fee=3000)
    with pytest.raises(BadRequestError) as refused:
        await server.submit_transaction(other, skip_memo_required_check=True)
    assert refused.value.extras["result_codes"] == {"transaction": "tx_insufficient_fee"}
    # a bid above the surge gets in and pays the surge fee
    high = await build(server, net.passphrase, payer, [Payment(payee.public_key, XLM, "3")], base_fee=8000)
    applied = await server.submit_transaction(high, skip_memo_required_check=True)
    assert applied["fee_charged"] == "5000" and applied["max_fee"] == "8000"
    await wait_until(lambda: net.network.latest_ledger["sequence"] >= applied["ledger"] + 4,
                     what="four more full ledgers")
    stats = await server.fee_stats().call()
    assert stats["last_ledger_base_fee"] == "100"  # the ledger header's base fee does not surge
    assert stats["fee_charged"]["p50"] == stats["fee_charged"]["p99"] == "5000"
    assert stats["max_fee"]["mode"] == "5000" and stats["ledger_capacity_usage"] == "1.00"
    status, fees = await post_json(f"{net.horizon_url}/_sandbox/fees", method="DELETE")
    assert fees["surge_fee"] is None
    cheap = await build(server, net.passphrase, payer, [Payment(payee.public_key, XLM, "4")], base_fee=100)
    assert (await server.submit_transaction(cheap, skip_memo_required_check=True))["fee_charged"] == "100"


async def test_set_surge_in_process_and_bad_values(net):
    net.set_surge(1000)
    status, fees = await get_json(f"{net.horizon_url}/_sandbox/fees")
    assert status == 200 and fees["surge_fee"] == 1000
    await net.create_account(10)  # the helpers bid enough to get in
    for bad in ({"surge_fee": 50}, {"surge_fee": "high"}, {"fee": 1}):
        status, body = await post_json(f"{net.horizon_url}/_sandbox/fees", bad)
        assert status == 400 and body["extras"]["invalid_field"] in ("surge_fee", "fee")
    assert net.network.surge_fee == 1000
