"""Operation appliers: ``apply_operation(state, op, source_id, ctx) -> OpOutcome``.

Each applier follows stellar-core's checks in stellar-core's order and returns the same result
XDR, so stellar-sdk clients decode it as from a real network. Path payments trade each hop with the
better venue, book or liquidity pool (``venues``); pool-share trustlines, deposits and withdrawals are
``pool_ops``'. Effects and trades are Horizon-shaped
dicts without ``id``/``paging_token``/``created_at`` (the history assigns those). A failed operation
leaves the ledger untouched (its savepoint is restored); a transaction whose operation failed must
still be rolled back by the caller's own savepoint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stellar_sdk import xdr as stellar_xdr

from stellar_sandbox.core.amounts import (
    INT64_MAX,
    ROUND_PATH_STRICT_RECEIVE,
    ROUND_PATH_STRICT_SEND,
    adjust_offer,
    buy_offer_liabilities,
    format_amount,
    offer_liabilities,
)
from stellar_sandbox.core.assets import (
    NATIVE,
    account_id_from_muxed,
    account_id_from_xdr,
    account_id_to_xdr,
    canonical_pair,
    horizon_fields,
    is_valid_xdr_asset,
    issuer_of,
    key_from_xdr,
    xdr_from_key,
)
from stellar_sandbox.core.matching import (
    CONVERT_CROSS_SELF,
    CONVERT_OK,
    CONVERT_TOO_MANY,
    MAX_OFFERS_TO_CROSS,
    Claim,
    convert_with_offers,
)
from stellar_sandbox.core.op_base import (
    OP_CODE,
    TOID_OFFER_ID_FLAG,
    Failed,
    OpContext,
    OpOutcome,
    OpType,
    asset_effect,
    effect,
    inner,
    op_failure,
)
from stellar_sandbox.core.pool_ops import change_trust_pool_share, liquidity_pool_deposit, liquidity_pool_withdraw
from stellar_sandbox.core.pool_records import pool_trade_effect, pool_trade_json
from stellar_sandbox.core.state import AUTHORIZED_FLAG, PASSIVE_FLAG, LedgerState, Offer, iso_time
from stellar_sandbox.core.venues import PoolClaim, convert_hop


def apply_operation(state: LedgerState, op: stellar_xdr.Operation, source_id: str, ctx: OpContext) -> OpOutcome:
    """Apply one operation whose (already resolved) source account is ``source_id``.

    ``source_id`` is the G... address of the operation's source (the op's own, else the
    transaction's). Unsupported operation types return ``opNOT_SUPPORTED``.
    """
    state.ledger_seq = ctx.ledger_seq
    state.close_time = ctx.close_time
    applier = _APPLIERS.get(op.body.type)
    if applier is None:
        return OpOutcome(stellar_xdr.OperationResult(OP_CODE.opNOT_SUPPORTED))
    if source_id not in state.accounts:
        return OpOutcome(stellar_xdr.OperationResult(OP_CODE.opNO_ACCOUNT))
    token = state.snapshot()
    try:
        outcome = applier(state, op.body, source_id, ctx)
    except Failed as failure:
        state.restore(token)
        return OpOutcome(failure.result)
    except BaseException:
        state.restore(token)
        raise
    state.commit(token)
    return outcome


# ---- create account ---------------------------------------------------------------------------


def _create_account(state: LedgerState, body: stellar_xdr.OperationBody, source: str, ctx: OpContext) -> OpOutcome:
    op = body.create_account_op
    code = stellar_xdr.CreateAccountResultCode

    def fail(c: stellar_xdr.CreateAccountResultCode) -> Failed:
        return Failed(inner(OpType.CREATE_ACCOUNT, create_account_result=stellar_xdr.CreateAccountResult(c)))

    destination = account_id_from_xdr(op.destination)
    starting = op.starting_balance.int64
    if starting < 0 or destination == source:
        raise fail(code.CREATE_ACCOUNT_MALFORMED)
    if destination in state.accounts:
        raise fail(code.CREATE_ACCOUNT_ALREADY_EXIST)
    if starting < 2 * state.base_reserve:
        raise fail(code.CREATE_ACCOUNT_LOW_RESERVE)
    if state.available_balance(source, NATIVE) < starting:
        raise fail(code.CREATE_ACCOUNT_UNDERFUNDED)
    if not state.add_balance(source, NATIVE, -starting):
        raise AssertionError("debit within the available balance was refused")
    state.create_account(destination, starting, ctx.ledger_seq << 32)
    result = inner(
        OpType.CREATE_ACCOUNT,
        create_account_result=stellar_xdr.CreateAccountResult(code.CREATE_ACCOUNT_SUCCESS),
    )
    effects = [
        effect(destination, "account_created", starting_balance=format_amount(starting)),
        asset_effect(source, "account_debited", NATIVE, starting),
        effect(destination, "signer_created", weight=1, public_key=destination, key=""),
    ]
    return OpOutcome(result, effects)


# ---- change trust -----------------------------------------------------------------------------


def _change_trust(state: LedgerState, body: stellar_xdr.OperationBody, source: str, ctx: OpContext) -> OpOutcome:
    op = body.change_trust_op
    code = stellar_xdr.ChangeTrustResultCode

    def result(c: stellar_xdr.ChangeTrustResultCode) -> stellar_xdr.OperationResult:
        return inner(OpType.CHANGE_TRUST, change_trust_result=stellar_xdr.ChangeTrustResult(c))

    limit = op.limit.int64
    if op.line.type == stellar_xdr.AssetType.ASSET_TYPE_POOL_SHARE:
        return change_trust_pool_share(state, op, source)
    if limit < 0 or op.line.type == stellar_xdr.AssetType.ASSET_TYPE_NATIVE or not is_valid_xdr_asset(op.line):
        raise Failed(result(code.CHANGE_TRUST_MALFORMED))
    asset = key_from_xdr(op.line)
    issuer = issuer_of(asset)
    if issuer == source:
        raise Failed(result(code.CHANGE_TRUST_MALFORMED))
    line = state.trustline(source, asset)
    if line is not None:
        if limit < line.balance + line.buying_liabilities:
            raise Failed(result(code.CHANGE_TRUST_INVALID_LIMIT))
        if limit == 0:
            if line.pool_use_count:
                raise Failed(result(code.CHANGE_TRUST_CANNOT_DELETE))  # a pool-share trustline still needs it
            state.delete_trustline(source, asset)
            state.add_subentries(source, -1)
            kind = "trustline_removed"
        else:
            if issuer not in state.accounts:
                raise Failed(result(code.CHANGE_TRUST_NO_ISSUER))
            state.mut_trustline(source, asset).limit = limit
            kind = "trustline_updated"
    else:
        if limit == 0:
            raise Failed(result(code.CHANGE_TRUST_INVALID_LIMIT))
        issuer_account = state.accounts.get(issuer)
        if issuer_account is None:
            raise Failed(result(code.CHANGE_TRUST_NO_ISSUER))
        refusal = state.can_add_subentry(source)
        if refusal == "LOW_RESERVE":
            raise Failed(result(code.CHANGE_TRUST_LOW_RESERVE))
        if refusal is not None:
            raise op_failure(OP_CODE.opTOO_MANY_SUBENTRIES)
        state.add_subentries(source, 1)
        auth_required = issuer_account.flags & 1
        state.create_trustline(source, asset, limit, 0 if auth_required else AUTHORIZED_FLAG)
        kind = "trustline_created"
    trust_effect = effect(source, kind, limit=format_amount(limit))
    trust_effect.update(horizon_fields(asset))
    return OpOutcome(result(code.CHANGE_TRUST_SUCCESS), [trust_effect])


# ---- payments ---------------------------------------------------------------------------------


class _PathFailure(Exception):
    """A path payment failed with the suffix of its result code (``"UNDERFUNDED"``, ...)."""

    def __init__(self, suffix: str) -> None:
        super().__init__(suffix)
        self.suffix = suffix


def _credit(state: LedgerState, account_id: str, asset: str, amount: int) -> None:
    """Credit the destination as stellar-core's updateDestBalance does."""
    if asset != NATIVE and not state.is_issuer(account_id, asset):
        line = state.trustline(account_id, asset)
        if line is None:
            raise _PathFailure("NO_TRUST")
        if not line.is_authorized:
            raise _PathFailure("NOT_AUTHORIZED")
    if not state.add_balance(account_id, asset, amount):
        raise _PathFailure("LINE_FULL")


