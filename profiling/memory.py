"""Where the profiled process's memory goes: its resident size (RSS) at named steps, and what each step added.

    marks = MemoryMarks()
    marks.mark("Python and the profiling command line")
    marks.load("Hummingbot's core", ["hummingbot.connector.exchange_py_base"], holder="hummingbot")
    ...
    marks.mark("the profilers started", holder="profilers")

A step is either loading modules (`load`: the RSS before and after importing them, so what they added is
theirs: code, and the data their import builds) or a point in the run (`mark`: what the process held then,
the growth since the step before attributed to `holder`). Each step records how it was measured, for the
report. RSS is read from /proc/self/statm (Linux; psutil elsewhere): resident pages, shared libraries
included, as the sampler and the SLA count it.

Standard library only (psutil only where /proc is missing), so the command line can take its first mark
before anything heavy is loaded.
"""
from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

_MB = 2**20

# Who holds memory, as the report tells it apart.
PYTHON = "python"
HUMMINGBOT = "hummingbot"
CONNECTOR = "connector"
STRATEGY = "strategy"
PROFILERS = "profilers"
RUNNER = "runner"
PROCESS = "process"
SESSION = "session"
HOLDERS = (PROCESS, PYTHON, HUMMINGBOT, CONNECTOR, STRATEGY, RUNNER, PROFILERS, SESSION)


def rss_bytes() -> int:
    """This process's resident set size now."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            resident_pages = int(statm.read().split()[1])
        return resident_pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        import psutil

        return psutil.Process().memory_info().rss


@dataclass(frozen=True)
class MemoryMark:
    label: str
    rss_mb: float     # the process's RSS once the step was done
    added_mb: float   # RSS added since the step before (the first step: everything held then)
    holder: str       # whose memory the added part is (one of HOLDERS)
    how: str          # how the figure was obtained

    def to_dict(self) -> dict:
        return {"label": self.label, "rss_mb": self.rss_mb, "added_mb": self.added_mb, "holder": self.holder,
                "how": self.how}


class MemoryMarks:
    """The RSS of this process at named steps, in order."""

    def __init__(self, read_rss=rss_bytes) -> None:
        self._read_rss = read_rss
        self._marks: List[MemoryMark] = []

    def __len__(self) -> int:
        return len(self._marks)

    def mark(self, label: str, *, holder: str = SESSION, how: Optional[str] = None) -> MemoryMark:
        """The RSS now; what it grew since the step before is `holder`'s."""
        rss = self._read_rss() / _MB
        previous = self._marks[-1].rss_mb if self._marks else 0.0
        entry = MemoryMark(label=label, rss_mb=rss, added_mb=rss - previous, holder=holder,
                           how=how or "RSS (/proc/self/statm) read at this step; added: against the step before")
        self._marks.append(entry)
        return entry

    def load(self, label: str, modules: Sequence[str], *, holder: str) -> Optional[MemoryMark]:
        """Import `modules` and mark what that added; None (no step) when they were all loaded already:
        their memory is in the step that loaded them."""
        if all(name in sys.modules for name in modules):
            for name in modules:
                importlib.import_module(name)  # a package half imported by an earlier step finishes here
            return None
        if not self._marks:
            self.mark("before the imports below", holder=PROCESS)
        before = len(sys.modules)
        for name in modules:
            importlib.import_module(name)
        loaded = len(sys.modules) - before
        names = ", ".join(f"`{name}`" for name in modules)
        return self.mark(label, holder=holder, how=f"RSS before and after importing {names} ({loaded} modules)")

    def marks(self) -> List[MemoryMark]:
        return list(self._marks)

    def by_holder(self) -> Dict[str, float]:
        """MB added per holder, over every step."""
        totals: Dict[str, float] = {}
        for entry in self._marks:
            totals[entry.holder] = totals.get(entry.holder, 0.0) + entry.added_mb
        return totals

    def to_list(self) -> List[dict]:
        return [entry.to_dict() for entry in self._marks]


_PACKAGE = __package__  # `profiling` in a checkout, `hummingbot_stellar_profiling` once installed

# What a profiling run loads, step by step, and whose it is: (label, modules, holder). The strategy's step
# depends on the strategy; MarketsRecorder's only when the run keeps trade records.
HUMMINGBOT_STEP = ("Hummingbot's core (pandas and numpy through its logger, pydantic, and its settings scan, which "
                   "imports every connector's *_utils.py)",
                   ("hummingbot", "hummingbot.connector.exchange_py_base", "hummingbot.core.clock"), HUMMINGBOT)
CONNECTOR_STEPS = (
    ("stellar-sdk (the connector's Stellar library)", ("stellar_sdk",), CONNECTOR),
    ("the Stellar connector's own modules", ("hummingbot.connector.exchange.stellar.stellar_exchange",), CONNECTOR),
)
STRATEGY_STEPS = {
    "pmm": ("Hummingbot's PureMarketMakingStrategy (SQLAlchemy, through its inventory cost model)",
            ("hummingbot.strategy.pure_market_making", f"{_PACKAGE}.strategies.pure_market_making"), STRATEGY),
    "v2": ("Hummingbot's StrategyV2Base (with MarketsRecorder, executors, candle feeds, SciPy)",
           ("hummingbot.strategy.strategy_v2_base", f"{_PACKAGE}.strategies.quote_refresher"), STRATEGY),
}
MARKETS_RECORDER_STEP = ("Hummingbot's MarketsRecorder (trade database; its module loads the V2 executors, SciPy, "
                         "eth_account, prompt_toolkit)",
                         ("hummingbot.connector.markets_recorder", f"{_PACKAGE}.strategies.trade_records"), HUMMINGBOT)
RUNNER_STEP = ("the profiling runner (recorder, sampler, market activity client; the report's modules load once "
               "the run is over)", (f"{_PACKAGE}.runner",), RUNNER)


def load_run_modules(marks: MemoryMarks, *, strategy: str, trade_records: bool) -> None:
    """Load what a profiling run needs, one step at a time, each marked (see the step tables above)."""
    steps = [HUMMINGBOT_STEP, *CONNECTOR_STEPS, STRATEGY_STEPS[strategy]]
    if trade_records:
        steps.append(MARKETS_RECORDER_STEP)
    steps.append(RUNNER_STEP)
    for label, modules, holder in steps:
        marks.load(label, modules, holder=holder)


__all__ = ["HOLDERS", "PROCESS", "PYTHON", "HUMMINGBOT", "CONNECTOR", "STRATEGY", "RUNNER", "PROFILERS", "SESSION",
           "MemoryMark", "MemoryMarks", "load_run_modules", "rss_bytes"]
