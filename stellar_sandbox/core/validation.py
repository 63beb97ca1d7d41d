"""Transaction envelope checks with stellar-core's result codes.

``decode_envelope`` parses a base64 ``TransactionEnvelope`` (v0, v1, fee-bump) once and computes
its hashes from slices of the raw bytes (no re-encoding). ``check_transaction`` applies
stellar-core's ``checkValid`` order:

    txMISSING_OPERATION, txTOO_EARLY/txTOO_LATE (time and ledger bounds), txINSUFFICIENT_FEE,
    txNO_ACCOUNT, txBAD_SEQ, txBAD_AUTH (tx source, low threshold), txINSUFFICIENT_BALANCE,
    per operation: opNO_ACCOUNT / opBAD_AUTH (operation source, its threshold) -> txFAILED,
    txBAD_AUTH_EXTRA (a signature nobody needed).

Fee-bump: outer fee >= base fee x (ops + 1) and a fee rate >= the inner one (txINSUFFICIENT_FEE),
fee source exists, signs (low threshold) and can pay, then the inner transaction's own checks
(without its fee) -> txFEE_BUMP_INNER_FAILED with the inner result, then txBAD_AUTH_EXTRA.

Note: as stellar-core, a missing signature of the *transaction* source is txBAD_AUTH, while a
missing signature of an *operation* source (e.g. the trading account behind a channel account)
is txFAILED with opBAD_AUTH for that operation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Optional, Protocol

from stellar_sdk import Keypair, StrKey
from stellar_sdk import xdr as sx
from stellar_sdk.exceptions import BadSignatureError

from stellar_sandbox.core.assets import is_valid_xdr_asset
from stellar_sandbox.core.pool_ops import deposit_malformed, withdraw_malformed
from stellar_sandbox.core.pools import pool_from_change_trust

# ----- codes -----

TX = sx.TransactionResultCode
OP_TYPE = sx.OperationType
LOW, MEDIUM, HIGH = 0, 1, 2
MAX_SIGNATURES = 20
MAX_OPERATIONS = 100

_ENVELOPE_TYPE_TX_V0 = sx.EnvelopeType.ENVELOPE_TYPE_TX_V0
_ENVELOPE_TYPE_TX = sx.EnvelopeType.ENVELOPE_TYPE_TX
_ENVELOPE_TYPE_FEE_BUMP = sx.EnvelopeType.ENVELOPE_TYPE_TX_FEE_BUMP
_TX_TAG = (2).to_bytes(4, "big")  # ENVELOPE_TYPE_TX, prefix of every v1 signature payload
_ED25519_ACCOUNT_TAG = (0).to_bytes(4, "big")  # KEY_TYPE_ED25519 as a MuxedAccount arm
_KEY_TYPE_ED25519 = sx.CryptoKeyType.KEY_TYPE_ED25519

_LOW_THRESHOLD_OPS = frozenset(
    {
        OP_TYPE.ALLOW_TRUST,
        OP_TYPE.BUMP_SEQUENCE,
        OP_TYPE.SET_TRUST_LINE_FLAGS,
        OP_TYPE.INFLATION,
        OP_TYPE.EXTEND_FOOTPRINT_TTL,
        OP_TYPE.RESTORE_FOOTPRINT,
    }
)


class MalformedEnvelope(ValueError):
    """The submitted text is not a decodable TransactionEnvelope (Horizon: 400 transaction_malformed)."""


# ----- what validation needs from the ledger -----


class AccountAuth(Protocol):
    """An account as validation sees it."""

    seq_num: int
    available_balance: int  # native stroops above reserve and selling liabilities (what a fee may use)
    master_weight: int
    thresholds: tuple[int, int, int]  # low, medium, high
    signers: Iterable[tuple[bytes, int]]  # additional ed25519 signers: (raw 32-byte key, weight)


AccountLookup = Callable[[str], Optional[AccountAuth]]


@dataclass(frozen=True)
class ValidationContext:
    base_fee: int  # stroops per operation
    ledger_seq: int  # sequence of the ledger the transaction would go into
    close_time: int  # unix seconds the time bounds are checked against


# ----- decoding -----

_account_id_cache: dict[bytes, str] = {}
_ACCOUNT_ID_CACHE_CAP = 200_000


def account_id_of_raw(raw: bytes) -> str:
    """G... strkey of a raw ed25519 key (cached: encoding costs a few microseconds)."""
    account_id = _account_id_cache.get(raw)
    if account_id is None:
        if len(_account_id_cache) >= _ACCOUNT_ID_CACHE_CAP:
            _account_id_cache.clear()
        account_id = _account_id_cache[raw] = StrKey.encode_ed25519_public_key(raw)
    return account_id


def raw_of_muxed(muxed: sx.MuxedAccount) -> bytes:
    if muxed.type == _KEY_TYPE_ED25519:
        return muxed.ed25519.uint256
    return muxed.med25519.ed25519.uint256


def muxed_id(muxed: sx.MuxedAccount) -> Optional[int]:
    return None if muxed.type == _KEY_TYPE_ED25519 else muxed.med25519.id.uint64


def network_id(passphrase: str) -> bytes:
    return hashlib.sha256(passphrase.encode()).digest()


@dataclass
class DecodedTx:
    """One decoded envelope; ``tx`` is the (inner) classic transaction whose operations apply."""

    envelope: sx.TransactionEnvelope
    envelope_xdr: str
    hash: str  # hex of the outer hash (what Horizon calls the transaction hash)
    hash_bytes: bytes
    tx: Any  # sx.Transaction or sx.TransactionV0
    tx_hash_bytes: bytes  # the hash the (inner) transaction's signatures sign
    signatures: list  # of sx.DecoratedSignature over tx_hash_bytes
    source_raw: bytes
    source_id: str
    source_muxed_id: Optional[int]
    seq_num: int
    inner_fee: int  # the (inner) transaction's own fee
    op_count: int
    op_source_ids: list[str]
    min_time: int
    max_time: int
    min_ledger: int
    max_ledger: int
    min_seq_num: Optional[int]
    preconditions_v2: Optional[sx.PreconditionsV2]
    # fee-bump only
    is_fee_bump: bool = False
    fee_source_raw: Optional[bytes] = None
    fee_source_id: Optional[str] = None
    fee_source_muxed_id: Optional[int] = None
    outer_fee: int = 0
    outer_signatures: list = field(default_factory=list)

    # --- what the queue needs (txqueue.Queueable) ---
    @property
    def inner_hash(self) -> Optional[str]:
        return self.tx_hash_bytes.hex() if self.is_fee_bump else None

    @property
    def fee_bid(self) -> int:
        return self.outer_fee if self.is_fee_bump else self.inner_fee

    @property
    def fee_op_count(self) -> int:
        return self.op_count + 1 if self.is_fee_bump else self.op_count

    @property
    def fee_payer_id(self) -> str:
        return self.fee_source_id if self.is_fee_bump else self.source_id

    @property
    def operations(self) -> list:
        return self.tx.operations


def _signature_section_length(signatures: list) -> int:
    # uint32 count + per signature: 4-byte hint, uint32 length, signature padded to 4 bytes
    return 4 + sum(8 + ((len(s.signature.signature) + 3) & ~3) for s in signatures)


def decode_envelope(envelope_xdr: str, network_id_bytes: bytes) -> DecodedTx:
    """Parse once; hashes come from slices of the raw bytes, which are exactly the signed payloads."""
    if not isinstance(envelope_xdr, str) or not envelope_xdr:
        raise MalformedEnvelope("transaction envelope must be a non-empty base64 string")
    try:
        raw = base64.b64decode(envelope_xdr, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedEnvelope("transaction envelope is not valid base64") from None
    try:
        envelope = sx.TransactionEnvelope.from_xdr_bytes(raw)
    except Exception as exc:  # xdrlib raises several types on truncated or odd input
        raise MalformedEnvelope(f"transaction envelope is not a valid TransactionEnvelope XDR: {exc}") from None
    kind = envelope.type
    if kind == _ENVELOPE_TYPE_TX:
        v1 = envelope.v1
        cut = len(raw) - _signature_section_length(v1.signatures)
        tx_hash = hashlib.sha256(network_id_bytes + raw[:cut]).digest()
        source = v1.tx.source_account
        return _decoded(envelope, envelope_xdr, tx_hash, v1.tx, tx_hash, v1.signatures, raw_of_muxed(source),
                        muxed_id(source))
    if kind == _ENVELOPE_TYPE_TX_V0:
        v0 = envelope.v0
        cut = len(raw) - _signature_section_length(v0.signatures)
        # a v0 transaction signs as the v1 transaction it converts to: source as a KEY_TYPE_ED25519 MuxedAccount
        tx_hash = hashlib.sha256(network_id_bytes + _TX_TAG + _ED25519_ACCOUNT_TAG + raw[4:cut]).digest()
        return _decoded(envelope, envelope_xdr, tx_hash, v0.tx, tx_hash, v0.signatures,
                        v0.tx.source_account_ed25519.uint256, None)
    if kind == _ENVELOPE_TYPE_FEE_BUMP:
        fb = envelope.fee_bump
        outer_cut = len(raw) - _signature_section_length(fb.signatures)
        outer_hash = hashlib.sha256(network_id_bytes + raw[:outer_cut]).digest()
        fee_source = fb.tx.fee_source
        inner_start = 4 + (36 if fee_source.type == _KEY_TYPE_ED25519 else 44) + 8  # type, feeSource, fee
        inner = fb.tx.inner_tx.v1
        inner_end = outer_cut - 4 - _signature_section_length(inner.signatures)  # before inner sigs and ext
        inner_hash = hashlib.sha256(network_id_bytes + raw[inner_start:inner_end]).digest()
        decoded = _decoded(envelope, envelope_xdr, outer_hash, inner.tx, inner_hash, inner.signatures,
                           raw_of_muxed(inner.tx.source_account), muxed_id(inner.tx.source_account))
        decoded.is_fee_bump = True
        decoded.fee_source_raw = raw_of_muxed(fee_source)
        decoded.fee_source_id = account_id_of_raw(decoded.fee_source_raw)
        decoded.fee_source_muxed_id = muxed_id(fee_source)
        decoded.outer_fee = fb.tx.fee.int64
        decoded.outer_signatures = fb.signatures
        return decoded
    raise MalformedEnvelope(f"unsupported envelope type {kind!r}")


def _decoded(envelope, envelope_xdr, outer_hash, tx, tx_hash, signatures, source_raw, source_muxed_id) -> DecodedTx:
    source_id = account_id_of_raw(source_raw)
    op_sources = [
        source_id if op.source_account is None else account_id_of_raw(raw_of_muxed(op.source_account))
        for op in tx.operations
    ]
    min_time = max_time = min_ledger = max_ledger = 0
    min_seq_num = None
    v2 = None
    time_bounds = None
    if isinstance(tx, sx.TransactionV0):
        time_bounds = tx.time_bounds
    else:
        cond = tx.cond
        if cond.type == sx.PreconditionType.PRECOND_TIME:
            time_bounds = cond.time_bounds
        elif cond.type == sx.PreconditionType.PRECOND_V2:
            v2 = cond.v2
            time_bounds = v2.time_bounds
            if v2.ledger_bounds is not None:
                min_ledger = v2.ledger_bounds.min_ledger.uint32
                max_ledger = v2.ledger_bounds.max_ledger.uint32
            if v2.min_seq_num is not None:
                min_seq_num = v2.min_seq_num.sequence_number.int64
    if time_bounds is not None:
        min_time = time_bounds.min_time.time_point.uint64
        max_time = time_bounds.max_time.time_point.uint64
    return DecodedTx(
        envelope=envelope,
        envelope_xdr=envelope_xdr,
        hash=outer_hash.hex(),
        hash_bytes=outer_hash,
        tx=tx,
        tx_hash_bytes=tx_hash,
        signatures=signatures,
        source_raw=source_raw,
        source_id=source_id,
        source_muxed_id=source_muxed_id,
        seq_num=tx.seq_num.sequence_number.int64,
        inner_fee=tx.fee.uint32,
        op_count=len(tx.operations),
        op_source_ids=op_sources,
        min_time=min_time,
        max_time=max_time,
        min_ledger=min_ledger,
        max_ledger=max_ledger,
        min_seq_num=min_seq_num,
        preconditions_v2=v2,
    )


# ----- signatures -----

_keypair_cache: dict[bytes, Keypair] = {}


def _verifier(raw: bytes) -> Keypair:
    keypair = _keypair_cache.get(raw)
    if keypair is None:
        if len(_keypair_cache) >= _ACCOUNT_ID_CACHE_CAP:
            _keypair_cache.clear()
        keypair = _keypair_cache[raw] = Keypair.from_raw_ed25519_public_key(raw)
    return keypair


class SignatureChecker:
    """stellar-core's SignatureChecker for ed25519 signers: weights, used signatures, one verify per pair."""

    def __init__(self, payload_hash: bytes, signatures: list) -> None:
        self._hash = payload_hash
        self._signatures = [(s.hint.signature_hint, s.signature.signature) for s in signatures]
        self._used = [False] * len(signatures)
        self._verified: dict[tuple[int, bytes], bool] = {}
        self._passed: dict[tuple[bytes, int], bool] = {}

    def _verify(self, index: int, key: bytes) -> bool:
        memo = (index, key)
        ok = self._verified.get(memo)
        if ok is None:
            hint, signature = self._signatures[index]
            ok = False
            if hint == key[-4:]:
                try:
                    _verifier(key).verify(self._hash, signature)
                    ok = True
                except BadSignatureError:
                    ok = False
            self._verified[memo] = ok
        return ok

    def check(self, signers: list[tuple[bytes, int]], needed: int) -> bool:
        """True when verified signatures of ``signers`` reach ``needed`` weight (at least one signature)."""
        memo = (b"".join(k for k, _ in signers), needed)
        passed = self._passed.get(memo)
        if passed is not None:
            return passed
        remaining = list(signers)
        total = 0
        passed = False
        for index in range(len(self._signatures)):
            for position, (key, weight) in enumerate(remaining):
                if self._verify(index, key):
                    self._used[index] = True
                    total += min(weight, 255)
                    if total >= needed:
                        passed = True
                    del remaining[position]
                    break
            if passed:
                break
        self._passed[memo] = passed
        return passed

    def check_account(self, account_raw: bytes, account: AccountAuth, level: int) -> bool:
        signers: list[tuple[bytes, int]] = []
        if account.master_weight:
            signers.append((account_raw, account.master_weight))
        signers.extend(account.signers)
        return self.check(signers, account.thresholds[level])

    def check_absent_account(self, account_raw: bytes) -> bool:
        return self.check([(account_raw, 1)], 0)

    def all_used(self) -> bool:
        return all(self._used)


