"""HorizonHealth: what the connector knows of each configured Horizon, and which one is active.

What it hears, per Horizon (by its index in the configured list):
- `answered(i, latency)` / `failed(i, error)`: each call the pool made. A transient error (timeout,
  connection error), a 5xx or a 429 makes a Horizon FAILING for a cooldown: a 429's Retry-After, else
  COOLDOWN_S doubling with each failure in a row up to COOLDOWN_CAP_S. An answer ends it. Latency is
  an average of the answered calls.
- `ledger(i, sequence, closed_at)`: the ledgers its heartbeat stream delivers (`/ledgers?cursor=now`,
  one stream per Horizon, only with several Horizons). Against the others': LAGGING once
  `lag_ledgers` behind the newest any Horizon delivered, or once it has lacked for `behind_s()` a
  ledger another delivered (Horizons of one network ingest a ledger within about a second of each
  other, so on 5 s ledgers this tells a stuck Horizon long before 3 ledgers); SILENT once its ledger has not moved for
  `silence_ledgers` ledger periods (at least `min_silence_s`) while another Horizon's did. A network
  whose ledgers all stop (a stalled close) makes no Horizon silent. Against the clock: the age of its
  latest ledger, shown in `snapshot()`.
- `suspect(i)`: a first sign without a verdict (a stream dropped): it dates the fault if one follows.

Selection: the active Horizon stays while nothing is wrong with it (no flapping between good ones);
when something is, the best other by state (HEALTHY < SLOW < LAGGING < SILENT < FAILING), then fewest
failures in a row, then the configured order, takes over if its state is better. Each switch is kept
(`switches()`) with the seconds since the fault was first seen (the first failure, drop, or moment it
fell behind), and listeners hear of it at once. No I/O here: the pool reports and asks.
"""
from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Callable, Deque, Dict, List, Optional, Sequence, Tuple

HEALTHY = "healthy"
SLOW = "slow"
LAGGING = "lagging"
SILENT = "silent"
FAILING = "failing"
_SEVERITY = {HEALTHY: 0, SLOW: 1, LAGGING: 2, SILENT: 3, FAILING: 4}

COOLDOWN_S = 2.0
COOLDOWN_CAP_S = 60.0
MIN_BEHIND_S = 0.5
MAX_BEHIND_S = 2.5
_LATENCY_WEIGHT = 0.3        # of the newest sample in the latency average
_PERIOD_WEIGHT = 0.2         # of the newest interval in the ledger period average
_SWITCHES_KEPT = 256
_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class HorizonSwitch:
    time: float              # epoch seconds
    from_url: str
    to_url: str
    reason: str
    fault_age_s: float       # seconds since the fault of `from_url` was first seen

    def as_dict(self) -> Dict[str, object]:
        return asdict(self)


@dataclass(slots=True)
class _Member:
    url: str
    answers: int = 0
    failures: int = 0
    rate_limited: int = 0
    failures_in_row: int = 0
    latency_s: Optional[float] = None
    failing_until: float = 0.0
    retry_until: float = 0.0                # a 429's Retry-After: not to be asked before
    last_error: str = ""
    fault_since: Optional[float] = None     # monotonic: the first sign of its current fault
    ledger: Optional[int] = None
    ledger_closed_at: float = 0.0           # epoch
    advanced_at: Optional[float] = None     # monotonic: when its ledger last moved
    behind_since: Optional[float] = None    # monotonic: since when another Horizon has a ledger it lacks


