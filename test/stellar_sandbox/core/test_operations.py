from decimal import Decimal

import pytest
from stellar_sdk import (
    Asset,
    BumpSequence,
    ChangeTrust,
    CreateAccount,
    CreatePassiveSellOffer,
    Keypair,
    ManageBuyOffer,
    ManageSellOffer,
    PathPaymentStrictReceive,
    PathPaymentStrictSend,
    Payment,
    xdr,
)

from stellar_sandbox.core.amounts import to_stroops
from stellar_sandbox.core.assets import NATIVE, key_from_sdk
from stellar_sandbox.core.operations import OpContext, OpOutcome, apply_operation
from stellar_sandbox.core.state import LedgerState

XLM = Asset.native()
CLOSE_TIME = 1_700_000_000


class Ledger:
    """A ledger with a funded root account, applying stellar-sdk operations (test helper)."""

    def __init__(self, base_reserve: int = 5_000_000) -> None:
        self.state = LedgerState(base_reserve)
        self.root = Keypair.random().public_key
        self.state.create_account(self.root, 10**17, 0)
        self.ledger_seq = 2
        self.op_index = 0

    def apply(self, op, source: str) -> OpOutcome:
        self.op_index += 1
        ctx = OpContext(self.ledger_seq, CLOSE_TIME, (self.ledger_seq << 32) | (1 << 12) | self.op_index)
        op_xdr = op if isinstance(op, xdr.Operation) else op.to_xdr_object()
        return apply_operation(self.state, op_xdr, source, ctx)

    def ok(self, op, source: str) -> OpOutcome:
        outcome = self.apply(op, source)
        assert outcome.success, outcome.result
        return outcome

    def account(self, xlm: str = "1000") -> str:
        account_id = Keypair.random().public_key
        self.ok(CreateAccount(account_id, xlm), self.root)
        return account_id

    def asset(self, code: str = "USD") -> Asset:
        return Asset(code, self.account())

    def fund(self, who: str, asset: Asset, amount: str, limit: str = "1000000") -> None:
        if self.state.trustline(who, key_from_sdk(asset)) is None:
            self.ok(ChangeTrust(asset, limit), who)
        self.ok(Payment(who, asset, amount), asset.issuer)

    def balance(self, who: str, asset: Asset) -> int:
        return self.state.balance(who, key_from_sdk(asset))

    def liabilities(self, who: str, asset: Asset) -> tuple[int, int]:
        return self.state.liabilities(who, key_from_sdk(asset))


def inner(outcome: OpOutcome):
    """The operation's inner result, decoded again from its XDR as a client would."""
    decoded = xdr.OperationResult.from_xdr(outcome.result.to_xdr())
    tr = decoded.tr
    for attr in (
        "create_account_result",
        "payment_result",
        "change_trust_result",
        "manage_sell_offer_result",
        "manage_buy_offer_result",
        "create_passive_sell_offer_result",
        "path_payment_strict_receive_result",
        "path_payment_strict_send_result",
    ):
        value = getattr(tr, attr)
        if value is not None:
            return value
    raise AssertionError("no inner result")


def code_name(outcome: OpOutcome) -> str:
    if outcome.result.code != xdr.OperationResultCode.opINNER:
        return outcome.result.code.name
    return inner(outcome).code.name


S = to_stroops


@pytest.fixture
def ledger() -> Ledger:
    return Ledger()


# ---- create account ---------------------------------------------------------------------------


def test_create_account_moves_lumens_and_sets_sequence_and_effects(ledger):
    new = Keypair.random().public_key
    before = ledger.state.account(ledger.root).balance
    outcome = ledger.ok(CreateAccount(new, "10"), ledger.root)
    acc = ledger.state.account(new)
    assert acc.balance == S("10") and acc.seq_num == ledger.ledger_seq << 32
    assert ledger.state.account(ledger.root).balance == before - S("10")
    assert [e["type"] for e in outcome.effects] == ["account_created", "account_debited", "signer_created"]
    assert outcome.effects[0] == {
        "account": new,
        "type": "account_created",
        "type_i": 0,
        "starting_balance": "10.0000000",
    }
    assert outcome.effects[1]["account"] == ledger.root and outcome.effects[1]["amount"] == "10.0000000"


