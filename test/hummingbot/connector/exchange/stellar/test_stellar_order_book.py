import random
from decimal import Decimal
from itertools import pairwise

import pytest
from hummingbot.core.data_type.common import TradeType
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.data_type.order_book_message import OrderBookMessage, OrderBookMessageType

from hummingbot.connector.exchange.stellar.stellar_horizon_records import record_asset_key
from hummingbot.connector.exchange.stellar.stellar_order_book import (
    BookSequence,
    StellarOrderBook,
    StellarOrderBookMessage,
    next_update_id,
)
from test.recorded_horizon import RECORDED_TRADES, pair_of, record_name

ISSUER = "GBBD47IF6LWK7P7MDEVSCWR7DPUWV3NY3DTQEVFL4NAT4AQH3ZLLFLA5"
USDC_KEY = f"USDC:{ISSUER}"
PAIR = "XLM-USDC"


def level(n: int, d: int, amount: str) -> dict:
    return {"price_r": {"n": n, "d": d}, "price": f"{n / d:.7f}", "amount": amount}


def horizon_book() -> dict:
    # Asks sell XLM: amounts in XLM. Bids sell USDC for XLM: amounts in USDC, price still USDC per XLM.
    return {
        "bids": [level(1, 10, "50.0000000"), level(9, 100, "9.0000000")],
        "asks": [level(11, 100, "200.0000000"), level(3, 25, "10.0000000")],
        "base": {"asset_type": "native"},
        "counter": {"asset_type": "credit_alphanum4", "asset_code": "USDC", "asset_issuer": ISSUER},
    }


def horizon_trade(base_is_xlm: bool, base_is_seller: bool) -> dict:
    xlm = {"asset_type": "native"}
    usdc = {"asset_type": "credit_alphanum4", "asset_code": "USDC", "asset_issuer": ISSUER}
    base, counter = (xlm, usdc) if base_is_xlm else (usdc, xlm)
    trade = {
        "id": "0000000042949677057-0000000000",
        "paging_token": "42949677057-0",
        "ledger_close_time": "2026-11-25T06:00:00Z",
        "base_is_seller": base_is_seller,
        # 100 XLM for 12.5 USDC: 0.125 USDC per XLM
        "base_amount": "100.0000000" if base_is_xlm else "12.5000000",
        "counter_amount": "12.5000000" if base_is_xlm else "100.0000000",
        "price": {"n": "1", "d": "8"} if base_is_xlm else {"n": "8", "d": "1"},
    }
    for prefix, asset in (("base_", base), ("counter_", counter)):
        for field, value in asset.items():
            trade[prefix + field] = value
    return trade


def test_snapshot_converts_bid_amounts_from_quote_to_base_units():
    message = StellarOrderBook.snapshot_message_from_exchange(horizon_book(), metadata={"trading_pair": PAIR})
    assert message.type is OrderBookMessageType.SNAPSHOT
    assert message.trading_pair == PAIR
    bids = [(row.price, row.amount) for row in message.bids]
    asks = [(row.price, row.amount) for row in message.asks]
    assert bids == [pytest.approx((0.1, 500.0)), pytest.approx((0.09, 100.0))]   # 50 USDC at 0.1 = 500 XLM
    assert asks == [pytest.approx((0.11, 200.0)), pytest.approx((0.12, 10.0))]   # asks already in XLM
    assert all(row.update_id == message.update_id for row in message.bids + message.asks)


def test_snapshot_uses_the_exact_rational_price_not_the_rounded_text():
    book = {"bids": [{"price_r": {"n": 1, "d": 3}, "price": "0.3333333", "amount": "1.0000000"}], "asks": []}
    message = StellarOrderBook.snapshot_message_from_exchange(book, metadata={"trading_pair": PAIR})
    assert message.bids[0].price == 1 / 3
    assert message.bids[0].amount == pytest.approx(3.0, rel=1e-15)


def test_snapshot_falls_back_to_the_decimal_price_without_a_rational():
    book = {"bids": [{"price": "0.5000000", "amount": "1.0000000"}], "asks": [{"price": "2", "amount": "3"}]}
    message = StellarOrderBook.snapshot_message_from_exchange(book, metadata={"trading_pair": PAIR})
    assert (message.bids[0].price, message.bids[0].amount) == (0.5, 2.0)
    assert (message.asks[0].price, message.asks[0].amount) == (2.0, 3.0)


