import pytest
from stellar_sdk import Account, Asset, Keypair, TransactionBuilder
from stellar_sdk import xdr as sx

from stellar_sandbox.core.network import STANDALONE_PASSPHRASE, TOTAL_COINS, Network

TX = sx.TransactionResultCode


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def net(clock):
    return Network(clock=clock)


@pytest.fixture
def market(net):
    """Two funded traders holding USD issued by a third account."""
    issuer, alice, bob = (net.create_funded_account(1000) for _ in range(3))
    usd = net.issue_asset(issuer, "USD", {alice: "500", bob: "500"})
    return {"issuer": issuer, "alice": alice, "bob": bob, "usd": Asset("USD", issuer.public_key), "usd_key": usd}


def builder(net: Network, source: Keypair, fee: int = 100, max_time: int = 0, seq_offset: int = 0):
    seq = net.state.account(source.public_key).seq_num + seq_offset
    return TransactionBuilder(Account(source.public_key, seq), STANDALONE_PASSPHRASE, base_fee=fee).add_time_bounds(
        0, max_time)


def signed(tx_builder, *signers) -> str:
    envelope = tx_builder.build()
    for kp in signers:
        envelope.sign(kp)
    return envelope.to_xdr()


def sell_xlm(tx_builder, usd, amount="10", price="2", source=None):
    return tx_builder.append_manage_sell_offer_op(selling=Asset.native(), buying=usd, amount=amount, price=price,
                                                  source=source)


def result_of(record) -> sx.TransactionResult:
    return sx.TransactionResult.from_xdr(record["result_xdr"])


def test_genesis_root_holds_all_lumens(net):
    root = Keypair.from_raw_ed25519_seed(__import__("hashlib").sha256(STANDALONE_PASSPHRASE.encode()).digest())
    assert net.root_keypair.public_key == root.public_key == "GBZXN7PIRZGNMHGA7MUUUF4GWPY5AYPV6LY4UV2GL6VJGIQRXFDNMADI"
    assert net.state.balance(root.public_key, "native") == TOTAL_COINS
    ledger = net.latest_ledger
    assert ledger["sequence"] == 1 and ledger["total_coins"] == "100000000000.0000000"
    assert ledger["protocol_version"] == 22 and ledger["paging_token"] == str(1 << 32)


def test_offer_applies_with_horizon_records(net, market):
    alice, usd = market["alice"], market["usd"]
    seq_before = net.state.account(alice.public_key).seq_num
    outcome = net.submit(signed(sell_xlm(builder(net, alice), usd, amount="10", price="1.5"), alice))
    assert outcome.status == "PENDING" and net.transaction_status(outcome.hash) == "PENDING"
    ledger = net.close_ledger()
    assert ledger["successful_transaction_count"] == 1 and ledger["operation_count"] == 1
    record = net.transaction(outcome.hash)
    assert record["successful"] and record["ledger"] == ledger["sequence"]
    assert record["fee_charged"] == "100" and record["source_account_sequence"] == str(seq_before + 1)
    assert record["created_at"].endswith("Z") and record["preconditions"]["timebounds"]["min_time"] == "0"
    assert result_of(record).result.code == TX.txSUCCESS
    assert net.transaction_status(outcome.hash) == "SUCCESS"
    assert net.state.account(alice.public_key).seq_num == seq_before + 1
    [op] = net.history.operations_page(tx_hash=outcome.hash)
    assert op["type"] == "manage_sell_offer" and op["transaction_successful"] is True
    assert (op["amount"], op["price"], op["price_r"], op["offer_id"]) == ("10.0000000", "1.5000000",
                                                                         {"n": 3, "d": 2}, "0")
    assert op["selling_asset_type"] == "native" and op["buying_asset_code"] == "USD"
    assert int(op["id"]) == int(record["paging_token"]) + 1
    [offer] = net.state.offers_of(alice.public_key)
    assert offer.amount == 100_000_000