def _debit(state: LedgerState, account_id: str, asset: str, amount: int) -> None:
    """Debit the source as stellar-core's updateSourceBalance does."""
    if asset == NATIVE:
        if amount > state.available_balance(account_id, NATIVE):
            raise _PathFailure("UNDERFUNDED")
    elif not state.is_issuer(account_id, asset):
        line = state.trustline(account_id, asset)
        if line is None:
            raise _PathFailure("SRC_NO_TRUST")
        if not line.is_authorized:
            raise _PathFailure("SRC_NOT_AUTHORIZED")
    if not state.add_balance(account_id, asset, -amount):
        raise _PathFailure("UNDERFUNDED")


def _check_destination(state: LedgerState, destination: str, send: str, dest_asset: str, path: list[str]) -> None:
    # payments of an asset back to its issuer need no destination check (shouldBypassIssuerCheck)
    bypass = dest_asset != NATIVE and not path and send == dest_asset and issuer_of(dest_asset) == destination
    if not bypass and destination not in state.accounts:
        raise _PathFailure("NO_DESTINATION")


def _convert_hop(
    state: LedgerState, source: str, send: str, max_send: int, recv: str, max_recv: int, rounding: int, crossed: int
) -> tuple[int, int, list[Claim | PoolClaim]]:
    """One hop, whole, on the better of the book and the pool (see ``venues``)."""
    conv, claims = convert_hop(state, source, send, max_send, recv, max_recv, rounding, MAX_OFFERS_TO_CROSS - crossed)
    if conv.code == CONVERT_CROSS_SELF:
        raise _PathFailure("OFFER_CROSS_SELF")
    if conv.code == CONVERT_TOO_MANY:
        raise op_failure(OP_CODE.opEXCEEDED_WORK_LIMIT)
    exact = conv.wheat_received == max_recv if rounding == ROUND_PATH_STRICT_RECEIVE else conv.sheep_sent == max_send
    if conv.code != CONVERT_OK or not exact:
        raise _PathFailure("TOO_FEW_OFFERS")
    return conv.sheep_sent, conv.wheat_received, claims


