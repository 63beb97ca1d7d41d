"""`Sandbox`: a Stellar network with a Horizon API on loopback, for tests and local runs.

    async with Sandbox(ledger_interval=0.1) as net:
        server = ServerAsync(net.horizon_url, client=AiohttpClient())
        trader = await net.create_account(xlm=1000)
        usd = await net.issue_asset("USD")
        await net.trust_and_fund(trader, usd, "500")
        pool_id = await net.provide_liquidity(trader, Asset.native(), "100", usd, "200")  # XLM/USD pool

Ledgers close every `ledger_interval` seconds (None: only on `await net.close_ledger()`). The
helpers go through real signed transactions from the network's root account (or the issuer), so
they show up in history and streams like any client's transactions. `net.faults` injects faults
around the web handlers (see `faults`); `net.market` runs synthetic market activity (see `market`).

Several frontends can serve the one network (`Sandbox(horizons=3, rpcs=1)`, `await net.add_horizon()`):
`net.frontends[i]` has its own port, `faults`, `requests` and ingestion lag (see `frontend`);
`net.horizon_url`, `net.faults`, `net.requests` and `net.horizon` are the first one's.
`net.set_surge(fee)` loads the network with traffic bidding `fee` per operation.
"""
from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any

from stellar_sdk import Account, Asset, Keypair, LiquidityPoolAsset, Price, TransactionBuilder
from stellar_sdk.operation import ChangeTrust, LiquidityPoolDeposit, Payment

from stellar_sandbox.core.pools import pool_share_key
from stellar_sandbox.faults import Faults, LedgerGate
from stellar_sandbox.frontend import HORIZON, RPC, Frontend
from stellar_sandbox.horizon.app import Horizon
from stellar_sandbox.horizon.errors import Problem
from stellar_sandbox.horizon.root_agent import RootAgent
from stellar_sandbox.horizon.submission import Submitter
from stellar_sandbox.market import MarketActivity
from stellar_sandbox.request_log import RequestLog

logger = logging.getLogger(__name__)

Record = dict[str, Any]
STANDALONE_PASSPHRASE = "Standalone Network ; February 2017"


class SandboxTransactionError(RuntimeError):
    """A helper's transaction failed; `problem` is the Horizon problem a client would have seen."""

    def __init__(self, what: str, problem: Problem) -> None:
        codes = (problem.extras or {}).get("result_codes")
        super().__init__(f"{what} failed: {problem.type} {codes or problem.detail}")
        self.problem = problem