def test_create_account_failures(ledger):
    alice = ledger.account("5")
    assert code_name(ledger.apply(CreateAccount(alice, "10"), ledger.root)) == "CREATE_ACCOUNT_ALREADY_EXIST"
    fresh = Keypair.random().public_key
    assert code_name(ledger.apply(CreateAccount(fresh, "0.9999999"), ledger.root)) == "CREATE_ACCOUNT_LOW_RESERVE"
    # alice holds 5 XLM with 1 XLM reserve: 4 XLM available
    assert code_name(ledger.apply(CreateAccount(fresh, "4.0000001"), alice)) == "CREATE_ACCOUNT_UNDERFUNDED"
    assert ledger.apply(CreateAccount(fresh, "4"), alice).success
    assert code_name(ledger.apply(CreateAccount(alice, "2"), alice)) == "CREATE_ACCOUNT_MALFORMED"


def test_unknown_source_and_unsupported_operations(ledger):
    stranger = Keypair.random().public_key
    assert code_name(ledger.apply(CreateAccount(Keypair.random().public_key, "2"), stranger)) == "opNO_ACCOUNT"
    assert code_name(ledger.apply(BumpSequence(5), ledger.root)) == "opNOT_SUPPORTED"


# ---- payments and trustlines --------------------------------------------------------------------


def test_payment_native_and_credit_with_effects(ledger):
    alice, bob = ledger.account(), ledger.account()
    outcome = ledger.ok(Payment(bob, XLM, "12.5"), alice)
    assert ledger.balance(bob, XLM) == S("1012.5") and ledger.balance(alice, XLM) == S("987.5")
    assert [(e["type"], e["account"]) for e in outcome.effects] == [
        ("account_credited", bob),
        ("account_debited", alice),
    ]
    usd = ledger.asset()
    ledger.fund(alice, usd, "100")
    ledger.ok(ChangeTrust(usd, "1000"), bob)
    outcome = ledger.ok(Payment(bob, usd, "40"), alice)
    assert ledger.balance(alice, usd) == S("60") and ledger.balance(bob, usd) == S("40")
    assert outcome.effects[0]["asset_code"] == "USD" and outcome.effects[0]["asset_issuer"] == usd.issuer
    # back to the issuer: burnt, no trustline needed on the issuer's side
    ledger.ok(Payment(usd.issuer, usd, "40"), bob)
    assert ledger.balance(bob, usd) == 0


def test_payment_failures(ledger):
    alice, bob = ledger.account("10"), ledger.account()
    usd = ledger.asset()
    assert code_name(ledger.apply(Payment(Keypair.random().public_key, XLM, "1"), alice)) == "PAYMENT_NO_DESTINATION"
    assert code_name(ledger.apply(Payment(bob, XLM, "9.0000001"), alice)) == "PAYMENT_UNDERFUNDED"  # 1 XLM reserve
    assert code_name(ledger.apply(Payment(bob, usd, "1"), usd.issuer)) == "PAYMENT_NO_TRUST"
    assert code_name(ledger.apply(Payment(bob, usd, "1"), alice)) == "PAYMENT_NO_TRUST"
    ledger.ok(ChangeTrust(usd, "5"), bob)
    assert code_name(ledger.apply(Payment(bob, usd, "5.0000001"), usd.issuer)) == "PAYMENT_LINE_FULL"
    assert code_name(ledger.apply(Payment(bob, usd, "1"), alice)) == "PAYMENT_SRC_NO_TRUST"
    ledger.fund(alice, usd, "1")
    assert code_name(ledger.apply(Payment(bob, usd, "2"), alice)) == "PAYMENT_UNDERFUNDED"
    op = Payment(bob, XLM, "1").to_xdr_object()
    op.body.payment_op.amount = xdr.Int64(0)
    assert code_name(ledger.apply(op, alice)) == "PAYMENT_MALFORMED"


