"""The bot in a child process of its own, so a chaos scenario can kill it (SIGKILL) and start it again while the
network and the market go on.

    bot = BotProcess(spec, "bot-1", out / "bot-1.log")
    await bot.start()
    ready = await bot.wait_for(lambda e: e["event"] == "ready", "ready", timeout=60)
    bot.kill()                      # SIGKILL: no cleanup, offers stay on the book
    await BotProcess(spec, "bot-2", out / "bot-2.log").start()   # same trade database: Hummingbot's saved state
    ...; await bot.stop()           # the orderly stop: orders cancelled, balances checked against the ledger

The child is a Hummingbot session in miniature: the Stellar connector, the classic pure market making strategy on
Hummingbot's `Clock`, and Hummingbot's `MarketsRecorder` on an SQLite file that outlives the process. Before the
clock starts it restores the orders the last session saved (`MarketsRecorder.restore_market_states`, as
Hummingbot's `TradingCore` does); the connector then settles them and any offer nobody knows (its crash recovery).

Its journal, one JSON line per entry on its stdout (written at once, so a kill loses nothing already reported):
`started` (the orders restored), `ready` (the connector's recovery report), `created`, `filled`, `cancelled`,
`completed`, `failed` (the connector's order events; a failure with its message), `log` (Hummingbot's and the
connector's warnings and errors: a refused cancel shows there), `orders` (what it tracks,
whenever that changes: offers resting, creates unsettled, transactions queued or in flight), `horizons` (the active
Horizon and each one's health state, whenever they change), `switch` (each Horizon switch the connector records:
its own time, from, to, reason, fault age), `stopped` (after the orderly stop: unresolved orders, the offers on
the ledger and those it tracks, its balances against the ledger's), `error`. The parent
stamps each line with its own clock (`at`, monotonic) when it reads it. The spec, secrets included, comes in on
stdin, never on the command line; then `{"command": "stop"}` (or stdin's end, or SIGTERM) asks for the orderly
stop.
"""
from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Callable, Dict, List, Optional

START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 60.0
WATCH_INTERVAL_S = 0.05
CONFIG_NAME = "stellar_restart"   # the MarketState rows of one config: every bot of a scenario shares them
_READ_LIMIT = 2 ** 20
_PARAM_TYPES = {"order_amount": Decimal, "order_levels": int, "bid_spread": Decimal, "ask_spread": Decimal,
                "order_level_spread": Decimal, "refresh_time": float}   # MarketMakingParams' fields from text

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BotSpec:
    """What the bot trades and where it keeps its state. The secrets stay out of its repr."""
    horizon_url: str                   # the connector's Horizons, comma-separated (sandbox frontends of its own)
    audit_url: str                     # where the bot's final ledger check reads (not counted as the connector's)
    passphrase: str
    rpc_url: Optional[str]
    pair: str
    markets: str                       # the connector's `stellar_markets`
    params: Dict[str, str]             # MarketMakingParams' fields, as text
    ledger_interval: float
    db_path: str                       # Hummingbot's trade database: MarketsRecorder's saved tracking states
    trader_secret: str = field(repr=False)
    channel_secrets: List[str] = field(default_factory=list, repr=False)
    unknown_offers: str = "cancel"
    restore: bool = True               # restore the saved tracking states before the clock starts
    recovery: bool = True              # False: the connector's start-up recovery does nothing (a negative control)
    connector_dir: Optional[str] = None  # the folder holding the parent's `stellar` connector package
    max_fee_stroops: Optional[int] = None  # the connector's `stellar_max_fee_stroops` (None: its default)

    def to_json(self) -> str:
        return json.dumps(asdict(self))


class BotExited(RuntimeError):
    """The bot process ended before the awaited journal entry."""


