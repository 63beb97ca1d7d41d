from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stellar_sdk import (
    Asset,
    CreatePassiveSellOffer,
    ManageBuyOffer,
    ManageSellOffer,
    PathPaymentStrictReceive,
    PathPaymentStrictSend,
    Price,
)

from stellar_sandbox.core.amounts import INT64_MAX, ROUND_PATH_STRICT_RECEIVE, ROUND_PATH_STRICT_SEND, to_stroops
from stellar_sandbox.core.assets import NATIVE, key_from_sdk
from stellar_sandbox.core.matching import (
    CONVERT_BAD_PRICE,
    CONVERT_CROSS_SELF,
    CONVERT_OK,
    CONVERT_PARTIAL,
    CONVERT_TOO_MANY,
    convert_with_offers,
)
from test.stellar_sandbox.core.test_operations import Ledger, code_name

XLM = Asset.native()
S = to_stroops


def book_with_asks(prices: list[str], amount: str = "10"):
    """A ledger where a maker sells USD for XLM at each price, and a funded taker."""
    ledger = Ledger()
    usd = ledger.asset()
    maker, taker = ledger.account("10000"), ledger.account("10000")
    ledger.fund(maker, usd, "10000")
    ledger.fund(taker, usd, "10000")
    for price in prices:
        ledger.ok(ManageSellOffer(usd, XLM, amount, price), maker)
    return ledger, key_from_sdk(usd), maker, taker


def test_convert_stops_at_the_limit_price():
    ledger, usd, _, taker = book_with_asks(["1", "2", "3"])
    claims = []
    # the taker pays at most 2 XLM per USD
    conv = convert_with_offers(ledger.state, taker, NATIVE, INT64_MAX, usd, S("100"), claims, max_wheat_price=(2, 1))
    assert conv.code == CONVERT_BAD_PRICE
    assert [(c.price_n, c.amount_sold, c.amount_bought) for c in claims] == [
        (1, S("10"), S("10")),
        (2, S("10"), S("20")),
    ]
    assert (conv.sheep_sent, conv.wheat_received) == (S("30"), S("20"))
    assert [o.price_n for o in ledger.state.book(usd, NATIVE)] == [3]


def test_convert_passive_stops_at_an_equal_price():
    ledger, usd, _, taker = book_with_asks(["2"])
    claims = []
    conv = convert_with_offers(
        ledger.state, taker, NATIVE, INT64_MAX, usd, S("5"), claims, max_wheat_price=(2, 1), passive=True
    )
    assert conv.code == CONVERT_BAD_PRICE and claims == []


def test_convert_reports_cross_self_and_work_limit():
    ledger, usd, maker, taker = book_with_asks(["1", "1", "1"])
    assert convert_with_offers(ledger.state, maker, NATIVE, S("1"), usd, INT64_MAX, []).code == CONVERT_CROSS_SELF
    claims = []
    conv = convert_with_offers(ledger.state, taker, NATIVE, S("100"), usd, INT64_MAX, claims, max_offers=2)
    assert conv.code == CONVERT_TOO_MANY and len(claims) == 2


def test_convert_partial_maker_stays_with_reduced_amount_and_liabilities():
    ledger, usd, maker, taker = book_with_asks(["2"])
    claims = []
    conv = convert_with_offers(ledger.state, taker, NATIVE, S("4"), usd, INT64_MAX, claims)
    assert conv.code == CONVERT_OK and (conv.sheep_sent, conv.wheat_received) == (S("4"), S("2"))
    [offer] = ledger.state.offers.values()
    assert offer.amount == S("8") and not claims[0].offer_removed
    assert ledger.state.liabilities(maker, usd) == (S("8"), 0)
    assert ledger.state.liabilities(maker, NATIVE) == (0, S("16"))


def test_convert_runs_out_of_book():
    ledger, usd, _, taker = book_with_asks(["1"])
    claims = []
    conv = convert_with_offers(ledger.state, taker, NATIVE, S("50"), usd, INT64_MAX, claims)
    assert conv.code == CONVERT_PARTIAL and conv.wheat_received == S("10") and claims[0].offer_removed


