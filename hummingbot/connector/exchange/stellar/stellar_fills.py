"""Fills: the one owner of fill state, and the rules that say when fills settle an order.

A fill reaches us two ways: at placement, in the transaction's result (the offers it claimed),
and later as a Horizon trade record (stream or REST). Both become a `FillSource` and then a
`TradeUpdate` through `OrderFills.trade_update`, so trade ids, fees and orientation follow one
rule. A placement fill seen again as a trade keeps the id it was first reported with (Hummingbot's
tracker drops a trade id it already holds, so nothing counts twice).

Order ids: `exchange_order_id` is the offer id. An order that filled completely at placement
never rests, nor does a MARKET order (a path payment, whose fills may come from a liquidity pool);
it is named as Horizon names such takers in its trades: its operation's id with bit 62 set. The
SDEX charges no trading fee (a pool's 0.3 % is in its price); the creating transaction's network
fee (the order's share, in XLM) rides on the order's first fill.
"""
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Tuple

from cachetools import LRUCache
from hummingbot.core.data_type.common import TradeType
from hummingbot.core.data_type.in_flight_order import InFlightOrder, OrderState, TradeUpdate
from hummingbot.core.data_type.trade_fee import TokenAmount, TradeFeeBase, TradeFeeSchema
from stellar_sdk import Asset

from hummingbot.connector.exchange.stellar.stellar_amounts import STROOP, from_stroops, to_stroops
from hummingbot.connector.exchange.stellar.stellar_assets import offer_asset
from hummingbot.connector.exchange.stellar.stellar_constants import NATIVE_ASSET_CODE
from hummingbot.connector.exchange.stellar.stellar_horizon_records import close_timestamp, record_asset_key, trade_id
from hummingbot.connector.exchange.stellar.stellar_tx_results import OpOutcome

TOID_OFFER_BIT = 1 << 62          # Horizon's synthetic offer ids: operation id with bit 62 set
DUST_STROOPS = 100                # see `dust`
_ORDERS_REMEMBERED = 4096

FillKey = Tuple[int, int, int]    # (counter offer id, base stroops, quote stroops)
# A pool trade names our order too when a MARKET order (a path payment) took the pool; offers never cross one.
_OUR_TRADE_TYPES = frozenset({"orderbook", "liquidity_pool"})


@dataclass(frozen=True, slots=True)
class FillSource:
    """One fill of one of our orders, in the order's terms, whichever way it reached us."""

    trade_id: str
    base_amount: Decimal
    quote_amount: Decimal
    timestamp: float
    counter_offer_id: int          # 0 for a liquidity pool or an offer that never rested

    @property
    def key(self) -> FillKey:
        return self.counter_offer_id, to_stroops(self.base_amount), to_stroops(self.quote_amount)


def rests_on_book(exchange_order_id: Optional[str]) -> bool:
    """True for a real offer id; False for none yet, or the id of an order that filled at placement."""
    if exchange_order_id is None or not exchange_order_id.isdigit():
        return False
    return not int(exchange_order_id) & TOID_OFFER_BIT


def exchange_order_id_for(outcome: OpOutcome, client_order_id: str) -> str:
    """The offer id; for an offer that never rested, Horizon's synthetic id; lacking an operation id,
    "<tx hash>-<client order id>" (unique, never an offer id)."""
    if outcome.offer_id is not None:
        return str(outcome.offer_id)
    operation_id = outcome.operation_id
    if operation_id is not None:
        return str(operation_id | TOID_OFFER_BIT)
    return f"{outcome.tx_hash}-{client_order_id}"


def dust(order: InFlightOrder) -> Decimal:
    """The most base an offer of `order` may hold and still be deleted by stellar-core after a fill: an
    offer worth under 100 stroops of what it buys (quote for a sell, base for a buy) cannot trade within
    the 1 % price error bound, so the ledger removes it, partly filled, without a cancel."""
    if order.trade_type is TradeType.BUY:
        return DUST_STROOPS * STROOP
    price = _order_price(order)
    return DUST_STROOPS * STROOP / price if price else STROOP


def rounding_tolerance(order: InFlightOrder) -> Decimal:
    """One stroop of the quote asset, in base units (and at least one stroop of base)."""
    price = _order_price(order)
    return max(STROOP, STROOP / price) if price else STROOP


def fills_cover(order: InFlightOrder, offer_gone: bool = False) -> bool:
    """The order's fills cover its amount, up to stellar-core's rounding (a stroop of quote); once its
    offer left the ledger (not by our cancel), up to the dust the ledger deletes."""
    missing = order.amount - order.executed_amount_base
    if missing <= 0:
        return True
    tolerance = max(rounding_tolerance(order), dust(order)) if offer_gone else rounding_tolerance(order)
    return missing <= tolerance


def only_dust_left(order: InFlightOrder) -> bool:
    return order.amount - order.executed_amount_base <= dust(order)


def resting_offer_state(order: InFlightOrder, offer: Dict[str, Any], base: Asset) -> OrderState:
    """OPEN or PARTIALLY_FILLED for an offer of `order` still on the ledger. A buy rests in quote units:
    converting back may lose a stroop without any fill, so up to that much missing is no fill."""
    missing = order.amount - _remaining_base(offer, base)
    if missing > rounding_tolerance(order) or order.executed_amount_base > 0:
        return OrderState.PARTIALLY_FILLED
    return OrderState.OPEN


def _remaining_base(offer: Dict[str, Any], base: Asset) -> Decimal:
    """The base amount an offer still offers (a buy rests as an offer selling the quote)."""
    amount = Decimal(offer["amount"])
    if offer_asset(offer, "selling") == base:
        return amount
    price_r = offer.get("price_r")
    if price_r:
        return amount * Decimal(price_r["n"]) / Decimal(price_r["d"])
    return amount * Decimal(offer["price"])


