"""Horizon order book and trade JSON -> Hummingbot `OrderBookMessage`s.

Horizon's `/order_book?selling=BASE&buying=QUOTE` prices both sides in QUOTE per BASE, but its
ask amounts are in BASE and its bid amounts in QUOTE; Hummingbot wants base amounts on both
sides, so bid amounts are divided by the price. A streamed `/order_book` event is the whole
book, so every book message here is a SNAPSHOT. Hummingbot's OrderBook stores floats, so
prices and amounts are converted straight to float (no Decimal detour on the hot path).

Only what changed is applied: `BookSequence` (one per pair, in the data source) compares each
Horizon book with the pair's previous one level by level (C-level list and dict comparisons),
parses only the levels that differ, and gives the message, besides the whole book, the changed
rows and the book they change. `StellarOrderBook` (the tracker's books) applies those rows as a
diff when it holds exactly that previous book, and the whole book otherwise (the first book, a
book dropped on the way, a book applied by other means, or a book whose sides are not strictly
ordered or that is locked or crossed, where Hummingbot's diff would truncate levels), so it
always holds exactly what Horizon's last book says.
"""
import time
from itertools import compress, count, islice
from operator import gt, itemgetter, lt, ne
from typing import Any, Dict, List, Optional, Sequence, Tuple

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


Row = Tuple[float, float]
_price = itemgetter(0)


def _ordered(rows: List[Row], is_bid: bool) -> bool:
    """Strictly in Horizon's order, best first (so no two rows share a price)."""
    prices = list(map(_price, rows))
    return all(map(gt if is_bid else lt, prices, islice(prices, 1, None)))


def _side_change(old_raw: List[Dict[str, Any]], old_rows: List[Row], old_ordered: Optional[bool],
                 new_raw: List[Dict[str, Any]], is_bid: bool) -> Tuple[List[Row], Optional[List[Row]], Optional[bool]]:
    """(the new side's rows, the changed rows (amount 0: the level is gone), strictly ordered (None: not
    worked out)). Levels equal to the previous book's keep their rows; only the span from the first to
    the last difference is parsed (each level of it that differs when the side kept its length, else
    all of it). No changed rows (None) when every level changed (or the first, the middle and the last
    did): the whole book is cheaper to apply then."""
    n_old, n_new = len(old_raw), len(new_raw)
    common = n_old if n_old < n_new else n_new
    head = next(compress(count(), map(ne, old_raw, new_raw)), common)
    if head == common and n_old == n_new:
        return old_rows, [], old_ordered
    tail = next(compress(count(), map(ne, reversed(old_raw), reversed(new_raw))), common)
    if tail > common - head:
        tail = common - head
    old_end, new_end = n_old - tail, n_new - tail
    if head == 0 and tail == 0 and common > 2 and old_raw[n_old // 2] != new_raw[n_new // 2]:
        return _rows(new_raw, is_bid), None, None   # first, middle and last levels changed: likely all
    if n_old == n_new:   # the side kept its length: only the levels that differ
        positions: Sequence[int] = list(compress(range(head, new_end), map(
            ne, islice(old_raw, head, old_end), islice(new_raw, head, new_end))))
        if len(positions) == n_new:
            return _rows(new_raw, is_bid), None, None
        parsed = _rows([new_raw[i] for i in positions], is_bid)
        gone = [old_rows[i] for i in positions]
        rows = old_rows.copy()
        for i, row in zip(positions, parsed, strict=True):
            rows[i] = row
        if list(map(_price, parsed)) == list(map(_price, gone)):   # amounts changed, prices kept: in order still
            return rows, parsed, old_ordered
        seams: Sequence[int] = [j for i in positions for j in (i, i + 1)]
    else:                # levels came or went: the span is new
        parsed = _rows(new_raw[head:new_end], is_bid)
        gone = old_rows[head:old_end]
        rows = old_rows[:head] + parsed + old_rows[old_end:]
        seams = range(head, new_end + 1)
    if gone:
        kept = set(gone)
        changes = [row for row in parsed if row not in kept]
        prices = set(map(_price, parsed))
        changes += [(price, 0.0) for price, _ in gone if price not in prices]
    else:
        changes = parsed
    if not old_ordered:
        return rows, changes, _ordered(rows, is_bid)
    # Pairs of unchanged neighbours were in order already: check the pairs a changed row is in.
    last = len(rows)
    before = gt if is_bid else lt
    for j in seams:
        if 0 < j < last and not before(rows[j - 1][0], rows[j][0]):
            return rows, changes, False
    return rows, changes, True


def _crossed(bids: List[Row], asks: List[Row]) -> bool:
    """Locked or crossed, the best of each side first: Hummingbot's diffs would truncate such a book."""
    return bool(bids and asks and bids[0][0] >= asks[0][0])


class BookSequence:
    """The Horizon books of one pair, one after another (see the module's docstring)."""

    __slots__ = ("_raw", "_rows", "_ordered", "_update_id")

    def __init__(self) -> None:
        self._raw: Optional[Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]] = None
        self._rows: Tuple[List[Row], List[Row]] = ([], [])
        self._ordered: Tuple[Optional[bool], Optional[bool]] = (None, None)   # None: not known yet
        self._update_id: Optional[int] = None

    def message(self, book: Dict[str, Any], trading_pair: str) -> "StellarOrderBookMessage":
        """A SNAPSHOT of `book` (whole rows, as `snapshot_message_from_exchange` gives) that also names
        the previous book (`base_update_id`) and what changed since (`changes`: bid rows, ask rows; None
        when the whole book is to be applied), and whether both books are `clean`: strictly ordered
        sides, neither locked nor crossed, so that only the changes may be applied."""
        changes, clean = None, False
        try:
            raw = (book["bids"], book["asks"])
            if self._raw is None:
                bids, asks = _rows(raw[0], True), _rows(raw[1], False)
                ordered: Tuple[Optional[bool], Optional[bool]] = (None, None)
            else:
                bids, bid_changes, bids_ordered = _side_change(self._raw[0], self._rows[0], self._ordered[0],
                                                               raw[0], True)
                asks, ask_changes, asks_ordered = _side_change(self._raw[1], self._rows[1], self._ordered[1],
                                                               raw[1], False)
                ordered = (bids_ordered, asks_ordered)
                if bid_changes is not None and ask_changes is not None:
                    changes = (bid_changes, ask_changes)
                    base_clean = self._clean(self._rows, self._ordered)
                    self._ordered = base_clean[1]
                    new_clean = self._clean((bids, asks), ordered)
                    clean, ordered = base_clean[0] and new_clean[0], new_clean[1]
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as error:
            raise ValueError(f"Malformed Horizon order book for {trading_pair}: {type(error).__name__} {error}") \
                from error
        update_id = next_update_id()
        message = StellarOrderBookMessage(_SNAPSHOT, {
            "trading_pair": trading_pair, "update_id": update_id, "bids": bids, "asks": asks,
            "base_update_id": self._update_id, "changes": changes, "clean": clean,
        }, timestamp=update_id * 1e-9)
        self._raw, self._rows, self._ordered, self._update_id = raw, (bids, asks), ordered, update_id
        return message

    @staticmethod
    def _clean(rows: Tuple[List[Row], List[Row]], ordered: Tuple[Optional[bool], Optional[bool]]
               ) -> Tuple[bool, Tuple[bool, bool]]:
        """(whether a book is clean, whether each side is ordered), its order worked out if not known yet."""
        bids, asks = rows
        bids_ordered = _ordered(bids, True) if ordered[0] is None else ordered[0]
        asks_ordered = _ordered(asks, False) if ordered[1] is None else ordered[1]
        return bids_ordered and asks_ordered and not _crossed(bids, asks), (bids_ordered, asks_ordered)


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


