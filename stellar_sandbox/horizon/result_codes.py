"""Transaction result XDR → Horizon's `extras.result_codes` strings.

Horizon names codes in snake case with a `tx_`/`op_` prefix (`tx_bad_seq`, `op_underfunded`),
derived from the XDR enum names with the operation prefix dropped, plus a handful of historical
spellings kept verbatim below (for instance `op_offer_not_found`, `sell_not_authorized`).
"""
from __future__ import annotations

from typing import Any

from stellar_sdk import xdr as stellar_xdr

# stellar-core enum names whose Horizon spelling does not follow the generic rule.
_TX_EXCEPTIONS = {
    "txNO_ACCOUNT": "tx_no_source_account",
    "txBAD_MIN_SEQ_AGE_OR_GAP": "tx_bad_minseq_age_or_gap",
}
_OP_OUTER = {
    "opINNER": "op_inner",
    "opBAD_AUTH": "op_bad_auth",
    "opNO_ACCOUNT": "op_no_source_account",
    "opNOT_SUPPORTED": "op_not_supported",
    "opTOO_MANY_SUBENTRIES": "op_too_many_subentries",
    "opEXCEEDED_WORK_LIMIT": "op_exceeded_work_limit",
    "opTOO_MANY_SPONSORING": "op_too_many_sponsoring",
}
_OP_EXCEPTIONS = {
    "CREATE_ACCOUNT_ALREADY_EXIST": "op_already_exists",
    "MANAGE_SELL_OFFER_SELL_NOT_AUTHORIZED": "sell_not_authorized",
    "MANAGE_SELL_OFFER_BUY_NOT_AUTHORIZED": "buy_not_authorized",
    "MANAGE_SELL_OFFER_BUY_NO_ISSUER": "buy_no_issuer",
    "MANAGE_SELL_OFFER_NOT_FOUND": "op_offer_not_found",
    "MANAGE_BUY_OFFER_SELL_NOT_AUTHORIZED": "sell_not_authorized",
    "MANAGE_BUY_OFFER_BUY_NOT_AUTHORIZED": "buy_not_authorized",
    "MANAGE_BUY_OFFER_BUY_NO_ISSUER": "buy_no_issuer",
    "MANAGE_BUY_OFFER_NOT_FOUND": "op_offer_not_found",
    "PATH_PAYMENT_STRICT_RECEIVE_OFFER_CROSS_SELF": "op_cross_self",
    "PATH_PAYMENT_STRICT_RECEIVE_OVER_SENDMAX": "op_over_source_max",
    "PATH_PAYMENT_STRICT_SEND_OFFER_CROSS_SELF": "op_cross_self",
    "PATH_PAYMENT_STRICT_SEND_UNDER_DESTMIN": "op_under_dest_min",
    "ACCOUNT_MERGE_SEQNUM_TOO_FAR": "op_seq_num_too_far",
    "CHANGE_TRUST_NOT_AUTH_MAINTAIN_LIABILITIES": "op_not_aut_maintain_liabilities",
    "MANAGE_DATA_NAME_NOT_FOUND": "op_data_name_not_found",
    "MANAGE_DATA_INVALID_NAME": "op_data_invalid_name",
    "ALLOW_TRUST_NO_TRUST_LINE": "op_no_trust",
    "ALLOW_TRUST_TRUST_NOT_REQUIRED": "op_not_required",
    "CLAIM_CLAIMABLE_BALANCE_DOES_NOT_EXIST": "op_does_not_exist",
}
# Operation prefixes of the inner result enums, longest first so "MANAGE_SELL_OFFER_" wins over shorter ones.
_OP_PREFIXES = sorted((
    "CREATE_ACCOUNT_", "PAYMENT_", "PATH_PAYMENT_STRICT_RECEIVE_", "PATH_PAYMENT_STRICT_SEND_",
    "MANAGE_SELL_OFFER_", "MANAGE_BUY_OFFER_", "SET_OPTIONS_", "CHANGE_TRUST_", "ALLOW_TRUST_",
    "ACCOUNT_MERGE_", "INFLATION_", "MANAGE_DATA_", "BUMP_SEQUENCE_", "CREATE_CLAIMABLE_BALANCE_",
    "CLAIM_CLAIMABLE_BALANCE_", "BEGIN_SPONSORING_FUTURE_RESERVES_", "END_SPONSORING_FUTURE_RESERVES_",
    "REVOKE_SPONSORSHIP_", "CLAWBACK_CLAIMABLE_BALANCE_", "CLAWBACK_", "SET_TRUST_LINE_FLAGS_",
    "LIQUIDITY_POOL_DEPOSIT_", "LIQUIDITY_POOL_WITHDRAW_", "INVOKE_HOST_FUNCTION_", "EXTEND_FOOTPRINT_TTL_",
    "RESTORE_FOOTPRINT_",
), key=len, reverse=True)


def transaction_code_name(code: stellar_xdr.TransactionResultCode) -> str:
    name = code.name
    if name in _TX_EXCEPTIONS:
        return _TX_EXCEPTIONS[name]
    return "tx_" + name[2:].lower()


def _inner_code_name(name: str) -> str:
    if name in _OP_EXCEPTIONS:
        return _OP_EXCEPTIONS[name]
    for prefix in _OP_PREFIXES:
        if name.startswith(prefix):
            return "op_" + name[len(prefix):].lower()
    return "op_" + name.lower()


def operation_code_name(result: stellar_xdr.OperationResult) -> str:
    if result.code != stellar_xdr.OperationResultCode.opINNER or result.tr is None:
        return _OP_OUTER.get(result.code.name, "op_" + result.code.name[2:].lower())
    for attribute, value in vars(result.tr).items():
        if attribute != "type" and value is not None and hasattr(value, "code"):
            return _inner_code_name(value.code.name)
    return "op_inner"


def result_codes(result_xdr: str, tx_hash: str | None = None) -> dict[str, Any]:
    """Horizon's `TransactionResultCodes` for a base64 `TransactionResult`.

    For a fee bump whose inner transaction failed, `transaction` is the outer code and
    `inner_transaction` the inner one, and `operations` are the inner transaction's operations
    (unless `tx_hash` is the inner hash, in which case the inner code is the transaction code).
    """
    result = stellar_xdr.TransactionResult.from_xdr(result_xdr).result
    codes: dict[str, Any] = {"transaction": transaction_code_name(result.code)}
    operations = result.results
    pair = result.inner_result_pair
    if pair is not None:
        inner = pair.result.result
        operations = inner.results
        if tx_hash is not None and pair.transaction_hash.hash.hex() == tx_hash:
            codes["transaction"] = transaction_code_name(inner.code)
        else:
            codes["inner_transaction"] = transaction_code_name(inner.code)
    if operations:
        codes["operations"] = [operation_code_name(op) for op in operations]
    return codes
