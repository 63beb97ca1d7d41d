"""The other side of the market: accounts and their trading, through real signed transactions over Horizon.

- `prepare_participants`: the trader (the connector's account), an issuer of the pairs' assets, a
  market maker and takers, funded by friendbot, trusting and holding the issued assets.
- `MarketActivity`: at `rate` events per second, either the maker re-quotes a ladder of offers
  outside the strategy's quotes (the price walking a little each time), or a taker crosses the
  spread with a path payment to itself, which takes the best offers (the strategy's, when it quotes
  inside the ladder) and never leaves an offer of its own on the book.

Everything goes over HTTP, so it works against the embedded sandbox and any Horizon with a friendbot.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any, Dict, List, Optional, Sequence, Tuple

import aiohttp
from stellar_sdk import Account, Asset, Keypair, LiquidityPoolAsset, TransactionBuilder
from stellar_sdk.operation import (
    ChangeTrust,
    LiquidityPoolDeposit,
    ManageBuyOffer,
    ManageSellOffer,
    PathPaymentStrictSend,
    Payment,
)

logger = logging.getLogger(__name__)

NATIVE_TOKEN = "XLM"
ISSUED_FUNDING = Decimal("5000")    # of every issued asset, to each participant
_STROOP = Decimal("0.0000001")
_BASE_FEE = 100
_MAKER_SHARE = 0.2                  # share of the events that re-quote the maker's ladder
_LADDER_STEP = Decimal("0.005")     # the maker's levels: this much further out each
_LADDER_LEVELS = 3
_PRICE_STEP = Decimal("0.001")      # the reference price walks at most this fraction per re-quote
# A taker takes this share of an order amount: mostly partial fills, so the strategy's refreshes still
# cancel resting orders (a run measures creates, cancels and fills, not only fills).
_TAKE_SIZE = (0.05, 0.4)


class HorizonRequestError(RuntimeError):
    def __init__(self, status: int, body: Any, what: str) -> None:
        codes = body.get("extras", {}).get("result_codes") if isinstance(body, dict) else None
        title = body.get("title") if isinstance(body, dict) else None
        super().__init__(f"{what}: HTTP {status} {codes or title or ''}".rstrip())
        self.status = status
        self.result_codes: Dict[str, Any] = codes or {}


class HorizonClient:
    """The few Horizon calls the participants make (not the connector's: it has its own)."""

    def __init__(self, session: aiohttp.ClientSession, url: str, passphrase: str) -> None:
        self.session = session
        self.url = url.rstrip("/")
        self.passphrase = passphrase

    async def get(self, path: str, **params: Any) -> Dict[str, Any]:
        async with self.session.get(self.url + path, params=params or None) as response:
            body = await response.json(content_type=None)
            if response.status != 200:
                raise HorizonRequestError(response.status, body, f"GET {path}")
            return body

    async def records(self, path: str, **params: Any) -> List[Dict[str, Any]]:
        params.setdefault("limit", 200)
        return (await self.get(path, **params)).get("_embedded", {}).get("records", [])

    async def exists(self, account_id: str) -> bool:
        try:
            await self.get(f"/accounts/{account_id}")
            return True
        except HorizonRequestError as error:
            if error.status == 404:
                return False
            raise

    async def friendbot(self, account_id: str) -> None:
        await self.get("/friendbot", addr=account_id)

    async def submit(self, envelope_xdr: str, what: str = "transaction") -> Dict[str, Any]:
        """Submit and wait for the ledger (POST /transactions)."""
        async with self.session.post(self.url + "/transactions", data={"tx": envelope_xdr}) as response:
            body = await response.json(content_type=None)
            if response.status != 200:
                raise HorizonRequestError(response.status, body, what)
            return body


@dataclass
class Participants:
    trader: Keypair
    issuer: Keypair
    maker: Keypair
    takers: List[Keypair]
    assets: Dict[str, Asset] = field(default_factory=dict)  # token name -> asset (XLM: native)
    channels: List[Keypair] = field(default_factory=list)  # the trader's channel accounts (XLM only)

    @property
    def markets(self) -> str:
        """The connector's `stellar_markets`: every issued asset as CODE:ISSUER."""
        return ",".join(f"{a.code}:{a.issuer}" for a in self.assets.values() if not a.is_native())

    def pair_assets(self, trading_pair: str) -> Tuple[Asset, Asset]:
        base, quote = trading_pair.split("-")
        return self.assets[base], self.assets[quote]

    def __repr__(self) -> str:  # public keys only: secrets never leave the keypairs
        return (f"Participants(trader={self.trader.public_key}, issuer={self.issuer.public_key}, "
                f"maker={self.maker.public_key}, takers={len(self.takers)}, assets={sorted(self.assets)})")


def reference_price(trading_pair: str) -> Decimal:
    """Where a pair's market starts: lumens trade around 0.1 of an issued asset, issued assets at par."""
    base, _quote = trading_pair.split("-")
    return Decimal("0.1") if base == NATIVE_TOKEN else Decimal("1")


async def prepare_participants(horizon: HorizonClient, pairs: Sequence[str], takers: int = 2,
                               trader_secret: Optional[str] = None, channels: int = 0) -> Participants:
    """Create and fund every account, issue the pairs' assets and hand them out (real transactions).
    `channels` accounts pay the fees of the trader's transactions, one in flight each (XLM only)."""
    tokens = sorted({token for pair in pairs for token in pair.split("-")})
    trader = Keypair.from_secret(trader_secret) if trader_secret else Keypair.random()
    participants = Participants(trader=trader, issuer=Keypair.random(), maker=Keypair.random(),
                                takers=[Keypair.random() for _ in range(takers)],
                                channels=[Keypair.random() for _ in range(channels)])
    participants.assets = {token: Asset.native() if token == NATIVE_TOKEN else
                           Asset(token, participants.issuer.public_key) for token in tokens}
    new_accounts = [participants.issuer, participants.maker, *participants.takers, *participants.channels]
    if not await horizon.exists(trader.public_key):
        new_accounts.append(trader)
    await asyncio.gather(*(horizon.friendbot(k.public_key) for k in new_accounts))
    issued = [a for a in participants.assets.values() if not a.is_native()]
    if issued:
        holders = [trader, participants.maker, *participants.takers]
        await asyncio.gather(*(_trust_and_fund(horizon, holder, participants.issuer, issued) for holder in holders))
    return participants


async def _trust_and_fund(horizon: HorizonClient, holder: Keypair, issuer: Keypair, assets: List[Asset]) -> None:
    account = await horizon.get(f"/accounts/{holder.public_key}")
    trusted = {(b.get("asset_code"), b.get("asset_issuer")) for b in account.get("balances", [])}
    builder = _builder(horizon, holder.public_key, int(account["sequence"]))
    for asset in assets:
        if (asset.code, asset.issuer) not in trusted:
            builder.append_operation(ChangeTrust(asset=asset))
        builder.append_operation(Payment(destination=holder.public_key, asset=asset, amount=str(ISSUED_FUNDING),
                                         source=issuer.public_key))
    envelope = builder.build()
    envelope.sign(holder)
    envelope.sign(issuer)
    await horizon.submit(envelope.to_xdr(), f"funding {holder.public_key}")


async def provide_pool_liquidity(horizon: HorizonClient, participants: Participants, pairs: Sequence[str],
                                 depth: Decimal) -> Dict[str, str]:
    """The maker deposits `depth` base units, and their value at the pair's reference price in quote, into each
    pair's liquidity pool (trusting its shares first), in one transaction before its first ladder: takers' path
    payments then take the pool where it quotes better, and the connector's book shows it. Pair -> pool id."""
    maker = participants.maker
    account = await horizon.get(f"/accounts/{maker.public_key}")
    builder = _builder(horizon, maker.public_key, int(account["sequence"]))
    pools = {}
    for pair in pairs:
        base, quote = participants.pair_assets(pair)
        amounts = {base: depth, quote: depth * reference_price(pair)}
        asset_a, asset_b = (base, quote) if LiquidityPoolAsset.is_valid_lexicographic_order(base, quote) \
            else (quote, base)
        pool = LiquidityPoolAsset(asset_a, asset_b)
        ratio = amounts[asset_a] / amounts[asset_b]   # the deposit's price, A per B: within ±10 %
        builder.append_operation(ChangeTrust(asset=pool))
        builder.append_operation(LiquidityPoolDeposit(pool.liquidity_pool_id, _amount(amounts[asset_a]),
                                                      _amount(amounts[asset_b]), _amount(ratio * Decimal("0.9")),
                                                      _amount(ratio * Decimal("1.1"))))
        pools[pair] = pool.liquidity_pool_id
    envelope = builder.build()
    envelope.sign(maker)
    await horizon.submit(envelope.to_xdr(), "maker's pool deposit")
    return pools


def _builder(horizon: HorizonClient, account_id: str, sequence: int, fee: int = _BASE_FEE) -> TransactionBuilder:
    return TransactionBuilder(Account(account_id, sequence), horizon.passphrase, base_fee=fee).set_timeout(60)


def _amount(value: Decimal) -> str:
    return str(value.quantize(_STROOP, rounding=ROUND_DOWN))


class _Trader:
    """One account's sequence numbers; one transaction in flight at a time."""

    def __init__(self, keypair: Keypair, fee: int = _BASE_FEE) -> None:
        self.keypair = keypair
        self.fee = fee   # the most it bids per operation (a surge charges less than a high bid, never more)
        self.sequence: Optional[int] = None
        self.busy = False

    async def submit(self, horizon: HorizonClient, operations: List[Any], what: str) -> Dict[str, Any]:
        if self.sequence is None:
            self.sequence = int((await horizon.get(f"/accounts/{self.keypair.public_key}"))["sequence"])
        builder = _builder(horizon, self.keypair.public_key, self.sequence, self.fee)
        for operation in operations:
            builder.append_operation(operation)
        envelope = builder.build()
        envelope.sign(self.keypair)
        try:
            result = await horizon.submit(envelope.to_xdr(), what)
        except HorizonRequestError as error:
            if error.result_codes.get("transaction") == "tx_failed":
                self.sequence += 1  # applied and failed: its sequence number is used
            else:
                self.sequence = None  # not applied, or unknown: read it again next time
            raise
        except Exception:
            self.sequence = None
            raise
        self.sequence += 1
        return result


class MarketActivity:
    """The maker's ladder and the takers' crossing orders at `rate` events per second."""

    def __init__(self, horizon: HorizonClient, participants: Participants, pairs: Sequence[str], *, rate: float,
                 order_amount: Decimal, outside_spread: Decimal, seed: Optional[int] = None,
                 max_fee: int = _BASE_FEE) -> None:
        """`max_fee`: the participants' bid per operation (above the base fee, they trade through a fee surge)."""
        self.horizon = horizon
        self.participants = participants
        self.pairs = list(pairs)
        self.rate = rate
        self.order_amount = order_amount
        self.outside_spread = outside_spread
        self.prices = {pair: reference_price(pair) for pair in self.pairs}
        self.stats: Counter = Counter(maker_refreshes=0, taker_orders=0, failed=0, skipped=0)
        self._random = random.Random(seed)
        self._maker = _Trader(participants.maker, max_fee)
        self._takers = [_Trader(k, max_fee) for k in participants.takers]
        self._loop_task: Optional[asyncio.Task] = None
        self._in_flight: set[asyncio.Task] = set()

    # ----- lifecycle -----

    async def place_ladders(self) -> None:
        """The maker's first ladder on every pair, before anyone looks at the book."""
        await self._maker.submit(self.horizon, await self._ladder_operations(walk=False), "maker ladder")

    def start(self) -> None:
        if self._loop_task is None and self.rate > 0:
            self._loop_task = asyncio.ensure_future(self._events())

    async def stop(self) -> None:
        task, self._loop_task = self._loop_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # Let the transactions already submitted finish: they are in the ledger either way.
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    # ----- events -----

    async def _events(self) -> None:
        interval = 1.0 / self.rate
        loop = asyncio.get_running_loop()
        next_event = loop.time()
        while True:
            next_event += interval
            await asyncio.sleep(max(0.0, next_event - loop.time()))
            next_event = max(next_event, loop.time() - interval)  # after a stall, no burst of catch-up events
            free_takers = [t for t in self._takers if not t.busy]
            if not self._maker.busy and (self._random.random() < _MAKER_SHARE or not free_takers):
                self._spawn(self._maker, self._requote(), "maker_refreshes")
            elif free_takers:
                taker = self._random.choice(free_takers)
                self._spawn(taker, self._take(self._random.choice(self.pairs), taker.keypair.public_key),
                            "taker_orders")
            else:
                self.stats["skipped"] += 1

    def _spawn(self, trader: _Trader, operations_coro, stat: str) -> None:
        trader.busy = True
        task = asyncio.ensure_future(self._submit(trader, operations_coro, stat))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _submit(self, trader: _Trader, operations_coro, stat: str) -> None:
        try:
            operations = await operations_coro
            await trader.submit(self.horizon, operations, stat)
            self.stats[stat] += 1
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.stats["failed"] += 1
            logger.debug("market activity: %s failed: %s", stat, error)
        finally:
            trader.busy = False

    async def _requote(self) -> List[Any]:
        return await self._ladder_operations(walk=True)

    async def _ladder_operations(self, walk: bool) -> List[Any]:
        """Delete the maker's offers and place a fresh ladder on each pair, in one transaction."""
        operations: List[Any] = []
        for offer in await self.horizon.records(f"/accounts/{self.participants.maker.public_key}/offers"):
            operations.append(ManageSellOffer(selling=_horizon_asset(offer["selling"]),
                                              buying=_horizon_asset(offer["buying"]),
                                              amount="0", price=offer["price"], offer_id=int(offer["id"])))
        for pair in self.pairs:
            if walk:
                step = Decimal(str(self._random.uniform(-1, 1))) * _PRICE_STEP
                self.prices[pair] = (self.prices[pair] * (1 + step)).quantize(_STROOP)
            base, quote = self.participants.pair_assets(pair)
            price = self.prices[pair]
            amount = self.order_amount * 2
            for level in range(1, _LADDER_LEVELS + 1):
                spread = self.outside_spread + level * _LADDER_STEP
                operations.append(ManageSellOffer(selling=base, buying=quote, amount=_amount(amount),
                                                  price=_amount(price * (1 + spread))))
                operations.append(ManageBuyOffer(selling=quote, buying=base, amount=_amount(amount),
                                                 price=_amount(price * (1 - spread))))
        return operations

    async def _take(self, pair: str, taker_id: str) -> List[Any]:
        """A market order: a path payment to oneself that crosses the book and leaves nothing behind."""
        base, quote = self.participants.pair_assets(pair)
        size = self.order_amount * Decimal(str(self._random.uniform(*_TAKE_SIZE)))
        if self._random.random() < 0.5:  # sell base into the bids
            send_asset, send_amount, dest_asset = base, size, quote
        else:  # buy base from the asks, paying its value in quote
            send_asset, send_amount, dest_asset = quote, size * self.prices[pair], base
        return [PathPaymentStrictSend(destination=taker_id, send_asset=send_asset, send_amount=_amount(send_amount),
                                      dest_asset=dest_asset, dest_min=str(_STROOP), path=[])]


def _horizon_asset(record: Dict[str, Any]) -> Asset:
    if record.get("asset_type") == "native":
        return Asset.native()
    return Asset(record["asset_code"], record["asset_issuer"])