def threshold_level(op: sx.Operation) -> int:
    op_type = op.body.type
    if op_type in _LOW_THRESHOLD_OPS:
        return LOW
    if op_type == OP_TYPE.ACCOUNT_MERGE:
        return HIGH
    if op_type == OP_TYPE.SET_OPTIONS:
        options = op.body.set_options_op
        if (
            options.master_weight is not None
            or options.low_threshold is not None
            or options.med_threshold is not None
            or options.high_threshold is not None
            or options.signer is not None
        ):
            return HIGH
    return MEDIUM


# ----- results -----


def _result_body(code: int, results: Optional[list] = None):
    return sx.TransactionResultResult(code=TX(code), results=results)


def tx_error_result(code: int, fee_charged: int, op_results: Optional[list] = None) -> sx.TransactionResult:
    """A ``TransactionResult`` with an error code (``op_results`` for txFAILED)."""
    return sx.TransactionResult(
        fee_charged=sx.Int64(fee_charged),
        result=_result_body(code, op_results),
        ext=sx.TransactionResultExt(0),
    )


def inner_result(code: int, op_results: Optional[list] = None) -> sx.InnerTransactionResult:
    return sx.InnerTransactionResult(
        fee_charged=sx.Int64(0),
        result=sx.InnerTransactionResultResult(code=TX(code), results=op_results),
        ext=sx.InnerTransactionResultExt(0),
    )


