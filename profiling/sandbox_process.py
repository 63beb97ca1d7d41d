"""The embedded sandbox, and the other traders, in a child process: the profiled process holds the bot's work only.

    async with SandboxProcess(ledger_interval=1.0, log_path=out / "sandbox.log") as network:
        network.horizon_url, network.passphrase
        market = network.market_activity(participants, pairs, rate=2.0, order_amount=..., outside_spread=...)
        await market.place_ladders(); market.start(); ...; await market.stop(); market.stats

In the same process, the sandbox's request handling, matching and ledger closing, and the other
traders' signing and HTTP calls, would count in the CPU and memory figures and fill yappi's
profile; here they run apart, as a real Horizon and real counterparties do.

The child starts in its own session, so a Ctrl-C at the terminal reaches only the runner, which then
still needs the network to cancel its orders. The child leaves when its stdin closes (the runner
ended, even by a crash) or on SIGTERM/SIGINT.

The sandbox serves two Horizon frontends over its one network: `horizon_url` for the runner and the other
traders, `connector_url` for the connector alone, so that frontend's request log (`GET /_sandbox/requests`)
counts the connector's requests and nobody else's. With `connector_horizons=N` the connector gets N frontends of
its own (`connector_urls`, sandbox frontend indices `connector_frontends`: faults and request logs reach each one
through `horizon_url`'s `/_sandbox/frontends/{index}/...`, even while it is down), and with `rpcs=M` the network
has M Stellar RPC-only frontends after them (`rpc_urls`).

Child: `python -m profiling.sandbox_process --ledger-interval S [--connector-horizons N] [--rpcs M] [--cpus 1]`
prints one JSON line {"horizon_url": ..., "connector_url": ..., "connector_urls": [...], "connector_frontends": [...],
"rpc_urls": [...], "rpc_frontends": [...], "passphrase": ...} once it serves, then answers one JSON line per
command line on stdin: {"command": "prepare_market", ...} (the maker's and takers' seeds: throwaway sandbox
accounts, through a pipe, never logged), {"command": "start_market"}, {"command": "stop_market"},
{"command": "register_issuer", "secret": ..., "codes": [...]} (so the sandbox's own book-event activity,
`POST /_sandbox/market`, can fund its participants with the run's issued assets).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Dict, List, Optional, Sequence

START_TIMEOUT_S = 60.0
logger = logging.getLogger(__name__)
STOP_TIMEOUT_S = 10.0


class SandboxProcess:
    def __init__(self, ledger_interval: float, log_path: Optional[Path] = None, *, connector_horizons: int = 1,
                 rpcs: int = 0, cpus: Optional[Sequence[int]] = None) -> None:
        self.ledger_interval = ledger_interval
        self.log_path = log_path
        self.connector_horizons = connector_horizons
        self.rpcs = rpcs
        self.cpus = tuple(cpus) if cpus else ()   # the CPUs the child runs on (none: any; see cpu_placement)
        self.horizon_url = ""
        self.connector_url = ""   # a frontend of its own for the connector (its request log is the connector's)
        self.connector_urls: List[str] = []      # every frontend of the connector's (the first: connector_url)
        self.connector_frontends: List[int] = []  # their indices among the sandbox's frontends
        self.rpc_urls: List[str] = []             # the Stellar RPC-only frontends' RPC URLs
        self.rpc_frontends: List[int] = []        # their indices among the sandbox's frontends
        self.passphrase = ""
        self.pid: Optional[int] = None
        self._process: Optional[asyncio.subprocess.Process] = None
        self._log: Optional[IO[bytes]] = None
        self._command_lock = asyncio.Lock()  # one command line, one answer line: never two readers at once

    async def __aenter__(self) -> SandboxProcess:
        source_root = str(Path(__file__).resolve().parent.parent)  # this very profiling package and its sandbox
        environment = {key: value for key, value in os.environ.items() if key != "STELLAR_PROFILING"}
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [source_root, environment.get("PYTHONPATH")]))
        self._log = open(self.log_path, "wb") if self.log_path is not None else None  # noqa: SIM115
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", f"{__package__}.sandbox_process", "--ledger-interval", str(self.ledger_interval),
            "--connector-horizons", str(self.connector_horizons), "--rpcs", str(self.rpcs),
            *(["--cpus", ",".join(str(cpu) for cpu in self.cpus)] if self.cpus else []),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=self._log if self._log is not None else asyncio.subprocess.DEVNULL,
            cwd=source_root, env=environment, start_new_session=True)
        self.pid = self._process.pid
        try:
            line = await asyncio.wait_for(self._process.stdout.readline(), START_TIMEOUT_S)
            if not line:
                raise RuntimeError(f"the sandbox process exited before serving (exit {await self._process.wait()}); "
                                   f"see {self.log_path}")
            announced = json.loads(line)
            self.horizon_url, self.passphrase = announced["horizon_url"], announced["passphrase"]
            self.connector_url = announced.get("connector_url") or self.horizon_url
            self.connector_urls = list(announced.get("connector_urls") or [self.connector_url])
            self.connector_frontends = list(announced.get("connector_frontends") or [1])
            self.rpc_urls = list(announced.get("rpc_urls") or [])
            self.rpc_frontends = list(announced.get("rpc_frontends") or [])
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.stop()

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.stdin.close()  # the child's cue to leave
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def market_activity(self, participants, pairs: Sequence[str], *, rate: float, order_amount: Decimal,
                        outside_spread: Decimal, max_fee: Optional[int] = None) -> RemoteMarketActivity:
        """`MarketActivity` (profiling.strategies.market_activity) run by the child, with the same calls."""
        return RemoteMarketActivity(self, participants, pairs, rate=rate, order_amount=order_amount,
                                    outside_spread=outside_spread, max_fee=max_fee)

    async def register_issuer(self, issuer, codes: Sequence[str]) -> None:
        """Let the sandbox issue `codes` from `issuer` (a Keypair), for its book-event market activity."""
        await self.command({"command": "register_issuer", "secret": issuer.secret, "codes": list(codes)})

    async def command(self, message: Dict[str, Any]) -> Dict[str, Any]:
        """Send one command line and read its one answer line (commands go one at a time)."""
        async with self._command_lock:
            process = self._process
            if process is None or process.returncode is not None:
                raise RuntimeError("the sandbox process is not running")
            process.stdin.write(json.dumps(message).encode() + b"\n")
            await process.stdin.drain()
            line = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT_S)
        if not line:
            raise RuntimeError(f"the sandbox process ended during {message['command']}; see {self.log_path}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"sandbox process, {message['command']}: {answer['error']}")
        return answer


class RemoteMarketActivity:
    """The parent's handle on the child's market activity; `stats` are the child's once stopped."""

    def __init__(self, sandbox: SandboxProcess, participants, pairs: Sequence[str], *, rate: float,
                 order_amount: Decimal, outside_spread: Decimal, max_fee: Optional[int] = None) -> None:
        self._sandbox = sandbox
        self._setup = {
            "command": "prepare_market",
            "maker": participants.maker.secret,
            "takers": [taker.secret for taker in participants.takers],
            "assets": {token: None if asset.is_native() else [asset.code, asset.issuer]
                       for token, asset in participants.assets.items()},
            "pairs": list(pairs), "rate": rate, "order_amount": str(order_amount),
            "outside_spread": str(outside_spread),
            **({"max_fee": int(max_fee)} if max_fee is not None else {}),
        }
        self.stats: Counter = Counter(maker_refreshes=0, taker_orders=0, failed=0, skipped=0)
        self._lock = asyncio.Lock()
        self._start: Optional[asyncio.Future] = None
        self._stopped = False

    async def place_ladders(self) -> None:
        await self._command(self._setup)

    def start(self) -> None:
        if self._start is None:
            self._start = asyncio.ensure_future(self._command({"command": "start_market"}))

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._start is not None:
            with contextlib.suppress(Exception):
                await self._start
        try:
            answer = await self._command({"command": "stop_market"})
        except Exception as error:  # the run's report matters more than these counts
            logger.warning("market activity: no stop answer from the sandbox process: %s", error)
            return
        self.stats.update(answer.get("stats") or {})

    async def _command(self, message: Dict[str, Any]) -> Dict[str, Any]:
        async with self._lock:
            return await self._sandbox.command(message)


