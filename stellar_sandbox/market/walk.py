"""The mid price: a geometric random walk kept inside a band (pure; randomness passed in)."""
from __future__ import annotations

import math
import random


class PriceWalk:
    def __init__(self, mid: float, volatility: float = 0.01, rng: random.Random | None = None,
                 floor: float | None = None, ceiling: float | None = None) -> None:
        """`volatility`: standard deviation of log(mid) per second."""
        if not mid > 0:
            raise ValueError(f"mid price must be positive, got {mid!r}")
        if volatility < 0:
            raise ValueError(f"volatility must not be negative, got {volatility!r}")
        self.mid = float(mid)
        self.volatility = volatility
        self.rng = rng or random.Random()
        self.floor = floor if floor is not None else mid / 10
        self.ceiling = ceiling if ceiling is not None else mid * 10

    def step(self, seconds: float) -> float:
        if seconds > 0 and self.volatility:
            shock = self.rng.gauss(0.0, self.volatility * math.sqrt(seconds))
            self.mid = min(self.ceiling, max(self.floor, self.mid * math.exp(shock)))
        return self.mid