def fee_bump_result(outer_code: int, fee_charged: int, inner_hash: bytes, inner: sx.InnerTransactionResult):
    return sx.TransactionResult(
        fee_charged=sx.Int64(fee_charged),
        result=sx.TransactionResultResult(
            code=TX(outer_code),
            inner_result_pair=sx.InnerTransactionResultPair(transaction_hash=sx.Hash(inner_hash), result=inner),
        ),
        ext=sx.TransactionResultExt(0),
    )


def op_outer_result(code: sx.OperationResultCode) -> sx.OperationResult:
    """opBAD_AUTH, opNO_ACCOUNT, opNOT_SUPPORTED... (no inner result)."""
    return sx.OperationResult(code=code)


def default_op_result(op: sx.Operation) -> sx.OperationResult:
    """The untouched result stellar-core lists for operations a failed validation did not reach."""
    op_type = op.body.type
    tr = _default_inner_result(op)
    if tr is None:
        return sx.OperationResult(code=sx.OperationResultCode.opNOT_SUPPORTED)
    return sx.OperationResult(code=sx.OperationResultCode.opINNER, tr=sx.OperationResultTr(op_type, **tr))


def _default_inner_result(op: sx.Operation) -> Optional[dict]:
    op_type = op.body.type
    if op_type in (OP_TYPE.MANAGE_SELL_OFFER, OP_TYPE.CREATE_PASSIVE_SELL_OFFER, OP_TYPE.MANAGE_BUY_OFFER):
        success = sx.ManageOfferSuccessResult(
            [], sx.ManageOfferSuccessResultOffer(sx.ManageOfferEffect.MANAGE_OFFER_DELETED)
        )
        if op_type == OP_TYPE.MANAGE_BUY_OFFER:
            return {"manage_buy_offer_result": sx.ManageBuyOfferResult(
                sx.ManageBuyOfferResultCode.MANAGE_BUY_OFFER_SUCCESS, success)}
        passive = op_type == OP_TYPE.CREATE_PASSIVE_SELL_OFFER
        attr = "create_passive_sell_offer_result" if passive else "manage_sell_offer_result"
        return {attr: sx.ManageSellOfferResult(sx.ManageSellOfferResultCode.MANAGE_SELL_OFFER_SUCCESS, success)}
    if op_type == OP_TYPE.PATH_PAYMENT_STRICT_RECEIVE:
        body = op.body.path_payment_strict_receive_op
        last = sx.SimplePaymentResult(_account_of(body.destination), body.dest_asset, sx.Int64(0))
        return {"path_payment_strict_receive_result": sx.PathPaymentStrictReceiveResult(
            sx.PathPaymentStrictReceiveResultCode.PATH_PAYMENT_STRICT_RECEIVE_SUCCESS,
            sx.PathPaymentStrictReceiveResultSuccess([], last))}
    if op_type == OP_TYPE.PATH_PAYMENT_STRICT_SEND:
        body = op.body.path_payment_strict_send_op
        last = sx.SimplePaymentResult(_account_of(body.destination), body.dest_asset, sx.Int64(0))
        return {"path_payment_strict_send_result": sx.PathPaymentStrictSendResult(
            sx.PathPaymentStrictSendResultCode.PATH_PAYMENT_STRICT_SEND_SUCCESS,
            sx.PathPaymentStrictSendResultSuccess([], last))}
    if op_type == OP_TYPE.ACCOUNT_MERGE:
        return {"account_merge_result": sx.AccountMergeResult(
            sx.AccountMergeResultCode.ACCOUNT_MERGE_SUCCESS, sx.Int64(0))}
    # the rest have a void success arm: <Type>Result(<TYPE>_SUCCESS)
    name = op_type.name  # e.g. CHANGE_TRUST
    camel = "".join(part.capitalize() for part in name.split("_"))
    result_cls = getattr(sx, f"{camel}Result", None)
    code_cls = getattr(sx, f"{camel}ResultCode", None)
    success = getattr(code_cls, f"{name}_SUCCESS", None) if code_cls is not None else None
    if result_cls is None or success is None:
        return None
    return {f"{name.lower()}_result": result_cls(success)}


