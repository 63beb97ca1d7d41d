"""Request throttling: what Hummingbot's throttler costs each Horizon request under steady traffic.

Every REST call of the connector (an order's POST /transactions_async included) first passes
`AsyncThrottler.execute_task` with the connector's rate limits (`stellar_constants.build_rate_limits`).
Hummingbot's throttler keeps a log of every request made within the longest window of those limits
and walks all of it on every call, so its cost grows with the requests logged in that window: an
hour-long window at a busy bot's REQUESTS_PER_S logs tens of thousands. Subject: one `execute_task`
after REQUESTS_PER_S requests a second over the whole window (their log entries are written
directly, as `execute_task` would, so that setting up does not take an hour); floor: the same with
an empty log, same run. A ratio near 1 means the cost does not grow with the traffic.
"""
from __future__ import annotations

from benchmarks import working_tree  # noqa: F401  (first: the connector of this working tree)

# isort: split
import asyncio
import time
from typing import Any, Dict, List

from hummingbot.core.api_throttler.data_types import TaskLog

from benchmarks import harness
from benchmarks.timing import figure, gc_paused
from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS

REQUESTS_PER_S = 10        # a busy market maker: order submissions, lookups, snapshots
MAX_LOGGED = 40_000        # bounds the set-up (an hour-long window would log 36,000 here)
LIMIT_ID = CONSTANTS.ACCOUNT_PATH


def _fill_log(throttler: Any, requests_per_s: float) -> int:
    """LIMIT_ID requested `requests_per_s` over the limits' longest window, logged as execute_task
    logs them (the limit itself and the pool it is linked to); how many requests that is."""
    limits = {limit.limit_id: limit for limit in throttler._rate_limits}
    rate_limit = limits[LIMIT_ID]
    linked = [(limits[pair.limit_id], pair.weight) for pair in rate_limit.linked_limits]
    window = max(limit.time_interval for limit in throttler._rate_limits)
    count = min(MAX_LOGGED, int(requests_per_s * window))
    now = time.time()
    logs = throttler._task_logs
    logs.clear()
    for i in range(count):
        stamp = now - window * i / max(1, count)
        logs.append(TaskLog(timestamp=stamp, rate_limit=rate_limit, weight=rate_limit.weight))
        logs.extend(TaskLog(timestamp=stamp, rate_limit=limit, weight=weight) for limit, weight in linked)
    return count


async def _one(throttler: Any) -> int:
    start = time.perf_counter_ns()
    async with throttler.execute_task(limit_id=LIMIT_ID):
        pass
    return time.perf_counter_ns() - start


async def _run(iterations: int) -> Dict[str, Any]:
    exchange, _horizon = await harness.make_exchange()
    throttler = exchange.throttler
    busy: List[int] = []
    logged = 0
    quiet: List[int] = []
    try:
        with gc_paused():
            for _ in range(iterations):     # turn about; each sample starts from its own log
                logged = _fill_log(throttler, REQUESTS_PER_S)
                busy.append(await _one(throttler))
                _fill_log(throttler, 0)
                quiet.append(await _one(throttler))
    finally:
        await harness.stop_exchange(exchange)
    row = figure(f"throttle_at_{REQUESTS_PER_S}_requests_per_s_vs_none", busy, quiet, floor_name="no request logged",
                 description=f"Hummingbot's AsyncThrottler.execute_task with the connector's limits, at "
                             f"{REQUESTS_PER_S} requests/s ({logged} logged in the window), vs none logged")
    row["checked"] = True
    return {"benchmark": "throttler", "figures": [row]}


def run(quick: bool = False) -> Dict[str, Any]:
    return asyncio.run(_run(10 if quick else 30))


if __name__ == "__main__":
    import json
    import sys
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
