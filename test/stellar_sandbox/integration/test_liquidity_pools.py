"""Liquidity pools over real HTTP: transactions signed by stellar-sdk, read back through Horizon's pool
endpoints, accounts, operations, effects and trades; every result code of the pool operations."""
from __future__ import annotations

import pytest
from stellar_sdk import (
    Asset,
    ChangeTrust,
    LiquidityPoolAsset,
    LiquidityPoolDeposit,
    LiquidityPoolWithdraw,
    PathPaymentStrictSend,
    Payment,
    Price,
)

from stellar_sandbox.core.pools import pool_payout
from test.recorded_horizon import POOL, operation_id_of
from test.stellar_sandbox.integration.support import expect_failure, get_json, submit

pytestmark = pytest.mark.integration
XLM = Asset.native()
WIDE = (Price(1, 1_000_000), Price(1_000_000, 1))
STROOPS = 10_000_000


async def pool_with_liquidity(net, server, xlm: str = "1000", usd_amount: str = "2000"):
    """USD, a provider holding the pool's only shares after one deposit, the pool asset."""
    usd = await net.issue_asset("USD")
    provider = await net.create_account(100_000)
    await net.trust_and_fund(provider, usd, "100000")
    pool = LiquidityPoolAsset(XLM, usd)
    await submit(server, net.passphrase, provider, [
        ChangeTrust(pool), LiquidityPoolDeposit(pool.liquidity_pool_id, xlm, usd_amount, *WIDE)])
    return usd, provider, pool


def codes(error) -> list[str]:
    return error.extras["result_codes"]["operations"]


async def test_deposit_and_withdraw_read_back_exactly(net, server):
    usd, provider, pool = await pool_with_liquidity(net, server)
    pool_id = pool.liquidity_pool_id
    record = await server.liquidity_pools().liquidity_pool(pool_id).call()
    assert record["id"] == record["paging_token"] == pool_id
    assert (record["fee_bp"], record["type"], record["total_trustlines"]) == (30, "constant_product", "1")
    assert record["total_shares"] == "1414.2135623"  # floor(sqrt(1000e7 * 2000e7)) stroops
    assert record["reserves"] == [{"asset": "native", "amount": "1000.0000000"},
                                  {"asset": f"USD:{usd.issuer}", "amount": "2000.0000000"}]
    operations_link = record["_links"]["operations"]["href"]
    assert operations_link.endswith(f"/liquidity_pools/{pool_id}/operations{{?cursor,limit,order}}")
    account = await server.accounts().account_id(provider.public_key).call()
    [shares] = [b for b in account["balances"] if b["asset_type"] == "liquidity_pool_shares"]
    assert shares["liquidity_pool_id"] == pool_id and shares["balance"] == "1414.2135623"
    assert account["subentry_count"] == 3  # the USD line and the pool-share line (two)

    await submit(server, net.passphrase, provider, [LiquidityPoolWithdraw(pool_id, "100", "70.7106781", "141.4213562")])
    after = await server.liquidity_pools().liquidity_pool(pool_id).call()
    # withdrawing 100 of 1414.2135623 shares pays floor(100e7 * 1000e7 / 14142135623) XLM and twice that in USD
    assert after["reserves"] == [{"asset": "native", "amount": "929.2893219"},
                                 {"asset": f"USD:{usd.issuer}", "amount": "1858.5786438"}]
    assert after["total_shares"] == "1314.2135623"

    operations = (await server.operations().for_liquidity_pool(pool_id).call())["_embedded"]["records"]
    assert [op["type"] for op in operations] == ["change_trust", "liquidity_pool_deposit", "liquidity_pool_withdraw"]
    change_trust, deposit, withdraw = operations
    assert change_trust["asset_type"] == "liquidity_pool_shares" and change_trust["liquidity_pool_id"] == pool_id
    assert deposit["reserves_deposited"] == [{"asset": "native", "amount": "1000.0000000"},
                                             {"asset": f"USD:{usd.issuer}", "amount": "2000.0000000"}]
    assert deposit["shares_received"] == "1414.2135623" and deposit["min_price"] == "0.0000010"
    assert deposit["max_price_r"] == {"n": 1_000_000, "d": 1}
    assert withdraw["shares"] == "100.0000000"
    assert withdraw["reserves_received"][0] == {"asset": "native", "amount": "70.7106781"}
    assert withdraw["reserves_min"][1] == {"asset": f"USD:{usd.issuer}", "amount": "141.4213562"}
    effects = (await server.effects().for_liquidity_pool(pool_id).call())["_embedded"]["records"]
    assert [e["type"] for e in effects] == ["trustline_created", "liquidity_pool_created",
                                            "liquidity_pool_deposited", "liquidity_pool_withdrew"]
    assert effects[2]["shares_received"] == "1414.2135623" and effects[2]["type_i"] == 90
    assert effects[3]["liquidity_pool"]["total_shares"] == "1314.2135623"
    transactions = (await server.transactions().for_liquidity_pool(pool_id).call())["_embedded"]["records"]
    assert len(transactions) == 2 and all(t["successful"] for t in transactions)


