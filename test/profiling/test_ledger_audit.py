"""profiling.ledger_audit: the ledger's records of an account against what the bots reported, the verdict of the
process-level chaos scenarios (load test 7, `restart`). The ledger side is read from the embedded sandbox over
HTTP; the accounting is checked on crafted histories and journals, one way of going wrong at a time."""
from decimal import Decimal

import aiohttp
import pytest
from stellar_sdk import Asset
from stellar_sdk.operation import ManageBuyOffer, ManageSellOffer

from profiling.ledger_audit import TOID_OFFER_BIT, BotRun, LedgerHistory, OfferCreate, account_for, read_ledger_history
from profiling.strategies.market_activity import HorizonClient
from stellar_sandbox import Sandbox
from test.hummingbot.connector.exchange.stellar.integration.conftest import submit

XLM = Asset.native()


async def _offer_ids(horizon: HorizonClient, account_id: str) -> list:
    return sorted(str(o["id"]) for o in await horizon.records(f"/accounts/{account_id}/offers"))


@pytest.mark.integration
async def test_the_history_names_the_offer_each_create_left_and_the_accounts_offer_in_each_trade():
    async with Sandbox(ledger_interval=0.05) as net, aiohttp.ClientSession() as session:
        horizon = HorizonClient(session, net.horizon_url, net.passphrase)
        trader, channel, taker = [await net.create_account(xlm=1000) for _ in range(3)]
        usd = await net.issue_asset("USD")
        await net.trust_and_fund(trader, usd, "500")
        await net.trust_and_fund(taker, usd, "500")
        # As the connector sends them: a channel account is the transaction's source, the trader each operation's.
        await submit(net, channel, ManageSellOffer(selling=XLM, buying=usd, amount="10", price="0.5",
                                                    source=trader.public_key), signers=[trader])
        (resting_id,) = await _offer_ids(horizon, trader.public_key)
        await submit(net, taker, ManageBuyOffer(selling=usd, buying=XLM, amount="4", price="0.5"))   # takes 4
        await submit(net, taker, ManageSellOffer(selling=XLM, buying=usd, amount="20", price="0.6"))
        # A cancel (not a create), then a buy that fills entirely at placement (never rests).
        await submit(net, channel, ManageSellOffer(selling=XLM, buying=usd, amount="0", price="0.5",
                                                    offer_id=int(resting_id), source=trader.public_key),
                      ManageBuyOffer(selling=usd, buying=XLM, amount="2", price="0.6", source=trader.public_key),
                      signers=[trader])

        history = await read_ledger_history(horizon, trader.public_key)

    resting, at_once = history.creates
    assert resting.offer_id == resting_id and resting.order_id == resting_id
    assert at_once.offer_id is None and at_once.order_id == str(at_once.operation_id | TOID_OFFER_BIT)
    assert sorted(offer for offer, _closed in history.trades.values()) == sorted([resting_id, at_once.order_id])
    assert history.offers == []


# ----- the accounting, on crafted histories and journals -----

def _journal(*entries, restored=(), recovery=None, stopped=None, wall=1000.0):
    events = [{"event": "started", "restored": [{"order_id": c, "exchange_order_id": o, "fills": list(f)}
                                                for c, o, *f in restored]},
              {"event": "ready", "wall": wall, "recovery": recovery or {}}]
    for kind, client_id, value in entries:
        if kind == "created":
            events.append({"event": "created", "order_id": client_id, "exchange_order_id": value})
        elif kind == "filled":
            events.append({"event": "filled", "order_id": client_id, "trade_id": value})
        elif kind == "orders":
            events.append({"event": "orders", "resting": value[0], "creating": value[1], "transactions": 1})
        else:
            events.append({"event": kind, "order_id": client_id})
    if stopped is not None:
        events.append({"event": "stopped", "unresolved": [], "tracked_offers": [], **stopped})
    return events


