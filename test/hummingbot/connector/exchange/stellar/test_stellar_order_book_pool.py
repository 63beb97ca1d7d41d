"""The tracker's book with a liquidity pool: the offers and the pool's levels merged, each changed apart from the
other as a diff, and applied whole only when the two venues' prices cross."""
import random
from decimal import ROUND_UP, Decimal

from hummingbot.core.data_type.common import TradeType
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.data_type.order_book_row import OrderBookRow

from hummingbot.connector.exchange.stellar.stellar_order_book import (
    BookSequence,
    StellarOrderBook,
    StellarPoolMessage,
    pool_message,
)
from hummingbot.connector.exchange.stellar.stellar_order_pricing import market_price_bound
from hummingbot.connector.exchange.stellar.stellar_pool_levels import STROOPS, merged_side, pool_levels

PAIR = "XLM-USDC"


def level(n: int, d: int, amount: str) -> dict:
    return {"price_r": {"n": n, "d": d}, "price": f"{n / d:.7f}", "amount": amount}


def offers(bids=((24, 100, "10.0000000"), (23, 100, "5.0000000")),
           asks=((26, 100, "40.0000000"), (27, 100, "20.0000000"))) -> dict:
    """A Horizon book (bid amounts in USDC, asks in XLM), around 0.25 USDC per XLM."""
    return {"bids": [level(*b) for b in bids], "asks": [level(*a) for a in asks]}


def entries(book: OrderBook) -> tuple:
    return ([(e.price, e.amount) for e in book.bid_entries()], [(e.price, e.amount) for e in book.ask_entries()])


def ids(book: OrderBook) -> dict:
    """price -> update id of its row, both sides."""
    return {e.price: e.update_id for e in [*book.bid_entries(), *book.ask_entries()]}


def whole(message, pool) -> tuple:
    """What the book must hold: the offers' rows and the pool's levels, merged, applied whole."""
    content = message.content
    bids, asks = content["bids"], content["asks"]
    if pool is not None:
        bids, asks = merged_side(bids, pool.bid_amounts), merged_side(asks, pool.ask_amounts)
    book = OrderBook()
    book.apply_snapshot([OrderBookRow(p, a, 0) for p, a in bids], [OrderBookRow(p, a, 0) for p, a in asks], 0)
    return entries(book)


class Fixture:
    def __init__(self) -> None:
        self.books = BookSequence()
        self.book = StellarOrderBook()
        self.pool = None
        self.last = None

    def offers(self, book: dict):
        self.last = self.books.message(book, PAIR)
        self.book.restore_from_snapshot_and_diffs(self.last, [])
        return self.last

    def pool_reserves(self, xlm: float, usdc: float):
        self.pool = pool_levels(int(xlm * STROOPS), int(usdc * STROOPS))
        message = pool_message(PAIR, self.pool)
        self.book.restore_from_snapshot_and_diffs(message, [])
        return message

    def exact(self) -> bool:
        return entries(self.book) == whole(self.last, self.pool)


def test_the_pools_levels_join_the_offers_and_leave_again():
    f = Fixture()
    f.offers(offers())
    message = f.pool_reserves(1000, 250)
    assert isinstance(message, StellarPoolMessage) and message.trading_pair == PAIR
    assert f.exact()
    assert f.book.pool_levels is f.pool
    # The best prices are the pool's now (0.2508 ask, 0.2492 bid, inside the offers' 0.24 .. 0.26).
    assert f.book.get_price(True) == f.pool.best_ask and f.book.get_price(False) == f.pool.best_bid
    offer_ids = {price: uid for price, uid in ids(f.book).items() if price in (0.24, 0.23, 0.26, 0.27)}
    assert set(offer_ids.values()) == {f.last.update_id}   # the offers' rows were not applied again

    f.book.restore_from_snapshot_and_diffs(pool_message(PAIR, None), [])
    f.pool = None
    assert f.exact() and f.book.pool_levels is None
    assert entries(f.book) == ([(0.24, 10 / 0.24), (0.23, 5 / 0.23)], [(0.26, 40.0), (0.27, 20.0)])


def test_an_offers_change_with_a_pool_applies_only_the_changed_offers():
    f = Fixture()
    f.offers(offers())
    pool_update = f.pool_reserves(1000, 250).update_id
    changed = f.offers(offers(asks=((26, 100, "41.0000000"), (27, 100, "20.0000000"))))
    assert f.exact()
    by_price = ids(f.book)
    assert by_price[0.26] == changed.update_id
    assert {by_price[p] for p, _ in f.pool.asks + f.pool.bids} == {pool_update}   # the pool's rows stay
    assert by_price[0.27] != changed.update_id


