"""Transaction results → per-operation outcomes in the order's terms.

stellar-core reports a transaction's fate as a `TransactionResult` XDR (`result_xdr` on Horizon's
transaction record, `error_result_xdr` in a `/transactions_async` ERROR answer). This module
decodes it into one `OpOutcome` per operation: for offer operations the resulting offer (id and
whether it was created, updated or deleted) and the offers claimed on placement, converted into
fills in the order's own terms (base amount, quote amount, price in quote per base); failures as
Horizon spells them (`tx_bad_seq`, `op_underfunded`, `op_cross_self`, ...), with the message
`stellar_constants.result_code_message` gives.

A path payment (a MARKET order) is read by `stellar_path_payments.path_payment_outcome`: its claim
atoms (offers and pools) become fills the same way.

The results of offer operations (most of what the connector sends) are read straight from the bytes
(`_fast_decode`, about a tenth of stellar-sdk's XDR classes' time); anything else, or anything
unexpected in them, goes through stellar-sdk, so both give the same outcome or the same error.
"""
from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from stellar_sdk import Asset, StrKey
from stellar_sdk import xdr as stellar_xdr

from hummingbot.connector.exchange.stellar.stellar_constants import result_code_message
from hummingbot.connector.exchange.stellar.stellar_op_outcome import Fill, OpOutcome, OrderAssets, fill_from_claim
from hummingbot.connector.exchange.stellar.stellar_path_payments import path_payment_outcome

OFFER_CREATED = "created"
OFFER_UPDATED = "updated"
OFFER_DELETED = "deleted"

_OFFER_STATE_BY_EFFECT = {
    stellar_xdr.ManageOfferEffect.MANAGE_OFFER_CREATED: OFFER_CREATED,
    stellar_xdr.ManageOfferEffect.MANAGE_OFFER_UPDATED: OFFER_UPDATED,
    stellar_xdr.ManageOfferEffect.MANAGE_OFFER_DELETED: OFFER_DELETED,
}

# Horizon's spelling of transaction result codes (stellar/go services/horizon codes package).
TX_CODES: Dict[stellar_xdr.TransactionResultCode, str] = {
    stellar_xdr.TransactionResultCode.txFEE_BUMP_INNER_SUCCESS: "tx_fee_bump_inner_success",
    stellar_xdr.TransactionResultCode.txSUCCESS: "tx_success",
    stellar_xdr.TransactionResultCode.txFAILED: "tx_failed",
    stellar_xdr.TransactionResultCode.txTOO_EARLY: "tx_too_early",
    stellar_xdr.TransactionResultCode.txTOO_LATE: "tx_too_late",
    stellar_xdr.TransactionResultCode.txMISSING_OPERATION: "tx_missing_operation",
    stellar_xdr.TransactionResultCode.txBAD_SEQ: "tx_bad_seq",
    stellar_xdr.TransactionResultCode.txBAD_AUTH: "tx_bad_auth",
    stellar_xdr.TransactionResultCode.txINSUFFICIENT_BALANCE: "tx_insufficient_balance",
    stellar_xdr.TransactionResultCode.txNO_ACCOUNT: "tx_no_source_account",
    stellar_xdr.TransactionResultCode.txINSUFFICIENT_FEE: "tx_insufficient_fee",
    stellar_xdr.TransactionResultCode.txBAD_AUTH_EXTRA: "tx_bad_auth_extra",
    stellar_xdr.TransactionResultCode.txINTERNAL_ERROR: "tx_internal_error",
    stellar_xdr.TransactionResultCode.txNOT_SUPPORTED: "tx_not_supported",
    stellar_xdr.TransactionResultCode.txFEE_BUMP_INNER_FAILED: "tx_fee_bump_inner_failed",
    stellar_xdr.TransactionResultCode.txBAD_SPONSORSHIP: "tx_bad_sponsorship",
    stellar_xdr.TransactionResultCode.txBAD_MIN_SEQ_AGE_OR_GAP: "tx_bad_minseq_age_or_gap",
    stellar_xdr.TransactionResultCode.txMALFORMED: "tx_malformed",
    stellar_xdr.TransactionResultCode.txSOROBAN_INVALID: "tx_soroban_invalid",
}

