"""The Horizon API through real HTTP with stellar-sdk's clients."""
from __future__ import annotations

import asyncio
from decimal import Decimal

import aiohttp
import pytest
from stellar_sdk import Asset, Keypair, ServerAsync
from stellar_sdk.client.aiohttp_client import AiohttpClient
from stellar_sdk.exceptions import BadRequestError, NotFoundError
from stellar_sdk.operation import ManageBuyOffer, ManageSellOffer, PathPaymentStrictSend, Payment

from test.stellar_sandbox.integration.support import build, get_json, operation_results, submit

pytestmark = pytest.mark.integration


def balance_of(account: dict, asset: Asset) -> Decimal:
    for balance in account["balances"]:
        if asset.is_native() and balance["asset_type"] == "native":
            return Decimal(balance["balance"])
        if balance.get("asset_code") == asset.code and balance.get("asset_issuer") == asset.issuer:
            return Decimal(balance["balance"])
    raise AssertionError(f"no balance of {asset}")


async def test_root_describes_the_network(net, sync_server):
    root = await asyncio.to_thread(sync_server.root().call)
    assert root["network_passphrase"] == "Standalone Network ; February 2017"
    assert root["history_latest_ledger"] == root["core_latest_ledger"] >= 1
    assert root["current_protocol_version"] == root["supported_protocol_version"] > 0
    assert {"horizon_version", "core_version"} <= root.keys()
    assert root["_links"]["self"]["href"] == f"{net.horizon_url}/"
    assert root["_links"]["account"]["templated"] is True


async def test_friendbot_creates_and_funds_through_a_real_transaction(net, server):
    address = Keypair.random().public_key
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{net.horizon_url}/friendbot", params={"addr": address}) as response:
            assert response.status == 200
            funding = await response.json()
        async with session.post(f"{net.horizon_url}/friendbot", params={"addr": address}) as again:
            assert again.status == 400
            problem = await again.json()
    assert funding["successful"] is True
    assert funding["source_account"] == net.network.root_keypair.public_key
    account = await server.accounts().account_id(address).call()
    assert balance_of(account, Asset.native()) == Decimal("10000")
    assert account["_links"]["self"]["href"].endswith(f"/accounts/{address}")
    transactions = await server.transactions().for_account(address).call()
    assert [t["hash"] for t in transactions["_embedded"]["records"]] == [funding["hash"]]
    assert problem["type"] == "https://stellar.org/horizon-errors/transaction_failed"
    assert problem["extras"]["result_codes"] == {"transaction": "tx_failed", "operations": ["op_already_exists"]}


async def test_unknown_account_is_404_and_a_bad_address_400(server):
    with pytest.raises(NotFoundError) as missing:
        await server.accounts().account_id(Keypair.random().public_key).call()
    assert missing.value.status == 404 and missing.value.type.endswith("/not_found")
    with pytest.raises(BadRequestError) as bad:
        await server.accounts().account_id("GNOTANACCOUNT").call()
    assert bad.value.extras == {"invalid_field": "account_id", "reason": "invalid address"}


async def test_ledgers_page_forwards_and_backwards(net, server):
    while net.network.latest_ledger["sequence"] < 6:
        await net.close_ledger()
    builder = server.ledgers().limit(2)
    first = await builder.call()
    sequences = [r["sequence"] for r in first["_embedded"]["records"]]
    second = await builder.next()
    following = [r["sequence"] for r in second["_embedded"]["records"]]
    assert following == [sequences[1] + 1, sequences[1] + 2] and sequences == [following[0] - 2, following[0] - 1]
    back = await server.ledgers().cursor(second["_embedded"]["records"][0]["paging_token"]).order(desc=True).call()
    assert [r["sequence"] for r in back["_embedded"]["records"]][:2] == sequences[::-1]
    latest = await server.ledgers().order(desc=True).limit(1).call()
    assert latest["_embedded"]["records"][0]["sequence"] >= following[-1]
    one = await server.ledgers().ledger(sequences[0]).call()
    assert one["hash"] == first["_embedded"]["records"][0]["hash"]
    assert one["_links"]["transactions"] == {
        "href": f"{net.horizon_url}/ledgers/{sequences[0]}/transactions{{?cursor,limit,order}}", "templated": True}


