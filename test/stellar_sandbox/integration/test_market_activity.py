"""Synthetic market activity: funded participants trading through the ordinary transaction path.

The rate check counts applied book events over a few seconds with a generous tolerance: it is a
check that the controller does what it is asked, not a speed measurement.
"""
from __future__ import annotations

import asyncio

import pytest
from stellar_sdk import Asset

from stellar_sandbox.market.activity import MarketSettingsError
from test.waiting import wait_until

pytestmark = pytest.mark.integration

XLM = Asset.native()
MAKER_TYPES = {"manage_sell_offer", "manage_buy_offer"}
TAKER_TYPES = {"path_payment_strict_send"}


class ParticipantOperations:
    """Counts applied operations by participant accounts, straight from the network's records."""

    def __init__(self, net) -> None:
        self.net = net
        self.count = 0
        self.by_type: dict[str, int] = {}
        net.network.add_listener(self)

    def __call__(self, kind: str, record: dict) -> None:
        if kind == "operations" and record["transaction_successful"] \
                and record["source_account"] in self.net.market._by_id:
            self.count += 1
            self.by_type[record["type"]] = self.by_type.get(record["type"], 0) + 1


async def test_requested_rate_is_applied_over_a_few_seconds(net):
    counted = ParticipantOperations(net)
    await net.market.start(rate=50, seed=11)
    await wait_until(lambda: counted.count > 0)  # warmed up: the first transactions are in
    await asyncio.sleep(0.5)
    events_before, counted_before = net.market.applied_events, counted.count
    await asyncio.sleep(3.0)
    events = net.market.applied_events - events_before
    applied = counted.count - counted_before
    await net.market.stop()
    assert applied == events  # the activity's own count is the network's
    assert 150 * 0.6 <= applied <= 150 * 1.4, f"{applied} book events in 3 s at 50/s"
    assert counted.by_type.keys() <= MAKER_TYPES | TAKER_TYPES and counted.by_type.keys() & MAKER_TYPES


async def test_activity_shows_in_history_and_the_order_book(net, server):
    stats = await net.market.start(rate=100, participants=5, take_share=0.4, seed=5)
    base = Asset(*stats["base"].split(":"))
    accounts = set(stats["participant_accounts"])
    takers = {p.account_id for p in net.market.participants if not p.maker}
    makers = accounts - takers
    assert len(accounts) == 5 and len(takers) == 2

    async def traded() -> list[dict]:
        page = await server.trades().for_asset_pair(base, XLM).limit(200).call()
        return page["_embedded"]["records"]

    await wait_until(lambda: net.network.history.trades.latest_key is not None)
    await asyncio.sleep(0.5)
    await net.market.stop()
    trades = await traded()
    assert trades and all({t["base_account"], t["counter_account"]} <= accounts for t in trades)
    book = await server.orderbook(base, XLM).call()
    assert book["bids"] and book["asks"]
    assert float(book["bids"][0]["price"]) < float(book["asks"][0]["price"])  # nothing crossed rests

    root = net.network.root_keypair.public_key
    for account_id in accounts:  # real accounts, created by the root and funded by the issuer
        account = await server.accounts().account_id(account_id).call()
        balances = {b.get("asset_code", "XLM"): b for b in account["balances"]}
        assert "MKT" in balances and float(balances["XLM"]["balance"]) > 0
        first = (await server.operations().for_account(account_id).limit(1).call())["_embedded"]["records"][0]
        assert first["type"] == "create_account" and first["source_account"] == root
    maker_id, taker_id = sorted(makers)[0], sorted(takers)[0]
    maker_ops = (await server.operations().for_account(maker_id).limit(200).call())["_embedded"]["records"]
    taker_ops = (await server.operations().for_account(taker_id).limit(200).call())["_embedded"]["records"]
    assert {op["type"] for op in maker_ops if op["source_account"] == maker_id} <= MAKER_TYPES | {"change_trust"}
    assert {op["type"] for op in taker_ops if op["source_account"] == taker_id} <= TAKER_TYPES | {"change_trust"}
    taker_effects = (await server.effects().for_account(taker_id).limit(200).call())["_embedded"]["records"]
    assert any(effect["type"] == "trade" for effect in taker_effects)


async def test_stop_ends_submissions_and_start_again_reuses_the_participants(net):
    first = await net.market.start(rate=60, participants=4, seed=2)
    await wait_until(lambda: net.market.applied_events > 20)
    stopped = await net.market.stop()
    assert stopped["running"] is False
    await asyncio.sleep(0.2)  # what was pending when it stopped applies
    applied = net.market.applied_transactions + net.market.failed_transactions
    submitted = net.market.submitted_transactions
    await asyncio.sleep(0.3)
    assert net.market.submitted_transactions == submitted
    assert net.market.applied_transactions + net.market.failed_transactions == applied
    again = await net.market.start(rate=60, seed=2)
    assert again["participant_accounts"] == first["participant_accounts"] and again["base"] == first["base"]
    await wait_until(lambda: net.market.submitted_transactions > submitted)
    await net.market.stop()


async def test_set_rate_to_zero_pauses_and_a_higher_rate_adds_participants(net):
    await net.market.start(rate=40, seed=4)
    await wait_until(lambda: net.market.applied_events > 10)
    net.market.set_rate(0)
    await asyncio.sleep(0.2)
    submitted = net.market.submitted_transactions
    await asyncio.sleep(0.3)
    assert net.market.submitted_transactions == submitted
    needed = net.market.participants_for(400)
    assert needed > len(net.market.participants)
    assert net.market.set_rate(400)["rate"] == 400
    await wait_until(lambda: len(net.market.participants) == needed)
    events = net.market.applied_events
    await wait_until(lambda: net.market.applied_events > events + 100)
    await net.market.stop()


async def test_a_pair_of_issued_assets(net, server):
    usd, eur = await asyncio.gather(net.issue_asset("USD"), net.issue_asset("EUR"))
    stats = await net.market.start(rate=50, base=eur, counter=usd, mid=1.1, participants=4, seed=8)
    assert stats["base"] == f"EUR:{eur.issuer}" and stats["counter"] == f"USD:{usd.issuer}"
    await wait_until(lambda: net.network.history.trades.latest_key is not None)
    await net.market.stop()
    trades = (await server.trades().for_asset_pair(eur, usd).limit(5).call())["_embedded"]["records"]
    assert trades and 0.5 < float(trades[0]["price"]["n"]) / float(trades[0]["price"]["d"]) < 2.5


async def test_start_checks_its_options_before_creating_anything(net):
    with pytest.raises(MarketSettingsError) as bad:
        await net.market.start(rate=-1)
    assert bad.value.field == "rate"
    with pytest.raises(MarketSettingsError):
        await net.market.start(rate=10, ops_per_tx=101)
    with pytest.raises(RuntimeError):
        net.market.set_rate(10)  # not running
    assert net.market.participants == [] and net.market.base is None
    await net.market.start(rate=10, participants=2)
    with pytest.raises(RuntimeError):
        await net.market.start(rate=10)  # already running
    with pytest.raises(MarketSettingsError):
        net.market.set_rate(float("nan"))
    await net.market.stop()
