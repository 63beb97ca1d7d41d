"""Process-level chaos scenarios of `python -m profiling loadtest`: the bot runs in a child process
(`profiling.bot_process`) that a scenario kills, restarts, or cuts from its Horizon, while the network (the embedded
sandbox in its own child process) and the other traders go on. This module is what such scenarios share:

    async with ChaosHarness(output) as harness:              # sandbox, funded accounts, the market running
        segment = await harness.start_bot()                   # a bot process, ready (its recovery done)
        await harness.trade(segment, 30)
        await harness.kill(segment)                           # SIGKILL
        segment = await harness.start_bot()                   # same trade database: Hummingbot's saved state
        await harness.trade(segment, 30)
        await harness.finish(segment)                         # market stopped, the bot's orderly stop
        evidence = await harness.evidence()                   # the ledger against every bot's journal
    checks = harness.common_checks(evidence)                  # orders, fills, balances, offers left, reads

Each bot's life is a `Segment`; its REST reads are counted by the sandbox's request logs of the Horizon frontends the
connector alone uses (`GET /_sandbox/frontends/{index}/requests`, asked of the runner's frontend, so a frontend that
is down is still counted), in a steady window from `STEADY_MARGIN_S` after it reported ready to its end, and from its
spawn to that window (its start's reads). The ledger audit is `profiling.ledger_audit`.

With `connector_horizons=N` the connector is configured with N Horizon frontends of its own (comma-separated, as
`stellar_horizon_url` takes them) and `rpcs=M` adds Stellar RPC-only frontends, the first of which is the
connector's `stellar_rpc_url`; `set_faults`, `clear_faults` and `set_surge` steer them (the failover scenario).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import aiohttp

from . import horizon_requests
from .bot_process import BotProcess, BotSpec, connector_dir
from .ledger_audit import Accounting, BotRun, LedgerHistory, account_for, read_ledger_history
from .load_scenarios import LoadScenario
from .sandbox_process import SandboxProcess
from .strategies.market_activity import HorizonClient, Participants, prepare_participants
from .strategies.params import MarketMakingParams
from .verdicts import Check, Judged, verdict_markdown

logger = logging.getLogger(__name__)

READY_TIMEOUT_S = 90.0
TRADES_DB = "trades.sqlite"
SANDBOX_LOG = "sandbox.log"
REPORT = "report.md"
LOADTEST_JSON = "loadtest.json"
READS_CRITERION = "perf_horizon_reads_per_hour"
SANDBOX_RPC_PATH = "/rpc"
_HOUR = 3600.0


@dataclass
class Segment:
    """One bot process's life."""
    bot: BotProcess
    spawned_at: float
    ready_at: Optional[float] = None
    ended_at: Optional[float] = None
    ended_by: str = ""                          # "kill" or "stop"
    counts_at_spawn: Counter = field(default_factory=Counter)
    steady_from: Optional[float] = None
    counts_at_steady: Optional[Counter] = None
    counts_at_end: Optional[Counter] = None
    steady_task: Optional[asyncio.Future] = None

    @property
    def label(self) -> str:
        return self.bot.label

    def reads(self, start: Optional[Counter], end: Optional[Counter], frontend: Optional[int] = None,
              kind: str = horizon_requests.REST) -> Optional[int]:
        """Requests of `kind` between two counts (keyed (frontend, kind, route)), of one frontend or all."""
        if start is None or end is None:
            return None
        return sum(n for (where, what, _route), n in (end - start).items()
                   if what == kind and (frontend is None or where == frontend))

    @property
    def steady_reads(self) -> Optional[int]:
        return self.reads(self.counts_at_steady, self.counts_at_end)

    @property
    def steady_s(self) -> float:
        if self.steady_from is None or self.ended_at is None or self.counts_at_steady is None:
            return 0.0
        return max(0.0, self.ended_at - self.steady_from)

    @property
    def start_reads(self) -> Optional[int]:
        return self.reads(self.counts_at_spawn, self.counts_at_steady)

    def summary(self) -> Dict[str, Any]:
        ready = self.bot.last("ready") or {}
        return {"label": self.label, "pid": self.bot.pid, "ended_by": self.ended_by, "exit": self.bot.returncode,
                "ready_after_s": round(self.ready_at - self.spawned_at, 2) if self.ready_at else None,
                "ran_s": round(self.ended_at - self.spawned_at, 2) if self.ended_at else None,
                "start_reads": self.start_reads, "steady_reads": self.steady_reads,
                "steady_s": round(self.steady_s, 2), "recovery": ready.get("recovery"),
                "restored": len((self.bot.last("started") or {}).get("restored") or [])}