def test_snapshot_update_ids_strictly_increase_even_within_one_clock_tick():
    ids = [StellarOrderBook.snapshot_message_from_exchange(horizon_book(), metadata={"trading_pair": PAIR}).update_id
           for _ in range(1000)]
    ids.append(next_update_id())
    assert all(later > earlier for earlier, later in pairwise(ids))
    assert ids[-1] < 2**63   # Hummingbot's OrderBook stores int64 update ids


def test_snapshot_rejects_malformed_books_clearly():
    with pytest.raises(ValueError, match="Malformed Horizon order book for XLM-USDC"):
        StellarOrderBook.snapshot_message_from_exchange({"asks": []}, metadata={"trading_pair": PAIR})
    with pytest.raises(ValueError, match="trading_pair"):
        StellarOrderBook.snapshot_message_from_exchange(horizon_book())


def test_snapshot_applies_to_a_hummingbot_order_book():
    message = StellarOrderBook.snapshot_message_from_exchange(horizon_book(), metadata={"trading_pair": PAIR})
    book = StellarOrderBook()
    book.apply_snapshot(message.bids, message.asks, message.update_id)
    assert book.get_price(False) == pytest.approx(0.1)   # best bid
    assert book.get_price(True) == pytest.approx(0.11)   # best ask
    assert book.snapshot_uid == message.update_id


@pytest.mark.parametrize("base_is_xlm, base_is_seller, expected_side", [
    (True, True, TradeType.BUY),      # the maker sold XLM: the taker bought the pair's base
    (True, False, TradeType.SELL),    # the maker sold USDC for XLM: the taker sold XLM
    (False, True, TradeType.SELL),    # trade's base is USDC and its maker sold USDC: the taker sold XLM
    (False, False, TradeType.BUY),
])
def test_trade_is_oriented_to_the_pair(base_is_xlm, base_is_seller, expected_side):
    message = StellarOrderBook.trade_message_from_exchange(
        horizon_trade(base_is_xlm, base_is_seller), metadata={"trading_pair": PAIR, "base_asset_key": "native"})
    assert message.type is OrderBookMessageType.TRADE
    assert message.content["price"] == 0.125          # USDC per XLM either way
    assert message.content["amount"] == 100.0         # in XLM either way
    assert message.content["trade_type"] == float(expected_side.value)
    assert message.trade_id == "0000000042949677057-0000000000"
    assert message.timestamp == 1795586400.0          # 2026-11-25T06:00:00Z


def test_trade_of_another_market_is_refused():
    with pytest.raises(ValueError, match="neither side"):
        StellarOrderBook.trade_message_from_exchange(
            horizon_trade(True, True), metadata={"trading_pair": "XLM-EURT", "base_asset_key": "EURT:" + ISSUER})


def test_snapshot_reads_rationals_written_as_strings():
    book = {"bids": [{"price_r": {"n": "1", "d": "4"}, "price": "0.2500000", "amount": "1.0000000"}],
            "asks": [{"price_r": {"n": "1", "d": "2"}, "price": "0.5000000", "amount": "3.0000000"}]}
    message = StellarOrderBook.snapshot_message_from_exchange(book, metadata={"trading_pair": PAIR})
    assert (message.bids[0].price, message.bids[0].amount) == (0.25, 4.0)
    assert (message.asks[0].price, message.asks[0].amount) == (0.5, 3.0)


def test_snapshot_refuses_a_zero_price_instead_of_dividing_by_it():
    book = {"bids": [{"price_r": {"n": 0, "d": 1}, "price": "0.0000000", "amount": "1.0000000"}], "asks": []}
    with pytest.raises(ValueError, match="Malformed Horizon order book"):
        StellarOrderBook.snapshot_message_from_exchange(book, metadata={"trading_pair": PAIR})


# StellarOrderBookMessage gives the OrderBookRows Hummingbot's OrderBookMessage would give.

HORIZON_BOOK = {
    "bids": [{"price_r": {"n": 1, "d": 8}, "price": "0.1250000", "amount": "25.0000000"},
             {"price_r": {"n": 1, "d": 10}, "price": "0.1000000", "amount": "3.5000000"}],
    "asks": [{"price_r": {"n": 3, "d": 20}, "price": "0.1500000", "amount": "7.0000000"}],
}


