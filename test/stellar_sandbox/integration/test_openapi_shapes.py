"""Every Horizon endpoint the sandbox serves, checked over HTTP against Horizon's published OpenAPI description.

The expectations below were read from the stellar-docs repository (`openapi/horizon/`, bundled.yml at
commit 6fc5ae4 of 2026-08-21: `components/schemas/*` and the endpoint files named per check) and are
written here as this test's own assertions: the spec cannot be fetched at test time and is not copied.
Where the spec contradicts Horizon itself, Horizon's Go response types (stellar/go
`protocols/horizon`, and the resource adapters that fill them) decide; each such place is marked GO:

- balance lines: the spec spells `buying_liabilites`, `selling_liabilites`,
  `is_authorized_to_maintain_liabilites`, `sponser`; Go `Balance` spells `*_liabilities`. The spec requires
  `limit`, `last_modified_ledger`, `is_authorized...` on the native line; Go's PopulateNativeBalance leaves
  them out. `is_clawback_enabled` (spec: required on credit and pool-share lines) is there on both; Go sets
  it only when true, so readers of either accept it.
- accounts: the spec's `num_sponsered` is Go's `num_sponsored`.
- liquidity pools: the spec types `reserves` as one object and `last_modified_ledger` as a string; Go has a
  list of `{asset, amount}` and a uint32.
- operation links: the spec's `succeds` is Go's `succeeds`.
- a single ledger: the spec nests it in `_embedded`; Go answers the ledger record itself.
- trade aggregations: the spec shows no `_links`; Go's hal.Page has `self`, `next` and `prev` (empty).
"""
from __future__ import annotations

import re

import pytest
from stellar_sdk import (
    Asset,
    ChangeTrust,
    LiquidityPoolAsset,
    LiquidityPoolDeposit,
    ManageSellOffer,
    PathPaymentStrictReceive,
    PathPaymentStrictSend,
    Payment,
    Price,
)

from test.stellar_sandbox.integration.support import get_json, submit

pytestmark = pytest.mark.integration
XLM = Asset.native()
AMOUNT = re.compile(r"^-?[0-9]+\.[0-9]{7}$")  # components/schemas: currency

PAGE_LINKS = {"self", "next", "prev"}  # components/schemas/linksSchema.yml
LEDGER = {"id", "paging_token", "hash", "sequence", "successful_transaction_count", "failed_transaction_count",
          "operation_count", "tx_set_operation_count", "closed_at", "total_coins", "fee_pool", "base_fee_in_stroops",
          "base_reserve_in_stroops", "max_tx_set_size", "protocol_version", "header_xdr"}  # schemas/Ledger.yaml
LEDGER_LINKS = {"self", "transactions", "operations", "effects", "payments"}
TRANSACTION = {"id", "paging_token", "successful", "hash", "ledger", "created_at", "source_account",
               "source_account_sequence", "fee_account", "fee_charged", "max_fee", "operation_count",
               "envelope_xdr", "result_xdr", "result_meta_xdr", "memo_type", "signatures"}  # transactionSchema.yml
TRANSACTION_LINKS = {"self", "account", "ledger", "operations", "effects", "precedes", "succeeds", "transaction"}
OPERATION = {"id", "paging_token", "transaction_successful", "source_account", "type", "type_i", "created_at",
             "transaction_hash"}  # operationSchema.yml
