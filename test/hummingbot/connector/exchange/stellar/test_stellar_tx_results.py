import base64
import random
from decimal import Decimal

import pytest
from stellar_sdk import Asset, Keypair
from stellar_sdk import xdr as x

from hummingbot.connector.exchange.stellar.stellar_constants import RESULT_CODE_MESSAGES, result_code_message
from hummingbot.connector.exchange.stellar.stellar_tx_results import (
    OFFER_CREATED,
    OFFER_DELETED,
    OFFER_UPDATED,
    TX_CODES,
    _fast_decode,
    decode_transaction_result,
    failed_outcome,
    first_operation_id,
    parse_result_codes,
    transaction_result_from_xdr_object,
)
from test.hummingbot.connector.exchange.stellar import result_xdr_factory as f

ISSUER = Keypair.from_raw_ed25519_seed(bytes(range(32))).public_key
ME = Keypair.from_raw_ed25519_seed(bytes(range(1, 33))).public_key
MAKER_A = Keypair.from_raw_ed25519_seed(bytes(range(2, 34))).public_key
MAKER_B = Keypair.from_raw_ed25519_seed(bytes(range(3, 35))).public_key
BASE = Asset("USDC", ISSUER)
QUOTE = Asset.native()
PAIR = (BASE, QUOTE)


def test_sell_that_crosses_two_offers_and_rests():
    # We sell 5 USDC at 2.4 XLM/USDC; two bids (offers selling XLM for USDC) are taken first.
    claims = [
        f.claim(MAKER_A, 11, QUOTE, 25_000_000, BASE, 10_000_000),   # maker gave 2.5 XLM for 1 USDC
        f.claim(MAKER_B, 12, QUOTE, 48_000_000, BASE, 20_000_000),   # maker gave 4.8 XLM for 2 USDC
    ]
    resting = f.offer_entry(ME, 99, BASE, QUOTE, 20_000_000, (12, 5))
    result = decode_transaction_result(f.tx_result(f.TX.txSUCCESS, [f.sell_offer_ok(claims, resting)], fee_charged=100),
                                       [PAIR], tx_hash="ab" * 32, ledger=7)
    assert result.successful and result.tx_code == "tx_success" and result.fee_charged == 100
    (op,) = result.operations
    assert op.success and op.error_code is None
    assert (op.offer_id, op.offer_state) == (99, OFFER_CREATED)
    assert op.resting_selling_stroops == 20_000_000 and op.resting_price == (12, 5)
    assert (op.tx_hash, op.ledger, op.fee_charged_share_stroops) == ("ab" * 32, 7, 100)
    assert op.fee_charged_share == Decimal("0.00001")
    first, second = op.fills
    assert (first.counterparty, first.counter_offer_id, first.is_taker) == (MAKER_A, 11, True)
    assert (first.base_amount, first.quote_amount, first.price) == (Decimal(1), Decimal("2.5"), Decimal("2.5"))
    assert (second.base_amount, second.quote_amount, second.price) == (Decimal(2), Decimal("4.8"), Decimal("2.4"))


def test_buy_fully_filled_on_placement_leaves_no_offer():
    # We buy 3 USDC with ManageBuyOffer; asks (offers selling USDC) give us USDC for XLM.
    claims = [f.claim(MAKER_A, 21, BASE, 30_000_000, QUOTE, 75_000_000)]
    result = decode_transaction_result(f.tx_result(f.TX.txSUCCESS, [f.buy_offer_ok(claims)]), [PAIR])
    (op,) = result.operations
    assert op.success and op.offer_state == OFFER_DELETED and op.offer_id is None
    (fill,) = op.fills
    assert (fill.base_stroops, fill.quote_stroops) == (30_000_000, 75_000_000)
    assert fill.price == Decimal("2.5")


def test_passive_offer_and_update_results():
    created = f.offer_entry(ME, 5, QUOTE, BASE, 10_000_000, (4, 1), passive=True)
    updated = f.offer_entry(ME, 6, BASE, QUOTE, 10_000_000, (1, 4))
    result = decode_transaction_result(f.tx_result(f.TX.txSUCCESS, [
        f.sell_offer_ok(offer=created, passive=True),
        f.sell_offer_ok(offer=updated, effect=x.ManageOfferEffect.MANAGE_OFFER_UPDATED),
    ], fee_charged=300), [PAIR, PAIR])
    passive, update = result.operations
    assert (passive.offer_id, passive.offer_state) == (5, OFFER_CREATED)
    assert (update.offer_id, update.offer_state) == (6, OFFER_UPDATED)
    assert passive.fee_charged_share_stroops == update.fee_charged_share_stroops == 150


