"""How many book events are due now to hold a target rate (pure; the clock is passed in).

Closed loop: what is due is what the rate asked for since the baseline, minus what has applied and
what is still in flight. Failed transactions count nothing, so their events are owed again. A
debt larger than `max_debt_seconds` of events (the network could not keep up, or ledgers were
stalled) is forgiven by moving the baseline, so recovering never turns into a burst.
"""
from __future__ import annotations

import math


class RateController:
    def __init__(self, rate: float, now: float, max_debt_seconds: float = 1.0) -> None:
        self.max_debt_seconds = max_debt_seconds
        self.rate = 0.0
        self._start = now
        self._applied_at_start = 0
        self.set_rate(rate, now, 0)

    def set_rate(self, rate: float, now: float, applied: int) -> None:
        """A new target from now on; `applied`: the running count of applied events at this moment."""
        if not math.isfinite(rate) or rate < 0:
            raise ValueError(f"rate must be a non-negative number of events per second, got {rate!r}")
        self.rate = float(rate)
        self._start = now
        self._applied_at_start = applied

    def due(self, now: float, applied: int, in_flight: int) -> int:
        """Events to submit now; `applied` is the running count, `in_flight` what is submitted but not applied."""
        target = self.rate * (now - self._start)
        done = applied - self._applied_at_start
        owed = target - done - in_flight
        cap = self.rate * self.max_debt_seconds
        if owed > cap:  # forgive what cannot be caught up with without a burst
            self._start = now - (done + in_flight + cap) / self.rate if self.rate else now
            owed = cap
        return max(0, int(owed))
