"""The connector's Horizon requests in the steady state of a run: per endpoint and kind, per hour, against the
Horizon's budget. Plain data in, plain data out (the runner gathers the counts, the report shows the figures).

Steady state is cut by the runner: from `STEADY_MARGIN_S` after the connector reported ready (its start's reads,
the first safety poll, the first orders' sequence reads, all done) to the end of the strategy's run (before the
orders are cancelled and the ledger is checked). Counts in that window are extrapolated to an hour.

Counted twice, by two independent witnesses:
- the connector's measuring points, through the recorder: `horizon.<path template>`, one sample per REST call (its
  HorizonApi's and its data sources' `StreamGroup.get_json`; the POST of a submission is
  `horizon./transactions_async`), and the counter `horizon_stream.<path template>`, one per stream opening. These
  give the figures, and the criterion `perf_horizon_reads_per_hour` (REST reads only: GETs, not submissions nor
  stream openings);
- the sandbox's request log of the Horizon frontend the connector alone uses (the embedded sandbox in its child
  process serves the other traders on another frontend), when there is one: shown beside, per endpoint.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

REST = "rest"        # a GET
SUBMIT = "submit"    # a POST of a transaction
STREAM = "stream"    # an SSE stream opened
KIND_TITLES = {REST: "REST read", SUBMIT: "submission", STREAM: "stream opening"}
STEADY_MARGIN_S = 10.0
PUBLIC_BUDGET_PER_HOUR = 3600   # SDF's public Horizon, per IP address
CALL_PREFIX = "horizon."
STREAM_PREFIX = "horizon_stream."
_SUBMISSION_PATHS = frozenset({"/transactions_async", "/transactions"})
_NOT_HORIZON = frozenset({"/rpc", "/soroban/rpc"})   # Stellar RPC: another server, another budget
_HOUR = 3600.0

Key = Tuple[str, str]   # (kind, path template)


def connector_counts(counts: Mapping[str, int]) -> Counter:
    """(kind, path template) -> count, from the recorder's `horizon.*` points and `horizon_stream.*` counters."""
    by_key: Counter = Counter()
    for name, n in counts.items():
        if name.startswith(STREAM_PREFIX):
            by_key[(STREAM, name[len(STREAM_PREFIX):])] += n
        elif name.startswith(CALL_PREFIX):
            path = name[len(CALL_PREFIX):]
            by_key[(SUBMIT if path in _SUBMISSION_PATHS else REST, path)] += n
    return by_key


def sandbox_counts(snapshot: Mapping[str, Any]) -> Counter:
    """(kind, route) -> count, from a sandbox frontend's request log (`GET /_sandbox/requests`), Horizon only."""
    by_key: Counter = Counter()
    for row in snapshot.get("requests") or []:
        route = row["route"]
        if route in _NOT_HORIZON:
            continue
        if row["kind"] == "stream":
            kind = STREAM
        elif row["method"] == "POST":
            kind = SUBMIT
        else:
            kind = REST
        by_key[(kind, route)] += int(row["count"])
    return by_key


def _same_endpoint(key: Key) -> Key:
    """Templates name their placeholders differently ("{tx_hash}" here, "{tx_id}" in the sandbox): compare without."""
    return key[0], re.sub(r"\{[^}]*\}", "{}", key[1])


@dataclass
class RequestWindow:
    """Counts at the start of the steady window; `figures` takes the counts at its end."""
    started_s: float                          # a monotonic time
    connector_start: Counter
    sandbox_start: Optional[Counter] = None
    steady_state: str = (f"from {STEADY_MARGIN_S:g} s after the connector reported ready to the end of the "
                         "strategy's run")
    notes: List[str] = field(default_factory=list)

    def figures(self, ended_s: float, connector_end: Counter, sandbox_end: Optional[Counter],
                budget_per_hour: float, run_totals: Optional[Counter] = None,
                scheduled: Sequence[Mapping[str, Any]] = ()) -> Dict[str, Any]:
        window = max(ended_s - self.started_s, 1e-9)
        connector = connector_end - self.connector_start
        sandbox = None
        if sandbox_end is not None and self.sandbox_start is not None:
            sandbox = Counter({_same_endpoint(k): n for k, n in (sandbox_end - self.sandbox_start).items()})
        keys = set(connector) | set(run_totals or {})
        keys |= {k for k in (sandbox or {}) if all(_same_endpoint(c) != k for c in keys)}

        def per_hour(n: float) -> float:
            return n * _HOUR / window

        rows = []
        for kind, path in sorted(keys, key=lambda k: (-connector.get(k, 0), k)):
            count = connector.get((kind, path), 0)
            rows.append({
                "endpoint": path, "kind": kind, "count": count, "per_hour": per_hour(count),
                "budget_share": per_hour(count) / budget_per_hour,
                "public_share": per_hour(count) / PUBLIC_BUDGET_PER_HOUR,
                "sandbox_count": None if sandbox is None else sandbox.get(_same_endpoint((kind, path)), 0),
                "run_count": None if run_totals is None else run_totals.get((kind, path), 0),
            })

        def total(kind: str, counts: Optional[Counter] = None) -> float:
            counts = connector if counts is None else counts
            return per_hour(sum(n for (k, _path), n in counts.items() if k == kind))

        return {
            "steady_state": self.steady_state,
            "window_s": window,
            "budget_per_hour": float(budget_per_hour),
            "public_budget_per_hour": PUBLIC_BUDGET_PER_HOUR,
            "counted_by": "the connector's measuring points: horizon.<path template> per REST call, "
                          "horizon_stream.<path template> per stream opening",
            "sandbox_log": sandbox is not None,
            "endpoints": rows,
            "reads_per_hour": total(REST),
            "submissions_per_hour": total(SUBMIT),
            "stream_openings_per_hour": total(STREAM),
            "requests_per_hour": per_hour(sum(connector.values())),
            "sandbox_reads_per_hour": None if sandbox is None else total(REST, sandbox),
            "scheduled": [dict(entry) for entry in scheduled],
            "scheduled_reads_per_hour": sum(entry["per_hour"] for entry in scheduled),
            "notes": list(self.notes),
        }


def scheduled_reads(poll_interval_s: float, fee_ttl_s: float, reserve_ttl_s: float,
                    trading_rules_interval_s: float) -> List[Dict[str, Any]]:
    """The connector's periodic REST reads in steady state, from its settings: a window shorter than their interval
    sees each only when one falls inside it (and then as that one read's hourly figure)."""
    entries = [
        ("Hummingbot's safety poll: the account's offers and one page of its trades", poll_interval_s, 2),
        ("fee figures (/fee_stats), while transactions need them", fee_ttl_s, 1),
        ("base reserve (/ledgers, with /fee_stats)", reserve_ttl_s, 2),
        ("trading rules (GET /)", trading_rules_interval_s, 1),
    ]
    return [{"what": what, "interval_s": interval, "reads": reads, "per_hour": reads * _HOUR / interval}
            for what, interval, reads in entries]


def no_window(reason: str) -> Dict[str, Any]:
    """The figures' shape when no steady window could be cut (the connector never became ready in time)."""
    return {"steady_state": reason, "window_s": None, "endpoints": [], "reads_per_hour": None, "notes": []}
