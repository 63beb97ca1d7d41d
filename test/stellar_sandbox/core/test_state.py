import pytest
from stellar_sdk import Asset, Keypair

from stellar_sandbox.core.amounts import INT64_MAX
from stellar_sandbox.core.assets import (
    NATIVE,
    asset_key,
    canonical_pair,
    horizon_fields,
    key_from_horizon,
    key_from_sdk,
    key_from_xdr,
    sdk_from_key,
    xdr_from_key,
)
from stellar_sandbox.core.state import LedgerState, Offer

RESERVE = 5_000_000


def new_id() -> str:
    return Keypair.random().public_key


@pytest.fixture
def state() -> LedgerState:
    return LedgerState(RESERVE)


def add_offer(state: LedgerState, seller: str, selling: str, buying: str, amount: int, n: int, d: int) -> Offer:
    offer = Offer(state.generate_offer_id(), seller, selling, buying, amount, n, d)
    state.put_offer(offer)
    state.add_subentries(seller, 1)
    state.acquire_liabilities(offer)
    return offer


def trust(state: LedgerState, account_id: str, asset: str, balance: int = 0) -> None:
    state.create_trustline(account_id, asset, 10**15)
    state.add_subentries(account_id, 1)
    assert state.add_balance(account_id, asset, balance)


def test_min_balance_and_available_native(state):
    acc_id = new_id()
    acc = state.create_account(acc_id, 100_000_000, 0)
    assert state.min_balance(acc) == 2 * RESERVE
    state.add_subentries(acc_id, 2)
    assert state.min_balance(state.account(acc_id)) == 4 * RESERVE
    assert state.available_balance(acc_id, NATIVE) == 100_000_000 - 4 * RESERVE
    assert state.available_to_receive(acc_id, NATIVE) == INT64_MAX - 100_000_000


def test_trustline_availability_and_add_balance_rules(state):
    issuer, holder = new_id(), new_id()
    state.create_account(issuer, 10**9, 0)
    state.create_account(holder, 10**9, 0)
    usd = asset_key("USD", issuer)
    assert state.available_to_sell(holder, usd) == 0 and state.available_to_receive(holder, usd) == 0
    assert not state.add_balance(holder, usd, 1)
    state.create_trustline(holder, usd, 1_000)
    assert state.add_balance(holder, usd, 600)
    assert not state.add_balance(holder, usd, 401)  # over the limit
    assert not state.add_balance(holder, usd, -601)  # below zero
    line = state.mut_trustline(holder, usd)
    line.selling_liabilities, line.buying_liabilities = 100, 300
    assert state.available_to_sell(holder, usd) == 500
    assert state.available_to_receive(holder, usd) == 100
    assert not state.add_balance(holder, usd, -501)  # would break the selling liabilities
    assert not state.add_balance(holder, usd, 101)  # would break the buying liabilities
    # the issuer holds an unlimited amount of its own asset without a trustline
    assert state.holds(issuer, usd) and state.balance(issuer, usd) == INT64_MAX
    assert state.add_balance(issuer, usd, -(10**15)) and state.available_to_receive(issuer, usd) == INT64_MAX


def test_native_add_balance_keeps_the_reserve(state):
    acc_id = new_id()
    state.create_account(acc_id, 3 * RESERVE, 0)
    assert not state.add_balance(acc_id, NATIVE, -(RESERVE + 1))
    assert state.add_balance(acc_id, NATIVE, -RESERVE)
    assert state.account(acc_id).balance == 2 * RESERVE


