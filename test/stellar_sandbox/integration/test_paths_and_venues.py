"""Path payments over real HTTP where the book wins, where the pool wins and where only one venue can fill
the hop (amounts exactly as the protocol rounds them), and the path-finding and asset endpoints."""
from __future__ import annotations

import base64
import hashlib

import pytest
from stellar_sdk import (
    Asset,
    ChangeTrust,
    LiquidityPoolAsset,
    LiquidityPoolDeposit,
    ManageSellOffer,
    PathPaymentStrictReceive,
    PathPaymentStrictSend,
    Price,
    xdr,
)

from stellar_sandbox.core.pools import pool_cost, pool_payout
from test.stellar_sandbox.integration.support import get_json, operation_results, submit

pytestmark = pytest.mark.integration
XLM = Asset.native()
STROOPS = 10_000_000
WIDE = (Price(1, 1_000_000), Price(1_000_000, 1))


def units(stroops: int) -> str:
    return f"{stroops // STROOPS}.{stroops % STROOPS:07d}"


async def market(net, server, pool: bool = True):
    """USD; a pool of 1000 XLM / 2000 USD (if `pool`); a maker holding USD; a taker with an empty USD line."""
    usd = await net.issue_asset("USD")
    maker = await net.create_account(100_000)
    await net.trust_and_fund(maker, usd, "100000")
    if pool:
        pool_asset = LiquidityPoolAsset(XLM, usd)
        await submit(server, net.passphrase, maker, [
            ChangeTrust(pool_asset), LiquidityPoolDeposit(pool_asset.liquidity_pool_id, "1000", "2000", *WIDE)])
    taker = await net.create_account(1000)
    await submit(server, net.passphrase, taker, [ChangeTrust(usd)])
    return usd, maker, taker


async def usd_balance(server, account_id: str) -> str:
    account = await server.accounts().account_id(account_id).call()
    return next(b["balance"] for b in account["balances"] if b.get("asset_code") == "USD")


def claim_types(result_xdr: str) -> list[xdr.ClaimAtomType]:
    [result] = operation_results(result_xdr)
    inner = result.tr.path_payment_strict_send_result or result.tr.path_payment_strict_receive_result
    return [atom.type for atom in inner.success.offers]


async def test_the_pool_wins_a_strict_send(net, server):
    usd, maker, taker = await market(net, server)
    await submit(server, net.passphrase, maker, [ManageSellOffer(usd, XLM, "500", "0.6")])  # 1.67 USD/XLM
    payment = PathPaymentStrictSend(taker.public_key, XLM, "10", usd, "1", [])
    sent = await submit(server, net.passphrase, taker, [payment])
    payout = pool_payout(1000 * STROOPS, 2000 * STROOPS, 10 * STROOPS)
    assert await usd_balance(server, taker.public_key) == units(payout) == "19.7431606"
    assert claim_types(sent["result_xdr"]) == [xdr.ClaimAtomType.CLAIM_ATOM_TYPE_LIQUIDITY_POOL]
    [operation] = (await server.operations().for_transaction(sent["hash"]).call())["_embedded"]["records"]
    assert operation["amount"] == "19.7431606" and operation["source_amount"] == "10.0000000"


async def test_the_book_wins_a_strict_receive(net, server):
    usd, maker, taker = await market(net, server)
    await submit(server, net.passphrase, maker, [ManageSellOffer(usd, XLM, "500", "0.4")])  # 2.5 USD/XLM
    sent = await submit(server, net.passphrase, taker, [
        PathPaymentStrictReceive(taker.public_key, XLM, "100", usd, "20", [])])
    assert await usd_balance(server, taker.public_key) == "20.0000000"
    assert claim_types(sent["result_xdr"]) == [xdr.ClaimAtomType.CLAIM_ATOM_TYPE_ORDER_BOOK]
    [operation] = (await server.operations().for_transaction(sent["hash"]).call())["_embedded"]["records"]
    assert operation["source_amount"] == "8.0000000"  # 20 USD at 0.4 XLM each
    pool = (await server.liquidity_pools().call())["_embedded"]["records"][0]
    assert pool["reserves"][0]["amount"] == "1000.0000000"  # untouched


async def test_only_the_pool_can_fill_a_strict_receive(net, server):
    usd, _, taker = await market(net, server)
    sent = await submit(server, net.passphrase, taker, [
        PathPaymentStrictReceive(taker.public_key, XLM, "100", usd, "20", [])])
    cost = pool_cost(1000 * STROOPS, 2000 * STROOPS, 20 * STROOPS)
    [operation] = (await server.operations().for_transaction(sent["hash"]).call())["_embedded"]["records"]
    assert operation["source_amount"] == units(cost) == "10.1314044"


async def test_only_the_book_can_fill_without_a_pool(net, server):
    usd, maker, taker = await market(net, server, pool=False)
    await submit(server, net.passphrase, maker, [ManageSellOffer(usd, XLM, "500", "0.6")])
    payment = PathPaymentStrictSend(taker.public_key, XLM, "6", usd, "1", [])
    sent = await submit(server, net.passphrase, taker, [payment])
    assert await usd_balance(server, taker.public_key) == "10.0000000"
    assert claim_types(sent["result_xdr"]) == [xdr.ClaimAtomType.CLAIM_ATOM_TYPE_ORDER_BOOK]


