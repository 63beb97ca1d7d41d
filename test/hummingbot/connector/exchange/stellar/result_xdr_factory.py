"""TransactionResult XDR as stellar-core writes it, built with stellar-sdk's xdr classes (test helper)."""
from typing import List, Optional, Sequence, Tuple

from stellar_sdk import Asset, Keypair
from stellar_sdk import xdr as x

TX = x.TransactionResultCode


def account_id(public_key: str) -> x.AccountID:
    return Keypair.from_public_key(public_key).xdr_account_id()


def claim(seller: str, offer_id: int, asset_sold: Asset, amount_sold: int, asset_bought: Asset,
          amount_bought: int) -> x.ClaimAtom:
    """A claimed offer, written from the claimed offer owner's side (what it sold and got)."""
    return x.ClaimAtom(
        type=x.ClaimAtomType.CLAIM_ATOM_TYPE_ORDER_BOOK,
        order_book=x.ClaimOfferAtom(
            seller_id=account_id(seller), offer_id=x.Int64(offer_id),
            asset_sold=asset_sold.to_xdr_object(), amount_sold=x.Int64(amount_sold),
            asset_bought=asset_bought.to_xdr_object(), amount_bought=x.Int64(amount_bought)))


def offer_entry(seller: str, offer_id: int, selling: Asset, buying: Asset, amount: int,
                price: Tuple[int, int], passive: bool = False) -> x.OfferEntry:
    return x.OfferEntry(
        seller_id=account_id(seller), offer_id=x.Int64(offer_id), selling=selling.to_xdr_object(),
        buying=buying.to_xdr_object(), amount=x.Int64(amount), price=x.Price(x.Int32(price[0]), x.Int32(price[1])),
        flags=x.Uint32(1 if passive else 0), ext=x.OfferEntryExt(0))


def _success(claims: Sequence[x.ClaimAtom], offer: Optional[x.OfferEntry],
             effect: Optional[int]) -> x.ManageOfferSuccessResult:
    if effect is None:
        effect = (x.ManageOfferEffect.MANAGE_OFFER_CREATED if offer is not None
                  else x.ManageOfferEffect.MANAGE_OFFER_DELETED)
    return x.ManageOfferSuccessResult(offers_claimed=list(claims),
                                      offer=x.ManageOfferSuccessResultOffer(effect=effect, offer=offer))


def sell_offer_ok(claims: Sequence[x.ClaimAtom] = (), offer: Optional[x.OfferEntry] = None,
                  effect: Optional[int] = None, passive: bool = False) -> x.OperationResult:
    result = x.ManageSellOfferResult(code=x.ManageSellOfferResultCode.MANAGE_SELL_OFFER_SUCCESS,
                                     success=_success(claims, offer, effect))
    if passive:
        tr = x.OperationResultTr(type=x.OperationType.CREATE_PASSIVE_SELL_OFFER,
                                 create_passive_sell_offer_result=result)
    else:
        tr = x.OperationResultTr(type=x.OperationType.MANAGE_SELL_OFFER, manage_sell_offer_result=result)
    return x.OperationResult(code=x.OperationResultCode.opINNER, tr=tr)


def buy_offer_ok(claims: Sequence[x.ClaimAtom] = (), offer: Optional[x.OfferEntry] = None,
                 effect: Optional[int] = None) -> x.OperationResult:
    result = x.ManageBuyOfferResult(code=x.ManageBuyOfferResultCode.MANAGE_BUY_OFFER_SUCCESS,
                                    success=_success(claims, offer, effect))
    tr = x.OperationResultTr(type=x.OperationType.MANAGE_BUY_OFFER, manage_buy_offer_result=result)
    return x.OperationResult(code=x.OperationResultCode.opINNER, tr=tr)


def sell_offer_failed(code: x.ManageSellOfferResultCode) -> x.OperationResult:
    tr = x.OperationResultTr(type=x.OperationType.MANAGE_SELL_OFFER,
                             manage_sell_offer_result=x.ManageSellOfferResult(code=code))
    return x.OperationResult(code=x.OperationResultCode.opINNER, tr=tr)


def buy_offer_failed(code: x.ManageBuyOfferResultCode) -> x.OperationResult:
    tr = x.OperationResultTr(type=x.OperationType.MANAGE_BUY_OFFER,
                             manage_buy_offer_result=x.ManageBuyOfferResult(code=code))
    return x.OperationResult(code=x.OperationResultCode.opINNER, tr=tr)