def test_cancel_result_is_a_deleted_offer_without_fills():
    result = decode_transaction_result(f.tx_result(f.TX.txSUCCESS, [f.sell_offer_ok()]), [PAIR])
    (op,) = result.operations
    assert op.success and op.offer_state == OFFER_DELETED and op.fills == ()


@pytest.mark.parametrize("code,expected", [
    (x.ManageSellOfferResultCode.MANAGE_SELL_OFFER_UNDERFUNDED, "op_underfunded"),
    (x.ManageSellOfferResultCode.MANAGE_SELL_OFFER_CROSS_SELF, "op_cross_self"),
    (x.ManageSellOfferResultCode.MANAGE_SELL_OFFER_NOT_FOUND, "op_offer_not_found"),
    (x.ManageSellOfferResultCode.MANAGE_SELL_OFFER_SELL_NOT_AUTHORIZED, "sell_not_authorized"),
    (x.ManageSellOfferResultCode.MANAGE_SELL_OFFER_BUY_NO_ISSUER, "buy_no_issuer"),
    (x.ManageSellOfferResultCode.MANAGE_SELL_OFFER_LOW_RESERVE, "op_low_reserve"),
    (x.ManageSellOfferResultCode.MANAGE_SELL_OFFER_LINE_FULL, "op_line_full"),
])
def test_sell_offer_failures_are_spelled_as_horizon_does(code, expected):
    result = decode_transaction_result(f.tx_result(f.TX.txFAILED, [f.sell_offer_failed(code)]), [PAIR])
    (op,) = result.operations
    assert not op.success and op.error_code == expected and op.tx_code == "tx_failed"
    assert op.error_message and "Unknown" not in op.error_message


def test_buy_offer_failure():
    result = decode_transaction_result(f.tx_result(
        f.TX.txFAILED, [f.buy_offer_failed(x.ManageBuyOfferResultCode.MANAGE_BUY_OFFER_NOT_FOUND)]), [PAIR])
    assert result.operations[0].error_code == "op_offer_not_found"


def test_failed_transaction_marks_the_others_as_rolled_back_not_failed():
    result = decode_transaction_result(f.tx_result(f.TX.txFAILED, [
        f.sell_offer_ok(offer=f.offer_entry(ME, 1, BASE, QUOTE, 1, (1, 1))),
        f.sell_offer_failed(x.ManageSellOfferResultCode.MANAGE_SELL_OFFER_UNDERFUNDED),
    ], fee_charged=200), [PAIR, PAIR])
    assert not result.successful
    rolled_back, failed = result.operations
    assert not rolled_back.success and rolled_back.error_code is None and rolled_back.offer_id is None
    assert failed.error_code == "op_underfunded"
    assert rolled_back.fee_charged_share_stroops == 100


@pytest.mark.parametrize("code,expected", [
    (f.TX.txBAD_SEQ, "tx_bad_seq"), (f.TX.txTOO_LATE, "tx_too_late"), (f.TX.txBAD_AUTH, "tx_bad_auth"),
    (f.TX.txINSUFFICIENT_FEE, "tx_insufficient_fee"), (f.TX.txNO_ACCOUNT, "tx_no_source_account"),
])
def test_transaction_level_failures(code, expected):
    result = decode_transaction_result(f.tx_result(code, fee_charged=0))
    assert result.tx_code == expected and result.operations == [] and not result.successful


def test_outer_operation_codes():
    op_result = x.OperationResult(code=x.OperationResultCode.opBAD_AUTH)
    result = decode_transaction_result(f.tx_result(f.TX.txFAILED, [op_result]))
    assert result.operations[0].error_code == "op_bad_auth"


def test_operation_ids_follow_the_transactions_paging_token():
    token = str((7 << 32) | (1 << 12))
    ops = [f.sell_offer_ok(), f.sell_offer_ok(), f.sell_offer_ok()]
    result = decode_transaction_result(f.tx_result(f.TX.txSUCCESS, ops), tx_paging_token=token)
    assert [op.operation_id for op in result.operations] == [int(token) + 1, int(token) + 2, int(token) + 3]
    assert decode_transaction_result(f.tx_result(f.TX.txSUCCESS, ops)).operations[0].operation_id is None
    assert first_operation_id(token) == int(token) + 1
    assert first_operation_id(None) is None and first_operation_id("now") is None


