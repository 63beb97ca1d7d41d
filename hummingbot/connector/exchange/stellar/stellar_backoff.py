"""One backoff rule for every retry of the connector: streams, snapshots, balance reads, resubmissions."""
import random
from typing import Optional


class Backoff:
    """Capped exponential backoff. With jitter ("equal jitter"), each delay is drawn from [d/2, d]
    where d = min(cap, base * factor ** failures), so clients spread out yet the wait still grows;
    without it, the delay is d itself."""

    def __init__(self, base: float = 0.5, factor: float = 2.0, cap: float = 30.0,
                 rng: Optional[random.Random] = None, jitter: bool = True):
        if base <= 0 or factor < 1 or cap < base:
            raise ValueError(f"invalid backoff: base={base} factor={factor} cap={cap}")
        self.base = base
        self.factor = factor
        self.cap = cap
        self.failures = 0
        self._jitter = jitter
        self._rng = rng or random.Random()

    def ceiling(self, failures: Optional[int] = None) -> float:
        n = self.failures if failures is None else failures
        # Grow in floats only while below the cap: factor ** n overflows for large n.
        delay = self.base
        for _ in range(n):
            delay *= self.factor
            if delay >= self.cap:
                return self.cap
        return delay

    def next_delay(self) -> float:
        """The delay before the next attempt; counts one more failure."""
        ceiling = self.ceiling()
        self.failures += 1
        return ceiling * (0.5 + 0.5 * self._rng.random()) if self._jitter else ceiling

    def reset(self) -> None:
        self.failures = 0
