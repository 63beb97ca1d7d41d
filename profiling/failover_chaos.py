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

The verdict: the ledger audit of the restart scenario (`profiling.process_chaos.ChaosHarness.common_checks`: orders
lost or duplicated, fills missed or duplicated, balances, offers left unknown, REST reads), and the failover's own
(`failover_checks`): each fault switched away from the faulted Horizon, within `switch_limit_s` of the fault being set
(timed from the scenario's wall clock at the fault to the switch's own record in the bot: one machine, one clock);
the bot kept placing and cancelling orders during each fault and the surge within its maximum; every transaction
of the account in a surge's ledgers bid above the surge and within the maximum, and above the maximum orders failed
with a message naming it; each connector Horizon's REST reads and requests per hour in the steady window within its
budget (SDF's public 3,600 an hour). The per-account steady-state criterion of 60 REST reads an hour is not checked
here: faults every few seconds leave no steady state (each switch resyncs the book, each submission a Horizon failed
under is looked up by hash); the figures show it.
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from .horizon_requests import PUBLIC_BUDGET_PER_HOUR, REST, STREAM, SUBMIT
from .ledger_audit import all_records, offer_creates
from .load_scenarios import Failover, LoadScenario
from .process_chaos import REPORT, ChaosHarness, ChaosResult, Segment, write_result
from .verdicts import Check

HORIZON = "horizon"
SURGE = "surge"
HEALTHY = "healthy"
WITHIN_MAX = "surge within the max"
OVER_MAX = "surge above the max"
MAX_FEE_SETTING = "stellar_max_fee_stroops"   # what a clear fee failure names
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


@dataclass
class Phase:
    """One fault or surge, as the scenario set it (wall-clock times: the bot's journal and switches use the same)."""
    name: str
    kind: str                                    # HORIZON or SURGE
    set_at: float
    cleared_at: float = 0.0
    target: Optional[str] = None                 # the Horizon faulted (the one active when it was set)
    settings: Dict[str, Any] = field(default_factory=dict)
    effective_at: Optional[float] = None         # when it first took effect, if later than set (a 429 once served)
    healthy_before: Optional[bool] = None        # every configured Horizon healthy when it was set
    waited_s: float = 0.0                        # for that
    ledgers: Tuple[int, int] = (0, 0)            # SURGE: the ledgers closed under it are (first, second]
    surge_fee: Optional[int] = None
    in_flight_before: Optional[int] = None       # SURGE: the bot's transactions in flight when it was set


@dataclass(frozen=True)
class FeeRecord:
    """One transaction of the account on the ledger, with what it bid and paid per operation."""
    ledger: int
    bid_per_op: int
    charged_per_op: int
    creates: int                                 # offer-creating operations of the account in it


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
                 if url in {_url(u) for u in configured}}
        checks = harness.common_checks(evidence, steady_reads=False) + failover_checks(
            phases, journal, fees, failover, reads, configured)
        figures = {"wall_clock_s": round(time.monotonic() - began, 1), "rounds": rounds,
                   "horizons_configured": len(configured), "ledger_interval_s": harness.ledger_interval,
                   **failover_figures(phases, journal, reads, failover), **harness.figures(evidence)}
        rpc = await _rpc_requests(harness)
        figures["rpc_requests"] = rpc
    result = ChaosResult(scenario, duration, checks, figures, output / REPORT, details={
        "failover": {**asdict(failover), "rounds": rounds, "scale": round(scale, 3), "configured": configured},
        "phases": [_phase_row(p, journal) for p in phases],
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
    active = _url((segment.bot.last("horizons") or {}).get("active") or segment.bot.spec.horizon_url.split(",")[0])
    position = [_url(u) for u in harness.sandbox.connector_urls].index(active)
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


def _url(url: str) -> str:
    return url.rstrip("/")


def all_healthy(horizons: Optional[Mapping[str, Any]]) -> bool:
    states = (horizons or {}).get("states") or {}
    return bool(states) and all(state == HEALTHY for state in states.values())


# ----- the ledger's side -----

async def fee_records(horizon, account_id: str) -> List[FeeRecord]:
    """The account's own transactions on the ledger (an operation of its own in them: a channel account may be the
    source), with their bids; Horizon also lists those of others that only touched it (a taker's, crossing its
    offer)."""
    records = await all_records(horizon, f"/accounts/{account_id}/transactions")
    return [fee_record(r, account_id, horizon.passphrase) for r in records
            if r.get("successful", True) and own_operations(r, account_id, horizon.passphrase)]


def own_operations(record: Mapping[str, Any], account_id: str, passphrase: str) -> int:
    from stellar_sdk import TransactionEnvelope

    transaction = TransactionEnvelope.from_xdr(record["envelope_xdr"], passphrase).transaction
    return sum(1 for op in transaction.operations
               if (op.source.account_id if op.source is not None else transaction.source.account_id) == account_id)


def fee_record(record: Mapping[str, Any], account_id: str, passphrase: str) -> FeeRecord:
    operations = max(1, int(record.get("operation_count") or 1) + (1 if "fee_bump_transaction" in record else 0))
    return FeeRecord(ledger=int(record["ledger"]), bid_per_op=int(record["max_fee"]) // operations,
                     charged_per_op=int(record["fee_charged"]) // operations,
                     creates=len(offer_creates(record, account_id, passphrase)))


# ----- the verdict (pure: crafted phases and journals test it) -----

def switches_of(journal: Sequence[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    return [{k: v for k, v in entry.items() if k not in ("event", "at", "wall")}
            for entry in journal if entry.get("event") == "switch"]


def switch_for(phase: Phase, switches: Sequence[Mapping[str, Any]]) -> Optional[Mapping[str, Any]]:
    """The first switch away from the faulted Horizon while its fault was set."""
    return next((s for s in switches if _url(str(s.get("from_url", ""))) == phase.target
                 and phase.set_at <= float(s["time"]) <= phase.cleared_at), None)


def switch_delay(phase: Phase, switch: Optional[Mapping[str, Any]]) -> Optional[float]:
    """Seconds from the fault taking effect (set; a 429: first served) to the bot's switch record."""
    if switch is None:
        return None
    return float(switch["time"]) - max(phase.set_at, phase.effective_at or phase.set_at)


def orders_during(phase: Phase, journal: Sequence[Mapping[str, Any]]) -> Counter:
    """The bot's order events (created, cancelled, filled, failed...) while the phase's fault was set."""
    return Counter(entry["event"] for entry in journal
                   if entry.get("event") in ("created", "cancelled", "completed", "filled", "failed")
                   and phase.set_at <= float(entry.get("wall") or 0) <= phase.cleared_at)


def recovered_after(phase: Phase, journal: Sequence[Mapping[str, Any]]) -> Optional[float]:
    """Seconds from the fault's end until the bot reported every Horizon healthy again (None: never)."""
    states = [e for e in journal if e.get("event") == "horizons"]
    before = [e for e in states if float(e.get("wall") or 0) <= phase.cleared_at]
    if before and all_healthy(before[-1]):
        return 0.0
    after = next((e for e in states if float(e.get("wall") or 0) > phase.cleared_at and all_healthy(e)), None)
    return None if after is None else round(float(after["wall"]) - phase.cleared_at, 2)


def fee_refusals(phase: Phase, journal: Sequence[Mapping[str, Any]], grace_s: float = 0.0) -> List[str]:
    """What the bot said of orders refused for their fee while the phase was set (and `grace_s` after): order
    failures, and the log's refused cancels (a cancel has no failure event)."""
    texts = [str(entry.get("error") if entry.get("event") == "failed" else entry.get("message") or "")
             for entry in journal if entry.get("event") in ("failed", "log")
             and phase.set_at <= float(entry.get("wall") or 0) <= phase.cleared_at + grace_s]
    return [text for text in texts if "fee surge" in text.lower() or "fee_surge" in text]


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
        rows[_url(url)] = {
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


def failover_checks(phases: Sequence[Phase], journal: Sequence[Mapping[str, Any]], fees: Sequence[FeeRecord],
                    failover: Failover, reads: Mapping[str, Mapping[str, Any]],
                    configured: Sequence[str]) -> List[Check]:
    switches = switches_of(journal)
    faults = [p for p in phases if p.kind == HORIZON]
    found = [(p, switch_for(p, switches)) for p in faults]
    delays = [(p, switch_delay(p, s)) for p, s in found]
    limit = failover.switch_limit_s

    def switch_text(p: Phase, s: Optional[Mapping[str, Any]]) -> str:
        if s is None:
            return f"{p.name}: no switch" + ("" if p.healthy_before else " (not every Horizon healthy before it)")
        if p.effective_at is not None and p.effective_at > p.set_at:
            return (f"{p.name}: {switch_delay(p, s):.2f} s from the first one served "
                    f"({float(s['time']) - p.set_at:.2f} s from set)")
        return f"{p.name}: {switch_delay(p, s):.2f} s"

    keeps = [p for p in phases if p.kind == HORIZON or p.name == WITHIN_MAX]
    activity = [(p, orders_during(p, journal)) for p in keeps]
    checks = [
        Check("each fault switched", f"a switch away from the faulted Horizon while each fault was set "
              f"({len(configured)} Horizon(s) configured)", "; ".join(switch_text(p, s) for p, s in found)
              or "no fault set", bool(found) and all(s is not None for _p, s in found)),
        Check("switch time", f"<= {limit:g} s from the fault set (the scenario's clock; a 429: from the first one the "
              "sandbox served, for the bot meets it only when it asks) to the bot's switch record",
              (f"worst {max(d for _p, d in delays if d is not None):.2f} s; " if any(d is not None for _p, d in delays)
               else "") + "; ".join(switch_text(p, s) for p, s in found),
              bool(delays) and all(d is not None and d <= limit for _p, d in delays), timing=True),
        Check("keeps trading", "during each Horizon fault and the surge within the maximum, the bot placed or "
              "cancelled orders", "; ".join(f"{p.name}: {c['created']} created, {c['cancelled']} cancelled, "
                                            f"{c['filled']} fills" for p, c in activity),
              bool(activity) and all(c["created"] + c["cancelled"] > 0 for _p, c in activity)),
    ]
    checks += surge_checks(phases, journal, fees, failover)
    checks.append(reads_check(reads))
    return checks


def reads_check(reads: Mapping[str, Mapping[str, Any]], budget: float = PUBLIC_BUDGET_PER_HOUR) -> Check:
    """Each Horizon's own budget: its REST reads, and all its requests (SDF counts stream openings and submissions
    too), per hour over the bot's steady window, from that frontend's request log."""
    def text(url: str, row: Mapping[str, Any]) -> str:
        if row.get("steady_s") in (None, 0):
            return f"{url}: not measured"
        return (f"{url}: {row['steady_reads_per_hour']:.0f} reads, {row['steady_requests_per_hour']:.0f} requests an "
                f"hour ({row['steady_reads']} and {row['steady_requests']} in {row['steady_s']:.0f} s)")

    measured = [row for row in reads.values() if row.get("steady_s")]
    within = all(row["steady_reads_per_hour"] <= budget and row["steady_requests_per_hour"] <= budget
                 for row in measured)
    return Check("requests per Horizon", f"<= {budget:,.0f} an hour on each of the connector's Horizons (SDF's public "
                 "budget per IP: reads, submissions and stream openings alike), REST reads and all requests, over the "
                 "steady window, counted by each frontend's request log", "; ".join(
                     text(url, row) for url, row in reads.items()) or "no frontend",
                 bool(reads) and len(measured) == len(reads) and within)


def surge_checks(phases: Sequence[Phase], journal: Sequence[Mapping[str, Any]], fees: Sequence[FeeRecord],
                 failover: Failover) -> List[Check]:
    checks = []
    within = [p for p in phases if p.name == WITHIN_MAX]
    if within:
        texts, good = [], True
        for p in within:
            under = [f for f in fees if p.ledgers[0] < f.ledger <= p.ledgers[1]]
            creates = sum(f.creates for f in under)
            bids = sorted({f.bid_per_op for f in under})
            fee_failures = fee_refusals(p, journal)
            ok = creates > 0 and all(p.surge_fee < b <= failover.max_fee for b in bids) and not fee_failures
            good = good and ok
            texts.append(f"{p.surge_fee} stroops: {creates} offer(s) created in {len(under)} transaction(s) of ledgers "
                         f"{p.ledgers[0] + 1}-{p.ledgers[1]}, bids per operation {bids or '-'}, "
                         f"{len(fee_failures)} refused for the fee" + _in_flight_text(p))
        checks.append(Check("surge within the max", f"orders placed during the surge, every transaction of the "
                            f"account bidding above the surge and at most {MAX_FEE_SETTING} = {failover.max_fee}; "
                            "none refused for its fee", "; ".join(texts), good))
    over = [p for p in phases if p.name == OVER_MAX]
    if over:
        texts, good = [], True
        for p in over:
            under = [f for f in fees if p.ledgers[0] < f.ledger <= p.ledgers[1]]
            failures = fee_refusals(p, journal, grace_s=2.0)
            clear = [e for e in failures if MAX_FEE_SETTING in e]
            above = [f.bid_per_op for f in under if f.bid_per_op > failover.max_fee]
            ok = bool(clear) and not above
            good = good and ok
            example = f" (e.g. \"{clear[0][:140]}\")" if clear else ""
            bids = f"bids above the maximum: {above}" if above else "none bidding above the maximum"
            texts.append(f"{p.surge_fee} stroops: {len(clear)} of {len(failures)} fee refusal(s) name {MAX_FEE_SETTING}"
                         f"{example}; {len(under)} transaction(s) of the account in its ledgers, {bids}"
                         + _in_flight_text(p))
        checks.append(Check("surge above the max", f"orders (creates or cancels) refused with a message naming "
                            f"{MAX_FEE_SETTING}; no transaction bids above it", "; ".join(texts), good))
    return checks


def _in_flight_text(phase: Phase) -> str:
    n = phase.in_flight_before or 0
    return f" (set with {n} transaction(s) in flight)" if n else ""


def failover_figures(phases: Sequence[Phase], journal: Sequence[Mapping[str, Any]],
                     reads: Mapping[str, Mapping[str, Any]], failover: Failover) -> Dict[str, Any]:
    switches = switches_of(journal)
    faults = [p for p in phases if p.kind == HORIZON]
    found = [(p, switch_for(p, switches)) for p in faults]
    delays = [None if s is None else round(switch_delay(p, s), 2) for p, s in found]
    from_set = [None if s is None else round(float(s["time"]) - p.set_at, 2) for p, s in found]
    measured = [d for d in delays if d is not None]
    counts = Counter(e["event"] for e in journal if e.get("event") in ("created", "cancelled", "filled", "failed"))
    return {
        "switches": len(switches),
        "switches_attributed": len(measured),
        "worst_switch_s": max(measured) if measured else None,
        "switch_s": [{"fault": p.name, "switch_s": d, "from_set_s": f}
                     for p, d, f in zip(faults, delays, from_set, strict=True)],
        "worst_fault_age_s": round(max((float(s["fault_age_s"]) for s in switches), default=0.0), 2),
        "recovered_s": [{"fault": p.name, "recovered_s": recovered_after(p, journal)} for p in faults],
        "reads_per_hour_per_horizon": {url: row.get("steady_reads_per_hour") for url, row in reads.items()},
        "requests_per_hour_per_horizon": {url: row.get("steady_requests_per_hour") for url, row in reads.items()},
        "requests_per_horizon": {url: {k: row[k] for k in ("reads", "submissions", "stream_openings")}
                                 for url, row in reads.items()},
        "orders_created": counts["created"], "orders_cancelled": counts["cancelled"], "fills": counts["filled"],
        "orders_failed": counts["failed"],
    }


def _phase_row(phase: Phase, journal: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
    row = asdict(phase)
    row["held_s"] = round(phase.cleared_at - phase.set_at, 2)
    row["orders"] = dict(orders_during(phase, journal))
    if phase.kind == HORIZON:
        row["recovered_s"] = recovered_after(phase, journal)
    return row


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