def test_change_trust_create_update_remove_and_reserve(ledger):
    alice = ledger.account("1.9")  # after one trustline (1.5 XLM reserve) 0.4 XLM is free: too little
    usd, eur = ledger.asset("USD"), ledger.asset("EUR")
    outcome = ledger.ok(ChangeTrust(usd, "100"), alice)
    assert outcome.effects == [
        {
            "account": alice,
            "type": "trustline_created",
            "type_i": 20,
            "limit": "100.0000000",
            "asset_type": "credit_alphanum4",
            "asset_code": "USD",
            "asset_issuer": usd.issuer,
        }
    ]
    assert ledger.state.account(alice).num_subentries == 1
    assert code_name(ledger.apply(ChangeTrust(eur, "100"), alice)) == "CHANGE_TRUST_LOW_RESERVE"
    ledger.ok(Payment(alice, usd, "30"), usd.issuer)
    assert code_name(ledger.apply(ChangeTrust(usd, "29"), alice)) == "CHANGE_TRUST_INVALID_LIMIT"
    assert ledger.ok(ChangeTrust(usd, "50"), alice).effects[0]["type"] == "trustline_updated"
    assert ledger.state.trustline(alice, key_from_sdk(usd)).limit == S("50")
    assert code_name(ledger.apply(ChangeTrust(usd, "0"), alice)) == "CHANGE_TRUST_INVALID_LIMIT"
    ledger.ok(Payment(usd.issuer, usd, "30"), alice)
    assert ledger.ok(ChangeTrust(usd, "0"), alice).effects[0]["type"] == "trustline_removed"
    assert ledger.state.trustline(alice, key_from_sdk(usd)) is None
    assert ledger.state.account(alice).num_subentries == 0
    ghost = Asset("GHO", Keypair.random().public_key)
    assert code_name(ledger.apply(ChangeTrust(ghost, "1"), alice)) == "CHANGE_TRUST_NO_ISSUER"
    assert code_name(ledger.apply(ChangeTrust(usd, "1"), usd.issuer)) == "CHANGE_TRUST_MALFORMED"


# ---- offers -----------------------------------------------------------------------------------


@pytest.fixture
def market(ledger):
    """Two traders each holding 1000 XLM and 1000 USD."""
    usd = ledger.asset()
    alice, bob = ledger.account("1000"), ledger.account("1000")
    ledger.fund(alice, usd, "1000")
    ledger.fund(bob, usd, "1000")
    return ledger, usd, alice, bob


def test_resting_sell_offer_sets_liabilities_reserve_and_result_xdr(market):
    ledger, usd, alice, _ = market
    outcome = ledger.ok(ManageSellOffer(usd, XLM, "100", "2"), alice)
    success = inner(outcome).success
    assert success.offers_claimed == []
    assert success.offer.effect == xdr.ManageOfferEffect.MANAGE_OFFER_CREATED
    entry = success.offer.offer
    assert entry.amount.int64 == S("100") and (entry.price.n.int32, entry.price.d.int32) == (2, 1)
    offer_id = entry.offer_id.int64
    offer = ledger.state.offer(offer_id)
    assert offer.seller == alice and offer.amount == S("100")
    assert ledger.liabilities(alice, usd) == (S("100"), 0)
    assert ledger.liabilities(alice, XLM) == (0, S("200"))
    assert ledger.state.account(alice).num_subentries == 2
    assert outcome.changed_books == {(key_from_sdk(usd), NATIVE)}
    assert outcome.changed_offers[0]["id"] == str(offer_id)
    assert outcome.trades == [] and outcome.effects == []
    ledger.state.check_invariants()


def test_update_keeps_the_offer_id_and_delete_releases_everything(market):
    ledger, usd, alice, _ = market
    offer_id = inner(ledger.ok(ManageSellOffer(usd, XLM, "100", "2"), alice)).success.offer.offer.offer_id.int64
    outcome = ledger.ok(ManageSellOffer(usd, XLM, "40", "3", offer_id=offer_id), alice)
    success = inner(outcome).success
    assert success.offer.effect == xdr.ManageOfferEffect.MANAGE_OFFER_UPDATED
    assert success.offer.offer.offer_id.int64 == offer_id
    assert ledger.liabilities(alice, usd) == (S("40"), 0) and ledger.liabilities(alice, XLM) == (0, S("120"))
    assert ledger.state.account(alice).num_subentries == 2
    outcome = ledger.ok(ManageSellOffer(usd, XLM, "0", "3", offer_id=offer_id), alice)
    assert inner(outcome).success.offer.effect == xdr.ManageOfferEffect.MANAGE_OFFER_DELETED
    assert ledger.state.offer(offer_id) is None
    assert ledger.liabilities(alice, usd) == (0, 0) and ledger.liabilities(alice, XLM) == (0, 0)
    assert ledger.state.account(alice).num_subentries == 1
    assert outcome.changed_offers[0]["amount"] == "0.0000000"
    ledger.state.check_invariants()