def _order_price(order: InFlightOrder) -> Decimal:
    price = order.price
    if price == price and price > 0:
        return price
    return order.average_executed_price


class OrderFills:
    """Turns fills into `TradeUpdate`s and keeps the little state that needs: each order's network fee
    share until its first fill, the ids of its placement fills, and trades streamed before any order
    knew the offer they name."""

    def __init__(self, account_id: str, base_key_of_pair: Callable[[str], str],
                 fee_schema: Callable[[], TradeFeeSchema]):
        self._account_id = account_id
        self._base_key_of_pair = base_key_of_pair
        self._fee_schema = fee_schema
        self._network_fees: LRUCache = LRUCache(maxsize=_ORDERS_REMEMBERED)        # client id -> stroops
        self._placement_ids: LRUCache = LRUCache(maxsize=_ORDERS_REMEMBERED)       # client id -> {key: id}
        self._unmatched: LRUCache = LRUCache(maxsize=_ORDERS_REMEMBERED)           # offer id -> [records]

    def placement_updates(self, order: InFlightOrder, outcome: OpOutcome, timestamp: float) -> List[TradeUpdate]:
        """The fills of the offers (or pool) `order`'s operation claimed when it was placed."""
        if outcome.fee_charged_share_stroops:
            self._network_fees[order.client_order_id] = outcome.fee_charged_share_stroops
        if not outcome.fills:
            return []
        ids = self._placement_ids.setdefault(order.client_order_id, {})
        updates = []
        for index, fill in enumerate(outcome.fills):
            if fill.base_stroops == 0 and fill.quote_stroops == 0:
                continue   # an offer stellar-core removed without trading (Horizon records no trade, keeps the index)
            if outcome.operation_id is not None:
                fill_id = f"{outcome.operation_id}-{index}"   # Horizon's id for the index-th claimed offer
            else:
                fill_id = f"{outcome.tx_hash}-{order.client_order_id}-{index}"
            source = FillSource(trade_id=fill_id, base_amount=fill.base_amount, quote_amount=fill.quote_amount,
                                timestamp=timestamp, counter_offer_id=fill.counter_offer_id)
            ids[source.key] = fill_id
            updates.append(self.trade_update(order, source))
        return updates

    def record_update(self, order: InFlightOrder, record: Dict[str, Any], now: float) -> Optional[TradeUpdate]:
        """A Horizon trade of one of our offers, in the order's terms; None if it is not an order book trade
        of the order's pair."""
        source = self._source_from_record(order, record, now)
        return None if source is None else self.trade_update(order, source)

    def trade_update(self, order: InFlightOrder, source: FillSource) -> TradeUpdate:
        placement_ids = self._placement_ids.get(order.client_order_id)
        fill_id = placement_ids.get(source.key, source.trade_id) if placement_ids else source.trade_id
        return TradeUpdate(
            trade_id=fill_id,
            client_order_id=order.client_order_id,
            exchange_order_id=order.exchange_order_id,
            trading_pair=order.trading_pair,
            fill_timestamp=source.timestamp,
            fill_price=source.quote_amount / source.base_amount,
            fill_base_amount=source.base_amount,
            fill_quote_amount=source.quote_amount,
            fee=self._fee(order))

    def hold_unmatched(self, record: Dict[str, Any]) -> None:
        """A trade of an offer no order knows yet (the trade stream can be quicker than the pipeline):
        kept by our offer id until the order learns it."""
        ours = "base_offer_id" if record.get("base_account") == self._account_id else "counter_offer_id"
        self._unmatched.setdefault(str(record.get(ours)), []).append(record)

    def release_unmatched(self, exchange_order_id: str) -> List[Dict[str, Any]]:
        if not self._unmatched:   # as a rule: no trade comes before its order learns its offer
            return []
        return self._unmatched.pop(exchange_order_id, [])

    def _source_from_record(self, order: InFlightOrder, record: Dict[str, Any], now: float) -> Optional[FillSource]:
        if record.get("trade_type", "orderbook") not in _OUR_TRADE_TYPES:
            return None
        base_key = self._base_key_of_pair(order.trading_pair)
        if record_asset_key(record, "base_") == base_key:
            base_amount, quote_amount = Decimal(record["base_amount"]), Decimal(record["counter_amount"])
        elif record_asset_key(record, "counter_") == base_key:
            base_amount, quote_amount = Decimal(record["counter_amount"]), Decimal(record["base_amount"])
        else:
            return None
        if base_amount <= 0:
            return None
        ours_is_base_side = str(record.get("base_offer_id")) == order.exchange_order_id
        counter_offer_id = _int_or_zero(record.get("counter_offer_id" if ours_is_base_side else "base_offer_id"))
        if counter_offer_id & TOID_OFFER_BIT:
            counter_offer_id = 0
        return FillSource(trade_id=trade_id(record), base_amount=base_amount, quote_amount=quote_amount,
                          timestamp=close_timestamp(record.get("ledger_close_time")) or now,
                          counter_offer_id=counter_offer_id)

    def _fee(self, order: InFlightOrder) -> TradeFeeBase:
        network_fee = self._network_fees.pop(order.client_order_id, None)   # stroops of XLM
        flat_fees = [TokenAmount(NATIVE_ASSET_CODE, from_stroops(network_fee))] if network_fee else []
        return TradeFeeBase.new_spot_fee(fee_schema=self._fee_schema(), trade_type=order.trade_type,
                                         flat_fees=flat_fees)


def _int_or_zero(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0