def _account_of(muxed: sx.MuxedAccount) -> sx.AccountID:
    return sx.AccountID(sx.PublicKey(_KEY_TYPE_ED25519, sx.Uint256(raw_of_muxed(muxed))))


# ----- operation checks that need no ledger (stellar-core's doCheckValid) -----

_MALFORMED = {
    OP_TYPE.CREATE_ACCOUNT: ("create_account_result", sx.CreateAccountResult, sx.CreateAccountResultCode,
                             "CREATE_ACCOUNT"),
    OP_TYPE.PAYMENT: ("payment_result", sx.PaymentResult, sx.PaymentResultCode, "PAYMENT"),
    OP_TYPE.PATH_PAYMENT_STRICT_RECEIVE: ("path_payment_strict_receive_result", sx.PathPaymentStrictReceiveResult,
                                          sx.PathPaymentStrictReceiveResultCode, "PATH_PAYMENT_STRICT_RECEIVE"),
    OP_TYPE.PATH_PAYMENT_STRICT_SEND: ("path_payment_strict_send_result", sx.PathPaymentStrictSendResult,
                                       sx.PathPaymentStrictSendResultCode, "PATH_PAYMENT_STRICT_SEND"),
    OP_TYPE.MANAGE_SELL_OFFER: ("manage_sell_offer_result", sx.ManageSellOfferResult, sx.ManageSellOfferResultCode,
                                "MANAGE_SELL_OFFER"),
    OP_TYPE.CREATE_PASSIVE_SELL_OFFER: ("create_passive_sell_offer_result", sx.ManageSellOfferResult,
                                        sx.ManageSellOfferResultCode, "MANAGE_SELL_OFFER"),
    OP_TYPE.MANAGE_BUY_OFFER: ("manage_buy_offer_result", sx.ManageBuyOfferResult, sx.ManageBuyOfferResultCode,
                               "MANAGE_BUY_OFFER"),
    OP_TYPE.CHANGE_TRUST: ("change_trust_result", sx.ChangeTrustResult, sx.ChangeTrustResultCode, "CHANGE_TRUST"),
    OP_TYPE.LIQUIDITY_POOL_DEPOSIT: ("liquidity_pool_deposit_result", sx.LiquidityPoolDepositResult,
                                     sx.LiquidityPoolDepositResultCode, "LIQUIDITY_POOL_DEPOSIT"),
    OP_TYPE.LIQUIDITY_POOL_WITHDRAW: ("liquidity_pool_withdraw_result", sx.LiquidityPoolWithdrawResult,
                                      sx.LiquidityPoolWithdrawResultCode, "LIQUIDITY_POOL_WITHDRAW"),
}