def test_offer_validation_codes(market):
    ledger, usd, alice, bob = market
    eur = ledger.asset("EUR")
    assert code_name(ledger.apply(ManageSellOffer(usd, usd, "1", "1"), alice)) == "MANAGE_SELL_OFFER_MALFORMED"
    assert code_name(ledger.apply(ManageSellOffer(usd, XLM, "0", "1"), alice)) == "MANAGE_SELL_OFFER_MALFORMED"
    assert code_name(ledger.apply(ManageSellOffer(usd, XLM, "1", "1", offer_id=999), alice)) == (
        "MANAGE_SELL_OFFER_NOT_FOUND"
    )
    assert code_name(ledger.apply(ManageSellOffer(eur, XLM, "1", "1"), alice)) == "MANAGE_SELL_OFFER_SELL_NO_TRUST"
    assert code_name(ledger.apply(ManageSellOffer(XLM, eur, "1", "1"), alice)) == "MANAGE_SELL_OFFER_BUY_NO_TRUST"
    assert code_name(ledger.apply(ManageSellOffer(usd, XLM, "1000.0000001", "1"), alice)) == (
        "MANAGE_SELL_OFFER_UNDERFUNDED"
    )
    ledger.ok(ChangeTrust(eur, "10"), alice)
    assert code_name(ledger.apply(ManageSellOffer(eur, XLM, "1", "1"), alice)) == "MANAGE_SELL_OFFER_UNDERFUNDED"
    assert code_name(ledger.apply(ManageSellOffer(XLM, eur, "11", "1"), alice)) == "MANAGE_SELL_OFFER_LINE_FULL"
    # someone else's offer cannot be updated
    offer_id = inner(ledger.ok(ManageSellOffer(usd, XLM, "1", "1"), bob)).success.offer.offer.offer_id.int64
    assert code_name(ledger.apply(ManageSellOffer(usd, XLM, "0", "1", offer_id=offer_id), alice)) == (
        "MANAGE_SELL_OFFER_NOT_FOUND"
    )
    ledger.state.check_invariants()


def test_offer_low_reserve(ledger):
    usd = ledger.asset()
    poor = ledger.account("3.5")  # 1 XLM base + 0.5 trustline; 2 XLM free
    ledger.fund(poor, usd, "10")
    ledger.ok(ManageSellOffer(usd, XLM, "1", "1"), poor)  # needs 0.5 more reserve
    ledger.ok(ManageSellOffer(usd, XLM, "1", "1"), poor)
    ledger.ok(ManageSellOffer(usd, XLM, "1", "1"), poor)
    ledger.ok(ManageSellOffer(usd, XLM, "1", "1"), poor)  # 1.5 + 4 * 0.5 = 3.5: all of it
    outcome = ledger.apply(ManageSellOffer(usd, XLM, "1", "1"), poor)
    assert code_name(outcome) == "MANAGE_SELL_OFFER_LOW_RESERVE"


