"""Horizon order book and trade JSON -> Hummingbot `OrderBookMessage`s.

A streamed `/order_book` event is the whole book, so every book message here is a SNAPSHOT (rows as
stellar_book_levels reads them: base amounts on both sides, floats).

Only what changed is applied: `BookSequence` (one per pair, in the data source) compares each
Horizon book with the pair's previous one and reads only the levels that differ: level by level
when it is decoded (a REST book), and as text when it is a streamed event's text
(stellar_book_text: only the changed levels are decoded at all). It gives the message, besides the
whole book, the changed rows and the book they change. `StellarOrderBook` (the tracker's books)
applies those rows as a diff when it holds exactly that previous book, and the whole book otherwise
(the first book, a book dropped on the way, a book applied by other means, or a book whose sides
are not strictly ordered or that is locked or crossed, where Hummingbot's diff would truncate
levels), so it always holds exactly what Horizon's last book says.

With a liquidity pool (`stellar_book_liquidity` "book+pool"), the book also holds the pool's levels
(stellar_pool_levels), added to the offers' amounts where prices meet. A pool message (`StellarPoolMessage`,
queued like the books) changes only the pool's levels, and an offers' change only the offers' levels,
each as a diff; the whole book is applied when the pool's levels cross the offers (the two venues are
apart: offers never cross a pool), as Hummingbot's diff would truncate such a book.
"""
import time
from typing import Any, Dict, List, Optional, Tuple, Union

from hummingbot.core.data_type.common import TradeType
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.data_type.order_book_message import OrderBookMessage, OrderBookMessageType
from hummingbot.core.data_type.order_book_row import OrderBookRow

from hummingbot.connector.exchange.stellar.stellar_book_levels import (
    Change,
    Row,
    is_crossed,
    is_ordered,
    level_rows,
    side_change,
)
from hummingbot.connector.exchange.stellar.stellar_book_text import BookText, NotFast, json_loads
from hummingbot.connector.exchange.stellar.stellar_horizon_records import close_timestamp, record_asset_key
from hummingbot.connector.exchange.stellar.stellar_pool_levels import (
    STROOPS,
    PoolLevels,
    crossed,
    merged_side,
    pool_cost,
    pool_payout,
)

_SNAPSHOT = OrderBookMessageType.SNAPSHOT
_new_message = tuple.__new__   # an OrderBookMessage as its namedtuple makes it, without its __new__'s extra call
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