def test_a_reserves_change_applies_only_the_pools_levels():
    f = Fixture()
    offer_update = f.offers(offers()).update_id
    first = f.pool_reserves(1000, 250).content["pool"]
    second = f.pool_reserves(1010, 248)
    assert f.exact()
    by_price = ids(f.book)
    assert {by_price[p] for p in (0.24, 0.23, 0.26, 0.27)} == {offer_update}
    assert {by_price[p] for p, _ in f.pool.asks + f.pool.bids} == {second.update_id}
    assert not set(first.bid_amounts) & set(dict(entries(f.book)[0]))   # the old levels are gone
    f.pool_reserves(1010, 248)   # the same reserves again: nothing changes
    assert f.exact() and ids(f.book) == by_price


def test_where_a_pool_level_meets_an_offers_price_their_amounts_add_up():
    f = Fixture()
    f.pool_reserves(1000, 250)
    price = f.pool.asks[3][0]   # an ask at exactly a pool level's price: n/d as Horizon gives it
    n, d = price.as_integer_ratio()
    f.offers(offers(asks=((n, d, "3.0000000"), (27, 100, "20.0000000"))))
    assert f.exact()
    asks = dict(entries(f.book)[1])
    assert asks[price] == 3.0 + f.pool.ask_amounts[price]
    f.offers(offers(asks=((27, 100, "20.0000000"),)))                     # the offer goes: the pool's stays
    assert f.exact() and dict(entries(f.book)[1])[price] == f.pool.ask_amounts[price]
    f.offers(offers(asks=((n, d, "2.0000000"), (27, 100, "20.0000000"))))
    f.book.restore_from_snapshot_and_diffs(pool_message(PAIR, None), [])   # the pool goes: the offer's stays
    f.pool = None
    assert f.exact() and dict(entries(f.book)[1])[price] == 2.0


def test_where_a_pool_bid_meets_an_offers_price_their_amounts_add_up_on_every_change():
    f = Fixture()
    f.offers(offers())
    f.pool_reserves(1000, 250)
    price = f.pool.bids[5][0]
    n, d = price.as_integer_ratio()
    bids = [(24, 100, "10.0000000"), (23, 100, "5.0000000")]
    for usdc in ("3.0000000", "4.0000000", None, "1.0000000"):   # the offer comes, changes, goes, comes back
        f.offers(offers(bids=sorted(bids + ([(n, d, usdc)] if usdc else []), key=lambda b: -b[0] / b[1])))
        assert f.exact()
        amount = float(usdc) / price if usdc else 0.0
        assert dict(entries(f.book)[0])[price] == amount + f.pool.bid_amounts[price]


def test_a_pool_crossing_the_offers_is_shown_whole_then_diffs_resume():
    f = Fixture()
    f.offers(offers())
    f.pool_reserves(1000, 300)   # 0.30 per XLM: its bids reach above the offers' 0.26 ask
    assert f.exact()
    bids, asks = entries(f.book)
    assert bids[0][0] > asks[0][0]   # crossed: Hummingbot's diffs would have dropped levels
    f.offers(offers(asks=((26, 100, "39.0000000"), (27, 100, "20.0000000"))))
    assert f.exact()
    back = f.pool_reserves(1000, 250)   # back inside the offers' spread: applied whole once more
    assert f.exact()
    assert set(ids(f.book).values()) == {back.update_id}
    changed = f.offers(offers(asks=((26, 100, "38.0000000"), (27, 100, "20.0000000"))))
    assert f.exact()
    assert ids(f.book)[0.27] == back.update_id and ids(f.book)[0.26] == changed.update_id   # a diff again


def test_a_pool_before_any_offers_and_books_applied_by_others():
    f = Fixture()
    f.pool_reserves(1000, 250)   # nothing known of the book yet: kept for the first offers
    assert entries(f.book) == ([], [])
    f.offers(offers())
    assert f.exact()
    # A snapshot applied from outside (the tracker's first book) keeps the pool beside it.
    f.book.apply_snapshot([OrderBookRow(0.2, 1.0, 7)], [OrderBookRow(0.3, 2.0, 7)], 7)
    expected = OrderBook()
    expected.apply_snapshot([OrderBookRow(p, a, 0) for p, a in merged_side([(0.2, 1.0)], f.pool.bid_amounts)],
                            [OrderBookRow(p, a, 0) for p, a in merged_side([(0.3, 2.0)], f.pool.ask_amounts)], 0)
    assert entries(f.book) == entries(expected)
    f.pool_reserves(900, 250)
    expected.apply_snapshot([OrderBookRow(p, a, 0) for p, a in merged_side([(0.2, 1.0)], f.pool.bid_amounts)],
                            [OrderBookRow(p, a, 0) for p, a in merged_side([(0.3, 2.0)], f.pool.ask_amounts)], 0)
    assert entries(f.book) == entries(expected)
    f.offers(offers())
    assert f.exact()