def _history(creates, trades, offers=()):
    return LedgerHistory(creates=[OfferCreate(operation_id=op, tx_hash=f"tx{op}", offer_id=offer)
                                  for op, offer in creates],
                         trades={trade: (offer, "2026-12-07T05:00:00Z") for trade, offer in trades.items()},
                         offers=list(offers))


def _clean_restart():
    """bot-1 places A (offer 10) and B (offer 11); A fills once; killed with both resting; B fills while no bot
    runs; bot-2 restores both, reports B's fill (offer gone) and cancels A at its stop."""
    history = _history([(1, "10"), (2, "11")], {"5-0": "10", "6-0": "11"})
    first = _journal(("created", "A", "10"), ("created", "B", "11"), ("filled", "A", "5-0"),
                     ("orders", None, (["10", "11"], [])))
    second = _journal(("filled", "B", "6-0"), ("completed", "B", None), ("cancelled", "A", None),
                      restored=[("A", "10"), ("B", "11")], recovery={"known": ["10"]}, stopped={})
    return history, first, second


def test_a_clean_restart_accounts_for_every_order_and_fill():
    history, first, second = _clean_restart()
    runs = [BotRun.from_journal("bot-1", first, killed=True), BotRun.from_journal("bot-2", second, killed=False)]
    accounting = account_for(history, runs, offers_after=[])
    assert (accounting.lost_orders, accounting.duplicated_orders, accounting.missed_fills,
            accounting.duplicated_fills, accounting.unknown_offers_left) == ([], [], [], [], [])
    assert accounting.figures["orders_restored"] == [0, 2] and accounting.figures["recovered_known"] == [0, 1]
    assert accounting.figures["fills_reported"] == accounting.figures["ledger_trades"] == 2


def test_a_restart_without_the_saved_state_loses_the_killed_bots_orders_and_their_fills():
    history, first, _ = _clean_restart()
    second = _journal(stopped={})   # nothing restored, nothing settled
    runs = [BotRun.from_journal("bot-1", first, killed=True), BotRun.from_journal("bot-2", second, killed=False)]
    accounting = account_for(history, runs, offers_after=["10"])
    assert [line.split()[1] for line in accounting.lost_orders] == ["A", "B"]
    assert accounting.missed_fills == ["trade 6-0 of offer 11"]
    assert accounting.unknown_offers_left == ["10"]


def test_an_offer_created_while_the_bot_was_killed_is_settled_by_recovery_and_its_early_fill_counted_apart():
    # bot-1 killed with C's create in flight: C's offer 12 lands, fills once, and bot-2's recovery cancels it.
    history = _history([(1, "12"), (2, None)], {"7-0": "12", "8-0": str(2 | TOID_OFFER_BIT)})
    first = _journal(("orders", None, ([], ["C", "D"])))
    second = _journal(recovery={"cancelled": ["12"]}, stopped={})
    runs = [BotRun.from_journal("bot-1", first, killed=True), BotRun.from_journal("bot-2", second, killed=False)]
    accounting = account_for(history, runs, offers_after=[])
    assert (accounting.lost_orders, accounting.duplicated_orders, accounting.missed_fills) == ([], [], [])
    # D filled entirely at placement: no offer for recovery to find, its fill reported by nobody.
    assert accounting.explained["fills before recovery"] == ["7-0", "8-0"]
    assert accounting.explained["filled at placement, bot killed"] == [str(2 | TOID_OFFER_BIT)]


def test_an_offer_no_bot_knew_is_lost_unless_a_create_was_in_flight_at_a_kill():
    history = _history([(1, "12")], {})
    runs = [BotRun.from_journal("bot-1", _journal(stopped={}), killed=False)]
    accounting = account_for(history, runs, offers_after=["12"])
    assert accounting.lost_orders == ["offer 12 (operation 1): on the ledger, no bot knew it"]
    assert accounting.unknown_offers_left == ["12"]


