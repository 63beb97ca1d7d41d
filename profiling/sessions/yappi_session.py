"""`YappiSession`: function-level profile of a run, per function and per asyncio task.

Wall clock (this class's default) shows where time passes; the CPU clock (the profiling
configuration's default) where work is done. yappi (>= 1.2) follows coroutines: a coroutine's
total time spans its suspensions. In wall-clock mode, time suspended on a bare future is the own
time of the function that awaits it (`asyncio.sleep`, `Event.wait`, aiohttp's reads, left out as
waiting below), but a real asyncio application also parks in async generators and in coroutines
awaiting other tasks, whose suspensions then count as their own time: for a bottleneck list of
such code, use the CPU clock.

Per task: every profiled call is tagged with the coroutine name of the asyncio task running it
(the task's coroutine `__qualname__`, a bounded set of names, unlike task ids), so the result
tells which kinds of task spend the time.

Artefacts: `<name>.prof` (pstat, for `python -m pstats`, snakeviz) and `<name>.callgrind`
(for KCachegrind/QCachegrind); a top-N table by own time and by total time.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yappi

NO_TASK = "(no asyncio task)"

# Where a function's code lives, so a bottleneck list can put the connector first and keep the
# embedded sandbox (the test network, not the product) apart.
_ORIGINS = (
    ("connector", ("/hummingbot/connector/exchange/stellar/",)),
    ("sandbox", ("/stellar_sandbox/",)),
    ("profiling", ("/profiling/", "/hummingbot_stellar_profiling/")),
    ("hummingbot", ("/hummingbot/",)),
)


# Functions whose wall-clock own time is waiting, not work: where a suspended coroutine or an idle
# thread parks. A bottleneck list leaves them out.
_WAITING = {
    "selectors.py": {"select"},
    "threading.py": {"wait", "join", "_wait_for_tstate_lock"},
    "asyncio/tasks.py": {"sleep", "__sleep0", "wait_for", "wait", "_wait"},
    "asyncio/locks.py": {"wait", "acquire"},
    "asyncio/queues.py": {"get", "put"},
    "asyncio/streams.py": {"_wait_for_data"},
    "aiohttp/streams.py": {"_wait"},
}


def code_origin(module_path: str, name: str = "") -> str:
    """'waiting', 'connector', 'sandbox', 'profiling', 'hummingbot' or 'other', from a function's file and name."""
    path = module_path.replace("\\", "/")
    short_name = name.rsplit(".", 1)[-1]  # yappi names methods "Class.method"
    for suffix, names in _WAITING.items():
        if short_name in names and path.endswith(suffix):
            return "waiting"
    for origin, markers in _ORIGINS:
        if any(marker in path for marker in markers):
            return origin
    return "other"


@dataclass(frozen=True)
class FunctionStat:
    name: str
    module: str
    lineno: int
    calls: int
    total_s: float  # including callees (and, for coroutines, suspensions)
    own_s: float  # excluding callees
    origin: str

    @property
    def location(self) -> str:
        return f"{self.module}:{self.lineno}"

    def to_dict(self) -> dict:
        return {
            "name": self.name, "module": self.module, "lineno": self.lineno, "calls": self.calls,
            "total_s": self.total_s, "own_s": self.own_s, "origin": self.origin,
        }


@dataclass(frozen=True)
class TaskStat:
    """Time spent in the tasks running one kind of coroutine."""

    label: str
    own_s: float  # own time of the functions called inside these tasks, waiting left out
    waiting_s: float  # own time of the waiting functions (where the tasks were parked)
    calls: int
    top_functions: Tuple[str, ...]  # by own time within these tasks

    def to_dict(self) -> dict:
        return {
            "label": self.label, "own_s": self.own_s, "waiting_s": self.waiting_s, "calls": self.calls,
            "top_functions": list(self.top_functions),
        }


