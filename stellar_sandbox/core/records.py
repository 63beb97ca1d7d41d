"""Horizon JSON records (without ``_links``) for ledgers, transactions and operations.

Built once per record at ledger close from the already decoded XDR; nothing here re-encodes the
envelope. Ids are Horizon's: TOIDs ``(ledger << 32) | (tx_order << 12) | op_index``.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import Any, Optional

from stellar_sdk import MuxedAccount, StrKey
from stellar_sdk import xdr as sx

from stellar_sandbox.core.amounts import format_amount, price_to_str
from stellar_sandbox.core.assets import horizon_fields, key_from_xdr
from stellar_sandbox.core.pool_ops import deposit_prices
from stellar_sandbox.core.pool_records import asset_amounts, pool_share_fields
from stellar_sandbox.core.state import iso_time
from stellar_sandbox.core.validation import DecodedTx, account_id_of_raw, muxed_id, raw_of_muxed

Record = dict[str, Any]
OP = sx.OperationType
_MEMO_TYPES = {0: "none", 1: "text", 2: "id", 3: "hash", 4: "return"}
PAYMENT_TYPES = frozenset(
    {OP.CREATE_ACCOUNT, OP.PAYMENT, OP.PATH_PAYMENT_STRICT_RECEIVE, OP.PATH_PAYMENT_STRICT_SEND, OP.ACCOUNT_MERGE}
)


def toid(ledger: int, tx_order: int, op_index: int = 0) -> int:
    return (ledger << 32) | (tx_order << 12) | op_index


def _muxed_fields(muxed: sx.MuxedAccount, prefix: str) -> Record:
    mux = muxed_id(muxed)
    if mux is None:
        return {}
    account_id = account_id_of_raw(raw_of_muxed(muxed))
    return {f"{prefix}_muxed": MuxedAccount(account_id, mux).account_muxed, f"{prefix}_muxed_id": str(mux)}


# ----- ledgers -----


def ledger_record(
    *,
    sequence: int,
    ledger_hash: str,
    prev_hash: str,
    closed_at: int,
    successful: int,
    failed: int,
    operation_count: int,
    tx_set_operation_count: int,
    total_coins: int,
    fee_pool: int,
    base_fee: int,
    base_reserve: int,
    max_tx_set_size: int,
    protocol_version: int,
    header_xdr: str = "",
) -> Record:
    return {
        "id": ledger_hash,
        "paging_token": str(sequence << 32),
        "hash": ledger_hash,
        "prev_hash": prev_hash,
        "sequence": sequence,
        "successful_transaction_count": successful,
        "failed_transaction_count": failed,
        "operation_count": operation_count,
        "tx_set_operation_count": tx_set_operation_count,
        "closed_at": iso_time(closed_at),
        "total_coins": format_amount(total_coins),
        "fee_pool": format_amount(fee_pool),
        "base_fee_in_stroops": base_fee,
        "base_reserve_in_stroops": base_reserve,
        "max_tx_set_size": max_tx_set_size,
        "protocol_version": protocol_version,
        "header_xdr": header_xdr,
    }


def ledger_header(
    *,
    sequence: int,
    prev_hash: str,
    closed_at: int,
    tx_set_hash: bytes,
    total_coins: int,
    fee_pool: int,
    id_pool: int,
    base_fee: int,
    base_reserve: int,
    max_tx_set_size: int,
    protocol_version: int,
) -> bytes:
    """A LedgerHeader's XDR bytes: the sandbox's own values where it keeps them, zero hashes for what it
    does not model (transaction results, bucket list, skip list)."""
    zero = sx.Hash(bytes(32))
    header = sx.LedgerHeader(
        ledger_version=sx.Uint32(protocol_version),
        previous_ledger_hash=sx.Hash(bytes.fromhex(prev_hash)),
        scp_value=sx.StellarValue(
            tx_set_hash=sx.Hash(tx_set_hash),
            close_time=sx.TimePoint(sx.Uint64(closed_at)),
            upgrades=[],
            ext=sx.StellarValueExt(sx.StellarValueType.STELLAR_VALUE_BASIC),
        ),
        tx_set_result_hash=zero,
        bucket_list_hash=zero,
        ledger_seq=sx.Uint32(sequence),
        total_coins=sx.Int64(total_coins),
        fee_pool=sx.Int64(fee_pool),
        inflation_seq=sx.Uint32(0),
        id_pool=sx.Uint64(id_pool),
        base_fee=sx.Uint32(base_fee),
        base_reserve=sx.Uint32(base_reserve),
        max_tx_set_size=sx.Uint32(max_tx_set_size),
        skip_list=[zero, zero, zero, zero],
        ext=sx.LedgerHeaderExt(0),
    )
    return header.to_xdr_bytes()


# ----- transactions -----


@lru_cache(maxsize=256)
def minimal_meta_xdr(op_count: int) -> str:
    """A valid TransactionMeta v1 with no ledger changes: one empty OperationMeta per applied operation."""
    body = (1).to_bytes(4, "big") + (0).to_bytes(4, "big") + op_count.to_bytes(4, "big") + b"\0\0\0\0" * op_count
    return base64.b64encode(body).decode()


_EMPTY_CHANGES_XDR = base64.b64encode(b"\0\0\0\0").decode()  # LedgerEntryChanges with no change


def _signatures(signatures: list) -> list[str]:
    return [base64.b64encode(s.signature.signature).decode() for s in signatures]


def _memo_fields(memo: sx.Memo) -> Record:
    kind = memo.type.value
    fields: Record = {"memo_type": _MEMO_TYPES.get(kind, "none")}
    if kind == 1:
        raw = memo.text
        fields["memo"] = raw.decode("utf-8", errors="replace")
        fields["memo_bytes"] = base64.b64encode(raw).decode()
    elif kind == 2:
        fields["memo"] = str(memo.id.uint64)
    elif kind == 3:
        fields["memo"] = base64.b64encode(memo.hash.hash).decode()
    elif kind == 4:
        fields["memo"] = base64.b64encode(memo.ret_hash.hash).decode()
    return fields


def transaction_record(
    tx: DecodedTx,
    *,
    ledger: int,
    tx_order: int,
    closed_at: str,
    result_xdr: str,
    fee_charged: int,
    successful: bool,
) -> Record:
    key = toid(ledger, tx_order)
    fee_account = tx.fee_payer_id
    record: Record = {
        "id": tx.hash,
        "paging_token": str(key),
        "successful": successful,
        "hash": tx.hash,
        "ledger": ledger,
        "created_at": closed_at,
        "source_account": tx.source_id,
        "source_account_sequence": str(tx.seq_num),
        "fee_account": fee_account,
        "fee_charged": str(fee_charged),
        "max_fee": str(tx.fee_bid),
        "operation_count": tx.op_count,
        "envelope_xdr": tx.envelope_xdr,
        "result_xdr": result_xdr,
        "result_meta_xdr": minimal_meta_xdr(tx.op_count if successful else 0),
        "fee_meta_xdr": _EMPTY_CHANGES_XDR,
        "signatures": _signatures(tx.outer_signatures if tx.is_fee_bump else tx.signatures),
    }
    if not isinstance(tx.tx, sx.TransactionV0):
        record.update(_muxed_fields(tx.tx.source_account, "account"))
    record.update(_memo_fields(tx.tx.memo))
    preconditions: Record = {}
    has_time_bounds = tx.min_time or tx.max_time or _declares_time_bounds(tx)
    if has_time_bounds:
        preconditions["timebounds"] = {"min_time": str(tx.min_time), "max_time": str(tx.max_time)}
        record["valid_after"] = iso_time(tx.min_time)
        if tx.max_time:
            record["valid_before"] = iso_time(tx.max_time)
    if tx.min_ledger or tx.max_ledger:
        preconditions["ledgerbounds"] = {"min_ledger": tx.min_ledger, "max_ledger": tx.max_ledger}
    if tx.min_seq_num is not None:
        preconditions["min_account_sequence"] = str(tx.min_seq_num)
    if preconditions:
        record["preconditions"] = preconditions
    if tx.is_fee_bump:
        fee_source = tx.envelope.fee_bump.tx.fee_source
        record.update(_muxed_fields(fee_source, "fee_account"))
        record["fee_bump_transaction"] = {"hash": tx.hash, "signatures": record["signatures"]}
        record["inner_transaction"] = {
            "hash": tx.tx_hash_bytes.hex(),
            "signatures": _signatures(tx.signatures),
            "max_fee": str(tx.inner_fee),
        }
    return record


def _declares_time_bounds(tx: DecodedTx) -> bool:
    if isinstance(tx.tx, sx.TransactionV0):
        return tx.tx.time_bounds is not None
    cond = tx.tx.cond
    if cond.type == sx.PreconditionType.PRECOND_TIME:
        return True
    return cond.type == sx.PreconditionType.PRECOND_V2 and cond.v2.time_bounds is not None


# ----- operations -----


def _account(account: sx.AccountID) -> str:
    return account_id_of_raw(account.account_id.ed25519.uint256)


def _muxed(muxed: sx.MuxedAccount) -> str:
    return account_id_of_raw(raw_of_muxed(muxed))


def _asset(asset: Any, prefix: str = "") -> Record:
    return horizon_fields(key_from_xdr(asset), prefix)


def _price(price: sx.Price) -> Record:
    n, d = price.n.int32, price.d.int32
    return {"price": price_to_str(n, d) if d > 0 else "0.0000000", "price_r": {"n": n, "d": d}}


def _path(path: list) -> list[Record]:
    return [_asset(a) for a in path]


def _path_payment_amounts(result: Optional[sx.OperationResult], op_type: OP) -> tuple[Optional[int], Optional[int]]:
    """(source amount, destination amount) actually moved, from a successful path payment result."""
    if result is None or result.code != sx.OperationResultCode.opINNER:
        return None, None
    if op_type == OP.PATH_PAYMENT_STRICT_RECEIVE:
        inner = result.tr.path_payment_strict_receive_result
    else:
        inner = result.tr.path_payment_strict_send_result
    if inner is None or inner.code.value != 0 or inner.success is None:
        return None, None
    success = inner.success
    dest_amount = success.last.amount.int64
    offers = success.offers
    if not offers:
        return dest_amount, dest_amount  # same asset both ends, no conversion
    # what the source sent is what the first hop's makers bought
    first_asset = _claim_bought_asset(offers[0])
    source_amount = sum(_claim_bought(c) for c in offers if _claim_bought_asset(c) == first_asset)
    return source_amount, dest_amount


def _claim_atom(claim: sx.ClaimAtom):
    return claim.order_book or claim.v0 or claim.liquidity_pool


def _claim_bought(claim: sx.ClaimAtom) -> int:
    return _claim_atom(claim).amount_bought.int64


def _claim_bought_asset(claim: sx.ClaimAtom) -> str:
    return key_from_xdr(_claim_atom(claim).asset_bought)


def _operation_fields(op: sx.Operation, source_id: str, result: Optional[sx.OperationResult]) -> Record:
    body = op.body
    t = body.type
    if t == OP.MANAGE_SELL_OFFER or t == OP.MANAGE_BUY_OFFER:
        o = body.manage_sell_offer_op if t == OP.MANAGE_SELL_OFFER else body.manage_buy_offer_op
        amount = o.amount.int64 if t == OP.MANAGE_SELL_OFFER else o.buy_amount.int64
        fields = {"amount": format_amount(amount), **_price(o.price)}
        fields.update(_asset(o.buying, "buying_"))
        fields.update(_asset(o.selling, "selling_"))
        fields["offer_id"] = str(o.offer_id.int64)
        return fields
    if t == OP.CREATE_PASSIVE_SELL_OFFER:
        o = body.create_passive_sell_offer_op
        fields = {"amount": format_amount(o.amount.int64), **_price(o.price)}
        fields.update(_asset(o.buying, "buying_"))
        fields.update(_asset(o.selling, "selling_"))
        return fields
    if t == OP.CREATE_ACCOUNT:
        o = body.create_account_op
        return {
            "starting_balance": format_amount(o.starting_balance.int64),
            "funder": source_id,
            "account": _account(o.destination),
        }
    if t == OP.PAYMENT:
        o = body.payment_op
        fields = _asset(o.asset)
        fields.update({"from": source_id, "to": _muxed(o.destination), "amount": format_amount(o.amount.int64)})
        fields.update(_muxed_fields(o.destination, "to"))
        return fields
    if t == OP.PATH_PAYMENT_STRICT_RECEIVE or t == OP.PATH_PAYMENT_STRICT_SEND:
        strict_receive = t == OP.PATH_PAYMENT_STRICT_RECEIVE
        o = body.path_payment_strict_receive_op if strict_receive else body.path_payment_strict_send_op
        source_amount, dest_amount = _path_payment_amounts(result, t)
        fields = _asset(o.dest_asset)
        fields.update({"from": source_id, "to": _muxed(o.destination), "path": _path(o.path)})
        fields.update(_asset(o.send_asset, "source_"))
        if strict_receive:
            fields["amount"] = format_amount(o.dest_amount.int64)
            fields["source_max"] = format_amount(o.send_max.int64)
            fields["source_amount"] = format_amount(source_amount or 0)
        else:
            fields["amount"] = format_amount(dest_amount or 0)
            fields["source_amount"] = format_amount(o.send_amount.int64)
            fields["destination_min"] = format_amount(o.dest_min.int64)
        return fields
    if t == OP.CHANGE_TRUST:
        o = body.change_trust_op
        fields = {}
        if o.line.type.value == 3:  # liquidity pool shares
            fields.update(pool_share_fields(hashlib.sha256(o.line.liquidity_pool.to_xdr_bytes()).hexdigest()))
        else:
            fields.update(_asset(o.line))
            key = key_from_xdr(o.line)
            if key != "native":
                fields["trustee"] = key.partition(":")[2]
        fields.update({"limit": format_amount(o.limit.int64), "trustor": source_id})
        return fields
    if t == OP.LIQUIDITY_POOL_DEPOSIT or t == OP.LIQUIDITY_POOL_WITHDRAW:
        return _pool_operation_fields(body)
    if t == OP.SET_TRUST_LINE_FLAGS:
        o = body.set_trust_line_flags_op
        fields = _asset(o.asset)
        fields.update({"trustor": _account(o.trustor), "set_flags": _flags(o.set_flags.uint32),
                       "clear_flags": _flags(o.clear_flags.uint32)})
        return fields
    if t == OP.ALLOW_TRUST:
        o = body.allow_trust_op
        code = o.asset
        raw_code = code.asset_code4.asset_code4 if code.asset_code4 is not None else code.asset_code12.asset_code12
        text = raw_code.rstrip(b"\0").decode("ascii", errors="replace")
        return {
            "asset_type": "credit_alphanum4" if len(text) <= 4 else "credit_alphanum12",
            "asset_code": text,
            "asset_issuer": source_id,
            "trustee": source_id,
            "trustor": _account(o.trustor),
            "authorize": bool(o.authorize.uint32 & 1),
        }
    if t == OP.ACCOUNT_MERGE:
        return {"account": source_id, "into": _muxed(body.destination)}
    if t == OP.MANAGE_DATA:
        o = body.manage_data_op
        value = o.data_value.data_value if o.data_value is not None else None
        return {"name": o.data_name.string64.decode("utf-8", errors="replace"),
                "value": base64.b64encode(value).decode() if value is not None else ""}
    if t == OP.BUMP_SEQUENCE:
        return {"bump_to": str(body.bump_sequence_op.bump_to.sequence_number.int64)}
    if t == OP.SET_OPTIONS:
        return _set_options_fields(body.set_options_op)
    return {}


def _pool_operation_fields(body: sx.OperationBody) -> Record:
    """A pool operation's record as Horizon shows it for a failed transaction (assets unnamed, nothing moved);
    the network adds what the applied operation knows (``OpOutcome.details``) when it succeeded."""
    unknown, nothing = ("", ""), (0, 0)
    if body.type == OP.LIQUIDITY_POOL_DEPOSIT:
        o = body.liquidity_pool_deposit_op
        fields: Record = {"liquidity_pool_id": o.liquidity_pool_id.pool_id.hash.hex(),
                          "reserves_max": asset_amounts(unknown, (o.max_amount_a.int64, o.max_amount_b.int64))}
        fields.update(deposit_prices(o))
        fields["reserves_deposited"] = asset_amounts(unknown, nothing)
        fields["shares_received"] = format_amount(0)
        return fields
    o = body.liquidity_pool_withdraw_op
    return {"liquidity_pool_id": o.liquidity_pool_id.pool_id.hash.hex(),
            "reserves_min": asset_amounts(unknown, (o.min_amount_a.int64, o.min_amount_b.int64)),
            "shares": format_amount(o.amount.int64),
            "reserves_received": asset_amounts(unknown, nothing)}


def _flags(value: int) -> list[int]:
    return [bit for bit in (1, 2, 4, 8) if value & bit]


def _set_options_fields(o: sx.SetOptionsOp) -> Record:
    fields: Record = {}
    if o.home_domain is not None:
        fields["home_domain"] = o.home_domain.string32.decode("utf-8", errors="replace")
    if o.inflation_dest is not None:
        fields["inflation_dest"] = _account(o.inflation_dest)
    for name, value in (("master_key_weight", o.master_weight), ("low_threshold", o.low_threshold),
                        ("med_threshold", o.med_threshold), ("high_threshold", o.high_threshold)):
        if value is not None:
            fields[name] = value.uint32
    if o.set_flags is not None:
        fields["set_flags"] = _flags(o.set_flags.uint32)
    if o.clear_flags is not None:
        fields["clear_flags"] = _flags(o.clear_flags.uint32)
    if o.signer is not None and o.signer.key.ed25519 is not None:
        fields["signer_key"] = StrKey.encode_ed25519_public_key(o.signer.key.ed25519.uint256)
        fields["signer_weight"] = o.signer.weight.uint32
    return fields


def operation_record(
    op: sx.Operation,
    *,
    op_id: int,
    source_id: str,
    tx_hash: str,
    closed_at: str,
    successful: bool,
    result: Optional[sx.OperationResult] = None,
) -> Record:
    t = op.body.type
    record: Record = {
        "id": str(op_id),
        "paging_token": str(op_id),
        "transaction_successful": successful,
        "source_account": source_id,
        "type": t.name.lower(),
        "type_i": t.value,
        "created_at": closed_at,
        "transaction_hash": tx_hash,
    }
    if op.source_account is not None:
        record.update(_muxed_fields(op.source_account, "source_account"))
    record.update(_operation_fields(op, source_id, result))
    return record


def operation_participants(op: sx.Operation, source_id: str) -> list[str]:
    """Accounts an operation concerns (Horizon's participants): the source plus a counterpart if any."""
    body = op.body
    t = body.type
    other: Optional[str] = None
    if t == OP.CREATE_ACCOUNT:
        other = _account(body.create_account_op.destination)
    elif t == OP.PAYMENT:
        other = _muxed(body.payment_op.destination)
    elif t == OP.PATH_PAYMENT_STRICT_RECEIVE:
        other = _muxed(body.path_payment_strict_receive_op.destination)
    elif t == OP.PATH_PAYMENT_STRICT_SEND:
        other = _muxed(body.path_payment_strict_send_op.destination)
    elif t == OP.ACCOUNT_MERGE:
        other = _muxed(body.destination)
    elif t == OP.ALLOW_TRUST:
        other = _account(body.allow_trust_op.trustor)
    elif t == OP.SET_TRUST_LINE_FLAGS:
        other = _account(body.set_trust_line_flags_op.trustor)
    if other is None or other == source_id:
        return [source_id]
    return [source_id, other]
