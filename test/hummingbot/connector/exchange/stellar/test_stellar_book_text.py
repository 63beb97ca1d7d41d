"""Streamed books compared as text: the book is the one decoding each whole text gives, and only the
levels whose text changed are decoded."""
import json
import random
from typing import Any, Dict, List, Optional, Tuple

import pytest
from hummingbot.core.data_type.order_book import OrderBook
from hypothesis import given, settings
from hypothesis import strategies as st

from hummingbot.connector.exchange.stellar import stellar_book_text, stellar_order_book
from hummingbot.connector.exchange.stellar.stellar_book_levels import level_rows
from hummingbot.connector.exchange.stellar.stellar_book_text import json_loads
from hummingbot.connector.exchange.stellar.stellar_order_book import BookSequence, StellarOrderBook

PAIR = "XLM-USDC"
ISSUER = "GBBD47IF6LWK7P7MDEVSCWR7DPUWV3NY3DTQEVFL4NAT4AQH3ZLLFLA5"
USDC = {"asset_type": "credit_alphanum4", "asset_code": "USDC", "asset_issuer": ISSUER}
Side = Dict[Tuple[int, int], int]   # (n, d) -> amount in stroops


def level(n: Any, d: Any, amount: int) -> Dict[str, Any]:
    """A level as Horizon writes it: the exact rational, the price to 7 places, the amount in units."""
    return {"price_r": {"n": n, "d": d}, "price": f"{int(n) / int(d):.7f}", "amount": f"{amount / 1e7:.7f}"}


def horizon_text(book: Dict[str, Any]) -> str:
    """Compact JSON in Horizon's field order, as Horizon (Go's encoder) and the sandbox write it."""
    return json.dumps(book, separators=(",", ":"))


def book_of(bids: List[Dict[str, Any]], asks: List[Dict[str, Any]], counter: Optional[Dict] = None) -> Dict:
    return {"bids": bids, "asks": asks, "base": {"asset_type": "native"}, "counter": counter or USDC}


def _entries(book: OrderBook):
    return ([(e.price, e.amount) for e in book.bid_entries()], [(e.price, e.amount) for e in book.ask_entries()])


def _whole(message) -> tuple:
    book = OrderBook()
    book.apply_snapshot(message.bids, message.asks, message.update_id)
    return _entries(book)


def _expected_rows(text: str):
    """What decoding the whole text gives: the rows, or None when it is not a book."""
    try:
        decoded = json_loads(text)
        return level_rows(decoded["bids"], True), level_rows(decoded["asks"], False)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None


# Runs of Horizon books: amounts change (one level, a few, all), levels come and go at the top, in the
# middle and at the end, a level keeps its price with a new amount or gets a new rational, sides empty
# and refill. A run is written in one style (mostly as Horizon writes books; else in a way the text
# must not be cut as if it were: spaces, other key orders, escapes, string rationals, strings holding
# what the text is cut at), with now and then one text in another layout or no book at all.

STYLES = ["horizon"] * 6 + ["spaced_levels", "key_order", "escaped_frame", "string_rationals", "tricky_strings",
                            "nested_array", "asks_first", "unsorted"]
ONE_OFFS = ["style"] * 14 + ["same_text", "spaces", "indented", "crossed", "two_rationals", "new_counter",
                             "truncated", "no_asks", "bad_amount", "not_an_object", "style_elsewhere"]
TRICKY = ["},{", 'a},{"price_r":{"n":1,"d":2},"price":"0.5","amount":"9"', "x]y", "},{", "[", " ", "z\u0000", "],{"]


