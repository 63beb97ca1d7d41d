from dataclasses import dataclass, field

import pytest
from stellar_sdk import (
    Account,
    Asset,
    FeeBumpTransactionEnvelope,
    Keypair,
    MuxedAccount,
    Network,
    Price,
    TransactionBuilder,
    TransactionEnvelope,
)
from stellar_sdk import xdr as sx

from stellar_sandbox.core.validation import (
    MalformedEnvelope,
    ValidationContext,
    check_transaction,
    decode_envelope,
    network_id,
    recheck_for_apply,
    result_code_name,
)

PASSPHRASE = "Standalone Network ; February 2017"
NET_ID = network_id(PASSPHRASE)
CTX = ValidationContext(base_fee=100, ledger_seq=10, close_time=1_000_000)
TX = sx.TransactionResultCode


@dataclass
class Auth:
    seq_num: int = 100
    available_balance: int = 10_000_000_000
    master_weight: int = 1
    thresholds: tuple = (0, 0, 0)
    signers: list = field(default_factory=list)


@pytest.fixture
def keys():
    return {name: Keypair.random() for name in ("trader", "channel", "other", "fee")}


@pytest.fixture
def ledger(keys):
    return {kp.public_key: Auth() for kp in keys.values()}


def build(source: Keypair, signers, seq=101, fee=100, n_ops=1, op_source=None, time_bounds=(0, 0),
          passphrase=PASSPHRASE):
    builder = TransactionBuilder(Account(source.public_key, seq - 1), passphrase, base_fee=fee)
    for _ in range(n_ops):
        builder.append_manage_sell_offer_op(
            selling=Asset.native(), buying=Asset("USD", source.public_key), amount="1", price="2",
            source=op_source.public_key if op_source else None)
    builder.add_time_bounds(*time_bounds)
    envelope = builder.build()
    for kp in signers:
        envelope.sign(kp)
    return envelope


def check(envelope, ledger):
    decoded = decode_envelope(envelope.to_xdr(), NET_ID)
    return decoded, check_transaction(decoded, ledger.get, CTX)


def code_of(result: sx.TransactionResult) -> str:
    return result_code_name(result.result.code)


def test_valid_transaction_and_hash_matches_sdk(keys, ledger):
    envelope = build(keys["trader"], [keys["trader"]])
    decoded, outcome = check(envelope, ledger)
    assert outcome.ok
    assert decoded.hash == envelope.hash_hex()
    assert decoded.source_id == keys["trader"].public_key
    assert (decoded.seq_num, decoded.fee_bid, decoded.op_count) == (101, 100, 1)


def test_v0_envelope_hash_matches_sdk(keys, ledger):
    envelope = build(keys["trader"], [])
    v1 = envelope.to_xdr_object().v1
    tx = v1.tx
    v0_tx = sx.TransactionV0(sx.Uint256(tx.source_account.ed25519.uint256), tx.fee, tx.seq_num,
                             tx.cond.time_bounds, tx.memo, tx.operations, sx.TransactionV0Ext(0))
    hash_bytes = TransactionEnvelope.from_xdr(envelope.to_xdr(), PASSPHRASE).hash()
    signature = keys["trader"].sign_decorated(hash_bytes).to_xdr_object()
    v0 = sx.TransactionEnvelope(sx.EnvelopeType.ENVELOPE_TYPE_TX_V0,
                                v0=sx.TransactionV0Envelope(v0_tx, [signature]))
    decoded = decode_envelope(v0.to_xdr(), NET_ID)
    assert decoded.hash_bytes == hash_bytes
    assert check_transaction(decoded, ledger.get, CTX).ok


def test_channel_account_both_sign(keys, ledger):
    envelope = build(keys["channel"], [keys["channel"], keys["trader"]], op_source=keys["trader"], n_ops=3)
    decoded, outcome = check(envelope, ledger)
    assert outcome.ok
    assert decoded.source_id == keys["channel"].public_key
    assert decoded.op_source_ids == [keys["trader"].public_key] * 3


def test_channel_account_missing_tx_source_signature_is_bad_auth(keys, ledger):
    envelope = build(keys["channel"], [keys["trader"]], op_source=keys["trader"])
    _, outcome = check(envelope, ledger)
    assert code_of(outcome.result) == "tx_bad_auth"


