import pytest

from stellar_sandbox.core.history import History, RecordStore, parse_int_cursor, reverse_trade

ALICE = "GALICE"
BOB = "GBOB"
USD = "USD:GISSUER"


def toid(ledger: int, tx_order: int, op_index: int = 0) -> int:
    return (ledger << 32) | (tx_order << 12) | op_index


def tx_record(ledger: int, order: int, successful: bool = True) -> dict:
    key = toid(ledger, order)
    return {"id": f"h{ledger}-{order}", "hash": f"h{ledger}-{order}", "paging_token": str(key),
            "ledger": ledger, "successful": successful}


def op_record(ledger: int, order: int, index: int, op_type: str = "manage_sell_offer", ok: bool = True) -> dict:
    key = toid(ledger, order, index)
    return {"id": str(key), "paging_token": str(key), "type": op_type, "transaction_successful": ok}


def effect_record(op_id: int, index: int, account: str) -> dict:
    return {"id": f"{op_id:019d}-{index:010d}", "paging_token": f"{op_id}-{index}", "account": account}


def trade_record(op_id: int, index: int, base_account: str, counter_account: str, base: str = "native",
                 counter: str = USD) -> dict:
    record = {"id": f"{op_id:019d}-{index:010d}", "paging_token": f"{op_id}-{index}",
              "base_account": base_account, "counter_account": counter_account,
              "base_offer_id": str(100 + index), "counter_offer_id": str(200 + index),
              "base_amount": "1.0000000", "counter_amount": "2.0000000", "base_is_seller": True,
              "price": {"n": "2", "d": "1"}}
    for side, key in (("base", base), ("counter", counter)):
        if key == "native":
            record[f"{side}_asset_type"] = "native"
        else:
            code, issuer = key.split(":")
            record.update({f"{side}_asset_type": "credit_alphanum4", f"{side}_asset_code": code,
                           f"{side}_asset_issuer": issuer})
    return record


def ids(records):
    return [r["paging_token"] for r in records]


def filled_store(n: int, cap: int = 1000) -> RecordStore:
    store = RecordStore(cap, parse_int_cursor)
    for i in range(1, n + 1):
        store.add(i * 10, {"paging_token": str(i * 10)}, [("even",)] if i % 2 == 0 else [])
    return store


def test_paging_asc_desc_cursor_and_limit():
    store = filled_store(30)
    assert ids(store.page()) == [str(i * 10) for i in range(1, 11)]
    assert ids(store.page(cursor="100", limit=3)) == ["110", "120", "130"]
    assert ids(store.page(cursor="105", limit=2)) == ["110", "120"]  # cursor between keys
    assert ids(store.page(order="desc", limit=3)) == ["300", "290", "280"]
    assert ids(store.page(cursor="100", order="desc", limit=3)) == ["90", "80", "70"]
    assert store.page(cursor="now") == []
    assert ids(store.page(cursor="now", order="desc", limit=1)) == ["300"]
    assert ids(store.page(index=("even",), cursor="100", limit=2)) == ["120", "140"]
    assert ids(store.page(index=("even",), order="desc", limit=2)) == ["300", "280"]


@pytest.mark.parametrize("kwargs", [{"limit": 0}, {"limit": 201}, {"limit": "x"}, {"order": "up"},
                                    {"cursor": "abc"}, {"cursor": "-5"}])
def test_bad_paging_parameters_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        filled_store(3).page(**kwargs)


def test_cap_drops_oldest_also_from_indexes_and_after_compaction():
    store = filled_store(5000, cap=1500)
    assert len(store) == 1500
    assert store.oldest_key == 35010
    assert ids(store.page(limit=2)) == ["35010", "35020"]
    assert ids(store.page(index=("even",), limit=1)) == ["35020"]
    assert store.get(35000) is None
    assert ids(store.page(cursor="35010", order="desc")) == []


def test_keys_must_grow():
    store = filled_store(2)
    with pytest.raises(ValueError, match="not after"):
        store.add(5, {})


