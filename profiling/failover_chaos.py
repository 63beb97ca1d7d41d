"""Load test 8, `failover`: pure market making against the sandbox while the Horizon the bot is using fails, one
fault after the other, and the network's fees surge.

    python -m profiling loadtest --scenario failover                    # one round, 60 s of trading (~1.5 min)
    python -m profiling loadtest --scenario failover --full             # four rounds (~5 min)
    python -m profiling loadtest --scenario failover --single-horizon   # the negative control: must FAIL

The bot runs in a child process (`profiling.bot_process`, as in the restart scenario), its connector configured
with two Horizon frontends of the sandbox (`stellar_horizon_url` = both, comma-separated) and a Stellar RPC-only
frontend (`stellar_rpc_url`); the other traders and this process's audit use a third frontend, never faulted. A
round (`load_scenarios.Failover`):

1. warm-up: the bot trades;
2. one Horizon fault after the other, each set on the Horizon the bot reports active at that moment (once every
   configured Horizon is healthy again, so a switch is possible), held `fault_s`, then cleared (the Horizon comes
   back): `down` (its listener closed, its connections reset), `lag` (it ingests `lag_ledgers` behind the network),
   `429` (every request refused with 429 and a Retry-After), `silent` (its streams dropped, and new ones connect
   and then say nothing);
3. a fee surge within the bot's `stellar_max_fee_stroops` (the network's other traffic bids `surge_fee` per
   operation), then one above it;
4. trading again, then the orderly stop.

The verdict: the ledger audit of the restart scenario (`ChaosHarness.common_checks`: orders lost or duplicated,
fills missed or duplicated, balances, offers left unknown) and the failover's own (`profiling.failover_verdict`):
each fault switched away from within `switch_limit_s`, trading through the faults and the surge, the surge met within
the maximum and refused naming it above, each Horizon's requests within its budget. The per-account steady-state
criterion of 60 REST reads an hour is not checked here: faults every few seconds leave no steady state (each switch
reads the book again, each submission a Horizon failed under is looked up by hash); the figures show it.

Switch times run from the scenario's wall clock at the fault to the switch's own record in the bot (one machine,
one clock). The surges are set at a quiet moment (`_quiet_moment`): a transaction pending when a surge begins waits
out its time bound (30 s), which is not what they measure.
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from .failover_verdict import (
    HORIZON,
    OVER_MAX,
    SURGE,
    WITHIN_MAX,
    Phase,
    all_healthy,
    base_url,
    failover_checks,
    failover_figures,
    fee_records,
    phase_row,
    switches_of,
)
from .horizon_requests import REST, STREAM, SUBMIT
from .load_scenarios import Failover, LoadScenario
from .process_chaos import REPORT, ChaosHarness, ChaosResult, Segment, write_result

POLL_S = 0.05
QUIET_TICK = (0.1, 0.5)   # the part of a second a surge is set in: after a tick's orders are seen, before the next
_HOUR = 3600.0
KINDS = (REST, SUBMIT, STREAM)

# Faults the bot meets only when it asks: the sandbox's count of their injections dates their first effect.
MET_WHEN_ASKED = {"429": "errors"}
FAULT_SETTINGS: Dict[str, Callable[[Failover], Dict[str, Any]]] = {
    "down": lambda f: {"down": True},
    "lag": lambda f: {"lag": f.lag_ledgers},
    "429": lambda f: {"errors": {"rate": 1.0, "statuses": [429], "retry_after": f.retry_after_s}},
    # Open streams go on unless cut: dropped, they reconnect into silence.
    "silent": lambda f: {"silent_streams": True, "drop_streams": True},
}


async def run_failover_scenario(scenario: LoadScenario, output: Path, *, duration: float,
                                failover: Optional[Failover] = None, progress: bool = False) -> ChaosResult:
    failover = failover or scenario.failover or Failover()
    rounds, scale = failover.rounds(duration), failover.scale(duration)
    output = Path(output)
    began = time.monotonic()
    phases: List[Phase] = []
    async with ChaosHarness(output, progress=progress, connector_horizons=2, rpcs=1,
                            market_fee=failover.market_fee) as harness:
        overrides: Dict[str, Any] = {"max_fee_stroops": failover.max_fee}
        if failover.single_horizon:
            overrides["horizon_url"] = harness.sandbox.connector_urls[0]
        segment = await harness.start_bot(**overrides)
        configured = segment.bot.spec.horizon_url.split(",")
        for _round in range(rounds):
            await harness.trade(segment, failover.warmup_s * scale)
            for fault in failover.faults:
                phases.append(await _horizon_fault(harness, segment, fault, failover, failover.fault_s * scale))
            phases.append(await _surge(harness, segment, WITHIN_MAX, failover.surge_fee, failover.surge_s * scale,
                                       failover.quiet_wait_s))
            if failover.over_max_s > 0:
                phases.append(await _surge(harness, segment, OVER_MAX, failover.over_max_fee,
                                           failover.over_max_s * scale, failover.quiet_wait_s))
            await harness.trade(segment, failover.tail_s * scale)
        await harness.finish(segment)
        evidence = await harness.evidence()
        fees = await fee_records(harness.horizon, harness.participants.trader.public_key)
        journal = segment.bot.journal
        reads = {url: row for url, row in frontend_reads(harness, segment).items()
                 if url in {base_url(u) for u in configured}}
        checks = harness.common_checks(evidence, steady_reads=False) + failover_checks(
            phases, journal, fees, failover, reads, configured)
        figures = {"wall_clock_s": round(time.monotonic() - began, 1), "rounds": rounds,
                   "horizons_configured": len(configured), "ledger_interval_s": harness.ledger_interval,
                   **failover_figures(phases, journal, reads, failover), **harness.figures(evidence)}
        rpc = await _rpc_requests(harness)
        figures["rpc_requests"] = rpc
    result = ChaosResult(scenario, duration, checks, figures, output / REPORT, details={
        "failover": {**asdict(failover), "rounds": rounds, "scale": round(scale, 3), "configured": configured},
        "phases": [phase_row(p, journal) for p in phases],
        "switches": switches_of(journal),
        "horizons": reads,
        "bots": [s.summary() for s in harness.segments],
        "explained": evidence.accounting.explained,
        "ledger": {"offer_creates": len(evidence.history.creates), "trades": len(evidence.history.trades),
                   "offers_after": evidence.offers_after}})
    write_result(result, _notes(failover, harness, configured))
    return result


async def _horizon_fault(harness: ChaosHarness, segment: Segment, fault: str, failover: Failover,
                         hold_s: float) -> Phase:
    waited, healthy = await _wait_all_healthy(segment, failover.recover_wait_s)
    active = base_url((segment.bot.last("horizons") or {}).get("active") or segment.bot.spec.horizon_url.split(",")[0])
    position = [base_url(u) for u in harness.sandbox.connector_urls].index(active)
    settings = FAULT_SETTINGS[fault](failover)
    phase = Phase(fault, HORIZON, set_at=time.time(), target=active, settings=settings, healthy_before=healthy,
                  waited_s=round(waited, 2))
    answer = await harness.set_faults(position, settings)
    harness.say(f"fault {fault} on {active}" + ("" if healthy else " (not every Horizon healthy before it)"))
    counter = MET_WHEN_ASKED.get(fault)
    watching = (asyncio.ensure_future(_first_effect(harness, position, counter, answer, phase))
                if counter is not None else None)
    try:
        await harness.trade(segment, hold_s)
    finally:
        if watching is not None:
            watching.cancel()
            await asyncio.gather(watching, return_exceptions=True)
        await harness.clear_faults(position)
        phase.cleared_at = time.time()
    return phase


async def _first_effect(harness: ChaosHarness, position: int, counter: str, settings: Mapping[str, Any],
                        phase: Phase) -> None:
    """Date the fault's first injection (the sandbox counts them per frontend): a 429 the bot first met."""
    index = harness.sandbox.connector_frontends[position]
    before = int((settings.get("injected") or {}).get(counter, 0))
    unchanged_at = phase.set_at   # the first injection came after this (the earliest it can have been: kept)
    while True:
        asked_at = time.time()
        faults = await harness.control("GET", f"/_sandbox/frontends/{index}/faults")
        if int((faults.get("injected") or {}).get(counter, 0)) > before:
            phase.effective_at = unchanged_at
            return
        unchanged_at = asked_at
        await asyncio.sleep(POLL_S)