def _strict_receive(
    state: LedgerState,
    source: str,
    destination: str,
    send_asset: str,
    send_max: int,
    dest_asset: str,
    dest_amount: int,
    path: list[str],
) -> tuple[int, list[Claim]]:
    """Returns (amount sent, claims in path order) or raises _PathFailure."""
    _check_destination(state, destination, send_asset, dest_asset, path)
    _credit(state, destination, dest_asset, dest_amount)
    recv_asset, max_recv = dest_asset, dest_amount
    claims: list[Claim] = []
    for send in [*reversed(path), send_asset]:
        if send == recv_asset:
            continue
        sent, _, hop = _convert_hop(
            state, source, send, INT64_MAX, recv_asset, max_recv, ROUND_PATH_STRICT_RECEIVE, len(claims)
        )
        claims[:0] = hop
        recv_asset, max_recv = send, sent
    if max_recv > send_max:
        raise _PathFailure("OVER_SENDMAX")
    _debit(state, source, send_asset, max_recv)
    return max_recv, claims


def _strict_send(
    state: LedgerState,
    source: str,
    destination: str,
    send_asset: str,
    send_amount: int,
    dest_asset: str,
    dest_min: int,
    path: list[str],
) -> tuple[int, list[Claim]]:
    """Returns (amount received by the destination, claims in path order) or raises _PathFailure."""
    _check_destination(state, destination, send_asset, dest_asset, path)
    _debit(state, source, send_asset, send_amount)
    send, max_send = send_asset, send_amount
    claims: list[Claim] = []
    for recv in [*path, dest_asset]:
        if recv == send:
            continue
        _, received, hop = _convert_hop(
            state, source, send, max_send, recv, INT64_MAX, ROUND_PATH_STRICT_SEND, len(claims)
        )
        claims.extend(hop)
        send, max_send = recv, received
    if max_send < dest_min:
        raise _PathFailure("UNDER_DESTMIN")
    _credit(state, destination, dest_asset, max_send)
    return max_send, claims