def test_channel_account_pays_fee_and_trader_owns_offer(net, market):
    alice, usd = market["alice"], market["usd"]
    channel = net.create_funded_account(100)
    trader_seq = net.state.account(alice.public_key).seq_num
    channel_balance = net.state.balance(channel.public_key, "native")
    tx_builder = builder(net, channel)
    for _ in range(3):
        sell_xlm(tx_builder, usd, source=alice.public_key)
    outcome = net.submit(signed(tx_builder, channel, alice))
    assert outcome.status == "PENDING"
    net.close_ledger()
    assert net.transaction(outcome.hash)["successful"]
    assert net.state.account(alice.public_key).seq_num == trader_seq
    assert net.state.balance(channel.public_key, "native") == channel_balance - 300
    assert len(net.state.offers_of(alice.public_key)) == 3
    assert net.history.transactions_page(account=alice.public_key, order="desc", limit=1)[0]["hash"] == outcome.hash


def test_channel_account_missing_signature_is_rejected(net, market):
    alice, usd = market["alice"], market["usd"]
    channel = net.create_funded_account(100)
    missing_trader = net.submit(signed(sell_xlm(builder(net, channel), usd, source=alice.public_key), channel))
    assert missing_trader.status == "ERROR"
    failed = sx.TransactionResult.from_xdr(missing_trader.error_result_xdr)
    assert failed.result.code == TX.txFAILED and failed.result.results[0].code == sx.OperationResultCode.opBAD_AUTH
    missing_channel = net.submit(signed(sell_xlm(builder(net, channel), usd, source=alice.public_key), alice))
    assert sx.TransactionResult.from_xdr(missing_channel.error_result_xdr).result.code == TX.txBAD_AUTH
    assert len(net.queue) == 0


def test_invalid_submissions_are_errors_and_not_queued(net, market):
    alice, usd = market["alice"], market["usd"]
    bad_seq = net.submit(signed(sell_xlm(builder(net, alice, seq_offset=1), usd), alice))
    assert bad_seq.status == "ERROR"
    assert sx.TransactionResult.from_xdr(bad_seq.error_result_xdr).result.code == TX.txBAD_SEQ
    assert net.transaction_status(bad_seq.hash) == "NOT_FOUND"
    with pytest.raises(ValueError):
        net.submit("definitely not xdr")


def test_try_again_later_and_duplicate(net, market):
    alice, usd = market["alice"], market["usd"]
    first = signed(sell_xlm(builder(net, alice), usd), alice)
    assert net.submit(first).status == "PENDING"
    assert net.submit(first).status == "DUPLICATE"
    second = signed(sell_xlm(builder(net, alice, seq_offset=1), usd, price="3"), alice)
    assert net.submit(second).status == "TRY_AGAIN_LATER"
    net.close_ledger()
    again = net.submit(first)  # already applied: its sequence number is consumed, as stellar-core answers
    assert again.status == "ERROR"
    assert sx.TransactionResult.from_xdr(again.error_result_xdr).result.code == TX.txBAD_SEQ
    net.close_ledger()
    assert len(net.state.offers_of(alice.public_key)) == 1
    assert net.submit(second).status == "PENDING"  # its turn now
    net.close_ledger()
    assert len(net.state.offers_of(alice.public_key)) == 2


def test_expired_pending_transaction_never_applies(net, market, clock):
    alice, usd = market["alice"], market["usd"]
    envelope = signed(sell_xlm(builder(net, alice, max_time=int(clock.now) + 5), usd), alice)
    outcome = net.submit(envelope)
    assert outcome.status == "PENDING"
    clock.now += 10
    ledger = net.close_ledger()
    assert ledger["tx_set_operation_count"] == 0
    assert net.transaction_status(outcome.hash) == "NOT_FOUND"
    assert net.state.offers_of(alice.public_key) == []
    again = net.submit(envelope)
    assert again.status == "ERROR"
    assert sx.TransactionResult.from_xdr(again.error_result_xdr).result.code == TX.txTOO_LATE