async def _surge(harness: ChaosHarness, segment: Segment, name: str, fee: int, hold_s: float,
                 quiet_wait_s: float) -> Phase:
    waited, _quiet = await _quiet_moment(segment, quiet_wait_s)
    in_flight = int((segment.bot.last("orders") or {}).get("transactions") or 0)
    phase = Phase(name, SURGE, set_at=time.time(), settings={"surge_fee": fee}, surge_fee=fee,
                  waited_s=round(waited, 2), in_flight_before=in_flight)
    await harness.set_surge(fee)
    first = await harness.latest_ledger()     # read after the surge is set: later ledgers closed under it
    harness.say(f"fee surge: {fee} stroops per operation")
    try:
        await harness.trade(segment, hold_s)
    finally:
        last = await harness.latest_ledger()  # read before it ends: ledgers up to this one closed under it
        await harness.set_surge(None)
        phase.cleared_at = time.time()
    phase.ledgers = (first, last)
    return phase


async def _quiet_moment(segment: Segment, limit_s: float) -> Tuple[float, bool]:
    """Until the bot has no transaction in flight and its clock's next tick (whole seconds: the strategy's orders go
    out right after one) is at least half a second away; at most `limit_s`. A transaction the network holds when a
    surge begins bids below it: left out of ledgers, it is dropped after four, and the connector learns its fate only
    at its time bound (`TX_TIME_BOUND_SECONDS`, 30 s). That wait is the connector's (a fee bump would shorten it),
    not what the surge phases measure: whether new orders go out at the surge's bid, or fail naming the maximum."""
    started = time.monotonic()
    while True:
        state = segment.bot.last("orders") or {}
        if not state.get("transactions") and not state.get("creating") and QUIET_TICK[0] <= time.time() % 1.0 <= \
                QUIET_TICK[1]:
            return time.monotonic() - started, True
        if time.monotonic() - started >= limit_s or not segment.bot.running:
            return time.monotonic() - started, False
        await asyncio.sleep(POLL_S / 2)


