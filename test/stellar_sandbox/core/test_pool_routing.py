"""Path payments route each hop, whole, to the better venue, book or pool (CAP-38 and stellar-core's
convertWithOffersAndPools); offers cross only the book. Amounts exactly as the protocol rounds them."""
from __future__ import annotations

import pytest
from stellar_sdk import (
    Asset,
    ChangeTrust,
    ManageBuyOffer,
    ManageSellOffer,
    PathPaymentStrictReceive,
    PathPaymentStrictSend,
    xdr,
)

from stellar_sandbox.core.assets import NATIVE, key_from_sdk
from stellar_sandbox.core.pools import pool_cost, pool_payout
from test.stellar_sandbox.core.pool_support import XLM, PoolLedger, S, code_name


@pytest.fixture
def market():
    """A pool of 1000 XLM and 2000 USD (2 USD per XLM), a maker and a taker; no offers yet."""
    ledger = PoolLedger()
    usd = ledger.asset("USD")
    provider = ledger.trader(usd=(usd, "100000"))
    pool_id = ledger.join(provider, XLM, usd)
    ledger.deposit(provider, XLM, "1000", usd, "2000")
    maker = ledger.trader(usd=(usd, "100000"))
    taker = ledger.trader(usd=(usd, "0"))
    return ledger, usd, pool_id, maker, taker


def send_xlm_for_usd(ledger, usd, taker, amount="10", dest_min="0.0000001", path=()):
    return ledger.apply(PathPaymentStrictSend(taker, XLM, amount, usd, dest_min, list(path)), taker)


def claims(outcome):
    decoded = xdr.OperationResult.from_xdr(outcome.result.to_xdr())
    tr = decoded.tr
    result = tr.path_payment_strict_send_result or tr.path_payment_strict_receive_result
    return result.success.offers


def test_only_the_pool_fills_a_strict_send(market):
    ledger, usd, pool_id, _, taker = market
    outcome = send_xlm_for_usd(ledger, usd, taker)
    assert outcome.success
    payout = pool_payout(S("1000"), S("2000"), S("10"))
    assert payout == 197_431_606
    assert ledger.balance(taker, usd) == payout
    assert ledger.reserves(pool_id, XLM) == (S("1010"), S("2000") - payout)
    [atom] = claims(outcome)
    assert atom.type == xdr.ClaimAtomType.CLAIM_ATOM_TYPE_LIQUIDITY_POOL
    assert atom.liquidity_pool.liquidity_pool_id.pool_id.hash.hex() == pool_id
    assert (atom.liquidity_pool.amount_sold.int64, atom.liquidity_pool.amount_bought.int64) == (payout, S("10"))
    [trade] = outcome.trades
    assert trade["trade_type"] == "liquidity_pool" and trade["liquidity_pool_fee_bp"] == 30
    assert trade["base_asset_type"] == "native" and trade["base_account"] == taker
    assert trade["counter_liquidity_pool_id"] == pool_id and "counter_offer_id" not in trade
    assert (trade["base_amount"], trade["counter_amount"]) == ("10.0000000", "19.7431606")
    assert trade["base_is_seller"] is False and trade["price"] == {"n": str(payout), "d": str(S("10"))}
    pool_effect = outcome.effects[-1]
    assert pool_effect["type"] == "liquidity_pool_trade" and pool_effect["account"] == taker
    assert pool_effect["sold"] == {"asset": key_from_sdk(usd), "amount": "19.7431606"}
    assert pool_effect["bought"] == {"asset": "native", "amount": "10.0000000"}
    assert pool_effect["liquidity_pool"]["reserves"][0] == {"asset": "native", "amount": "1010.0000000"}
    assert outcome.pools == {pool_id}
    ledger.state.check_invariants()