@st.composite
def horizon_runs(draw) -> List[str]:
    amounts = st.integers(1, 10**13)
    bids: Side = {(1000 - i, 1000): draw(amounts) for i in draw(st.sets(st.integers(1, 60), max_size=12))}
    asks: Side = {(1000 + i, 1000): draw(amounts) for i in draw(st.sets(st.integers(1, 60), max_size=12))}
    style = draw(st.sampled_from(STYLES))
    marked = {(1000 - draw(st.integers(1, 60)), 1000), (1000 + draw(st.integers(1, 60)), 1000)}   # styled levels
    texts: List[str] = []
    for _ in range(draw(st.integers(1, 14))):
        for side, sign in ((bids, -1), (asks, 1)):
            for op in draw(st.lists(st.sampled_from(["amount", "amount", "best", "remove", "add", "clear",
                                                     "all_amounts", "mark", "mark"]), max_size=4)):
                keys = sorted(side, key=lambda key: sign * key[0])
                if op == "amount" and keys:
                    side[draw(st.sampled_from(keys))] = draw(amounts)
                elif op == "best" and keys:
                    side[keys[0]] = draw(amounts)
                elif op == "remove" and keys:
                    del side[draw(st.sampled_from(keys))]
                elif op == "add":
                    side[(1000 + sign * draw(st.integers(1, 60)), 1000)] = draw(amounts)
                elif op == "clear":
                    side.clear()
                elif op == "all_amounts":
                    for key in keys:
                        side[key] = draw(amounts)
                elif op == "mark" and keys:
                    marked.add(draw(st.sampled_from(keys)))
        one_off = draw(st.sampled_from(ONE_OFFS))
        layout = style if one_off == "style" else draw(st.sampled_from(STYLES)) if one_off == "style_elsewhere" \
            else one_off
        texts.append(_render(draw, bids, asks, layout, marked, texts))
    return texts


def _render(draw, bids: Side, asks: Side, layout: str, marked: set, texts: List[str]) -> str:
    if layout == "same_text" and texts:
        return texts[-1]
    sides = []
    for side, sign in ((bids, -1), (asks, 1)):
        levels = []
        for (n, d), amount in sorted(side.items(), key=lambda item: sign * item[0][0]):
            one = level(n, d, amount)
            if (n, d) in marked:
                if layout == "key_order":
                    one = {"amount": one["amount"], "price": one["price"], "price_r": one["price_r"]}
                elif layout == "string_rationals":
                    one["price_r"] = {"n": str(n), "d": str(d)}
                elif layout == "tricky_strings":
                    one["memo"] = TRICKY[n % len(TRICKY)]
                elif layout == "nested_array":
                    one["extra"] = [1, {"n": 2}]
            levels.append(one)
        sides.append(levels)
    bid_levels, ask_levels = sides
    book = book_of(bid_levels, ask_levels)
    if layout == "spaces":
        return json.dumps(book)
    if layout == "indented":
        return json.dumps(book, indent=2)
    if layout == "spaced_levels":   # the frame as Horizon writes it, the levels apart
        return horizon_text(book).replace("},{", "}, {")
    if layout == "escaped_frame":
        book["counter"] = {**USDC, "asset_code": "US\\u0044C"}
        return horizon_text(book).replace("US\\\\u0044C", "US\\u0044C")
    if layout == "tricky_strings":
        return horizon_text(book).replace("\\u0000", "\x00")   # a raw NUL: no JSON
    if layout == "asks_first":
        return horizon_text({"asks": ask_levels, "bids": bid_levels, "base": book["base"], "counter": USDC})
    if layout == "unsorted":
        bid_levels.reverse()
    elif layout == "crossed" and ask_levels:
        bid_levels.insert(0, dict(ask_levels[0]))
    elif layout == "two_rationals" and bid_levels:   # one price written as two rationals: two levels
        n, d = bid_levels[-1]["price_r"]["n"], bid_levels[-1]["price_r"]["d"]
        bid_levels.append(level(2 * int(n), 2 * int(d), 5))
    elif layout == "new_counter":
        book["counter"] = {**USDC, "asset_code": "EURC"}
    elif layout == "truncated":
        text = horizon_text(book)
        return text[:draw(st.integers(0, len(text) - 1))]
    elif layout == "no_asks":
        del book["asks"]
    elif layout == "bad_amount" and ask_levels:
        ask_levels[0]["amount"] = "1.0.0"
    elif layout == "not_an_object":
        return json.dumps([bid_levels])
    return horizon_text(book)


