"""The classic pure market making strategy, built the way `strategy/pure_market_making/start.py` does."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hummingbot.connector.exchange_base import ExchangeBase
from hummingbot.strategy.market_trading_pair_tuple import MarketTradingPairTuple
from hummingbot.strategy.pure_market_making import PureMarketMakingStrategy


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


def build_pure_market_making(connector: ExchangeBase, trading_pair: str,
                             params: MarketMakingParams = MarketMakingParams()) -> PureMarketMakingStrategy:
    """A `PureMarketMakingStrategy` quoting `trading_pair` on `connector`.

    Refresh tolerance -1 makes every refresh cancel and re-place (the load a market maker puts on a
    connector); after a fill the strategy waits one refresh period, not Hummingbot's default 60 s.
    """
    base, quote = trading_pair.split("-")
    strategy = PureMarketMakingStrategy()
    strategy.init_params(
        market_info=MarketTradingPairTuple(connector, trading_pair, base, quote),
        bid_spread=params.bid_spread,
        ask_spread=params.ask_spread,
        order_amount=params.order_amount,
        order_levels=params.order_levels,
        order_level_spread=params.order_level_spread,
        order_refresh_time=params.refresh_time,
        max_order_age=max(params.refresh_time * 10, 60.0),
        order_refresh_tolerance_pct=Decimal(-1),
        filled_order_delay=params.refresh_time,
        hanging_orders_enabled=False,
        price_type="mid_price",
        logging_options=PureMarketMakingStrategy.OPTION_LOG_ALL,
        hb_app_notification=False,
        should_wait_order_cancel_confirmation=True,
    )
    return strategy
