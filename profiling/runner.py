"""The profiling runner: a real Hummingbot strategy, driven by Hummingbot's `Clock`, trading through the
Stellar connector against a Stellar network with market activity, with the profiler around it.

    result = await run(Scenario(duration=60), output_dir="reports/demo")
    print(result.summary())

Arrangement only; each piece is somebody else's artefact:
1. the network: the embedded `stellar_sandbox.Sandbox` (or a Horizon given by URL);
2. the accounts (`profiling.strategies.market_activity`): the trader, an issuer of the quote assets, a market maker
   and takers, funded by friendbot through real transactions;
3. market activity (`MarketActivity`, same module): a maker keeping a ladder outside the
   strategy's quotes and takers crossing the spread, so the strategy's orders get filled;
4. the profiler (`profiling.profiler.Profiler`): recorder, yappi, memray, RSS/CPU sampler;
5. the connector and a strategy (`profiling.strategies`) on a `Clock` for the duration;
6. the stop: strategy, then every order cancelled, the connector's balances checked against the
   ledger, the network stopped; then the report with the scenario and the counts.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import aiohttp
from hummingbot.core.clock import Clock
from hummingbot.core.clock_mode import ClockMode
from hummingbot.core.event.event_forwarder import EventForwarder
from hummingbot.core.event.events import MarketEvent

from hummingbot.connector.exchange.stellar.stellar_exchange import StellarExchange
from profiling.config import ProfilingConfig
from profiling.profiler import Profiler, session_dir
from profiling.report import ReportPaths
from profiling.strategies import (
    MarketMakingParams,
    QuoteRefresher,
    QuoteRefresherConfig,
    TradeRecords,
    build_pure_market_making,
)
from profiling.strategies.market_activity import HorizonClient, MarketActivity, Participants, prepare_participants

logger = logging.getLogger(__name__)

STRATEGIES = ("pmm", "v2")
CONNECTOR_NAME = "stellar"
CANCEL_ALL_TIMEOUT_S = 15.0
PROGRESS_STEP_S = 0.5


@dataclass(frozen=True)
class Scenario:
    """The load: what the strategy quotes, how busy the market is, how the network runs."""
    strategy: str = "pmm"
    pairs: Tuple[str, ...] = ("XLM-USDC",)
    params: MarketMakingParams = MarketMakingParams()
    market_rate: float = 2.0             # market events (maker refreshes and taker orders) per second
    duration: float = 60.0               # seconds the strategy runs
    ledger_interval: float = 1.0         # seconds between ledgers (embedded sandbox only)
    horizon_url: Optional[str] = None    # None: start the embedded sandbox
    network_passphrase: Optional[str] = None  # None: the Horizon's own (GET /)
    trader_secret: Optional[str] = field(default=None, repr=False)  # None: a new funded account

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        if not self.pairs:
            raise ValueError("at least one trading pair is needed")
        for pair in self.pairs:
            if pair.count("-") != 1 or not all(pair.split("-")):
                raise ValueError(f"trading pairs are BASE-QUOTE, e.g. XLM-USDC; got {pair!r}")
        if self.strategy == "pmm" and len(self.pairs) != 1:
            raise ValueError("the pure market making strategy quotes one pair; use --strategy v2 for several")
        if self.market_rate < 0:
            raise ValueError(f"market_rate must be zero or positive, got {self.market_rate}")
        if self.duration <= 0:
            raise ValueError(f"duration must be positive, got {self.duration}")
        if self.ledger_interval <= 0:
            raise ValueError(f"ledger_interval must be positive, got {self.ledger_interval}")

    def describe(self, network: str) -> str:
        p = self.params
        strategy = "classic pure market making" if self.strategy == "pmm" else "StrategyV2Base quote refresher"
        return (f"{strategy} on {', '.join(self.pairs)}: {p.order_levels} level(s) a side of {p.order_amount} base, "
                f"spreads {_pct(p.bid_spread)} bid / {_pct(p.ask_spread)} ask (+{_pct(p.order_level_spread)} a "
                f"level), refresh every {p.refresh_time:g} s; market activity {self.market_rate:g} events/s "
                f"(maker ladder outside the quotes, takers crossing the spread); {self.duration:g} s; {network}")


@dataclass(frozen=True)
class LedgerCheck:
    """The connector's view against the ledger's, once the run is over."""
    open_offers: int
    balance_differences: Dict[str, Tuple[Decimal, Decimal]]  # token -> (connector's total, ledger's)

    @property
    def consistent(self) -> bool:
        return self.open_offers == 0 and not self.balance_differences

    def describe(self) -> str:
        if self.consistent:
            return "after stop: no open offer left, the connector's balances equal the ledger's"
        parts = []
        if self.open_offers:
            parts.append(f"{self.open_offers} offer(s) still open")
        parts += [f"{token} connector {tracked} vs ledger {ledger}"
                  for token, (tracked, ledger) in sorted(self.balance_differences.items())]
        return "after stop: " + "; ".join(parts)


@dataclass
class RunResult:
    output_dir: Path
    report: ReportPaths
    counts: Dict[str, int]
    market: Dict[str, int]
    sla: List[dict]
    ledger_check: Optional[LedgerCheck]
    interrupted: bool
    artefacts: List[Path]

    def summary(self) -> str:
        c = self.counts
        lines = [
            f"Report: {self.report.markdown}",
            f"Orders: {c.get('orders_created', 0)} created, {c.get('orders_cancelled', 0)} cancelled, "
            f"{c.get('orders_completed', 0)} filled completely, {c.get('fills', 0)} fills, "
            f"{c.get('orders_failed', 0)} failed",
            f"Order book: {c.get('book_updates', 0)} updates, {c.get('book_snapshots', 0)} snapshots",
            f"Market activity: {self.market.get('maker_refreshes', 0)} maker refreshes, "
            f"{self.market.get('taker_orders', 0)} taker orders, {self.market.get('failed', 0)} failed",
        ]
        if self.ledger_check is not None:
            lines.append(self.ledger_check.describe())
        lines += [f"SLA {entry['target']}: {entry['status']}" for entry in self.sla]
        if self.interrupted:
            lines.append("Interrupted before the end of the duration.")
        return "\n".join(lines)


class OrderEventCounter:
    """Counts the connector's order events, as the strategy sees them."""

    _EVENTS = (
        (MarketEvent.BuyOrderCreated, "orders_created"),
        (MarketEvent.SellOrderCreated, "orders_created"),
        (MarketEvent.OrderCancelled, "orders_cancelled"),
        (MarketEvent.OrderFilled, "fills"),
        (MarketEvent.BuyOrderCompleted, "orders_completed"),
        (MarketEvent.SellOrderCompleted, "orders_completed"),
        (MarketEvent.OrderFailure, "orders_failed"),
    )

    def __init__(self, connector: StellarExchange) -> None:
        self.counts: Counter = Counter({name: 0 for _event, name in self._EVENTS})
        self._connector = connector
        # Hummingbot's pub/sub holds listeners weakly: keep them here.
        self._forwarders = [(event, EventForwarder(self._counter(name))) for event, name in self._EVENTS]
        for event, forwarder in self._forwarders:
            connector.add_listener(event, forwarder)

    def _counter(self, name: str):
        def count(_event) -> None:
            self.counts[name] += 1
        return count

    def detach(self) -> None:
        for event, forwarder in self._forwarders:
            self._connector.remove_listener(event, forwarder)