class BotProcess:
    """The parent's handle: start, read the journal, wait for entries, kill, or stop in order."""

    def __init__(self, spec: BotSpec, label: str, log_path: Path) -> None:
        self.spec = spec
        self.label = label
        self.log_path = log_path
        self.journal: List[Dict[str, Any]] = []
        self.pid: Optional[int] = None
        self.started_at: Optional[float] = None
        self.killed_at: Optional[float] = None
        self._process: Optional[asyncio.subprocess.Process] = None
        self._reader: Optional[asyncio.Future] = None
        self._changed = asyncio.Event()
        self._log: Optional[IO[bytes]] = None

    async def start(self) -> None:
        source_root = str(Path(__file__).resolve().parent.parent)
        environment = {key: value for key, value in os.environ.items() if key != "STELLAR_PROFILING"}
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [source_root, environment.get("PYTHONPATH")]))
        self._log = open(self.log_path, "wb")  # noqa: SIM115  (closed when the process has ended)
        self.started_at = time.monotonic()
        # A session of its own: a Ctrl-C at the terminal reaches the scenario, which then stops the bot in order.
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", f"{__package__}.bot_process", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=self._log, cwd=source_root, env=environment,
            start_new_session=True, limit=_READ_LIMIT)
        self.pid = self._process.pid
        self._process.stdin.write(self.spec.to_json().encode() + b"\n")
        await self._process.stdin.drain()
        self._reader = asyncio.ensure_future(self._read())

    @property
    def returncode(self) -> Optional[int]:
        return None if self._process is None else self._process.returncode

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    def entries(self, event: str) -> List[Dict[str, Any]]:
        return [entry for entry in self.journal if entry.get("event") == event]

    def last(self, event: str) -> Optional[Dict[str, Any]]:
        found = self.entries(event)
        return found[-1] if found else None

    async def wait_for(self, predicate: Callable[[Dict[str, Any]], bool], what: str,
                       timeout: float) -> Dict[str, Any]:
        """The first journal entry (past or to come) that `predicate` accepts."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for entry in self.journal[seen:]:
                if predicate(entry):
                    return entry
            seen = len(self.journal)
            if self._reader is not None and self._reader.done():
                raise BotExited(f"{self.label} ended (exit {self.returncode}) before {what}; see {self.log_path}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.label}: no {what} within {timeout:g} s; see {self.log_path}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._changed.wait()

    def kill(self) -> None:
        """SIGKILL: the process ends at once, whatever it was doing."""
        if self.running:
            self.killed_at = time.monotonic()
            os.kill(self._process.pid, signal.SIGKILL)

    async def stop(self, timeout: float = STOP_TIMEOUT_S) -> Optional[int]:
        """The orderly stop: the bot cancels its orders, checks its balances and journals `stopped`."""
        if self.running:
            with contextlib.suppress(ConnectionError):
                self._process.stdin.write(b'{"command": "stop"}\n')
                await self._process.stdin.drain()
        return await self.wait_exit(timeout)

    async def wait_exit(self, timeout: float = STOP_TIMEOUT_S) -> Optional[int]:
        process = self._process
        if process is None:
            return None
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            logger.warning("%s did not stop within %g s: killed", self.label, timeout)
            self.kill()
            await process.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader
        if self._log is not None:
            self._log.close()
            self._log = None
        return process.returncode

    async def _read(self) -> None:
        try:
            while True:
                line = await self._process.stdout.readline()
                if not line:
                    return
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                entry["at"] = time.monotonic()
                self.journal.append(entry)
                self._changed.set()
        finally:
            self._changed.set()


# ----- the child -----

class _Journal:
    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, event: str, **fields: Any) -> None:
        self._stream.write(json.dumps({"event": event, "wall": time.time(), **fields}, default=str) + "\n")
        self._stream.flush()


def _use_connector(connector_dir: Optional[str]) -> None:
    """Import the parent's connector (a working tree's, when the parent put it first), not another copy."""
    if not connector_dir:
        return
    import hummingbot.connector.exchange as exchange_package

    if connector_dir not in exchange_package.__path__:
        exchange_package.__path__.insert(0, connector_dir)


def connector_dir() -> Optional[str]:
    """The folder holding the `stellar` connector package this process would import (for `BotSpec`)."""
    found = importlib.util.find_spec("hummingbot.connector.exchange.stellar")
    if found is None or not found.submodule_search_locations:
        return None
    return str(Path(list(found.submodule_search_locations)[0]).parent)


def _disable_recovery() -> None:
    """The negative control: the connector starts as if it had no crash recovery (its report stays empty)."""
    from hummingbot.connector.exchange.stellar import stellar_exchange
    from hummingbot.connector.exchange.stellar.stellar_recovery import RecoveryReport

    async def no_recovery(exchange, policy=None, retry_cap=None) -> RecoveryReport:
        return RecoveryReport()

    stellar_exchange.recover_offers_when_possible = no_recovery


def _order_summary(order) -> Dict[str, Any]:
    return {"order_id": order.client_order_id, "exchange_order_id": order.exchange_order_id,
            "state": order.current_state.name, "side": order.trade_type.name, "amount": str(order.amount),
            "price": str(order.price), "executed": str(order.executed_amount_base),
            "fills": sorted(order.order_fills)}   # trade ids: a restored order's saved fills


def _orders_state(connector) -> Dict[str, Any]:
    """Offers resting, orders whose create is not settled, and the pipeline's transactions queued or awaited."""
    resting, creating = [], []
    for order in connector.in_flight_orders.values():
        if order.is_done:
            continue
        if order.is_pending_create:
            creating.append(order.client_order_id)
        elif order.exchange_order_id:
            resting.append(order.exchange_order_id)
    pipeline = connector.pipeline
    return {"resting": sorted(resting), "creating": sorted(creating),
            "transactions": pipeline.queued_count + len(pipeline.awaited_hashes)}