@settings(max_examples=250, deadline=None)
@given(horizon_runs(), st.randoms(use_true_random=False))
def test_books_compared_as_text_are_the_books_decoding_whole_gives(texts, rng: random.Random):
    sequence = BookSequence()
    book = StellarOrderBook()
    last_update_id = None
    for text in texts:
        expected = _expected_rows(text)
        if expected is None:
            with pytest.raises(ValueError, match="Malformed Horizon order book"):
                sequence.message(text, PAIR)
            continue
        message = sequence.message(text, PAIR)
        assert (message.content["bids"], message.content["asks"]) == expected
        assert message.content["base_update_id"] == last_update_id
        assert last_update_id is None or message.update_id > last_update_id
        last_update_id = message.update_id
        roll = rng.random()
        if roll < 0.05:
            continue                       # dropped on the way
        if roll < 0.08:                    # applied by other means (the data source's first REST book)
            book.apply_snapshot(message.bids, message.asks, message.update_id)
        else:
            book.restore_from_snapshot_and_diffs(message, [])
        assert _entries(book) == _whole(message)
        assert book.snapshot_uid == message.update_id


def test_a_decoded_book_and_texts_can_follow_one_another():
    """The REST resync after a drop is a decoded book between streamed texts."""
    sequence, book = BookSequence(), StellarOrderBook()
    first = book_of([level(99, 1000, 5), level(98, 1000, 6)], [level(101, 1000, 7)])
    second = book_of([level(99, 1000, 8), level(98, 1000, 6)], [level(101, 1000, 7)])
    for books in ([horizon_text(first), second, horizon_text(first), horizon_text(second)],
                  [first, horizon_text(second), second]):
        for one in books:
            message = sequence.message(one, PAIR)
            book.restore_from_snapshot_and_diffs(message, [])
            assert _entries(book) == _whole(message)


# Only what changed is decoded

@pytest.fixture
def decoded(monkeypatch) -> List[str]:
    """Every text the book sequence decodes, whole or in part."""
    texts: List[str] = []

    def loads(text: str):
        texts.append(text)
        return json_loads(text)
    monkeypatch.setattr(stellar_book_text, "json_loads", loads)
    monkeypatch.setattr(stellar_order_book, "json_loads", loads)
    return texts


def _ladder(amounts: List[int], best_ask: int = 7) -> Dict[str, Any]:
    return book_of([level(1000 - i, 10_000, amount) for i, amount in enumerate(amounts)],
                   [level(1001 + i, 10_000, best_ask + i) for i in range(len(amounts))])


def test_one_changed_level_is_all_that_is_decoded(decoded):
    sequence = BookSequence()
    amounts = list(range(1_000_000, 1_000_020))
    first = horizon_text(_ladder(amounts))
    sequence.message(first, PAIR)
    assert decoded[0] == first   # the first book: decoded whole (and its frame checked once)

    del decoded[:]
    amounts[7] += 1
    message = sequence.message(horizon_text(_ladder(amounts)), PAIR)

    assert [json_loads(text) for text in decoded] == [level(993, 10_000, amounts[7])]   # that level alone
    assert message.content["changes"] == ([pytest.approx((0.0993, amounts[7] / 1e7 / 0.0993))], [])
    assert message.content["clean"]


def test_an_unchanged_text_is_not_decoded_at_all(decoded):
    sequence = BookSequence()
    text = horizon_text(_ladder([5, 6, 7]))
    first = sequence.message(text, PAIR)
    del decoded[:]
    again = sequence.message(text, PAIR)
    assert decoded == []
    assert again.content["changes"] == ([], []) and again.content["base_update_id"] == first.update_id
    assert again.content["bids"] == first.content["bids"]


def test_levels_that_come_and_go_are_decoded_alone(decoded):
    sequence = BookSequence()
    bids = [level(1000 - i, 10_000, 10 + i) for i in range(10)]
    asks = [level(1001, 10_000, 3)]
    sequence.message(horizon_text(book_of(bids, asks)), PAIR)
    changed = [bids[:4] + bids[5:], [level(1005, 10_000, 1)] + bids, bids[:-1], bids + [level(980, 10_000, 2)]]
    for new_bids in changed:
        del decoded[:]
        text = horizon_text(book_of(new_bids, asks))
        message = sequence.message(text, PAIR)
        assert (message.content["bids"], message.content["asks"]) == _expected_rows(text)
        assert sum(map(len, decoded)) < 200, decoded   # a level or two (a new best one moves the old), not the book
        sequence.message(horizon_text(book_of(bids, asks)), PAIR)


