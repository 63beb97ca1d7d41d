"""Market activity with the pair's liquidity pool: providers deposit and withdraw, takes reach the pool;
without `pool_depth` no pool appears at all (the default every existing demo and benchmark runs)."""
from __future__ import annotations

import pytest

from stellar_sandbox.market.activity import MarketSettingsError
from test.stellar_sandbox.integration.test_market_activity import ParticipantOperations
from test.waiting import wait_until

pytestmark = pytest.mark.integration


async def test_pool_providers_and_pool_trades(net, server):
    counted = ParticipantOperations(net)
    stats = await net.market.start(rate=100, participants=8, take_share=0.4, seed=3, pool_depth=1000)
    pool_id = stats["pool"]["id"]
    assert stats["providers"] >= 1 and stats["pool"]["total_shares"] == "1000.0000000"  # sqrt(1000 x 1000)
    await wait_until(lambda: counted.by_type.get("liquidity_pool_deposit", 0) >= 2
                     and counted.by_type.get("liquidity_pool_withdraw", 0) >= 1, timeout=20)
    await wait_until(lambda: net.network.history.trades_page(liquidity_pool=pool_id, limit=1) != [], timeout=20)
    await net.market.stop()
    pool = await server.liquidity_pools().liquidity_pool(pool_id).call()
    assert int(pool["total_trustlines"]) == stats["providers"]
    trades = await server.trades().for_liquidity_pool(pool_id).call()
    assert all(t["trade_type"] == "liquidity_pool" for t in trades["_embedded"]["records"])
    net.network.state.check_invariants()


async def test_no_pool_unless_asked(net):
    stats = await net.market.start(rate=20, participants=4, seed=1)
    await net.market.stop()
    assert stats["pool"] is None and stats["providers"] == 0 and net.network.state.pools == {}
    with pytest.raises(MarketSettingsError) as error:
        await net.market.start(rate=20, pool_depth=-1)
    assert error.value.field == "pool_depth"
