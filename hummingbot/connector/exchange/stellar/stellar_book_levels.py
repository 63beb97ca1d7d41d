"""Horizon order book levels -> (price, base amount) rows, and what changed from one book to the next.

Horizon's `/order_book?selling=BASE&buying=QUOTE` prices both sides in QUOTE per BASE, but its
ask amounts are in BASE and its bid amounts in QUOTE; Hummingbot wants base amounts on both
sides, so bid amounts are divided by the price. Hummingbot's OrderBook stores floats, so prices
and amounts go straight to float (no Decimal detour on the hot path).

`side_change` compares one side of two decoded books level by level (C-level list and dict
comparisons) and reads only the levels that differ; `span_change` is what it and the text
comparison (stellar_book_text) share once they know which levels changed.
"""
from itertools import compress, count, islice
from operator import gt, itemgetter, lt, ne
from typing import Any, Dict, List, Optional, Sequence, Tuple

Row = Tuple[float, float]
Change = Tuple[List[Row], Optional[List[Row]], Optional[bool]]
_price = itemgetter(0)


def level_rows_fast(levels: List[Dict[str, Any]], is_bid: bool) -> List[Row]:
    """Rows read from the exact rational `price_r` with integer parts, as Horizon writes it. Raises
    KeyError or TypeError for any other shape (string parts, no rational)."""
    rows: List[Row] = []
    append = rows.append
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


def level_rows(levels: List[Dict[str, Any]], is_bid: bool) -> List[Row]:
    """(price, base amount) rows: the fast reading, else the careful one for every level."""
    try:
        return level_rows_fast(levels, is_bid)
    except (KeyError, TypeError):
        return _rows_careful(levels, is_bid)


def _rows_careful(levels: List[Dict[str, Any]], is_bid: bool) -> List[Row]:
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


def is_ordered(rows: List[Row], is_bid: bool) -> bool:
    """Strictly in Horizon's order, best first (so no two rows share a price)."""
    prices = list(map(_price, rows))
    return all(map(gt if is_bid else lt, prices, islice(prices, 1, None)))


def is_crossed(bids: List[Row], asks: List[Row]) -> bool:
    """Locked or crossed, the best of each side first: Hummingbot's diffs would truncate such a book."""
    return bool(bids and asks and bids[0][0] >= asks[0][0])


def side_change(old_raw: List[Dict[str, Any]], old_rows: List[Row], old_ordered: Optional[bool],
                new_raw: List[Dict[str, Any]], is_bid: bool) -> Change:
    """(the new side's rows, the changed rows (amount 0: the level is gone), strictly ordered (None: not
    worked out)). Levels equal to the previous book's keep their rows; only the span from the first to
    the last difference is read (each level of it that differs when the side kept its length, else
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
        return level_rows(new_raw, is_bid), None, None   # first, middle and last levels changed: likely all
    if n_old == n_new:   # the side kept its length: only the levels that differ
        positions = list(compress(range(head, new_end), map(
            ne, islice(old_raw, head, old_end), islice(new_raw, head, new_end))))
        if len(positions) == n_new:
            return level_rows(new_raw, is_bid), None, None
        return span_change(old_rows, old_ordered, head, old_end,
                           level_rows([new_raw[i] for i in positions], is_bid), is_bid, positions)
    return span_change(old_rows, old_ordered, head, old_end, level_rows(new_raw[head:new_end], is_bid), is_bid)


def span_change(old_rows: List[Row], old_ordered: Optional[bool], head: int, old_end: int, parsed: List[Row],
                is_bid: bool, positions: Optional[Sequence[int]] = None) -> Change:
    """`side_change`'s answer once the changed levels are read: the old rows [head, old_end) gave way to
    `parsed`, or, with `positions`, the rows at those positions were each replaced by one of `parsed`."""
    if positions is not None:
        gone = [old_rows[i] for i in positions]
        rows = old_rows.copy()
        for i, row in zip(positions, parsed, strict=True):
            rows[i] = row
        if list(map(_price, parsed)) == list(map(_price, gone)):   # amounts changed, prices kept: in order still
            return rows, parsed, old_ordered
        seams: Sequence[int] = [j for i in positions for j in (i, i + 1)]
    else:                # levels came or went: the span is new
        gone = old_rows[head:old_end]
        rows = old_rows[:head] + parsed + old_rows[old_end:]
        seams = range(head, head + len(parsed) + 1)
    if gone:
        kept = set(gone)
        changes = [row for row in parsed if row not in kept]
        prices = set(map(_price, parsed))
        changes += [(price, 0.0) for price, _ in gone if price not in prices]
    else:
        changes = parsed
    if not old_ordered:
        return rows, changes, is_ordered(rows, is_bid)
    # Pairs of unchanged neighbours were in order already: check the pairs a changed row is in.
    last = len(rows)
    before = gt if is_bid else lt
    for j in seams:
        if 0 < j < last and not before(rows[j - 1][0], rows[j][0]):
            return rows, changes, False
    return rows, changes, True