def test_only_the_pool_fills_a_strict_receive(market):
    ledger, usd, pool_id, _, taker = market
    cost = pool_cost(S("1000"), S("2000"), S("20"))
    assert cost == 101_314_044
    xlm_before = ledger.balance(taker, XLM)
    over = ledger.apply(PathPaymentStrictReceive(taker, XLM, "10.1314043", usd, "20", []), taker)
    assert code_name(over) == "PATH_PAYMENT_STRICT_RECEIVE_OVER_SENDMAX"
    outcome = ledger.ok(PathPaymentStrictReceive(taker, XLM, "10.1314044", usd, "20", []), taker)
    assert xlm_before - ledger.balance(taker, XLM) == cost and ledger.balance(taker, usd) == S("20")
    assert ledger.reserves(pool_id, XLM) == (S("1000") + cost, S("1980"))
    assert outcome.trades[0]["base_amount"] == "10.1314044"


def test_the_book_wins_when_it_fills_the_hop_at_a_better_price(market):
    ledger, usd, pool_id, maker, taker = market
    ledger.ok(ManageSellOffer(usd, XLM, "100", "0.4"), maker)  # 2.5 USD per XLM beats the pool's ~1.97
    outcome = ledger.ok(PathPaymentStrictSend(taker, XLM, "10", usd, "1", []), taker)
    assert ledger.balance(taker, usd) == S("25")
    assert ledger.reserves(pool_id, XLM) == (S("1000"), S("2000"))  # the pool did not trade
    [atom] = claims(outcome)
    assert atom.type == xdr.ClaimAtomType.CLAIM_ATOM_TYPE_ORDER_BOOK
    assert outcome.trades[0]["trade_type"] == "orderbook" and not outcome.pools


def test_the_pool_wins_when_the_book_is_worse(market):
    ledger, usd, pool_id, maker, taker = market
    ledger.ok(ManageSellOffer(usd, XLM, "100", "0.6"), maker)  # 1.67 USD per XLM: worse than the pool
    ledger.ok(PathPaymentStrictSend(taker, XLM, "10", usd, "1", []), taker)
    assert ledger.balance(taker, usd) == pool_payout(S("1000"), S("2000"), S("10"))
    [offer] = ledger.state.offers_of(maker)
    assert offer.amount == S("100")  # untouched


def test_a_book_that_fills_only_part_of_the_hop_loses_even_at_a_better_price(market):
    ledger, usd, pool_id, maker, taker = market
    ledger.ok(ManageSellOffer(usd, XLM, "5", "0.4"), maker)  # better price, but only 5 USD of it
    ledger.ok(PathPaymentStrictSend(taker, XLM, "10", usd, "1", []), taker)
    assert ledger.balance(taker, usd) == pool_payout(S("1000"), S("2000"), S("10"))
    assert ledger.state.offers_of(maker)[0].amount == S("5")  # the hop was not split


def test_a_tie_goes_to_the_pool(market):
    ledger, usd, pool_id, maker, taker = market
    cost = pool_cost(S("1000"), S("2000"), S("20"))  # 101314044 XLM for 20 USD
    ledger.ok(ManageSellOffer(usd, XLM, "100", "0.50657022"), maker)  # 25328511/50000000: the pool's price
    ledger.ok(PathPaymentStrictReceive(taker, XLM, "100", usd, "20", []), taker)
    assert ledger.reserves(pool_id, XLM) == (S("1000") + cost, S("1980"))
    assert ledger.state.offers_of(maker)[0].amount == S("100")


def test_only_the_book_fills_when_there_is_no_pool_or_an_empty_one():
    ledger = PoolLedger()
    usd = ledger.asset("USD")
    maker = ledger.trader(usd=(usd, "1000"))
    taker = ledger.trader(usd=(usd, "0"))
    ledger.ok(ManageSellOffer(usd, XLM, "100", "0.5"), maker)
    ledger.ok(PathPaymentStrictSend(taker, XLM, "10", usd, "1", []), taker)
    assert ledger.balance(taker, usd) == S("20")
    pool_id = ledger.join(maker, XLM, usd)  # a pool with no deposit cannot trade
    outcome = ledger.ok(PathPaymentStrictSend(taker, XLM, "10", usd, "1", []), taker)
    assert ledger.balance(taker, usd) == S("40") and ledger.state.pools[pool_id].reserve_a == 0
    assert claims(outcome)[0].type == xdr.ClaimAtomType.CLAIM_ATOM_TYPE_ORDER_BOOK