def test_capacity_takes_highest_fee_per_operation_first(clock):
    net = Network(clock=clock, max_ops_per_ledger=2)
    issuer = net.create_funded_account(100)
    usd = Asset("USD", issuer.public_key)
    accounts = [net.create_funded_account(100) for _ in range(3)]
    hashes = []
    for kp, fee in zip(accounts, (100, 300, 200), strict=True):
        outcome = net.submit(signed(sell_xlm(builder(net, kp, fee=fee), usd, amount="1"), kp))
        assert outcome.status == "PENDING"
        hashes.append(outcome.hash)
    first = net.close_ledger()
    assert first["tx_set_operation_count"] == 2
    assert net.transaction_status(hashes[0]) == "PENDING"
    assert net.transaction(hashes[1])["ledger"] == first["sequence"]
    assert net.transaction(hashes[2])["ledger"] == first["sequence"]
    assert net.transaction(hashes[1])["fee_charged"] == "200"  # surge: the lowest included fee rate
    second = net.close_ledger()
    assert net.transaction(hashes[0])["ledger"] == second["sequence"]
    assert net.transaction(hashes[0])["fee_charged"] == "100"


def test_failed_operation_rolls_back_the_whole_transaction(net, market):
    alice, usd = market["alice"], market["usd"]
    stranger = Keypair.random()
    seq_before = net.state.account(alice.public_key).seq_num
    balance_before = net.state.balance(alice.public_key, "native")
    tx_builder = sell_xlm(builder(net, alice), usd)
    tx_builder.append_payment_op(destination=stranger.public_key, asset=Asset.native(), amount="1")  # no such account
    outcome = net.submit(signed(tx_builder, alice))
    assert outcome.status == "PENDING"
    ledger = net.close_ledger()
    assert ledger["failed_transaction_count"] == 1 and ledger["operation_count"] == 0
    record = net.transaction(outcome.hash)
    assert record["successful"] is False and net.transaction_status(outcome.hash) == "FAILED"
    result = result_of(record)
    assert result.result.code == TX.txFAILED
    assert result.result.results[0].tr.manage_sell_offer_result.code.value == 0  # applied, then rolled back
    assert result.result.results[1].tr.payment_result.code == sx.PaymentResultCode.PAYMENT_NO_DESTINATION
    assert net.state.offers_of(alice.public_key) == []
    assert net.state.account(alice.public_key).seq_num == seq_before + 1
    assert net.state.balance(alice.public_key, "native") == balance_before - 200
    ops = net.history.operations_page(tx_hash=outcome.hash)
    assert [o["transaction_successful"] for o in ops] == [False, False]
    assert net.history.operations_page(account=alice.public_key, order="desc", limit=1)[0]["transaction_hash"] != \
        outcome.hash  # failed ones are hidden unless include_failed
    assert net.history.effects_page(tx_hash=outcome.hash) == []
    net.state.check_invariants()


def test_trades_effects_and_listeners(net, market):
    alice, bob, usd, usd_key = market["alice"], market["bob"], market["usd"], market["usd_key"]
    events = []
    net.add_listener(lambda kind, record: events.append((kind, record)))
    net.submit(signed(sell_xlm(builder(net, alice), usd, amount="10", price="2"), alice))
    net.close_ledger()
    # bob sells 20 USD for XLM at 0.5 XLM/USD: crosses alice's whole offer
    bob_builder = builder(net, bob).append_manage_sell_offer_op(selling=usd, buying=Asset.native(), amount="20",
                                                                 price="0.5")
    outcome = net.submit(signed(bob_builder, bob))
    net.close_ledger()
    assert net.transaction(outcome.hash)["successful"]
    [trade] = net.history.trades_page(account=alice.public_key)
    bob_tx = net.history.transactions_page(account=alice.public_key, order="desc", limit=1)[0]
    assert bob_tx["hash"] == outcome.hash  # the maker takes part in the taker's transaction
    assert trade["paging_token"].startswith(net.history.operations_page(tx_hash=outcome.hash)[0]["id"] + "-")
    reversed_view = net.history.trades_page(base_asset=usd_key, counter_asset="native")[0]
    straight_view = net.history.trades_page(base_asset="native", counter_asset=usd_key)[0]
    assert straight_view["base_asset_type"] == "native" and straight_view["base_amount"] == "10.0000000"
    assert reversed_view["base_amount"] == "20.0000000" and reversed_view["counter_amount"] == "10.0000000"
    assert reversed_view["price"] == {"n": straight_view["price"]["d"], "d": straight_view["price"]["n"]}
    alice_effects = net.history.effects_page(account=alice.public_key, order="desc")
    trade_effects = [e for e in alice_effects if e["type"] == "trade"]
    assert trade_effects and trade_effects[0]["created_at"].endswith("Z")
    kinds = {kind for kind, _ in events}
    assert {"ledgers", "transactions", "operations", "effects", "trades", "order_book_changed", "offers"} <= kinds
    assert events[0][0] == "ledgers"
    offer_events = [r for k, r in events if k == "offers" and r["seller"] == alice.public_key]
    assert offer_events[-1]["amount"] == "0.0000000"  # alice's offer was consumed
    net.state.check_invariants()


