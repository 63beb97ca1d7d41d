"""A StellarExchange that runs its real order path with Horizon answering at once, in-process.

The benchmarks time the connector's own CPU work (validation, quantisation, intent → operation,
transaction build and sign, result decoding, InFlightOrder bookkeeping and events), so the one
thing taken away is the network: `InstantHorizon` stands where `HorizonApi` stands for the
`TransactionPipeline` and answers like Horizon does (PENDING at submission, then the transaction
record on the account's transaction stream, i.e. `pipeline.notify_transaction`), with result XDR
prepared before timing starts. Everything else is the connector's own code, unchanged.
"""
from __future__ import annotations

from benchmarks import working_tree  # noqa: F401  (first: the connector of this working tree)

# isort: split
import asyncio
import time
from collections import deque
from decimal import Decimal
from typing import Any, Deque, Dict, Iterable, List, Optional, Sequence

from bidict import bidict
from hummingbot.connector.trading_rule import TradingRule
from stellar_sdk import Asset, Keypair
from stellar_sdk import xdr as x

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar.stellar_exchange import StellarExchange
from hummingbot.connector.exchange.stellar.stellar_tx_pipeline import TransactionPipeline

PASSPHRASE = CONSTANTS.SANDBOX_PASSPHRASE
TRADER = Keypair.from_raw_ed25519_seed(bytes([7] * 32))
ISSUER = Keypair.from_raw_ed25519_seed(bytes([8] * 32))
XLM = Asset.native()
USDC = Asset("USDC", ISSUER.public_key)
PAIR = "XLM-USDC"
START_SEQUENCE = 4_294_967_296
_STEP = Decimal("0.0000001")


# Result XDR as stellar-core writes it (built before timing)

def _offer_result(op_type: int, offer: Optional[x.OfferEntry], effect: int) -> x.OperationResult:
    success = x.ManageOfferSuccessResult(offers_claimed=[],
                                         offer=x.ManageOfferSuccessResultOffer(effect=effect, offer=offer))
    if op_type == x.OperationType.MANAGE_BUY_OFFER:
        inner = x.ManageBuyOfferResult(code=x.ManageBuyOfferResultCode.MANAGE_BUY_OFFER_SUCCESS, success=success)
        tr = x.OperationResultTr(type=op_type, manage_buy_offer_result=inner)
    else:
        inner = x.ManageSellOfferResult(code=x.ManageSellOfferResultCode.MANAGE_SELL_OFFER_SUCCESS, success=success)
        tr = x.OperationResultTr(type=op_type, manage_sell_offer_result=inner)
    return x.OperationResult(code=x.OperationResultCode.opINNER, tr=tr)


def created_sell_offer(offer_id: int, amount_stroops: int, price: tuple, base: Asset = XLM,
                       quote: Asset = USDC) -> x.OperationResult:
    entry = x.OfferEntry(seller_id=TRADER.xdr_account_id(), offer_id=x.Int64(offer_id),
                         selling=base.to_xdr_object(), buying=quote.to_xdr_object(), amount=x.Int64(amount_stroops),
                         price=x.Price(x.Int32(price[0]), x.Int32(price[1])), flags=x.Uint32(0),
                         ext=x.OfferEntryExt(0))
    return _offer_result(x.OperationType.MANAGE_SELL_OFFER, entry, x.ManageOfferEffect.MANAGE_OFFER_CREATED)


def deleted_sell_offer() -> x.OperationResult:
    return _offer_result(x.OperationType.MANAGE_SELL_OFFER, None, x.ManageOfferEffect.MANAGE_OFFER_DELETED)


def tx_success(op_results: Sequence[x.OperationResult]) -> str:
    fee = 100 * len(op_results)
    result = x.TransactionResultResult(code=x.TransactionResultCode.txSUCCESS, results=list(op_results))
    return x.TransactionResult(fee_charged=x.Int64(fee), result=result, ext=x.TransactionResultExt(0)).to_xdr()


class InstantHorizon:
    """The part of HorizonApi the pipeline uses, answering at once from prepared results."""

    def __init__(self) -> None:
        self.pipeline: Optional[TransactionPipeline] = None
        self._results: Deque[str] = deque()
        self._ledger = 1000
        self.submissions = 0

    def prepare(self, result_xdrs: Iterable[str]) -> None:
        """Result XDR for the next transactions, in the order they will be submitted."""
        self._results.extend(result_xdrs)

    async def get_account(self, account_id: str) -> Dict[str, Any]:
        return {"id": account_id, "sequence": str(START_SEQUENCE)}

    async def submit_transaction_async(self, envelope_xdr: str) -> Dict[str, Any]:
        # The lane waits for exactly one hash (one lane, one transaction in flight): reading it here
        # instead of hashing the envelope again keeps the stand-in's own cost out of the figures.
        pipeline = self.pipeline
        tx_hash = next(iter(pipeline.awaited_hashes))
        self._ledger += 1
        self.submissions += 1
        record = {"id": tx_hash, "hash": tx_hash, "ledger": self._ledger, "successful": True,
                  "paging_token": str(self._ledger << 32 | 1 << 12), "result_xdr": self._results.popleft()}
        # As the account's transaction stream would deliver it, on a later turn of the loop.
        asyncio.get_running_loop().call_soon(pipeline.notify_transaction, record)
        return {"tx_status": CONSTANTS.TX_STATUS_PENDING, "hash": tx_hash}

    async def get_transaction(self, tx_hash: str) -> Optional[Dict[str, Any]]:
        return None

    async def get_latest_ledger(self) -> Dict[str, Any]:
        return {"sequence": self._ledger, "closed_at": "2030-01-01T00:00:00Z"}


def trading_rule(pair: str) -> TradingRule:
    return TradingRule(trading_pair=pair, min_order_size=_STEP, min_price_increment=_STEP,
                       min_base_amount_increment=_STEP, min_quote_amount_increment=_STEP, min_notional_size=_STEP)


def pair_names(count: int) -> List[str]:
    """`count` trading pairs XLM-USDC, XLM-AS001, ... (all issued by ISSUER)."""
    return [PAIR] + [f"XLM-AS{i:03d}" for i in range(1, count)]


def asset_of(pair: str) -> Asset:
    return Asset(pair.split("-")[1], ISSUER.public_key)


def make_exchange(pairs: Sequence[str] = (PAIR,)) -> tuple:
    """(exchange, horizon): a StellarExchange for `pairs` whose pipeline talks to an InstantHorizon.
    Must be called with an event loop running (the pipeline creates futures on it)."""
    markets = ",".join(f"{asset_of(p).code}:{ISSUER.public_key}" for p in pairs)
    exchange = StellarExchange(stellar_secret_key=TRADER.secret, stellar_markets=markets,
                               stellar_horizon_url="http://127.0.0.1:9", stellar_network_passphrase=PASSPHRASE,
                               trading_pairs=list(pairs))
    horizon = InstantHorizon()
    pipeline = TransactionPipeline(horizon, exchange.authenticator, exchange.config_cache,
                                   network_passphrase=PASSPHRASE, max_fee_per_op=exchange._max_fee_stroops)
    horizon.pipeline = pipeline
    exchange._pipeline = pipeline
    exchange._set_trading_pair_symbol_map(bidict({p: p for p in pairs}))
    for pair in pairs:
        exchange._trading_rules[pair] = trading_rule(pair)
    exchange._set_current_timestamp(time.time())
    return exchange, horizon


async def stop_exchange(exchange: StellarExchange) -> None:
    await exchange.pipeline.stop()