def test_blame_resolves_the_failing_operations_and_spares_the_rolled_back_ones():
    result = decode_transaction_result(f.tx_result(f.TX.txFAILED, [
        f.sell_offer_ok(offer=f.offer_entry(ME, 1, BASE, QUOTE, 1, (1, 1))),
        f.sell_offer_failed(x.ManageSellOfferResultCode.MANAGE_SELL_OFFER_UNDERFUNDED),
    ], fee_charged=200), [PAIR, PAIR], tx_hash="ab" * 32, ledger=9)
    rolled_back, failed = result.blame(2)
    assert rolled_back is None and failed is result.operations[1] and failed.error_code == "op_underfunded"
    assert not result.no_operation_ran


def test_blame_without_a_failing_operation_fails_every_operation_with_the_transactions_code():
    result = decode_transaction_result(f.tx_result(f.TX.txINSUFFICIENT_BALANCE, fee_charged=0))
    first, second = result.blame(2)
    assert first is not second
    for outcome in (first, second):
        assert not outcome.success and outcome.error_code == outcome.tx_code == "tx_insufficient_balance"
        assert outcome.error_message == result_code_message("tx_insufficient_balance")
    mismatched = decode_transaction_result(f.tx_result(f.TX.txFAILED, [f.sell_offer_failed(
        x.ManageSellOfferResultCode.MANAGE_SELL_OFFER_UNDERFUNDED)]), tx_hash="cd" * 32, ledger=3)
    (only,) = mismatched.blame(1)
    assert only.error_code == "op_underfunded"
    assert [o.error_code for o in mismatched.blame(2)] == ["tx_failed", "tx_failed"]   # results do not match
    assert all((o.tx_hash, o.ledger, o.fee_charged_share_stroops) == ("cd" * 32, 3, 100)
               for o in mismatched.blame(2))


@pytest.mark.parametrize("code, ran", [(f.TX.txTOO_LATE, False), (f.TX.txBAD_SEQ, False),
                                       (f.TX.txFAILED, True), (f.TX.txINSUFFICIENT_FEE, True)])
def test_no_operation_ran_only_for_too_late_or_bad_seq(code, ran):
    assert decode_transaction_result(f.tx_result(code, fee_charged=0)).no_operation_ran is not ran


def test_failed_outcome_carries_the_code_and_its_message_unless_given():
    outcome = failed_outcome("tx_too_late", tx_hash="ef", ledger=4, fee_share=50)
    assert (outcome.success, outcome.error_code, outcome.tx_code) == (False, "tx_too_late", "tx_too_late")
    assert outcome.error_message == result_code_message("tx_too_late")
    assert (outcome.tx_hash, outcome.ledger, outcome.fee_charged_share_stroops) == ("ef", 4, 50)
    assert failed_outcome("submit_failed", "no answer").error_message == "no answer"


def test_fee_bump_inner_result_is_unwrapped():
    inner = x.InnerTransactionResult(
        fee_charged=x.Int64(100),
        result=x.InnerTransactionResultResult(code=f.TX.txSUCCESS, results=[f.sell_offer_ok()]),
        ext=x.InnerTransactionResultExt(0))
    pair = x.InnerTransactionResultPair(transaction_hash=x.Hash(bytes(32)), result=inner)
    outer = x.TransactionResult(
        fee_charged=x.Int64(200),
        result=x.TransactionResultResult(code=f.TX.txFEE_BUMP_INNER_SUCCESS, inner_result_pair=pair),
        ext=x.TransactionResultExt(0)).to_xdr()
    result = decode_transaction_result(outer)
    assert result.successful and result.fee_charged == 200 and result.operations[0].success


def test_fills_without_order_context_use_the_claim_orientation():
    claims = [f.claim(MAKER_A, 11, QUOTE, 25_000_000, BASE, 10_000_000)]
    (op,) = decode_transaction_result(f.tx_result(f.TX.txSUCCESS, [f.sell_offer_ok(claims)])).operations
    assert (op.fills[0].base_stroops, op.fills[0].quote_stroops) == (25_000_000, 10_000_000)


def test_undecodable_result_raises_value_error():
    with pytest.raises(ValueError, match="Cannot decode"):
        decode_transaction_result("not-xdr")