def test_nested_savepoints_restore_accounts_trustlines_offers_and_ids(state):
    issuer, trader = new_id(), new_id()
    state.create_account(issuer, 10**10, 0)
    state.create_account(trader, 10**10, 0)
    usd = asset_key("USD", issuer)
    outer = state.snapshot()
    state.create_trustline(trader, usd, 10**9)
    state.add_subentries(trader, 1)
    state.add_balance(trader, usd, 5_000)
    first = add_offer(state, trader, usd, NATIVE, 1_000, 1, 1)
    inner = state.snapshot()
    state.add_balance(trader, usd, 1_000)
    second = add_offer(state, trader, usd, NATIVE, 2_000, 2, 1)
    state.mut_offer(first.offer_id).amount = 1  # only to see it restored
    state.restore(inner)
    assert state.offer(second.offer_id) is None and state.offer(first.offer_id).amount == 1_000
    assert state.balance(trader, usd) == 5_000 and state.id_pool == first.offer_id
    assert [o.offer_id for o in state.book(usd, NATIVE)] == [first.offer_id]
    state.check_invariants()
    state.restore(outer)
    assert state.trustline(trader, usd) is None and state.offers == {} and state.id_pool == 0
    assert state.account(trader).num_subentries == 0 and state.account(trader).selling_liabilities == 0
    assert list(state.book(usd, NATIVE)) == []
    state.check_invariants()


def test_commit_keeps_changes_and_restore_of_a_created_account(state):
    root = new_id()
    state.create_account(root, 10**10, 0)
    token = state.snapshot()
    newcomer = new_id()
    state.create_account(newcomer, 10**8, 0)
    state.commit(token)
    assert state.account(newcomer) is not None
    token = state.snapshot()
    other = new_id()
    state.create_account(other, 10**8, 0)
    state.mut_account(newcomer).balance = 1
    state.restore(token)
    assert state.account(other) is None and state.account(newcomer).balance == 10**8
    with pytest.raises(ValueError, match="no open savepoint"):
        state.restore(token)


def test_savepoint_context_manager_restores_on_exception(state):
    acc_id = new_id()
    state.create_account(acc_id, 10**8, 0)
    with pytest.raises(RuntimeError), state.savepoint():
        state.mut_account(acc_id).balance = 5
        raise RuntimeError("boom")
    assert state.account(acc_id).balance == 10**8


def test_book_orders_by_price_then_offer_id(state):
    issuer, a, b = new_id(), new_id(), new_id()
    for acc in (issuer, a, b):
        state.create_account(acc, 10**12, 0)
    usd = asset_key("USD", issuer)
    trust(state, a, usd)
    trust(state, b, usd)
    o1 = add_offer(state, a, NATIVE, usd, 100, 3, 1)
    o2 = add_offer(state, b, NATIVE, usd, 100, 2, 1)
    o3 = add_offer(state, a, NATIVE, usd, 100, 4, 2)  # same price as o2, newer
    assert [o.offer_id for o in state.book(NATIVE, usd)] == [o2.offer_id, o3.offer_id, o1.offer_id]
    assert state.best_offer(NATIVE, usd) is o2
    assert [o.offer_id for o in state.offers_of(a)] == [o1.offer_id, o3.offer_id]
    assert state.find_offers(selling=NATIVE) == [o1, o2, o3]
    assert state.find_offers(seller=b, buying=usd) == [o2]
    assert state.find_offers(buying=NATIVE) == []


def test_order_book_json_aggregates_levels_and_inverts_bids(state):
    issuer, a, b = new_id(), new_id(), new_id()
    for acc in (issuer, a, b):
        state.create_account(acc, 10**12, 0)
    usd = asset_key("USD", issuer)
    for acc in (a, b):
        trust(state, acc, usd, 10**10)
    # asks: selling XLM for USD
    add_offer(state, a, NATIVE, usd, 10_000_000, 1, 2)
    add_offer(state, b, NATIVE, usd, 5_000_000, 1, 2)
    add_offer(state, a, NATIVE, usd, 7_000_000, 3, 4)
    # bids: selling USD for XLM; 1/4 XLM per USD is a bid of 4 USD per XLM, 1/5 the better bid of 5
    add_offer(state, b, usd, NATIVE, 20_000_000, 1, 4)
    add_offer(state, a, usd, NATIVE, 1_000_000, 1, 5)
    book = state.order_book_json(NATIVE, usd, limit=1)
    assert book["base"] == {"asset_type": "native"}
    assert book["counter"] == {"asset_type": "credit_alphanum4", "asset_code": "USD", "asset_issuer": issuer}
    assert book["asks"] == [{"price_r": {"n": 1, "d": 2}, "price": "0.5000000", "amount": "1.5000000"}]
    assert book["bids"] == [{"price_r": {"n": 5, "d": 1}, "price": "5.0000000", "amount": "0.1000000"}]
    full = state.order_book_json(NATIVE, usd)
    assert [level["price"] for level in full["asks"]] == ["0.5000000", "0.7500000"]
    assert [level["price"] for level in full["bids"]] == ["5.0000000", "4.0000000"]
    state.check_invariants()