class BookSequence:
    """The Horizon books of one pair, one after another (see the module's docstring)."""

    __slots__ = ("_raw", "_text", "_rows", "_ordered", "_clean_book", "_update_id")

    def __init__(self) -> None:
        self._raw: Optional[Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]] = None   # the last book, decoded
        self._text: Optional[BookText] = None      # the last book as text, when it can be compared as text
        self._rows: Tuple[List[Row], List[Row]] = ([], [])
        self._ordered: Tuple[Optional[bool], Optional[bool]] = (None, None)   # None: not known yet
        self._clean_book: Optional[bool] = None   # whether the last book is clean; None: not known yet
        self._update_id: Optional[int] = None

    def message(self, book: Union[str, Dict[str, Any]], trading_pair: str) -> "StellarOrderBookMessage":
        """A SNAPSHOT of `book` (whole rows, as `snapshot_message_from_exchange` gives) that also names
        the previous book (`base_update_id`) and what changed since (`changes`: bid rows, ask rows; None
        when the whole book is to be applied), and whether both books are `clean`: strictly ordered
        sides, neither locked nor crossed, so that only the changes may be applied. `book`: the decoded
        JSON, or its text as streamed (compared as text, decoded whole only when it must be)."""
        changes, clean, clean_book = None, False, None
        raw, text = None, None
        try:
            if isinstance(book, str):
                if self._text is not None:
                    try:
                        text, bid_change, ask_change = self._text.change(book, self._rows, self._ordered)
                    except NotFast:
                        pass
                if text is None:
                    decoded = json_loads(book)
                    raw = (decoded["bids"], decoded["asks"])
                    bid_change, ask_change = self._levels_change(raw)
                    text = BookText.of(book, decoded, self._text.frame if self._text is not None else None)
            else:
                raw = (book["bids"], book["asks"])
                bid_change, ask_change = self._levels_change(raw)
            (bids, bid_changes, bids_ordered), (asks, ask_changes, asks_ordered) = bid_change, ask_change
            ordered = (bids_ordered, asks_ordered)
            if bid_changes is not None and ask_changes is not None:
                changes = (bid_changes, ask_changes)
                if self._clean_book is None:   # the last book went in whole: its order is worked out now
                    self._clean_book, self._ordered = self._clean(self._rows, self._ordered)
                clean_book, ordered = self._clean((bids, asks), ordered)
                clean = self._clean_book and clean_book
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as error:
            raise ValueError(f"Malformed Horizon order book for {trading_pair}: {type(error).__name__} {error}") \
                from error
        update_id = next_update_id()
        message = _new_message(StellarOrderBookMessage, (_SNAPSHOT, {
            "trading_pair": trading_pair, "update_id": update_id, "bids": bids, "asks": asks,
            "base_update_id": self._update_id, "changes": changes, "clean": clean,
        }, update_id * 1e-9))
        self._raw, self._text, self._rows, self._ordered = raw, text, (bids, asks), ordered
        self._clean_book, self._update_id = clean_book, update_id
        return message

    def _levels_change(self, raw: Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]) -> Tuple[Change, Change]:
        """Each side's change from the last decoded book; the whole book when there is none to compare with."""
        if self._raw is None:
            return (level_rows(raw[0], True), None, None), (level_rows(raw[1], False), None, None)
        return (side_change(self._raw[0], self._rows[0], self._ordered[0], raw[0], True),
                side_change(self._raw[1], self._rows[1], self._ordered[1], raw[1], False))

    @staticmethod
    def _clean(rows: Tuple[List[Row], List[Row]], ordered: Tuple[Optional[bool], Optional[bool]]
               ) -> Tuple[bool, Tuple[bool, bool]]:
        """(whether a book is clean, whether each side is ordered), its order worked out if not known yet."""
        bids, asks = rows
        bids_ordered = is_ordered(bids, True) if ordered[0] is None else ordered[0]
        asks_ordered = is_ordered(asks, False) if ordered[1] is None else ordered[1]
        return bids_ordered and asks_ordered and not is_crossed(bids, asks), (bids_ordered, asks_ordered)


class StellarOrderBookMessage(OrderBookMessage):
    """A book message whose rows the parser already made (price, base amount) floats.

    Hummingbot's `OrderBookMessage.bids`/`asks` call float() twice and the `update_id` property once
    for every row, a large share of handling a streamed book; the rows here are floats already, so
    only the OrderBookRows are built."""

    @property
    def bids(self) -> List[OrderBookRow]:
        return _book_rows(self.content["bids"], self.content["update_id"])

    @property
    def asks(self) -> List[OrderBookRow]:
        return _book_rows(self.content["asks"], self.content["update_id"])


class StellarPoolMessage(StellarOrderBookMessage):
    """A pair's liquidity pool levels (content "pool": PoolLevels, or None when it has none), for the books
    to show beside the offers; `bids`/`asks` are the pool's rows alone."""


def pool_message(trading_pair: str, levels: Optional[PoolLevels]) -> StellarPoolMessage:
    """A message that sets the pair's liquidity pool levels (None: no pool) in its book."""
    update_id = next_update_id()
    return _new_message(StellarPoolMessage, (_SNAPSHOT, {
        "trading_pair": trading_pair, "update_id": update_id, "pool": levels,
        "bids": levels.bids if levels is not None else [], "asks": levels.asks if levels is not None else [],
    }, update_id * 1e-9))


def _book_rows(rows: List[Row], update_id: int) -> List[OrderBookRow]:
    """OrderBookRows (NamedTuples) made as tuples are: OrderBookRow(...) runs a Python __new__ per row."""
    new_row = tuple.__new__
    return [new_row(OrderBookRow, (price, amount, update_id)) for price, amount in rows]


def _with_pool(changes: List[Row], pool_amounts: Dict[float, float], update_id: int) -> List[OrderBookRow]:
    """Offers' changed rows with the pool's amount added where a pool level has the same price, as OrderBookRows."""
    row, pool = tuple.__new__, pool_amounts.get
    return [row(OrderBookRow, (price, amount + pool(price, 0.0), update_id)) for price, amount in changes]