def _recovery_report(connector) -> Optional[Dict[str, Any]]:
    # The connector keeps its start-up recovery's task (its `offers_recovered` status); its result is the report.
    task = getattr(connector, "_recovery", None)
    if task is None or not task.done() or task.cancelled() or task.exception() is not None:
        return None
    return asdict(task.result())


class _LogJournal(logging.Handler):
    """Hummingbot's and the connector's warnings and errors into the journal (`log`): what a strategy's order
    refused without an order event (a cancel, as a rule) shows only there. The connector logs no secret."""

    LIMIT = 600

    def __init__(self, journal: _Journal) -> None:
        super().__init__(logging.WARNING)
        self._journal = journal

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith("hummingbot"):
            return
        try:
            message = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                message += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
            self._journal.write("log", level=record.levelname, logger=record.name, message=message[:self.LIMIT])
        except Exception:   # a journal that cannot be written must not break the bot's logging
            self.handleError(record)


class _EventJournal:
    """The connector's order events into the journal (Hummingbot holds listeners weakly: kept here)."""

    def __init__(self, connector, journal: _Journal) -> None:
        from hummingbot.core.event.event_forwarder import EventForwarder
        from hummingbot.core.event.events import MarketEvent

        self._connector = connector
        self._journal = journal
        events = ((MarketEvent.BuyOrderCreated, self._created), (MarketEvent.SellOrderCreated, self._created),
                  (MarketEvent.OrderFilled, self._filled), (MarketEvent.OrderCancelled, self._ended("cancelled")),
                  (MarketEvent.BuyOrderCompleted, self._ended("completed")),
                  (MarketEvent.SellOrderCompleted, self._ended("completed")),
                  (MarketEvent.OrderFailure, self._ended("failed")))
        self._forwarders = [(event, EventForwarder(handler)) for event, handler in events]
        for event, forwarder in self._forwarders:
            connector.add_listener(event, forwarder)

    def _created(self, event) -> None:
        side = "BUY" if type(event).__name__.startswith("Buy") else "SELL"
        self._journal.write("created", order_id=event.order_id, exchange_order_id=event.exchange_order_id,
                            amount=str(event.amount), price=str(event.price), side=side)

    def _filled(self, event) -> None:
        order = self._connector.in_flight_orders.get(event.order_id)
        self._journal.write("filled", order_id=event.order_id, trade_id=event.exchange_trade_id,
                            exchange_order_id=order.exchange_order_id if order is not None else None,
                            amount=str(event.amount), price=str(event.price), side=event.trade_type.name)

    def _ended(self, name: str) -> Callable[[Any], None]:
        def write(event) -> None:
            why = {"error": getattr(event, "error_message", None) or getattr(event, "error_type", None)} \
                if name == "failed" else {}
            self._journal.write(name, order_id=event.order_id,
                                exchange_order_id=getattr(event, "exchange_order_id", None), **why)
        return write


def _horizons_state(connector) -> Dict[str, Any]:
    """The active Horizon and each configured one's health state (with its reason when not healthy)."""
    rows = connector.horizon_health()
    return {"active": connector.active_horizon_url, "states": {row["url"]: row["state"] for row in rows},
            "reasons": {row["url"]: row["reason"] for row in rows if row["reason"]}}


async def _watch(connector, journal: _Journal) -> None:
    """`ready` once, then `orders` whenever what the connector tracks changes, `horizons` whenever the active
    Horizon or a health state changes, and `switch` for each switch the connector records."""
    ready = False
    last = last_horizons = None
    switches_seen = 0
    while True:
        if not ready and connector.ready:
            ready = True
            journal.write("ready", status=connector.status_dict, recovery=_recovery_report(connector))
        state = _orders_state(connector)
        if state != last:
            journal.write("orders", **state)
            last = state
        switches = connector.horizon_switches()
        for switch in switches[switches_seen:]:
            journal.write("switch", **switch)
        switches_seen = len(switches)
        horizons = _horizons_state(connector)
        if last_horizons is None or (horizons["active"], horizons["states"]) != (last_horizons["active"],
                                                                                  last_horizons["states"]):
            journal.write("horizons", **horizons)
        last_horizons = horizons
        await asyncio.sleep(WATCH_INTERVAL_S)