def tx_result(code: TX, op_results: Optional[List[x.OperationResult]] = None, fee_charged: int = 100) -> str:
    """Base64 TransactionResult; op results only for txSUCCESS / txFAILED, as stellar-core does."""
    with_results = code in (TX.txSUCCESS, TX.txFAILED)
    result = x.TransactionResultResult(code=code, results=list(op_results or []) if with_results else None)
    return x.TransactionResult(fee_charged=x.Int64(fee_charged), result=result, ext=x.TransactionResultExt(0)).to_xdr()


def pool_claim(pool_id_hex: str, asset_sold: Asset, amount_sold: int, asset_bought: Asset,
               amount_bought: int) -> x.ClaimAtom:
    """An exchange with a liquidity pool, written from the pool's side (what it paid out and took in)."""
    return x.ClaimAtom(
        type=x.ClaimAtomType.CLAIM_ATOM_TYPE_LIQUIDITY_POOL,
        liquidity_pool=x.ClaimLiquidityAtom(
            liquidity_pool_id=x.PoolID(x.Hash(bytes.fromhex(pool_id_hex))),
            asset_sold=asset_sold.to_xdr_object(), amount_sold=x.Int64(amount_sold),
            asset_bought=asset_bought.to_xdr_object(), amount_bought=x.Int64(amount_bought)))


def v0_claim(seller: str, offer_id: int, asset_sold: Asset, amount_sold: int, asset_bought: Asset,
             amount_bought: int) -> x.ClaimAtom:
    """A claimed offer in the pre-protocol-18 shape (the seller as a bare ed25519 key)."""
    return x.ClaimAtom(
        type=x.ClaimAtomType.CLAIM_ATOM_TYPE_V0,
        v0=x.ClaimOfferAtomV0(
            seller_ed25519=x.Uint256(Keypair.from_public_key(seller).raw_public_key()), offer_id=x.Int64(offer_id),
            asset_sold=asset_sold.to_xdr_object(), amount_sold=x.Int64(amount_sold),
            asset_bought=asset_bought.to_xdr_object(), amount_bought=x.Int64(amount_bought)))


def path_payment_ok(strict_send: bool, claims: Sequence[x.ClaimAtom], destination: str, dest_asset: Asset,
                    delivered: int) -> x.OperationResult:
    """A successful PathPaymentStrictSend (or StrictReceive): the claim atoms and `last`, what was delivered."""
    last = x.SimplePaymentResult(destination=account_id(destination), asset=dest_asset.to_xdr_object(),
                                 amount=x.Int64(delivered))
    if strict_send:
        success = x.PathPaymentStrictSendResultSuccess(offers=list(claims), last=last)
        tr = x.OperationResultTr(type=x.OperationType.PATH_PAYMENT_STRICT_SEND,
                                 path_payment_strict_send_result=x.PathPaymentStrictSendResult(
                                     code=x.PathPaymentStrictSendResultCode.PATH_PAYMENT_STRICT_SEND_SUCCESS,
                                     success=success))
    else:
        success = x.PathPaymentStrictReceiveResultSuccess(offers=list(claims), last=last)
        tr = x.OperationResultTr(type=x.OperationType.PATH_PAYMENT_STRICT_RECEIVE,
                                 path_payment_strict_receive_result=x.PathPaymentStrictReceiveResult(
                                     code=x.PathPaymentStrictReceiveResultCode.PATH_PAYMENT_STRICT_RECEIVE_SUCCESS,
                                     success=success))
    return x.OperationResult(code=x.OperationResultCode.opINNER, tr=tr)


def path_payment_failed(code) -> x.OperationResult:
    """A failed path payment: `code` a PathPaymentStrictSendResultCode or PathPaymentStrictReceiveResultCode
    (NO_ISSUER carries the asset whose issuer is missing: native here)."""
    no_issuer = x.Asset(x.AssetType.ASSET_TYPE_NATIVE) if code.name.endswith("NO_ISSUER") else None
    if isinstance(code, x.PathPaymentStrictSendResultCode):
        tr = x.OperationResultTr(type=x.OperationType.PATH_PAYMENT_STRICT_SEND,
                                 path_payment_strict_send_result=x.PathPaymentStrictSendResult(
                                     code=code, no_issuer=no_issuer))
    else:
        tr = x.OperationResultTr(type=x.OperationType.PATH_PAYMENT_STRICT_RECEIVE,
                                 path_payment_strict_receive_result=x.PathPaymentStrictReceiveResult(
                                     code=code, no_issuer=no_issuer))
    return x.OperationResult(code=x.OperationResultCode.opINNER, tr=tr)