def test_rows_are_what_hummingbots_message_gives():
    message = StellarOrderBook.snapshot_message_from_exchange(HORIZON_BOOK, metadata={"trading_pair": "XLM-USDC"})
    assert isinstance(message, StellarOrderBookMessage)
    stock = OrderBookMessage(OrderBookMessageType.SNAPSHOT, dict(message.content), timestamp=message.timestamp)
    assert message.bids == stock.bids and message.asks == stock.asks
    assert [(r.price, r.amount) for r in message.bids] == [(0.125, 200.0), (0.1, 35.0)]   # bids in base units
    assert {r.update_id for r in message.bids + message.asks} == {message.update_id}


def test_an_order_book_restored_from_it_holds_the_book():
    message = StellarOrderBook.snapshot_message_from_exchange(HORIZON_BOOK, metadata={"trading_pair": "XLM-USDC"})
    book = OrderBook()
    book.restore_from_snapshot_and_diffs(message, [])
    assert book.get_price(False) == 0.125 and book.get_price(True) == 0.15
    assert book.snapshot_uid == message.update_id


# Only what changed is applied, and the book is always exactly the last book Horizon sent.

def _entries(book: OrderBook):
    return ([(e.price, e.amount) for e in book.bid_entries()], [(e.price, e.amount) for e in book.ask_entries()])


def _whole(message) -> tuple:
    """What Hummingbot's OrderBook holds after the message as a whole snapshot."""
    book = OrderBook()
    book.apply_snapshot(message.bids, message.asks, message.update_id)
    return _entries(book)


def _random_books(rng: random.Random, count: int):
    """Horizon books one after another: amounts change, levels come and go (shifting the others),
    whole sides empty; now and then a book that is locked, crossed, unsorted, the same again, with two
    rationals of one price, or with rationals written as strings."""
    bids = {(1000 - 3 * i, 10_000): rng.randrange(1, 10**9) for i in range(20)}
    asks = {(1001 + 3 * i, 10_000): rng.randrange(1, 10**9) for i in range(20)}
    for _ in range(count):
        for side, sign in ((bids, -1), (asks, 1)):
            for _ in range(rng.choice([0, 1, 1, 2, 3, 8])):
                roll = rng.random()
                if roll < 0.4 and side:
                    side[rng.choice(list(side))] = rng.randrange(1, 10**9)
                elif roll < 0.7 and side:
                    del side[rng.choice(list(side))]
                else:
                    price = 1000 + sign * rng.randrange(1, 80) + (0 if sign < 0 else 1)
                    side[(price, 10_000)] = rng.randrange(1, 10**9)
            if rng.random() < 0.03:
                side.clear()
        book_bids = sorted(bids.items(), key=lambda item: -item[0][0])
        book_asks = sorted(asks.items(), key=lambda item: item[0][0])
        roll = rng.random()
        if roll < 0.04 and book_asks:      # locked: a bid at the best ask's price (passive offers)
            book_bids.insert(0, (book_asks[0][0], 5))
        elif roll < 0.06 and book_asks:    # crossed
            book_bids.insert(0, ((book_asks[0][0][0] + 2, 10_000), 5))
        elif roll < 0.08:                  # unsorted
            rng.shuffle(book_bids)
        elif roll < 0.10 and book_bids:    # one price written as two rationals: two levels, one float price
            (n, d), amount = book_bids[-1]
            book_bids.append(((2 * n, 2 * d), amount + 1))
        levels = ([level(n, d, f"{amount / 1e7:.7f}") for (n, d), amount in book_bids],
                  [level(n, d, f"{amount / 1e7:.7f}") for (n, d), amount in book_asks])
        if rng.random() < 0.03:
            for one in levels[0][:3]:
                one["price_r"] = {"n": str(one["price_r"]["n"]), "d": str(one["price_r"]["d"])}
        yield {"bids": levels[0], "asks": levels[1]}
        if rng.random() < 0.05:
            yield {"bids": [dict(one) for one in levels[0]], "asks": [dict(one) for one in levels[1]]}


