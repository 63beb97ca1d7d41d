"""A liquidity pool's depth as order book rows: what a taker gets from it, in slices, by CAP-38's formulas.

Since protocol 18 a pair may have a constant-product pool (reserves B of the base, Q of the quote, fee
F = 30 bp) beside its order book. Only path payments trade with it; the connector's MARKET orders are
path payments, and so are most takers'. Its depth, shown as levels, is what a taker would get:

- asks (a taker buys base): to receive y base it pays cost(y) = ceil[Q·y / (B − y) / (1 − F)] quote;
- bids (a taker sells base): for x base it receives payout(x) = floor[(1 − F)·Q·x / (B + (1 − F)·x)] quote

(in exact integers of stroops and basis points, as stellar-core computes them). The levels are slices of
the amount a taker could trade: slice k runs from the amount that moves the pool's price by the (k−1)th
step of `PRICE_MOVES_BP` to the one that moves it by the kth (fine near the pool's price, coarser further
out), for asks y_k = ⌊B·(1 − 1/√(1 + m_k))⌋, for bids x_k = ⌊B·(√(1 + m_k) − 1)⌋ (in floating point: an end
only needs to be near its price move; what each slice holds is exact). A slice's row is
(its quote / its base, its base): so the first k rows of a side hold exactly the base of y_k (x_k) and,
price times amount, exactly cost(y_k) (payout(x_k)) quote. Hummingbot's `get_vwap_for_volume` and
`get_price_for_volume` at a slice's end are the pool's exact price for that amount; between two ends they
interpolate linearly, so (the cost is convex) slightly worse for the taker than the pool: on the safe side, by
less than the slice's step.

Rounding can leave a slice worth nothing (a few stroops of base for no quote) or priced out of order (tiny
reserves): such a slice is merged into its neighbours (into the next when it is worth nothing, else into
the one before), so each side is strictly ordered, best first, and the sums at the remaining ends stay
exact. A pool with an empty reserve has no levels.
"""
from math import sqrt
from typing import Dict, List, NamedTuple, Optional, Tuple

Row = Tuple[float, float]   # (price in quote per base, amount in base), as stellar_book_levels' rows

LIQUIDITY_POOL_FEE_BP = 30      # LIQUIDITY_POOL_FEE_V18, the only fee a constant-product pool has
_MAX_BPS = 10_000
INT64_MAX = 2 ** 63 - 1
STROOPS = 10_000_000
# Where the slices end: the pool's price moved by this many basis points (up by a buy, down by a sell).
PRICE_MOVES_BP = (1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000)


def pool_payout(reserve_in: int, reserve_out: int, amount_in: int, fee_bp: int = LIQUIDITY_POOL_FEE_BP
                ) -> Optional[int]:
    """What the pool disburses for `amount_in` (a strict send); None when it cannot trade: an empty reserve,
    a reserve that would overflow int64, or a payout that rounds to zero."""
    if reserve_in <= 0 or reserve_out <= 0 or amount_in <= 0 or amount_in > INT64_MAX - reserve_in:
        return None
    kept = _MAX_BPS - fee_bp
    out = kept * reserve_out * amount_in // (_MAX_BPS * reserve_in + kept * amount_in)
    return out if out > 0 else None