class HorizonHealth:
    def __init__(self, urls: Sequence[str], *, watch_ledgers: Optional[bool] = None, lag_ledgers: int = 3,
                 silence_ledgers: float = 3.0, min_silence_s: float = 1.0, max_silence_s: float = 30.0,
                 behind_s: Optional[float] = None,
                 slow_latency_s: float = 3.0, cooldown_s: float = COOLDOWN_S, cooldown_cap_s: float = COOLDOWN_CAP_S,
                 clock: Callable[[], float] = time.monotonic, wall_clock: Callable[[], float] = time.time,
                 logger: Optional[logging.Logger] = None):
        if not urls:
            raise ValueError("at least one Horizon URL is needed")
        self._members = [_Member(url) for url in urls]
        self.watch_ledgers = len(urls) > 1 if watch_ledgers is None else watch_ledgers
        self._lag_ledgers = lag_ledgers
        self._silence_ledgers = silence_ledgers
        self._min_silence_s = min_silence_s
        self._max_silence_s = max_silence_s
        self._behind_s = behind_s
        self._slow_latency_s = slow_latency_s
        self._cooldown_s = cooldown_s
        self._cooldown_cap_s = cooldown_cap_s
        self._clock = clock
        self._wall_clock = wall_clock
        self._logger = logger or _LOGGER
        self._active = 0
        self._started_at = clock()
        self._leader_ledger: Optional[int] = None
        self._first_ledger: Optional[int] = None      # the first any Horizon delivered since the (re)start
        self._leader_at: Optional[float] = None       # monotonic: when the newest ledger first arrived
        self._period_s: Optional[float] = None        # average time between ledgers
        self._switches: Deque[HorizonSwitch] = deque(maxlen=_SWITCHES_KEPT)
        self._listeners: List[Callable[[HorizonSwitch], None]] = []

    # Reading

    @property
    def active(self) -> int:
        return self._active

    @property
    def urls(self) -> List[str]:
        return [member.url for member in self._members]

    def __len__(self) -> int:
        return len(self._members)

    def switches(self) -> List[HorizonSwitch]:
        return list(self._switches)

    def silence_s(self) -> float:
        """How long a Horizon's ledger may stand still while another's moves: a few ledger periods."""
        period = self._period_s if self._period_s is not None else self._max_silence_s
        return min(self._max_silence_s, max(self._min_silence_s, self._silence_ledgers * period))

    def behind_s(self) -> float:
        """How long a Horizon may lack a ledger another one delivered: half a ledger period, within
        [MIN_BEHIND_S, MAX_BEHIND_S] (unless set)."""
        if self._behind_s is not None:
            return self._behind_s
        period = self._period_s if self._period_s is not None else 2 * MAX_BEHIND_S
        return min(MAX_BEHIND_S, max(MIN_BEHIND_S, 0.5 * period))

    def state(self, index: int, now: Optional[float] = None) -> Tuple[str, str]:
        """(state, reason): the worst thing known of the Horizon now."""
        now = self._clock() if now is None else now
        member = self._members[index]
        if now < member.failing_until:
            return FAILING, member.last_error
        if self.watch_ledgers and self._leader_at is not None:
            silence = self.silence_s()
            still_since = member.advanced_at if member.advanced_at is not None else self._started_at
            if now - still_since > silence and now - self._leader_at <= silence:
                return SILENT, f"no ledger for {now - still_since:.1f}s while another Horizon streams them"
            if member.ledger is not None and self._leader_ledger - member.ledger >= self._lag_ledgers:
                return LAGGING, f"{self._leader_ledger - member.ledger} ledgers behind"
            # A Horizon heard of no ledger since the (re)start lacks one once another delivered two.
            if member.behind_since is not None and now - member.behind_since > self.behind_s() and (
                    member.ledger is not None or self._leader_ledger > self._first_ledger):
                return LAGGING, f"{now - member.behind_since:.1f}s without a ledger another Horizon has"
        if member.latency_s is not None and member.latency_s > self._slow_latency_s:
            return SLOW, f"answers in {member.latency_s:.1f}s on average"
        return HEALTHY, ""

    def order(self) -> List[int]:
        """Every Horizon, the one to ask first first: by state, the active one first among equals."""
        now = self._clock()
        return sorted(range(len(self._members)), key=lambda i: self._rank(i, now))

    def submission_order(self) -> List[int]:
        """The Horizons that may take a submission (lagging or silent ones may: stellar-core gets it at once)."""
        now = self._clock()
        return [i for i in self.order() if self.state(i, now)[0] != FAILING]

    def snapshot(self) -> List[Dict[str, object]]:
        now, wall = self._clock(), self._wall_clock()
        rows = []
        for index, member in enumerate(self._members):
            state, reason = self.state(index, now)
            rows.append({
                "url": member.url, "active": index == self._active, "state": state, "reason": reason,
                "answers": member.answers, "failures": member.failures, "rate_limited": member.rate_limited,
                "latency_s": member.latency_s, "ledger": member.ledger,
                "ledgers_behind": (self._leader_ledger - member.ledger
                                   if member.ledger is not None and self._leader_ledger is not None else None),
                "ledger_age_s": wall - member.ledger_closed_at if member.ledger_closed_at else None,
            })
        return rows

    def add_listener(self, listener: Callable[[HorizonSwitch], None]) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[HorizonSwitch], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    # Hearing

    def start(self) -> None:
        """The heartbeats start (again) now: what they said before is forgotten, so that a Horizon whose first
        ledger comes a moment after another's is not taken for silent or behind."""
        self._started_at = self._clock()
        self._leader_ledger = self._leader_at = self._first_ledger = None
        for member in self._members:
            member.ledger = member.advanced_at = member.behind_since = None

    def answered(self, index: int, latency_s: float) -> None:
        member = self._members[index]
        member.answers += 1
        member.failures_in_row = 0
        member.failing_until = 0.0
        member.latency_s = latency_s if member.latency_s is None else (
            member.latency_s + _LATENCY_WEIGHT * (latency_s - member.latency_s))
        if member.behind_since is None:
            member.fault_since = None

    def failed(self, index: int, error: str, *, retry_after: Optional[float] = None,
               rate_limited: bool = False) -> Optional[HorizonSwitch]:
        """A call (or a stream's connection) failed: transient error, 5xx or 429. Switches if it was the active."""
        now = self._clock()
        member = self._members[index]
        member.failures += 1
        member.rate_limited += rate_limited
        member.failures_in_row += 1
        if retry_after is not None:   # Horizon said when to come back
            member.retry_until = max(member.retry_until, now + retry_after)
            member.failing_until = max(member.failing_until, member.retry_until)
        else:
            cooldown = min(self._cooldown_cap_s, self._cooldown_s * 2 ** min(member.failures_in_row - 1, 30))
            member.failing_until = max(member.failing_until, now + cooldown)
        member.last_error = error
        if member.fault_since is None:
            member.fault_since = now
        return self.evaluate()

    def revived(self, index: int) -> None:
        """Its heartbeat connected again and streams: a failure before is over (a Retry-After still holds)."""
        member = self._members[index]
        member.failures_in_row = 0
        member.failing_until = member.retry_until if member.retry_until > self._clock() else 0.0

    def suspect(self, index: int) -> None:
        member = self._members[index]
        if member.fault_since is None:
            member.fault_since = self._clock()

    def ledger(self, index: int, sequence: int, closed_at: float = 0.0) -> Optional[HorizonSwitch]:
        """Horizon `index` streamed ledger `sequence` (closed at epoch `closed_at`)."""
        now = self._clock()
        member = self._members[index]
        if member.ledger is None or sequence > member.ledger:
            member.ledger = sequence
            member.ledger_closed_at = closed_at or member.ledger_closed_at
            member.advanced_at = now
        leader = self._leader_ledger
        if self._first_ledger is None:
            self._first_ledger = sequence
        if leader is None or sequence > leader:
            if leader is not None and self._leader_at is not None:
                interval = (now - self._leader_at) / (sequence - leader)
                self._period_s = interval if self._period_s is None else (
                    self._period_s + _PERIOD_WEIGHT * (interval - self._period_s))
            self._leader_ledger, self._leader_at = sequence, now
            for other in self._members:
                if (other.ledger is None or other.ledger < sequence) and other.behind_since is None:
                    other.behind_since = now
        if member.ledger >= self._leader_ledger:
            member.behind_since = None
            if now >= member.failing_until:
                member.fault_since = None
        return self.evaluate()

    # Deciding

    def evaluate(self) -> Optional[HorizonSwitch]:
        """Switch from the active Horizon if something is wrong with it and another is better."""
        now = self._clock()
        active = self._active
        state, reason = self.state(active, now)
        if state == HEALTHY or len(self._members) == 1:
            return None
        best = min(range(len(self._members)), key=lambda i: self._rank(i, now))
        if best == active or _SEVERITY[self.state(best, now)[0]] >= _SEVERITY[state]:
            return None
        return self._switch(best, f"{state}: {reason}" if reason else state, now)

    def _rank(self, index: int, now: float) -> Tuple[int, int, int, int]:
        return (_SEVERITY[self.state(index, now)[0]], 0 if index == self._active else 1,
                self._members[index].failures_in_row, index)

    def _switch(self, to: int, reason: str, now: float) -> HorizonSwitch:
        old = self._members[self._active]
        first_seen = min((t for t in (old.fault_since, old.behind_since) if t is not None), default=now)
        switch = HorizonSwitch(time=self._wall_clock(), from_url=old.url, to_url=self._members[to].url,
                               reason=reason, fault_age_s=max(0.0, now - first_seen))
        self._active = to
        self._switches.append(switch)
        self._logger.info(f"Switching Horizon from {switch.from_url} to {switch.to_url} ({reason}; fault first seen "
                          f"{switch.fault_age_s:.2f}s ago).")
        for listener in list(self._listeners):
            try:
                listener(switch)
            except Exception:   # a listener's bug must not stop the others hearing of the switch
                self._logger.exception("A Horizon switch listener failed.")
        return switch


def worst_switch_s(switches: Sequence[HorizonSwitch]) -> float:
    """The longest time from a fault first seen to its switch (0 without switches)."""
    return max((s.fault_age_s for s in switches), default=0.0)
