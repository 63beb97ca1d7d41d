"""The minimal Stellar RPC through stellar-sdk's SorobanServerAsync and raw JSON-RPC."""
from __future__ import annotations

import asyncio
from calendar import timegm
from time import strptime

import aiohttp
import pytest
from stellar_sdk import Account, Asset, SorobanServerAsync, TransactionBuilder, TransactionEnvelope
from stellar_sdk.client.aiohttp_client import AiohttpClient
from stellar_sdk.operation import Payment
from stellar_sdk.soroban_rpc import GetTransactionStatus, SendTransactionStatus
from stellar_sdk.xdr import TransactionResult, TransactionResultCode

from stellar_sandbox import Sandbox
from test.waiting import wait_until

pytestmark = pytest.mark.integration

XLM = Asset.native()


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def calendar_seconds(iso: str) -> int:
    return timegm(strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


@pytest.fixture
async def rpc(net):
    async with SorobanServerAsync(net.rpc_url, client=AiohttpClient()) as client:
        yield client


async def test_health_network_and_latest_ledger(net, rpc):
    await net.create_account(10)
    health = await rpc.get_health()
    assert health.status == "healthy"
    assert health.oldest_ledger == 1 and health.latest_ledger >= 2
    assert health.ledger_retention_window == health.latest_ledger - health.oldest_ledger + 1
    network = await rpc.get_network()
    assert network.passphrase == "Standalone Network ; February 2017" and network.protocol_version > 0
    latest = await rpc.get_latest_ledger()
    ledger = net.network.history.ledger(latest.sequence)
    assert latest.id == ledger["hash"] and latest.protocol_version == network.protocol_version
    assert latest.close_time > 1_700_000_000


async def test_fee_stats_count_recent_transactions(net, rpc):
    await net.create_account(10)
    stats = await rpc.get_fee_stats()
    assert stats.inclusion_fee.transaction_count >= 1
    assert stats.inclusion_fee.p50 == 100 and stats.inclusion_fee.max == 100
    assert stats.inclusion_fee.ledger_count >= 1 and stats.latest_ledger >= 2
    assert stats.soroban_inclusion_fee.transaction_count == 0


async def test_json_rpc_errors_and_batches(net):
    async with aiohttp.ClientSession() as session:
        async def call(body) -> object:
            async with session.post(f"{net.horizon_url}/soroban/rpc", json=body) as response:
                return await response.json()

        unknown = await call({"jsonrpc": "2.0", "id": 7, "method": "simulateTransaction"})
        assert unknown == {"jsonrpc": "2.0", "id": 7, "error": {"code": -32601, "message": "method not found"}}
        invalid = await call({"id": 1, "method": "getHealth"})
        assert invalid["error"]["code"] == -32600
        batch = await call([{"jsonrpc": "2.0", "id": 1, "method": "getHealth"},
                            {"jsonrpc": "2.0", "id": 2, "method": "getNetwork"}])
        assert [answer["id"] for answer in batch] == [1, 2] and batch[0]["result"]["status"] == "healthy"
        async with session.post(f"{net.horizon_url}/rpc", data=b"{not json") as response:
            assert (await response.json())["error"]["code"] == -32700


# ----- sendTransaction and getTransaction -----


def payment_envelope(net, source, destination: str, sequence_offset: int = 0, asset: Asset = XLM,
                     amount: str = "1") -> TransactionEnvelope:
    account = Account(source.public_key, net.network.state.account(source.public_key).seq_num + sequence_offset)
    envelope = (TransactionBuilder(account, net.passphrase, base_fee=100).add_time_bounds(0, 0)
                .append_operation(Payment(destination, asset, amount)).build())
    envelope.sign(source)
    return envelope


async def rpc_call(url: str, method: str, params=None) -> dict:
    body = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        body["params"] = params
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        return await response.json()


async def test_send_and_get_transaction_with_each_status(manual_net):
    net = manual_net
    payer, payee = net.network.create_funded_account(100), net.network.create_funded_account(10)
    envelope = payment_envelope(net, payer, payee.public_key)
    async with SorobanServerAsync(net.rpc_url, client=AiohttpClient()) as rpc:
        missing = await rpc.get_transaction(envelope.hash_hex())
        assert missing.status == GetTransactionStatus.NOT_FOUND and missing.ledger == 0
        latest = net.network.latest_ledger["sequence"]
        assert missing.latest_ledger == latest and missing.oldest_ledger == 1
        sent = await rpc.send_transaction(envelope)
        assert sent.status == SendTransactionStatus.PENDING and sent.hash == envelope.hash_hex()
        assert sent.latest_ledger == latest and sent.latest_ledger_close_time > 1_700_000_000
        assert (await rpc.send_transaction(envelope)).status == SendTransactionStatus.DUPLICATE
        second = payment_envelope(net, payer, payee.public_key, sequence_offset=1)
        assert (await rpc.send_transaction(second)).status == SendTransactionStatus.TRY_AGAIN_LATER
        assert (await rpc.get_transaction(envelope.hash_hex())).status == GetTransactionStatus.NOT_FOUND  # pending
        await net.close_ledger()
        found = await rpc.get_transaction(envelope.hash_hex())
        assert found.status == GetTransactionStatus.SUCCESS and found.ledger == latest + 1
        assert found.envelope_xdr == envelope.to_xdr() and found.application_order == 1 and found.fee_bump is False
        assert TransactionResult.from_xdr(found.result_xdr).result.code == TransactionResultCode.txSUCCESS
        assert found.create_at == calendar_seconds(net.network.latest_ledger["closed_at"])
        replayed = await rpc.send_transaction(envelope)  # its sequence number is spent
        assert replayed.status == SendTransactionStatus.ERROR
        assert TransactionResult.from_xdr(replayed.error_result_xdr).result.code == TransactionResultCode.txBAD_SEQ
        untrusted = Asset("USD", payer.public_key)  # payee holds no trustline: fails when applied
        failing = payment_envelope(net, payer, payee.public_key, asset=untrusted)
        assert (await rpc.send_transaction(failing)).status == SendTransactionStatus.PENDING
        await net.close_ledger()
        failed = await rpc.get_transaction(failing.hash_hex())
        assert failed.status == GetTransactionStatus.FAILED
        assert TransactionResult.from_xdr(failed.result_xdr).result.code == TransactionResultCode.txFAILED


async def test_send_and_get_transaction_raw_shapes_and_errors(manual_net):
    net = manual_net
    payer, payee = net.network.create_funded_account(100), net.network.create_funded_account(10)
    envelope = payment_envelope(net, payer, payee.public_key)
    missing = (await rpc_call(net.rpc_url, "getTransaction", {"hash": envelope.hash_hex()}))["result"]
    assert set(missing) == {"latestLedger", "latestLedgerCloseTime", "oldestLedger", "oldestLedgerCloseTime",
                            "status", "txHash", "applicationOrder", "feeBump", "events", "ledger", "createdAt"}
    assert isinstance(missing["latestLedgerCloseTime"], str) and missing["createdAt"] == "0"
    sent = (await rpc_call(net.rpc_url, "sendTransaction", {"transaction": envelope.to_xdr()}))["result"]
    assert set(sent) == {"status", "hash", "latestLedger", "latestLedgerCloseTime"}
    await net.close_ledger()
    found = (await rpc_call(net.rpc_url, "getTransaction", {"hash": envelope.hash_hex()}))["result"]
    assert {"envelopeXdr", "resultXdr", "resultMetaXdr"} <= set(found) and isinstance(found["createdAt"], str)
    for method, params, message in [
        ("sendTransaction", {"transaction": "bm90IHhkcg=="}, "invalid_xdr"),
        ("getTransaction", {"hash": "abc"}, "unexpected hash length (3)"),
        ("getTransaction", [envelope.hash_hex()], None),  # by name only, as stellar-rpc
        ("sendTransaction", {}, None),
    ]:
        error = (await rpc_call(net.rpc_url, method, params))["error"]
        assert error["code"] == -32602 and (message is None or error["message"] == message)


async def test_health_fails_when_the_last_ledger_is_too_old():
    clock = Clock()
    async with Sandbox(ledger_interval=None, network_options={"clock": clock}) as net:
        health = (await rpc_call(net.rpc_url, "getHealth"))["result"]
        assert health["status"] == "healthy" and health["latestLedgerCloseTime"] == int(clock.now)
        clock.now += 31  # stellar-rpc's default max healthy ledger latency is 30 s
        error = (await rpc_call(net.rpc_url, "getHealth"))["error"]
        assert error["code"] == -32603 and "since last known ledger closed is too high" in error["message"]


async def test_an_rpc_frontend_stays_up_when_horizon_goes_down_and_the_reverse():
    async with Sandbox(ledger_interval=0.05, rpcs=1) as net:
        horizon, rpc_only = net.frontends
        assert rpc_only.kind == "rpc" and net.rpc_urls == [horizon.rpc_url, rpc_only.rpc_url]
        assert (await rpc_call(rpc_only.url + "/", "getHealth"))["result"]["status"] == "healthy"  # "/" as stellar-rpc
        async with aiohttp.ClientSession() as session, session.get(rpc_only.url + "/ledgers") as response:
            assert response.status in (404, 405)  # no Horizon there
        payer, payee = await asyncio.gather(net.create_account(100), net.create_account(10))
        horizon.faults.set(down=True)
        envelope = payment_envelope(net, payer, payee.public_key)
        sent = (await rpc_call(rpc_only.rpc_url, "sendTransaction", {"transaction": envelope.to_xdr()}))["result"]
        assert sent["status"] == "PENDING"
        await wait_until(lambda: net.network.transaction(envelope.hash_hex()), what="the payment applied")
        found = (await rpc_call(rpc_only.rpc_url, "getTransaction", {"hash": envelope.hash_hex()}))["result"]
        assert found["status"] == "SUCCESS"
        await horizon.bring_up()
        rpc_only.faults.set(down=True)
        with pytest.raises(aiohttp.ClientConnectorError):
            await rpc_call(rpc_only.rpc_url, "getHealth")
        assert (await rpc_call(horizon.rpc_url, "getTransaction", {"hash": envelope.hash_hex()}))["result"][
            "status"] == "SUCCESS"


async def test_a_lagging_rpc_finds_a_transaction_once_it_ingests_its_ledger():
    async with Sandbox(ledger_interval=None, horizons=2) as net:
        payer, payee = net.network.create_funded_account(100), net.network.create_funded_account(10)
        lagging = net.frontends[1]
        lagging.faults.set(lag=1)
        envelope = payment_envelope(net, payer, payee.public_key)
        sent = (await rpc_call(lagging.rpc_url, "sendTransaction", {"transaction": envelope.to_xdr()}))["result"]
        assert sent["status"] == "PENDING"
        await net.close_ledger()
        assert (await rpc_call(net.rpc_url, "getTransaction", {"hash": envelope.hash_hex()}))["result"][
            "status"] == "SUCCESS"
        behind = (await rpc_call(lagging.rpc_url, "getTransaction", {"hash": envelope.hash_hex()}))["result"]
        assert behind["status"] == "NOT_FOUND" and behind["latestLedger"] == sent["latestLedger"]
        await net.close_ledger()
        assert (await rpc_call(lagging.rpc_url, "getTransaction", {"hash": envelope.hash_hex()}))["result"][
            "status"] == "SUCCESS"
        latest = (await rpc_call(lagging.rpc_url, "getLatestLedger"))["result"]
        assert latest["sequence"] == net.network.latest_ledger["sequence"] - 1