async def run(scenario: Scenario, *, output_dir: Optional[Path | str] = None,
              profiling: ProfilingConfig = ProfilingConfig(), progress: bool = True,
              handle_signals: bool = False, stop_event: Optional[asyncio.Event] = None) -> RunResult:
    """Run the scenario under the profiler and write the report into `output_dir` (default: a new
    timestamped folder inside `profiling.output_dir`). With `handle_signals`, SIGINT stops the run early
    and cleanly; so does setting `stop_event`."""
    output = Path(output_dir) if output_dir is not None else session_dir(profiling.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    stop_event = stop_event or asyncio.Event()
    async with contextlib.AsyncExitStack() as stack:
        if handle_signals:
            stack.enter_context(_sigint_sets(stop_event))
        horizon_url, passphrase, network = await _network(scenario, stack)
        session = await stack.enter_async_context(aiohttp.ClientSession())
        horizon = HorizonClient(session, horizon_url, passphrase)
        participants = await prepare_participants(
            horizon, scenario.pairs, takers=_taker_count(scenario), trader_secret=scenario.trader_secret)
        market = MarketActivity(horizon, participants, scenario.pairs, rate=scenario.market_rate,
                                order_amount=scenario.params.order_amount,
                                outside_spread=_outermost_spread(scenario.params))
        await market.place_ladders()
        return await _profiled_session(scenario, output, profiling, horizon, participants, market, network,
                                       progress, stop_event)


async def _profiled_session(scenario: Scenario, output: Path, profiling: ProfilingConfig, horizon: HorizonClient,
                            participants: Participants, market: MarketActivity, network: str, progress: bool,
                            stop_event: asyncio.Event) -> RunResult:
    profiler = Profiler(profiling, output_dir=output, scenario=scenario.describe(network))
    market.start()
    profiler.start()
    counter: Optional[OrderEventCounter] = None
    ledger_check: Optional[LedgerCheck] = None
    interrupted = False
    notes: List[str] = []
    try:
        connector = StellarExchange(
            stellar_secret_key=participants.trader.secret,
            stellar_markets=participants.markets,
            stellar_horizon_url=horizon.url,
            stellar_network_passphrase=horizon.passphrase,
            trading_pairs=list(scenario.pairs),
            trading_required=True,
            domain=CONNECTOR_NAME,
        )
        counter = OrderEventCounter(connector)
        interrupted, ledger_check = await _drive(scenario, connector, output, horizon, participants, market,
                                                 counter, progress, stop_event)
    except Exception as error:
        logger.exception("the profiling run failed")
        notes.append(f"The run failed: {type(error).__name__}: {error}")
        raise
    finally:
        await market.stop()
        result = profiler.stop()
        counts = dict(counter.counts) if counter is not None else {}
        points = result.latency.get("points") or {}
        counts["book_updates"] = int((points.get("book.update") or {}).get("count", 0))
        counts["book_snapshots"] = int((points.get("book.snapshot") or {}).get("count", 0))
        notes += _notes(scenario, network, market, ledger_check, interrupted)
        extra = {f"run_{name}": float(value) for name, value in counts.items()}
        extra.update({f"market_{name}": float(value) for name, value in market.stats.items()})
        paths = profiler.write_report(result, extra=extra, notes=notes)
    sla = json.loads(paths.json.read_text(encoding="utf-8")).get("sla") or []
    return RunResult(output_dir=output, report=paths, counts=counts, market=dict(market.stats), sla=sla,
                     ledger_check=ledger_check, interrupted=interrupted, artefacts=sorted(output.iterdir()))


async def _drive(scenario: Scenario, connector: StellarExchange, output: Path, horizon: HorizonClient,
                 participants: Participants, market: MarketActivity, counter: OrderEventCounter,
                 progress: bool, stop_event: asyncio.Event) -> Tuple[bool, Optional[LedgerCheck]]:
    """The strategy on the clock for the duration, then the orderly stop. Returns (interrupted, check)."""
    records = TradeRecords(output / "trades.sqlite", [connector], strategy_name=scenario.strategy)
    records.start()
    strategy = None
    try:
        strategy = _strategy(scenario, connector)
        clock = Clock(ClockMode.REALTIME, tick_size=1.0)
        clock.add_iterator(connector)
        clock.add_iterator(strategy)
        with clock:
            ticking = asyncio.ensure_future(clock.run())
            try:
                interrupted = await _wait(scenario.duration, stop_event, counter, progress, ticking)
            finally:
                ticking.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticking
            await market.stop()  # the market stands still while we settle, so the balances can be compared
            if isinstance(strategy, QuoteRefresher):
                await strategy.on_stop()
            await _cancel_all(connector)
            check = await check_against_ledger(connector, horizon, participants.trader.public_key,
                                               settle_s=max(3.0, 4 * scenario.ledger_interval))
        await connector.stop_network()
        return interrupted, check
    finally:
        await connector.pipeline.stop()
        records.stop()


def _strategy(scenario: Scenario, connector: StellarExchange):
    if scenario.strategy == "pmm":
        return build_pure_market_making(connector, scenario.pairs[0], scenario.params)
    config = QuoteRefresherConfig(connector_name=CONNECTOR_NAME, trading_pairs=list(scenario.pairs),
                                  params=scenario.params)
    return QuoteRefresher({CONNECTOR_NAME: connector}, config)


async def _wait(duration: float, stop_event: asyncio.Event, counter: OrderEventCounter, progress: bool,
                ticking: asyncio.Future) -> bool:
    """Wait out the duration with a progress bar on stderr; True if stopped early."""
    from tqdm import tqdm

    loop = asyncio.get_running_loop()
    started = loop.time()
    with tqdm(total=round(duration, 1), unit="s", file=sys.stderr, disable=not progress,
              bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s {postfix}") as bar:
        while True:
            elapsed = loop.time() - started
            bar.n = round(min(elapsed, duration), 1)
            c = counter.counts
            bar.set_postfix_str(f"orders {c['orders_created']} cancels {c['orders_cancelled']} fills {c['fills']}",
                                refresh=True)
            if elapsed >= duration:
                return False
            if stop_event.is_set():
                return True
            if ticking.done():
                ticking.result()  # the clock itself failed: raise its error
                return True
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop_event.wait(), timeout=min(PROGRESS_STEP_S, duration - elapsed))


async def _cancel_all(connector: StellarExchange) -> None:
    results = await connector.cancel_all(CANCEL_ALL_TIMEOUT_S)
    failed = [r.order_id for r in results if not r.success]
    if failed:
        logger.warning("%d order(s) could not be cancelled: %s", len(failed), ", ".join(failed))


async def check_against_ledger(connector: StellarExchange, horizon: HorizonClient, account_id: str,
                               settle_s: float = 3.0) -> LedgerCheck:
    """The account's open offers and the connector's balances against the ledger's, once they settle.

    The connector learns of the last changes through its streams a moment after the ledger; the
    check is repeated until both agree or `settle_s` has passed, and the last difference is kept.
    """
    deadline = time.monotonic() + settle_s
    while True:
        account = await horizon.get(f"/accounts/{account_id}")
        offers = await horizon.records(f"/accounts/{account_id}/offers")
        ledger = ledger_balances(account)
        tracked = connector.get_all_balances()
        differences = {token: (Decimal(tracked.get(token, 0)), amount) for token, amount in ledger.items()
                       if Decimal(tracked.get(token, 0)) != amount}
        check = LedgerCheck(open_offers=len(offers), balance_differences=differences)
        if check.consistent or time.monotonic() >= deadline:
            return check
        await asyncio.sleep(0.2)


def ledger_balances(account: dict) -> Dict[str, Decimal]:
    """Horizon's account balances by token name, as the connector names them (XLM, or the asset code)."""
    balances = {}
    for entry in account.get("balances") or []:
        if entry.get("asset_type") == "native":
            balances["XLM"] = Decimal(entry["balance"])
        elif entry.get("asset_code"):
            balances[entry["asset_code"]] = Decimal(entry["balance"])
    return balances


async def _network(scenario: Scenario, stack: contextlib.AsyncExitStack) -> Tuple[str, str, str]:
    """(Horizon URL, passphrase, where it runs) — starting the embedded sandbox unless a URL is given."""
    if scenario.horizon_url is None:
        from stellar_sandbox import Sandbox

        sandbox = await stack.enter_async_context(Sandbox(ledger_interval=scenario.ledger_interval))
        where = (f"embedded sandbox in this process at {sandbox.horizon_url}, a ledger every "
                 f"{scenario.ledger_interval:g} s")
        return sandbox.horizon_url, sandbox.passphrase, where
    url = scenario.horizon_url.rstrip("/")
    passphrase = scenario.network_passphrase
    if passphrase is None:
        async with aiohttp.ClientSession() as session:
            passphrase = (await HorizonClient(session, url, "").get("/"))["network_passphrase"]
    return url, passphrase, f"Horizon at {url} ({passphrase})"


def _taker_count(scenario: Scenario) -> int:
    # Each account has one transaction in flight until its ledger closes: enough takers to keep the rate.
    in_flight = scenario.market_rate * (scenario.ledger_interval + 0.5)
    return max(2, min(32, int(in_flight * 1.5) + 1))


def _outermost_spread(params: MarketMakingParams) -> Decimal:
    return max(params.bid_spread, params.ask_spread) + (params.order_levels - 1) * params.order_level_spread


def _notes(scenario: Scenario, network: str, market: MarketActivity, check: Optional[LedgerCheck],
           interrupted: bool) -> List[str]:
    notes = [f"Network: {network}."]
    if scenario.horizon_url is None:
        notes.append("The sandbox, its market activity and the connector share this process and its event loop: "
                     "CPU, memory and yappi figures include the sandbox's work.")
    stats = market.stats
    notes.append(f"Market activity: {stats['maker_refreshes']} maker refreshes, {stats['taker_orders']} taker orders, "
                 f"{stats['failed']} failed, {stats['skipped']} skipped (every account busy).")
    if check is not None:
        notes.append(check.describe().capitalize() + ".")
    if interrupted:
        notes.append("The run was stopped before the end of its duration.")
    return notes


@contextlib.contextmanager
def _sigint_sets(event: asyncio.Event):
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, event.set)
    except (NotImplementedError, RuntimeError):  # not the main thread, or no signals on this platform
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def _pct(fraction: Decimal) -> str:
    return f"{float(fraction) * 100:g} %"


__all__: Sequence[str] = ["Scenario", "RunResult", "LedgerCheck", "OrderEventCounter", "run",
                          "check_against_ledger", "ledger_balances", "STRATEGIES"]
