"""Load test 8, `failover` (profiling.failover_chaos, profiling.failover_verdict): its verdict on crafted phases
and journals, one way of going wrong at a time; the ledger's side (the account's own transactions and their bids)
read from the embedded sandbox over HTTP; the negative control end to end through the command line (with one Horizon
configured nothing can be switched away from, and the command exits non-zero); and a shortened run whose books must
stay right.

The scenario at its default length (about 80 s of wall clock) is run by hand (`python -m profiling loadtest
--scenario failover`, figures in docs/performance_test_plan.md); here, only what fits the suite's budget.
"""
import json
import logging
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from stellar_sdk import Asset
from stellar_sdk.operation import ManageBuyOffer, ManageSellOffer

from profiling.bot_process import _LogJournal
from profiling.failover_verdict import (
    HORIZON,
    OVER_MAX,
    SURGE,
    WITHIN_MAX,
    FeeRecord,
    Phase,
    failover_checks,
    fee_records,
    reads_check,
    recovered_after,
    surge_checks,
    switch_delay,
    switch_for,
)
from profiling.load_scenarios import Failover
from profiling.strategies.market_activity import HorizonClient
from stellar_sandbox import Sandbox
from test.hummingbot.connector.exchange.stellar.integration.conftest import submit

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "import conftest, sys; from profiling.__main__ import main; sys.exit(main(sys.argv[1:]))"]
A, B = "http://127.0.0.1:8001", "http://127.0.0.1:8002"
T0 = 1_800_000_000.0
FAILOVER = Failover()
READS = {A: {"steady_reads": 4, "steady_requests": 30, "steady_s": 50.0, "steady_reads_per_hour": 288.0,
             "steady_requests_per_hour": 2160.0}}
MAX_FEE_MESSAGE = ("Failed to cancel order X (StellarOrderRejected: fee_surge (Fee surge: the network asks 20001 "
                   "stroops per operation, above the configured maximum stellar_max_fee_stroops = 10000))")


def _fault(name: str, start: float, target: str = A, **fields) -> Phase:
    return Phase(name, HORIZON, set_at=T0 + start, cleared_at=T0 + start + 7, target=target, healthy_before=True,
                 **fields)


def _switch(at: float, from_url: str = A, to_url: str = B) -> dict:
    return {"event": "switch", "time": T0 + at, "from_url": from_url, "to_url": to_url, "reason": "failing",
            "fault_age_s": 0.1, "wall": T0 + at + 0.05}


def _event(name: str, at: float, **fields) -> dict:
    return {"event": name, "wall": T0 + at, **fields}


def _trading(*starts: float) -> list:
    return [_event("created", s + 1, order_id=f"o{s}") for s in starts]


def _checks(phases, journal, fees=(), reads=None, configured=(A, B)) -> dict:
    return {c.name: c for c in failover_checks(phases, journal, list(fees), FAILOVER, reads or READS, configured)}


def test_each_fault_is_matched_with_the_first_switch_away_from_its_horizon_while_it_was_set():
    down, lag = _fault("down", 0), _fault("lag", 10, target=B)
    switches = [_switch(-1), _switch(2, from_url=B, to_url=A), _switch(3), _switch(12, from_url=B, to_url=A),
                _switch(30)]
    assert switch_for(down, switches)["time"] == T0 + 3        # not the one before it, nor the other Horizon's
    assert switch_for(lag, switches)["time"] == T0 + 12
    assert switch_for(_fault("silent", 20), switches) is None  # the one at 30 s came after it was cleared
    assert switch_delay(down, switch_for(down, switches)) == pytest.approx(3)
    # A 429 counts from the first one the sandbox served (the bot meets it only when it asks).
    met_late = _fault("429", 0, effective_at=T0 + 4)
    assert switch_delay(met_late, _switch(4.5)) == pytest.approx(0.5)


def test_timely_switches_and_trading_through_every_fault_pass():
    phases = [_fault("down", 0), _fault("lag", 10, target=B), _fault("429", 20), _fault("silent", 30, target=B)]
    journal = [_switch(0.3), _switch(11.5, from_url=B, to_url=A), _switch(20.1), _switch(31.4, from_url=B, to_url=A),
               *_trading(0, 10, 20, 30)]
    checks = _checks(phases, journal)
    assert all(check.passed for check in checks.values()), {n: c.measured for n, c in checks.items()}
    assert checks["switch time"].timing and not checks["each fault switched"].timing
    assert "worst 1.50 s" in checks["switch time"].measured


def test_with_one_horizon_configured_no_fault_is_switched_away_from_and_both_switch_checks_fail():
    phases = [_fault("down", 0), _fault("lag", 10), _fault("429", 20), _fault("silent", 30)]
    checks = _checks(phases, _trading(0, 10, 20, 30), configured=(A,))
    assert not checks["each fault switched"].passed and not checks["switch time"].passed
    assert checks["each fault switched"].measured.count("no switch") == 4
    assert "1 Horizon(s) configured" in checks["each fault switched"].criterion


