"""The load and failure scenarios of `python -m profiling loadtest`: their table and its parsing.

Apart from `profiling.loadtest` (which runs them) so the command line can describe and check them without
loading Hummingbot and the connector.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple


@dataclass(frozen=True)
class Chaos:
    """Faults for the chaos scenario: random stream drops, error answers, submissions that time out after
    being applied. Set a few seconds after the start, cleared before the orderly stop."""
    drop_every_s: Tuple[float, float] = (3.0, 7.0)   # a drop of every open stream at random gaps in this range
    error_rate: float = 0.1
    error_statuses: Tuple[int, ...] = (429, 500, 503)
    submission_timeout_rate: float = 0.2
    start_after_s: float = 3.0


@dataclass(frozen=True)
class Restart:
    """Process-level chaos: the bot runs in a child process that is killed with SIGKILL mid-run (at the moments
    `kill_targets` aims at, within `kill_wait_s`) and started again on the same Hummingbot
    state (its trade database: MarketsRecorder's saved tracking states), while the sandbox and the market go on."""
    kill_every_s: float = 60.0        # one kill per this much strategy time (at least one)
    kill_wait_s: float = 11.0         # how long to wait for the moment aimed at (two refreshes of 5 s)
    # The moments aimed at, kill after kill (cycled): "resting" offers on the book and nothing in flight (the next bot
    # keeps them), "creating" an order's create in flight (its offer unknown to the next bot, unless Hummingbot saved
    # the order pending), "busy" offers on the book and a transaction in flight (a cancel, as a rule).
    kill_targets: Tuple[str, ...] = ("resting", "creating", "busy")
    unknown_offers: str = "cancel"    # the connector's `stellar_unknown_offers` for the restarted bot
    recovery: bool = True             # False: restart without the saved state and without the connector's recovery

    def kills(self, duration: float) -> int:
        return max(1, int(round(duration / self.kill_every_s)))


@dataclass(frozen=True)
class Failover:
    """Process-level chaos against the connector's Horizons: the bot (in a child process, configured with two Horizon
    frontends and a Stellar RPC frontend) trades while the Horizon it is using goes down, lags, answers 429 and
    streams nothing, one fault after the other (each held `fault_s`, then cleared: it comes back), then the network's
    fees surge, within the bot's maximum and above it. One round of it is `round_s` of strategy time; a longer run
    repeats rounds, a shorter one holds each phase for less."""
    faults: Tuple[str, ...] = ("down", "lag", "429", "silent")   # each on the Horizon active when it is set
    warmup_s: float = 10.0            # trading before the first fault (the steady window starts 10 s after ready)
    fault_s: float = 7.0              # each Horizon fault held this long (a PMM refresh of 5 s falls inside)
    surge_s: float = 10.0             # fees surge within the bot's maximum
    over_max_s: float = 6.0           # fees surge above it (0: no such phase)
    tail_s: float = 6.0               # trading after the last phase, before the orderly stop
    switch_limit_s: float = 5.0       # from the fault set to the bot's switch record
    recover_wait_s: float = 15.0      # at most this long for every Horizon healthy before the next fault
    quiet_wait_s: float = 6.0         # at most this long for no transaction in flight before a surge
    lag_ledgers: int = 5
    retry_after_s: int = 2            # the Retry-After of the 429 burst
    max_fee: int = 10_000             # the bot's stellar_max_fee_stroops (the connector's default)
    surge_fee: int = 2_000            # stroops per operation the network's other traffic bids (within the max)
    over_max_fee: int = 20_000        # ... and above it
    market_fee: int = 50_000          # the other traders' bid: they trade on through every surge
    single_horizon: bool = False      # the negative control: one Horizon configured, no failover possible

    @property
    def round_s(self) -> float:
        return (self.warmup_s + len(self.faults) * self.fault_s + self.surge_s + self.over_max_s + self.tail_s)

    def rounds(self, duration: float) -> int:
        return max(1, int(duration // self.round_s))

    def scale(self, duration: float) -> float:
        """How much each phase is held, against its nominal length, for a run of `duration` s."""
        return duration / (self.rounds(duration) * self.round_s)


@dataclass(frozen=True)
class LoadScenario:
    number: int
    name: str
    title: str
    criterion: str
    rates: Tuple[Tuple[float, float], ...]   # (start, as a fraction of the duration, book events/s)
    short_s: float
    full_s: float
    chaos: Optional[Chaos] = None
    memray: bool = False
    restart: Optional[Restart] = None   # a process-level chaos scenario (profiling.restart_chaos), not the probe's
    failover: Optional[Failover] = None  # a process-level chaos scenario (profiling.failover_chaos)

    @property
    def process_level(self) -> bool:
        """The bot in child processes of the scenario's (this process loads no Hummingbot)."""
        return self.restart is not None or self.failover is not None

    @property
    def folder(self) -> str:
        return f"{self.number}-{self.name}"

    def rate_at(self, fraction: float) -> float:
        rate = self.rates[0][1]
        for start, value in self.rates:
            if fraction >= start:
                rate = value
        return rate

    @property
    def peak_rate(self) -> float:
        return max(rate for _start, rate in self.rates)

    def duration(self, full: bool, override: Optional[float] = None) -> float:
        return override if override is not None else (self.full_s if full else self.short_s)


_RAMP = (10, 50, 100, 250, 500, 1000, 1500)
SCENARIOS: Dict[int, LoadScenario] = {s.number: s for s in (
    LoadScenario(1, "steady-10", "10 events/s", "book-update latency avg < 5 ms, order create ack avg < 2 s, "
                 "RSS peak < 500 MB", rates=((0.0, 10.0),), short_s=30, full_s=600),
    LoadScenario(2, "steady-100", "100 events/s", "no queue build-up: queue depth max <= 50 and its last third "
                 "no higher than its first + 10; loop lag p95 < 100 ms", rates=((0.0, 100.0),), short_s=30,
                 full_s=600),
    LoadScenario(3, "burst-500", "500 events/s burst", "the process survives; after the burst, loop lag returns "
                 "to its pre-burst level (p95 x 2 + 20 ms) within 10 s and the queues drain",
                 rates=((0.0, 10.0), (0.3, 500.0), (0.6, 10.0)), short_s=40, full_s=200),
    LoadScenario(4, "ramp", "ramp 10 -> 1500 events/s", "degrades gracefully: the run completes, the ledger "
                 "agrees, no crash; reports the first rate where loop lag p95 > 100 ms or queue depth > 100",
                 rates=tuple((i / len(_RAMP), float(r)) for i, r in enumerate(_RAMP)), short_s=42, full_s=420),
    LoadScenario(5, "endurance", "endurance at 50 events/s", "RSS median of the second half < 1.10 x the "
                 "first half's (no leak); memray's peak heap and top sites in the report",
                 rates=((0.0, 50.0),), short_s=40, full_s=3600, memray=True),
    LoadScenario(6, "chaos", "chaos at 20 events/s", "every stream reconnects within 5 s (timing); no fill lost "
                 "or duplicated; no order duplicated or forgotten; balances equal the ledger's after the stop",
                 rates=((0.0, 20.0),), short_s=40, full_s=600, chaos=Chaos()),
    LoadScenario(7, "restart", "bot killed (SIGKILL) and restarted", "0 lost or duplicated orders, 0 missed or "
                 "duplicated fills (the ledger's records against what the bots reported), balances equal the "
                 "ledger's at the end, no offer left unknown to the last bot, REST reads per hour in steady state "
                 "within the budget", rates=((0.0, 0.0),), short_s=60, full_s=300, restart=Restart()),
    LoadScenario(8, "failover", "Horizon failover and fee surge", "every fault of the Horizon in use (down, "
                 "lagging, 429, silent streams) switched away from within 5 s of being set; the bot trades on through "
                 "each fault and through a fee surge within its maximum (orders placed at the higher bid), and fails "
                 "orders clearly (naming the maximum) above it; 0 lost or duplicated orders, 0 missed or duplicated "
                 "fills, balances equal the ledger's at the end, no offer left unknown; REST reads per hour of each "
                 "Horizon within the budget", rates=((0.0, 0.0),), short_s=Failover().round_s,
                 full_s=4 * Failover().round_s, failover=Failover()),
)}


def parse_scenarios(text: str) -> List[int]:
    """`all`, or comma-separated scenario numbers or names (`6,restart`)."""
    if text.strip().lower() == "all":
        return sorted(SCENARIOS)
    by_name = {s.name: s.number for s in SCENARIOS.values()}
    numbers = []
    for part in text.split(","):
        part = part.strip().lower()
        if part in by_name:
            numbers.append(by_name[part])
            continue
        try:
            number = int(part)
        except ValueError:
            raise ValueError(f"scenarios are numbers 1-{len(SCENARIOS)}, names ({', '.join(by_name)}) or 'all', "
                             f"got {part!r}") from None
        if number not in SCENARIOS:
            raise ValueError(f"no scenario {number}; there are 1-{len(SCENARIOS)}")
        numbers.append(number)
    return numbers