OPERATION_LINKS = {"self", "transaction", "effects", "succeeds", "precedes"}  # GO: succeeds
OPERATION_BY_TYPE = {  # paymentSchema.yml and friends: the fields each type adds
    "create_account": {"starting_balance", "funder", "account"},
    "payment": {"asset_type", "from", "to", "amount"},
    "path_payment_strict_send": {"from", "to", "amount", "path", "source_amount", "destination_min"},
    "path_payment_strict_receive": {"from", "to", "amount", "path", "source_amount", "source_asset_type",
                                    "source_max"},
    "manage_sell_offer": {"amount", "price", "price_r", "buying_asset_type", "selling_asset_type", "offer_id"},
    "change_trust": {"asset_type", "limit", "trustor"},
    "liquidity_pool_deposit": {"liquidity_pool_id", "reserves_max", "min_price", "min_price_r", "max_price",
                               "max_price_r", "reserves_deposited", "shares_received"},
}
EFFECT = {"id", "paging_token", "account", "type", "type_i", "created_at"}  # effects.yml
EFFECT_LINKS = {"operation", "succeeds", "precedes"}
TRADE = {"id", "paging_token", "ledger_close_time", "trade_type", "base_amount", "base_asset_type",
         "counter_amount", "counter_asset_type", "base_is_seller", "price"}  # trades.yml (GO: non-omitempty)
TRADE_LINKS = {"self", "base", "counter", "operation"}
OFFER = {"id", "paging_token", "seller", "selling", "buying", "amount", "price_r", "price", "last_modified_ledger",
         "last_modified_time"}  # offerSchema.yml
ACCOUNT = {"id", "account_id", "sequence", "subentry_count", "last_modified_ledger", "last_modified_time",
           "thresholds", "flags", "balances", "signers", "data", "num_sponsoring", "num_sponsored",
           "paging_token"}  # Account.yaml (GO: num_sponsored)
ACCOUNT_LINKS = {"self", "transactions", "operations", "payments", "effects", "offers", "trades", "data"}
CREDIT_LINE = {"balance", "limit", "asset_type", "asset_code", "asset_issuer", "buying_liabilities",
               "selling_liabilities", "last_modified_ledger", "is_authorized", "is_authorized_to_maintain_liabilities",
               "is_clawback_enabled"}  # balanceSchema.yml BalanceLineAsset (GO spelling)
POOL_LINE = {"liquidity_pool_id", "balance", "limit", "asset_type", "last_modified_ledger", "is_authorized",
             "is_authorized_to_maintain_liabilities", "is_clawback_enabled"}  # BalanceLineLiquidityPool
NATIVE_LINE = {"balance", "asset_type", "buying_liabilities", "selling_liabilities"}  # GO: PopulateNativeBalance
POOL = {"id", "paging_token", "fee_bp", "type", "total_trustlines", "total_shares", "reserves",
        "last_modified_ledger", "last_modified_time"}  # liquidityPool.yml
POOL_LINKS = {"self", "transactions", "operations"}
ASSET = {"asset_type", "asset_code", "asset_issuer", "paging_token", "accounts", "num_claimable_balances",
         "num_contracts", "num_liquidity_pools", "balances", "claimable_balances_amount", "contracts_amount",
         "liquidity_pools_amount", "flags"}  # assetSchema.yml
PATH = {"source_asset_type", "source_amount", "destination_asset_type", "destination_amount", "path"}  # path.yml
AGGREGATION = {"timestamp", "trade_count", "base_volume", "counter_volume", "avg", "high", "high_r", "low", "low_r",
               "open", "open_r", "close", "close_r"}  # tradeAggregations.yml
FEE_STATS = {"last_ledger", "last_ledger_base_fee", "ledger_capacity_usage", "fee_charged", "max_fee"}
ORDER_BOOK = {"bids", "asks", "base", "counter"}  # orderBook.yml
LEVEL = {"price_r", "price", "amount"}


class Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.checked: set[str] = set()

    def keys(self, where: str, record: dict, required: set[str]) -> None:
        missing = required - record.keys()
        if missing:
            self.problems.append(f"{where}: missing {sorted(missing)}")

    def links(self, where: str, record: dict, required: set[str]) -> None:
        links = record.get("_links", {})
        self.keys(f"{where} _links", links, required)
        for name in required & links.keys():
            if "href" not in links[name]:
                self.problems.append(f"{where} _links.{name}: no href")

    def page(self, where: str, body: dict, record_keys: set[str], record_links: set[str] | None,
             minimum: int = 1) -> list[dict]:
        self.checked.add(where)
        self.links(where, body, PAGE_LINKS)
        records = body.get("_embedded", {}).get("records")
        if not isinstance(records, list) or len(records) < minimum:
            self.problems.append(f"{where}: expected at least {minimum} records, got {records!r:.200}")
            return []
        for index, record in enumerate(records):
            self.keys(f"{where}[{index}]", record, record_keys)
            if record_links is not None:
                self.links(f"{where}[{index}]", record, record_links)
        return records


async def seeded(net, server) -> dict:
    """Ledgers with every kind of record: accounts, a payment, offers and their trade, a pool, path payments."""
    usd = await net.issue_asset("USD")
    maker = await net.create_account(100_000)
    await net.trust_and_fund(maker, usd, "100000")
    pool = LiquidityPoolAsset(XLM, usd)
    await submit(server, net.passphrase, maker, [
        ChangeTrust(pool), LiquidityPoolDeposit(pool.liquidity_pool_id, "1000", "2000", Price(1, 4), Price(1, 1)),
        ManageSellOffer(usd, XLM, "100", "0.4")])
    taker = await net.create_account(1000)
    trusted = await submit(server, net.passphrase, taker, [ChangeTrust(usd)])
    paid = await submit(server, net.passphrase, taker, [
        PathPaymentStrictSend(taker.public_key, XLM, "4", usd, "1", []),  # the book's 0.4 wins
        PathPaymentStrictReceive(taker.public_key, XLM, "100", usd, "100", []),  # beyond the book: the pool
        Payment(maker.public_key, XLM, "1")])
    offer_id = (await server.offers().for_seller(maker.public_key).call())["_embedded"]["records"][0]["id"]
    return {"usd": usd, "maker": maker, "taker": taker, "pool_id": pool.liquidity_pool_id, "offer_id": offer_id,
            "paid": paid, "trusted": trusted}