def test_channel_account_missing_operation_source_signature_fails_op_with_bad_auth(keys, ledger):
    envelope = build(keys["channel"], [keys["channel"]], op_source=keys["trader"], n_ops=2)
    _, outcome = check(envelope, ledger)
    assert code_of(outcome.result) == "tx_failed"
    results = outcome.result.result.results
    assert results[0].code == sx.OperationResultCode.opBAD_AUTH
    assert len(results) == 2
    sx.TransactionResult.from_xdr(outcome.result.to_xdr())  # encodes and decodes


def test_extra_signature_is_bad_auth_extra(keys, ledger):
    envelope = build(keys["trader"], [keys["trader"], keys["other"]])
    _, outcome = check(envelope, ledger)
    assert code_of(outcome.result) == "tx_bad_auth_extra"


def test_wrong_network_passphrase_is_bad_auth(keys, ledger):
    envelope = build(keys["trader"], [keys["trader"]], passphrase=Network.TESTNET_NETWORK_PASSPHRASE)
    _, outcome = check(envelope, ledger)
    assert code_of(outcome.result) == "tx_bad_auth"


def test_thresholds_and_additional_signers(keys, ledger):
    trader = ledger[keys["trader"].public_key]
    trader.thresholds = (0, 2, 2)
    trader.signers = [(keys["other"].raw_public_key(), 1)]
    # low threshold 0 passes for the tx source, but each op needs medium = 2
    _, outcome = check(build(keys["trader"], [keys["trader"]]), ledger)
    assert code_of(outcome.result) == "tx_failed"
    _, outcome = check(build(keys["trader"], [keys["trader"], keys["other"]]), ledger)
    assert outcome.ok


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"seq": 102}, "tx_bad_seq"),
        ({"seq": 100}, "tx_bad_seq"),
        ({"fee": 99}, "tx_insufficient_fee"),
        ({"time_bounds": (1_000_001, 0)}, "tx_too_early"),
        ({"time_bounds": (0, 999_999)}, "tx_too_late"),
    ],
)
def test_tx_codes(keys, ledger, kwargs, expected):
    _, outcome = check(build(keys["trader"], [keys["trader"]], **kwargs), ledger)
    assert code_of(outcome.result) == expected


def test_insufficient_fee_counts_operations(keys, ledger):
    envelope = build(keys["trader"], [keys["trader"]], fee=100, n_ops=3)
    envelope.transaction.fee = 299
    envelope.signatures.clear()
    envelope.sign(keys["trader"])
    _, outcome = check(envelope, ledger)
    assert code_of(outcome.result) == "tx_insufficient_fee"
    assert outcome.result.fee_charged.int64 == 299


def test_no_account_and_insufficient_balance(keys, ledger):
    stranger = Keypair.random()
    _, outcome = check(build(stranger, [stranger]), ledger)
    assert code_of(outcome.result) == "tx_no_account"
    ledger[keys["trader"].public_key].available_balance = 99
    _, outcome = check(build(keys["trader"], [keys["trader"]]), ledger)
    assert code_of(outcome.result) == "tx_insufficient_balance"


def test_missing_operation(keys, ledger):
    # TransactionBuilder refuses zero operations, so the XDR is built by hand
    tx = sx.Transaction(
        sx.MuxedAccount(sx.CryptoKeyType.KEY_TYPE_ED25519, ed25519=sx.Uint256(keys["trader"].raw_public_key())),
        sx.Uint32(100), sx.SequenceNumber(sx.Int64(101)), sx.Preconditions(sx.PreconditionType.PRECOND_NONE),
        sx.Memo(sx.MemoType.MEMO_NONE), [], sx.TransactionExt(0))
    raw = sx.TransactionEnvelope(sx.EnvelopeType.ENVELOPE_TYPE_TX, v1=sx.TransactionV1Envelope(tx, [])).to_xdr()
    decoded = decode_envelope(raw, NET_ID)
    assert code_of(check_transaction(decoded, ledger.get, CTX).result) == "tx_missing_operation"


@pytest.mark.parametrize("text", ["", "not base64!!", "AAAA"])
def test_malformed_envelope_raises(text):
    with pytest.raises(MalformedEnvelope):
        decode_envelope(text, NET_ID)


def fee_bump(inner, fee_source: Keypair, fee: int, muxed: bool = False, sign=True):
    source = MuxedAccount(fee_source.public_key, 7).account_muxed if muxed else fee_source.public_key
    envelope = TransactionBuilder.build_fee_bump_transaction(source, fee, inner, PASSPHRASE)
    if sign:
        envelope.sign(fee_source)
    return envelope