def malformed_op_result(op_type: sx.OperationType) -> sx.OperationResult:
    attr, result_cls, code_cls, prefix = _MALFORMED[op_type]
    tr = sx.OperationResultTr(op_type, **{attr: result_cls(code_cls[f"{prefix}_MALFORMED"])})
    return sx.OperationResult(code=sx.OperationResultCode.opINNER, tr=tr)


def _offer_well_formed(selling, buying, amount: int, price: sx.Price, offer_id: int) -> bool:
    if not (is_valid_xdr_asset(selling) and is_valid_xdr_asset(buying)) or selling == buying:
        return False
    if amount < 0 or price.n.int32 <= 0 or price.d.int32 <= 0:
        return False
    return not (offer_id == 0 and amount == 0) and offer_id >= 0


def _op_well_formed(op: sx.Operation, source_raw: bytes) -> bool:
    """False when stellar-core's doCheckValid calls the operation MALFORMED (types the sandbox applies)."""
    body = op.body
    t = body.type
    if t == OP_TYPE.MANAGE_SELL_OFFER:
        o = body.manage_sell_offer_op
        return _offer_well_formed(o.selling, o.buying, o.amount.int64, o.price, o.offer_id.int64)
    if t == OP_TYPE.MANAGE_BUY_OFFER:
        o = body.manage_buy_offer_op
        return _offer_well_formed(o.selling, o.buying, o.buy_amount.int64, o.price, o.offer_id.int64)
    if t == OP_TYPE.CREATE_PASSIVE_SELL_OFFER:
        o = body.create_passive_sell_offer_op
        return _offer_well_formed(o.selling, o.buying, o.amount.int64, o.price, 0)
    if t == OP_TYPE.PAYMENT:
        o = body.payment_op
        return o.amount.int64 > 0 and is_valid_xdr_asset(o.asset)
    if t == OP_TYPE.CREATE_ACCOUNT:
        o = body.create_account_op
        return o.starting_balance.int64 >= 0 and o.destination.account_id.ed25519.uint256 != source_raw
    if t == OP_TYPE.CHANGE_TRUST:
        o = body.change_trust_op
        line = o.line
        if o.limit.int64 < 0 or line.type == sx.AssetType.ASSET_TYPE_NATIVE:
            return False
        if line.type == sx.AssetType.ASSET_TYPE_POOL_SHARE:
            return pool_from_change_trust(line) is not None
        if not is_valid_xdr_asset(line):
            return False
        alpha = line.alpha_num4 if line.alpha_num4 is not None else line.alpha_num12
        return alpha.issuer.account_id.ed25519.uint256 != source_raw
    if t == OP_TYPE.PATH_PAYMENT_STRICT_RECEIVE or t == OP_TYPE.PATH_PAYMENT_STRICT_SEND:
        if t == OP_TYPE.PATH_PAYMENT_STRICT_RECEIVE:
            o = body.path_payment_strict_receive_op
            amounts_ok = o.dest_amount.int64 > 0 and o.send_max.int64 > 0
        else:
            o = body.path_payment_strict_send_op
            amounts_ok = o.send_amount.int64 > 0 and o.dest_min.int64 > 0
        assets = [o.send_asset, o.dest_asset, *o.path]
        return amounts_ok and all(is_valid_xdr_asset(a) for a in assets)
    if t == OP_TYPE.LIQUIDITY_POOL_DEPOSIT:
        return not deposit_malformed(body.liquidity_pool_deposit_op)
    if t == OP_TYPE.LIQUIDITY_POOL_WITHDRAW:
        return not withdraw_malformed(body.liquidity_pool_withdraw_op)
    return True