# Outer operation codes: anything but opINNER means the operation never ran.
_OUTER_OP_CODES: Dict[stellar_xdr.OperationResultCode, str] = {
    stellar_xdr.OperationResultCode.opBAD_AUTH: "op_bad_auth",
    stellar_xdr.OperationResultCode.opNO_ACCOUNT: "op_no_source_account",
    stellar_xdr.OperationResultCode.opNOT_SUPPORTED: "op_not_supported",
    stellar_xdr.OperationResultCode.opTOO_MANY_SUBENTRIES: "op_too_many_subentries",
    stellar_xdr.OperationResultCode.opEXCEEDED_WORK_LIMIT: "op_exceeded_work_limit",
    stellar_xdr.OperationResultCode.opTOO_MANY_SPONSORING: "op_too_many_sponsoring",
}

# Offer result codes share suffixes between ManageSellOffer and ManageBuyOffer; Horizon spells
# most as "op_<suffix>" with a few historical exceptions kept here verbatim.
_OFFER_CODE_EXCEPTIONS = {
    "SELL_NOT_AUTHORIZED": "sell_not_authorized",
    "BUY_NOT_AUTHORIZED": "buy_not_authorized",
    "BUY_NO_ISSUER": "buy_no_issuer",
    "NOT_FOUND": "op_offer_not_found",
}

@dataclass(slots=True)
class TxResult:
    """A decoded transaction result."""

    tx_code: str
    fee_charged: int
    operations: List[OpOutcome]

    @property
    def successful(self) -> bool:
        return self.tx_code in ("tx_success", "tx_fee_bump_inner_success")

    @property
    def no_operation_ran(self) -> bool:
        """Of a transaction in a ledger: no operation ran (it closed too late, or its sequence number
        was taken), so its operations may still go in another transaction."""
        return self.tx_code in _NO_OPERATION_RAN and not any(o.error_code for o in self.operations)

    def blame(self, count: int) -> List[Optional[OpOutcome]]:
        """For each of the `count` operations of this failed transaction: its own failure, or None for
        an operation that did not fail but was rolled back with the others (it may go in another
        transaction). With no failing operation to blame, or results that do not match the
        operations, each operation gets the transaction's failure."""
        ops = self.operations
        if len(ops) != count or not any(o.error_code for o in ops):
            first = ops[0] if ops else None
            return [failed_outcome(self.tx_code, tx_hash=first.tx_hash if first else None,
                                   ledger=first.ledger if first else None,
                                   fee_share=first.fee_charged_share_stroops if first else 0) for _ in range(count)]
        return [outcome if outcome.error_code is not None else None for outcome in ops]


_PATH_PAYMENTS = (stellar_xdr.OperationType.PATH_PAYMENT_STRICT_SEND,
                  stellar_xdr.OperationType.PATH_PAYMENT_STRICT_RECEIVE)
_NO_OPERATION_RAN = frozenset({"tx_too_late", "tx_bad_seq"})


def failed_outcome(code: str, message: Optional[str] = None, *, tx_hash: Optional[str] = None,
                   ledger: Optional[int] = None, fee_share: int = 0) -> OpOutcome:
    """The failure of an operation that no operation result describes: `code` (a transaction's code, or
    the pipeline's own) is its error and tx code; the message is the code's unless given."""
    return OpOutcome(success=False, error_code=code, error_message=result_code_message(code) if message is None
                     else message, tx_code=code, tx_hash=tx_hash, ledger=ledger, fee_charged_share_stroops=fee_share)


def decode_transaction_result(result_xdr: str, order_assets: Sequence[OrderAssets] = (),
                              *, tx_hash: Optional[str] = None, ledger: Optional[int] = None,
                              tx_paging_token: Optional[str] = None) -> TxResult:
    """Decode a base64 `TransactionResult`.

    `order_assets[i]` is (base, quote) of the order behind operation i; fills are expressed in
    those terms. Without it, fills use the claimed offer's own orientation (sold asset as base).
    `tx_hash`, `ledger` and, from the paging token of a transaction in a ledger, Horizon's
    operation id (`operation_id`) are set on each operation's outcome.
    """
    try:
        data = base64.b64decode(result_xdr.encode())
    except Exception as e:  # malformed base64
        raise ValueError(f"Cannot decode transaction result XDR: {e}") from e
    fast = _fast_decode(data, order_assets)
    if fast is not None:
        tx_code, fee_charged, outcomes = fast
        return _finish(tx_code, fee_charged, outcomes, tx_hash, ledger, tx_paging_token)
    try:
        result = stellar_xdr.TransactionResult.from_xdr_bytes(data)
    except Exception as e:  # malformed XDR
        raise ValueError(f"Cannot decode transaction result XDR: {e}") from e
    return transaction_result_from_xdr_object(result, order_assets, tx_hash=tx_hash, ledger=ledger,
                                              tx_paging_token=tx_paging_token)