def test_a_claim_that_traded_nothing_is_no_trade_but_keeps_its_index_in_trade_ids(net, market):
    """stellar-core lists an offer it removes without trading (its seller can no longer take what it buys) as a
    claim atom of zero amounts; Horizon records no trade for it but numbers trades by claim index
    (trades_processor: Order = the atom's index), so the next trade of the operation is "<op id>-1"."""
    alice, bob, usd, usd_key = market["alice"], market["bob"], market["usd"], market["usd_key"]
    carol = net.create_funded_account(1000)
    net.issue_asset(market["issuer"], "USD", {carol: "1"})
    net.submit(signed(sell_xlm(builder(net, alice), usd, amount="10", price="2"), alice))
    net.submit(signed(sell_xlm(builder(net, carol), usd, amount="10", price="2"), carol))
    net.close_ledger()
    line = net.state.mut_trustline(alice.public_key, usd_key)
    line.limit = line.balance   # alice can receive no more USD: her offer is removed when crossed, untraded
    outcome = net.submit(signed(builder(net, bob).append_manage_sell_offer_op(
        selling=usd, buying=Asset.native(), amount="20", price="0.5"), bob))
    net.close_ledger()
    claims = result_of(net.transaction(outcome.hash)).result.results[0].tr.manage_sell_offer_result.success
    assert [(c.order_book.amount_sold.int64, c.order_book.amount_bought.int64) for c in claims.offers_claimed] == \
        [(0, 0), (100_000_000, 200_000_000)]
    [op] = net.history.operations_page(tx_hash=outcome.hash)
    [trade] = net.history.trades_page(account=bob.public_key)
    assert trade["id"] == trade["paging_token"] == f"{op['id']}-1"
    assert trade["base_account"] == carol.public_key or trade["counter_account"] == carol.public_key


def test_fee_bump_applies_and_is_found_by_both_hashes(net, market):
    alice, usd = market["alice"], market["usd"]
    sponsor = net.create_funded_account(100)
    inner = sell_xlm(builder(net, alice), usd).build()
    inner.sign(alice)
    outer = TransactionBuilder.build_fee_bump_transaction(sponsor.public_key, 200, inner, STANDALONE_PASSPHRASE)
    outer.sign(sponsor)
    sponsor_before = net.state.balance(sponsor.public_key, "native")
    alice_before = net.state.balance(alice.public_key, "native")
    outcome = net.submit(outer.to_xdr())
    assert outcome.status == "PENDING" and outcome.hash == outer.hash_hex()
    net.close_ledger()
    record = net.transaction(inner.hash_hex())
    assert record is net.transaction(outer.hash_hex())
    assert result_of(record).result.code == TX.txFEE_BUMP_INNER_SUCCESS
    assert record["fee_account"] == sponsor.public_key and record["inner_transaction"]["hash"] == inner.hash_hex()
    assert net.state.balance(sponsor.public_key, "native") == sponsor_before - 200  # base fee x (1 op + 1)
    assert net.state.balance(alice.public_key, "native") == alice_before
    assert len(net.state.offers_of(alice.public_key)) == 1