@dataclass
class YappiResult:
    clock_type: str
    pstat_path: Path
    callgrind_path: Path
    top_by_own: List[FunctionStat]  # waiting functions left out
    top_by_total: List[FunctionStat]
    top_connector: List[FunctionStat] = field(default_factory=list)  # the connector's own functions, by own time
    top_connector_by_total: List[FunctionStat] = field(default_factory=list)  # the same, by total time
    top_waiting: List[FunctionStat] = field(default_factory=list)  # where waits park, for reference
    tasks: List[TaskStat] = field(default_factory=list)
    threads: List[dict] = field(default_factory=list)
    function_count: int = 0
    memory_bytes: Optional[int] = None  # yappi's own statistics in memory when it stopped (yappi.get_mem_usage)

    def top_table(self, n: int = 20, by: str = "own") -> str:
        """Markdown table of the top `n` functions by "own" or "total" time."""
        if by not in ("own", "total"):
            raise ValueError(f"by must be 'own' or 'total', got {by!r}")
        rows = (self.top_by_own if by == "own" else self.top_by_total)[:n]
        lines = [
            "| function | origin | calls | own s | total s | location |",
            "| --- | --- | ---: | ---: | ---: | --- |",
        ]
        for stat in rows:
            lines.append(
                f"| `{stat.name}` | {stat.origin} | {stat.calls} | {stat.own_s:.4f} | {stat.total_s:.4f} "
                f"| `{stat.location}` |"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "clock_type": self.clock_type,
            "pstat_path": str(self.pstat_path),
            "callgrind_path": str(self.callgrind_path),
            "function_count": self.function_count,
            "top_by_own": [stat.to_dict() for stat in self.top_by_own],
            "top_by_total": [stat.to_dict() for stat in self.top_by_total],
            "top_connector": [stat.to_dict() for stat in self.top_connector],
            "top_connector_by_total": [stat.to_dict() for stat in self.top_connector_by_total],
            "top_waiting": [stat.to_dict() for stat in self.top_waiting],
            "tasks": [task.to_dict() for task in self.tasks],
            "threads": self.threads,
            "memory_mb": self.memory_bytes / 2**20 if self.memory_bytes is not None else None,
        }


class _TaskTagger:
    """yappi tag callback: a small integer per task coroutine name (0 outside any task)."""

    def __init__(self) -> None:
        self.tag_by_label: Dict[str, int] = {}

    def __call__(self) -> int:
        try:
            task = asyncio.current_task()
        except RuntimeError:  # no running loop in this thread
            return 0
        if task is None:
            return 0
        coro = task.get_coro()
        label = getattr(coro, "__qualname__", None) or type(coro).__name__
        tag = self.tag_by_label.get(label)
        if tag is None:
            tag = self.tag_by_label[label] = len(self.tag_by_label) + 1
        return tag

    def label_of(self, tag: int) -> str:
        for label, known in self.tag_by_label.items():
            if known == tag:
                return label
        return NO_TASK