def test_a_changed_frame_or_a_layout_it_cannot_cut_is_decoded_whole(decoded):
    sequence = BookSequence()
    bids, asks = [level(99, 1000, 5)], [level(101, 1000, 7)]
    sequence.message(horizon_text(book_of(bids, asks)), PAIR)
    for text in (horizon_text(book_of(bids, asks, counter={**USDC, "asset_code": "EURC"})),
                 json.dumps(book_of([level(99, 1000, 6)], asks))):
        del decoded[:]
        message = sequence.message(text, PAIR)
        assert decoded[0] == text   # whole (then a new frame is checked once)
        assert (message.content["bids"], message.content["asks"]) == _expected_rows(text)


def test_a_string_holding_the_separator_does_not_fool_the_cut():
    sequence, book = BookSequence(), StellarOrderBook()
    tricky = {**level(101, 1000, 7), "memo": 'x},{"price_r":{"n":1,"d":2},"price":"0.5","amount":"9"}'}
    texts = [horizon_text(book_of([level(99, 1000, 5)], [tricky, level(102, 1000, 1)])),
             horizon_text(book_of([level(99, 1000, 5)], [{**tricky, "amount": "8.0000000"}, level(102, 1000, 1)])),
             horizon_text(book_of([level(99, 1000, 6)], [{**tricky, "amount": "8.0000000"}, level(102, 1000, 1)]))]
    for text in texts:
        message = sequence.message(text, PAIR)
        book.restore_from_snapshot_and_diffs(message, [])
        assert (message.content["bids"], message.content["asks"]) == _expected_rows(text)
        assert _entries(book) == _whole(message)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.lists(st.integers(0, 2), max_size=6), st.lists(st.integers(0, 2), max_size=6)),
                min_size=2, max_size=10))
def test_sides_of_repeated_levels_are_cut_right(books):
    """Few distinct level texts, repeated (not a book Horizon sends, but the cut must not care): what is
    kept at one end of a side may also be at the other."""
    pool = [level(99, 1000, 5), level(98, 1000, 6), level(99, 1000, 7)]
    sequence = BookSequence()
    for bids, asks in books:
        text = horizon_text(book_of([pool[i] for i in bids], [pool[i] for i in asks]))
        message = sequence.message(text, PAIR)
        assert (message.content["bids"], message.content["asks"]) == _expected_rows(text)


def test_a_level_that_gains_a_string_holding_the_separator_in_place():
    sequence, book = BookSequence(), StellarOrderBook()
    a, b, c = level(99, 1000, 5), level(98, 1000, 6), level(97, 1000, 7)
    tricky = {**b, "memo": "},{"}
    for bids in ([a, b, c], [a, b, {**c, "amount": "1.0000000"}], [a, tricky, c], [a, tricky, {**c, "amount": "2.0"}],
                 [a, b, c], [{**a, "amount": "3.0"}, b, c]):
        text = horizon_text(book_of(bids, [level(101, 1000, 1)]))
        message = sequence.message(text, PAIR)
        book.restore_from_snapshot_and_diffs(message, [])
        assert (message.content["bids"], message.content["asks"]) == _expected_rows(text)
        assert _entries(book) == _whole(message)


def test_a_level_whose_text_grows_keeps_the_next_changes_cheap(decoded):
    """After a level's text changed length, the levels after it are found where they moved to."""
    sequence = BookSequence()
    amounts = [10**7] * 10
    sequence.message(horizon_text(_ladder(amounts)), PAIR)
    for i, amount in ((2, 10**12), (8, 5 * 10**7), (9, 10**13), (2, 10**7)):
        amounts[i] = amount
        del decoded[:]
        text = horizon_text(_ladder(amounts))
        message = sequence.message(text, PAIR)
        assert [json_loads(one) for one in decoded] == [level(1000 - i, 10_000, amount)]
        assert (message.content["bids"], message.content["asks"]) == _expected_rows(text)


@pytest.mark.parametrize("run", ['{"a":1}, {"b":2}', '{"a":1},\n{"b":2}', '{"a":"\x00"}'])
def test_a_run_with_whitespace_or_a_nul_is_not_cut(run):
    """With whitespace the separators between levels might not read `},{` (and a `},{` inside a string
    could make up the count); a NUL is what the cut is made at."""
    with pytest.raises(stellar_book_text.NotFast):
        stellar_book_text._cut(run)