async def test_strict_send_paths_quote_what_the_payment_then_gets(net, server):
    usd, maker, taker = await market(net, server)
    eur = await net.issue_asset("EUR")
    await net.trust_and_fund(maker, eur, "1000")
    await submit(server, net.passphrase, maker, [ManageSellOffer(eur, usd, "1000", "1.25")])  # 0.8 EUR per USD
    await submit(server, net.passphrase, taker, [ChangeTrust(eur)])
    found = await server.strict_send_paths(XLM, "10", [usd, eur]).call()
    records = found["_embedded"]["records"]
    by_destination = {r["destination_asset_code"]: r for r in records}
    usd_out = pool_payout(1000 * STROOPS, 2000 * STROOPS, 10 * STROOPS)
    assert by_destination["USD"]["destination_amount"] == units(usd_out) and by_destination["USD"]["path"] == []
    eur_path = by_destination["EUR"]
    assert eur_path["path"] == [{"asset_type": "credit_alphanum4", "asset_code": "USD", "asset_issuer": usd.issuer}]
    assert eur_path["destination_amount"] == units(usd_out * 4 // 5)
    assert eur_path["source_asset_type"] == "native" and eur_path["source_amount"] == "10.0000000"
    await submit(server, net.passphrase, taker, [
        PathPaymentStrictSend(taker.public_key, XLM, "10", eur, eur_path["destination_amount"], [usd])])
    account = await server.accounts().account_id(taker.public_key).call()
    assert next(b["balance"] for b in account["balances"] if b.get("asset_code") == "EUR") == units(usd_out * 4 // 5)
    by_account = await server.strict_send_paths(XLM, "10", taker.public_key).call()
    assert {r["destination_asset_type"] for r in by_account["_embedded"]["records"]} >= {"credit_alphanum4", "native"}


async def test_strict_receive_paths_and_their_parameters(net, server):
    usd, _, taker = await market(net, server)
    found = await server.strict_receive_paths([XLM], usd, "20").call()
    [record] = found["_embedded"]["records"]
    assert record["source_amount"] == units(pool_cost(1000 * STROOPS, 2000 * STROOPS, 20 * STROOPS))
    assert record["destination_amount"] == "20.0000000" and record["path"] == []
    poor = await net.create_account(5)  # 5 XLM cannot pay the 10.13 the path needs
    by_balance = await server.strict_receive_paths(poor.public_key, usd, "20").call()
    assert by_balance["_embedded"]["records"] == []
    url = f"{net.horizon_url}/paths/strict-receive"
    destination = {"destination_asset_type": "credit_alphanum4", "destination_asset_code": "USD",
                   "destination_asset_issuer": usd.issuer, "destination_amount": "20"}
    status, problem = await get_json(url, **destination)
    assert status == 400 and "either a list of source assets or a source account" in problem["detail"]
    status, problem = await get_json(url, source_assets="native", **{**destination, "destination_amount": "-1"})
    assert status == 400 and problem["extras"]["invalid_field"] == "destination_amount"
    status, problem = await get_json(url, source_assets="USD", **destination)
    assert status == 400 and problem["extras"]["invalid_field"] == "source_assets"
    status, nothing = await get_json(url, source_assets="native", **{**destination, "destination_amount": "2000"})
    assert status == 200 and nothing["_embedded"]["records"] == []  # the pool never pays out all it holds


async def test_assets_ledger_headers_balances_and_aggregation_links(net, server):
    usd, maker, taker = await market(net, server)
    assets = (await server.assets().for_code("USD").call())["_embedded"]["records"]
    [stat] = assets
    assert stat["asset_issuer"] == usd.issuer and stat["paging_token"] == f"USD_{usd.issuer}_credit_alphanum4"
    assert stat["accounts"]["authorized"] == 2 and stat["num_liquidity_pools"] == 1
    assert stat["liquidity_pools_amount"] == "2000.0000000" and stat["balances"]["authorized"] == "98000.0000000"
    ledger = (await server.ledgers().order(desc=True).limit(1).call())["_embedded"]["records"][0]
    header = xdr.LedgerHeader.from_xdr(ledger["header_xdr"])
    assert header.ledger_seq.uint32 == ledger["sequence"]
    assert hashlib.sha256(base64.b64decode(ledger["header_xdr"])).hexdigest() == ledger["hash"]
    assert header.previous_ledger_hash.hash.hex() == ledger["prev_hash"]
    account = await server.accounts().account_id(taker.public_key).call()
    assert [b.get("is_clawback_enabled") for b in account["balances"]] == [False, None]  # USD line, then XLM
    aggregations = await server.trade_aggregations(usd, XLM, 60_000).call()
    assert aggregations["_links"]["prev"] == {"href": ""}