def _pool_change(old: Dict[float, float], new: Dict[float, float], offer_rows: List[Row],
                 update_id: int) -> List[OrderBookRow]:
    """The rows that turn a side holding the offers plus `old` pool amounts into one holding the offers plus
    `new`: every pool price that changed, set to the offers' amount there (0.0: none) plus the pool's."""
    row, offers, was = tuple.__new__, dict(offer_rows).get, old.get
    rows = [row(OrderBookRow, (price, amount + offers(price, 0.0), update_id))
            for price, amount in new.items() if was(price) != amount]
    rows += [row(OrderBookRow, (price, offers(price, 0.0), update_id)) for price in old if price not in new]
    return rows


def _offers_prices(rows: List[Row], is_buy: bool, volume: float) -> Optional[Tuple[float, float]]:
    """(average price, last level's price) of taking `volume` base from the offers' `rows` (None: they hold less)."""
    left, cost = volume, 0.0
    for price, amount in sorted(rows, reverse=not is_buy):
        taken = amount if amount < left else left
        cost += taken * price
        left -= taken
        if left <= volume * 1e-12:
            return cost / volume, price
    return None


def _pool_price(pool: Optional[PoolLevels], is_buy: bool, volume: float) -> Optional[float]:
    """The pool's exact average price for `volume` base (CAP-38), None without a pool or when it cannot."""
    if pool is None:
        return None
    stroops = round(volume * STROOPS)
    if stroops <= 0:
        return None
    base, quote = pool.base_reserve, pool.quote_reserve
    amount = pool_cost(quote, base, stroops) if is_buy else pool_payout(base, quote, stroops)
    return None if amount is None else amount / stroops


def _clean_offers(offers: Dict[str, Any]) -> bool:
    bids, asks = offers["bids"], offers["asks"]
    return is_ordered(bids, True) and is_ordered(asks, False) and not is_crossed(bids, asks)