def _payment(state: LedgerState, body: stellar_xdr.OperationBody, source: str, ctx: OpContext) -> OpOutcome:
    op = body.payment_op
    code = stellar_xdr.PaymentResultCode

    def result(suffix: str) -> stellar_xdr.OperationResult:
        return inner(OpType.PAYMENT, payment_result=stellar_xdr.PaymentResult(code[f"PAYMENT_{suffix}"]))

    amount = op.amount.int64
    if amount <= 0 or not is_valid_xdr_asset(op.asset):
        raise Failed(result("MALFORMED"))
    destination = account_id_from_muxed(op.destination)
    asset = key_from_xdr(op.asset)
    if not (destination == source and asset == NATIVE):  # XLM to oneself succeeds without a change
        try:
            _strict_receive(state, source, destination, asset, amount, asset, amount, [])
        except _PathFailure as failure:
            raise Failed(result(failure.suffix)) from None
    effects = [
        asset_effect(destination, "account_credited", asset, amount),
        asset_effect(source, "account_debited", asset, amount),
    ]
    return OpOutcome(result("SUCCESS"), effects)


def _path_assets(path: list[stellar_xdr.Asset]) -> list[str] | None:
    if not all(is_valid_xdr_asset(a) for a in path):
        return None
    return [key_from_xdr(a) for a in path]


def _path_outcome(
    state: LedgerState, source: str, ctx: OpContext, claims: list[Claim], result: stellar_xdr.OperationResult
) -> OpOutcome:
    outcome = OpOutcome(result)
    _record_claims(state, outcome, source, claims, ctx.op_id | TOID_OFFER_ID_FLAG, ctx)
    return outcome


def _path_payment_strict_receive(
    state: LedgerState, body: stellar_xdr.OperationBody, source: str, ctx: OpContext
) -> OpOutcome:
    op = body.path_payment_strict_receive_op
    code = stellar_xdr.PathPaymentStrictReceiveResultCode
    prefix = "PATH_PAYMENT_STRICT_RECEIVE_"

    def result(suffix: str) -> stellar_xdr.OperationResult:
        return inner(
            OpType.PATH_PAYMENT_STRICT_RECEIVE,
            path_payment_strict_receive_result=stellar_xdr.PathPaymentStrictReceiveResult(code[prefix + suffix]),
        )

    dest_amount, send_max = op.dest_amount.int64, op.send_max.int64
    path = _path_assets(op.path)
    if dest_amount <= 0 or send_max <= 0 or path is None:
        raise Failed(result("MALFORMED"))
    if not (is_valid_xdr_asset(op.send_asset) and is_valid_xdr_asset(op.dest_asset)):
        raise Failed(result("MALFORMED"))
    destination = account_id_from_muxed(op.destination)
    send_asset, dest_asset = key_from_xdr(op.send_asset), key_from_xdr(op.dest_asset)
    try:
        sent, claims = _strict_receive(state, source, destination, send_asset, send_max, dest_asset, dest_amount, path)
    except _PathFailure as failure:
        raise Failed(result(failure.suffix)) from None
    success = stellar_xdr.PathPaymentStrictReceiveResultSuccess(
        offers=[c.to_xdr() for c in claims],
        last=stellar_xdr.SimplePaymentResult(
            account_id_to_xdr(destination), xdr_from_key(dest_asset), stellar_xdr.Int64(dest_amount)
        ),
    )
    outcome = _path_outcome(
        state,
        source,
        ctx,
        claims,
        inner(
            OpType.PATH_PAYMENT_STRICT_RECEIVE,
            path_payment_strict_receive_result=stellar_xdr.PathPaymentStrictReceiveResult(
                code.PATH_PAYMENT_STRICT_RECEIVE_SUCCESS, success=success
            ),
        ),
    )
    outcome.effects[:0] = [
        asset_effect(destination, "account_credited", dest_asset, dest_amount),
        asset_effect(source, "account_debited", send_asset, sent),
    ]
    return outcome


