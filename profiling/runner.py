"""The profiling runner: a real Hummingbot strategy, driven by Hummingbot's `Clock`, trading through the
Stellar connector against a Stellar network with market activity, with the profiler around it.

    result = await run(Scenario(duration=60), output_dir="reports/demo")
    print(result.summary())

Arrangement only; each piece is somebody else's artefact:
1. the network: the embedded `stellar_sandbox.Sandbox`, in a child process (`profiling.sandbox_process`) or in
   this one, or a Horizon given by URL;
2. the accounts (`profiling.strategies.market_activity`): the trader, an issuer of the quote assets, a market maker
   and takers, funded by friendbot through real transactions;
3. market activity (`MarketActivity`, same module): a maker keeping a ladder outside the
   strategy's quotes and takers crossing the spread, so the strategy's orders get filled; beside the
   sandbox in its child process when it runs in one, so the profiled process holds the bot alone;
4. the profiler (`profiling.profiler.Profiler`): recorder, yappi, memray, RSS/CPU sampler;
5. the connector and a strategy (`profiling.strategies`) on a `Clock` for the duration, with Hummingbot's
   MarketsRecorder keeping trade records only when the scenario asks for it (`trade_records`; the V2 strategy
   needs it): the classic strategy does not use it, and its module alone loads some 70 MB;
6. the stop: strategy, then every order cancelled, the connector's balances checked against the
   ledger, the network stopped; then the report with the scenario and the counts;
7. the connector's Horizon requests in steady state (`profiling.horizon_requests`): counted from
   `STEADY_MARGIN_S` after the connector reported ready to the end of the strategy's run, by its
   measuring points and, with the sandbox in its child process, by the request log of the Horizon
   frontend it alone uses.
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
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Protocol, Sequence, Tuple

import aiohttp
from hummingbot.core.clock import Clock
from hummingbot.core.clock_mode import ClockMode
from hummingbot.core.data_type.common import OrderType
from hummingbot.core.event.event_forwarder import EventForwarder
from hummingbot.core.event.events import MarketEvent

from hummingbot.connector.exchange.stellar.stellar_constants import FEE_FIGURES_TTL_S
from hummingbot.connector.exchange.stellar.stellar_exchange import StellarExchange
from hummingbot.connector.exchange.stellar.stellar_instrument_cache import split_trading_pair
from hummingbot.connector.exchange.stellar.stellar_request_budget import requests_per_hour_of

from . import cpu_placement, horizon_requests
from .config import ProfilingConfig
from .memory import RUNNER, MemoryMarks, load_run_modules
from .profiler import Profiler, session_dir
from .strategies.market_activity import (
    HorizonClient,
    MarketActivity,
    Participants,
    prepare_participants,
    provide_pool_liquidity,
)
from .strategies.params import MarketMakingParams

if TYPE_CHECKING:
    from .report import ReportPaths

logger = logging.getLogger(__name__)

STRATEGIES = ("pmm", "v2")
SANDBOX_MODES = ("process", "in-process")
CONNECTOR_NAME = "stellar"
MAX_CHANNELS = 20
SANDBOX_RPC_PATH = "/rpc"   # the embedded sandbox serves Stellar RPC's JSON-RPC here
CANCEL_ALL_TIMEOUT_S = 15.0
PROGRESS_STEP_S = 0.5
HORIZON_LEDGER_S = 6.0  # a public network closes a ledger every 5-6 s
RESERVE_TTL_S = 3600.0  # the connector's ConfigCache reads the base reserve again this often (its slow TTL)
SANDBOX_LOG = "sandbox.log"
TRADES_DB = "trades.sqlite"
ARTEFACT_NAMES = ("report.md", "report.json", "latency_distribution.png", "resources.png", "yappi.prof",
                  "yappi.callgrind", "memray.bin", "memray-flamegraph.html", "memray-stats.json", TRADES_DB,
                  SANDBOX_LOG)


@dataclass(frozen=True)
class Scenario:
    """The load: what the strategy quotes, how busy the market is, how the network runs."""
    strategy: str = "pmm"
    pairs: Tuple[str, ...] = ("XLM-USDC",)
    params: MarketMakingParams = MarketMakingParams()
    market_rate: float = 2.0             # market events (maker refreshes and taker orders) per second
    duration: float = 60.0               # seconds the strategy runs
    ledger_interval: float = 1.0         # seconds between ledgers (embedded sandbox only)
    sandbox: str = "process"             # the embedded sandbox in a child process, or in this one
    horizon_url: Optional[str] = None    # None: start the embedded sandbox
    network_passphrase: Optional[str] = None  # None: the Horizon's own (GET /)
    rpc_url: Optional[str] = None        # None: the embedded sandbox's RPC (none for another Horizon)
    # Channel accounts: one transaction in flight per account, so with none every create and cancel
    # that arrives while one is pending waits for the next ledger (see the connector's pipeline).
    channels: int = 2
    trader_secret: Optional[str] = field(default=None, repr=False)  # None: a new funded account
    # Hummingbot's MarketsRecorder on an SQLite file, as a Hummingbot session keeps one: None (the default) runs
    # it only where the strategy needs it (v2: StrategyV2Base reads its executors from it).
    trade_records: Optional[bool] = None
    # Each pair's liquidity pool: base units the maker deposits at the start (0: no pool).
    pool_depth: Decimal = Decimal(0)
    # Seconds between the MARKET orders (path payments) the run places beside the strategy, buy and sell in
    # turn, of half an order amount (0: none): their latency is `order_market.filled` in the report.
    market_order_interval: float = 0.0
    # The embedded sandbox's child process on a CPU of its own and the bot on the others, as a remote Horizon never
    # takes the bot's CPU (see cpu_placement; only with two CPUs or more, and the sandbox in its child process).
    separate_cpus: bool = True

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        if not self.pairs:
            raise ValueError("at least one trading pair is needed")
        for pair in self.pairs:
            split_trading_pair(pair)   # a StellarConfigError (a ValueError) naming the pair
        if self.strategy == "pmm" and len(self.pairs) != 1:
            raise ValueError("the pure market making strategy quotes one pair; use --strategy v2 for several")
        if self.market_rate < 0:
            raise ValueError(f"market_rate must be zero or positive, got {self.market_rate}")
        if not 0 <= self.channels <= MAX_CHANNELS:
            raise ValueError(f"channels must be between 0 and {MAX_CHANNELS}, got {self.channels}")
        if self.duration <= 0:
            raise ValueError(f"duration must be positive, got {self.duration}")
        if self.ledger_interval <= 0:
            raise ValueError(f"ledger_interval must be positive, got {self.ledger_interval}")
        if self.sandbox not in SANDBOX_MODES:
            raise ValueError(f"sandbox must be one of {SANDBOX_MODES}, got {self.sandbox!r}")
        if self.pool_depth < 0:
            raise ValueError(f"pool_depth must be zero or positive, got {self.pool_depth}")
        if self.market_order_interval < 0:
            raise ValueError(f"market_order_interval must be zero or positive, got {self.market_order_interval}")
        if self.strategy == "v2" and self.trade_records is False:
            raise ValueError("the V2 strategy needs trade records: StrategyV2Base reads its executors from "
                             "Hummingbot's MarketsRecorder")

    def _pool_and_market_orders(self) -> str:
        text = f", a liquidity pool of {self.pool_depth} base a pair" if self.pool_depth > 0 else ""
        if self.market_order_interval > 0:
            text += f", a MARKET order every {self.market_order_interval:g} s"
        return text

    @property
    def keeps_trade_records(self) -> bool:
        return self.trade_records if self.trade_records is not None else self.strategy == "v2"

    def describe(self, network: str) -> str:
        p = self.params
        strategy = "classic pure market making" if self.strategy == "pmm" else "StrategyV2Base quote refresher"
        return (f"{strategy} on {', '.join(self.pairs)}: {p.order_levels} level(s) a side of {p.order_amount} base, "
                f"spreads {_pct(p.bid_spread)} bid / {_pct(p.ask_spread)} ask (+{_pct(p.order_level_spread)} a "
                f"level), refresh every {p.refresh_time:g} s; market activity {self.market_rate:g} events/s "
                f"(maker ladder outside the quotes, takers crossing the spread){self._pool_and_market_orders()}; "
                f"{self.channels} channel "
                f"account(s); {'trade records (MarketsRecorder)' if self.keeps_trade_records else 'no trade records'}; "
                f"{self.duration:g} s; {network}")


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


@dataclass
class RunContext:
    """What a `RunProbe` may look at and act on while the strategy runs."""
    scenario: Scenario
    connector: StellarExchange
    horizon: HorizonClient
    participants: Participants
    sandbox_process: Any  # profiling.sandbox_process.SandboxProcess, or None (in-process sandbox or a Horizon)
    counter: OrderEventCounter


class RunProbe(Protocol):
    """Load tests plug in here: `started` runs as a task beside the clock (cancelled when the duration is
    over); `stopped` is awaited after the orderly stop and the ledger check, before the connector stops."""

    async def started(self, context: RunContext) -> None: ...

    async def stopped(self, context: RunContext) -> None: ...


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
              handle_signals: bool = False, stop_event: Optional[asyncio.Event] = None,
              probe: Optional[RunProbe] = None, memory_marks: Optional[MemoryMarks] = None) -> RunResult:
    """Run the scenario under the profiler and write the report into `output_dir` (default: a new
    timestamped folder inside `profiling.output_dir`). With `handle_signals`, SIGINT stops the run early
    and cleanly; so does setting `stop_event`. A `probe` watches and steers the run (see `RunProbe`).
    `memory_marks`: the process's RSS at the steps before (the command line marks what loading Hummingbot, the
    connector and the strategy added); the run marks its own steps into it and the report tells them."""
    memory_marks = memory_marks if memory_marks is not None else MemoryMarks()
    load_run_modules(memory_marks, strategy=scenario.strategy, trade_records=scenario.keeps_trade_records)
    output = Path(output_dir) if output_dir is not None else session_dir(profiling.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    clear_previous_artefacts(output)
    stop_event = stop_event or asyncio.Event()
    async with contextlib.AsyncExitStack() as stack:
        if handle_signals:
            stack.enter_context(_sigint_sets(stop_event))
        sandbox_process, horizon_url, connector_url, passphrase, network = await _network(scenario, stack, output)
        logger.info("network: %s", network)
        session = await stack.enter_async_context(aiohttp.ClientSession())
        horizon = HorizonClient(session, horizon_url, passphrase)
        participants = await prepare_participants(
            horizon, scenario.pairs, takers=_taker_count(scenario), trader_secret=scenario.trader_secret,
            channels=scenario.channels)
        if scenario.pool_depth > 0:   # before the maker's first ladder: its sequence is read then
            pools = await provide_pool_liquidity(horizon, participants, scenario.pairs, scenario.pool_depth)
            logger.info("liquidity pools: %s", pools)
        market_options = dict(rate=scenario.market_rate, order_amount=scenario.params.order_amount,
                              outside_spread=_outermost_spread(scenario.params))
        if sandbox_process is not None:  # the other traders work beside the network, outside this process
            market = sandbox_process.market_activity(participants, scenario.pairs, **market_options)
        else:
            market = MarketActivity(horizon, participants, scenario.pairs, **market_options)
        await market.place_ladders()
        logger.info("accounts funded (%r), the maker's ladder placed", participants)
        return await _profiled_session(scenario, output, profiling, horizon, participants, market, network,
                                       progress, stop_event, probe, sandbox_process, memory_marks, connector_url)


async def _profiled_session(scenario: Scenario, output: Path, profiling: ProfilingConfig, horizon: HorizonClient,
                            participants: Participants, market: MarketActivity, network: str, progress: bool,
                            stop_event: asyncio.Event, probe: Optional[RunProbe] = None,
                            sandbox_process: Any = None, memory_marks: Optional[MemoryMarks] = None,
                            connector_url: Optional[str] = None) -> RunResult:
    profiler = Profiler(profiling, output_dir=output, scenario=scenario.describe(network), memory_marks=memory_marks)
    profiler.memory_marks.mark("the run's setup (network started, accounts funded, the maker's ladder placed)",
                               holder=RUNNER)
    market.start()
    profiler.start()
    counter: Optional[OrderEventCounter] = None
    ledger_check: Optional[LedgerCheck] = None
    interrupted = False
    notes: List[str] = []
    requests: Optional[Dict[str, Any]] = None
    connector_url = connector_url or horizon.url
    try:
        connector = build_connector(
            trader_secret=participants.trader.secret, markets=participants.markets, horizon_url=connector_url,
            passphrase=horizon.passphrase, channel_secrets=[c.secret for c in participants.channels],
            rpc_url=scenario.rpc_url or (connector_url + SANDBOX_RPC_PATH if scenario.horizon_url is None else None),
            pairs=scenario.pairs)
        counter = OrderEventCounter(connector)
        context = RunContext(scenario, connector, horizon, participants, sandbox_process, counter)
        log_url = connector_url if connector_url != horizon.url else None   # a frontend of the connector's own
        interrupted, ledger_check, requests = await _drive(scenario, connector, output, horizon, participants,
                                                           market, counter, progress, stop_event, probe, context,
                                                           profiler, log_url)
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
        paths = profiler.write_report(result, extra=extra, notes=notes, requests=requests)
        logger.info("report written: %s", paths.markdown)
    sla = json.loads(paths.json.read_text(encoding="utf-8")).get("sla") or []
    return RunResult(output_dir=output, report=paths, counts=counts, market=dict(market.stats), sla=sla,
                     ledger_check=ledger_check, interrupted=interrupted, artefacts=sorted(output.iterdir()))


def build_connector(*, trader_secret: str, markets: str, horizon_url: str, passphrase: str,
                    channel_secrets: Sequence[str], rpc_url: Optional[str], pairs: Sequence[str],
                    unknown_offers: Optional[str] = None, max_fee_stroops: Optional[int] = None) -> StellarExchange:
    """The connector as a run trades with it (also the chaos scenarios' bot process, `profiling.bot_process`);
    `horizon_url` may list several Horizons, comma-separated."""
    return StellarExchange(
        stellar_secret_key=trader_secret,
        stellar_markets=markets,
        stellar_horizon_url=horizon_url,
        stellar_network_passphrase=passphrase,
        stellar_channel_secret_keys=list(channel_secrets) or None,
        stellar_rpc_url=rpc_url,
        stellar_unknown_offers=unknown_offers,
        stellar_max_fee_stroops=max_fee_stroops,
        trading_pairs=list(pairs),
        trading_required=True,
        domain=CONNECTOR_NAME,
    )


async def _drive(scenario: Scenario, connector: StellarExchange, output: Path, horizon: HorizonClient,
                 participants: Participants, market: MarketActivity, counter: OrderEventCounter,
                 progress: bool, stop_event: asyncio.Event, probe: Optional[RunProbe] = None,
                 context: Optional[RunContext] = None, profiler: Optional[Profiler] = None,
                 log_url: Optional[str] = None) -> Tuple[bool, Optional[LedgerCheck], Optional[Dict[str, Any]]]:
    """The strategy on the clock for the duration, then the orderly stop. Returns (interrupted, check, the
    connector's Horizon requests in steady state: `horizon_requests` figures, None without a profiler)."""
    records = None
    if scenario.keeps_trade_records:
        from .strategies.trade_records import TradeRecords

        records = TradeRecords(output / TRADES_DB, [connector], strategy_name=scenario.strategy)
        markets_recorder = records.start()
        if profiler is not None:
            profiler.attach_markets_recorder(markets_recorder)
    strategy = None
    try:
        strategy = build_strategy(scenario, connector)
        clock = Clock(ClockMode.REALTIME, tick_size=1.0)
        clock.add_iterator(connector)
        clock.add_iterator(strategy)
        with clock:
            ticking = asyncio.ensure_future(clock.run())
            probing = asyncio.ensure_future(probe.started(context)) if probe is not None else None
            market_orders = (asyncio.ensure_future(_market_orders(scenario, connector))
                             if scenario.market_order_interval > 0 else None)
            steady = (asyncio.ensure_future(_steady_window(connector, profiler, horizon.session, log_url))
                      if profiler is not None else None)
            logger.info("the strategy runs on the clock for %g s", scenario.duration)
            try:
                interrupted = await _wait(scenario.duration, stop_event, counter, progress, ticking)
                requests = await _steady_figures(steady, connector, profiler, horizon.session, log_url, scenario)
            finally:
                for task in (ticking, probing, steady, market_orders):
                    if task is not None:
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
            logger.info("stopping: %s", "interrupted" if interrupted else "the duration is over")
            await market.stop()  # the market stands still while we settle, so the balances can be compared
            if scenario.strategy == "v2":
                await strategy.on_stop()
            await cancel_all_orders(connector, scenario.ledger_interval if scenario.horizon_url is None
                              else HORIZON_LEDGER_S)
            check = await check_against_ledger(connector, horizon, participants.trader.public_key,
                                               settle_s=max(3.0, 4 * scenario.ledger_interval))
            if probe is not None:
                await probe.stopped(context)
        return interrupted, check, requests
    finally:
        try:
            await connector.stop_network()
        except Exception:  # after a failure: the failure is what gets reported
            logger.exception("stopping the connector's network tasks failed")
        await connector.pipeline.stop()
        if records is not None:
            records.stop()


async def _market_orders(scenario: Scenario, connector: StellarExchange) -> None:
    """A MARKET order on the first pair every `market_order_interval` s once the connector is ready, buy and sell
    in turn, of half an order amount: what a MARKET order's path (a path payment, book or pool) costs."""
    while not connector.ready:
        await asyncio.sleep(0.2)
    pair, amount, buy = scenario.pairs[0], scenario.params.order_amount / 2, True
    while True:
        await asyncio.sleep(scenario.market_order_interval)
        (connector.buy if buy else connector.sell)(pair, amount, OrderType.MARKET)
        buy = not buy


async def _steady_window(connector: StellarExchange, profiler: Profiler, session: aiohttp.ClientSession,
                         log_url: Optional[str]) -> horizon_requests.RequestWindow:
    """Counts at the start of steady state: `STEADY_MARGIN_S` after the connector reported ready."""
    while not connector.ready:
        await asyncio.sleep(0.2)
    await asyncio.sleep(horizon_requests.STEADY_MARGIN_S)
    return horizon_requests.RequestWindow(
        time.monotonic(), horizon_requests.connector_counts(profiler.recorder.counts_matching("horizon*")),
        await _sandbox_log(session, log_url))


async def _steady_figures(steady: Optional[asyncio.Future], connector: StellarExchange, profiler: Optional[Profiler],
                          session: aiohttp.ClientSession, log_url: Optional[str],
                          scenario: Optional[Scenario] = None) -> Optional[Dict[str, Any]]:
    """The steady window's figures, its end now (the end of the strategy's run)."""
    if steady is None or profiler is None:
        return None
    if not steady.done() or steady.cancelled() or steady.exception() is not None:
        return horizon_requests.no_window(f"not measured: the connector was not ready "
                                          f"{horizon_requests.STEADY_MARGIN_S:g} s before the end of the run")
    ended = time.monotonic()
    end_counts = horizon_requests.connector_counts(profiler.recorder.counts_matching("horizon*"))
    scheduled = horizon_requests.scheduled_reads(connector.LONG_POLL_INTERVAL, FEE_FIGURES_TTL_S, RESERVE_TTL_S,
                                                 connector.TRADING_RULES_INTERVAL)
    window = steady.result()
    if scenario is not None and scenario.horizon_url is None:
        window.notes.append(_submissions_per_lane(window, ended, end_counts, scenario))
    return window.figures(ended, end_counts, await _sandbox_log(session, log_url),
                          requests_per_hour_of(connector.rate_limits_rules), run_totals=end_counts, scheduled=scheduled)


def _submissions_per_lane(window: horizon_requests.RequestWindow, ended: float, end_counts: Counter,
                          scenario: Scenario) -> str:
    key = (horizon_requests.SUBMIT, "/transactions_async")
    submitted = end_counts.get(key, 0) - window.connector_start.get(key, 0)
    ledgers = max(1.0, (ended - window.started_s) / scenario.ledger_interval)
    lanes = scenario.channels + 1
    return (f"Submissions: {submitted} in the window, over about {ledgers:.0f} ledgers (one every "
            f"{scenario.ledger_interval:g} s) and {lanes} lane(s) (the trading account and {scenario.channels} channel "
            f"account(s)): {submitted / (ledgers * lanes):.2f} per lane per ledger on average (a lane holds one "
            "transaction in flight: one submission per lane per ledger at most, unless Horizon asks for a "
            "resubmission).")


async def _sandbox_log(session: aiohttp.ClientSession, log_url: Optional[str]) -> Optional[Counter]:
    """The request log of the connector's own sandbox frontend (None without one, or if it cannot be read)."""
    if log_url is None:
        return None
    try:
        async with session.get(log_url + "/_sandbox/requests", timeout=aiohttp.ClientTimeout(total=5)) as response:
            return horizon_requests.sandbox_counts(await response.json())
    except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as error:
        logger.warning("could not read the sandbox's request log at %s: %s", log_url, error)
        return None


def build_strategy(scenario: Scenario, connector: StellarExchange):
    # Each strategy's module only when it runs: they load different parts of Hummingbot.
    if scenario.strategy == "pmm":
        from .strategies.pure_market_making import build_pure_market_making

        return build_pure_market_making(connector, scenario.pairs[0], scenario.params)
    from .strategies.quote_refresher import QuoteRefresher, QuoteRefresherConfig

    config = QuoteRefresherConfig(connector_name=CONNECTOR_NAME, trading_pairs=list(scenario.pairs),
                                  params=scenario.params)
    return QuoteRefresher({CONNECTOR_NAME: connector}, config)


class ProgressLine:
    """A one-line progress bar on a terminal stream, rewritten in place (a line per update elsewhere is not
    written: only the last state, at the end). Our own few lines rather than tqdm, whose import would sit in the
    measured process's memory."""

    WIDTH = 30

    def __init__(self, total_s: float, stream=None, enabled: bool = True) -> None:
        self.total_s = total_s
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self._interactive = enabled and getattr(self.stream, "isatty", lambda: False)()
        self._last = ""

    def render(self, elapsed_s: float, postfix: str) -> str:
        fraction = min(1.0, elapsed_s / self.total_s) if self.total_s > 0 else 1.0
        filled = int(round(fraction * self.WIDTH))
        return (f"{fraction:4.0%} |{'#' * filled}{'-' * (self.WIDTH - filled)}| "
                f"{min(elapsed_s, self.total_s):.0f}/{self.total_s:.0f} s {postfix}")

    def update(self, elapsed_s: float, postfix: str) -> None:
        self._last = self.render(elapsed_s, postfix)
        if self._interactive:
            self.stream.write("\r" + self._last)
            self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._last:
            self.stream.write(("\r" if self._interactive else "") + self._last + "\n")
            self.stream.flush()


async def _wait(duration: float, stop_event: asyncio.Event, counter: OrderEventCounter, progress: bool,
                ticking: asyncio.Future) -> bool:
    """Wait out the duration with a progress bar on stderr; True if stopped early."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    bar = ProgressLine(duration, enabled=progress)
    try:
        while True:
            elapsed = loop.time() - started
            c = counter.counts
            bar.update(elapsed, f"orders {c['orders_created']} cancels {c['orders_cancelled']} fills {c['fills']}")
            if elapsed >= duration:
                return False
            if stop_event.is_set():
                return True
            if ticking.done():
                ticking.result()  # the clock itself failed: raise its error
                return True
            with contextlib.suppress(asyncio.TimeoutError):
                async with asyncio.timeout(min(PROGRESS_STEP_S, duration - elapsed)):   # wait_for could drop a cancel
                    await stop_event.wait()
    finally:
        bar.close()


async def cancel_all_orders(connector: StellarExchange, ledger_s: float) -> None:
    # The strategy's last refresh may have cancels in flight (a fill can turn an order's PENDING_CANCEL back into
    # PARTIALLY_FILLED, so the states do not tell): let the queue drain and the last transaction reach a ledger,
    # or a second cancel of an order finds its offer gone and fails, fee charged.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CANCEL_ALL_TIMEOUT_S
    while loop.time() < deadline and (connector.pipeline.queued_count or any(
            order.is_pending_cancel_confirmation for order in connector.in_flight_orders.values())):
        await asyncio.sleep(0.1)
    await asyncio.sleep(max(0.0, min(deadline - loop.time(), 1.5 * ledger_s + 0.5)))
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


async def _network(scenario: Scenario, stack: contextlib.AsyncExitStack, output: Path):
    """(the sandbox's child process or None, Horizon URL, the connector's Horizon URL, passphrase, where it runs) —
    starting the embedded sandbox unless a URL is given."""
    if scenario.horizon_url is None and scenario.sandbox == "process":
        from .sandbox_process import SandboxProcess

        split = cpu_placement.plan() if scenario.separate_cpus else None
        sandbox = await stack.enter_async_context(SandboxProcess(scenario.ledger_interval, output / SANDBOX_LOG,
                                                                 cpus=split.network if split else None))
        where = (f"embedded sandbox in a child process (pid {sandbox.pid}) at {sandbox.horizon_url} (the connector on "
                 f"a frontend of its own, {sandbox.connector_url}), a ledger every {scenario.ledger_interval:g} s")
        if split is not None:
            stack.callback(cpu_placement.pin_process(split.bot))
            where += f"; {split.describe()}"
        return sandbox, sandbox.horizon_url, sandbox.connector_url, sandbox.passphrase, where
    if scenario.horizon_url is None:
        from stellar_sandbox import Sandbox

        sandbox = await stack.enter_async_context(Sandbox(ledger_interval=scenario.ledger_interval))
        where = (f"embedded sandbox in this process at {sandbox.horizon_url}, a ledger every "
                 f"{scenario.ledger_interval:g} s")
        return None, sandbox.horizon_url, sandbox.horizon_url, sandbox.passphrase, where
    url = scenario.horizon_url.rstrip("/")
    passphrase = scenario.network_passphrase
    if passphrase is None:
        async with aiohttp.ClientSession() as session:
            passphrase = (await HorizonClient(session, url, "").get("/"))["network_passphrase"]
    return None, url, url, passphrase, f"Horizon at {url} ({passphrase})"


def clear_previous_artefacts(output: Path) -> None:
    """Remove what an earlier run left in `output` (only our own file names), so no stale artefact passes for
    this run's (memray.bin of a run with memray, when this one runs without), and trades start afresh."""
    for name in ARTEFACT_NAMES:
        (output / name).unlink(missing_ok=True)


def _taker_count(scenario: Scenario) -> int:
    # Each account has one transaction in flight until its ledger closes: enough takers to keep the rate.
    in_flight = scenario.market_rate * (scenario.ledger_interval + 0.5)
    return max(2, min(32, int(in_flight * 1.5) + 1))


def _outermost_spread(params: MarketMakingParams) -> Decimal:
    return max(params.bid_spread, params.ask_spread) + (params.order_levels - 1) * params.order_level_spread


def _notes(scenario: Scenario, network: str, market: MarketActivity, check: Optional[LedgerCheck],
           interrupted: bool) -> List[str]:
    notes = [f"Network: {network}."]
    if scenario.horizon_url is None and scenario.sandbox == "in-process":
        notes.append("The sandbox, the market activity and the connector share this process and its event loop: "
                     "CPU, memory and yappi figures include the sandbox's work.")
    elif scenario.horizon_url is None:
        notes.append("The sandbox and the other traders (market activity) run in a child process: CPU, memory and "
                     "yappi figures are this process's, Hummingbot, the strategy, the connector and the profiling.")
    else:
        notes.append("The market activity's clients (the other traders' signing and HTTP calls) share this process: "
                     "CPU, memory and yappi figures include their work.")
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
    """SIGINT and SIGTERM set `event` (a clean stop: orders cancelled, report written); a second SIGINT
    falls back to Python's KeyboardInterrupt, for a user who does not want to wait for the stop."""
    loop = asyncio.get_running_loop()

    def first_signal(signum: int) -> None:
        if not event.is_set():
            print(f"\n{signal.Signals(signum).name}: stopping cleanly (cancelling orders, writing the report); "
                  "Ctrl-C again to abort", file=sys.stderr, flush=True)
        event.set()
        if signum == signal.SIGINT:
            loop.remove_signal_handler(signal.SIGINT)  # the next one raises KeyboardInterrupt

    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, first_signal, signum)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no such signals here
            pass
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


def _pct(fraction: Decimal) -> str:
    return f"{float(fraction) * 100:g} %"


__all__: Sequence[str] = ["Scenario", "RunResult", "RunContext", "RunProbe", "LedgerCheck", "OrderEventCounter", "run",
                          "check_against_ledger", "ledger_balances", "STRATEGIES", "build_connector", "build_strategy",
                          "cancel_all_orders"]
