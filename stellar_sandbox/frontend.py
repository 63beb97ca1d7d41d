"""One Horizon (or Stellar RPC) frontend of the sandbox's network: its own port, ingestion, faults and log.

Several frontends serve one `Network`, as several Horizon nodes behind a provider serve one
Stellar network. Each has:

- an `IngestView` of the network (`view`): what its ingestion has reached, `lag` ledgers behind at most;
- its own aiohttp application and handlers (`horizon`: stream hub, submission waiters, RPC), with
  Horizon's routes and `/rpc` (`kind="horizon"`), or JSON-RPC only (`kind="rpc"`);
- its own `Faults` (the ledger gate is the network's, shared) and `RequestLog`;
- its own listener on a fixed port, which `take_down()` closes (every open connection is reset, as
  when the process dies) and `bring_up()` opens again on the same port.

Transactions submitted to any frontend go to the one network; paging tokens are the ledger's, so a
client resumes a stream on another frontend with the cursor it had.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from stellar_sandbox.control import install_control
from stellar_sandbox.core.ingestion import IngestView
from stellar_sandbox.faults import Faults, LedgerGate
from stellar_sandbox.horizon.app import HORIZON_KEY, Horizon, create_app, create_rpc_app
from stellar_sandbox.request_log import RequestLog

logger = logging.getLogger(__name__)

HORIZON = "horizon"
RPC = "rpc"
KINDS = (HORIZON, RPC)


class Frontend:
    def __init__(self, sandbox: Any, index: int, kind: str = HORIZON, *, host: str = "127.0.0.1", port: int = 0,
                 ledger_gate: LedgerGate | None = None, fault_seed: int | None = None,
                 requests: RequestLog | None = None, **app_options: Any) -> None:
        if kind not in KINDS:
            raise ValueError(f"frontend kind must be one of {KINDS}, got {kind!r}")
        self.sandbox = sandbox
        self.index = index
        self.kind = kind
        self.host = host
        self.port = port
        self.view = IngestView(sandbox.network)
        build = create_app if kind == HORIZON else create_rpc_app
        self.app = build(self.view, **app_options)
        self.horizon: Horizon = self.app[HORIZON_KEY]
        self.faults = Faults(self.view, seed=fault_seed, ledger_gate=ledger_gate, frontend=self)
        self.requests = requests or RequestLog()
        self.app.middlewares.append(self.requests.middleware)  # a refused request was still asked for
        self.app.middlewares.append(self.faults.middleware)  # inside the problem middleware: faults are problems
        install_control(self.app, self, sandbox)
        self._runner: web.AppRunner | None = None
        self._server: asyncio.AbstractServer | None = None
        self._restart: asyncio.TimerHandle | None = None
        self._reopening: asyncio.Task | None = None
        self.down_count = 0  # how many times it went down

    # ----- addresses -----

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def horizon_url(self) -> str | None:
        return self.url if self.kind == HORIZON else None

    @property
    def rpc_url(self) -> str:
        return f"{self.url}/rpc"

    # ----- lifecycle -----

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        try:
            await self._listen()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        self._cancel_restart()
        if self._reopening is not None and not self._reopening.done():
            self._reopening.cancel()
        self.faults.shutdown()
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.view.close()

    async def _listen(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._runner.server, self.host, self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    # ----- faults enacted here: lag and down -----

    @property
    def lag(self) -> int:
        return self.view.lag

    def set_lag(self, ledgers: int) -> None:
        self.view.set_lag(ledgers)

    @property
    def is_down(self) -> bool:
        return self._runner is not None and self._server is None

    def take_down(self, seconds: float | None = None, spare: asyncio.BaseTransport | None = None) -> None:
        """Stop listening and reset every open connection (but `spare`, answered then closed), as a crash.

        With `seconds`, listen again on the same port after that long.
        """
        self._cancel_restart()
        if self._server is not None:
            self._server.close()
            self._server = None
            self.down_count += 1
        if self._runner is not None and self._runner.server is not None:
            for handler in self._runner.server.connections:
                transport = handler.transport
                if transport is not None and transport is not spare and not transport.is_closing():
                    transport.abort()
        if seconds is not None:
            self._restart = asyncio.get_running_loop().call_later(seconds, self.bring_up_soon)

    def bring_up_soon(self) -> None:
        """Listen again (in a task; `await bring_up()` to wait for it)."""
        self._cancel_restart()
        if self.is_down and (self._reopening is None or self._reopening.done()):
            self._reopening = asyncio.get_running_loop().create_task(self.bring_up())

    async def bring_up(self) -> None:
        """Listen again on the same port (no-op when up)."""
        self._cancel_restart()
        if not self.is_down:
            return
        for attempt in range(50):
            try:
                await self._listen()
                return
            except OSError:  # the port is briefly busy: try again
                if attempt == 49:
                    raise
                await asyncio.sleep(0.05)

    def _cancel_restart(self) -> None:
        if self._restart is not None:
            self._restart.cancel()
            self._restart = None

    def describe(self) -> dict[str, Any]:
        return {"index": self.index, "kind": self.kind, "url": self.url, "horizon_url": self.horizon_url,
                "rpc_url": self.rpc_url, "down": self.is_down, "lag": self.lag,
                "ingested_ledger": self.view.sequence, "behind": self.view.behind}