async def run_bot(spec: BotSpec, journal: _Journal, stop: asyncio.Event) -> None:
    """The session: restore, trade until `stop`, then stop in order and journal what is left."""
    import aiohttp
    from hummingbot.core.clock import Clock
    from hummingbot.core.clock_mode import ClockMode

    from .runner import (
        SANDBOX_RPC_PATH,
        Scenario,
        build_connector,
        build_strategy,
        cancel_all_orders,
        check_against_ledger,
        ledger_balances,
    )
    from .strategies.market_activity import HorizonClient
    from .strategies.params import MarketMakingParams
    from .strategies.trade_records import TradeRecords

    if not spec.recovery:
        _disable_recovery()
    first_horizon = spec.horizon_url.split(",")[0]
    connector = build_connector(trader_secret=spec.trader_secret, markets=spec.markets, horizon_url=spec.horizon_url,
                                passphrase=spec.passphrase, channel_secrets=spec.channel_secrets,
                                rpc_url=spec.rpc_url or first_horizon + SANDBOX_RPC_PATH, pairs=[spec.pair],
                                unknown_offers=spec.unknown_offers, max_fee_stroops=spec.max_fee_stroops)
    records = TradeRecords(spec.db_path, [connector], strategy_name="pure_market_making", config_name=CONFIG_NAME)
    records.start()
    events = _EventJournal(connector, journal)
    logging.getLogger().addHandler(_LogJournal(journal))
    try:
        if spec.restore:
            records.restore_market_states()
        journal.write("started", pid=os.getpid(),
                      restored=[_order_summary(order) for order in connector.in_flight_orders.values()])
        params = MarketMakingParams(**{name: _PARAM_TYPES[name](value) for name, value in spec.params.items()})
        scenario = Scenario(pairs=(spec.pair,), params=params, ledger_interval=spec.ledger_interval)
        strategy = build_strategy(scenario, connector)
        clock = Clock(ClockMode.REALTIME, tick_size=1.0)
        clock.add_iterator(connector)
        clock.add_iterator(strategy)
        async with aiohttp.ClientSession() as session:
            with clock:
                ticking = asyncio.ensure_future(clock.run())
                watching = asyncio.ensure_future(_watch(connector, journal))
                stopping = asyncio.ensure_future(stop.wait())
                try:
                    await asyncio.wait({ticking, stopping}, return_when=asyncio.FIRST_COMPLETED)
                    if ticking.done():
                        ticking.result()   # the clock failed: its error
                finally:
                    for task in (ticking, watching, stopping):
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
                await cancel_all_orders(connector, spec.ledger_interval)
                audit = HorizonClient(session, spec.audit_url, spec.passphrase)
                account_id = connector.account_id
                check = await check_against_ledger(connector, audit, account_id,
                                                   settle_s=max(3.0, 4 * spec.ledger_interval))
                offers = await audit.records(f"/accounts/{account_id}/offers")
                account = await audit.get(f"/accounts/{account_id}")
                journal.write(
                    "stopped", unresolved=[_order_summary(o) for o in connector.in_flight_orders.values()
                                           if not o.is_done],
                    offers_on_ledger=sorted(str(offer["id"]) for offer in offers),
                    tracked_offers=sorted(o.exchange_order_id for o in connector.in_flight_orders.values()
                                          if not o.is_done and o.exchange_order_id),
                    balance_differences={token: [str(mine), str(ledger)] for token, (mine, ledger)
                                         in check.balance_differences.items()},
                    balances={token: str(amount) for token, amount in connector.get_all_balances().items()},
                    ledger_balances={token: str(amount) for token, amount in ledger_balances(account).items()},
                    horizon_switches=connector.horizon_switches(), horizon_health=connector.horizon_health())
    finally:
        try:
            await connector.stop_network()
        finally:
            await connector.pipeline.stop()
            records.stop()
            del events


def _read_commands(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    with contextlib.suppress(Exception):
        for line in sys.stdin:
            if line.strip() and json.loads(line).get("command") == "stop":
                break
    with contextlib.suppress(RuntimeError):   # the loop already closed
        loop.call_soon_threadsafe(stop.set)


async def _main(spec: BotSpec, journal: _Journal) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    threading.Thread(target=_read_commands, args=(loop, stop), daemon=True).start()
    try:
        await run_bot(spec, journal, stop)
    except Exception as error:
        logger.exception("the bot failed")
        journal.write("error", error=f"{type(error).__name__}: {error}")
        return 1
    return 0


def main() -> int:
    # The journal keeps the real stdout; anything else printed goes to stderr (the bot's log).
    journal = _Journal(os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8"))
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    spec = BotSpec(**json.loads(sys.stdin.readline()))
    _use_connector(spec.connector_dir)
    return asyncio.run(_main(spec, journal))


if __name__ == "__main__":
    sys.exit(main())