async def test_every_served_endpoint_has_the_documented_shape(net, server):
    data = await seeded(net, server)
    usd, maker, taker, pool_id = data["usd"], data["maker"].public_key, data["taker"].public_key, data["pool_id"]
    paid, ledger = data["paid"]["hash"], data["paid"]["ledger"]
    url = net.horizon_url
    check = Checker()

    async def get(path: str, **query: str) -> dict:
        status, body = await get_json(url + path, **query)
        assert status == 200, (path, status, body)
        return body

    for path in ("/ledgers", f"/ledgers/{ledger}"):
        body = await get(path)
        records = [body] if path != "/ledgers" else check.page(path, body, LEDGER, LEDGER_LINKS)
        for record in records:
            check.keys(path, record, LEDGER)  # GO: a single ledger is the record itself
            check.links(path, record, LEDGER_LINKS)
    for path in ("/transactions", f"/ledgers/{ledger}/transactions", f"/accounts/{taker}/transactions",
                 f"/liquidity_pools/{pool_id}/transactions"):
        check.page(path, await get(path), TRANSACTION, TRANSACTION_LINKS)
    single = await get(f"/transactions/{paid}")
    check.keys("/transactions/{hash}", single, TRANSACTION)
    check.links("/transactions/{hash}", single, TRANSACTION_LINKS - {"transaction"})
    operations = []
    for path in ("/operations", f"/ledgers/{ledger}/operations", f"/accounts/{taker}/operations",
                 f"/transactions/{paid}/operations", f"/liquidity_pools/{pool_id}/operations", "/payments",
                 f"/ledgers/{ledger}/payments", f"/accounts/{taker}/payments", f"/transactions/{paid}/payments"):
        operations += check.page(path, await get(path, limit="200"), OPERATION, OPERATION_LINKS)
    operations.append(await get(f"/operations/{operations[0]['id']}"))
    for record in operations:
        expected = OPERATION | OPERATION_BY_TYPE.get(record.get("type"), set())
        check.keys(f"operation {record.get('type')}", record, expected)
    assert {r["type"] for r in operations} >= OPERATION_BY_TYPE.keys()
    for path in ("/effects", f"/ledgers/{ledger}/effects", f"/accounts/{taker}/effects",
                 f"/transactions/{paid}/effects", f"/operations/{operations[0]['id']}/effects",
                 f"/liquidity_pools/{pool_id}/effects"):
        check.page(path, await get(path), EFFECT, EFFECT_LINKS)
    trades = []
    for path in ("/trades", f"/accounts/{taker}/trades", f"/offers/{data['offer_id']}/trades",
                 f"/liquidity_pools/{pool_id}/trades"):
        trades += check.page(path, await get(path), TRADE, TRADE_LINKS)
    assert {t["trade_type"] for t in trades} == {"orderbook", "liquidity_pool"}
    for path in ("/offers", f"/accounts/{maker}/offers"):
        for record in check.page(path, await get(path), OFFER, {"self", "offer_maker"}):
            check.keys(f"{path} selling", record["selling"], {"asset_type"})
    offer = await get(f"/offers/{data['offer_id']}")
    check.keys("/offers/{id}", offer, OFFER)
    account = await get(f"/accounts/{maker}")
    check.keys("/accounts/{id}", account, ACCOUNT)
    check.links("/accounts/{id}", account, ACCOUNT_LINKS)
    lines = {b["asset_type"]: b for b in account["balances"]}
    check.keys("credit line", lines["credit_alphanum4"], CREDIT_LINE)
    check.keys("pool-share line", lines["liquidity_pool_shares"], POOL_LINE)
    check.keys("native line", lines["native"], NATIVE_LINE)
    assert all(AMOUNT.match(b["balance"]) for b in account["balances"])
    for record in check.page("/liquidity_pools", await get("/liquidity_pools"), POOL, POOL_LINKS):
        assert isinstance(record["reserves"], list) and isinstance(record["last_modified_ledger"], int)  # GO
    single_pool = await get(f"/liquidity_pools/{pool_id}")
    check.keys("/liquidity_pools/{id}", single_pool, POOL)
    check.links("/liquidity_pools/{id}", single_pool, POOL_LINKS)
    for record in check.page("/assets", await get("/assets"), ASSET, {"toml"}):
        check.keys("asset accounts", record["accounts"], {"authorized", "authorized_to_maintain_liabilities",
                                                          "unauthorized"})
        check.keys("asset flags", record["flags"], {"auth_required", "auth_revocable", "auth_immutable"})
    usd_query = {"asset_type": "credit_alphanum4", "asset_code": "USD", "asset_issuer": usd.issuer}
    for path, query in (
            ("/paths/strict-send", {"source_asset_type": "native", "source_amount": "10",
                                    "destination_assets": f"USD:{usd.issuer}"}),
            ("/paths/strict-receive", {"source_assets": "native", "destination_amount": "10",
                                       **{f"destination_{k}": v for k, v in usd_query.items()}})):
        body = await get(path, **query)
        check.checked.add(path)
        records = body["_embedded"]["records"]
        assert records, path
        for record in records:
            check.keys(path, record, PATH)
    book = await get("/order_book", **{f"selling_{k}": v for k, v in usd_query.items()}, buying_asset_type="native")
    check.keys("/order_book", book, ORDER_BOOK)
    for level in book["asks"]:
        check.keys("/order_book ask", level, LEVEL)
    check.keys("/fee_stats", await get("/fee_stats"), FEE_STATS)
    aggregations = await get("/trade_aggregations", resolution="60000", base_asset_type="native",
                             **{f"counter_{k}": v for k, v in usd_query.items()})
    check.page("/trade_aggregations", aggregations, AGGREGATION, None)  # GO: the page links
    assert check.problems == [], "\n".join(check.problems)
    assert len(check.checked) >= 30