async def _wait_all_healthy(segment: Segment, limit_s: float) -> Tuple[float, bool]:
    """Until the bot reports every configured Horizon healthy (a switch is then possible), at most `limit_s`."""
    started = time.monotonic()
    while True:
        if all_healthy(segment.bot.last("horizons")):
            return time.monotonic() - started, True
        if time.monotonic() - started >= limit_s or not segment.bot.running:
            return time.monotonic() - started, False
        await asyncio.sleep(POLL_S)


async def _rpc_requests(harness: ChaosHarness) -> Dict[str, int]:
    """What the Stellar RPC frontend was asked (by JSON-RPC route: the last resort's use)."""
    counts: Counter = Counter()
    for index in harness.sandbox.rpc_frontends:
        snapshot = await harness.control("GET", f"/_sandbox/frontends/{index}/requests")
        for row in snapshot.get("requests") or []:
            counts[f"{row['method']} {row['route']}"] += int(row["count"])
    return dict(counts)


def frontend_reads(harness: ChaosHarness, segment: Segment) -> Dict[str, Dict[str, Any]]:
    """Per connector frontend (by URL): REST reads in the bot's steady window and over its life, and all requests."""
    rows = {}
    window = segment.steady_s

    def per_hour(n: Optional[int]) -> Optional[float]:
        return round(n * _HOUR / window, 1) if n is not None and window > 0 else None

    for position, url in enumerate(harness.sandbox.connector_urls):
        steady = segment.reads(segment.counts_at_steady, segment.counts_at_end, position)
        requests = None if steady is None else sum(
            segment.reads(segment.counts_at_steady, segment.counts_at_end, position, kind) for kind in KINDS)
        rows[base_url(url)] = {
            "steady_reads": steady, "steady_requests": requests, "steady_s": round(window, 1),
            "steady_reads_per_hour": per_hour(steady), "steady_requests_per_hour": per_hour(requests),
            "reads": segment.reads(segment.counts_at_spawn, segment.counts_at_end, position),
            "submissions": segment.reads(segment.counts_at_spawn, segment.counts_at_end, position, SUBMIT),
            "stream_openings": segment.reads(segment.counts_at_spawn, segment.counts_at_end, position, STREAM),
            "steady_reads_by_route": _by_route(segment.counts_at_steady, segment.counts_at_end, position)}
    return rows


def _by_route(start: Optional[Counter], end: Optional[Counter], position: int) -> Dict[str, int]:
    if start is None or end is None:
        return {}
    return {route: n for (where, kind, route), n in sorted((end - start).items())
            if where == position and kind == REST and n}


def _notes(failover: Failover, harness: ChaosHarness, configured: Sequence[str]) -> List[str]:
    notes = [
        f"The bot's connector: {len(configured)} Horizon(s) ({', '.join(configured)}), Stellar RPC "
        f"{harness.sandbox.rpc_urls[0] if harness.sandbox.rpc_urls else '-'}; ledgers close every "
        f"{harness.ledger_interval:g} s. Each fault is set on the Horizon active at that moment.",
        "Switch times run from the scenario's wall clock just before it set the fault to the switch's record in the "
        "bot (same machine, same clock). A lag is only observable once a ledger closes that the lagging Horizon "
        "does not deliver (then half a ledger period more: `behind_s`); a 429 only once the bot next asks that "
        "Horizon something (a submission, a read, a stream reconnecting); silent streams once the heartbeat has "
        "heard nothing for three ledger periods.",
        "Beside this report: the bot's log (bot-1.log) and journal (bot-1.journal.jsonl: its switches and Horizon "
        "states), the sandbox's log (sandbox.log), Hummingbot's trade database (trades.sqlite).",
    ]
    if failover.single_horizon:
        notes.append("Negative control (--single-horizon): the bot has one Horizon configured, so no fault can be "
                     "switched away from; the verdict is expected to FAIL.")
    return notes


def single_horizon(failover: Failover) -> Failover:
    return replace(failover, single_horizon=True)
