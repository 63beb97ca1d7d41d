"""The minimal Stellar RPC through stellar-sdk's SorobanServerAsync and raw JSON-RPC."""
from __future__ import annotations

import aiohttp
import pytest
from stellar_sdk import SorobanServerAsync
from stellar_sdk.client.aiohttp_client import AiohttpClient

pytestmark = pytest.mark.integration


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