def _path_payment_strict_send(
    state: LedgerState, body: stellar_xdr.OperationBody, source: str, ctx: OpContext
) -> OpOutcome:
    op = body.path_payment_strict_send_op
    code = stellar_xdr.PathPaymentStrictSendResultCode
    prefix = "PATH_PAYMENT_STRICT_SEND_"

    def result(suffix: str) -> stellar_xdr.OperationResult:
        return inner(
            OpType.PATH_PAYMENT_STRICT_SEND,
            path_payment_strict_send_result=stellar_xdr.PathPaymentStrictSendResult(code[prefix + suffix]),
        )

    send_amount, dest_min = op.send_amount.int64, op.dest_min.int64
    path = _path_assets(op.path)
    if send_amount <= 0 or dest_min <= 0 or path is None:
        raise Failed(result("MALFORMED"))
    if not (is_valid_xdr_asset(op.send_asset) and is_valid_xdr_asset(op.dest_asset)):
        raise Failed(result("MALFORMED"))
    destination = account_id_from_muxed(op.destination)
    send_asset, dest_asset = key_from_xdr(op.send_asset), key_from_xdr(op.dest_asset)
    try:
        received, claims = _strict_send(state, source, destination, send_asset, send_amount, dest_asset, dest_min, path)
    except _PathFailure as failure:
        raise Failed(result(failure.suffix)) from None
    success = stellar_xdr.PathPaymentStrictSendResultSuccess(
        offers=[c.to_xdr() for c in claims],
        last=stellar_xdr.SimplePaymentResult(
            account_id_to_xdr(destination), xdr_from_key(dest_asset), stellar_xdr.Int64(received)
        ),
    )
    outcome = _path_outcome(
        state,
        source,
        ctx,
        claims,
        inner(
            OpType.PATH_PAYMENT_STRICT_SEND,
            path_payment_strict_send_result=stellar_xdr.PathPaymentStrictSendResult(
                code.PATH_PAYMENT_STRICT_SEND_SUCCESS, success=success
            ),
        ),
    )
    outcome.effects[:0] = [
        asset_effect(destination, "account_credited", dest_asset, received),
        asset_effect(source, "account_debited", send_asset, send_amount),
    ]
    return outcome


# ---- offers -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _OfferRequest:
    op_type: stellar_xdr.OperationType
    sheep: str  # what the source sells
    wheat: str  # what it buys
    offer_id: int
    price_n: int  # stored price: wheat per sheep
    price_d: int
    sell_amount: int | None  # ManageSellOffer / CreatePassiveSellOffer
    buy_amount: int | None  # ManageBuyOffer
    passive_on_create: bool

    @property
    def is_delete(self) -> bool:
        return (self.sell_amount if self.buy_amount is None else self.buy_amount) == 0


def _offer_result(
    op_type: stellar_xdr.OperationType, suffix: str, success: stellar_xdr.ManageOfferSuccessResult | None = None
) -> stellar_xdr.OperationResult:
    if op_type == OpType.MANAGE_BUY_OFFER:
        res_code = stellar_xdr.ManageBuyOfferResultCode[f"MANAGE_BUY_OFFER_{suffix}"]
        return inner(op_type, manage_buy_offer_result=stellar_xdr.ManageBuyOfferResult(res_code, success))
    res = stellar_xdr.ManageSellOfferResult(
        stellar_xdr.ManageSellOfferResultCode[f"MANAGE_SELL_OFFER_{suffix}"], success
    )
    if op_type == OpType.CREATE_PASSIVE_SELL_OFFER:
        return inner(op_type, create_passive_sell_offer_result=res)
    return inner(op_type, manage_sell_offer_result=res)


def _manage_sell_offer(state: LedgerState, body: stellar_xdr.OperationBody, source: str, ctx: OpContext) -> OpOutcome:
    op = body.manage_sell_offer_op
    return _manage_offer(
        state,
        source,
        ctx,
        op.selling,
        op.buying,
        _OfferRequest(
            OpType.MANAGE_SELL_OFFER,
            "",
            "",
            op.offer_id.int64,
            op.price.n.int32,
            op.price.d.int32,
            op.amount.int64,
            None,
            False,
        ),
    )


def _create_passive_sell_offer(
    state: LedgerState, body: stellar_xdr.OperationBody, source: str, ctx: OpContext
) -> OpOutcome:
    op = body.create_passive_sell_offer_op
    request = _OfferRequest(
        OpType.CREATE_PASSIVE_SELL_OFFER, "", "", 0, op.price.n.int32, op.price.d.int32, op.amount.int64, None, True
    )
    return _manage_offer(state, source, ctx, op.selling, op.buying, request)