class Sandbox:
    def __init__(self, ledger_interval: float | None = 1.0, port: int = 0, host: str = "127.0.0.1",
                 passphrase: str = STANDALONE_PASSPHRASE, network: Any = None,
                 network_options: dict[str, Any] | None = None, fault_seed: int | None = None,
                 horizons: int = 1, rpcs: int = 0, **app_options: Any) -> None:
        """`network_options` go to `Network(...)`; `app_options` to `create_app` (timeouts, stream limits).

        `horizons` Horizon frontends (each also serving Stellar RPC on `/rpc`) and `rpcs` RPC-only
        frontends serve the one network, each on its own port: `port` for the first (0: a free one),
        the next ports for the others when `port` is set. `fault_seed` makes the random choices of
        fault injection (which requests fail) repeatable.
        """
        if horizons < 1 or rpcs < 0:
            raise ValueError("a sandbox needs at least one Horizon frontend (and no negative number of RPCs)")
        self.ledger_interval = ledger_interval
        self.host = host
        self.port = port  # the first frontend's, once started
        self._base_port = port  # 0: every frontend on a free port
        self.passphrase = passphrase
        self.network = network
        self._network_options = network_options or {}
        self._app_options = app_options
        self._horizon_count = horizons
        self._rpc_count = rpcs
        self._closer: asyncio.Task | None = None
        self._issuers: dict[tuple[str, str], Keypair] = {}
        self._fault_seed = fault_seed
        self.frontends: list[Frontend] = []
        self.gate = LedgerGate()  # ledgers are the network's: one stall for every frontend
        self.requests = RequestLog()  # the first frontend's (what clients asked of it, by route)
        self.submitter: Submitter | None = None  # the helpers' own, on the network itself (never lags)
        self.root_agent: RootAgent | None = None  # friendbot and the helpers: one root account, one agent
        self.market = MarketActivity(self)

    # ----- addresses and the first frontend (the single-Horizon API) -----

    @property
    def horizon_url(self) -> str:
        return self.frontends[0].url if self.frontends else f"http://{self.host}:{self.port}"

    @property
    def horizon_urls(self) -> list[str]:
        """Every Horizon frontend's URL (the first is `horizon_url`)."""
        return [frontend.url for frontend in self.frontends if frontend.kind == HORIZON]

    @property
    def rpc_url(self) -> str:
        return f"{self.horizon_url}/rpc"

    @property
    def rpc_urls(self) -> list[str]:
        """Every frontend's Stellar RPC URL: the Horizon frontends' `/rpc`, then the RPC-only frontends'."""
        return [frontend.rpc_url for frontend in self.frontends]

    @property
    def faults(self) -> Faults | None:
        return self.frontends[0].faults if self.frontends else None

    @property
    def horizon(self) -> Horizon | None:
        return self.frontends[0].horizon if self.frontends else None

    # ----- lifecycle -----

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.stop()

    async def start(self) -> None:
        if self.network is None:
            from stellar_sandbox.core.network import Network
            self.network = Network(self.passphrase, **self._network_options)
        self.passphrase = self.network.passphrase
        self.submitter = Submitter(self.network, timeout=self._app_options.get("submission_timeout", 30.0))
        self.root_agent = RootAgent(self.network, self.submitter)
        try:
            for _ in range(self._horizon_count):
                await self.add_horizon()
            for _ in range(self._rpc_count):
                await self.add_rpc()
        except BaseException:
            await self.stop()
            raise
        self.port = self.frontends[0].port
        if self.ledger_interval:
            self._closer = asyncio.create_task(self._close_ledgers(self.ledger_interval))

    async def add_horizon(self, port: int | None = None) -> Frontend:
        """Another Horizon frontend (with `/rpc`) of the same network, listening now; `port` None: the
        next after the first's when that was given, else a free one."""
        return await self._add_frontend(HORIZON, port)

    async def add_rpc(self, port: int | None = None) -> Frontend:
        """A frontend serving Stellar RPC only (JSON-RPC on `/` and `/rpc`), so Horizon and the RPC
        can fail apart."""
        return await self._add_frontend(RPC, port)

    async def _add_frontend(self, kind: str, port: int | None) -> Frontend:
        index = len(self.frontends)
        if port is None:
            port = self._base_port + index if self._base_port else 0
        seed = None if self._fault_seed is None else self._fault_seed + index
        frontend = Frontend(self, index, kind, host=self.host, port=port, ledger_gate=self.gate, fault_seed=seed,
                            requests=self.requests if index == 0 else None, root_agent=self.root_agent,
                            **self._app_options)
        self.frontends.append(frontend)
        try:
            await frontend.start()
        except BaseException:
            self.frontends.remove(frontend)
            raise
        return frontend

    async def stop(self) -> None:
        await self.market.stop()
        self.gate.release()
        if self._closer is not None:
            self._closer.cancel()
            try:
                await self._closer
            except asyncio.CancelledError:
                pass
            self._closer = None
        for frontend in reversed(self.frontends):
            await frontend.stop()
        if self.root_agent is not None:
            await self.root_agent.close()

    async def _close_ledgers(self, interval: float) -> None:
        loop = asyncio.get_running_loop()
        next_close = loop.time() + interval
        while True:
            await asyncio.sleep(max(0.0, next_close - loop.time()))
            if self.gate.stalled:  # a stalled close: nothing closes until released
                await self.gate.wait()
                next_close = loop.time() + interval
                continue
            # keep a steady cadence, but after a stall start afresh instead of closing a burst of ledgers
            next_close = max(next_close + interval, loop.time())
            try:
                self.network.close_ledger()
            except Exception:
                logger.exception("closing a ledger failed")

    async def close_ledger(self) -> Record:
        """Close a ledger now (applying what is queued); the new ledger record. Waits while ledgers are stalled."""
        await self.gate.wait()
        return self.network.close_ledger()

    # ----- fees -----

    def set_surge(self, fee: int | None) -> None:
        """Load the network with other traffic bidding `fee` stroops per operation (None: none).

        Every ledger is then full: a transaction must bid more than `fee` per operation to be accepted
        (else ERROR `tx_insufficient_fee`, its result carrying the fee needed), and pays `fee` per
        operation; `/fee_stats` shows it. See `core.txqueue` and docs/sandbox.md.
        """
        self.network.set_surge(fee)

    def fees(self) -> Record:
        return {"base_fee": self.network.base_fee, "surge_fee": self.network.surge_fee,
                "inclusion_fee": self.network.inclusion_fee(1)}

    # ----- helpers, all through real transactions -----

    async def create_account(self, xlm: Decimal | str | int = 10_000) -> Keypair:
        keypair = Keypair.random()
        await self._root(self.root_agent.create_account(keypair.public_key, xlm), "create_account")
        return keypair

    async def fund(self, account_id: str, xlm: Decimal | str | int) -> Record:
        """Pay `xlm` lumens from the root account to an existing account."""
        return await self._root(self.root_agent.pay(account_id, xlm), "fund")

    async def issue_asset(self, code: str, issuer_keypair: Keypair | None = None) -> Asset:
        """An asset whose issuer the sandbox remembers (a new funded account unless one is given)."""
        issuer = issuer_keypair or await self.create_account()
        if self.network.state.account(issuer.public_key) is None:
            await self._root(self.root_agent.create_account(issuer.public_key), "create issuer")
        self._issuers[(code, issuer.public_key)] = issuer
        return Asset(code, issuer.public_key)

    async def trust_and_fund(self, keypair: Keypair, asset: Asset, amount: Decimal | str | int,
                             issuer_keypair: Keypair | None = None) -> Record:
        """One transaction: `keypair` trusts `asset`, and the issuer pays it `amount`."""
        issuer = issuer_keypair or self._issuers.get((asset.code, asset.issuer))
        if issuer is None:
            raise ValueError(f"unknown issuer for {asset.code}:{asset.issuer}; pass issuer_keypair")
        sequence = self.network.state.account(keypair.public_key).seq_num
        envelope = (
            TransactionBuilder(Account(keypair.public_key, sequence), self.passphrase,
                               base_fee=self.network.inclusion_fee(1))  # enough under a surge too
            .append_operation(ChangeTrust(asset=asset))
            .append_operation(Payment(destination=keypair.public_key, asset=asset, amount=str(amount),
                                      source=issuer.public_key))
            .add_time_bounds(0, 0)
            .build()
        )
        envelope.sign(keypair)
        envelope.sign(issuer)
        return await self.submit(envelope.to_xdr(), "trust_and_fund")

    async def provide_liquidity(self, keypair: Keypair, asset_x: Asset, amount_x: Decimal | str | int,
                                asset_y: Asset, amount_y: Decimal | str | int) -> str:
        """One transaction: `keypair` trusts the pool of the two assets (if it does not yet) and deposits at
        most `amount_x` and `amount_y` (any price); the pool id. It needs trustlines to both assets first."""
        pool = LiquidityPoolAsset(asset_x, asset_y) if LiquidityPoolAsset.is_valid_lexicographic_order(
            asset_x, asset_y) else LiquidityPoolAsset(asset_y, asset_x)
        amounts = (amount_x, amount_y) if pool.asset_a == asset_x else (amount_y, amount_x)
        operations = [] if self.network.state.trustline(keypair.public_key, pool_share_key(
            pool.liquidity_pool_id)) else [ChangeTrust(pool)]
        operations.append(LiquidityPoolDeposit(pool.liquidity_pool_id, str(amounts[0]), str(amounts[1]),
                                               Price(1, 2**31 - 1), Price(2**31 - 1, 1)))
        sequence = self.network.state.account(keypair.public_key).seq_num
        builder = TransactionBuilder(Account(keypair.public_key, sequence), self.passphrase,
                                     base_fee=self.network.inclusion_fee(len(operations))).add_time_bounds(0, 0)
        for operation in operations:
            builder.append_operation(operation)
        envelope = builder.build()
        envelope.sign(keypair)
        await self.submit(envelope.to_xdr(), "provide_liquidity")
        return pool.liquidity_pool_id

    async def submit(self, envelope_xdr: str, what: str = "transaction") -> Record:
        """Submit and wait for the ledger; the applied transaction record or SandboxTransactionError."""
        try:
            return await self.submitter.submit_and_wait(envelope_xdr)
        except Problem as problem:
            raise SandboxTransactionError(what, problem) from None

    @staticmethod
    async def _root(call, what: str) -> Record:
        try:
            return await call
        except Problem as problem:
            raise SandboxTransactionError(what, problem) from None
