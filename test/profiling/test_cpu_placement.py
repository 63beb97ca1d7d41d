"""The bot and the embedded network on CPUs of their own: the split, the pinning of this process and its undo,
and the sandbox's child pinning itself."""
import os
import threading

import pytest

from profiling import cpu_placement
from profiling.cpu_placement import CpuSplit, plan

TWO_CPUS = pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                              reason="needs two CPUs this process may use")


def test_the_network_gets_the_last_cpu_and_the_bot_the_others():
    assert plan([1, 0]) == CpuSplit(bot=(0,), network=(1,))
    assert plan({0, 1, 2, 3}) == CpuSplit(bot=(0, 1, 2), network=(3,))
    assert plan([2, 5, 7]).describe() == "the bot on CPU 2, 5, the network on CPU 7"


def test_no_split_on_a_single_cpu():
    assert plan([0]) is None
    assert plan([]) is None


def test_without_affinity_calls_nothing_is_planned(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    assert plan() is None


@TWO_CPUS
def test_pinning_moves_every_thread_and_the_undo_puts_every_thread_back():
    before = os.sched_getaffinity(0)
    target = {min(before)}
    started, release = threading.Event(), threading.Event()
    seen = {}

    def worker():
        seen["at_start"] = os.sched_getaffinity(0)
        started.set()
        release.wait(5)
        seen["after_undo"] = os.sched_getaffinity(0)

    early = threading.Thread(target=worker)   # alive before the pinning: moved too
    early.start()
    started.wait(5)
    undo = cpu_placement.pin_process(target)
    try:
        assert os.sched_getaffinity(0) == target
        assert os.sched_getaffinity(early.native_id) == target
        late = {}
        thread = threading.Thread(target=lambda: late.update(cpus=os.sched_getaffinity(0)))
        thread.start()
        thread.join(5)
        assert late["cpus"] == target             # a thread started later inherits it
    finally:
        undo()
    release.set()
    early.join(5)
    assert os.sched_getaffinity(0) == before
    assert seen["after_undo"] == before


@TWO_CPUS
@pytest.mark.integration
async def test_the_sandbox_child_runs_on_the_cpus_it_is_given(tmp_path):
    from profiling.sandbox_process import SandboxProcess

    network_cpu = max(os.sched_getaffinity(0))
    async with SandboxProcess(ledger_interval=1.0, log_path=tmp_path / "sandbox.log", cpus=[network_cpu]) as child:
        threads = os.listdir(f"/proc/{child.pid}/task")
        assert threads and all(os.sched_getaffinity(int(tid)) == {network_cpu} for tid in threads)
    assert os.sched_getaffinity(0) != {network_cpu}   # this process is untouched