@dataclass
class Evidence:
    history: LedgerHistory
    runs: List[BotRun]
    offers_after: List[str]
    accounting: Accounting
    final_stop: Optional[Dict[str, Any]]


class ChaosHarness:
    """The network, the accounts, the market, and the bot processes of one scenario (see the module)."""

    def __init__(self, output: Path, *, pair: str = "XLM-USDC", params: MarketMakingParams = MarketMakingParams(),
                 market_rate: float = 2.0, ledger_interval: float = 1.0, channels: int = 2, takers: int = 4,
                 progress: bool = False, connector_horizons: int = 1, rpcs: int = 0,
                 market_fee: Optional[int] = None) -> None:
        self.output = Path(output)
        self.pair = pair
        self.params = params
        self.market_rate = market_rate
        self.ledger_interval = ledger_interval
        self.channels = channels
        self.takers = takers
        self.progress = progress
        self.connector_horizons = connector_horizons
        self.rpcs = rpcs
        self.market_fee = market_fee   # the other traders' bid per operation (None: the base fee)
        self.segments: List[Segment] = []
        self.sandbox: Optional[SandboxProcess] = None
        self.horizon: Optional[HorizonClient] = None
        self.participants: Optional[Participants] = None
        self.market = None
        self.began = time.monotonic()
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> ChaosHarness:
        self.output.mkdir(parents=True, exist_ok=True)
        for name in (TRADES_DB, REPORT, LOADTEST_JSON):
            (self.output / name).unlink(missing_ok=True)
        try:
            self.sandbox = await self._stack.enter_async_context(
                SandboxProcess(self.ledger_interval, self.output / SANDBOX_LOG,
                               connector_horizons=self.connector_horizons, rpcs=self.rpcs))
            session = await self._stack.enter_async_context(aiohttp.ClientSession())
            self.horizon = HorizonClient(session, self.sandbox.horizon_url, self.sandbox.passphrase)
            self.participants = await prepare_participants(self.horizon, [self.pair], takers=self.takers,
                                                           channels=self.channels)
            outside = max(self.params.bid_spread, self.params.ask_spread) + (
                self.params.order_levels - 1) * self.params.order_level_spread
            self.market = self.sandbox.market_activity(self.participants, [self.pair], rate=self.market_rate,
                                                       order_amount=self.params.order_amount,
                                                       outside_spread=outside, max_fee=self.market_fee)
            await self.market.place_ladders()
            self.market.start()
            self.say(f"network up, accounts funded ({self.participants!r}), market at {self.market_rate:g} events/s")
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc_info) -> None:
        try:
            for segment in self.segments:
                if segment.bot.running:
                    segment.bot.kill()
                    await segment.bot.wait_exit()
            if self.market is not None:
                await self.market.stop()
        finally:
            await self._stack.aclose()

    def say(self, message: str) -> None:
        logger.info(message)
        if self.progress:
            print(f"[{time.monotonic() - self.began:6.1f} s] {message}", flush=True)

    # ----- the bots -----

    def spec(self, **overrides: Any) -> BotSpec:
        p = self.params
        rpc_url = self.sandbox.rpc_urls[0] if self.sandbox.rpc_urls else self.sandbox.connector_url + SANDBOX_RPC_PATH
        values = dict(
            horizon_url=",".join(self.sandbox.connector_urls), audit_url=self.sandbox.horizon_url,
            passphrase=self.sandbox.passphrase, rpc_url=rpc_url,
            pair=self.pair, markets=self.participants.markets,
            params={"order_amount": str(p.order_amount), "order_levels": str(p.order_levels),
                    "bid_spread": str(p.bid_spread), "ask_spread": str(p.ask_spread),
                    "order_level_spread": str(p.order_level_spread), "refresh_time": p.refresh_time},
            ledger_interval=self.ledger_interval, db_path=str(self.output / TRADES_DB),
            trader_secret=self.participants.trader.secret,
            channel_secrets=[c.secret for c in self.participants.channels], connector_dir=connector_dir())
        values.update(overrides)
        return BotSpec(**values)

    async def start_bot(self, **overrides: Any) -> Segment:
        """A new bot process on the scenario's trade database; returns once it reports ready."""
        label = f"bot-{len(self.segments) + 1}"
        bot = BotProcess(self.spec(**overrides), label, self.output / f"{label}.log")
        segment = Segment(bot=bot, spawned_at=time.monotonic(), counts_at_spawn=await self.request_counts())
        self.segments.append(segment)
        await bot.start()
        ready = await bot.wait_for(lambda e: e.get("event") == "ready", "ready", READY_TIMEOUT_S)
        segment.ready_at = ready["at"]
        segment.steady_task = asyncio.ensure_future(self._steady_window(segment))
        started = bot.last("started") or {}
        self.say(f"{label} (pid {bot.pid}) ready after {segment.ready_at - segment.spawned_at:.1f} s: "
                 f"{len(started.get('restored') or [])} order(s) restored, recovery {ready.get('recovery')}")
        return segment

    async def trade(self, segment: Segment, seconds: float) -> None:
        """Let the bot trade for `seconds` (a `BotExited` if it ends meanwhile)."""
        with contextlib.suppress(TimeoutError):
            await segment.bot.wait_for(lambda e: e.get("event") == "error", "an error", seconds)
            raise RuntimeError(f"{segment.label} failed: {segment.bot.last('error')}")

    async def kill(self, segment: Segment) -> None:
        segment.bot.kill()
        await self._end_window(segment, "kill")
        await segment.bot.wait_exit()
        self.say(f"{segment.label} killed (exit {segment.bot.returncode})")

    async def finish(self, segment: Segment) -> None:
        """The end of the scenario: the market stands still, then the bot's orderly stop."""
        await self._end_window(segment, "stop")
        await self.market.stop()
        await segment.bot.stop()
        self.say(f"{segment.label} stopped (exit {segment.bot.returncode})")

    async def request_counts(self) -> Counter:
        """The connector's frontends' requests so far, by (frontend: its position among `connector_urls`, kind,
        route)."""
        counts: Counter = Counter()
        for position, index in enumerate(self.sandbox.connector_frontends):
            snapshot = await self.control("GET", f"/_sandbox/frontends/{index}/requests")
            counts.update({(position, kind, route): n
                           for (kind, route), n in horizon_requests.sandbox_counts(snapshot).items()})
        return counts

    # ----- the network's faults and fees (the runner's frontend: never faulted) -----

    async def set_faults(self, position: int, settings: Dict[str, Any]) -> Dict[str, Any]:
        """Faults of the connector's frontend at `position` (`/_sandbox/faults` settings, e.g. {"lag": 5})."""
        index = self.sandbox.connector_frontends[position]
        return await self.control("POST", f"/_sandbox/frontends/{index}/faults", settings)

    async def clear_faults(self, position: int) -> Dict[str, Any]:
        index = self.sandbox.connector_frontends[position]
        return await self.control("DELETE", f"/_sandbox/frontends/{index}/faults")

    async def set_surge(self, fee: Optional[int]) -> Dict[str, Any]:
        """Load the network with traffic bidding `fee` stroops per operation (None: no surge)."""
        if fee is None:
            return await self.control("DELETE", "/_sandbox/fees")
        return await self.control("POST", "/_sandbox/fees", {"surge_fee": int(fee)})

    async def latest_ledger(self) -> int:
        """The network's latest closed ledger (the runner's frontend never lags)."""
        root = await self.horizon.get("/")
        return int(root["history_latest_ledger"])

    async def control(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        async with self.horizon.session.request(method, self.sandbox.horizon_url + path, json=body) as response:
            answer = await response.json(content_type=None)
            if response.status >= 400:
                raise RuntimeError(f"{method} {path}: {response.status} {answer}")
            return answer

    async def _steady_window(self, segment: Segment) -> None:
        await asyncio.sleep(max(0.0, segment.ready_at + horizon_requests.STEADY_MARGIN_S - time.monotonic()))
        counts = await self.request_counts()
        segment.steady_from, segment.counts_at_steady = time.monotonic(), counts

    async def _end_window(self, segment: Segment, how: str) -> None:
        if segment.steady_task is not None and not segment.steady_task.done():
            segment.steady_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await segment.steady_task
        ended = segment.bot.killed_at or time.monotonic()
        segment.counts_at_end = await self.request_counts()
        segment.ended_at, segment.ended_by = ended, how

    # ----- the verdict -----

    def save_journals(self) -> None:
        """Each bot's journal beside its log (<label>.journal.jsonl): what the verdict was computed from."""
        for segment in self.segments:
            lines = [json.dumps(entry, default=str) for entry in segment.bot.journal]
            (self.output / f"{segment.label}.journal.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    async def evidence(self) -> Evidence:
        self.save_journals()
        history = await read_ledger_history(self.horizon, self.participants.trader.public_key)
        runs = [BotRun.from_journal(s.label, s.bot.journal, killed=s.ended_by == "kill") for s in self.segments]
        accounting = account_for(history, runs, history.offers, recorded_fills(self.output / TRADES_DB))
        return Evidence(history, runs, history.offers, accounting, runs[-1].stopped if runs else None)

    def common_checks(self, evidence: Evidence, steady_reads: bool = True) -> List[Check]:
        """The checks every process-level chaos scenario makes: orders, fills, balances, offers left, and (unless
        `steady_reads` is False: a scenario whose faults leave no steady state) REST reads in steady state."""
        a, stop = evidence.accounting, evidence.final_stop
        figures = a.figures
        explained = "; ".join(f"{len(v)} {k}" for k, v in a.explained.items() if v)
        differences = (stop or {}).get("balance_differences") or {}
        reads = self.steady_reads_per_hour()
        budget = reads_budget()
        checks = [
            Check("orders lost", "0: every offer-creating operation on the ledger belongs to an order a bot "
                  "reported (created, restored or adopted) or to an offer its recovery settled; every order a bot "
                  "knew ends (filled, cancelled, failed) or is restored by the next bot",
                  _listed(a.lost_orders, f"0 of {figures['ledger_offer_creates']} offer-creating operations, "
                          f"{figures['orders_reported']} orders reported"), not a.lost_orders),
            Check("orders duplicated", "0: no offer claimed by two orders, no order with two offers, no order "
                  "restored without its offer placed again, no more unknown offers after a kill than creates "
                  "in flight", _listed(a.duplicated_orders, "0"), not a.duplicated_orders),
            Check("fills missed", "0: every trade of the account on the ledger reported by the order of its "
                  "offer and recorded in Hummingbot's trade database (trades of offers no order held, before "
                  "recovery settled them, are counted apart)",
                  _listed(a.missed_fills, f"0 of {figures['ledger_trades']} ledger trades"
                          + (f" ({explained})" if explained else "")), not a.missed_fills),
            Check("fills duplicated", "0: no trade id reported twice (a fill re-reported by the next bot because "
                  "the kill came before Hummingbot saved it is counted apart), none recorded twice in Hummingbot's "
                  "trade database, none that the ledger lacks",
                  _listed(a.duplicated_fills, f"0 of {figures['fills_reported']} reported"), not a.duplicated_fills),
            Check("balances", "the last bot's balances equal the ledger's after its orderly stop",
                  "no final stop" if stop is None else ("equal" if not differences else "; ".join(
                      f"{t} bot {m} vs ledger {lg}" for t, (m, lg) in sorted(differences.items()))),
                  stop is not None and not differences),
            Check("no offer left unknown", "after the last bot's stop, every offer of the account on the ledger is "
                  "tracked by it (none, as a rule)", f"{len(evidence.offers_after)} left, "
                  f"{len(a.unknown_offers_left)} unknown" + (f": {a.unknown_offers_left}" if a.unknown_offers_left
                                                             else ""), not a.unknown_offers_left),
            Check("REST reads in steady state", f"<= {budget:g} an hour per account ({READS_CRITERION}), counted "
                  "by the sandbox's log of the connector's frontend over every bot's steady window",
                  "not measured: no steady window" if reads is None else
                  f"{reads:.0f} an hour ({self.steady_reads()} in {self.steady_seconds():.0f} s)",
                  reads is not None and reads <= budget),
        ]
        return checks if steady_reads else checks[:-1]

    def steady_reads(self) -> int:
        return sum(s.steady_reads or 0 for s in self.segments if s.steady_s > 0)

    def steady_seconds(self) -> float:
        return sum(s.steady_s for s in self.segments)

    def steady_reads_per_hour(self) -> Optional[float]:
        seconds = self.steady_seconds()
        return self.steady_reads() * _HOUR / seconds if seconds > 0 else None

    def figures(self, evidence: Evidence) -> Dict[str, Any]:
        reads = self.steady_reads_per_hour()
        total_reads = sum(s.reads(s.counts_at_spawn, s.counts_at_end) or 0 for s in self.segments)
        total_s = sum((s.ended_at or s.spawned_at) - s.spawned_at for s in self.segments)
        return {**evidence.accounting.figures,
                "bots": len(self.segments),
                "reads_per_hour_steady": None if reads is None else round(reads, 1),
                "reads_steady": self.steady_reads(), "steady_window_s": round(self.steady_seconds(), 1),
                "reads_per_bot_start": [s.start_reads for s in self.segments],
                "reads_total": total_reads,
                "reads_per_hour_overall": round(total_reads * _HOUR / total_s, 1) if total_s else None,
                "market": dict(self.market.stats) if self.market is not None else {}}


@dataclass
class ChaosResult(Judged):
    scenario: LoadScenario
    duration: float
    checks: List[Check]
    figures: Dict[str, Any]
    report: Path
    details: Dict[str, Any] = field(default_factory=dict)

    @property
    def report_markdown(self) -> Path:
        return self.report

    def to_dict(self) -> Dict[str, Any]:
        return {"scenario": self.scenario.number, "name": self.scenario.name, "title": self.scenario.title,
                "criterion": self.scenario.criterion, "duration_s": self.duration, "passed": self.passed,
                "checks": [asdict(c) for c in self.checks], "figures": self.figures, **self.details}


def write_result(result: ChaosResult, notes: List[str]) -> None:
    """report.md (the verdict block and notes) and loadtest.json beside it."""
    text = verdict_markdown(result.scenario, result.duration, result.checks, result.figures)
    if notes:
        text += "\n" + "\n".join(f"- {note}" for note in notes) + "\n"
    result.report.write_text(text, encoding="utf-8")
    (result.report.parent / LOADTEST_JSON).write_text(json.dumps(result.to_dict(), indent=2, default=str),
                                                      encoding="utf-8")


def recorded_fills(db_path: Path) -> List[str]:
    """The trade ids of Hummingbot's trade database (MarketsRecorder's TradeFill rows), one per row."""
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as db:
        return [str(row[0]) for row in db.execute('SELECT exchange_trade_id FROM "TradeFill"')]


def reads_budget() -> float:
    """The steady-state REST reads budget of the quality catalogue (`perf_horizon_reads_per_hour`)."""
    from .criteria import load_catalogue

    return next(c.threshold for c in load_catalogue().criteria if c.id == READS_CRITERION)


def _listed(problems: List[str], fine: str, shown: int = 5) -> str:
    if not problems:
        return fine
    more = f" (+{len(problems) - shown} more)" if len(problems) > shown else ""
    return f"{len(problems)}: " + "; ".join(problems[:shown]) + more