def pool_cost(reserve_in: int, reserve_out: int, amount_out: int, fee_bp: int = LIQUIDITY_POOL_FEE_BP
              ) -> Optional[int]:
    """What the pool needs to disburse `amount_out` (a strict receive); None when it cannot: an empty
    reserve, all of `reserve_out` or more, or an amount in that would overflow the other reserve."""
    if reserve_in <= 0 or reserve_out <= 0 or amount_out <= 0 or amount_out >= reserve_out:
        return None
    needed = -(-(_MAX_BPS * reserve_in * amount_out) // ((reserve_out - amount_out) * (_MAX_BPS - fee_bp)))
    return needed if needed <= INT64_MAX - reserve_in else None


def _factors(moves_bp) -> Tuple[Tuple[float, ...], Tuple[float, ...]]:
    """Per price move m: the share of the base reserve a buy takes (1 − 1/√(1 + m)) and a sell adds (√(1 + m) − 1)
    to move the pool's price by m (before its fee)."""
    return (tuple(1.0 - 1.0 / sqrt(1.0 + move / _MAX_BPS) for move in moves_bp),
            tuple(sqrt(1.0 + move / _MAX_BPS) - 1.0 for move in moves_bp))


_FACTORS = {PRICE_MOVES_BP: _factors(PRICE_MOVES_BP)}


def slice_ends(base_reserve: int, moves_bp=PRICE_MOVES_BP) -> Tuple[List[int], List[int]]:
    """Where the slices end, in base stroops: (for asks: base bought, for bids: base sold), one per move,
    floor(B·share) in floating point (an end only needs to be near its price move; what a slice holds is then
    computed exactly)."""
    ask_factors, bid_factors = _FACTORS.get(moves_bp) or _factors(moves_bp)
    return [int(base_reserve * f) for f in ask_factors], [int(base_reserve * f) for f in bid_factors]


def ask_slices(base_reserve: int, quote_reserve: int, moves_bp=PRICE_MOVES_BP) -> List[Tuple[int, int]]:
    """(quote paid, base received) of each ask slice, in stroops, best first."""
    slices: List[Tuple[int, int]] = []
    if base_reserve <= 0 or quote_reserve <= 0:
        return slices
    last_base = last_quote = 0
    numerator, kept = _MAX_BPS * quote_reserve, _MAX_BPS - LIQUIDITY_POOL_FEE_BP
    limit = INT64_MAX - quote_reserve
    for share in (_FACTORS.get(moves_bp) or _factors(moves_bp))[0]:
        base = int(base_reserve * share)
        if base <= last_base:
            continue
        if base >= base_reserve:
            break
        quote = -(-(numerator * base) // ((base_reserve - base) * kept))   # pool_cost, written out: it is hot
        if quote > limit:
            break
        if quote > last_quote:   # else worth nothing yet: the base goes into the next slice
            add_quote, add_base = quote - last_quote, base - last_base
            if slices and add_quote * slices[-1][1] <= slices[-1][0] * add_base:   # not dearer than the last
                _push(slices, add_quote, add_base, True)
            else:
                slices.append((add_quote, add_base))
            last_base, last_quote = base, quote
    return slices


def bid_slices(base_reserve: int, quote_reserve: int, moves_bp=PRICE_MOVES_BP) -> List[Tuple[int, int]]:
    """(quote received, base paid) of each bid slice, in stroops, best first."""
    slices: List[Tuple[int, int]] = []
    if base_reserve <= 0 or quote_reserve <= 0:
        return slices
    last_base = last_quote = 0
    kept = _MAX_BPS - LIQUIDITY_POOL_FEE_BP
    numerator, reserve_term = kept * quote_reserve, _MAX_BPS * base_reserve
    limit = INT64_MAX - base_reserve
    for share in (_FACTORS.get(moves_bp) or _factors(moves_bp))[1]:
        base = int(base_reserve * share)
        if base <= last_base:
            continue
        if base > limit:
            break
        quote = numerator * base // (reserve_term + kept * base)   # pool_payout, written out: it is hot
        if quote > last_quote:
            add_quote, add_base = quote - last_quote, base - last_base
            if slices and add_quote * slices[-1][1] >= slices[-1][0] * add_base:   # not cheaper than the last
                _push(slices, add_quote, add_base, False)
            else:
                slices.append((add_quote, add_base))
            last_base, last_quote = base, quote
    return slices


def _push(slices: List[Tuple[int, int]], quote: int, base: int, is_ask: bool) -> None:
    """Append a slice, merged with the ones before it while its price is not strictly worse than theirs."""
    while slices:
        last_quote, last_base = slices[-1]
        # Prices compared exactly: quote/base against last_quote/last_base.
        if (quote * last_base > last_quote * base) if is_ask else (quote * last_base < last_quote * base):
            break
        slices.pop()
        quote, base = quote + last_quote, base + last_base
    slices.append((quote, base))


class PoolLevels(NamedTuple):
    """A pool's rows (best first) and the same by price, as `pool_levels` makes them from its reserves."""
    base_reserve: int
    quote_reserve: int
    bids: List[Row]
    asks: List[Row]
    bid_amounts: Dict[float, float]
    ask_amounts: Dict[float, float]
    best_bid: Optional[float]
    best_ask: Optional[float]


def pool_levels(base_reserve: int, quote_reserve: int, moves_bp=PRICE_MOVES_BP) -> PoolLevels:
    """The pool's levels for reserves in stroops (see the module's docstring)."""
    bids = [(quote / base, base / STROOPS) for quote, base in bid_slices(base_reserve, quote_reserve, moves_bp)]
    asks = [(quote / base, base / STROOPS) for quote, base in ask_slices(base_reserve, quote_reserve, moves_bp)]
    return PoolLevels(base_reserve, quote_reserve, bids, asks, dict(bids), dict(asks),
                      bids[0][0] if bids else None, asks[0][0] if asks else None)


NO_POOL = pool_levels(0, 0)


# Merging with the offers' rows

def merged_side(offer_rows: List[Row], pool_amounts: Dict[float, float]) -> List[Row]:
    """A side of the book with the pool's amounts added: at an offer's price, to its amount; elsewhere as
    rows of their own (unsorted: Hummingbot's book orders them)."""
    if not pool_amounts:
        return offer_rows
    extra = dict(pool_amounts)
    rows = [(price, amount + extra.pop(price)) if price in extra else (price, amount) for price, amount in offer_rows]
    rows.extend(extra.items())
    return rows


def crossed(offer_bids: List[Row], offer_asks: List[Row], pool: PoolLevels) -> bool:
    """Whether the offers (each side ordered, best first, not crossed) and the pool's levels cross or lock:
    a pool's price at or beyond the offers' best on the other side (the venues are apart: offers never
    cross a pool, so this lasts until someone trades it away)."""
    best_ask, best_bid = pool.best_ask, pool.best_bid
    return bool((best_ask is not None and offer_bids and offer_bids[0][0] >= best_ask)
                or (best_bid is not None and offer_asks and offer_asks[0][0] <= best_bid))