# ----- the child -----

async def _serve(ledger_interval: float, connector_horizons: int = 1, rpcs: int = 0) -> None:
    import aiohttp

    from stellar_sandbox import Sandbox

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    commands: asyncio.Queue = asyncio.Queue()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    # A daemon thread reads stdin: its lines are commands, its end means the runner is gone.
    threading.Thread(target=_read_commands, args=(loop, commands, stop), daemon=True).start()
    async with Sandbox(ledger_interval=ledger_interval, horizons=1 + connector_horizons, rpcs=rpcs) as network, \
            aiohttp.ClientSession() as session:
        urls = network.horizon_urls
        print(json.dumps({"horizon_url": urls[0], "connector_url": urls[1], "connector_urls": urls[1:],
                          "connector_frontends": list(range(1, len(urls))),
                          "rpc_urls": [f.rpc_url for f in network.frontends[len(urls):]],
                          "rpc_frontends": list(range(len(urls), len(network.frontends))),
                          "passphrase": network.passphrase}), flush=True)
        market = _ChildMarket(session, network)
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while True:
                next_command = asyncio.ensure_future(commands.get())
                await asyncio.wait({stopping, next_command}, return_when=asyncio.FIRST_COMPLETED)
                if not next_command.done():
                    next_command.cancel()
                    break
                print(json.dumps(await market.answer(next_command.result())), flush=True)
        finally:
            stopping.cancel()
            await market.stop()