def first_operation_id(tx_paging_token: Optional[str]) -> Optional[int]:
    """Horizon's id (TOID) of a transaction's first operation: the transaction's paging token (its
    TOID) + 1; operation i's is that + i. None without a usable token."""
    if tx_paging_token is None:
        return None
    try:
        return int(tx_paging_token) + 1
    except (TypeError, ValueError):
        return None


def transaction_result_from_xdr_object(result: stellar_xdr.TransactionResult,
                                       order_assets: Sequence[OrderAssets] = (),
                                       *, tx_hash: Optional[str] = None, ledger: Optional[int] = None,
                                       tx_paging_token: Optional[str] = None) -> TxResult:
    fee_charged = result.fee_charged.int64
    code = result.result.code
    op_results = result.result.results
    if code in (stellar_xdr.TransactionResultCode.txFEE_BUMP_INNER_SUCCESS,
                stellar_xdr.TransactionResultCode.txFEE_BUMP_INNER_FAILED):
        inner = result.result.inner_result_pair.result.result
        code = inner.code
        op_results = inner.results
    tx_code = TX_CODES.get(code, f"tx_unknown_{int(code)}")
    ops = op_results or []
    outcomes = [operation_outcome(op_result, order_assets[index] if index < len(order_assets) else None)
                for index, op_result in enumerate(ops)]
    return _finish(tx_code, fee_charged, outcomes, tx_hash, ledger, tx_paging_token)


def _finish(tx_code: str, fee_charged: int, outcomes: List[OpOutcome], tx_hash: Optional[str],
            ledger: Optional[int], tx_paging_token: Optional[str]) -> TxResult:
    """The transaction's part of each operation's outcome: its code, hash, ledger, fee share, operation id."""
    tx_succeeded = tx_code == "tx_success"
    fee_share = fee_charged // len(outcomes) if outcomes else fee_charged
    first_op_id = first_operation_id(tx_paging_token)
    for index, outcome in enumerate(outcomes):
        if outcome.success and not tx_succeeded:
            # The operation itself would have worked, but the transaction rolled back as a whole.
            outcome.success = False
            outcome.offer_id = None
            outcome.offer_state = None
            outcome.fills = ()
            outcome.delivered_stroops = None
        outcome.tx_code = tx_code
        outcome.tx_hash = tx_hash
        outcome.ledger = ledger
        outcome.fee_charged_share_stroops = fee_share
        if first_op_id is not None:
            outcome.operation_id = first_op_id + index
    return TxResult(tx_code=tx_code, fee_charged=fee_charged, operations=outcomes)


def operation_outcome(op_result: stellar_xdr.OperationResult, order_assets: OrderAssets = None) -> OpOutcome:
    """One `OperationResult` → `OpOutcome` (success flag, offer, fills, error code)."""
    if op_result.code != stellar_xdr.OperationResultCode.opINNER:
        code = _OUTER_OP_CODES.get(op_result.code, f"op_unknown_{int(op_result.code)}")
        return OpOutcome(success=False, error_code=code, error_message=result_code_message(code))
    tr = op_result.tr
    op_type = tr.type
    if op_type == stellar_xdr.OperationType.MANAGE_SELL_OFFER:
        return _offer_outcome(tr.manage_sell_offer_result, "MANAGE_SELL_OFFER_", order_assets)
    if op_type == stellar_xdr.OperationType.MANAGE_BUY_OFFER:
        return _offer_outcome(tr.manage_buy_offer_result, "MANAGE_BUY_OFFER_", order_assets)
    if op_type == stellar_xdr.OperationType.CREATE_PASSIVE_SELL_OFFER:
        return _offer_outcome(tr.create_passive_sell_offer_result, "MANAGE_SELL_OFFER_", order_assets)
    if op_type in _PATH_PAYMENTS:
        return path_payment_outcome(tr, order_assets)
    return _generic_outcome(tr)


def _offer_outcome(offer_result: Any, prefix: str, order_assets: OrderAssets) -> OpOutcome:
    if offer_result.success is None:
        return _offer_failure(offer_result.code.name, prefix)
    success = offer_result.success
    fills = tuple(fill_from_claim(claim, order_assets, is_taker=True) for claim in success.offers_claimed)
    offer = success.offer
    state = _OFFER_STATE_BY_EFFECT[offer.effect]
    outcome = OpOutcome(success=True, offer_state=state, fills=fills)
    if offer.offer is not None:  # created or updated: the offer rests on the book
        entry = offer.offer
        outcome.offer_id = entry.offer_id.int64
        outcome.resting_selling_stroops = entry.amount.int64
        outcome.resting_price = (entry.price.n.int32, entry.price.d.int32)
    return outcome


