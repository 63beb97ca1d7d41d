"""RequestBudget: the connector's own count of its requests to Horizon, against that Horizon's hourly budget.

SDF's public Horizon allows 3,600 requests an hour per IP address, and counts REST reads, submissions
and stream openings alike. The connector notes each of its requests here (path template and kind) in
one-minute buckets that cover the last hour, and logs a warning, once an hour at most, when its rate
would exceed the budget of the Horizon it uses (`stellar_web_utils.rate_limits_for`, times the user's
`rate_limits_share_pct`):

- after an hour, when the requests of the last hour exceed the budget;
- before that, once `min_span_s` has passed (a start's burst of reads is not a rate), when the
  requests so far, extrapolated to an hour, exceed it.

The rate is judged when a new minute starts (at the first request in it): a note costs a clock
reading and two counter increments.
"""
from __future__ import annotations

import logging
import time
from collections import Counter, deque
from typing import Callable, Deque, Dict, Iterable, Optional, Tuple

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS

REST = "rest"          # a GET
SUBMIT = "submit"      # a POST of a transaction
STREAM = "stream"      # an SSE stream opened (or reopened)
KIND_NAMES = {REST: "REST reads", SUBMIT: "submissions", STREAM: "stream openings"}

_MINUTE = 60
_BUCKETS = CONSTANTS.ONE_HOUR // _MINUTE
_TOP = 3     # endpoints named in a warning
_LOGGER = logging.getLogger(__name__)

Key = Tuple[str, str]   # (kind, path template)


def requests_per_hour_of(rate_limits: Iterable, share_pct: float = 100.0) -> float:
    """The hourly budget a list of rate limits gives the connector: Horizon's shared pool, rescaled to an
    hour, times the share of it the user gives this connector (Hummingbot's `rate_limits_share_pct`)."""
    pool = next((limit for limit in rate_limits if limit.limit_id == CONSTANTS.HORIZON_REQUESTS_POOL), None)
    if pool is None:
        raise ValueError(f"the rate limits have no {CONSTANTS.HORIZON_REQUESTS_POOL} pool")
    return pool.limit * CONSTANTS.ONE_HOUR / pool.time_interval * float(share_pct) / 100.0


class RequestBudget:
    def __init__(self, requests_per_hour: float, horizon_url: str = "", *, min_span_s: float = 300.0,
                 clock: Callable[[], float] = time.monotonic, logger: Optional[logging.Logger] = None):
        if requests_per_hour <= 0:
            raise ValueError(f"requests_per_hour must be positive, got {requests_per_hour}")
        self.requests_per_hour = float(requests_per_hour)
        self.horizon_url = horizon_url
        self._min_span_s = min_span_s
        self._clock = clock
        self._logger = logger or _LOGGER
        self._buckets: Deque[Tuple[int, Counter]] = deque()   # (minute, counts by key), the last hour's
        self._totals: Counter = Counter()
        self._first: Optional[float] = None
        self._warned_at: Optional[float] = None
        self.warnings = 0

    @classmethod
    def for_rate_limits(cls, rate_limits: Iterable, share_pct: float = 100.0, horizon_url: str = "",
                        **options) -> RequestBudget:
        """The budget `rate_limits` (`stellar_web_utils.rate_limits_for`) give, times the user's share of it."""
        return cls(requests_per_hour_of(rate_limits, share_pct), horizon_url, **options)

    def note(self, path: str, kind: str = REST) -> None:
        """One request to `path` (its template, e.g. "/accounts/{account_id}") of `kind`."""
        now = self._clock()
        minute = int(now // _MINUTE)
        buckets = self._buckets
        if not buckets or buckets[-1][0] != minute:
            if self._first is None:
                self._first = now
            else:
                self._judge(now)
            buckets.append((minute, Counter()))
            while buckets[0][0] <= minute - _BUCKETS:
                buckets.popleft()
        key = (kind, path)
        buckets[-1][1][key] += 1
        self._totals[key] += 1

    # Reading

    def totals(self) -> Dict[Key, int]:
        """(kind, path template) -> requests since the start."""
        return dict(self._totals)

    def last_hour(self, now: Optional[float] = None) -> Counter:
        """(kind, path template) -> requests within the last hour (whole minutes)."""
        now = self._clock() if now is None else now
        oldest = int(now // _MINUTE) - _BUCKETS
        counts: Counter = Counter()
        for minute, bucket in self._buckets:
            if minute > oldest:
                counts.update(bucket)
        return counts

    def per_hour(self, now: Optional[float] = None) -> Optional[float]:
        """The requests of the last hour; before an hour has passed, those so far extrapolated to an hour
        (None until `min_span_s` has passed since the first request)."""
        now = self._clock() if now is None else now
        if self._first is None or now - self._first < self._min_span_s:
            return None
        count = sum(self.last_hour(now).values())
        span = now - self._first
        return float(count) if span >= CONSTANTS.ONE_HOUR else count * CONSTANTS.ONE_HOUR / span

    # Warning

    def _judge(self, now: float) -> None:
        if self._warned_at is not None and now - self._warned_at < CONSTANTS.ONE_HOUR:
            return
        rate = self.per_hour(now)
        if rate is None or rate <= self.requests_per_hour:
            return
        self._warned_at = now
        self.warnings += 1
        self._logger.warning(self.describe(now))

    def describe(self, now: Optional[float] = None) -> str:
        """The warning: what was requested, how it compares with the budget, and what to do."""
        now = self._clock() if now is None else now
        counts = self.last_hour(now)
        total = sum(counts.values())
        span = min(now - (self._first if self._first is not None else now), CONSTANTS.ONE_HOUR)
        by_kind = Counter()
        for (kind, _path), n in counts.items():
            by_kind[kind] += n
        kinds = ", ".join(f"{KIND_NAMES.get(kind, kind)} {n:,}" for kind, n in by_kind.most_common())
        busiest = "; ".join(f"{path} ({KIND_NAMES.get(kind, kind)}) {n:,}"
                            for (kind, path), n in counts.most_common(_TOP))
        rate = self.per_hour(now) or float(total)
        pace = (f"{total:,} in the last hour" if span >= CONSTANTS.ONE_HOUR
                else f"{total:,} in {span / 60:.0f} min, about {rate:,.0f} an hour at this rate")
        return (f"Horizon request budget exceeded: the Stellar connector made {pace} to "
                f"{self.horizon_url or 'Horizon'} ({kinds}), over the {self.requests_per_hour:,.0f} an hour this "
                f"Horizon allows it. SDF's public Horizon counts every request (a stream opening too) per IP address, "
                f"for every bot on that address, and refuses the excess with HTTP 429. Most requested: {busiest}. "
                f"Use a Horizon of your own (stellar_horizon_url), trade fewer pairs or accounts from this address, "
                f"or refresh orders less often.")
