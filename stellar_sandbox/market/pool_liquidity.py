"""The liquidity pool of the market's pair, for market activity that asks for one (``pool_depth``).

``open`` gives a few participants (the *providers*) pool-share trustlines and seeds the pool at the mid
price with ``pool_depth`` base units, through real transactions. Then, each time a provider's turn
comes, ``operations`` plans its next deposits (a small slice of the reserves at the pool's own price,
bounds ±1 %) or withdrawals (part of its shares). Trading with the pool needs nothing here: the
takers' path payments go to the pool whenever it quotes the whole take better than the book.
"""
from __future__ import annotations

import random
from typing import Any

from stellar_sdk import (
    Account,
    Asset,
    ChangeTrust,
    LiquidityPoolAsset,
    LiquidityPoolDeposit,
    LiquidityPoolWithdraw,
    Price,
    TransactionBuilder,
)
from stellar_sdk.operation import Operation

from stellar_sandbox.core.amounts import format_amount, price_fraction
from stellar_sandbox.core.assets import key_from_sdk
from stellar_sandbox.core.pools import ordered, pool_share_key

Record = dict[str, Any]
STROOPS = 10_000_000
PRICE_BAND = 0.01  # deposits accept the pool's price ±1 %
DEPOSIT_SHARE = (0.001, 0.01)  # of the reserves, per deposit
WITHDRAW_SHARE = (0.05, 0.3)  # of the provider's shares, per withdrawal


def _fraction(value: float) -> Price:
    return Price(*price_fraction(value))


class PoolLiquidity:
    def __init__(self, sandbox: Any, base: Asset, counter: Asset, rng: random.Random) -> None:
        self.sandbox = sandbox
        self.rng = rng
        by_key = {key_from_sdk(base): base, key_from_sdk(counter): counter}
        key_a, key_b = ordered(key_from_sdk(base), key_from_sdk(counter))
        self.asset_a, self.asset_b = by_key[key_a], by_key[key_b]
        if not LiquidityPoolAsset.is_valid_lexicographic_order(self.asset_a, self.asset_b):
            raise ValueError("stellar-sdk orders this pair's assets unlike stellar-core: it cannot build the pool")
        self.pool_asset = LiquidityPoolAsset(self.asset_a, self.asset_b)
        self.pool_id = self.pool_asset.liquidity_pool_id
        self.base_is_a = key_a == key_from_sdk(base)
        self.deposits = self.withdrawals = 0

    async def open(self, providers: list[Any], depth: float, mid: float) -> None:
        """Share trustlines for every provider; the first one seeds `depth` base (and depth × mid counter)."""
        for index, provider in enumerate(providers):
            operations: list[Operation] = [ChangeTrust(self.pool_asset)]
            pool = self._pool()
            if index == 0 and (pool is None or pool.total_shares == 0):
                base_amount, counter_amount = depth, depth * mid
                amount_a, amount_b = (base_amount, counter_amount) if self.base_is_a else (counter_amount, base_amount)
                operations.append(self._deposit(round(amount_a * STROOPS), round(amount_b * STROOPS)))
            await self._submit(provider.keypair, operations)

    def operations(self, account_id: str, count: int) -> list[Operation]:
        """Up to `count` deposits or withdrawals for one provider (at most one withdrawal per transaction)."""
        pool = self._pool()
        if pool is None or pool.total_shares == 0:
            return []
        line = self.sandbox.network.state.trustline(account_id, pool_share_key(self.pool_id))
        shares = 0 if line is None else line.balance
        planned: list[Operation] = []
        withdrawn = False
        for _ in range(count):
            if shares and not withdrawn and self.rng.random() < 0.5:
                redeem = max(1, round(shares * self.rng.uniform(*WITHDRAW_SHARE)))
                planned.append(LiquidityPoolWithdraw(self.pool_id, format_amount(redeem), "0", "0"))
                withdrawn = True
                self.withdrawals += 1
            else:
                share = self.rng.uniform(*DEPOSIT_SHARE)
                planned.append(self._deposit(max(1, round(pool.reserve_a * share)),
                                             max(1, round(pool.reserve_b * share))))
                self.deposits += 1
        return planned

    def stats(self) -> Record:
        pool = self._pool()
        record: Record = {"id": self.pool_id, "deposits_planned": self.deposits,
                          "withdrawals_planned": self.withdrawals}
        if pool is not None:
            record.update({"reserves": {key_from_sdk(self.asset_a): format_amount(pool.reserve_a),
                                        key_from_sdk(self.asset_b): format_amount(pool.reserve_b)},
                           "total_shares": format_amount(pool.total_shares)})
        return record

    def _pool(self) -> Any:
        return self.sandbox.network.state.pool(self.pool_id)

    def _deposit(self, amount_a: int, amount_b: int) -> LiquidityPoolDeposit:
        price = amount_a / amount_b
        return LiquidityPoolDeposit(self.pool_id, format_amount(amount_a), format_amount(amount_b),
                                    _fraction(price * (1 - PRICE_BAND)), _fraction(price * (1 + PRICE_BAND)))

    async def _submit(self, keypair: Any, operations: list[Operation]) -> None:
        network = self.sandbox.network
        account = network.state.account(keypair.public_key)
        builder = TransactionBuilder(Account(keypair.public_key, account.seq_num), network.passphrase,
                                     base_fee=network.inclusion_fee(1)).add_time_bounds(0, 0)
        for operation in operations:
            builder.append_operation(operation)
        envelope = builder.build()
        envelope.sign(keypair)
        await self.sandbox.submit(envelope.to_xdr(), "open the market's liquidity pool")