def test_crossing_fills_at_the_makers_price(market):
    ledger, usd, alice, bob = market
    maker_id = inner(ledger.ok(ManageSellOffer(usd, XLM, "100", "2"), alice)).success.offer.offer.offer_id.int64
    # bob sells 100 XLM asking at least 0.4 USD per XLM; the maker gives 0.5
    outcome = ledger.ok(ManageSellOffer(XLM, usd, "100", "0.4"), bob)
    success = inner(outcome).success
    assert success.offer.effect == xdr.ManageOfferEffect.MANAGE_OFFER_DELETED
    [claim] = success.offers_claimed
    atom = claim.order_book
    assert claim.type == xdr.ClaimAtomType.CLAIM_ATOM_TYPE_ORDER_BOOK
    assert (
        atom.offer_id.int64 == maker_id and atom.amount_sold.int64 == S("50") and atom.amount_bought.int64 == S("100")
    )
    assert ledger.balance(bob, usd) == S("1050") and ledger.balance(bob, XLM) == S("900")
    assert ledger.balance(alice, usd) == S("950") and ledger.balance(alice, XLM) == S("1100")
    assert ledger.state.offer(maker_id).amount == S("50")
    assert ledger.liabilities(alice, usd) == (S("50"), 0) and ledger.liabilities(alice, XLM) == (0, S("100"))
    [trade] = outcome.trades
    # native is the base of the canonical pair: bob (taker) sold the base
    assert trade["base_asset_type"] == "native" and trade["base_account"] == bob and not trade["base_is_seller"]
    assert trade["base_amount"] == "100.0000000" and trade["counter_amount"] == "50.0000000"
    assert trade["counter_offer_id"] == str(maker_id) and trade["price"] == {"n": "1", "d": "2"}
    assert int(trade["base_offer_id"]) >> 62 == 1  # synthetic id: bob's offer never rested
    taker_effect, maker_effect = outcome.effects
    assert taker_effect["account"] == bob and taker_effect["seller"] == alice
    assert taker_effect["sold_amount"] == "100.0000000" and taker_effect["bought_asset_code"] == "USD"
    assert (
        maker_effect["account"] == alice and maker_effect["seller"] == bob and maker_effect["sold_asset_code"] == "USD"
    )
    ledger.state.check_invariants()


def test_partial_fill_rests_the_remainder(market):
    ledger, usd, alice, bob = market
    ledger.ok(ManageSellOffer(usd, XLM, "10", "2"), alice)
    outcome = ledger.ok(ManageSellOffer(XLM, usd, "100", "0.5"), bob)
    success = inner(outcome).success
    assert len(success.offers_claimed) == 1
    assert success.offer.effect == xdr.ManageOfferEffect.MANAGE_OFFER_CREATED
    rest = success.offer.offer
    assert rest.amount.int64 == S("80") and rest.seller_id.account_id.ed25519.uint256 == (
        Keypair.from_public_key(bob).raw_public_key()
    )
    assert ledger.state.find_offers(selling=key_from_sdk(usd), buying=NATIVE) == []
    assert outcome.trades[0]["base_offer_id"] == str(rest.offer_id.int64)  # the taker's resting offer id
    assert ledger.liabilities(bob, XLM) == (S("80"), 0) and ledger.liabilities(bob, usd) == (0, S("40"))
    ledger.state.check_invariants()


def test_price_time_priority(market):
    ledger, usd, alice, bob = market
    carol = ledger.account()
    ledger.fund(carol, usd, "100")
    worse = inner(ledger.ok(ManageSellOffer(usd, XLM, "10", "3"), alice)).success.offer.offer.offer_id.int64
    first = inner(ledger.ok(ManageSellOffer(usd, XLM, "10", "2"), alice)).success.offer.offer.offer_id.int64
    second = inner(ledger.ok(ManageSellOffer(usd, XLM, "10", "2"), carol)).success.offer.offer.offer_id.int64
    success = inner(ledger.ok(ManageBuyOffer(XLM, usd, "15", "3"), bob)).success
    claimed = [(c.order_book.offer_id.int64, c.order_book.amount_sold.int64) for c in success.offers_claimed]
    assert claimed == [(first, S("10")), (second, S("5"))]
    assert ledger.state.offer(worse).amount == S("10")
    ledger.state.check_invariants()


def test_rounding_favours_the_resting_offer(ledger):
    usd = ledger.asset()
    maker, taker = ledger.account(), ledger.account()
    ledger.fund(maker, usd, "1")
    ledger.fund(taker, usd, "1")
    # maker sells 1 USD at 3/2 XLM per USD; the taker offers 11 stroops of XLM
    ledger.ok(ManageSellOffer(usd, XLM, "1", Decimal("1.5")), maker)
    op = ManageSellOffer(XLM, usd, "0.0000010", "0.5").to_xdr_object()
    outcome = ledger.ok(op, taker)
    atom = inner(outcome).success.offers_claimed[0].order_book
    # 10 stroops buy floor(20/3)=6 stroops of USD for ceil(6*1.5)=9 stroops: never better than the maker's price
    assert (atom.amount_sold.int64, atom.amount_bought.int64) == (6, 9)
    assert atom.amount_bought.int64 * 2 >= atom.amount_sold.int64 * 3
    ledger.state.check_invariants()