def _offer_failure(code_name: str, prefix: str) -> OpOutcome:
    suffix = code_name[len(prefix):] if code_name.startswith(prefix) else code_name
    code = _OFFER_CODE_EXCEPTIONS.get(suffix, "op_" + suffix.lower())
    return OpOutcome(success=False, error_code=code, error_message=result_code_message(code))


def _generic_outcome(tr: stellar_xdr.OperationResultTr) -> OpOutcome:
    """Operations other than offers: only success and Horizon-like code (op_<suffix>)."""
    for value in vars(tr).values():
        code = getattr(value, "code", None)
        if code is None or not hasattr(code, "name"):
            continue
        if int(code) == 0:
            return OpOutcome(success=True)
        op_prefix = tr.type.name + "_"
        suffix = code.name[len(op_prefix):] if code.name.startswith(op_prefix) else code.name
        slug = "op_" + suffix.lower()
        return OpOutcome(success=False, error_code=slug, error_message=result_code_message(slug))
    return OpOutcome(success=True)


# Offer operation results read from the bytes (see the module's docstring). Each reader returns the
# next position, or raises _Unexpected, after which stellar-sdk decodes the whole result instead.

class _Unexpected(Exception):
    pass


_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")
_I32_PAIR = struct.Struct(">ii")
_ENTRY_TAIL = struct.Struct(">qiiIi")      # OfferEntry: amount, price n, price d, flags, ext v
_ASSET_LENGTHS = {0: 4, 1: 44, 2: 52}      # native; alphanum4: code + issuer; alphanum12
_OP_PREFIXES = {3: "MANAGE_SELL_OFFER_", 4: "MANAGE_SELL_OFFER_", 12: "MANAGE_BUY_OFFER_"}   # by operation type
_OFFER_CODE_NAMES = {
    3: {int(c): c.name for c in stellar_xdr.ManageSellOfferResultCode},
    4: {int(c): c.name for c in stellar_xdr.ManageSellOfferResultCode},
    12: {int(c): c.name for c in stellar_xdr.ManageBuyOfferResultCode},
}
_OUTER_CODES = {int(code): name for code, name in _OUTER_OP_CODES.items()}
_EFFECTS = {int(effect): state for effect, state in _OFFER_STATE_BY_EFFECT.items()}
_TX_SUCCESS = int(stellar_xdr.TransactionResultCode.txSUCCESS)
_TX_FAILED = int(stellar_xdr.TransactionResultCode.txFAILED)
_asset_xdr_cache: Dict[Asset, bytes] = {}


def _asset_xdr(asset: Asset) -> bytes:
    packed = _asset_xdr_cache.get(asset)
    if packed is None:
        if len(_asset_xdr_cache) >= 1024:
            _asset_xdr_cache.clear()
        packed = _asset_xdr_cache[asset] = asset.to_xdr_object().to_xdr_bytes()
    return packed


def _asset_end(data: bytes, pos: int) -> int:
    length = _ASSET_LENGTHS.get(_I32.unpack_from(data, pos)[0])
    if length is None:
        raise _Unexpected
    if length > 4 and _I32.unpack_from(data, pos + length - 36)[0] != 0:   # the issuer: an ed25519 key
        raise _Unexpected
    return pos + length


def _fast_decode(data: bytes, order_assets: Sequence[OrderAssets]) -> Optional[Tuple[str, int, List[OpOutcome]]]:
    """(tx code, fee charged, outcomes) of a successful or failed transaction of offer operations; None
    for anything else (another operation, a fee bump, a void result, or bytes stellar-sdk must judge)."""
    try:
        fee_charged, code = _I64.unpack_from(data, 0)[0], _I32.unpack_from(data, 8)[0]
        if code != _TX_SUCCESS and code != _TX_FAILED:
            return None
        count = _I32.unpack_from(data, 12)[0]
        if count < 0:
            return None
        pos = 16
        outcomes = []
        for index in range(count):
            assets = order_assets[index] if index < len(order_assets) else None
            outcome, pos = _fast_operation(data, pos, assets)
            outcomes.append(outcome)
        if _I32.unpack_from(data, pos)[0] != 0 or pos + 4 != len(data):   # ext v0, and nothing after it
            return None
    except (_Unexpected, struct.error):
        return None
    return ("tx_success" if code == _TX_SUCCESS else "tx_failed"), fee_charged, outcomes