# ----- checks -----


@dataclass
class TxCheck:
    """Outcome of ``check_transaction``: ``result`` is None when the transaction is valid."""

    result: Optional[sx.TransactionResult]
    code: Optional[int] = None  # innermost tx_* code on failure

    @property
    def ok(self) -> bool:
        return self.result is None


def check_transaction(tx: DecodedTx, lookup: AccountLookup, ctx: ValidationContext) -> TxCheck:
    """stellar-core's checkValid for a classic or fee-bump transaction about to enter the queue."""
    if not tx.is_fee_bump:
        code, op_results = _check_inner(tx, lookup, ctx, charge_fee=True)
        if code is None:
            return TxCheck(None)
        return TxCheck(tx_error_result(code, tx.inner_fee, op_results), code)

    fee = tx.outer_fee
    fee_ops = tx.op_count + 1
    if tx.op_count == 0:
        inner = inner_result(TX.txMISSING_OPERATION)
        outer = fee_bump_result(TX.txFEE_BUMP_INNER_FAILED, fee, tx.tx_hash_bytes, inner)
        return TxCheck(outer, TX.txMISSING_OPERATION)
    min_fee = ctx.base_fee * fee_ops
    # the bump must pay the minimum and at least the inner fee rate: fee/min_fee >= inner_fee/inner_min_fee
    if fee < min_fee or fee * (ctx.base_fee * tx.op_count) < tx.inner_fee * min_fee:
        return TxCheck(tx_error_result(TX.txINSUFFICIENT_FEE, fee), TX.txINSUFFICIENT_FEE)
    fee_account = lookup(tx.fee_source_id)
    if fee_account is None:
        return TxCheck(tx_error_result(TX.txNO_ACCOUNT, fee), TX.txNO_ACCOUNT)
    outer_checker = SignatureChecker(tx.hash_bytes, tx.outer_signatures)
    if not outer_checker.check_account(tx.fee_source_raw, fee_account, LOW):
        return TxCheck(tx_error_result(TX.txBAD_AUTH, fee), TX.txBAD_AUTH)
    if fee_account.available_balance < fee:
        return TxCheck(tx_error_result(TX.txINSUFFICIENT_BALANCE, fee), TX.txINSUFFICIENT_BALANCE)
    code, op_results = _check_inner(tx, lookup, ctx, charge_fee=False)
    if code is not None:
        inner = inner_result(code, op_results)
        return TxCheck(fee_bump_result(TX.txFEE_BUMP_INNER_FAILED, fee, tx.tx_hash_bytes, inner), code)
    if not outer_checker.all_used():
        return TxCheck(tx_error_result(TX.txBAD_AUTH_EXTRA, fee), TX.txBAD_AUTH_EXTRA)
    return TxCheck(None)


