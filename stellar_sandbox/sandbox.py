"""`Sandbox`: a Stellar network with a Horizon API on loopback, for tests and local runs.

    async with Sandbox(ledger_interval=0.1) as net:
        server = ServerAsync(net.horizon_url, client=AiohttpClient())
        trader = await net.create_account(xlm=1000)
        usd = await net.issue_asset("USD")
        await net.trust_and_fund(trader, usd, "500")

Ledgers close every `ledger_interval` seconds (None: only on `await net.close_ledger()`). The
helpers go through real signed transactions from the network's root account (or the issuer), so
they show up in history and streams like any client's transactions. `net.faults` injects faults
around the web handlers (see `faults`); `net.market` runs synthetic market activity (see `market`).
"""
from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any

from aiohttp import web
from stellar_sdk import Account, Asset, Keypair, TransactionBuilder
from stellar_sdk.operation import ChangeTrust, Payment

from stellar_sandbox.control import install_control
from stellar_sandbox.faults import Faults
from stellar_sandbox.horizon.app import HORIZON_KEY, Horizon, create_app
from stellar_sandbox.horizon.errors import Problem
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
                 **app_options: Any) -> None:
        """`network_options` go to `Network(...)`; `app_options` to `create_app` (timeouts, stream limits).

        `fault_seed` makes the random choices of fault injection (which requests fail) repeatable.
        """
        self.ledger_interval = ledger_interval
        self.host = host
        self.port = port
        self.passphrase = passphrase
        self.network = network
        self._network_options = network_options or {}
        self._app_options = app_options
        self._runner: web.AppRunner | None = None
        self._closer: asyncio.Task | None = None
        self._issuers: dict[tuple[str, str], Keypair] = {}
        self.horizon: Horizon | None = None
        self._fault_seed = fault_seed
        self.faults: Faults | None = None
        self.requests = RequestLog()   # what clients asked of this Horizon, by route
        self.market = MarketActivity(self)

    @property
    def horizon_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def rpc_url(self) -> str:
        return f"{self.horizon_url}/rpc"

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
        app = create_app(self.network, **self._app_options)
        self.horizon = app[HORIZON_KEY]
        self.faults = Faults(self.network, seed=self._fault_seed)
        app.middlewares.append(self.requests.middleware)   # a refused request was still asked for
        app.middlewares.append(self.faults.middleware)  # inside the problem middleware: faults are problems too
        install_control(app, self.faults, self.market, self.requests)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.port).start()
        except BaseException:
            await self.stop()
            raise
        self.port = self._runner.addresses[0][1]
        if self.ledger_interval:
            self._closer = asyncio.create_task(self._close_ledgers(self.ledger_interval))

    async def stop(self) -> None:
        await self.market.stop()
        if self.faults is not None:
            self.faults.release_ledgers()
        if self._closer is not None:
            self._closer.cancel()
            try:
                await self._closer
            except asyncio.CancelledError:
                pass
            self._closer = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _close_ledgers(self, interval: float) -> None:
        loop = asyncio.get_running_loop()
        next_close = loop.time() + interval
        while True:
            await asyncio.sleep(max(0.0, next_close - loop.time()))
            if self.faults.ledgers_stalled:  # a stalled close: nothing closes until released
                await self.faults.ledger_close_allowed()
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
        if self.faults is not None:
            await self.faults.ledger_close_allowed()
        return self.network.close_ledger()

    # ----- helpers, all through real transactions -----

    async def create_account(self, xlm: Decimal | str | int = 10_000) -> Keypair:
        keypair = Keypair.random()
        await self._root(self.horizon.root_agent.create_account(keypair.public_key, xlm), "create_account")
        return keypair

    async def fund(self, account_id: str, xlm: Decimal | str | int) -> Record:
        """Pay `xlm` lumens from the root account to an existing account."""
        return await self._root(self.horizon.root_agent.pay(account_id, xlm), "fund")

    async def issue_asset(self, code: str, issuer_keypair: Keypair | None = None) -> Asset:
        """An asset whose issuer the sandbox remembers (a new funded account unless one is given)."""
        issuer = issuer_keypair or await self.create_account()
        if self.network.state.account(issuer.public_key) is None:
            await self._root(self.horizon.root_agent.create_account(issuer.public_key), "create issuer")
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
                               base_fee=int(getattr(self.network, "base_fee", 100)))
            .append_operation(ChangeTrust(asset=asset))
            .append_operation(Payment(destination=keypair.public_key, asset=asset, amount=str(amount),
                                      source=issuer.public_key))
            .add_time_bounds(0, 0)
            .build()
        )
        envelope.sign(keypair)
        envelope.sign(issuer)
        return await self.submit(envelope.to_xdr(), "trust_and_fund")

    async def submit(self, envelope_xdr: str, what: str = "transaction") -> Record:
        """Submit and wait for the ledger; the applied transaction record or SandboxTransactionError."""
        try:
            return await self.horizon.submitter.submit_and_wait(envelope_xdr)
        except Problem as problem:
            raise SandboxTransactionError(what, problem) from None

    @staticmethod
    async def _root(call, what: str) -> Record:
        try:
            return await call
        except Problem as problem:
            raise SandboxTransactionError(what, problem) from None