class StellarOrderBook(OrderBook):
    """Hummingbot's OrderBook, fed only the changed levels of a Horizon book when it holds the book
    they change (see the module's docstring). Every Horizon book is a whole book, so `snapshot_uid`
    is the update id of the last one it holds, whether applied whole or by its changes."""

    def __init__(self, dex: bool = False):
        super().__init__(dex)
        self._applied: Optional[int] = None   # update id of the Stellar book this book holds exactly, if any
        self._book_uid = 0                     # update id of the last whole book, applied whole or by its changes
        self._offers: Optional[Dict[str, Any]] = None   # the offers' rows held ("bids", "asks"); None: not known
        self._offers_clean: Optional[bool] = None       # those ordered and not crossed; None: not worked out
        self._pool: Optional[PoolLevels] = None         # the pool's levels held beside them (None: no pool)
        self._pool_crossed = False                      # whether those cross the offers (applied whole)

    @property
    def snapshot_uid(self) -> int:
        return self._book_uid

    @property
    def pool_levels(self) -> Optional[PoolLevels]:
        """The liquidity pool levels this book shows beside the offers (None: none)."""
        return self._pool

    def single_venue_price(self, is_buy: bool, volume: float) -> Optional[float]:
        """The price for `volume` base of the venue one path payment (a taker's MARKET order) would take: the
        offers alone or the pool alone, whichever is better on average for all of it (a hop goes whole to one
        venue); for the offers, as `get_price_for_volume`, the last level's price it reaches, for the pool its
        exact average. None when neither can fill it or the offers held are not known. The merged book's own
        price for a volume adds the venues' depths, which a single payment cannot."""
        offers = self._offers
        if offers is None or volume <= 0:
            return None
        book = _offers_prices(offers["asks" if is_buy else "bids"], is_buy, volume)
        pool = _pool_price(self._pool, is_buy, volume)
        if pool is None or (book is not None and (book[0] <= pool if is_buy else book[0] >= pool)):
            return None if book is None else book[1]
        return pool

    def apply_snapshot(self, bids: List[OrderBookRow], asks: List[OrderBookRow], update_id: int):
        self._applied = None
        self._offers, self._offers_clean = {"bids": [(r.price, r.amount) for r in bids],
                                            "asks": [(r.price, r.amount) for r in asks]}, None
        if self._pool is not None:
            self._apply_whole(self._offers, update_id)
        else:
            super().apply_snapshot(bids, asks, update_id)
        self._book_uid = update_id

    def apply_diffs(self, bids: List[OrderBookRow], asks: List[OrderBookRow], update_id: int):
        self._applied = self._offers = None
        super().apply_diffs(bids, asks, update_id)

    def restore_from_snapshot_and_diffs(self, snapshot: OrderBookMessage, diffs: List[OrderBookMessage]):
        content = snapshot.content
        update_id = content["update_id"]
        if diffs or not isinstance(snapshot, StellarOrderBookMessage):
            super().restore_from_snapshot_and_diffs(snapshot, diffs)   # Hummingbot's, diffs replayed
            self._applied = self._offers = None
            return
        if snapshot.__class__ is StellarPoolMessage:
            self._apply_pool(content["pool"], update_id)
            return
        changes, pool = content["changes"], self._pool
        if changes is not None and content["clean"] and self._applied == content["base_update_id"] \
                and self._applied is not None:
            if pool is None:
                row = tuple.__new__   # as _book_rows does, written out: most changes are a row or two
                OrderBook.apply_diffs(self, [row(OrderBookRow, (price, amount, update_id))
                                             for price, amount in changes[0]],
                                      [row(OrderBookRow, (price, amount, update_id)) for price, amount in changes[1]],
                                      update_id)
            elif not self._pool_crossed and not crossed(content["bids"], content["asks"], pool):
                OrderBook.apply_diffs(self, _with_pool(changes[0], pool.bid_amounts, update_id),
                                      _with_pool(changes[1], pool.ask_amounts, update_id), update_id)
            else:
                self._apply_whole(content, update_id)
            self._offers_clean = True
        else:   # what Hummingbot's restore does without diffs to replay (with the pool's levels, if any)
            if pool is None:
                OrderBook.apply_snapshot(self, snapshot.bids, snapshot.asks, update_id)
            else:
                self._apply_whole(content, update_id)
            self._offers_clean = None
        self._offers = content
        self._applied = self._book_uid = update_id

    def _apply_pool(self, pool: Optional[PoolLevels], update_id: int) -> None:
        """Show `pool`'s levels instead of the last ones: only the pool's prices change, unless the book is
        to be applied whole (the pool crosses the offers, now or before, or the offers are not in order)."""
        old, self._pool = self._pool, pool if pool is not None and (pool.bids or pool.asks) else None
        offers = self._offers
        if offers is None:
            return   # the book's rows are not known: the next offers' book goes in whole, with the pool
        if self._offers_clean is None:
            self._offers_clean = _clean_offers(offers)
        pool = self._pool
        if self._offers_clean and not self._pool_crossed and (pool is None or not crossed(
                offers["bids"], offers["asks"], pool)):
            old_bids, old_asks = (old.bid_amounts, old.ask_amounts) if old is not None else ({}, {})
            new_bids, new_asks = (pool.bid_amounts, pool.ask_amounts) if pool is not None else ({}, {})
            OrderBook.apply_diffs(self, _pool_change(old_bids, new_bids, offers["bids"], update_id),
                                  _pool_change(old_asks, new_asks, offers["asks"], update_id), update_id)
        else:
            self._apply_whole(offers, update_id)

    def _apply_whole(self, offers: Dict[str, Any], update_id: int) -> None:
        """The offers' rows and the pool's levels, applied whole (Hummingbot keeps a crossed book so)."""
        pool = self._pool
        bids, asks = offers["bids"], offers["asks"]
        if pool is None:
            OrderBook.apply_snapshot(self, _book_rows(bids, update_id), _book_rows(asks, update_id), update_id)
            self._pool_crossed = False
            return
        OrderBook.apply_snapshot(self, _book_rows(merged_side(bids, pool.bid_amounts), update_id),
                                 _book_rows(merged_side(asks, pool.ask_amounts), update_id), update_id)
        self._pool_crossed = crossed(bids, asks, pool)

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
            bids = level_rows(msg["bids"], True)
            asks = level_rows(msg["asks"], False)
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