def test_account_json_lists_credit_balances_then_native(state):
    issuer, holder = new_id(), new_id()
    state.create_account(issuer, 10**9, 0)
    state.create_account(holder, 123_456_789, 77)
    usd = asset_key("USD", issuer)
    state.create_trustline(holder, usd, 10**10)
    state.add_subentries(holder, 1)
    state.add_balance(holder, usd, 5)
    data = state.account_json(holder)
    assert data["sequence"] == "77" and data["subentry_count"] == 1 and data["account_id"] == holder
    credit, native = data["balances"]
    assert credit["balance"] == "0.0000005" and credit["limit"] == "1000.0000000" and credit["is_authorized"]
    assert credit["asset_code"] == "USD" and credit["selling_liabilities"] == "0.0000000"
    assert native == {
        "balance": "12.3456789",
        "buying_liabilities": "0.0000000",
        "selling_liabilities": "0.0000000",
        "asset_type": "native",
    }
    assert data["signers"] == [{"weight": 1, "key": holder, "type": "ed25519_public_key"}]
    assert state.account_json(new_id()) is None


def test_offer_json_shape(state):
    issuer, a = new_id(), new_id()
    state.create_account(issuer, 10**9, 0)
    state.create_account(a, 10**12, 0)
    state.ledger_seq, state.close_time = 9, 1_700_000_000
    trust(state, a, asset_key("USD", issuer))
    offer = add_offer(state, a, NATIVE, asset_key("USD", issuer), 15_000_000, 2, 3)
    data = state.offer_json(offer)
    assert data["id"] == str(offer.offer_id) and data["paging_token"] == str(offer.offer_id)
    assert data["amount"] == "1.5000000" and data["price"] == "0.6666667" and data["price_r"] == {"n": 2, "d": 3}
    assert data["selling"] == {"asset_type": "native"} and data["last_modified_ledger"] == 9
    assert data["last_modified_time"] == "2023-11-14T22:13:20Z"


def test_check_invariants_detects_bad_liabilities(state):
    acc_id = new_id()
    state.create_account(acc_id, 10**9, 0)
    state.mut_account(acc_id).selling_liabilities = 1
    with pytest.raises(AssertionError, match="liabilities"):
        state.check_invariants()


def test_asset_keys_convert_to_and_from_sdk_xdr_and_horizon():
    issuer = new_id()
    usd = asset_key("USD", issuer)
    long_code = asset_key("LONGCODE", issuer)
    assert usd == f"USD:{issuer}" and asset_key("XLM") == NATIVE
    for key in (NATIVE, usd, long_code):
        assert key_from_xdr(xdr_from_key(key)) == key
        assert key_from_sdk(sdk_from_key(key)) == key
        assert key_from_horizon(horizon_fields(key, "selling_"), "selling_") == key
    assert key_from_sdk(Asset("USD", issuer)) == usd
    assert horizon_fields(long_code, "buying_")["buying_asset_type"] == "credit_alphanum12"
    with pytest.raises(ValueError, match="invalid asset code"):
        asset_key("BAD-CODE", issuer)
    with pytest.raises(ValueError, match="invalid issuer"):
        asset_key("USD", "GNOTANISSUER")
    with pytest.raises(ValueError, match="does not match"):
        key_from_horizon({"asset_type": "credit_alphanum12", "asset_code": "USD", "asset_issuer": issuer})


def test_canonical_pair_puts_native_then_short_codes_first():
    issuer = new_id()
    usd, eur, long_code = asset_key("USD", issuer), asset_key("EUR", issuer), asset_key("LONGCODE", issuer)
    assert canonical_pair(usd, NATIVE) == (NATIVE, usd)
    assert canonical_pair(usd, eur) == (eur, usd)
    assert canonical_pair(long_code, usd) == (usd, long_code)