def _book_rows(rows: List[Row], update_id: int) -> List[OrderBookRow]:
    """OrderBookRows (NamedTuples) made as tuples are: OrderBookRow(...) runs a Python __new__ per row."""
    new_row = tuple.__new__
    return [new_row(OrderBookRow, (price, amount, update_id)) for price, amount in rows]


class StellarOrderBook(OrderBook):
    """Hummingbot's OrderBook, fed only the changed levels of a Horizon book when it holds the book
    they change (see the module's docstring). Every Horizon book is a whole book, so `snapshot_uid`
    is the update id of the last one it holds, whether applied whole or by its changes."""

    def __init__(self, dex: bool = False):
        super().__init__(dex)
        self._applied: Optional[int] = None   # update id of the Stellar book this book holds exactly, if any
        self._book_uid = 0                     # update id of the last whole book, applied whole or by its changes

    @property
    def snapshot_uid(self) -> int:
        return self._book_uid

    def apply_snapshot(self, bids: List[OrderBookRow], asks: List[OrderBookRow], update_id: int):
        self._applied = None
        super().apply_snapshot(bids, asks, update_id)
        self._book_uid = update_id

    def apply_diffs(self, bids: List[OrderBookRow], asks: List[OrderBookRow], update_id: int):
        self._applied = None
        super().apply_diffs(bids, asks, update_id)

    def restore_from_snapshot_and_diffs(self, snapshot: OrderBookMessage, diffs: List[OrderBookMessage]):
        content = snapshot.content
        update_id = content["update_id"]
        if diffs or not isinstance(snapshot, StellarOrderBookMessage):
            super().restore_from_snapshot_and_diffs(snapshot, diffs)   # Hummingbot's, diffs replayed
            self._applied = None
            return
        changes = content["changes"]
        if changes is not None and content["clean"] and self._applied == content["base_update_id"] \
                and self._applied is not None:
            OrderBook.apply_diffs(self, _book_rows(changes[0], update_id), _book_rows(changes[1], update_id),
                                  update_id)
        else:   # what Hummingbot's restore does without diffs to replay
            OrderBook.apply_snapshot(self, snapshot.bids, snapshot.asks, update_id)
        self._applied = self._book_uid = update_id

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