def _manage_buy_offer(state: LedgerState, body: stellar_xdr.OperationBody, source: str, ctx: OpContext) -> OpOutcome:
    op = body.manage_buy_offer_op
    # stored as a sell offer of `selling` whose price is the inverse of the buy price
    request = _OfferRequest(
        OpType.MANAGE_BUY_OFFER,
        "",
        "",
        op.offer_id.int64,
        op.price.d.int32,
        op.price.n.int32,
        None,
        op.buy_amount.int64,
        False,
    )
    return _manage_offer(state, source, ctx, op.selling, op.buying, request)


def _manage_offer(
    state: LedgerState,
    source: str,
    ctx: OpContext,
    selling: stellar_xdr.Asset,
    buying: stellar_xdr.Asset,
    req: _OfferRequest,
) -> OpOutcome:
    op_type = req.op_type

    def fail(suffix: str) -> Failed:
        return Failed(_offer_result(op_type, suffix))

    # doCheckValid
    if not (is_valid_xdr_asset(selling) and is_valid_xdr_asset(buying)):
        raise fail("MALFORMED")
    sheep, wheat = key_from_xdr(selling), key_from_xdr(buying)
    req.sheep, req.wheat = sheep, wheat
    amount = req.sell_amount if req.buy_amount is None else req.buy_amount
    n, d = req.price_n, req.price_d
    if sheep == wheat or amount < 0 or n <= 0 or d <= 0:
        raise fail("MALFORMED")
    if req.offer_id < 0 or (req.offer_id == 0 and req.is_delete):
        raise fail("MALFORMED")

    # checkOfferValid
    if not req.is_delete:
        if sheep != NATIVE:
            if not state.holds(source, sheep):
                raise fail("SELL_NO_TRUST")
            if state.balance(source, sheep) == 0:
                raise fail("UNDERFUNDED")
            line = state.trustline(source, sheep)
            if line is not None and not line.is_authorized:
                raise fail("SELL_NOT_AUTHORIZED")
        if wheat != NATIVE:
            if not state.holds(source, wheat):
                raise fail("BUY_NO_TRUST")
            line = state.trustline(source, wheat)
            if line is not None and not line.is_authorized:
                raise fail("BUY_NOT_AUTHORIZED")

    outcome = OpOutcome(stellar_xdr.OperationResult(OP_CODE.opINNER))
    creating = req.offer_id == 0
    if creating:
        flags = PASSIVE_FLAG if req.passive_on_create else 0
        refusal = state.can_add_subentry(source)
        if refusal == "LOW_RESERVE":
            raise fail("LOW_RESERVE")
        if refusal is not None:
            raise op_failure(OP_CODE.opTOO_MANY_SUBENTRIES)
        state.add_subentries(source, 1)
    else:
        old = state.offer(req.offer_id)
        if old is None or old.seller != source:
            raise fail("NOT_FOUND")
        state.release_liabilities(old)
        flags = old.flags
        state.delete_offer(old.offer_id)
        outcome.changed_books.add((old.selling, old.buying))
        if req.is_delete:
            outcome.changed_offers.append(_gone_offer_json(state, old))

    claims: list[Claim] = []
    remaining = 0
    if not req.is_delete:
        remaining = _cross_and_size(state, source, req, flags, claims, fail)

    if remaining > 0:
        offer_id = state.generate_offer_id() if creating else req.offer_id
        offer = Offer(offer_id, source, sheep, wheat, remaining, n, d, flags)
        state.put_offer(offer)
        state.acquire_liabilities(offer)
        offer_effect = (
            stellar_xdr.ManageOfferEffect.MANAGE_OFFER_CREATED
            if creating
            else (stellar_xdr.ManageOfferEffect.MANAGE_OFFER_UPDATED)
        )
        offer_xdr = stellar_xdr.OfferEntry(
            seller_id=account_id_to_xdr(source),
            offer_id=stellar_xdr.Int64(offer_id),
            selling=xdr_from_key(sheep),
            buying=xdr_from_key(wheat),
            amount=stellar_xdr.Int64(remaining),
            price=stellar_xdr.Price(stellar_xdr.Int32(n), stellar_xdr.Int32(d)),
            flags=stellar_xdr.Uint32(flags),
            ext=stellar_xdr.OfferEntryExt(0),
        )
        result_offer = stellar_xdr.ManageOfferSuccessResultOffer(offer_effect, offer_xdr)
        taker_offer_id = offer_id
        outcome.changed_books.add((sheep, wheat))
        outcome.changed_offers.append(state.offer_json(offer))
    else:
        result_offer = stellar_xdr.ManageOfferSuccessResultOffer(stellar_xdr.ManageOfferEffect.MANAGE_OFFER_DELETED)
        state.add_subentries(source, -1)
        taker_offer_id = ctx.op_id | TOID_OFFER_ID_FLAG
        if not creating and not req.is_delete:
            outcome.changed_offers.append(
                _gone_offer_json(state, Offer(req.offer_id, source, sheep, wheat, 0, n, d, flags))
            )
    success = stellar_xdr.ManageOfferSuccessResult([c.to_xdr() for c in claims], result_offer)
    outcome.result = _offer_result(op_type, "SUCCESS", success)
    _record_claims(state, outcome, source, claims, taker_offer_id, ctx)
    return outcome