def test_fee_stats_shape(net, market):
    stats = net.fee_stats()
    assert stats["last_ledger"] == str(net.latest_ledger["sequence"])
    assert set(stats["fee_charged"]) == {"max", "min", "mode", "p10", "p20", "p30", "p40", "p50", "p60", "p70",
                                         "p80", "p90", "p95", "p99"}
    assert stats["fee_charged"]["p50"] == "100" and stats["last_ledger_base_fee"] == "100"


def test_history_cap_bounds_every_store(clock):
    net = Network(clock=clock, history_cap=3)
    for _ in range(5):
        net.create_funded_account(10)
    assert len(net.history.ledgers) == 3 and len(net.history.transactions) == 3
    assert net.history.ledgers_page()[0]["sequence"] == net.latest_ledger["sequence"] - 2


def test_queued_transaction_that_became_invalid_is_dropped(net, market):
    alice, usd = market["alice"], market["usd"]
    poor = net.create_funded_account(100)  # 1,000,000,000 stroops, reserve 10,000,000
    spender = net.create_funded_account(100)
    offer = net.submit(signed(sell_xlm(builder(net, poor, fee=100), usd, amount="1"), poor))
    drain = builder(net, spender, fee=1000).append_payment_op(
        destination=alice.public_key, asset=Asset.native(), amount="98.999995", source=poor.public_key)
    drained = net.submit(signed(drain, spender, poor))
    assert (offer.status, drained.status) == ("PENDING", "PENDING")
    ledger = net.close_ledger()  # the drain goes first (higher fee); then poor cannot pay its fee
    assert net.transaction(drained.hash)["successful"]
    assert net.transaction_status(offer.hash) == "NOT_FOUND"
    assert ledger["successful_transaction_count"] == 1 and ledger["failed_transaction_count"] == 0
    assert net.state.balance(poor.public_key, "native") == 10_000_050


def test_result_meta_is_a_valid_transaction_meta(net, market):
    record = net.history.transactions_page(order="desc", limit=1)[0]
    meta = sx.TransactionMeta.from_xdr(record["result_meta_xdr"])
    assert len(meta.v1.operations) == record["operation_count"]


def test_queue_rules_for_a_source_with_a_pending_transaction(net, market):
    alice, usd = market["alice"], market["usd"]
    sponsor = net.create_funded_account(100)
    inner = sell_xlm(builder(net, alice), usd).build()
    inner.sign(alice)
    assert net.submit(inner.to_xdr()).status == "PENDING"
    older = sell_xlm(builder(net, alice, seq_offset=-1), usd)
    older_outcome = net.submit(signed(older, alice))
    assert sx.TransactionResult.from_xdr(older_outcome.error_result_xdr).result.code == TX.txBAD_SEQ

    def bump(base_fee: int) -> str:
        outer = TransactionBuilder.build_fee_bump_transaction(sponsor.public_key, base_fee, inner,
                                                              STANDALONE_PASSPHRASE)
        outer.sign(sponsor)
        return outer.to_xdr()

    too_cheap = net.submit(bump(500))  # needs 10 x the pending 100 per op, over 2 ops: 2000
    result = sx.TransactionResult.from_xdr(too_cheap.error_result_xdr)
    assert result.result.code == TX.txINSUFFICIENT_FEE and result.fee_charged.int64 == 2000
    replacement = net.submit(bump(1000))
    assert replacement.status == "PENDING"
    assert net.transaction_status(inner.hash_hex()) == "PENDING"  # inside the pending fee-bump
    net.close_ledger()
    assert net.transaction(replacement.hash)["inner_transaction"]["hash"] == inner.hash_hex()
    assert len(net.state.offers_of(alice.public_key)) == 1


