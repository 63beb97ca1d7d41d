"""The liquidity pool of a trading pair, followed on Horizon: its reserves kept current at no REST cost.

Horizon has no stream of a pool itself (`/liquidity_pools/{id}` is a plain object), but it streams the pool's
effects (`/liquidity_pools/{id}/effects`), and every effect that changes the reserves (`liquidity_pool_deposited`,
`_withdrew`, `_trade`, also `_created` and `_revoked`) carries the pool as it is after its operation
(`liquidity_pool`: reserves and shares). So a `PoolFeed`:

- works the pool's id out itself (SHA-256 of its LiquidityPoolParameters XDR, assets in stellar-core's order),
  so that its effects stream is open before the pool exists: a pool created later is seen at once;
- at start (and whenever its listener starts again): reads the newest effect's paging token, the stream's
  cursor (from it nothing is missed, whatever the connection does), then the pool from
  `/liquidity_pools?reserves=<base>,<quote>` (its reserves; none: no pool yet): two REST reads;
- from then on follows the effects stream alone, resumed by its cursor after a drop: no REST read in steady
  state, however busy the pool. A ledger's burst of effects is told to the book once (`pending`): the book's
  parser reads the reserves when it gets to them (`levels_to_show`) and rebuilds the pool's levels once.
"""
import asyncio
import hashlib
import logging
from typing import Any, Dict, List, Optional, Tuple

from stellar_sdk import Asset
from stellar_sdk import xdr as stellar_xdr
from stellar_sdk.strkey import StrKey

import hummingbot.connector.exchange.stellar.stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar.stellar_amounts import to_stroops
from hummingbot.connector.exchange.stellar.stellar_assets import asset_key
from hummingbot.connector.exchange.stellar.stellar_pool_levels import LIQUIDITY_POOL_FEE_BP, PoolLevels, pool_levels

Reserves = Tuple[int, int]   # (base, quote) in stroops
_TYPE_RANK = {"native": 0, "credit_alphanum4": 1, "credit_alphanum12": 2}


def _xdr_order(asset: Asset) -> Tuple[int, bytes, bytes]:
    """stellar-core's order of assets: type, then the code's zero-padded bytes, then the issuer's raw key
    bytes (not its G... text, which sorts some issuers the other way)."""
    if asset.issuer is None:
        return 0, b"", b""
    kind = asset.type
    code = asset.code.encode("ascii").ljust(4 if kind == "credit_alphanum4" else 12, b"\0")
    return _TYPE_RANK[kind], code, StrKey.decode_ed25519_public_key(asset.issuer)


def pool_id_for(asset_x: Asset, asset_y: Asset) -> str:
    """The id (64 hex digits) of the constant-product pool of two assets, as stellar-core's getPoolID."""
    asset_a, asset_b = sorted((asset_x, asset_y), key=_xdr_order)
    parameters = stellar_xdr.LiquidityPoolParameters(
        stellar_xdr.LiquidityPoolType.LIQUIDITY_POOL_CONSTANT_PRODUCT,
        constant_product=stellar_xdr.LiquidityPoolConstantProductParameters(
            asset_a.to_xdr_object(), asset_b.to_xdr_object(), stellar_xdr.Int32(LIQUIDITY_POOL_FEE_BP)))
    return hashlib.sha256(parameters.to_xdr_bytes()).hexdigest()