def test_the_book_is_the_last_horizon_book_after_every_one_of_many():
    rng = random.Random(11)
    sequence = BookSequence()
    book = StellarOrderBook()
    applied = as_diffs = 0
    for horizon in _random_books(rng, 3000):
        message = sequence.message(horizon, PAIR)
        roll = rng.random()
        if roll < 0.03:
            continue                       # dropped on the way (the tracker was not ready for it)
        if roll < 0.05:                    # applied by other means: the data source's first REST book
            book.apply_snapshot(message.bids, message.asks, message.update_id)
        else:
            book.restore_from_snapshot_and_diffs(message, [])
            as_diffs += _kept_a_level(book, message)
        applied += 1
        assert _entries(book) == _whole(message)
        assert book.snapshot_uid == message.update_id   # a whole book, whichever way it went in
    assert applied > 2800 and as_diffs > 1500   # most books went in as their changes


def _kept_a_level(book: OrderBook, message) -> bool:
    """Some level of the book was not written by this message: only its changes were applied."""
    return any(entry.update_id != message.update_id for side in (book.bid_entries(), book.ask_entries())
               for entry in side)


def test_changes_name_only_what_changed():
    sequence = BookSequence()
    first = {"bids": [level(10, 100, "5.0000000"), level(9, 100, "9.0000000"), level(8, 100, "1.0000000")],
             "asks": [level(11, 100, "200.0000000"), level(12, 100, "10.0000000")]}
    sequence.message(first, PAIR)
    second = {"bids": [level(10, 100, "5.0000000"), level(8, 100, "2.0000000")],       # 0.09 gone, 0.08 changed
              "asks": [level(11, 100, "200.0000000"), level(12, 100, "10.0000000"), level(13, 100, "1.0000000")]}
    message = sequence.message(second, PAIR)
    bid_changes, ask_changes = message.content["changes"]
    assert sorted(bid_changes) == [pytest.approx((0.08, 25.0)), (0.09, 0.0)]
    assert ask_changes == [pytest.approx((0.13, 1.0))]
    assert message.content["clean"]
    again = sequence.message({"bids": list(second["bids"]), "asks": list(second["asks"])}, PAIR)
    assert again.content["changes"] == ([], []) and again.content["base_update_id"] == message.update_id


def test_a_malformed_book_is_refused_and_the_next_is_compared_with_the_last_good_one():
    sequence = BookSequence()
    good = {"bids": [level(1, 10, "1.0000000")], "asks": [level(2, 10, "1.0000000")]}
    first = sequence.message(good, PAIR)
    with pytest.raises(ValueError, match="Malformed Horizon order book"):
        sequence.message({"bids": [{"price_r": {"n": 0, "d": 1}, "price": "0", "amount": "1"}], "asks": []}, PAIR)
    nxt = sequence.message({"bids": [level(1, 10, "2.0000000")], "asks": good["asks"]}, PAIR)
    assert nxt.content["base_update_id"] == first.update_id


@pytest.mark.parametrize("record", RECORDED_TRADES, ids=record_name)
def test_public_trades_are_oriented_to_the_pair_whichever_asset_horizon_calls_base(record):
    n, d = Decimal(record["price"]["n"]), Decimal(record["price"]["d"])   # counter per base, exact
    as_base = StellarOrderBook.trade_message_from_exchange(record, {
        "trading_pair": pair_of(record, "base_"), "base_asset_key": record_asset_key(record, "base_")})
    as_counter = StellarOrderBook.trade_message_from_exchange(record, {
        "trading_pair": pair_of(record, "counter_"), "base_asset_key": record_asset_key(record, "counter_")})

    assert as_base.type is OrderBookMessageType.TRADE and as_base.trade_id == record["id"]
    # base_is_seller false: the taker sold Horizon's base asset, so it bought the counter asset.
    assert (as_base.content["trade_type"], as_counter.content["trade_type"]) == \
        (float(TradeType.SELL.value), float(TradeType.BUY.value))
    assert as_base.content["price"] == pytest.approx(float(n / d), rel=1e-12)
    assert as_counter.content["price"] == pytest.approx(float(d / n), rel=1e-12)
    assert (as_base.content["amount"], as_counter.content["amount"]) == \
        (float(record["base_amount"]), float(record["counter_amount"]))
    # The price Horizon states is the one the amounts moved at (up to a stroop's rounding).
    moved = Decimal(record["counter_amount"]) / Decimal(record["base_amount"])
    assert abs(moved / (n / d) - 1) < Decimal("1e-6")