def _check_inner(
    tx: DecodedTx, lookup: AccountLookup, ctx: ValidationContext, charge_fee: bool
) -> tuple[Optional[int], Optional[list]]:
    """The (inner) transaction's checks; returns (code, op results for txFAILED) or (None, None)."""
    if tx.op_count == 0:
        return TX.txMISSING_OPERATION, None
    if tx.op_count > MAX_OPERATIONS or len(tx.signatures) > MAX_SIGNATURES:
        return TX.txMALFORMED, None
    bounds_code = _bounds_code(tx, ctx)
    if bounds_code is not None:
        return bounds_code, None
    if charge_fee and tx.inner_fee < ctx.base_fee * tx.op_count:
        return TX.txINSUFFICIENT_FEE, None
    source = lookup(tx.source_id)
    if source is None:
        return TX.txNO_ACCOUNT, None
    if not _seq_ok(tx, source.seq_num):
        return TX.txBAD_SEQ, None
    v2 = tx.preconditions_v2
    if v2 is not None and (v2.min_seq_age.duration.uint64 or v2.min_seq_ledger_gap.uint32 or v2.extra_signers):
        return TX.txNOT_SUPPORTED, None  # the sandbox keeps no sequence ages and no extra signers
    checker = SignatureChecker(tx.tx_hash_bytes, tx.signatures)
    if not checker.check_account(tx.source_raw, source, LOW):
        return TX.txBAD_AUTH, None
    if charge_fee and source.available_balance < tx.inner_fee:
        return TX.txINSUFFICIENT_BALANCE, None
    operations = tx.tx.operations
    accounts: dict[str, Optional[AccountAuth]] = {tx.source_id: source}
    for i, op in enumerate(operations):
        op_source_id = tx.op_source_ids[i]
        if op_source_id not in accounts:
            accounts[op_source_id] = lookup(op_source_id)
        account = accounts[op_source_id]
        op_raw = tx.source_raw if op.source_account is None else raw_of_muxed(op.source_account)
        if account is not None:
            passed = checker.check_account(op_raw, account, threshold_level(op))
            failure = None if passed else sx.OperationResultCode.opBAD_AUTH
        elif op.source_account is None:
            failure = sx.OperationResultCode.opNO_ACCOUNT
        else:  # an explicit source that does not exist (yet): its own key must sign (checkSignatureNoAccount)
            failure = None if checker.check_absent_account(op_raw) else sx.OperationResultCode.opBAD_AUTH
        if failure is not None:
            results = [default_op_result(o) for o in operations]
            results[i] = op_outer_result(failure)
            return TX.txFAILED, results
        if not _op_well_formed(op, op_raw):
            results = [default_op_result(o) for o in operations]
            results[i] = malformed_op_result(op.body.type)
            return TX.txFAILED, results
    if not checker.all_used():
        return TX.txBAD_AUTH_EXTRA, None
    return None, None