class PoolFeed:
    """One pair's pool: its id, its reserves as Horizon last told them, and whether the book has seen them."""

    START_READ_TIMEOUT = 10.0   # s for each of the two reads at start

    def __init__(self, trading_pair: str, base: Asset, quote: Asset, stream_group: Any, queue: asyncio.Queue,
                 logger: logging.Logger, idle_timeout: Optional[float] = None):
        self.trading_pair = trading_pair
        self.pool_id = pool_id_for(base, quote)
        self._keys = (asset_key(base), asset_key(quote))
        self._group = stream_group
        self._queue = queue            # the book messages' queue: a change is told there, in order with the books
        self._logger = logger
        self._idle_timeout = idle_timeout
        self.reserves: Optional[Reserves] = None   # None: not read yet
        self._shown: Reserves = (0, 0)             # the reserves the book was last given levels for
        self.pending = False                       # a change told to the book, not yet taken
        self.effects = 0                           # effects that told of the reserves

    # For the book's parser

    def levels_to_show(self) -> Tuple[bool, Optional[PoolLevels]]:
        """(whether the reserves changed since the book last took them, their levels: None for no pool)."""
        self.pending = False
        reserves = self.reserves
        if reserves is None or reserves == self._shown:
            return False, None
        self._shown = reserves
        return True, pool_levels(*reserves) if reserves[0] > 0 and reserves[1] > 0 else None

    # Following the pool

    async def follow(self) -> None:
        """Read the start cursor and the pool, then follow the pool's effects until cancelled."""
        cursor = await self._start_cursor()
        record = await self._find_pool()
        if record is not None and record.get("id") != self.pool_id:
            # Horizon names another pool for the pair: Horizon knows best (this would be our mistake).
            self._logger.warning(f"Horizon's liquidity pool of {self.trading_pair} is {record.get('id')}, not "
                                 f"{self.pool_id} as worked out; following Horizon's.")
            self.pool_id = record["id"]
            cursor = await self._start_cursor()
        self._set(self._reserves_of(record["reserves"]) if record is not None else (0, 0))
        path = CONSTANTS.LIQUIDITY_POOL_EFFECTS_PATH
        stream = self._group.open_stream(self.trading_pair, f"{path} {self.trading_pair}",
                                         path.format(liquidity_pool_id=self.pool_id), None, cursor, limit_id=path,
                                         idle_timeout=self._idle_timeout)
        async for _event_id, effect in stream:
            self.apply_effect(effect)

    def apply_effect(self, effect: Dict[str, Any]) -> None:
        """The reserves an effect of the pool tells of, if any (the pool after its operation)."""
        pool = effect.get("liquidity_pool")
        if isinstance(pool, dict) and pool.get("id") == self.pool_id and "reserves" in pool:
            try:
                reserves = self._reserves_of(pool["reserves"])
            except (KeyError, TypeError, ValueError) as error:
                self._logger.warning(f"Ignored a {effect.get('type')} effect of the {self.trading_pair} liquidity "
                                     f"pool with unreadable reserves: {error}")
                return
        elif effect.get("type") == "liquidity_pool_removed" and effect.get("liquidity_pool_id") == self.pool_id:
            reserves = (0, 0)
        else:
            return   # an effect of another participant of the operation (an account credited...)
        self.effects += 1
        self._set(reserves)

    def _set(self, reserves: Reserves) -> None:
        self.reserves = reserves
        if not self.pending:
            self.pending = True
            self._queue.put_nowait({"trading_pair": self.trading_pair, "pool": self})

    def _reserves_of(self, reserves: List[Dict[str, Any]]) -> Reserves:
        amounts = {entry["asset"]: to_stroops(entry["amount"]) for entry in reserves}
        base, quote = self._keys
        return amounts[base], amounts[quote]

    async def _start_cursor(self) -> str:
        """The paging token of the pool's newest effect ("0" when it has none yet: all that comes is new)."""
        path = CONSTANTS.LIQUIDITY_POOL_EFFECTS_PATH
        try:
            async with asyncio.timeout(self.START_READ_TIMEOUT):   # unlike wait_for, never drops a cancel
                data = await self._group.get_json(path.format(liquidity_pool_id=self.pool_id),
                                                  {"order": "desc", "limit": "1"}, limit_id=path)
            records = data["_embedded"]["records"]
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._logger.warning(f"Could not read the latest effect of the {self.trading_pair} liquidity pool "
                                 f"({error}); following its effects from now.")
            return "now"
        return records[0]["paging_token"] if records else "0"

    async def _find_pool(self) -> Optional[Dict[str, Any]]:
        """The pair's pool record from `/liquidity_pools?reserves=`, None when it has none. Raises when Horizon
        cannot tell (the listener starts again after a backoff)."""
        async with asyncio.timeout(self.START_READ_TIMEOUT):
            data = await self._group.get_json(CONSTANTS.LIQUIDITY_POOLS_PATH,
                                              {"reserves": ",".join(self._keys), "limit": "200"})
        keys = set(self._keys)
        for record in data["_embedded"]["records"]:
            if {entry.get("asset") for entry in record.get("reserves", ())} == keys \
                    and record.get("fee_bp", LIQUIDITY_POOL_FEE_BP) == LIQUIDITY_POOL_FEE_BP:
                return record
        return None
