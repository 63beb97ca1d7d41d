"""Horizon order book and trade JSON -> Hummingbot `OrderBookMessage`s.

Horizon's `/order_book?selling=BASE&buying=QUOTE` prices both sides in QUOTE per BASE, but its
ask amounts are in BASE and its bid amounts in QUOTE; Hummingbot wants base amounts on both
sides, so bid amounts are divided by the price. A streamed `/order_book` event is the whole
book, so every book message here is a SNAPSHOT. Hummingbot's OrderBook stores floats, so
prices and amounts are converted straight to float (no Decimal detour on the hot path).
"""
import time
from typing import Any, Dict, List, Optional, Tuple

from hummingbot.core.data_type.common import TradeType
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.data_type.order_book_message import OrderBookMessage, OrderBookMessageType
from hummingbot.core.data_type.order_book_row import OrderBookRow

from hummingbot.connector.exchange.stellar.stellar_horizon_records import close_timestamp, record_asset_key

_SNAPSHOT = OrderBookMessageType.SNAPSHOT
_TRADE = OrderBookMessageType.TRADE
_BUY = float(TradeType.BUY.value)
_SELL = float(TradeType.SELL.value)

_last_update_id = 0


def next_update_id() -> int:
    """A strictly increasing update id: nanoseconds since the epoch, bumped by one when the clock
    has not moved (two books within one tick, or one ledger). Fits Hummingbot's int64 update ids,
    and keeps REST and streamed snapshots of a pair in the order they were taken."""
    global _last_update_id
    update_id = time.time_ns()
    if update_id <= _last_update_id:
        update_id = _last_update_id + 1
    _last_update_id = update_id
    return update_id


def _rows(levels: List[Dict[str, Any]], is_bid: bool) -> List[Tuple[float, float]]:
    """(price, base amount) rows. The fast path reads the exact rational `price_r` with integer
    parts, as Horizon writes it; anything else (string parts, no rational) takes the careful path."""
    rows: List[Tuple[float, float]] = []
    append = rows.append
    try:
        if is_bid:
            for level in levels:
                rational = level["price_r"]
                price = rational["n"] / rational["d"]
                append((price, float(level["amount"]) / price))   # quote amount -> base amount
        else:
            for level in levels:
                rational = level["price_r"]
                append((rational["n"] / rational["d"], float(level["amount"])))
        return rows
    except (KeyError, TypeError):
        return _rows_careful(levels, is_bid)


def _rows_careful(levels: List[Dict[str, Any]], is_bid: bool) -> List[Tuple[float, float]]:
    rows = []
    for level in levels:
        rational = level.get("price_r")
        # The rational is exact; the decimal string is rounded to 7 places (far off for tiny prices).
        price = float(rational["n"]) / float(rational["d"]) if rational else float(level["price"])
        if price <= 0.0:
            raise ValueError(f"non-positive price in level {level!r}")
        amount = float(level["amount"])
        rows.append((price, amount / price if is_bid else amount))
    return rows


class StellarOrderBookMessage(OrderBookMessage):
    """A book message whose rows the parser already made (price, base amount) floats.

    Hummingbot's `OrderBookMessage.bids`/`asks` call float() twice and the `update_id` property once
    for every row, a large share of handling a streamed book; the rows here are floats already, so
    only the OrderBookRows are built."""

    @property
    def bids(self) -> List[OrderBookRow]:
        update_id = self.content["update_id"]
        return [OrderBookRow(price, amount, update_id) for price, amount in self.content["bids"]]

    @property
    def asks(self) -> List[OrderBookRow]:
        update_id = self.content["update_id"]
        return [OrderBookRow(price, amount, update_id) for price, amount in self.content["asks"]]


class StellarOrderBook(OrderBook):

    @classmethod
    def snapshot_message_from_exchange(cls,
                                       msg: Dict[str, Any],
                                       timestamp: Optional[float] = None,
                                       metadata: Optional[Dict[str, Any]] = None) -> OrderBookMessage:
        """A SNAPSHOT from a Horizon `/order_book` answer or streamed event.

        :param msg: the Horizon order book JSON (`bids`, `asks`, each level with `price`, `price_r`, `amount`)
        :param timestamp: seconds since the epoch; defaults to the update id's time
        :param metadata: must hold `trading_pair`; may hold `update_id` to override the generated one
        """
        if not metadata or "trading_pair" not in metadata:
            raise ValueError("snapshot_message_from_exchange needs metadata={'trading_pair': ...}")
        trading_pair = metadata["trading_pair"]
        try:
            bids = _rows(msg["bids"], True)
            asks = _rows(msg["asks"], False)
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as error:
            raise ValueError(f"Malformed Horizon order book for {trading_pair}: {type(error).__name__} {error}") \
                from error
        update_id = metadata.get("update_id") or next_update_id()
        if timestamp is None:
            timestamp = update_id * 1e-9
        return StellarOrderBookMessage(_SNAPSHOT, {
            "trading_pair": trading_pair,
            "update_id": update_id,
            "bids": bids,
            "asks": asks,
        }, timestamp=timestamp)

    @classmethod
    def trade_message_from_exchange(cls,
                                    msg: Dict[str, Any],
                                    metadata: Optional[Dict[str, Any]] = None) -> OrderBookMessage:
        """A TRADE from a Horizon trade record, oriented to the Hummingbot pair.

        :param msg: the Horizon trade JSON
        :param metadata: must hold `trading_pair` and `base_asset_key` (the pair's base, as
            `stellar_assets.asset_key` writes it: "native" or "CODE:ISSUER")

        Horizon's seller (`base_is_seller` tells which side) is the maker whose offer was taken,
        so the taker bought the trade's base asset when the base side is the seller.
        """
        if not metadata or "trading_pair" not in metadata or "base_asset_key" not in metadata:
            raise ValueError("trade_message_from_exchange needs metadata with trading_pair and base_asset_key")
        trading_pair = metadata["trading_pair"]
        pair_base = metadata["base_asset_key"]
        try:
            price_r = msg["price"]
            base_is_seller = msg["base_is_seller"]
            if record_asset_key(msg, "base_") == pair_base:
                price = float(price_r["n"]) / float(price_r["d"])
                amount = float(msg["base_amount"])
                trade_type = _BUY if base_is_seller else _SELL
            elif record_asset_key(msg, "counter_") == pair_base:
                price = float(price_r["d"]) / float(price_r["n"])
                amount = float(msg["counter_amount"])
                trade_type = _SELL if base_is_seller else _BUY
            else:
                raise ValueError(f"neither side of the trade is the pair's base {pair_base}")
            timestamp = close_timestamp(msg["ledger_close_time"])
            trade_id = msg["id"]
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as error:
            raise ValueError(f"Malformed Horizon trade for {trading_pair} (id={msg.get('id')!r}): "
                             f"{type(error).__name__} {error}") from error
        return OrderBookMessage(_TRADE, {
            "trading_pair": trading_pair,
            "trade_type": trade_type,
            "trade_id": trade_id,
            "update_id": msg.get("paging_token", trade_id),
            "price": price,
            "amount": amount,
        }, timestamp=timestamp)

    @classmethod
    def diff_message_from_exchange(cls, msg: Dict[str, Any], timestamp: Optional[float] = None,
                                   metadata: Optional[Dict[str, Any]] = None) -> OrderBookMessage:
        raise NotImplementedError("Horizon streams whole order books, never diffs: use snapshot_message_from_exchange")
