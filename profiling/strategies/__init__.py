"""The strategies the profiling runner and the end-to-end tests drive: Hummingbot's own, built as
Hummingbot builds them, so the connector sees the calls a real session makes.

- `pure_market_making`: the classic `PureMarketMakingStrategy` (Cython), as its `start.py` builds it.
- `quote_refresher`: a small `StrategyV2Base` script that quotes levels around the mid price and
  refreshes them on a timer, like Hummingbot's simple PMM script.
- `trade_records`: Hummingbot's `MarketsRecorder` on an SQLite file, which V2 strategies need.
"""
from profiling.strategies.pure_market_making import MarketMakingParams, build_pure_market_making
from profiling.strategies.quote_refresher import QuoteRefresher, QuoteRefresherConfig
from profiling.strategies.trade_records import TradeRecords

__all__ = ["MarketMakingParams", "build_pure_market_making", "QuoteRefresher", "QuoteRefresherConfig",
           "TradeRecords"]
