"""What every operation applier shares: its context, its outcome, failure and result helpers, effects.

Effects and trades are Horizon-shaped dicts without ``id``/``paging_token``/``created_at`` (the history
assigns those). An applier raises ``Failed`` with the operation's result to fail it; ``apply_operation``
then rolls its changes back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stellar_sdk import xdr as stellar_xdr

from stellar_sandbox.core.amounts import format_amount
from stellar_sandbox.core.assets import horizon_fields

OpType = stellar_xdr.OperationType
OP_CODE = stellar_xdr.OperationResultCode
TOID_OFFER_ID_FLAG = 1 << 62  # Horizon's synthetic offer ids for takers whose offer never rested

EFFECT_TYPE_I = {
    "account_created": 0,
    "account_credited": 2,
    "account_debited": 3,
    "signer_created": 10,
    "trustline_created": 20,
    "trustline_removed": 21,
    "trustline_updated": 22,
    "trade": 33,
    "liquidity_pool_deposited": 90,
    "liquidity_pool_withdrew": 91,
    "liquidity_pool_trade": 92,
    "liquidity_pool_created": 93,
    "liquidity_pool_removed": 94,
}


@dataclass(slots=True)
class OpContext:
    """What an operation needs to know about the ledger being closed."""

    ledger_seq: int
    close_time: int  # unix seconds
    op_id: int = 0  # the operation's TOID; Horizon derives synthetic taker offer ids from it


@dataclass(slots=True)
class OpOutcome:
    result: stellar_xdr.OperationResult
    effects: list[dict] = field(default_factory=list)
    # one per claim atom, in order (Horizon's trade id is "<op id>-<claim index>"); None: it traded nothing
    trades: list[dict | None] = field(default_factory=list)
    # (selling, buying) of every offer book that changed; Horizon's views (X, Y) and (Y, X) both show it
    changed_books: set[tuple[str, str]] = field(default_factory=set)
    # Horizon offer JSON of every offer created, updated or removed (removed ones with amount "0.0000000")
    changed_offers: list[dict] = field(default_factory=list)
    # ids of the liquidity pools whose entry the operation created, changed or removed (Horizon's pool participants)
    pools: set[str] = field(default_factory=set)
    # fields of the operation's Horizon record that only the applied outcome knows (e.g. amounts deposited)
    details: dict = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return is_success(self.result)


class Failed(Exception):
    """An operation failed with a result; raised inside appliers to unwind to apply_operation."""

    def __init__(self, result: stellar_xdr.OperationResult) -> None:
        super().__init__()
        self.result = result


_SUCCESS_ARMS = {
    OpType.CREATE_ACCOUNT: "create_account_result",
    OpType.PAYMENT: "payment_result",
    OpType.PATH_PAYMENT_STRICT_RECEIVE: "path_payment_strict_receive_result",
    OpType.PATH_PAYMENT_STRICT_SEND: "path_payment_strict_send_result",
    OpType.MANAGE_SELL_OFFER: "manage_sell_offer_result",
    OpType.MANAGE_BUY_OFFER: "manage_buy_offer_result",
    OpType.CREATE_PASSIVE_SELL_OFFER: "create_passive_sell_offer_result",
    OpType.CHANGE_TRUST: "change_trust_result",
    OpType.LIQUIDITY_POOL_DEPOSIT: "liquidity_pool_deposit_result",
    OpType.LIQUIDITY_POOL_WITHDRAW: "liquidity_pool_withdraw_result",
}


def is_success(result: stellar_xdr.OperationResult) -> bool:
    """Whether an operation result is its type's SUCCESS code."""
    if result.code != OP_CODE.opINNER or result.tr is None:
        return False
    arm = _SUCCESS_ARMS.get(result.tr.type)
    return arm is not None and getattr(result.tr, arm).code.value == 0


def op_failure(code: stellar_xdr.OperationResultCode) -> Failed:
    return Failed(stellar_xdr.OperationResult(code))


def inner(op_type: stellar_xdr.OperationType, **arm: object) -> stellar_xdr.OperationResult:
    return stellar_xdr.OperationResult(OP_CODE.opINNER, stellar_xdr.OperationResultTr(op_type, **arm))


def effect(account: str, kind: str, **details: object) -> dict:
    record: dict = {"account": account, "type": kind, "type_i": EFFECT_TYPE_I[kind]}
    record.update(details)
    return record


def asset_effect(account: str, kind: str, asset: str, amount: int) -> dict:
    record = effect(account, kind, amount=format_amount(amount))
    record.update(horizon_fields(asset))
    return record