def test_neither_venue_can_fill(market):
    ledger, usd, _, maker, taker = market
    ledger.ok(ManageSellOffer(usd, XLM, "100", "0.5"), maker)
    too_much = ledger.apply(PathPaymentStrictReceive(taker, XLM, "100000", usd, "2000", []), taker)
    assert code_name(too_much) == "PATH_PAYMENT_STRICT_RECEIVE_TOO_FEW_OFFERS"  # the pool never empties
    tiny = send_xlm_for_usd(ledger, usd, taker, amount="0.0000001")
    assert tiny.success and claims(tiny)[0].type == xdr.ClaimAtomType.CLAIM_ATOM_TYPE_ORDER_BOOK


def test_crossing_oneself_on_the_book_falls_back_to_the_pool(market):
    ledger, usd, pool_id, _, taker = market
    ledger.fund(taker, usd, "500")
    ledger.ok(ManageSellOffer(usd, XLM, "100", "0.4"), taker)  # the taker's own offer is the book's best
    before = ledger.balance(taker, usd)
    outcome = ledger.ok(PathPaymentStrictSend(taker, XLM, "10", usd, "1", []), taker)
    assert claims(outcome)[0].type == xdr.ClaimAtomType.CLAIM_ATOM_TYPE_LIQUIDITY_POOL
    assert ledger.balance(taker, usd) - before == pool_payout(S("1000"), S("2000"), S("10"))


def test_each_hop_picks_its_own_venue(market):
    ledger, usd, pool_id, maker, taker = market
    eur = Asset("EUR", usd.issuer)
    ledger.fund(maker, eur, "1000")
    ledger.ok(ChangeTrust(eur), taker)
    ledger.ok(ManageSellOffer(eur, usd, "1000", "1.25"), maker)  # 0.8 EUR per USD, no EUR pool
    outcome = ledger.ok(PathPaymentStrictSend(taker, XLM, "10", eur, "1", [usd]), taker)
    usd_out = pool_payout(S("1000"), S("2000"), S("10"))
    assert ledger.balance(taker, eur) == usd_out * 4 // 5
    kinds = [atom.type for atom in claims(outcome)]
    assert kinds == [xdr.ClaimAtomType.CLAIM_ATOM_TYPE_LIQUIDITY_POOL, xdr.ClaimAtomType.CLAIM_ATOM_TYPE_ORDER_BOOK]
    assert [t["trade_type"] for t in outcome.trades] == ["liquidity_pool", "orderbook"]
    ledger.state.check_invariants()


def test_offers_never_cross_a_pool(market):
    ledger, usd, pool_id, _, taker = market
    ledger.fund(taker, usd, "100")
    sell = ledger.ok(ManageSellOffer(XLM, usd, "10", "1.5"), taker)  # the pool would pay ~1.97 USD per XLM
    buy = ledger.ok(ManageBuyOffer(usd, XLM, "5", "1"), taker)  # buying XLM at 1 USD: the pool sells at ~0.5
    assert not sell.trades and not buy.trades
    assert ledger.reserves(pool_id, XLM) == (S("1000"), S("2000"))
    assert len(ledger.state.offers_of(taker)) == 2


def test_a_failed_path_payment_leaves_the_pool_untouched(market):
    ledger, usd, pool_id, _, taker = market
    outcome = send_xlm_for_usd(ledger, usd, taker, dest_min="19.7431607")  # one stroop more than the pool pays
    assert code_name(outcome) == "PATH_PAYMENT_STRICT_SEND_UNDER_DESTMIN"
    assert ledger.reserves(pool_id, XLM) == (S("1000"), S("2000"))
    assert ledger.state.pools[pool_id].asset_a == NATIVE