def test_path_hops_round_in_the_makers_favour():
    ledger, usd, _, taker = book_with_asks(["1.5"])
    claims = []
    receive = convert_with_offers(
        ledger.state, taker, NATIVE, INT64_MAX, usd, 7, claims, rounding=ROUND_PATH_STRICT_RECEIVE
    )
    assert (receive.wheat_received, receive.sheep_sent) == (7, 11)  # ceil(7 * 1.5)
    send = convert_with_offers(ledger.state, taker, NATIVE, 11, usd, INT64_MAX, claims, rounding=ROUND_PATH_STRICT_SEND)
    assert (send.sheep_sent, send.wheat_received) == (11, 7)  # floor(11 / 1.5)


def test_exceeding_the_work_limit_fails_the_operation():
    # one account holds at most 1000 subentries, so two makers provide the 1001 offers
    ledger, usd_key, maker, taker = book_with_asks(["1"] * 999, amount="0.0000010")
    code, issuer = usd_key.split(":")
    usd = Asset(code, issuer)
    assert code_name(ledger.apply(ManageSellOffer(usd, XLM, "0.0000010", "1"), maker)) == "opTOO_MANY_SUBENTRIES"
    second = ledger.account("10000")
    ledger.fund(second, usd, "1")
    for _ in range(2):
        ledger.ok(ManageSellOffer(usd, XLM, "0.0000010", "1"), second)
    outcome = ledger.apply(ManageBuyOffer(XLM, usd, "1", "1"), taker)
    assert code_name(outcome) == "opEXCEEDED_WORK_LIMIT"
    assert len(ledger.state.offers) == 1001
    ledger.state.check_invariants()


# ---- property: trading conserves every asset and keeps the ledger consistent ---------------------

action = st.tuples(
    st.sampled_from(["sell", "buy", "passive", "send", "receive", "update"]),
    st.integers(min_value=0, max_value=2),  # trader
    st.booleans(),  # direction: sell USD (True) or XLM
    st.integers(min_value=1, max_value=3_000_000_000),  # amount in stroops
    st.integers(min_value=1, max_value=40),  # price numerator
    st.integers(min_value=1, max_value=40),  # price denominator
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=st.lists(action, min_size=1, max_size=25))
def test_random_trading_conserves_assets_and_invariants(actions):
    ledger = Ledger()
    usd = ledger.asset()
    traders = [ledger.account("500") for _ in range(3)]
    for trader in traders:
        ledger.fund(trader, usd, "300", limit="100000")
    usd_key = key_from_sdk(usd)
    supply_usd = ledger.state.total_supply(usd_key)
    supply_xlm = ledger.state.total_supply(NATIVE)
    for kind, who, sell_usd, amount, n, d in actions:
        source = traders[who]
        selling, buying = (usd, XLM) if sell_usd else (XLM, usd)
        amount_text = f"{amount / 10**7:.7f}"
        price = Price(n, d)
        if kind == "sell":
            op = ManageSellOffer(selling, buying, amount_text, price)
        elif kind == "buy":
            op = ManageBuyOffer(selling, buying, amount_text, price)
        elif kind == "passive":
            op = CreatePassiveSellOffer(selling, buying, amount_text, price)
        elif kind == "send":
            op = PathPaymentStrictSend(traders[(who + 1) % 3], selling, amount_text, buying, "0.0000001", [])
        elif kind == "receive":
            op = PathPaymentStrictReceive(traders[(who + 1) % 3], selling, "100000", buying, amount_text, [])
        else:
            mine = ledger.state.offers_of(source)
            if not mine:
                continue
            target = mine[0]
            op = ManageSellOffer(
                Asset.native() if target.selling == NATIVE else usd,
                Asset.native() if target.buying == NATIVE else usd,
                amount_text,
                price,
                offer_id=target.offer_id,
            )
        outcome = ledger.apply(op, source)
        ledger.state.check_invariants()
        for trade in filter(None, outcome.trades):   # None: a claim atom that traded nothing (it keeps its index)
            assert float(trade["base_amount"]) >= 0 and float(trade["counter_amount"]) >= 0
        assert ledger.state.total_supply(usd_key) == supply_usd
        assert ledger.state.total_supply(NATIVE) == supply_xlm
    for entry in ledger.state.accounts.values():
        assert entry.balance >= 0 and entry.selling_liabilities <= entry.balance
