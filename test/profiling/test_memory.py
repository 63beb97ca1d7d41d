"""`profiling.memory`: RSS at named steps, what each step added and whose it is; and that a profiling run loads
only what its strategy and profilers need (checked in a fresh interpreter)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from profiling.memory import CONNECTOR, HUMMINGBOT, PROCESS, PYTHON, SESSION, MemoryMarks, rss_bytes

REPO_ROOT = Path(__file__).resolve().parents[2]
MB = 2**20


def test_rss_is_this_processs_resident_size():
    import psutil

    assert abs(rss_bytes() - psutil.Process().memory_info().rss) < 20 * MB


def test_marks_tell_what_each_step_added_and_sum_per_holder():
    readings = iter([100 * MB, 180 * MB, 200 * MB, 230 * MB])
    marks = MemoryMarks(read_rss=lambda: next(readings))
    marks.mark("python", holder=PYTHON)
    marks.mark("hummingbot", holder=HUMMINGBOT)
    marks.mark("connector", holder=CONNECTOR, how="by hand")
    marks.mark("run", holder=SESSION)
    entries = marks.to_list()
    assert [entry["added_mb"] for entry in entries] == [100, 80, 20, 30]
    assert entries[2]["how"] == "by hand"
    assert "/proc/self/statm" in entries[0]["how"]
    assert marks.by_holder() == {PYTHON: 100, HUMMINGBOT: 80, CONNECTOR: 20, SESSION: 30}


def test_loading_marks_the_import_and_skips_what_is_loaded_already():
    marks = MemoryMarks()
    assert marks.load("json again", ["json"], holder=PYTHON) is None
    assert len(marks) == 0
    name = "profiling.sessions.resource_sampler"
    if name in sys.modules:
        pytest.skip("already imported by an earlier test")
    entry = marks.load("the sampler", [name], holder=PYTHON)
    assert [mark["holder"] for mark in marks.to_list()] == [PROCESS, PYTHON]
    assert f"`{name}`" in entry.how


LOADED = """
import json, sys
import conftest  # the working tree's connector
from profiling.memory import MemoryMarks, load_run_modules
from profiling.config import ProfilingConfig
marks = MemoryMarks()
marks.mark("start", holder="python")
load_run_modules(marks, strategy=sys.argv[1], trade_records=sys.argv[2] == "1")
from profiling.profiler import Profiler
profiler = Profiler(ProfilingConfig(yappi=sys.argv[3] == "1", memray=sys.argv[3] == "1"), output_dir=sys.argv[4],
                    memory_marks=marks)
watched = ["hummingbot.connector.markets_recorder", "hummingbot.strategy.strategy_v2_base", "matplotlib", "yappi",
           "memray", "hummingbot.strategy.pure_market_making"]
print(json.dumps({"loaded": [name for name in watched if name in sys.modules], "marks": marks.to_list()}))
"""


def loaded_by(tmp_path, strategy, trade_records, profilers):
    completed = subprocess.run([sys.executable, "-c", LOADED, strategy, "1" if trade_records else "0",
                                "1" if profilers else "0", str(tmp_path)], cwd=REPO_ROOT, capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_the_classic_strategy_loads_neither_v2_nor_markets_recorder_nor_matplotlib(tmp_path):
    result = loaded_by(tmp_path, "pmm", False, profilers=False)
    assert result["loaded"] == ["hummingbot.strategy.pure_market_making"]
    labels = [mark["label"] for mark in result["marks"]]
    assert any(label.startswith("Hummingbot's core") for label in labels)
    assert any(label.startswith("stellar-sdk") for label in labels)
    assert any(label.startswith("Hummingbot's PureMarketMakingStrategy") for label in labels)
    assert not any("MarketsRecorder (trade database" in label for label in labels)


def test_profilers_and_trade_records_load_only_when_asked_for(tmp_path):
    result = loaded_by(tmp_path, "pmm", True, profilers=True)
    assert {"hummingbot.connector.markets_recorder", "yappi", "memray"} <= set(result["loaded"])
    assert "matplotlib" not in result["loaded"]
    labels = [mark["label"] for mark in result["marks"]]
    assert any(label.startswith("Hummingbot's MarketsRecorder") for label in labels)
    assert any(label.startswith("the profilers' modules (yappi, memray)") for label in labels)
