import asyncio
import json
import os

import memray
import pytest

from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from profiling.config import ProfilingConfig
from profiling.profiler import Profiler, session_dir
from test.profiling.test_report import SCHEMA, schema_errors


@pytest.fixture(autouse=True)
def profiling_off():
    measurement.uninstall()
    yield
    measurement.uninstall()


def parse_book(levels: int) -> list:
    return sorted((str(price), price * 2) for price in range(levels))


async def book_workload() -> None:
    for _ in range(20):
        start = measurement.now()
        parse_book(500)
        measurement.record(measurement.BOOK_UPDATE, start)
        start = measurement.now()
        await asyncio.sleep(0)
        measurement.record(measurement.HORIZON_CALL_PREFIX + "/order_book", start)
        measurement.count(measurement.CACHE_HIT_PREFIX + measurement.INSTRUMENT_CACHE)


async def test_a_profiled_run_ends_in_a_report_with_every_session(tmp_path):
    config = ProfilingConfig(sample_interval_s=0.01, memray_aggregate=False, top_functions=10)
    profiler = Profiler(config, output_dir=tmp_path, scenario="book workload")

    profiler.start()
    assert measurement.is_enabled()
    await book_workload()
    result = profiler.stop()

    assert not measurement.is_enabled()
    assert result.errors == []
    assert result.latency["points"]["book.update"]["count"] == 20
    assert result.latency["groups"]["horizon.*"]["count"] == 20
    assert result.disabled_hook_cost_ns is not None

    paths = profiler.write_report(result, notes=["crafted workload"])
    report = json.loads(paths.json.read_text())
    assert schema_errors(report, SCHEMA) == []
    assert report["scenario"] == "book workload"
    verdicts = {c["id"]: c["verdict"] for c in report["criteria"]}
    assert verdicts["perf_book_update_avg"] != "not measured"
    assert verdicts["perf_horizon_call_avg"] != "not measured"
    assert verdicts["perf_disabled_hook_cost"] != "not measured"
    assert verdicts["perf_order_create_avg"] == "not measured"
    assert report["resources"]["sample_count"] >= 2
    assert report["memray"]["flamegraph_path"].endswith("memray-flamegraph.html")
    assert report["cache"]["instrument"]["hits"] == 20
    assert any("ran during the measurement" in note for note in report["notes"])
    assert (tmp_path / "yappi.prof").is_file() and (tmp_path / "memray.bin").is_file()
    text = paths.markdown.read_text()
    assert "parse_book" in text.split("## Primary bottlenecks")[1]


def test_a_failed_start_leaves_nothing_running(tmp_path):
    profiler = Profiler(ProfilingConfig(yappi=False, sample_interval_s=0.01), output_dir=tmp_path / "run")
    with memray.Tracker(str(tmp_path / "other.bin")), pytest.raises(RuntimeError):
        profiler.start()
    assert not profiler.running
    assert not profiler.sampler.running
    assert not measurement.is_enabled()


def test_stop_before_start_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="not running"):
        Profiler(ProfilingConfig(yappi=False, memray=False), output_dir=tmp_path).stop()


def test_each_session_gets_its_own_folder(tmp_path):
    folder = session_dir(tmp_path)
    assert folder.parent == tmp_path
    assert folder.name.endswith(f"-{os.getpid()}")