class YappiSession:
    """Start/stop yappi around a run and keep its results. One session at a time (yappi is global)."""

    def __init__(
        self,
        output_dir: Path | str,
        *,
        name: str = "yappi",
        clock_type: str = "wall",
        top_n: int = 30,
        per_task: bool = True,
        builtins: bool = False,
        all_threads: bool = False,
    ) -> None:
        if clock_type not in ("wall", "cpu"):
            raise ValueError(f"clock_type must be 'wall' or 'cpu', got {clock_type!r}")
        self.output_dir = Path(output_dir)
        self.name = name
        self.clock_type = clock_type
        self.top_n = top_n
        self.per_task = per_task
        self.builtins = builtins
        self.all_threads = all_threads  # False: only the thread that starts the session (the event loop's)
        self._tagger: Optional[_TaskTagger] = None
        self._running = False
        self._memory_bytes: Optional[int] = None

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        if self._running:
            raise RuntimeError("this yappi session is already running")
        if yappi.is_running():
            raise RuntimeError("yappi is already running in this process (another session?)")
        yappi.clear_stats()
        yappi.set_clock_type(self.clock_type)
        if self.per_task:
            self._tagger = _TaskTagger()
            yappi.set_tag_callback(self._tagger)
        yappi.start(builtins=self.builtins, profile_threads=self.all_threads)
        self._running = True

    @property
    def profiling(self) -> bool:
        """yappi is recording (running, and not paused by `stop_profiling`)."""
        return self._running and yappi.is_running()

    def stop_profiling(self) -> None:
        """Stop recording, keep the statistics for `stop()`: yappi's collection, tens of MB of Python objects
        for a long session, can then run after whatever should not see it (the RSS sampler's end)."""
        if not self._running:
            raise RuntimeError("this yappi session is not running")
        if yappi.is_running():
            yappi.stop()
            self._memory_bytes = yappi.get_mem_usage()

    def stop(self) -> YappiResult:
        """Stop recording (if still recording) and collect the statistics into the result and its files."""
        self.stop_profiling()
        self._running = False
        try:
            return self._collect()
        finally:
            yappi.set_tag_callback(None)
            yappi.clear_stats()

    def _collect(self) -> YappiResult:
        tasks = self._collect_tasks() if self._tagger is not None else []
        stats = yappi.get_func_stats()
        self.output_dir.mkdir(parents=True, exist_ok=True)
        pstat_path = self.output_dir / f"{self.name}.prof"
        callgrind_path = self.output_dir / f"{self.name}.callgrind"
        stats.save(str(pstat_path), type="pstat")
        stats.save(str(callgrind_path), type="callgrind")
        functions = [
            FunctionStat(
                name=stat.name, module=stat.module, lineno=stat.lineno, calls=stat.ncall,
                total_s=stat.ttot, own_s=stat.tsub, origin=code_origin(stat.module, stat.name),
            )
            for stat in stats
        ]
        by_own = sorted(functions, key=lambda f: f.own_s, reverse=True)
        threads = [
            {"name": thread.name, "id": thread.id, "total_s": thread.ttot, "scheduled": thread.sched_count}
            for thread in yappi.get_thread_stats()
        ]
        return YappiResult(
            clock_type=self.clock_type,
            pstat_path=pstat_path,
            callgrind_path=callgrind_path,
            top_by_own=[f for f in by_own if f.origin != "waiting"][: self.top_n],
            top_by_total=sorted(functions, key=lambda f: f.total_s, reverse=True)[: self.top_n],
            top_connector=[f for f in by_own if f.origin == "connector"][: self.top_n],
            top_connector_by_total=sorted((f for f in functions if f.origin == "connector"),
                                          key=lambda f: f.total_s, reverse=True)[: self.top_n],
            top_waiting=[f for f in by_own if f.origin == "waiting"][:5],
            tasks=tasks,
            threads=threads,
            function_count=len(functions),
            memory_bytes=self._memory_bytes,
        )

    def _collect_tasks(self) -> List[TaskStat]:
        # One pass over yappi's unmerged entries (one per function and tag); nothing is kept by yappi.
        own_by_tag: Dict[int, Dict[str, float]] = {}
        waiting_by_tag: Dict[int, float] = {}
        calls_by_tag: Dict[int, int] = {}

        def collect(stat) -> bool:
            calls_by_tag[stat.tag] = calls_by_tag.get(stat.tag, 0) + stat.ncall
            if code_origin(stat.module, stat.name) == "waiting":
                waiting_by_tag[stat.tag] = waiting_by_tag.get(stat.tag, 0.0) + stat.tsub
            else:
                per_function = own_by_tag.setdefault(stat.tag, {})
                per_function[stat.name] = per_function.get(stat.name, 0.0) + stat.tsub
            return False

        yappi.get_func_stats(filter_callback=collect)
        tasks = []
        for tag in calls_by_tag:
            per_function = own_by_tag.get(tag, {})
            top = sorted(per_function, key=per_function.get, reverse=True)[:3]
            tasks.append(TaskStat(
                label=self._tagger.label_of(tag), own_s=sum(per_function.values()),
                waiting_s=waiting_by_tag.get(tag, 0.0), calls=calls_by_tag[tag], top_functions=tuple(top),
            ))
        return sorted(tasks, key=lambda task: task.own_s, reverse=True)