async def test_pool_lists_filter_by_reserves_and_account(net, server):
    usd, provider, pool = await pool_with_liquidity(net, server)
    eur = await net.issue_asset("EUR")
    await net.trust_and_fund(provider, eur, "1000")
    other = LiquidityPoolAsset(XLM, eur)
    await submit(server, net.passphrase, provider, [ChangeTrust(other)])
    stranger = await net.create_account(100)

    def ids(page: dict) -> list[str]:
        return [record["id"] for record in page["_embedded"]["records"]]

    everything = await server.liquidity_pools().call()
    assert ids(everything) == sorted([pool.liquidity_pool_id, other.liquidity_pool_id])
    assert ids(await server.liquidity_pools().for_reserves([usd]).call()) == [pool.liquidity_pool_id]
    assert ids(await server.liquidity_pools().for_reserves([XLM, eur]).call()) == [other.liquidity_pool_id]
    assert ids(await server.liquidity_pools().for_reserves([usd, eur]).call()) == []
    assert len(ids(await server.liquidity_pools().for_account(provider.public_key).call())) == 2
    assert ids(await server.liquidity_pools().for_account(stranger.public_key).call()) == []
    first = await server.liquidity_pools().limit(1).call()
    second = await get_json(first["_links"]["next"]["href"])
    assert ids(first) + ids(second[1]) == ids(everything)
    status, problem = await get_json(f"{net.horizon_url}/liquidity_pools", reserves="USD")
    assert status == 400 and problem["extras"]["invalid_field"] == "reserves"
    status, _ = await get_json(f"{net.horizon_url}/liquidity_pools/{'0' * 64}")
    assert status == 404
    status, problem = await get_json(f"{net.horizon_url}/liquidity_pools/nothex")
    assert status == 400 and problem["extras"]["invalid_field"] == "liquidity_pool_id"


async def test_pool_trades_and_the_trade_type_filter(net, server):
    usd, provider, pool = await pool_with_liquidity(net, server)
    taker = await net.create_account(1000)
    await net.trust_and_fund(taker, usd, "1")
    await submit(server, net.passphrase, taker, [PathPaymentStrictSend(taker.public_key, XLM, "10", usd, "1", [])])
    [trade] = (await server.trades().for_liquidity_pool(pool.liquidity_pool_id).call())["_embedded"]["records"]
    payout = pool_payout(1000 * STROOPS, 2000 * STROOPS, 10 * STROOPS)
    assert trade["trade_type"] == "liquidity_pool" and trade["liquidity_pool_fee_bp"] == 30
    assert trade["counter_liquidity_pool_id"] == pool.liquidity_pool_id
    assert trade["counter_amount"] == f"{payout / STROOPS:.7f}" and trade["base_amount"] == "10.0000000"
    assert trade["_links"]["counter"]["href"].endswith(f"/liquidity_pools/{pool.liquidity_pool_id}")
    assert trade["base_account"] == taker.public_key and trade["price"] == {"n": str(payout), "d": "100000000"}
    # The fields mainnet's Horizon wrote for such a trade (a taker selling XLM to a pool), and its ids' rule.
    assert (set(trade), set(trade["_links"])) == (set(POOL), set(POOL["_links"]))
    assert {type(part) for part in trade["price"].values()} == {type(part) for part in POOL["price"].values()}
    operation_id = operation_id_of(trade)
    assert trade["id"] == f"{operation_id}-0" and trade["base_offer_id"] == str(operation_id | 1 << 62)
    pool_trades = await server.trades().for_trade_type("liquidity_pool").call()
    book_trades = await server.trades().for_trade_type("orderbook").call()
    assert len(pool_trades["_embedded"]["records"]) == 1 and book_trades["_embedded"]["records"] == []
    pair = await server.trades().for_asset_pair(usd, XLM).call()
    assert pair["_embedded"]["records"][0]["base_liquidity_pool_id"] == pool.liquidity_pool_id  # USD as base
    status, problem = await get_json(f"{net.horizon_url}/trades", liquidity_pool_id=pool.liquidity_pool_id,
                                     trade_type="orderbook")
    assert status == 400 and problem["extras"]["invalid_field"] == "trade_type"
    effects = (await server.effects().for_account(taker.public_key).call())["_embedded"]["records"]
    [pool_trade] = [e for e in effects if e["type"] == "liquidity_pool_trade"]
    assert pool_trade["sold"] == {"asset": f"USD:{usd.issuer}", "amount": trade["counter_amount"]}