def test_duplicates_a_fill_reported_by_two_bots_an_order_placed_again_and_unknown_offers_beyond_the_creates():
    history = _history([(1, "10"), (2, "13"), (3, "14"), (4, "15")], {"5-0": "10"})
    first = _journal(("created", "A", "10"), ("filled", "A", "5-0"), ("orders", None, (["10"], ["C"])))
    second = _journal(("filled", "A", "5-0"), ("created", "C", "15"), ("cancelled", "A", None),
                      ("cancelled", "C", None), restored=[("A", "10", "5-0"), ("C", None)],
                      recovery={"known": ["10"], "cancelled": ["13", "14"]}, stopped={})
    runs = [BotRun.from_journal("bot-1", first, killed=True), BotRun.from_journal("bot-2", second, killed=False)]
    accounting = account_for(history, runs, offers_after=[])
    assert accounting.duplicated_fills == ["trade 5-0: reported 2 times"]
    assert accounting.duplicated_orders == [
        "order C: restored without its offer id, placed again by bot-2",
        "bot-2 found 2 unknown offer(s) after a kill with 1 create(s) in flight"]


def test_the_last_bots_own_unresolved_orders_count_as_lost():
    history = _history([(1, "10")], {})
    stopped = {"unresolved": [{"order_id": "A"}], "tracked_offers": ["10"]}
    runs = [BotRun.from_journal("bot-1", _journal(("created", "A", "10"), ("cancelled", "A", None),
                                                  stopped=stopped), killed=False)]
    accounting = account_for(history, runs, offers_after=["10"])
    assert accounting.lost_orders == ["order A (bot-1): never resolved"]
    assert accounting.unknown_offers_left == []   # still on the book, but the bot tracks it


def test_fills_of_an_adopted_offer_before_its_adoption_are_counted_apart_and_after_it_must_be_reported():
    history = LedgerHistory(creates=[OfferCreate(1, "tx1", "12")], offers=[],
                            trades={"7-0": ("12", "2026-12-07T05:00:00Z"), "9-0": ("12", "2026-12-07T05:00:30Z")})
    adopted_at = 1796619610.0   # 2026-12-07T05:00:10Z
    first = _journal(("orders", None, ([], ["C"])))
    second = _journal(("created", "HB-adopted", "12"), ("cancelled", "HB-adopted", None),
                      recovery={"adopted": ["12"]}, stopped={}, wall=adopted_at)
    runs = [BotRun.from_journal("bot-1", first, killed=True), BotRun.from_journal("bot-2", second, killed=False)]
    accounting = account_for(history, runs, offers_after=[])
    assert accounting.explained["fills before recovery"] == ["7-0"]
    assert accounting.missed_fills == ["trade 9-0 of offer 12"]
    assert Decimal(accounting.figures["ledger_trades"]) == 2


def test_a_fill_reported_just_before_the_kill_and_not_saved_is_reported_again_and_recorded_once():
    # bot-1 reported 5-0 and was killed before MarketsRecorder saved it: bot-2 restored A without it.
    history, _first, _ = _clean_restart()
    first = _journal(("created", "A", "10"), ("created", "B", "11"), ("filled", "A", "5-0"))
    second = _journal(("filled", "A", "5-0"), ("filled", "B", "6-0"), ("completed", "B", None),
                      ("cancelled", "A", None), restored=[("A", "10"), ("B", "11")], stopped={})
    runs = [BotRun.from_journal("bot-1", first, killed=True), BotRun.from_journal("bot-2", second, killed=False)]
    accounting = account_for(history, runs, offers_after=[], recorded_fills=["5-0", "6-0"])
    assert (accounting.duplicated_fills, accounting.missed_fills) == ([], [])
    assert accounting.explained["fills reported again after a kill, not saved before it"] == ["5-0"]
    # The trade database is the durable witness: a fill it lacks, or holds twice, is a failure.
    accounting = account_for(history, runs, offers_after=[], recorded_fills=["5-0", "5-0"])
    assert accounting.duplicated_fills == ["trade 5-0: 2 rows in the trade database"]
    assert accounting.missed_fills == ["trade 6-0: reported, not in the trade database"]
