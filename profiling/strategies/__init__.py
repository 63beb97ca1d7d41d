"""The strategies the profiling runner and the end-to-end tests drive: Hummingbot's own, built as
Hummingbot builds them, so the connector sees the calls a real session makes.

- `params`: `MarketMakingParams`, what both strategies quote (no Hummingbot import).
- `pure_market_making`: the classic `PureMarketMakingStrategy` (Cython), as its `start.py` builds it.
- `quote_refresher`: a small `StrategyV2Base` script that quotes levels around the mid price and
  refreshes them on a timer, like Hummingbot's simple PMM script.
- `trade_records`: Hummingbot's `MarketsRecorder` on an SQLite file, which V2 strategies need.

Nothing is imported until asked for: each module pulls in a different part of Hummingbot (the classic
strategy SQLAlchemy, StrategyV2Base and MarketsRecorder some 70 MB of SciPy, candle feeds, prompt_toolkit
and eth_account), and a profiled process should hold only what its strategy uses.
"""
from __future__ import annotations

from ..lazy import lazy_getattr

_HOMES = {
    "MarketMakingParams": f"{__name__}.params",
    "build_pure_market_making": f"{__name__}.pure_market_making",
    "QuoteRefresher": f"{__name__}.quote_refresher",
    "QuoteRefresherConfig": f"{__name__}.quote_refresher",
    "TradeRecords": f"{__name__}.trade_records",
}

__all__ = list(_HOMES)


__getattr__ = lazy_getattr(__name__, _HOMES)