def _cross_and_size(
    state: LedgerState,
    source: str,
    req: _OfferRequest,
    flags: int,
    claims: list[Claim],
    fail: Callable[[str], Failed],
) -> int:
    """Cross the book for a new or updated offer; returns the amount left to rest on the book."""
    sheep, wheat, n, d = req.sheep, req.wheat, req.price_n, req.price_d
    if req.buy_amount is None:
        selling_liabilities, buying_liabilities = offer_liabilities(n, d, req.sell_amount)
    else:
        selling_liabilities, buying_liabilities = buy_offer_liabilities(n, d, req.buy_amount)
    if state.max_receive(source, wheat) < buying_liabilities:
        raise fail("LINE_FULL")
    if state.available_balance(source, sheep) < selling_liabilities:
        raise fail("UNDERFUNDED")
    max_wheat_receive = state.available_to_receive(source, wheat)
    max_sheep_send = state.available_to_sell(source, sheep)
    if req.buy_amount is None:
        max_sheep_send = min(req.sell_amount, max_sheep_send)
    else:
        max_wheat_receive = min(req.buy_amount, max_wheat_receive)
    if max_wheat_receive == 0:
        raise fail("LINE_FULL")
    conv = convert_with_offers(
        state,
        source,
        sheep,
        max_sheep_send,
        wheat,
        max_wheat_receive,
        claims,
        max_wheat_price=(d, n),
        passive=bool(flags & PASSIVE_FLAG),
    )
    if conv.code == CONVERT_CROSS_SELF:
        raise fail("CROSS_SELF")
    if conv.code == CONVERT_TOO_MANY:
        raise op_failure(OP_CODE.opEXCEEDED_WORK_LIMIT)
    if conv.wheat_received and not state.add_balance(source, wheat, conv.wheat_received):
        raise AssertionError("offer claimed over limit")
    if conv.sheep_sent and not state.add_balance(source, sheep, -conv.sheep_sent):
        raise AssertionError("offer sold more than balance")
    if conv.code == CONVERT_OK:
        return 0
    sheep_limit = state.available_to_sell(source, sheep)
    wheat_limit = state.available_to_receive(source, wheat)
    if req.buy_amount is None:
        sheep_limit = min(req.sell_amount - conv.sheep_sent, sheep_limit)
    else:
        wheat_limit = min(req.buy_amount - conv.wheat_received, wheat_limit)
    return adjust_offer(n, d, sheep_limit, wheat_limit)


def _gone_offer_json(state: LedgerState, offer: Offer) -> dict:
    """Offer JSON of an offer that left the book: its last shape with amount zero."""
    gone = Offer(
        offer.offer_id, offer.seller, offer.selling, offer.buying, 0, offer.price_n, offer.price_d, offer.flags
    )
    gone.last_modified_ledger, gone.last_modified_time = state.ledger_seq, state.close_time
    return state.offer_json(gone)


# ---- trades and trade effects -----------------------------------------------------------------


