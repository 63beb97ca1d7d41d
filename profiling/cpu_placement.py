"""The bot and the embedded network on CPUs of their own, where the machine has two or more (Linux).

A Horizon is another machine: its work never takes the bot's CPU. The sandbox's child process stands in for it on
this one, and Linux runs a task woken over loopback on the CPU of the task that woke it (a synchronous wakeup), where
it preempts that task until it sleeps again. Measured in `make demo` on a 2-CPU VM: a third of the order POSTs held
the bot 1.2-1.9 ms inside its own write while the sandbox read the request and answered it; the bot could prepare
its next transaction only once the network had answered the first. With the network on a CPU of its own, none did.

`plan()` gives the network the last CPU this process may use and the bot the others; the runner applies it for
the run (`Scenario.separate_cpus`, `--no-separate-cpus` to leave placement to the scheduler): the child pins
itself at start (`SandboxProcess(cpus=...)`), this process with `pin_process`, undone when the run ends.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Iterable, List, Optional, Tuple

TASKS_DIR = "/proc/self/task"   # one entry per thread of this process (Linux)


@dataclass(frozen=True)
class CpuSplit:
    bot: Tuple[int, ...]
    network: Tuple[int, ...]

    def describe(self) -> str:
        return f"the bot on CPU {_cpus(self.bot)}, the network on CPU {_cpus(self.network)}"


def plan(available: Optional[Iterable[int]] = None) -> Optional[CpuSplit]:
    """The split of `available` (default: the CPUs this process may run on), or None with fewer than two, or where
    the platform cannot pin a process."""
    if available is None:
        if not hasattr(os, "sched_getaffinity") or not hasattr(os, "sched_setaffinity"):
            return None
        available = os.sched_getaffinity(0)
    cpus = sorted(available)
    if len(cpus) < 2:
        return None
    return CpuSplit(bot=tuple(cpus[:-1]), network=(cpus[-1],))


def pin_process(cpus: Iterable[int]) -> Callable[[], None]:
    """Every thread of this process on `cpus` (threads started later inherit it); returns the undo, which puts
    every thread then alive back on the CPUs this one had."""
    target = set(cpus)
    before = os.sched_getaffinity(0)
    _set_all_threads(target)
    return lambda: _set_all_threads(before)


def _set_all_threads(cpus: set) -> None:
    for thread_id in _thread_ids():
        try:
            os.sched_setaffinity(thread_id, cpus)
        except (ProcessLookupError, PermissionError):   # a thread that ended meanwhile
            continue


def _thread_ids() -> List[int]:
    try:
        return [int(name) for name in os.listdir(TASKS_DIR)]
    except OSError:   # no /proc: the calling thread alone
        return [0]


def _cpus(cpus: Tuple[int, ...]) -> str:
    return ", ".join(str(cpu) for cpu in cpus)
