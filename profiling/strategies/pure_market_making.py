"""The classic pure market making strategy, built the way `strategy/pure_market_making/start.py` does."""
from __future__ import annotations

from decimal import Decimal

from hummingbot.connector.exchange_base import ExchangeBase
from hummingbot.strategy.market_trading_pair_tuple import MarketTradingPairTuple
from hummingbot.strategy.pure_market_making import PureMarketMakingStrategy

from .params import MarketMakingParams


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