def _fast_operation(data: bytes, pos: int, assets: OrderAssets) -> Tuple[OpOutcome, int]:
    outer = _I32.unpack_from(data, pos)[0]
    if outer != 0:   # not opINNER: the operation never ran
        code = _OUTER_CODES.get(outer)
        if code is None:
            raise _Unexpected
        return OpOutcome(success=False, error_code=code, error_message=result_code_message(code)), pos + 4
    op_type, result_code = _I32_PAIR.unpack_from(data, pos + 4)
    names = _OFFER_CODE_NAMES.get(op_type)
    if names is None or result_code not in names:
        raise _Unexpected
    pos += 12
    if result_code != 0:
        return _offer_failure(names[result_code], _OP_PREFIXES[op_type]), pos
    claims = _I32.unpack_from(data, pos)[0]
    if claims < 0:
        raise _Unexpected
    pos += 4
    fills = []
    for _ in range(claims):
        fill, pos = _fast_claim(data, pos, assets)
        fills.append(fill)
    state = _EFFECTS.get(_I32.unpack_from(data, pos)[0])
    if state is None:
        raise _Unexpected
    pos += 4
    outcome = OpOutcome(success=True, offer_state=state, fills=tuple(fills))
    if state != OFFER_DELETED:   # the offer rests: its OfferEntry follows
        if _I32.unpack_from(data, pos)[0] != 0:   # seller: an ed25519 key
            raise _Unexpected
        outcome.offer_id = _I64.unpack_from(data, pos + 36)[0]
        pos = _asset_end(data, _asset_end(data, pos + 44))
        amount, price_n, price_d, _flags, ext = _ENTRY_TAIL.unpack_from(data, pos)
        if ext != 0:
            raise _Unexpected
        outcome.resting_selling_stroops = amount
        outcome.resting_price = (price_n, price_d)
        pos += _ENTRY_TAIL.size
    return outcome, pos


def _fast_claim(data: bytes, pos: int, assets: OrderAssets) -> Tuple[Fill, int]:
    kind = _I32.unpack_from(data, pos)[0]
    if kind == 1 or kind == 0:   # an order book offer (ClaimOfferAtom, or V0 with the bare key)
        if kind == 1:
            if _I32.unpack_from(data, pos + 4)[0] != 0:
                raise _Unexpected
            key_at = pos + 8
        else:
            key_at = pos + 4
        counterparty = StrKey.encode_ed25519_public_key(data[key_at:key_at + 32])
        offer_id = _I64.unpack_from(data, key_at + 32)[0]
        sold_at = key_at + 40
    elif kind == 2:              # a liquidity pool
        counterparty = data[pos + 4:pos + 36].hex()
        offer_id = 0
        sold_at = pos + 36
    else:
        raise _Unexpected
    sold_end = _asset_end(data, sold_at)
    sold = _I64.unpack_from(data, sold_end)[0]
    bought_end = _asset_end(data, sold_end + 8)
    bought = _I64.unpack_from(data, bought_end)[0]
    if assets is None or data[sold_at:sold_end] == _asset_xdr(assets[0]):
        base_stroops, quote_stroops = sold, bought
    else:
        base_stroops, quote_stroops = bought, sold
    return Fill(counter_offer_id=offer_id, counterparty=counterparty, base_stroops=base_stroops,
                quote_stroops=quote_stroops, is_taker=True), bought_end + 8


@dataclass(frozen=True, slots=True)
class ResultCodes:
    """`extras.result_codes` of a Horizon 400 transaction problem."""

    transaction: Optional[str]
    operations: Tuple[str, ...]
    inner_transaction: Optional[str] = None


def parse_result_codes(body: Any) -> Optional[ResultCodes]:
    """Read `extras.result_codes` from a Horizon problem body; None when the body has none."""
    if not isinstance(body, dict):
        return None
    extras = body.get("extras")
    if not isinstance(extras, dict):
        return None
    codes = extras.get("result_codes")
    if not isinstance(codes, dict):
        return None
    operations = codes.get("operations") or ()
    return ResultCodes(transaction=codes.get("transaction"),
                       operations=tuple(str(c) for c in operations),
                       inner_transaction=codes.get("inner_transaction"))