def test_transactions_by_account_ledger_and_failed_filter():
    history = History()
    history.add_transaction(tx_record(2, 1), [ALICE])
    history.add_transaction(tx_record(2, 2, successful=False), [ALICE, BOB])
    history.add_transaction(tx_record(3, 1), [BOB])
    assert ids(history.transactions_page(account=ALICE)) == [str(toid(2, 1))]
    assert ids(history.transactions_page(account=ALICE, include_failed=True)) == [str(toid(2, 1)), str(toid(2, 2))]
    assert ids(history.transactions_page(ledger=3)) == [str(toid(3, 1))]
    assert history.transaction("h2-2")["successful"] is False
    assert history.transaction("unknown") is None


def test_operations_by_transaction_ledger_account_and_payments():
    history = History()
    history.add_transaction(tx_record(5, 1), [ALICE])
    history.add_operation(op_record(5, 1, 1), [ALICE])
    history.add_operation(op_record(5, 1, 2, op_type="payment"), [ALICE, BOB])
    history.add_transaction(tx_record(6, 1), [BOB])
    history.add_operation(op_record(6, 1, 1), [BOB])
    assert ids(history.operations_page(tx_hash="h5-1")) == [str(toid(5, 1, 1)), str(toid(5, 1, 2))]
    assert ids(history.operations_page(ledger=6)) == [str(toid(6, 1, 1))]
    assert ids(history.operations_page(account=BOB)) == [str(toid(5, 1, 2)), str(toid(6, 1, 1))]
    assert ids(history.operations_page(payments_only=True)) == [str(toid(5, 1, 2))]
    assert history.operations_page(tx_hash="nope") == []


def test_effects_by_operation_account_and_pair_cursor():
    history = History()
    op1, op2 = toid(7, 1, 1), toid(7, 2, 1)
    history.add_transaction(tx_record(7, 1), [ALICE])
    history.add_effect(effect_record(op1, 1, ALICE))
    history.add_effect(effect_record(op1, 2, BOB))
    history.add_transaction(tx_record(7, 2), [BOB])
    history.add_effect(effect_record(op2, 1, BOB))
    assert ids(history.effects_page(operation_id=op1)) == [f"{op1}-1", f"{op1}-2"]
    assert ids(history.effects_page(account=BOB)) == [f"{op1}-2", f"{op2}-1"]
    assert ids(history.effects_page(cursor=f"{op1}-1")) == [f"{op1}-2", f"{op2}-1"]
    assert ids(history.effects_page(tx_hash="h7-2")) == [f"{op2}-1"]
    assert ids(history.effects_page(ledger=7, order="desc", limit=1)) == [f"{op2}-1"]


def test_trades_filters_and_reversed_pair():
    history = History()
    op = toid(9, 1, 1)
    history.add_trade(trade_record(op, 0, ALICE, BOB))
    history.add_trade(trade_record(op, 1, ALICE, "GCAROL", base="EUR:GISSUER", counter=USD))
    assert ids(history.trades_page(account=BOB)) == [f"{op}-0"]
    assert ids(history.trades_page(offer_id="201")) == [f"{op}-1"]
    straight = history.trades_page(base_asset="native", counter_asset=USD)
    assert ids(straight) == [f"{op}-0"] and straight[0]["base_account"] == ALICE
    reversed_ = history.trades_page(base_asset=USD, counter_asset="native")
    assert reversed_[0]["base_account"] == BOB
    assert reversed_[0]["base_asset_code"] == "USD" and reversed_[0]["counter_asset_type"] == "native"
    assert reversed_[0]["price"] == {"n": "1", "d": "2"}
    assert reversed_[0]["base_is_seller"] is False and reversed_[0]["base_offer_id"] == "200"
    with pytest.raises(ValueError):
        history.trades_page(base_asset="native")


def test_reverse_trade_twice_is_identity():
    record = trade_record(toid(1, 1, 1), 0, ALICE, BOB)
    assert reverse_trade(reverse_trade(record)) == record


def test_transaction_lookup_forgets_evicted_and_finds_inner_hash():
    history = History(cap=2)
    fee_bump = tx_record(1, 1)
    fee_bump["inner_transaction"] = {"hash": "inner"}
    history.add_transaction(fee_bump, [ALICE])
    assert history.transaction("inner") is fee_bump
    history.add_transaction(tx_record(1, 2), [ALICE])
    history.add_transaction(tx_record(1, 3), [ALICE])
    assert history.transaction("inner") is None and history.transaction("h1-1") is None
    assert history.transaction("h1-3") is not None