def test_v0_envelope_applies_and_is_recorded(net, market):
    alice, usd = market["alice"], market["usd"]
    envelope = sell_xlm(builder(net, alice), usd).add_text_memo("v0").build()
    tx = envelope.transaction.to_xdr_object()
    v0_tx = sx.TransactionV0(sx.Uint256(alice.raw_public_key()), tx.fee, tx.seq_num, tx.cond.time_bounds, tx.memo,
                             tx.operations, sx.TransactionV0Ext(0))
    signature = alice.sign_decorated(envelope.hash()).to_xdr_object()
    v0 = sx.TransactionEnvelope(sx.EnvelopeType.ENVELOPE_TYPE_TX_V0, v0=sx.TransactionV0Envelope(v0_tx, [signature]))
    outcome = net.submit(v0.to_xdr())
    assert outcome.status == "PENDING" and outcome.hash == envelope.hash_hex()
    net.close_ledger()
    record = net.transaction(outcome.hash)
    assert record["successful"] and record["memo_type"] == "text" and record["memo"] == "v0"
    assert record["source_account"] == alice.public_key


# ----- surge: background traffic bidding a fee per operation -----


def pay(net: Network, source: Keypair, destination: str, fee: int, ops: int = 1) -> str:
    tx = builder(net, source, fee=fee)
    for _ in range(ops):
        tx.append_payment_op(destination=destination, asset=Asset.native(), amount="1")
    return signed(tx, source)


def test_surge_refuses_low_bids_with_the_fee_needed_and_bans_them(net):
    alice, bob = net.create_funded_account(100), net.create_funded_account(100)
    net.set_surge(5000)
    assert net.surge_fee == 5000 and net.inclusion_fee(2) == 10_001
    low = net.submit(pay(net, alice, bob.public_key, fee=5000, ops=2))  # 5000/op: not above the background
    assert low.status == "ERROR"
    result = sx.TransactionResult.from_xdr(low.error_result_xdr)
    assert result.result.code == TX.txINSUFFICIENT_FEE and result.fee_charged.int64 == 10_001  # 5000 x 2 + 1
    assert net.submit(pay(net, alice, bob.public_key, fee=5000, ops=2)).status == "TRY_AGAIN_LATER"  # banned
    high = net.submit(pay(net, alice, bob.public_key, fee=8000))
    assert high.status == "PENDING"
    ledger = net.close_ledger()
    record = net.transaction(high.hash)
    assert record["fee_charged"] == "5000" and record["max_fee"] == "8000"  # the ledger's lowest fee: the background's
    assert ledger["base_fee_in_stroops"] == 100  # the header's base fee does not move
    assert net.background[ledger["sequence"]] == (999, 5000, 5000)


def test_surge_shows_in_fee_stats(net):
    alice, bob = net.create_funded_account(100), net.create_funded_account(100)
    assert net.fee_stats()["fee_charged"]["p50"] == "100"
    for _ in range(4):
        net.close_ledger()  # four empty ledgers: the window of five then holds only the surge's
    net.set_surge(2500)
    net.submit(pay(net, alice, bob.public_key, fee=9000))
    net.close_ledger()
    stats = net.fee_stats()
    assert stats["last_ledger_base_fee"] == "100"
    assert stats["fee_charged"]["p10"] == stats["fee_charged"]["p99"] == "2500"
    assert stats["max_fee"]["p50"] == "2500" and stats["max_fee"]["max"] == "9000"
    assert stats["ledger_capacity_usage"] == "0.20"  # one full ledger of the last five
    net.set_surge(None)
    assert net.submit(pay(net, alice, bob.public_key, fee=100)).status == "PENDING"


def test_pending_low_bids_are_left_out_under_surge_and_dropped(net):
    alice, bob = net.create_funded_account(100), net.create_funded_account(100)
    stuck = net.submit(pay(net, alice, bob.public_key, fee=100))
    net.set_surge(1000)
    for _ in range(3):
        net.close_ledger()
        assert net.transaction_status(stuck.hash) == "PENDING"
    net.close_ledger()  # the fourth ledger without it: dropped, as stellar-core ages its queue
    assert net.transaction_status(stuck.hash) == "NOT_FOUND" and net.queue.aged_out_count == 1
    net.set_surge(None)
    assert net.submit(pay(net, alice, bob.public_key, fee=100)).status == "TRY_AGAIN_LATER"  # same hash: banned


def test_surge_fee_is_checked(net):
    with pytest.raises(ValueError):
        net.set_surge(99)
    with pytest.raises(ValueError):
        net.set_surge(1.5)
