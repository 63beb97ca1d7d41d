"""The ledger's view (Horizon's book, balances, liabilities, trades) next to the connector's, for comparing.

Shared by the stream and the strategy integration tests; each `*_match_ledger` helper keeps
re-reading Horizon while it waits, because the connector learns of a ledger a moment after it closes.
"""
from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any, Dict, List, Tuple

import pytest
from stellar_sdk import Keypair

from test.hummingbot.connector.exchange.stellar.integration.conftest import PAIR, WAIT, StellarMarket
from test.waiting import wait_until

STROOP = Decimal("0.0000001")
TOKENS = ("XLM", "USDC")

Levels = List[Tuple[float, float]]            # (price in quote per base, amount in base), best first
Balances = Dict[str, Tuple[Decimal, Decimal]]  # token -> (total, available)


async def ledger_book(m: StellarMarket) -> Tuple[Levels, Levels]:
    """Horizon's /order_book for XLM-USDC, bid amounts turned from USDC into XLM (base) units."""
    book = await m.get("/order_book", selling_asset_type="native", buying_asset_type="credit_alphanum4",
                       buying_asset_code="USDC", buying_asset_issuer=m.usdc.issuer, limit=200)

    def price(level: Dict[str, Any]) -> float:
        return int(level["price_r"]["n"]) / int(level["price_r"]["d"])

    bids = [(price(level), float(level["amount"]) / price(level)) for level in book["bids"]]
    asks = [(price(level), float(level["amount"])) for level in book["asks"]]
    return bids, asks


def connector_book(m: StellarMarket) -> Tuple[Levels, Levels]:
    book = m.exchange.order_books[PAIR]
    return [(e.price, e.amount) for e in book.bid_entries()], [(e.price, e.amount) for e in book.ask_entries()]


def same_levels(a: Levels, b: Levels) -> bool:
    return len(a) == len(b) and all(
        p1 == pytest.approx(p2, rel=1e-9) and q1 == pytest.approx(q2, rel=1e-9, abs=1e-7)
        for (p1, q1), (p2, q2) in zip(a, b, strict=True))


async def _wait_against_ledger(read, matches, what: str, ours, timeout: float = WAIT):
    """Wait until `matches(latest ledger reading)`, re-reading the ledger meanwhile; the last reading."""
    latest = [await read()]

    async def refresh() -> None:
        while True:
            await asyncio.sleep(0.05)
            latest[0] = await read()

    refresher = asyncio.ensure_future(refresh())
    try:
        await wait_until(lambda: matches(latest[0]), timeout=timeout, what=what)
    except AssertionError as error:
        raise AssertionError(f"{error}; connector: {ours()}; ledger: {latest[0]}") from None
    finally:
        refresher.cancel()
    return latest[0]


async def book_matches_ledger(m: StellarMarket, what: str = "the connector's book = the ledger's") -> Tuple[Levels,
                                                                                                               Levels]:
    def matches(ledger: Tuple[Levels, Levels]) -> bool:
        return all(same_levels(ours, theirs) for ours, theirs in zip(connector_book(m), ledger, strict=True))

    return await _wait_against_ledger(lambda: ledger_book(m), matches, what, lambda: connector_book(m))


async def base_reserve(m: StellarMarket) -> Decimal:
    page = await m.get("/ledgers", order="desc", limit=1)
    return Decimal(page["_embedded"]["records"][0]["base_reserve_in_stroops"]) * STROOP


def ledger_balances(account: Dict[str, Any], reserve: Decimal) -> Balances:
    """Available: the balance net of selling liabilities and, for XLM, of (2 + subentries) x base reserve."""
    balances = {}
    for entry in account["balances"]:
        total = Decimal(entry["balance"])
        free = total - Decimal(entry["selling_liabilities"])
        if entry["asset_type"] == "native":
            subentries = account["subentry_count"] + account.get("num_sponsoring", 0) - account.get("num_sponsored", 0)
            balances["XLM"] = (total, free - (2 + subentries) * reserve)
        else:
            balances[entry["asset_code"]] = (total, free)
    return balances


def connector_balances(m: StellarMarket) -> Balances:
    return {token: (m.exchange.get_balance(token), m.exchange.get_available_balance(token)) for token in TOKENS}


async def balances_match_ledger(m: StellarMarket, timeout: float = WAIT) -> Balances:
    """Waits until the connector's total and available balances equal the ledger's; returns them."""
    reserve = await base_reserve(m)

    async def read() -> Balances:
        return ledger_balances(await m.account(), reserve)

    return await _wait_against_ledger(read, lambda ledger: connector_balances(m) == ledger,
                                      "the connector's balances = the ledger's", lambda: connector_balances(m), timeout)


async def account_trades(m: StellarMarket) -> List[Dict[str, Any]]:
    """Every trade of the trading account, oldest first (all pages)."""
    records: List[Dict[str, Any]] = []
    params: Dict[str, Any] = {"order": "asc", "limit": 200}
    while True:
        page = (await m.get(f"/accounts/{m.trader.public_key}/trades", **params))["_embedded"]["records"]
        records.extend(page)
        if len(page) < 200:
            return records
        params["cursor"] = page[-1]["paging_token"]


def our_side(m: StellarMarket, trade: Dict[str, Any]) -> Tuple[str, Decimal]:
    """(our offer id, XLM amount) of one of the account's trades."""
    ours = "base" if trade["base_account"] == m.trader.public_key else "counter"
    xlm_side = "base" if trade["base_asset_type"] == "native" else "counter"
    return str(trade[f"{ours}_offer_id"]), Decimal(trade[f"{xlm_side}_amount"])


async def another_trader(m: StellarMarket, xlm: int = 10_000, usdc: str = "10000") -> Keypair:
    """A third funded account holding USDC (an account cannot cross its own offers)."""
    keypair = await m.net.create_account(xlm)
    await m.net.trust_and_fund(keypair, m.usdc, usdc)
    return keypair