def test_a_switch_later_than_the_limit_fails_only_the_timing_check():
    phases = [_fault("down", 0), _fault("lag", 10, target=B)]
    checks = _checks(phases, [_switch(0.2), _switch(16.0, from_url=B, to_url=A), *_trading(0, 10)])
    assert checks["each fault switched"].passed
    assert not checks["switch time"].passed and "lag: 6.00 s" in checks["switch time"].measured


def test_a_fault_the_bot_did_not_trade_through_fails_keeps_trading():
    phases = [_fault("down", 0), _fault("lag", 10, target=B)]
    journal = [_switch(0.2), _switch(11, from_url=B, to_url=A), *_trading(0),
               _event("filled", 12, order_id="o0")]   # fills alone are not the bot trading
    check = _checks(phases, journal)["keeps trading"]
    assert not check.passed and "lag: 0 created, 0 cancelled, 1 fills" in check.measured


def _surge(name: str, fee: int, start: float, ledgers=(100, 110)) -> Phase:
    return Phase(name, SURGE, set_at=T0 + start, cleared_at=T0 + start + 10, ledgers=ledgers, surge_fee=fee)


def test_a_surge_within_the_maximum_is_met_by_orders_placed_at_a_bid_above_it():
    within = _surge(WITHIN_MAX, 2000, 0)
    fees = [FeeRecord(ledger=99, bid_per_op=100, charged_per_op=100, creates=4),   # before: not under the surge
            FeeRecord(ledger=103, bid_per_op=2001, charged_per_op=2000, creates=2),
            FeeRecord(ledger=105, bid_per_op=2001, charged_per_op=2000, creates=0)]
    (check,) = surge_checks([within], [], fees, FAILOVER)
    assert check.passed and "2 offer(s) created in 2 transaction(s)" in check.measured
    # No order placed under it, a bid above the maximum, or an order refused for its fee: not met.
    assert not surge_checks([within], [], fees[-1:], FAILOVER)[0].passed
    over_the_cap = [FeeRecord(ledger=104, bid_per_op=FAILOVER.max_fee + 1, charged_per_op=2000, creates=1)]
    assert not surge_checks([within], [], over_the_cap, FAILOVER)[0].passed
    refused = [_event("failed", 5, order_id="o1", error="Fee surge: the network refused the fee again")]
    assert not surge_checks([within], refused, fees, FAILOVER)[0].passed


def test_a_surge_above_the_maximum_must_refuse_orders_naming_the_maximum():
    over = _surge(OVER_MAX, 20_000, 0)
    named = [_event("log", 3, level="ERROR", message=MAX_FEE_MESSAGE)]
    (check,) = surge_checks([over], named, [], FAILOVER)
    assert check.passed and "1 of 1 fee refusal(s) name stellar_max_fee_stroops" in check.measured
    assert not surge_checks([over], [], [], FAILOVER)[0].passed   # nothing refused: nothing shown to the user
    unclear = [_event("failed", 3, order_id="o1", error="Fee surge: no higher bid")]
    assert not surge_checks([over], unclear, [], FAILOVER)[0].passed


def test_each_horizons_requests_per_hour_are_held_to_the_public_budget():
    assert reads_check(READS).passed
    busy = {**READS, B: {**READS[A], "steady_requests": 60, "steady_requests_per_hour": 4320.0}}
    check = reads_check(busy)
    assert not check.passed and f"{B}: 288 reads, 4320 requests an hour" in check.measured
    assert not reads_check({A: {**READS[A], "steady_s": 0}}).passed   # no steady window: not measured


def test_recovery_is_timed_from_the_faults_end_to_every_horizon_healthy_again():
    down = _fault("down", 0)
    healthy = {"states": {A: "healthy", B: "healthy"}}
    journal = [_event("horizons", 0.2, states={A: "failing", B: "healthy"}), _event("horizons", 9.5, **healthy)]
    assert recovered_after(down, journal) == pytest.approx(2.5)
    assert recovered_after(down, journal[:1]) is None
    assert recovered_after(down, [_event("horizons", 6, **healthy)]) == 0.0


def test_the_bots_log_journal_keeps_hummingbots_warnings_with_their_exception_and_nothing_else():
    entries = []

    class Journal:
        def write(self, event, **fields):
            entries.append({"event": event, **fields})

    handler = _LogJournal(Journal())
    logger = logging.getLogger("hummingbot.connector.exchange.stellar.test_failover")
    other = logging.getLogger("aiohttp.test_failover")
    for each in (logger, other):
        each.addHandler(handler)
    try:
        try:
            raise RuntimeError("fee_surge (stellar_max_fee_stroops = 10000)")
        except RuntimeError:
            logger.error("Failed to cancel order X", exc_info=True)
        logger.info("not kept: below a warning")
        other.warning("not kept: not Hummingbot's")
    finally:
        for each in (logger, other):
            each.removeHandler(handler)
    assert [(e["event"], e["level"], e["message"]) for e in entries] == [
        ("log", "ERROR", "Failed to cancel order X (RuntimeError: fee_surge (stellar_max_fee_stroops = 10000))")]