def test_parse_result_codes_from_a_horizon_400_body():
    body = {"type": "https://stellar.org/horizon-errors/transaction_failed", "status": 400,
            "extras": {"result_codes": {"transaction": "tx_failed", "operations": ["op_success", "op_underfunded"]}}}
    codes = parse_result_codes(body)
    assert codes.transaction == "tx_failed" and codes.operations == ("op_success", "op_underfunded")
    assert parse_result_codes({"status": 404}) is None
    assert parse_result_codes("text") is None


# Messages: one table (stellar_constants), one function


def _known(message: str) -> bool:
    return bool(message) and not message.startswith("Unknown")


def test_every_transaction_code_has_a_message():
    for code in TX_CODES.values():
        assert _known(result_code_message(code)), code


def test_min_seq_age_or_gap_is_found_under_horizons_spelling():
    assert result_code_message("tx_bad_minseq_age_or_gap") == RESULT_CODE_MESSAGES["tx_bad_minseq_age_or_gap"]
    assert "min sequence age" in result_code_message("tx_bad_minseq_age_or_gap")


@pytest.mark.parametrize("unprefixed", ["sell_not_authorized", "buy_not_authorized", "buy_no_issuer"])
def test_horizons_unprefixed_offer_codes_read_as_their_op_twins(unprefixed):
    assert result_code_message(unprefixed) == RESULT_CODE_MESSAGES["op_" + unprefixed]


def test_unknown_codes_are_named():
    assert result_code_message("op_made_up") == "Unknown Stellar result code 'op_made_up'."
    assert "made_up" in result_code_message("made_up") and not _known(result_code_message("made_up"))


@pytest.mark.parametrize("enum, failed", [(x.ManageSellOfferResultCode, f.sell_offer_failed),
                                          (x.ManageBuyOfferResultCode, f.buy_offer_failed)])
def test_every_failed_offer_code_decodes_with_a_message(enum, failed):
    for code in enum:
        if code.value == 0:   # success
            continue
        (op,) = decode_transaction_result(f.tx_result(f.TX.txFAILED, [failed(code)]), [PAIR]).operations
        assert op.error_code and op.error_message == result_code_message(op.error_code)
        assert _known(op.error_message), op.error_code


def test_every_outer_operation_code_decodes_with_a_message():
    for code in x.OperationResultCode:
        if code == x.OperationResultCode.opINNER:
            continue
        (op,) = decode_transaction_result(f.tx_result(f.TX.txFAILED, [x.OperationResult(code=code)])).operations
        assert _known(op.error_message), op.error_code


def test_amounts_are_exact_units_of_stroops():
    fill = decode_transaction_result(f.tx_result(f.TX.txSUCCESS, [f.sell_offer_ok(
        [f.claim(MAKER_A, 11, QUOTE, 1, BASE, 123_456_789)])]), [PAIR]).operations[0].fills[0]
    assert (fill.base_amount, fill.quote_amount) == (Decimal("12.3456789"), Decimal("0.0000001"))


# The bytes reader of offer results (`_fast_decode`) against stellar-sdk's XDR classes

def _sdk_decode(result_xdr, order_assets=(), **kwargs):
    return transaction_result_from_xdr_object(x.TransactionResult.from_xdr(result_xdr), order_assets, **kwargs)


def _random_asset(rng):
    kind = rng.randrange(3)
    if kind == 0:
        return Asset.native()
    issuer = rng.choice([ISSUER, MAKER_A, MAKER_B])
    return Asset(rng.choice(["USDC", "EUR", "A"]) if kind == 1 else rng.choice(["LONGCODE1234", "ABCDE"]), issuer)


def _random_claim(rng, base, quote):
    sold, bought = (base, quote) if rng.random() < 0.5 else (quote, base)
    if rng.random() < 0.3:
        sold = _random_asset(rng)
    kind = rng.randrange(3)
    amounts = dict(asset_sold=sold.to_xdr_object(), amount_sold=x.Int64(rng.randrange(1, 10**15)),
                   asset_bought=bought.to_xdr_object(), amount_bought=x.Int64(rng.randrange(1, 10**15)))
    if kind == 0:
        return f.claim(rng.choice([MAKER_A, MAKER_B]), rng.randrange(1, 10**12), sold, amounts["amount_sold"].int64,
                       bought, amounts["amount_bought"].int64)
    if kind == 1:
        seller = Keypair.from_public_key(rng.choice([MAKER_A, MAKER_B])).raw_public_key()
        return x.ClaimAtom(type=x.ClaimAtomType.CLAIM_ATOM_TYPE_V0, v0=x.ClaimOfferAtomV0(
            seller_ed25519=x.Uint256(seller), offer_id=x.Int64(rng.randrange(1, 10**12)), **amounts))
    return x.ClaimAtom(type=x.ClaimAtomType.CLAIM_ATOM_TYPE_LIQUIDITY_POOL, liquidity_pool=x.ClaimLiquidityAtom(
        liquidity_pool_id=x.PoolID(x.Hash(bytes(rng.randrange(256) for _ in range(32)))), **amounts))