async def test_change_trust_result_codes(net, server):
    usd = await net.issue_asset("USD")
    pool = LiquidityPoolAsset(XLM, usd)
    alice = await net.create_account("2.4")
    error = await expect_failure(server, net.passphrase, alice, [ChangeTrust(pool)])
    assert codes(error) == ["op_trust_line_missing"]
    await submit(server, net.passphrase, alice, [ChangeTrust(usd)])
    error = await expect_failure(server, net.passphrase, alice, [ChangeTrust(pool)])
    assert codes(error) == ["op_low_reserve"]  # 2.4 XLM - 1.5 reserved - fees < the pool line's 2 x 0.5
    await net.fund(alice.public_key, "10")
    # the sandbox has no AllowTrust: the issuer's revocation to "maintain liabilities only" is set in its ledger
    usd_line = net.network.state.mut_trustline(alice.public_key, f"USD:{usd.issuer}")
    usd_line.flags = 0
    error = await expect_failure(server, net.passphrase, alice, [ChangeTrust(pool)])
    assert codes(error) == ["op_not_aut_maintain_liabilities"]
    net.network.state.mut_trustline(alice.public_key, f"USD:{usd.issuer}").flags = 1
    await submit(server, net.passphrase, alice, [ChangeTrust(pool)])
    error = await expect_failure(server, net.passphrase, alice, [ChangeTrust(usd, "0")])
    assert codes(error) == ["op_cannot_delete"]
    bad_fee = ChangeTrust(pool)
    envelope_error = await expect_failure(server, net.passphrase, alice, [_with_fee(bad_fee, 31)])
    assert codes(envelope_error) == ["op_malformed"]


def _with_fee(operation: ChangeTrust, fee: int) -> ChangeTrust:
    """A ChangeTrust whose pool parameters carry another fee (stellar-sdk refuses to build one)."""
    operation.asset.fee = fee
    return operation


async def test_deposit_and_withdraw_result_codes(net, server):
    usd = await net.issue_asset("USD")
    pool = LiquidityPoolAsset(XLM, usd)
    pool_id = pool.liquidity_pool_id
    alice = await net.create_account(1000)
    await net.trust_and_fund(alice, usd, "500")

    async def deposit_code(xlm: str, dollars: str, low: Price = WIDE[0], high: Price = WIDE[1]) -> list[str]:
        return codes(await expect_failure(server, net.passphrase, alice,
                                          [LiquidityPoolDeposit(pool_id, xlm, dollars, low, high)]))

    async def withdraw_code(shares: str, min_xlm: str = "0", min_usd: str = "0") -> list[str]:
        return codes(await expect_failure(server, net.passphrase, alice,
                                          [LiquidityPoolWithdraw(pool_id, shares, min_xlm, min_usd)]))

    assert await deposit_code("10", "10") == ["op_no_trust"]
    assert await withdraw_code("1") == ["op_no_trust"]
    await submit(server, net.passphrase, alice, [ChangeTrust(pool, "100")])
    assert await deposit_code("10", "600") == ["op_underfunded"]
    assert await deposit_code("10", "20", Price(1, 1), Price(2, 1)) == ["op_bad_price"]
    assert await deposit_code("100", "200") == ["op_line_full"]
    assert await deposit_code("10", "20", Price(2, 1), Price(1, 1)) == ["op_malformed"]
    await submit(server, net.passphrase, alice, [LiquidityPoolDeposit(pool_id, "10", "40", Price(1, 4), Price(1, 4))])
    assert await withdraw_code("20.0000001") == ["op_underfunded"]  # holds sqrt(10 * 40) = 20 shares
    assert await withdraw_code("10", "5.0000001") == ["op_under_minimum"]
    net.network.state.mut_trustline(alice.public_key, f"USD:{usd.issuer}").flags = 2  # maintain liabilities only
    assert await deposit_code("1", "4") == ["op_not_authorized"]
    net.network.state.mut_trustline(alice.public_key, f"USD:{usd.issuer}").flags = 1
    await submit(server, net.passphrase, alice, [Payment(usd.issuer, usd, "460")])
    await submit(server, net.passphrase, alice, [ChangeTrust(usd, "0.0000001")])  # holds 0: room for 1 stroop
    assert await withdraw_code("10") == ["op_line_full"]
    assert await withdraw_code("0") == ["op_malformed"]
    account = await server.accounts().account_id(alice.public_key).call()
    [shares] = [b for b in account["balances"] if b["asset_type"] == "liquidity_pool_shares"]
    assert shares["balance"] == "20.0000000"  # none of the failures moved a share


async def test_the_sandbox_helper_provides_liquidity(net, server):
    usd = await net.issue_asset("USD")
    provider = await net.create_account(10_000)
    await net.trust_and_fund(provider, usd, "1000")
    pool_id = await net.provide_liquidity(provider, usd, "400", XLM, "100")  # either order
    assert pool_id == LiquidityPoolAsset(XLM, usd).liquidity_pool_id
    assert await net.provide_liquidity(provider, XLM, "10", usd, "100") == pool_id  # trusts only once
    record = await server.liquidity_pools().liquidity_pool(pool_id).call()
    # the second deposit is proportional: 10 XLM bind, 40 USD follow
    assert record["reserves"] == [{"asset": "native", "amount": "110.0000000"},
                                  {"asset": f"USD:{usd.issuer}", "amount": "440.0000000"}]