def _bounds_code(tx: DecodedTx, ctx: ValidationContext) -> Optional[int]:
    if tx.min_time and tx.min_time > ctx.close_time:
        return TX.txTOO_EARLY
    if tx.min_ledger and tx.min_ledger > ctx.ledger_seq:
        return TX.txTOO_EARLY
    if tx.max_time and tx.max_time < ctx.close_time:
        return TX.txTOO_LATE
    if tx.max_ledger and tx.max_ledger <= ctx.ledger_seq:
        return TX.txTOO_LATE
    return None


def _seq_ok(tx: DecodedTx, account_seq: int) -> bool:
    if tx.min_seq_num is None:
        return tx.seq_num == account_seq + 1
    # CAP-21: any sequence above the account's, provided the account's is at least minSeqNum
    return tx.min_seq_num <= account_seq < tx.seq_num


def recheck_for_apply(tx: DecodedTx, lookup: AccountLookup, ctx: ValidationContext) -> Optional[int]:
    """Cheap re-check when a queued transaction is about to apply (signatures were checked at submission).

    Returns a tx_* code when it can no longer apply (the queue then drops it), else None.
    """
    bounds_code = _bounds_code(tx, ctx)
    if bounds_code is not None:
        return bounds_code
    source = lookup(tx.source_id)
    if source is None:
        return TX.txNO_ACCOUNT
    if not _seq_ok(tx, source.seq_num):
        return TX.txBAD_SEQ
    payer = source if not tx.is_fee_bump else lookup(tx.fee_source_id)
    if payer is None:
        return TX.txNO_ACCOUNT
    if payer.available_balance < tx.fee_bid:
        return TX.txINSUFFICIENT_BALANCE
    return None


def result_code_name(code: int) -> str:
    """``txBAD_SEQ`` -> Horizon's ``tx_bad_seq``."""
    return "tx_" + TX(code).name[2:].lower()