class _ChildMarket:
    def __init__(self, session, network) -> None:
        from .strategies.market_activity import HorizonClient

        self.network = network
        self.horizon = HorizonClient(session, network.horizon_url, network.passphrase)
        self.activity = None

    async def answer(self, message: Dict[str, Any]) -> Dict[str, Any]:
        try:
            command = message.get("command")
            if command == "prepare_market":
                await self.prepare(message)
            elif command == "start_market":
                self.activity.start()
            elif command == "register_issuer":
                from stellar_sdk import Keypair

                for code in message["codes"]:
                    await self.network.issue_asset(code, Keypair.from_secret(message["secret"]))
            elif command == "stop_market":
                await self.stop()
                return {"reply": command, "stats": dict(self.activity.stats) if self.activity else {}}
            else:
                return {"error": f"unknown command {command!r}"}
            return {"reply": command}
        except Exception as error:  # answered, so the runner reports it; the seeds are never in it
            return {"error": f"{type(error).__name__}: {error}"}

    async def prepare(self, message: Dict[str, Any]) -> None:
        from stellar_sdk import Asset, Keypair

        from .strategies.market_activity import MarketActivity, Participants

        participants = Participants(
            trader=Keypair.random(), issuer=Keypair.random(),  # neither signs here: the runner holds those
            maker=Keypair.from_secret(message["maker"]),
            takers=[Keypair.from_secret(secret) for secret in message["takers"]],
            assets={token: Asset.native() if spec is None else Asset(*spec)
                    for token, spec in message["assets"].items()},
        )
        self.activity = MarketActivity(self.horizon, participants, message["pairs"], rate=float(message["rate"]),
                                       order_amount=Decimal(message["order_amount"]),
                                       outside_spread=Decimal(message["outside_spread"]),
                                       **({"max_fee": int(message["max_fee"])} if "max_fee" in message else {}))
        await self.activity.place_ladders()

    async def stop(self) -> None:
        if self.activity is not None:
            await self.activity.stop()


def _read_commands(loop: asyncio.AbstractEventLoop, commands: asyncio.Queue, stop: asyncio.Event) -> None:
    with contextlib.suppress(Exception):
        for line in sys.stdin:
            if line.strip():
                loop.call_soon_threadsafe(commands.put_nowait, json.loads(line))
    with contextlib.suppress(RuntimeError):  # the loop already closed
        loop.call_soon_threadsafe(stop.set)


def main(argv: Optional[list] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m profiling.sandbox_process")
    parser.add_argument("--ledger-interval", type=float, required=True)
    parser.add_argument("--connector-horizons", type=int, default=1, help="Horizon frontends of the connector's own")
    parser.add_argument("--rpcs", type=int, default=0, help="Stellar RPC-only frontends")
    parser.add_argument("--cpus", default="", help="run on these CPUs only, comma separated (see cpu_placement)")
    args = parser.parse_args(argv)
    if args.cpus:   # before any thread starts: they all inherit it
        os.sched_setaffinity(0, {int(cpu) for cpu in args.cpus.split(",")})
    asyncio.run(_serve(args.ledger_interval, max(1, args.connector_horizons), max(0, args.rpcs)))


if __name__ == "__main__":
    main()