def test_passive_offer_does_not_take_an_equal_price(market):
    ledger, usd, alice, bob = market
    ledger.ok(ManageSellOffer(usd, XLM, "10", "2"), alice)
    outcome = ledger.ok(CreatePassiveSellOffer(XLM, usd, "20", "0.5"), bob)
    decoded = xdr.OperationResult.from_xdr(outcome.result.to_xdr())
    success = decoded.tr.create_passive_sell_offer_result.success
    assert success.offers_claimed == [] and success.offer.offer.flags.uint32 == 1
    assert len(ledger.state.offers) == 2
    # a passive offer at a better price does take
    outcome = ledger.ok(CreatePassiveSellOffer(XLM, usd, "2", "0.4"), bob)
    assert len(inner(outcome).success.offers_claimed) == 1
    # a normal offer at the same price as the passive one takes it
    carol = ledger.account()
    ledger.fund(carol, usd, "100")
    outcome = ledger.ok(ManageSellOffer(usd, XLM, "1", "2"), carol)
    assert inner(outcome).success.offers_claimed[0].order_book.seller_id.account_id.ed25519.uint256 == (
        Keypair.from_public_key(bob).raw_public_key()
    )
    ledger.state.check_invariants()


def test_cross_self_fails_and_changes_nothing(market):
    ledger, usd, alice, _ = market
    ledger.ok(ManageSellOffer(usd, XLM, "10", "2"), alice)
    before = ledger.state.account_json(alice)
    outcome = ledger.apply(ManageSellOffer(XLM, usd, "20", "0.5"), alice)
    assert code_name(outcome) == "MANAGE_SELL_OFFER_CROSS_SELF"
    assert ledger.state.account_json(alice) == before and len(ledger.state.offers) == 1
    assert outcome.effects == [] and outcome.trades == []
    ledger.state.check_invariants()


def test_buy_offer_is_stored_as_a_sell_offer(market):
    ledger, usd, alice, _ = market
    # buy 10 USD paying 2 XLM each: rests as selling 20 XLM for USD at 1/2
    outcome = ledger.ok(ManageBuyOffer(XLM, usd, "10", "2"), alice)
    entry = inner(outcome).success.offer.offer
    offer = ledger.state.offer(entry.offer_id.int64)
    assert (offer.selling, offer.buying, offer.amount) == (NATIVE, key_from_sdk(usd), S("20"))
    assert (offer.price_n, offer.price_d) == (1, 2)
    assert ledger.liabilities(alice, XLM) == (S("20"), 0) and ledger.liabilities(alice, usd) == (0, S("10"))
    book = ledger.state.order_book_json(key_from_sdk(usd), NATIVE)
    assert book["bids"] == [{"price_r": {"n": 2, "d": 1}, "price": "2.0000000", "amount": "20.0000000"}]
    assert book["asks"] == []


def test_buy_offer_crossing_receives_exactly_the_buy_amount(market):
    ledger, usd, alice, bob = market
    ledger.ok(ManageSellOffer(usd, XLM, "100", "2"), alice)
    outcome = ledger.ok(ManageBuyOffer(XLM, usd, "30", "2.1"), bob)
    success = inner(outcome).success
    assert success.offer.effect == xdr.ManageOfferEffect.MANAGE_OFFER_DELETED
    assert ledger.balance(bob, usd) == S("1030") and ledger.balance(bob, XLM) == S("940")


def test_failed_operation_rolls_back_its_own_changes(market):
    ledger, usd, alice, bob = market
    ledger.ok(ManageSellOffer(usd, XLM, "10", "2"), alice)
    state_before = (ledger.state.account_json(bob), ledger.state.account_json(alice), ledger.state.id_pool)
    # path payment crosses alice's offer, then fails on the send maximum
    outcome = ledger.apply(PathPaymentStrictReceive(bob, XLM, "1", usd, "5", []), bob)
    assert code_name(outcome) == "PATH_PAYMENT_STRICT_RECEIVE_OVER_SENDMAX"
    assert (ledger.state.account_json(bob), ledger.state.account_json(alice), ledger.state.id_pool) == state_before
    assert ledger.state.offer(next(iter(ledger.state.offers))).amount == S("10")
    ledger.state.check_invariants()