def _random_op_result(rng, base, quote):
    roll = rng.random()
    if roll < 0.1:
        outer = [code for code in x.OperationResultCode if code != x.OperationResultCode.opINNER]
        return x.OperationResult(code=rng.choice(outer))
    if roll < 0.25:
        if rng.random() < 0.5:
            return f.sell_offer_failed(rng.choice([c for c in x.ManageSellOfferResultCode if c.value != 0]))
        return f.buy_offer_failed(rng.choice([c for c in x.ManageBuyOfferResultCode if c.value != 0]))
    claims = [_random_claim(rng, base, quote) for _ in range(rng.choice([0, 0, 1, 3]))]
    effect = rng.choice(list(x.ManageOfferEffect))
    offer = None
    if effect != x.ManageOfferEffect.MANAGE_OFFER_DELETED:
        selling, buying = (base, quote) if rng.random() < 0.5 else (quote, base)
        offer = f.offer_entry(ME, rng.randrange(1, 2**62), selling, buying, rng.randrange(0, 2**62),
                              (rng.randrange(1, 2**31), rng.randrange(1, 2**31)), passive=rng.random() < 0.3)
    kind = rng.randrange(3)
    if kind == 0:
        return f.buy_offer_ok(claims, offer, effect)
    return f.sell_offer_ok(claims, offer, effect, passive=kind == 2)


def test_the_bytes_reader_gives_what_stellar_sdk_gives_for_offer_results():
    rng = random.Random(7)
    for _ in range(400):
        base, quote = _random_asset(rng), _random_asset(rng)
        ops = [_random_op_result(rng, base, quote) for _ in range(rng.choice([1, 1, 2, 5, 20]))]
        code = f.TX.txSUCCESS if rng.random() < 0.7 else f.TX.txFAILED
        result_xdr = f.tx_result(code, ops, fee_charged=rng.randrange(0, 10**6))
        pairs = [(base, quote)] * rng.choice([0, len(ops) // 2, len(ops)])
        kwargs = dict(tx_hash="cd" * 32, ledger=rng.randrange(1, 10**6), tx_paging_token=rng.choice([None, "12345"]))
        assert _fast_decode(base64.b64decode(result_xdr), pairs) is not None
        assert decode_transaction_result(result_xdr, pairs, **kwargs) == _sdk_decode(result_xdr, pairs, **kwargs)


@pytest.mark.parametrize("code", [f.TX.txTOO_LATE, f.TX.txBAD_SEQ, f.TX.txINSUFFICIENT_FEE])
def test_results_without_operations_go_through_stellar_sdk(code):
    result_xdr = f.tx_result(code)
    assert _fast_decode(base64.b64decode(result_xdr), ()) is None
    assert decode_transaction_result(result_xdr) == _sdk_decode(result_xdr)


def test_other_operations_and_damaged_bytes_go_through_stellar_sdk():
    payment = x.OperationResult(code=x.OperationResultCode.opINNER, tr=x.OperationResultTr(
        type=x.OperationType.PAYMENT, payment_result=x.PaymentResult(code=x.PaymentResultCode.PAYMENT_SUCCESS)))
    mixed = f.tx_result(f.TX.txSUCCESS, [f.sell_offer_ok(), payment])
    assert _fast_decode(base64.b64decode(mixed), ()) is None
    assert decode_transaction_result(mixed) == _sdk_decode(mixed)
    good = base64.b64decode(f.tx_result(f.TX.txSUCCESS, [f.sell_offer_ok(
        [f.claim(MAKER_A, 11, QUOTE, 25, BASE, 10)], f.offer_entry(ME, 9, BASE, QUOTE, 5, (1, 2)))]))
    for damaged in (good[:-1], good + b"\0\0\0\0", good[:40], good[:-8] + b"\0\0\0\1" + good[-4:]):
        assert _fast_decode(damaged, ()) is None
        with pytest.raises(ValueError, match="Cannot decode"):
            decode_transaction_result(base64.b64encode(damaged).decode())
