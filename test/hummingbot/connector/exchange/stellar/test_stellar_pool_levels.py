"""A liquidity pool's levels: exactly what CAP-38's formulas give a taker, on both sides, for pools large and tiny."""
import random
from itertools import accumulate, pairwise
from math import sqrt

import pytest
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.data_type.order_book_row import OrderBookRow

from hummingbot.connector.exchange.stellar.stellar_pool_levels import (
    PRICE_MOVES_BP,
    STROOPS,
    ask_slices,
    bid_slices,
    crossed,
    merged_side,
    pool_cost,
    pool_levels,
    pool_payout,
)
from stellar_sandbox.core import pools as sandbox_pools

XLM, USDC = 1000 * STROOPS, 250 * STROOPS   # a pool at 0.25 USDC per XLM


def cost(base_reserve: int, quote_reserve: int, base_out: int) -> int:
    """CAP-38, written out: ceil[X·y / (Y − y) / (1 − F)] with X the quote reserve (in), Y the base (out)."""
    return -(-(10_000 * quote_reserve * base_out) // ((base_reserve - base_out) * 9_970))


def payout(base_reserve: int, quote_reserve: int, base_in: int) -> int:
    """CAP-38, written out: floor[(1 − F)·Y·x / (X + x − F·x)] with X the base reserve (in), Y the quote (out)."""
    return 9_970 * quote_reserve * base_in // (10_000 * base_reserve + 9_970 * base_in)


def test_the_formulas_are_the_ledgers():
    rng = random.Random(7)
    for _ in range(2000):
        reserve_in, reserve_out = rng.randint(1, 10 ** rng.randint(1, 15)), rng.randint(1, 10 ** rng.randint(1, 15))
        amount = rng.randint(1, 10 ** rng.randint(1, 16))
        reserves = (reserve_in, reserve_out)
        assert pool_payout(*reserves, amount) == sandbox_pools.pool_payout(*reserves, amount)
        assert pool_cost(*reserves, amount) == sandbox_pools.pool_cost(*reserves, amount)


def test_each_ask_level_ends_where_the_taker_pays_exactly_the_formulas_cost():
    slices = ask_slices(XLM, USDC)
    assert len(slices) == len(PRICE_MOVES_BP)
    for move, quote, base in zip(PRICE_MOVES_BP, accumulate(q for q, _ in slices), accumulate(b for _, b in slices),
                                 strict=True):
        assert abs(base - XLM * (1 - 1 / sqrt(1 + move / 10_000))) <= 1   # where the price moved by `move`
        assert quote == cost(XLM, USDC, base)


def test_each_bid_level_ends_where_the_taker_receives_exactly_the_formulas_payout():
    slices = bid_slices(XLM, USDC)
    assert len(slices) == len(PRICE_MOVES_BP)
    for move, quote, base in zip(PRICE_MOVES_BP, accumulate(q for q, _ in slices), accumulate(b for _, b in slices),
                                 strict=True):
        assert abs(base - XLM * (sqrt(1 + move / 10_000) - 1)) <= 1
        assert quote == payout(XLM, USDC, base)


def test_rows_are_the_slices_in_base_units_best_first_around_the_pools_price():
    levels = pool_levels(XLM, USDC)
    assert levels.asks == [(q / b, b / STROOPS) for q, b in ask_slices(XLM, USDC)]
    assert levels.bids == [(q / b, b / STROOPS) for q, b in bid_slices(XLM, USDC)]
    assert all(a < b for (a, _), (b, _) in pairwise(levels.asks))
    assert all(a > b for (a, _), (b, _) in pairwise(levels.bids))
    # The best prices: the pool's 0.25 with its 30 bp fee, to within the first slice's 1 bp move.
    assert 0.25 / 0.997 < levels.best_ask < 0.25 / 0.997 * 1.0001
    assert 0.25 * 0.997 / 1.0001 < levels.best_bid < 0.25 * 0.997
    assert levels.ask_amounts == dict(levels.asks) and levels.bid_amounts == dict(levels.bids)


def test_hummingbots_vwap_at_a_levels_end_is_the_pools_exact_price_for_that_amount():
    levels = pool_levels(XLM, USDC)
    book = OrderBook()
    book.apply_snapshot([OrderBookRow(p, a, 1) for p, a in levels.bids],
                        [OrderBookRow(p, a, 1) for p, a in levels.asks], 1)
    for is_buy, slices, formula in ((True, ask_slices(XLM, USDC), cost), (False, bid_slices(XLM, USDC), payout)):
        base = 0
        for _, slice_base in slices:
            base += slice_base
            vwap = book.get_vwap_for_volume(is_buy, base / STROOPS)
            assert vwap.result_volume == pytest.approx(base / STROOPS, rel=1e-12)
            assert vwap.result_price == pytest.approx(formula(XLM, USDC, base) / base, rel=1e-12)
    # Between two ends the book interpolates: never better than the pool, worse by less than a slice's step.
    for amount in (7 * STROOPS, 42 * STROOPS):
        buy = book.get_vwap_for_volume(True, amount / STROOPS).result_price
        assert cost(XLM, USDC, amount) / amount <= buy < cost(XLM, USDC, amount) / amount * 1.001
        sell = book.get_vwap_for_volume(False, amount / STROOPS).result_price
        assert payout(XLM, USDC, amount) / amount * 0.999 < sell <= payout(XLM, USDC, amount) / amount


@pytest.mark.parametrize("base_reserve, quote_reserve", [(0, 0), (XLM, 0), (0, USDC), (-1, USDC)])
def test_an_empty_or_one_sided_pool_has_no_levels(base_reserve, quote_reserve):
    levels = pool_levels(base_reserve, quote_reserve)
    assert (levels.bids, levels.asks, levels.best_bid, levels.best_ask) == ([], [], None, None)


@pytest.mark.parametrize("base_reserve, quote_reserve", [(1, 1), (3, 5), (10, 20), (7, 10 ** 12), (10 ** 12, 7),
                                                         (123, 4567), (2 ** 62, 2 ** 62)])
def test_tiny_and_huge_reserves_give_ordered_levels_whose_ends_are_exact(base_reserve, quote_reserve):
    for is_ask, slices, formula in ((True, ask_slices(base_reserve, quote_reserve), cost),
                                    (False, bid_slices(base_reserve, quote_reserve), payout)):
        assert all(quote > 0 and base > 0 for quote, base in slices)   # no level worth nothing
        prices = [quote / base for quote, base in slices]
        assert all((a < b) if is_ask else (a > b) for a, b in pairwise(prices))
        quote = base = 0
        for slice_quote, slice_base in slices:
            quote, base = quote + slice_quote, base + slice_base
            assert quote == formula(base_reserve, quote_reserve, base)
        if is_ask:
            assert base < base_reserve   # a taker can never take it all


def test_tiny_reserves_merge_what_rounding_leaves_worthless_or_out_of_order():
    # 10 XLM stroops against 20 USDC stroops: 1 bp moves are less than a stroop; the few that remain merge.
    assert ask_slices(10, 20) == [(cost(10, 20, 2), 2)]
    assert bid_slices(10, 20) == [(3, 2), (payout(10, 20, 4) - 3, 2)]


def test_merged_side_adds_the_pools_amount_where_a_price_meets_an_offers():
    offers = [(0.25, 10.0), (0.24, 5.0)]
    assert merged_side(offers, {}) is offers
    assert sorted(merged_side(offers, {0.25: 1.5, 0.245: 2.0})) == [(0.24, 5.0), (0.245, 2.0), (0.25, 11.5)]


def test_crossed_when_a_pool_price_reaches_the_offers_best_on_the_other_side():
    levels = pool_levels(XLM, USDC)   # best bid ~0.24925, best ask ~0.25077
    assert not crossed([(0.249, 1.0)], [(0.251, 1.0)], levels)
    assert crossed([(levels.best_ask, 1.0)], [(0.3, 1.0)], levels)          # locked
    assert crossed([(0.2, 1.0)], [(0.2492, 1.0)], levels)                    # an ask under the pool's bid
    assert not crossed([], [], levels)
    assert not crossed([(0.3, 1.0)], [(0.4, 1.0)], pool_levels(0, 0))