@pytest.mark.parametrize("query, field", [
    ({"limit": "0"}, "limit"), ({"limit": "201"}, "limit"), ({"limit": "ten"}, "limit"),
    ({"order": "up"}, "order"), ({"cursor": "abc"}, "cursor"), ({"cursor": "-5"}, "cursor"),
])
async def test_bad_paging_parameters_are_horizon_400s(net, query, field):
    async with aiohttp.ClientSession() as session, session.get(f"{net.horizon_url}/transactions",
                                                               params=query) as response:
        assert response.status == 400
        assert response.content_type == "application/problem+json"
        problem = await response.json()
    assert problem["type"] == "https://stellar.org/horizon-errors/bad_request"
    assert problem["title"] == "Bad Request" and problem["status"] == 400
    assert problem["extras"]["invalid_field"] == field


async def test_unknown_transaction_and_route_are_404(net, server):
    with pytest.raises(NotFoundError):
        await server.transactions().transaction("ab" * 32).call()
    status, problem = await get_json(f"{net.horizon_url}/no/such/route")
    assert status == 404 and problem["title"] == "Resource Missing"


async def test_pending_transaction_is_404_until_its_ledger_closes(manual_net):
    alice = Keypair.random()
    funding = asyncio.ensure_future(manual_net.horizon.root_agent.create_account(alice.public_key, 10))
    while not funding.done():
        await manual_net.close_ledger()
        await asyncio.sleep(0.01)
    async with ServerAsync(manual_net.horizon_url, client=AiohttpClient()) as server:
        envelope = await build(server, manual_net.passphrase, alice,
                               [Payment(manual_net.network.root_keypair.public_key, Asset.native(), "1")])
        answer = await server.submit_transaction_async(envelope, skip_memo_required_check=True)
        assert answer["tx_status"] == "PENDING"
        with pytest.raises(NotFoundError):
            await server.transactions().transaction(answer["hash"]).call()
        await manual_net.close_ledger()
        applied = await server.transactions().transaction(answer["hash"]).call()
        assert applied["successful"] is True and applied["hash"] == answer["hash"]


async def test_trustlines_and_payments_show_in_balances_and_payments(net, server):
    holder = await net.create_account(100)
    usd = await net.issue_asset("USD")
    funding = await net.trust_and_fund(holder, usd, "250.5")
    account = await server.accounts().account_id(holder.public_key).call()
    assert balance_of(account, usd) == Decimal("250.5")
    assert account["subentry_count"] == 1
    payments = await server.payments().for_account(holder.public_key).call()
    kinds = [p["type"] for p in payments["_embedded"]["records"]]
    assert kinds == ["create_account", "payment"]
    assert payments["_embedded"]["records"][1]["transaction_hash"] == funding["hash"]
    operations = await server.operations().for_transaction(funding["hash"]).call()
    assert [o["type"] for o in operations["_embedded"]["records"]] == ["change_trust", "payment"]
    effects = await server.effects().for_account(holder.public_key).call()
    assert "trustline_created" in [e["type"] for e in effects["_embedded"]["records"]]


@pytest.fixture
async def market(net):
    """A seller of USD (for XLM) and a buyer, both funded; returns (seller, buyer, usd)."""
    seller, buyer = await asyncio.gather(net.create_account(1000), net.create_account(1000))
    usd = await net.issue_asset("USD")
    await asyncio.gather(net.trust_and_fund(seller, usd, "1000"), net.trust_and_fund(buyer, usd, "1"))
    return seller, buyer, usd