def _record_claims(
    state: LedgerState, outcome: OpOutcome, taker: str, claims: list[Claim], taker_offer_id: int, ctx: OpContext
) -> None:
    """Add Horizon's trade records, the two trade effects per claim and the makers' offer changes."""
    close_time = iso_time(ctx.close_time)
    for claim in claims:
        if isinstance(claim, PoolClaim):
            outcome.pools.add(claim.pool_id)
            outcome.trades.append(pool_trade_json(claim, taker, taker_offer_id, close_time))
            outcome.effects.append(pool_trade_effect(state.pools[claim.pool_id], claim, taker))
            continue
        outcome.changed_books.add((claim.asset_sold, claim.asset_bought))
        maker_offer = state.offer(claim.offer_id)
        if maker_offer is None:
            gone = Offer(
                claim.offer_id, claim.seller, claim.asset_sold, claim.asset_bought, 0, claim.price_n, claim.price_d
            )
            outcome.changed_offers.append(_gone_offer_json(state, gone))
        else:
            outcome.changed_offers.append(state.offer_json(maker_offer))
        if claim.amount_sold == 0 and claim.amount_bought == 0:
            outcome.trades.append(None)  # an offer removed without trading is not a trade, yet counts (as Horizon)
            continue
        outcome.trades.append(_trade_json(claim, taker, taker_offer_id, close_time))
        taker_side = effect(
            taker,
            "trade",
            seller=claim.seller,
            offer_id=str(claim.offer_id),
            sold_amount=format_amount(claim.amount_bought),
            bought_amount=format_amount(claim.amount_sold),
        )
        taker_side.update(horizon_fields(claim.asset_bought, "sold_"))
        taker_side.update(horizon_fields(claim.asset_sold, "bought_"))
        maker_side = effect(
            claim.seller,
            "trade",
            seller=taker,
            offer_id=str(claim.offer_id),
            sold_amount=format_amount(claim.amount_sold),
            bought_amount=format_amount(claim.amount_bought),
        )
        maker_side.update(horizon_fields(claim.asset_sold, "sold_"))
        maker_side.update(horizon_fields(claim.asset_bought, "bought_"))
        outcome.effects.append(taker_side)
        outcome.effects.append(maker_side)


def _trade_json(claim: Claim, taker: str, taker_offer_id: int, close_time: str) -> dict:
    """Horizon's trade resource (no id/paging_token), base/counter in canonical asset order."""
    base = (str(claim.offer_id), claim.seller, claim.amount_sold, claim.asset_sold)
    counter = (str(taker_offer_id), taker, claim.amount_bought, claim.asset_bought)
    price_n, price_d = claim.price_n, claim.price_d
    base_is_seller = canonical_pair(claim.asset_sold, claim.asset_bought)[0] == claim.asset_sold
    if not base_is_seller:
        base, counter = counter, base
        price_n, price_d = price_d, price_n
    trade = {
        "ledger_close_time": close_time,
        "trade_type": "orderbook",
        "base_offer_id": base[0],
        "base_account": base[1],
        "base_amount": format_amount(base[2]),
    }
    trade.update(horizon_fields(base[3], "base_"))
    trade.update(
        {
            "counter_offer_id": counter[0],
            "counter_account": counter[1],
            "counter_amount": format_amount(counter[2]),
        }
    )
    trade.update(horizon_fields(counter[3], "counter_"))
    trade["base_is_seller"] = base_is_seller
    trade["price"] = {"n": str(price_n), "d": str(price_d)}
    return trade


_APPLIERS: dict[stellar_xdr.OperationType, Callable[..., OpOutcome]] = {
    OpType.CREATE_ACCOUNT: _create_account,
    OpType.PAYMENT: _payment,
    OpType.PATH_PAYMENT_STRICT_RECEIVE: _path_payment_strict_receive,
    OpType.PATH_PAYMENT_STRICT_SEND: _path_payment_strict_send,
    OpType.MANAGE_SELL_OFFER: _manage_sell_offer,
    OpType.MANAGE_BUY_OFFER: _manage_buy_offer,
    OpType.CREATE_PASSIVE_SELL_OFFER: _create_passive_sell_offer,
    OpType.CHANGE_TRUST: _change_trust,
    OpType.LIQUIDITY_POOL_DEPOSIT: liquidity_pool_deposit,
    OpType.LIQUIDITY_POOL_WITHDRAW: liquidity_pool_withdraw,
}
