"""Request throttling: what Hummingbot's throttler costs each Horizon request in a steady run.

Every REST call of the connector (an order's POST /transactions_async included) first passes
`AsyncThrottler.execute_task` with the connector's rate limits (`stellar_web_utils.rate_limits_for`,
built by `stellar_constants.build_rate_limits`: one limit per path, all linked to one pool, each over
a short window). The throttler keeps a log of the requests it let through and, on every call, drops
the entries older than their own limit's window (times 1.05, its safety margin) and walks what is
left, so a call costs in proportion to the requests logged within those windows: that is the log
size a run can reach, and the benchmark logs exactly that much before each timed call.

- `throttle_at_10_requests_per_s_vs_none`: a Horizon on this machine or a private network (the
  sandbox, a user's own node: 1,000 requests a second over a 1 s window), at a steady 10 requests/s.
- `throttle_public_at_capacity_vs_none`: SDF's public Horizon (3,600 an hour as 60 a minute) with a
  bot asking 10 a second, so the throttler holds it at its capacity: the log holds all the requests
  of the last window but one, the most a call that does not wait can meet.

Each log entry is written as `execute_task` writes it (the request's limit and the pool linked to
it), spread evenly over the window and ending now, so setting up takes no minute. Floor: the same
call with an empty log, turn about, same run. A ratio near 1 means the cost does not grow with traffic.
"""
from __future__ import annotations

from benchmarks import working_tree  # noqa: F401  (first: the connector of this working tree)

# isort: split
import asyncio
import math
import time
from typing import Any, Dict, List, Tuple

from hummingbot.core.api_throttler.data_types import TaskLog

from benchmarks.timing import figure, gc_paused
from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar import stellar_web_utils as web_utils

REQUESTS_PER_S = 10        # a busy market maker: order submissions, lookups, snapshots
LIMIT_ID = CONSTANTS.ACCOUNT_PATH
BUDGETS = {   # figure -> (a Horizon URL whose budget it is, what the figure says about it)
    f"throttle_at_{REQUESTS_PER_S}_requests_per_s_vs_none": (
        "http://127.0.0.1:8000", f"a loopback or private Horizon's budget, at {REQUESTS_PER_S} requests/s"),
    "throttle_public_at_capacity_vs_none": (
        CONSTANTS.HORIZON_URLS[CONSTANTS.DEFAULT_DOMAIN], f"SDF's public budget, asked {REQUESTS_PER_S} requests/s "
                                                          f"(held at its capacity)"),
}


def steady_log(throttler: Any, limit_id: str, requests_per_s: float) -> Tuple[List[TaskLog], int]:
    """The task log a steady run at `requests_per_s` leaves before its next `limit_id` request, and how
    many requests it holds: those within the windows of the request's limit and of the limits linked to
    it, no more than the tightest of them lets through with room for one more."""
    limits = {limit.limit_id: limit for limit in throttler._rate_limits}
    rate_limit = limits[limit_id]
    linked = [(limits[pair.limit_id], pair.weight) for pair in rate_limit.linked_limits]
    margin = 1 + throttler._safety_margin_pct
    window = min(limit.time_interval for limit, _ in [(rate_limit, 1)] + linked) * margin
    room = min((limit.limit - weight) // weight for limit, weight in [(rate_limit, rate_limit.weight)] + linked)
    count = max(0, min(math.floor(requests_per_s * window), room))
    now = time.time()
    logs: List[TaskLog] = []
    for i in range(count):
        stamp = now - window * (i + 0.5) / max(1, count)
        logs.append(TaskLog(timestamp=stamp, rate_limit=rate_limit, weight=rate_limit.weight))
        logs.extend(TaskLog(timestamp=stamp, rate_limit=limit, weight=weight) for limit, weight in linked)
    return logs, count


async def _one(throttler: Any) -> int:
    start = time.perf_counter_ns()
    async with throttler.execute_task(limit_id=LIMIT_ID):
        pass
    return time.perf_counter_ns() - start


async def _measure(name: str, horizon_url: str, what: str, iterations: int) -> Dict[str, Any]:
    throttler = web_utils.create_throttler(web_utils.rate_limits_for(horizon_url))   # the connector's limits
    logs = throttler._task_logs
    busy: List[int] = []
    quiet: List[int] = []
    steady, logged = steady_log(throttler, LIMIT_ID, REQUESTS_PER_S)
    with gc_paused():
        for _ in range(iterations):     # turn about; each sample starts from its own log
            logs[:] = steady_log(throttler, LIMIT_ID, REQUESTS_PER_S)[0]
            busy.append(await _one(throttler))
            logs.clear()
            quiet.append(await _one(throttler))
    row = figure(name, busy, quiet, floor_name="no request logged",
                 description=f"Hummingbot's AsyncThrottler.execute_task with {what}: {logged} requests logged in "
                             f"the window ({len(steady)} log entries), vs none logged")
    row["checked"] = True
    return row


async def _run(iterations: int) -> Dict[str, Any]:
    rows = [await _measure(name, url, what, iterations) for name, (url, what) in BUDGETS.items()]
    return {"benchmark": "throttler", "figures": rows}


def run(quick: bool = False) -> Dict[str, Any]:
    return asyncio.run(_run(100 if quick else 1000))


if __name__ == "__main__":
    import json
    import sys
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
