"""Load and failure tests: the profiling run (`profiling.runner.run`) under a schedule of book-event rates and
faults, with a probe that samples the connector's queues and streams, and a verdict per scenario.

    python -m profiling loadtest --scenario 2            # short default (about 30 s)
    python -m profiling loadtest --scenario 6 --full     # the issue's length (10 min)
    python -m profiling loadtest --scenario all --duration 20

"Events/s" are the sandbox's own market activity (`POST /_sandbox/market`): order book events on the
strategy's pair that the connector's order book data source and the strategy absorb while the strategy
trades. Faults go through `POST /_sandbox/faults`, so both work with the sandbox in its child process.

Each scenario writes the profiling report (report.md, report.json) into its folder, then appends a verdict
block to report.md and writes loadtest.json. Checks marked `timing` are the benchmark's; the test suite
asserts only the others (correctness).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
import statistics
import time
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import psutil
from hummingbot.core.event.event_forwarder import EventForwarder
from hummingbot.core.event.events import MarketEvent

from .config import ProfilingConfig
from .ledger_audit import all_records
from .load_scenarios import SCENARIOS, Chaos, LoadScenario, parse_scenarios  # noqa: F401  (re-exported)
from .memory import MemoryMarks
from .runner import RunContext, RunResult, Scenario, run
from .strategies.market_activity import HorizonClient, reference_price
from .verdicts import Check, Judged, verdict_markdown  # noqa: F401  (re-exported)

logger = logging.getLogger(__name__)

SAMPLE_INTERVAL_S = 0.25
LOOP_PROBE_S = 0.05           # the timer whose lateness is the event loop's processing lag
RECONNECT_LIMIT_S = 5.0
MARKET_OPS_PER_TX = 5         # the sandbox market's default: participants needed = rate * ledger * 1.5 / 5
LAG_DEGRADED_MS = 100.0       # scenario 4: the rate is "degraded" once loop lag p95 or queue depth exceed these
QUEUE_DEGRADED = 100
CHAOS_ERROR_PATHS = ("/transactions_async", "/transactions", "/accounts/*", "/fee_stats")
LOADTEST_JSON = "loadtest.json"


@dataclass
class Sample:
    t_s: float
    rate: float
    queue_depth: int
    loop_lag_ms: float
    rss_mb: float
    cpu_percent: float
    events_applied: int


class LoadProbe:
    """Steers the sandbox (rate schedule, faults) and samples the connector while the strategy runs."""

    def __init__(self, scenario: LoadScenario, duration: float, seed: int = 1) -> None:
        self.scenario = scenario
        self.duration = duration
        self.samples: List[Sample] = []
        self.fills: List[Any] = []
        self.outages: List[float] = []        # seconds each stream stayed disconnected after a drop
        self.open_outages = 0
        self.drops_requested = 0
        self.market_setup_s = 0.0
        self.ledger: Dict[str, Any] = {}
        self.unresolved_orders: List[str] = []
        self.errors: List[str] = []
        self._random = random.Random(seed)
        self._forwarder = EventForwarder(self.fills.append)  # held here: Hummingbot's pub/sub keeps it weakly
        self._down_since: Dict[str, float] = {}
        self._connected_once: set = set()
        self._loop_lag_ms = 0.0
        self._began = time.monotonic()
        self.reconnects = 0

    # ----- the run -----

    async def started(self, context: RunContext) -> None:
        context.connector.add_listener(MarketEvent.OrderFilled, self._forwarder)
        horizon = context.horizon
        # Faults are a frontend's own: they go to the one the connector uses (the runner gives it its own).
        connectors = HorizonClient(horizon.session, context.connector.horizon_url, horizon.passphrase)
        tasks: List[asyncio.Future] = []
        self._began = time.monotonic()
        try:
            await self._start_market(context)
            self.market_setup_s = time.monotonic() - self._began
            tasks = [asyncio.ensure_future(self._loop_lag()), asyncio.ensure_future(self._watch_streams(context))]
            if self.scenario.chaos is not None:
                tasks.append(asyncio.ensure_future(self._chaos(connectors, self.scenario.chaos)))
            process = psutil.Process()
            process.cpu_percent(None)
            started = time.monotonic()
            rate = None
            while True:
                elapsed = time.monotonic() - started
                wanted = self.scenario.rate_at(min(1.0, (elapsed + self.market_setup_s) / self.duration))
                if wanted != rate:
                    await self._control(horizon, "/_sandbox/market", {"action": "rate", "rate": wanted})
                    rate = wanted
                market = await horizon.get("/_sandbox/market")
                self.samples.append(Sample(
                    t_s=round(elapsed + self.market_setup_s, 3), rate=rate, queue_depth=queue_depth(context.connector),
                    loop_lag_ms=round(self._loop_lag_ms, 3), rss_mb=round(process.memory_info().rss / 2 ** 20, 2),
                    cpu_percent=round(process.cpu_percent(None), 1), events_applied=int(market["events_applied"])))
                await asyncio.sleep(SAMPLE_INTERVAL_S)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the verdict reports it; the run goes on to its orderly stop
            logger.exception("load probe failed")
            self.errors.append(f"{type(error).__name__}: {error}")
        finally:
            for task in tasks:
                task.cancel()
            # Faults and book events end before the orderly stop, so cancels and the ledger check run clean.
            with contextlib.suppress(Exception):
                await self._control(connectors, "/_sandbox/faults", None, method="DELETE")
                await self._control(horizon, "/_sandbox/market", {"action": "stop"})

    async def stopped(self, context: RunContext) -> None:
        context.connector.remove_listener(MarketEvent.OrderFilled, self._forwarder)
        self.unresolved_orders = [order.client_order_id for order in context.connector.in_flight_orders.values()
                                  if not order.is_done]
        try:
            self.ledger = await ledger_activity(context.horizon, context.participants.trader.public_key)
        except Exception as error:
            logger.exception("reading the trader's ledger history failed")
            self.errors.append(f"ledger history: {type(error).__name__}: {error}")

    async def _start_market(self, context: RunContext) -> None:
        pair = context.scenario.pairs[0]
        base, quote = (context.participants.assets[token] for token in pair.split("-"))
        issued = [asset.code for asset in (base, quote) if not asset.is_native()]
        if context.sandbox_process is None:
            raise RuntimeError("the load test needs the embedded sandbox in its child process")
        await context.sandbox_process.register_issuer(context.participants.issuer, issued)
        participants = math.ceil(self.scenario.peak_rate * context.scenario.ledger_interval * 1.5
                                 / MARKET_OPS_PER_TX) + 2
        await self._control(context.horizon, "/_sandbox/market", {
            "action": "start", "rate": self.scenario.rates[0][1], "base": _asset_text(base),
            "counter": _asset_text(quote), "mid": float(reference_price(pair)), "seed": 1,
            "participants": min(1000, max(4, participants))})

    async def _chaos(self, horizon, chaos: Chaos) -> None:
        await asyncio.sleep(chaos.start_after_s)
        await self._control(horizon, "/_sandbox/faults", {
            "errors": {"rate": chaos.error_rate, "statuses": list(chaos.error_statuses),
                       "paths": list(CHAOS_ERROR_PATHS)},
            "submission_timeout": {"rate": chaos.submission_timeout_rate}})
        last_drop_at = self.duration - RECONNECT_LIMIT_S - 2  # seconds into the run: later outages could not end
        while time.monotonic() - self._began <= last_drop_at:
            await self._control(horizon, "/_sandbox/faults", {"drop_streams": True})
            self.drops_requested += 1
            await asyncio.sleep(self._random.uniform(*chaos.drop_every_s))

    async def _loop_lag(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            began = loop.time()
            await asyncio.sleep(LOOP_PROBE_S)
            self._loop_lag_ms = max(0.0, (loop.time() - began - LOOP_PROBE_S) * 1000)
            await asyncio.sleep(SAMPLE_INTERVAL_S - LOOP_PROBE_S)

    async def _watch_streams(self, context: RunContext) -> None:
        """Time each stream's outage: from the sample that first sees it disconnected to the one that sees
        it connected again (a 50 ms poll of the connector's streams; a stream no longer held is no outage)."""
        while True:
            now = time.monotonic()
            streams = context.connector.streams_connected()
            for name, connected in streams.items():
                if connected:
                    self._connected_once.add(name)
                    down = self._down_since.pop(name, None)
                    if down is not None:
                        self.outages.append(now - down)
                elif name in self._connected_once and name not in self._down_since:
                    self._down_since[name] = now
            for name in [name for name in self._down_since if name not in streams]:
                del self._down_since[name]
            self.open_outages = len(self._down_since)
            self.reconnects = context.connector.stream_reconnects()
            await asyncio.sleep(0.05)

    @staticmethod
    async def _control(horizon, path: str, body: Optional[dict], method: str = "POST") -> dict:
        async with horizon.session.request(method, horizon.url + path, json=body) as response:
            answer = await response.json(content_type=None)
            if response.status >= 400:
                raise RuntimeError(f"{method} {path}: {response.status} {answer}")
            return answer


def queue_depth(connector) -> int:
    """Messages waiting in the connector's streams and in Hummingbot's order book tracker."""
    queues: List[asyncio.Queue] = []
    tracker = connector.order_book_tracker
    queues += [getattr(tracker, name, None) for name in
               ("_order_book_diff_stream", "_order_book_snapshot_stream", "_order_book_trade_stream")]
    queues += list(getattr(tracker, "_tracking_message_queues", {}).values())
    return connector.queued_stream_messages() + sum(q.qsize() for q in queues if isinstance(q, asyncio.Queue))


async def ledger_activity(horizon, account_id: str) -> Dict[str, Any]:
    """The trader's trades and offer-creating operations, as the ledger has them."""
    trades = await all_records(horizon, f"/accounts/{account_id}/trades")
    operations = await all_records(horizon, f"/accounts/{account_id}/operations")
    # The connector places with create_passive_sell_offer or a manage offer of offer id 0; others change or cancel.
    creates = [op for op in operations if op.get("type") == "create_passive_sell_offer" or (
               op.get("type") in ("manage_sell_offer", "manage_buy_offer")
               and str(op.get("offer_id", "0")) == "0" and Decimal(str(op.get("amount", "0"))) > 0)]
    kinds: Dict[str, int] = {}
    for op in operations:
        kinds[op.get("type", "?")] = kinds.get(op.get("type", "?"), 0) + 1
    return {"trades": len(trades), "offer_creates": len(creates), "operations": kinds,
            "sample_operation": operations[-1] if operations else None}


def _asset_text(asset) -> str:
    return "native" if asset.is_native() else f"{asset.code}:{asset.issuer}"


# ----- figures and verdicts -----

def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def figures(probe: LoadProbe, result: RunResult) -> Dict[str, Any]:
    report = json.loads(result.report.json.read_text(encoding="utf-8"))
    points = report["latency"]["points"]
    samples = probe.samples

    def point(name: str, stat: str) -> Optional[float]:
        return (points.get(name) or {}).get(stat)

    applied = [s.events_applied for s in samples]
    span = samples[-1].t_s - samples[0].t_s if len(samples) > 1 else 0.0
    return {
        "book_update_avg_ms": point("book.update", "avg_ms"), "book_update_max_ms": point("book.update", "max_ms"),
        "book_updates": point("book.update", "count") or 0,
        "order_create_ack_avg_ms": point("order_create.ack", "avg_ms"),
        "order_create_ack_max_ms": point("order_create.ack", "max_ms"),
        "events_per_s_delivered": round((applied[-1] - applied[0]) / span, 1) if span > 0 else 0.0,
        "delivered_per_step": delivered_per_step(samples),
        "queue_depth_max": max((s.queue_depth for s in samples), default=0),
        "loop_lag_p95_ms": round(_percentile([s.loop_lag_ms for s in samples], 0.95), 2),
        "loop_lag_max_ms": round(max((s.loop_lag_ms for s in samples), default=0.0), 2),
        "rss_peak_mb": max((s.rss_mb for s in samples), default=0.0),
        "cpu_avg_percent": round(statistics.fmean([s.cpu_percent for s in samples]), 1) if samples else 0.0,
        "market_setup_s": round(probe.market_setup_s, 2), "stream_reconnects": probe.reconnects,
        "memray_peak_mb": (report.get("memray") or {}).get("peak_memory_mb"),
        "orders_created": result.counts.get("orders_created", 0), "fills": result.counts.get("fills", 0),
        "orders_failed": result.counts.get("orders_failed", 0),
    }


def delivered_per_step(samples: Sequence[Sample]) -> Dict[str, float]:
    """Book events/s the sandbox applied during each step of the schedule (asked rate -> delivered)."""
    steps: Dict[str, float] = {}
    start = 0
    for end in range(1, len(samples) + 1):
        if end == len(samples) or samples[end].rate != samples[start].rate:
            first, last = samples[start], samples[end - 1]
            if last.t_s > first.t_s:
                steps[f"{first.rate:g}"] = round((last.events_applied - first.events_applied)
                                                 / (last.t_s - first.t_s), 1)
            start = end
    return steps


def _ms(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.3g} ms"


def _between(samples: Sequence[Sample], low: float, high: float) -> List[Sample]:
    return [s for s in samples if low <= s.t_s < high]


def verdicts(scenario: LoadScenario, duration: float, probe: LoadProbe, result: RunResult,
             fig: Dict[str, Any]) -> List[Check]:
    checks = [Check("completed", "the run reaches its orderly stop, the probe without error, and the strategy "
                    "traded (orders created, book updates parsed)",
                    "; ".join(probe.errors) or f"{len(probe.samples)} samples, {fig['orders_created']} orders, "
                    f"{fig['book_updates']} book updates",
                    not probe.errors and not result.interrupted and bool(probe.samples)
                    and fig["orders_created"] > 0 and fig["book_updates"] > 0)]
    samples = probe.samples
    if scenario.number == 1:
        checks += [
            Check("book update latency", "avg < 5 ms", f"avg {_ms(fig['book_update_avg_ms'])}, max "
                  f"{_ms(fig['book_update_max_ms'])}", (fig["book_update_avg_ms"] or 0) < 5, timing=True),
            Check("order latency", "create ack avg < 2000 ms", f"avg {_ms(fig['order_create_ack_avg_ms'])}, max "
                  f"{_ms(fig['order_create_ack_max_ms'])}", 0 < (fig["order_create_ack_avg_ms"] or 0) < 2000,
                  timing=True),
            Check("memory", "RSS peak < 500 MB", f"{fig['rss_peak_mb']} MB", fig["rss_peak_mb"] < 500)]
    elif scenario.number == 2:
        third = len(samples) // 3
        first = max((s.queue_depth for s in samples[:third]), default=0)
        last = max((s.queue_depth for s in samples[-third:]), default=0) if third else 0
        checks += [
            Check("queue bounded", "queue depth max <= 50", f"max {fig['queue_depth_max']}",
                  fig["queue_depth_max"] <= 50),
            Check("no build-up", "last third's max <= first third's + 10", f"first {first}, last {last}",
                  last <= first + 10),
            Check("processing lag", "loop lag p95 < 100 ms", f"p95 {fig['loop_lag_p95_ms']} ms, CPU avg "
                  f"{fig['cpu_avg_percent']} %", fig["loop_lag_p95_ms"] < 100, timing=True)]
    elif scenario.number == 3:
        burst_start, burst_end = (start * duration for start, _rate in scenario.rates[1:3])
        before = [s.loop_lag_ms for s in _between(samples, 0, burst_start)]
        level = _percentile(before, 0.95) * 2 + 20
        after = _between(samples, burst_end, duration + 1)
        recovered = next((s.t_s - burst_end for i, s in enumerate(after)
                          if all(x.loop_lag_ms <= level for x in after[i:i + 8])), None)
        depth_before = max((s.queue_depth for s in _between(samples, 0, burst_start)), default=0)
        depth_end = max((s.queue_depth for s in after[-8:]), default=0)
        checks += [
            Check("recovers", f"loop lag back under {level:.0f} ms within 10 s of the burst's end",
                  f"after {recovered:.1f} s" if recovered is not None else "not recovered",
                  recovered is not None and recovered <= 10, timing=True),
            Check("queues drain", "queue depth at the end <= before the burst + 5",
                  f"before {depth_before}, end {depth_end}", depth_end <= depth_before + 5)]
    elif scenario.number == 4:
        degraded = next((s.rate for s in samples if s.loop_lag_ms > LAG_DEGRADED_MS or
                         s.queue_depth > QUEUE_DEGRADED), None)
        fig["degrades_at_events_per_s"] = degraded
        checks += [Check("degrades gracefully", "the ledger agrees after the stop (no crash, no lost order)",
                         result.ledger_check.describe() if result.ledger_check else "no check",
                         result.ledger_check is not None and result.ledger_check.consistent),
                   Check("degradation point", f"first rate with loop lag > {LAG_DEGRADED_MS:g} ms or queue depth "
                         f"> {QUEUE_DEGRADED} (reported)", f"{degraded} events/s" if degraded else
                         f"none up to {scenario.peak_rate:g} events/s", True, timing=True)]
    elif scenario.number == 5:
        half = len(samples) // 2
        first = statistics.median([s.rss_mb for s in samples[:half]]) if half else 0.0
        second = statistics.median([s.rss_mb for s in samples[half:]]) if half else 0.0
        growth = (second - first) / first * 100 if first else 0.0
        fig["rss_growth_percent"] = round(growth, 2)
        checks += [Check("no leak", "RSS median, second half vs first half < +10 %",
                         f"{first:.1f} MB -> {second:.1f} MB ({growth:+.1f} %); memray peak heap "
                         f"{fig['memray_peak_mb'] or 0:.3g} MB", half > 0 and growth < 10)]
    elif scenario.number == 6:
        checks += chaos_checks(probe, result)
    return checks


def chaos_checks(probe: LoadProbe, result: RunResult) -> List[Check]:
    ledger = probe.ledger
    fill_ids = [getattr(event, "exchange_trade_id", None) for event in probe.fills]
    distinct = len(set(fill_ids))
    worst = max(probe.outages, default=0.0)
    created = result.counts.get("orders_created", 0)
    return [
        Check("streams dropped", "at least one drop of the streams happened and was seen",
              f"{probe.drops_requested} drop(s) requested, {len(probe.outages)} outage(s) seen",
              probe.drops_requested > 0 and len(probe.outages) > 0),
        Check("reconnects", f"each outage < {RECONNECT_LIMIT_S:g} s, none still open",
              f"max {worst:.2f} s over {len(probe.outages)}, {probe.open_outages} open",
              worst < RECONNECT_LIMIT_S and probe.open_outages == 0, timing=True),
        Check("no fill duplicated", "distinct trade ids == OrderFilled events",
              f"{distinct} distinct of {len(fill_ids)}", distinct == len(fill_ids)),
        Check("no fill lost", "OrderFilled events == the ledger's trades of the trader",
              f"connector {len(fill_ids)}, ledger {ledger.get('trades')}", len(fill_ids) == ledger.get("trades")),
        Check("no order duplicated", "offer-creating operations on the ledger == orders created",
              f"ledger {ledger.get('offer_creates')}, connector {created}", ledger.get("offer_creates") == created),
        Check("no order forgotten", "no tracked order left unresolved, no offer left open",
              f"{len(probe.unresolved_orders)} unresolved, "
              f"{result.ledger_check.open_offers if result.ledger_check else '?'} open offer(s)",
              not probe.unresolved_orders and result.ledger_check is not None
              and result.ledger_check.open_offers == 0),
        Check("balances", "the connector's balances equal the ledger's after the stop",
              result.ledger_check.describe() if result.ledger_check else "no check",
              result.ledger_check is not None and not result.ledger_check.balance_differences),
    ]


@dataclass
class LoadTestResult(Judged):
    scenario: LoadScenario
    duration: float
    run: RunResult
    checks: List[Check]
    figures: Dict[str, Any]
    samples: List[Sample] = field(default_factory=list)
    ledger: Dict[str, Any] = field(default_factory=dict)

    @property
    def report_markdown(self) -> Path:
        return self.run.report.markdown

    def to_dict(self) -> Dict[str, Any]:
        return {"scenario": self.scenario.number, "name": self.scenario.name, "title": self.scenario.title,
                "criterion": self.scenario.criterion, "duration_s": self.duration, "passed": self.passed,
                "checks": [asdict(c) for c in self.checks], "figures": self.figures, "ledger": self.ledger,
                "samples": [asdict(s) for s in self.samples]}


async def run_load_scenario(scenario: LoadScenario, output_dir: Path, *, duration: float,
                            profiling: ProfilingConfig, base: Scenario = Scenario(),
                            progress: bool = False, stop_event: Optional[asyncio.Event] = None,
                            memory_marks: Optional[MemoryMarks] = None) -> LoadTestResult:
    """One load scenario on the profiling runner; report.md gets the verdict block, loadtest.json the data."""
    probe = LoadProbe(scenario, duration)
    run_scenario = replace(base, duration=duration, sandbox="process", horizon_url=None)
    result = await run(run_scenario, output_dir=output_dir, profiling=profiling, progress=progress,
                       stop_event=stop_event, probe=probe, memory_marks=memory_marks)
    fig = figures(probe, result)
    checks = verdicts(scenario, duration, probe, result, fig)
    outcome = LoadTestResult(scenario, duration, result, checks, fig, probe.samples, probe.ledger)
    with result.report.markdown.open("a", encoding="utf-8") as report:
        report.write("\n" + verdict_markdown(scenario, duration, checks, fig))
    (Path(output_dir) / LOADTEST_JSON).write_text(json.dumps(outcome.to_dict(), indent=2, default=str),
                                                  encoding="utf-8")
    return outcome
