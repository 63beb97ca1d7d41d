"""`MarketMakingParams`: what both strategies quote. No Hummingbot import, so a command line can check its
arguments, and a run can describe itself, before any strategy's module (and what it pulls in) is loaded."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class MarketMakingParams:
    """What both strategies quote. Spreads are fractions (0.005 is 0.5 %), amounts in base units."""
    order_amount: Decimal = Decimal("10")
    order_levels: int = 2
    bid_spread: Decimal = Decimal("0.005")
    ask_spread: Decimal = Decimal("0.005")
    order_level_spread: Decimal = Decimal("0.005")  # each further level this much further out
    refresh_time: float = 5.0  # seconds between cancelling and re-placing the quotes

    def __post_init__(self) -> None:
        if self.order_amount <= 0:
            raise ValueError(f"order_amount must be positive, got {self.order_amount}")
        if self.order_levels < 1:
            raise ValueError(f"order_levels must be at least 1, got {self.order_levels}")
        for name in ("bid_spread", "ask_spread", "order_level_spread"):
            value = getattr(self, name)
            if not Decimal(0) <= value < Decimal(1):
                raise ValueError(f"{name} is a fraction in [0, 1), got {value}")
        if self.refresh_time <= 0:
            raise ValueError(f"refresh_time must be positive, got {self.refresh_time}")

    def level_spreads(self, side_spread: Decimal) -> list[Decimal]:
        return [side_spread + level * self.order_level_spread for level in range(self.order_levels)]