@pytest.mark.integration
async def test_fee_records_are_the_accounts_own_transactions_with_their_bid_per_operation():
    xlm = Asset.native()
    async with Sandbox(ledger_interval=0.05) as net, aiohttp.ClientSession() as session:
        horizon = HorizonClient(session, net.horizon_url, net.passphrase)
        trader, channel, taker = [await net.create_account(xlm=1000) for _ in range(3)]
        usd = await net.issue_asset("USD")
        await net.trust_and_fund(trader, usd, "500")
        await net.trust_and_fund(taker, usd, "500")
        net.set_surge(2000)
        # As the connector sends them under a surge: a channel account's transaction, the trader's operation.
        placed = await submit(net, channel, ManageSellOffer(selling=xlm, buying=usd, amount="10", price="0.5",
                                                             source=trader.public_key), fee=2001, signers=[trader])
        # A taker crossing that offer touches the trader's account, but it is not one of the trader's transactions.
        taken = await submit(net, taker, ManageBuyOffer(selling=usd, buying=xlm, amount="4", price="0.5"), fee=3000)
        net.set_surge(None)

        records = await fee_records(horizon, trader.public_key)
        listed = await horizon.records(f"/accounts/{trader.public_key}/transactions", limit=200)

    assert taken["hash"] in {r["hash"] for r in listed}   # Horizon lists it for the trader...
    ours = [r for r in records if r.ledger >= int(placed["ledger"])]
    assert ours == [FeeRecord(ledger=int(placed["ledger"]), bid_per_op=2001, charged_per_op=2000, creates=1)]


@pytest.mark.integration
def test_with_a_single_horizon_configured_the_failover_scenario_fails_its_switch_check_and_exits_non_zero(tmp_path):
    completed = subprocess.run(CLI + ["loadtest", "--scenario", "failover", "--single-horizon", "--duration", "20",
                                      "--output", str(tmp_path)],
                               cwd=REPO_ROOT, capture_output=True, text=True, timeout=240)
    folder = tmp_path / "8-failover"
    assert (folder / "loadtest.json").is_file(), completed.stderr[-3000:]
    data = json.loads((folder / "loadtest.json").read_text(encoding="utf-8"))
    checks = {check["name"]: check for check in data["checks"]}
    assert completed.returncode == 1 and not data["passed"]
    switched = checks["each fault switched"]
    assert not switched["passed"] and switched["measured"].count("no switch") == len(FAILOVER.faults)
    assert data["figures"]["horizons_configured"] == 1 and data["figures"]["switches"] == 0
    # The run itself went through: every fault set on the one Horizon and cleared, the orderly stop reached.
    assert [p["name"] for p in data["phases"]] == [*FAILOVER.faults, WITHIN_MAX, OVER_MAX]
    assert all(p["target"] == data["failover"]["configured"][0] for p in data["phases"] if p["kind"] == HORIZON)
    assert data["bots"][0]["ended_by"] == "stop" and data["bots"][0]["exit"] == 0
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "## Load test 8: Horizon failover and fee surge" in report and "| each fault switched |" in report


AUDIT = ("orders lost", "orders duplicated", "fills missed", "fills duplicated", "balances", "no offer left unknown")


@pytest.mark.integration
def test_a_shortened_failover_run_switches_away_from_each_fault_and_keeps_the_books_right(tmp_path):
    """Half the default length: each fault held 3.5 s, each surge 5 s or less. A 429 is met only if the bot asks
    within that, and a surge's window may hold only cancels (its quotes refresh every 5 s), so only the faults it
    cannot miss are required to switch here, and the books to be right; the default length checks the rest."""
    completed = subprocess.run(CLI + ["loadtest", "--scenario", "failover", "--duration", "30",
                                      "--output", str(tmp_path)],
                               cwd=REPO_ROOT, capture_output=True, text=True, timeout=240)
    folder = tmp_path / "8-failover"
    assert (folder / "loadtest.json").is_file(), completed.stderr[-3000:]
    data = json.loads((folder / "loadtest.json").read_text(encoding="utf-8"))
    checks = {check["name"]: check for check in data["checks"]}
    failed = {name: checks[name]["measured"] for name in AUDIT if not checks[name]["passed"]}
    assert not failed, f"{failed}\n{completed.stderr[-3000:]}"
    figures = data["figures"]
    assert figures["horizons_configured"] == 2 and figures["ledger_offer_creates"] > 0 and figures["ledger_trades"] > 0
    switched = {row["fault"] for row in figures["switch_s"] if row["switch_s"] is not None}
    assert {"down", "lag", "silent"} <= switched, checks["each fault switched"]["measured"]
    # Every switch went from the Horizon faulted to the other one, and the faults alternated between the two.
    targets = [p["target"] for p in data["phases"] if p["kind"] == HORIZON]
    assert set(targets) == set(data["failover"]["configured"])