def test_transaction_savepoint_undoes_several_operations(market):
    ledger, usd, alice, bob = market
    token = ledger.state.snapshot()
    ledger.ok(ManageSellOffer(usd, XLM, "10", "2"), alice)
    ledger.ok(ManageSellOffer(XLM, usd, "5", "0.5"), bob)
    ledger.ok(Payment(bob, XLM, "1"), alice)
    assert ledger.balance(bob, usd) == S("1002.5")
    ledger.state.restore(token)
    assert ledger.state.offers == {} and ledger.state.id_pool == 0
    assert ledger.balance(alice, usd) == S("1000") and ledger.balance(bob, XLM) == S("1000")
    ledger.state.check_invariants()


# ---- path payments ----------------------------------------------------------------------------


def test_path_payment_strict_send_through_the_book(market):
    ledger, usd, alice, bob = market
    dest = ledger.account()
    ledger.ok(ChangeTrust(usd, "1000"), dest)
    ledger.ok(ManageSellOffer(usd, XLM, "100", "2"), alice)
    outcome = ledger.ok(PathPaymentStrictSend(dest, XLM, "10", usd, "4.9", []), bob)
    success = inner(outcome).success
    assert success.last.amount.int64 == S("5") and len(success.offers) == 1
    assert ledger.balance(dest, usd) == S("5") and ledger.balance(bob, XLM) == S("990")
    assert [e["type"] for e in outcome.effects] == ["account_credited", "account_debited", "trade", "trade"]
    assert outcome.trades[0]["counter_offer_id"] != ""  # synthetic id of the operation
    outcome = ledger.apply(PathPaymentStrictSend(dest, XLM, "10", usd, "5.1", []), bob)
    assert code_name(outcome) == "PATH_PAYMENT_STRICT_SEND_UNDER_DESTMIN"
    outcome = ledger.apply(PathPaymentStrictSend(dest, XLM, "500", usd, "1", []), bob)
    assert code_name(outcome) == "PATH_PAYMENT_STRICT_SEND_TOO_FEW_OFFERS"
    ledger.state.check_invariants()


def test_path_payment_strict_receive_multi_hop(market):
    ledger, usd, alice, bob = market
    eur = ledger.asset("EUR")
    ledger.fund(alice, eur, "1000")
    dest = ledger.account()
    ledger.ok(ChangeTrust(eur, "1000"), dest)
    ledger.ok(ManageSellOffer(usd, XLM, "100", "2"), alice)  # XLM -> USD at 2 XLM/USD
    ledger.ok(ManageSellOffer(eur, usd, "100", "1.5"), alice)  # USD -> EUR at 1.5 USD/EUR
    outcome = ledger.ok(PathPaymentStrictReceive(dest, XLM, "31", eur, "10", [usd]), bob)
    success = inner(outcome).success
    # 10 EUR cost 15 USD, which cost 30 XLM; offers listed in path order
    assert [Asset.from_xdr_object(c.order_book.asset_sold) for c in success.offers] == [usd, eur]
    assert [c.order_book.amount_bought.int64 for c in success.offers] == [S("30"), S("15")]
    assert ledger.balance(dest, eur) == S("10") and ledger.balance(bob, XLM) == S("970")
    assert outcome.effects[1] == {
        "account": bob,
        "type": "account_debited",
        "type_i": 3,
        "amount": "30.0000000",
        "asset_type": "native",
    }
    assert code_name(ledger.apply(PathPaymentStrictReceive(dest, XLM, "29", eur, "10", [usd]), bob)) == (
        "PATH_PAYMENT_STRICT_RECEIVE_OVER_SENDMAX"
    )
    assert code_name(ledger.apply(PathPaymentStrictReceive(dest, XLM, "1000", eur, "10", []), bob)) == (
        "PATH_PAYMENT_STRICT_RECEIVE_TOO_FEW_OFFERS"
    )
    assert code_name(ledger.apply(PathPaymentStrictReceive(dest, usd, "1000", eur, "1", []), alice)) == (
        "PATH_PAYMENT_STRICT_RECEIVE_OFFER_CROSS_SELF"
    )
    ledger.state.check_invariants()
