"""The verdict of load test 8, `failover` (profiling.failover_chaos): what the scenario set (its `Phase`s, on the
scenario's wall clock), what the bot reported (its journal: `switch`, `horizons`, order events, `log`), and what the
ledger holds (the account's own transactions and their bids: `fee_records`), judged against the criteria:

- each fault switched away from the faulted Horizon while it was set, within `Failover.switch_limit_s` of taking
  effect (set; a 429 once the sandbox served the first: the bot meets it only when it asks);
- the bot kept placing or cancelling orders through each fault and the surge within its maximum;
- under a surge within the maximum, orders were placed and every transaction of the account bid above the surge and
  at most the maximum, none refused for its fee; above the maximum, orders were refused naming it;
- each Horizon's REST reads and all its requests per hour (its frontend's request log) within SDF's public budget.

Pure but for `fee_records` (one Horizon read): crafted phases and journals test it
(test/profiling/test_loadtest_failover.py).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .horizon_requests import PUBLIC_BUDGET_PER_HOUR
from .ledger_audit import all_records, offer_creates
from .load_scenarios import Failover
from .verdicts import Check

HORIZON = "horizon"
SURGE = "surge"
HEALTHY = "healthy"
WITHIN_MAX = "surge within the max"
OVER_MAX = "surge above the max"
MAX_FEE_SETTING = "stellar_max_fee_stroops"   # what a clear fee refusal names


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


def base_url(url: str) -> str:
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
    return next((s for s in switches if base_url(str(s.get("from_url", ""))) == phase.target
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
            charged = sorted({f.charged_per_op for f in under})
            fee_failures = fee_refusals(p, journal)
            ok = creates > 0 and all(p.surge_fee < b <= failover.max_fee for b in bids) and not fee_failures
            good = good and ok
            texts.append(f"{p.surge_fee} stroops: {creates} offer(s) created in {len(under)} transaction(s) of ledgers "
                         f"{p.ledgers[0] + 1}-{p.ledgers[1]}, bids per operation {bids or '-'} "
                         f"(charged {charged or '-'}), {len(fee_failures)} refused for the fee" + _in_flight_text(p))
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


def phase_row(phase: Phase, journal: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
    row = asdict(phase)
    row["held_s"] = round(phase.cleared_at - phase.set_at, 2)
    row["orders"] = dict(orders_during(phase, journal))
    if phase.kind == HORIZON:
        row["recovered_s"] = recovered_after(phase, journal)
    return row