async def test_offers_rest_cross_partially_fill_and_cancel(net, server, market):
    seller, buyer, usd = market
    xlm = Asset.native()
    placed = await submit(server, net.passphrase, seller, [ManageSellOffer(usd, xlm, "100", "2")])
    offer_id = operation_results(placed["result_xdr"])[0].tr.manage_sell_offer_result.success.offer.offer.offer_id.int64
    offers = await server.offers().for_seller(seller.public_key).call()
    (offer,) = offers["_embedded"]["records"]
    assert offer["id"] == str(offer_id) and offer["amount"] == "100.0000000" and offer["price"] == "2.0000000"
    assert offer["_links"]["offer_maker"]["href"].endswith(seller.public_key)
    by_selling = await server.offers().for_selling(usd).call()
    assert [o["id"] for o in by_selling["_embedded"]["records"]] == [str(offer_id)]
    _, canonical = await get_json(f"{net.horizon_url}/offers", selling=f"USD:{usd.issuer}", buying="native")
    assert [o["id"] for o in canonical["_embedded"]["records"]] == [str(offer_id)]
    book = await server.orderbook(usd, xlm).call()
    assert book["asks"] == [{"price_r": {"n": 2, "d": 1}, "price": "2.0000000", "amount": "100.0000000"}]
    assert book["bids"] == [] and book["base"]["asset_code"] == "USD" and book["counter"] == {"asset_type": "native"}

    taken = await submit(server, net.passphrase, buyer, [ManageBuyOffer(xlm, usd, "30", "2")])
    claims = operation_results(taken["result_xdr"])[0].tr.manage_buy_offer_result.success.offers_claimed
    assert len(claims) == 1 and claims[0].order_book.offer_id.int64 == offer_id
    assert claims[0].order_book.amount_sold.int64 == 30 * 10**7  # USD the maker sold
    remaining = await server.offers().offer(offer_id).call()
    assert remaining["amount"] == "70.0000000"
    trades = await server.trades().for_asset_pair(usd, xlm).call()
    (trade,) = trades["_embedded"]["records"]
    assert trade["base_offer_id"] == str(offer_id) and trade["base_amount"] == "30.0000000"
    assert trade["counter_amount"] == "60.0000000" and trade["base_is_seller"] is True
    assert (await server.trades().for_account(buyer.public_key).call())["_embedded"]["records"][0]["id"] == trade["id"]
    assert (await server.trades().for_offer(offer_id).call())["_embedded"]["records"][0]["id"] == trade["id"]

    await submit(server, net.passphrase, seller, [ManageSellOffer(usd, xlm, "0", "2", offer_id=offer_id)])
    with pytest.raises(NotFoundError):
        await server.offers().offer(offer_id).call()
    assert (await server.orderbook(usd, xlm).call())["asks"] == []


async def test_path_payment_goes_through_the_book(net, server, market):
    seller, buyer, usd = market
    xlm = Asset.native()
    await submit(server, net.passphrase, seller, [ManageSellOffer(usd, xlm, "50", "4")])
    paid = await submit(server, net.passphrase, buyer, [
        PathPaymentStrictSend(buyer.public_key, xlm, "40", usd, "9", [])])
    received = operation_results(paid["result_xdr"])[0].tr.path_payment_strict_send_result.success.last.amount.int64
    assert received == 10 * 10**7
    account = await server.accounts().account_id(buyer.public_key).call()
    assert balance_of(account, usd) == Decimal("11")


async def test_trade_aggregations_bucket_trades(net, server, market):
    seller, buyer, usd = market
    xlm = Asset.native()
    await submit(server, net.passphrase, seller, [ManageSellOffer(usd, xlm, "10", "2"),
                                                   ManageSellOffer(usd, xlm, "10", "3")])
    await submit(server, net.passphrase, buyer, [ManageBuyOffer(xlm, usd, "15", "3")])
    page = await server.trade_aggregations(usd, xlm, resolution=60_000).call()
    (bucket,) = page["_embedded"]["records"]
    assert bucket["trade_count"] == "2"
    assert bucket["base_volume"] == "15.0000000" and bucket["counter_volume"] == "35.0000000"
    assert bucket["open"] == "2.0000000" and bucket["close"] == "3.0000000"
    assert bucket["high_r"] == {"n": "3", "d": "1"} and bucket["low"] == "2.0000000"
    assert int(bucket["timestamp"]) % 60_000 == 0
    status, problem = await get_json(net.horizon_url + "/trade_aggregations", base_asset_type="native",
                                     counter_asset_type="native", resolution="7")
    assert status == 400 and problem["extras"]["invalid_field"] == "resolution"


async def test_fee_stats_reports_base_fee_percentiles(net, server):
    await net.create_account(10)
    stats = await server.fee_stats().call()
    assert stats["last_ledger_base_fee"] == "100"
    assert stats["fee_charged"]["p50"] == "100" and stats["max_fee"]["mode"] == "100"
    assert int(stats["last_ledger"]) >= 1 and float(stats["ledger_capacity_usage"]) >= 0
    assert await server.fetch_base_fee() == 100