def test_any_sequence_of_offers_and_pool_changes_leaves_exactly_the_merged_book():
    """Offers change a level or two at a time (an amount, a level come or gone), the pool's reserves move,
    at times far enough to cross the offers or to empty it: after each message the book is exactly the
    offers plus the pool, and most messages went in as diffs."""
    rng = random.Random(16)
    f = Fixture()
    bids = {p: rng.randint(1, 9) for p in range(230, 250, 2)}   # thousandths of a USDC -> whole units
    asks = {p: rng.randint(1, 9) for p in range(252, 272, 2)}
    as_diffs = 0
    for step in range(600):
        if rng.random() < 0.25:
            message = f.pool_reserves(rng.choice([0, 1000, 1000, 2000]), rng.choice([250, 249, 251, 300, 0]))
        else:
            for _ in range(rng.randint(1, 2)):
                side, low = (bids, 200) if rng.random() < 0.5 else (asks, 251)
                price = rng.randint(low, low + 48)
                if price in side and rng.random() < 0.3:
                    del side[price]
                else:
                    side[price] = rng.randint(1, 9)
            message = f.offers(offers(bids=[(p, 1000, f"{a}.0000000") for p, a in sorted(bids.items(), reverse=True)],
                                      asks=[(p, 1000, f"{a}.0000000") for p, a in sorted(asks.items())]))
        if f.last is not None:
            assert f.exact(), step
            as_diffs += any(uid != message.update_id for uid in ids(f.book).values())   # rows kept: a diff
    assert as_diffs > 300


def pool_cost(xlm: int, usdc: int, out: int) -> int:
    return -(-(10_000 * usdc * out) // ((xlm - out) * 9_970))


def pool_payout(xlm: int, usdc: int, sold: int) -> int:
    return 9_970 * usdc * sold // (10_000 * xlm + 9_970 * sold)


def test_the_single_venue_price_is_the_better_venue_for_the_whole_amount_as_a_path_payment_takes_it():
    f = Fixture()
    f.offers(offers(bids=((20, 100, "4.0000000"),), asks=((30, 100, "20.0000000"),)))   # 20 XLM each side
    # Without a pool: what Hummingbot's get_price_for_volume says of the offers.
    for is_buy, volume in ((True, 5.0), (True, 20.0), (False, 20.0)):
        assert f.book.single_venue_price(is_buy, volume) == f.book.get_price_for_volume(is_buy, volume).result_price
    assert f.book.single_venue_price(True, 21.0) is None   # more than the offers hold
    xlm, usdc = 1000 * STROOPS, 250 * STROOPS
    f.pool_reserves(1000, 250)
    ten = 10 * STROOPS
    assert f.book.single_venue_price(True, 10.0) == pool_cost(xlm, usdc, ten) / ten        # under the 0.30 ask
    assert f.book.single_venue_price(False, 10.0) == pool_payout(xlm, usdc, ten) / ten     # over the 0.20 bid
    f.pool_reserves(20, 5)   # a shallow pool: 10 XLM would move it far, the offers are better
    assert f.book.single_venue_price(True, 10.0) == 0.3 and f.book.single_venue_price(False, 10.0) == 0.2


def test_a_market_orders_bound_is_the_better_venues_price_not_the_merged_depths():
    f = Fixture()
    f.offers(offers(bids=((20, 100, "4.0000000"),), asks=((252, 1000, "10.0000000"),)))   # 10 XLM at 0.252
    f.pool_reserves(1000, 250)
    xlm, usdc = 1000 * STROOPS, 250 * STROOPS
    amount = 30 * STROOPS   # more than the offers hold: only the pool can take it whole
    pool_average = pool_cost(xlm, usdc, amount) / amount
    merged = f.book.get_vwap_for_volume(True, 30.0).result_price
    assert merged < pool_average   # the merged depth is cheaper than any one path payment can be
    bound = market_price_bound(f.book, PAIR, TradeType.BUY, Decimal(30), Decimal("0.02"))
    assert bound == (Decimal(repr(pool_average)) * Decimal("1.02")).quantize(Decimal("0.0000001"), ROUND_UP)
    # A book of offers alone prices it as before: its last level's price for the amount.
    plain = StellarOrderBook()
    plain.restore_from_snapshot_and_diffs(BookSequence().message(offers(), PAIR), [])
    assert market_price_bound(plain, PAIR, TradeType.BUY, Decimal(50), Decimal("0.02")) == Decimal("0.2754")
