"""`QuoteRefresher`: a small `StrategyV2Base` script that quotes around the mid price and refreshes.

Every `refresh_time` seconds it cancels its open orders and places `order_levels` bids and asks
around the mid price, sized by Hummingbot's budget checker, as Hummingbot's simple PMM script does.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Dict, List

from hummingbot.connector.connector_base import ConnectorBase
from hummingbot.core.data_type.common import OrderType, PriceType, TradeType
from hummingbot.core.data_type.order_candidate import OrderCandidate
from hummingbot.strategy.strategy_v2_base import StrategyV2Base
from pydantic import BaseModel, ConfigDict

from .params import MarketMakingParams


class QuoteRefresherConfig(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    connector_name: str
    trading_pairs: List[str]
    params: MarketMakingParams = MarketMakingParams()
    order_type: OrderType = OrderType.LIMIT


class QuoteRefresher(StrategyV2Base):
    def __init__(self, connectors: Dict[str, ConnectorBase], config: QuoteRefresherConfig) -> None:
        # StrategyV2Base reads the markets from the class; give this instance its own.
        self.markets = {config.connector_name: set(config.trading_pairs)}
        # Not passed on as `config`: StrategyV2Base would look for controllers in it.
        super().__init__(connectors)
        self.quote_config = config
        self._next_refresh = 0.0
        self.refreshes = 0

    @property
    def connector(self) -> ConnectorBase:
        return self.connectors[self.quote_config.connector_name]

    def on_tick(self) -> None:
        if self.current_timestamp < self._next_refresh:
            return
        self._next_refresh = self.current_timestamp + self.quote_config.params.refresh_time
        self.cancel_all_orders()
        for trading_pair in self.quote_config.trading_pairs:
            for candidate in self._budgeted(self._proposal(trading_pair)):
                self._place(candidate)
        self.refreshes += 1

    def cancel_all_orders(self) -> None:
        for order in self.get_active_orders(self.quote_config.connector_name):
            self.cancel(self.quote_config.connector_name, order.trading_pair, order.client_order_id)

    def _proposal(self, trading_pair: str) -> List[OrderCandidate]:
        mid = self.connector.get_price_by_type(trading_pair, PriceType.MidPrice)
        if mid is None or not mid.is_finite() or mid <= 0:
            return []  # no two-sided book yet
        params = self.quote_config.params
        order_type = self.quote_config.order_type
        candidates = []
        for spread in params.level_spreads(params.bid_spread):
            candidates.append(OrderCandidate(trading_pair=trading_pair, is_maker=True, order_type=order_type,
                                             order_side=TradeType.BUY, amount=params.order_amount,
                                             price=mid * (Decimal(1) - spread)))
        for spread in params.level_spreads(params.ask_spread):
            candidates.append(OrderCandidate(trading_pair=trading_pair, is_maker=True, order_type=order_type,
                                             order_side=TradeType.SELL, amount=params.order_amount,
                                             price=mid * (Decimal(1) + spread)))
        return candidates

    def _budgeted(self, candidates: List[OrderCandidate]) -> List[OrderCandidate]:
        adjusted = self.connector.budget_checker.adjust_candidates(candidates, all_or_none=True)
        return [candidate for candidate in adjusted if candidate.amount > 0]

    def _place(self, candidate: OrderCandidate) -> None:
        name = self.quote_config.connector_name
        place = self.buy if candidate.order_side is TradeType.BUY else self.sell
        place(connector_name=name, trading_pair=candidate.trading_pair, amount=candidate.amount,
              order_type=candidate.order_type, price=candidate.price)