@pytest.mark.parametrize("muxed", [False, True])
def test_fee_bump_valid_and_hashes(keys, ledger, muxed):
    inner = build(keys["trader"], [keys["trader"]], n_ops=2)
    outer = fee_bump(inner, keys["fee"], 150, muxed=muxed)  # base fee per op of the bump: (2+1) x 150
    decoded, outcome = check(outer, ledger)
    assert outcome.ok
    assert decoded.hash == outer.hash_hex()
    assert decoded.inner_hash == inner.hash_hex()
    assert decoded.fee_payer_id == keys["fee"].public_key
    assert (decoded.fee_bid, decoded.fee_op_count) == (450, 3)
    round_trip = FeeBumpTransactionEnvelope.from_xdr(outer.to_xdr(), PASSPHRASE)
    assert round_trip.hash_hex() == decoded.hash


def test_fee_bump_codes(keys, ledger):
    inner = build(keys["trader"], [keys["trader"]], fee=100)
    low = fee_bump(inner, keys["fee"], 100, sign=False)  # the sdk multiplies: (1 + 1) x 100
    low.transaction.fee = 199
    low.sign(keys["fee"])
    assert code_of(check(low, ledger)[1].result) == "tx_insufficient_fee"
    unsigned = check(fee_bump(inner, keys["fee"], 100, sign=False), ledger)[1].result
    assert code_of(unsigned) == "tx_bad_auth"
    bad_inner = build(keys["trader"], [keys["trader"]], seq=105)
    failed = check(fee_bump(bad_inner, keys["fee"], 100), ledger)[1]
    assert code_of(failed.result) == "tx_fee_bump_inner_failed"
    pair = failed.result.result.inner_result_pair
    assert pair.transaction_hash.hash == bad_inner.hash()
    assert pair.result.result.code == TX.txBAD_SEQ
    ledger[keys["fee"].public_key].available_balance = 199
    assert code_of(check(fee_bump(inner, keys["fee"], 100), ledger)[1].result) == "tx_insufficient_balance"


def test_fee_bump_rate_below_inner_rate_is_insufficient_fee(keys, ledger):
    inner = build(keys["trader"], [keys["trader"]], fee=300)
    low_rate = fee_bump(inner, keys["fee"], 300, sign=False)
    low_rate.transaction.fee = 500  # >= (1 + 1) x 100, but 250 per op < the inner 300
    low_rate.sign(keys["fee"])
    assert code_of(check(low_rate, ledger)[1].result) == "tx_insufficient_fee"


def test_fee_bump_may_pay_for_a_low_fee_inner_transaction(keys, ledger):
    inner = build(keys["trader"], [keys["trader"]], fee=0)
    assert check(fee_bump(inner, keys["fee"], 100), ledger)[1].ok


def test_recheck_for_apply(keys, ledger):
    decoded, _ = check(build(keys["trader"], [keys["trader"]], time_bounds=(0, 1_000_005)), ledger)
    assert recheck_for_apply(decoded, ledger.get, CTX) is None
    ledger[keys["trader"].public_key].seq_num = 101
    assert recheck_for_apply(decoded, ledger.get, CTX) == TX.txBAD_SEQ
    late = ValidationContext(base_fee=100, ledger_seq=11, close_time=1_000_006)
    assert recheck_for_apply(decoded, ledger.get, late) == TX.txTOO_LATE


@pytest.mark.parametrize(
    "op_kwargs",
    [
        {"amount": "0"},  # creating an offer of nothing
        {"price": Price(0, 1)},
        {"buying": "same"},
    ],
)
def test_malformed_offer_fails_at_submission(keys, ledger, op_kwargs):
    trader = keys["trader"]
    builder = TransactionBuilder(Account(trader.public_key, 100), PASSPHRASE, base_fee=100).add_time_bounds(0, 0)
    usd = Asset("USD", keys["other"].public_key)
    kwargs = {"selling": Asset.native(), "buying": usd, "amount": "1", "price": "1", **op_kwargs}
    if kwargs["buying"] == "same":
        kwargs["buying"] = kwargs["selling"]
    builder.append_payment_op(destination=keys["other"].public_key, asset=Asset.native(), amount="1")
    builder.append_manage_sell_offer_op(**kwargs)
    envelope = builder.build()
    envelope.sign(trader)
    _, outcome = check(envelope, ledger)
    assert code_of(outcome.result) == "tx_failed"
    first, second = outcome.result.result.results
    assert first.tr.payment_result.code == sx.PaymentResultCode.PAYMENT_SUCCESS
    assert second.tr.manage_sell_offer_result.code == sx.ManageSellOfferResultCode.MANAGE_SELL_OFFER_MALFORMED
    sx.TransactionResult.from_xdr(outcome.result.to_xdr())
