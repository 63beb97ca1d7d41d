import asyncio
import json
import mmap
import pstats
import threading

import pytest

from profiling.sessions import MemraySession, ResourceSample, ResourceSampler, YappiSession, code_origin
from profiling.sessions.resource_sampler import summarize


def checksum_of_squares(n: int) -> int:
    return sum(i * i for i in range(n))


async def market_data_workload() -> int:
    total = 0
    for _ in range(5):
        total += checksum_of_squares(20_000)
        await asyncio.sleep(0)
    return total


class TestYappiSession:
    async def test_profiles_an_async_workload_into_pstat_callgrind_and_a_top_table(self, tmp_path):
        session = YappiSession(tmp_path, name="profile", top_n=15)
        session.start()
        try:
            await asyncio.gather(asyncio.create_task(market_data_workload()),
                                 asyncio.create_task(market_data_workload()))
        finally:
            result = session.stop()

        assert not session.running
        assert result.clock_type == "wall"
        assert result.pstat_path == tmp_path / "profile.prof"
        assert result.callgrind_path.read_text().startswith("version: 1")
        loaded = pstats.Stats(str(result.pstat_path))
        assert any(name == "checksum_of_squares" for (_, _, name) in loaded.stats)

        table = result.top_table(10, by="own")
        assert "checksum_of_squares" in table or "<genexpr>" in table
        assert "market_data_workload" in result.top_table(10, by="total")
        leaf = next(f for f in result.top_by_total if f.name == "checksum_of_squares")
        assert leaf.calls == 10
        assert leaf.module.endswith("test_sessions.py")

        tasks = {task.label: task for task in result.tasks}
        assert "market_data_workload" in tasks
        workload_task = tasks["market_data_workload"]
        assert {"checksum_of_squares", "<genexpr>"} & set(workload_task.top_functions)
        assert "__sleep0" not in workload_task.top_functions
        assert workload_task.own_s > 0
        assert json.loads(json.dumps(result.to_dict()))["top_by_own"]

    def test_refuses_a_second_start_and_a_stop_before_start(self, tmp_path):
        session = YappiSession(tmp_path)
        with pytest.raises(RuntimeError, match="not running"):
            session.stop()
        session.start()
        try:
            with pytest.raises(RuntimeError, match="already running"):
                session.start()
            with pytest.raises(RuntimeError, match="already running"):
                YappiSession(tmp_path, name="other").start()
        finally:
            session.stop()

    def test_rejects_an_unknown_clock(self, tmp_path):
        with pytest.raises(ValueError, match="clock_type"):
            YappiSession(tmp_path, clock_type="gpu")

    def test_top_table_rejects_an_unknown_order(self, tmp_path):
        session = YappiSession(tmp_path, per_task=False)
        session.start()
        checksum_of_squares(10)
        result = session.stop()
        assert result.tasks == []
        with pytest.raises(ValueError, match="own"):
            result.top_table(by="calls")


class TestCodeOrigin:
    @pytest.mark.parametrize("module, name, origin", [
        ("/x/hummingbot/connector/exchange/stellar/stellar_exchange.py", "StellarExchange._place_order", "connector"),
        ("/repo/stellar_sandbox/core/matching.py", "cross", "sandbox"),
        ("/site-packages/hummingbot/core/data_type/order_book.py", "OrderBook.apply_diffs", "hummingbot"),
        ("/usr/lib/python3.11/selectors.py", "EpollSelector.select", "waiting"),
        ("/usr/lib/python3.11/asyncio/tasks.py", "sleep", "waiting"),
        ("/usr/lib/python3.11/asyncio/tasks.py", "gather", "other"),
        ("/usr/lib/python3.11/json/decoder.py", "JSONDecoder.decode", "other"),
    ])
    def test_origin(self, module, name, origin):
        assert code_origin(module, name) == origin


class TestMemraySession:
    def test_captures_and_writes_flamegraph_and_stats(self, tmp_path):
        session = MemraySession(tmp_path, name="capture")
        session.start()
        try:
            kept = [bytearray(64 * 1024) for _ in range(16)]
        finally:
            result = session.stop()
        del kept

        assert result.capture_path == tmp_path / "capture.bin" and result.capture_path.stat().st_size > 0
        assert result.errors == []
        assert result.flamegraph_path == tmp_path / "capture-flamegraph.html"
        assert "<html" in result.flamegraph_path.read_text(errors="replace")[:2000].lower()
        stats = json.loads(result.stats_path.read_text())
        assert stats["total_num_allocations"] >= 16
        assert result.peak_memory_bytes >= 16 * 64 * 1024
        assert any("test_sessions.py" in site["location"] for site in result.top_sites_at_peak)

    def test_aggregated_capture_has_a_flamegraph_but_no_stats_file(self, tmp_path):
        session = MemraySession(tmp_path, aggregate=True)
        session.start()
        try:
            kept = [bytearray(32 * 1024) for _ in range(4)]
        finally:
            result = session.stop()
        del kept
        assert result.aggregated
        assert result.stats_path is None
        assert result.flamegraph_path.is_file()
        assert result.errors == []


class TestResourceSampler:
    def test_samples_rss_and_cpu_until_stopped(self):
        sampler = ResourceSampler(interval_s=0.01)
        sampler.start()
        # An anonymous mapping always takes fresh pages from the kernel; a bytearray may reuse heap
        # pages that earlier tests freed but that are still resident, and then RSS does not move.
        ballast = mmap.mmap(-1, 30 * 2**20)
        for offset in range(0, len(ballast), mmap.PAGESIZE):  # touch the pages so they count in RSS
            ballast[offset] = 1
        checksum_of_squares(200_000)
        done = threading.Event()
        done.wait(0.05)
        summary = sampler.stop()
        ballast.close()

        assert not sampler.running
        assert summary.sample_count >= 2
        assert summary.rss_peak_mb >= summary.rss_start_mb + 20
        assert summary.rss_peak_mb >= summary.rss_steady_mb
        assert summary.cpu_avg_percent > 0
        assert summary.duration_s > 0
        assert set(summary.to_dict()) >= {"rss_peak_mb", "rss_steady_mb", "cpu_avg_percent", "net_kb_per_s"}

    def test_keeps_a_bounded_series(self):
        sampler = ResourceSampler(interval_s=0.001, max_samples=8)
        sampler.start()
        pause = threading.Event()
        for _ in range(500):  # until the series has been thinned once (usually within ~10 ms)
            if sampler.interval_s > 0.001:
                break
            pause.wait(0.01)
        sampler.stop()
        assert len(sampler.samples()) <= 9
        assert sampler.interval_s > 0.001

    def test_summary_of_known_samples(self):
        mb = 2**20
        samples = [
            ResourceSample(0.0, 100 * mb, 0.0, 0, 0),
            ResourceSample(1.0, 180 * mb, 40.0, 1024, 2048),
            ResourceSample(2.0, 120 * mb, 10.0, 2048, 4096),
            ResourceSample(3.0, 140 * mb, 20.0, 3072, 6144),
            ResourceSample(4.0, 130 * mb, 5.0, 4096, 8192),
        ]
        summary = summarize(samples, duration_s=4.0, cpu_seconds=0.6, interval_s=1.0, interface="lo")
        assert summary.rss_start_mb == 100
        assert summary.rss_peak_mb == 180
        assert summary.rss_steady_mb == 130  # median of 120, 140, 130 (t >= 2 s)
        assert summary.cpu_avg_percent == pytest.approx(15.0)
        assert summary.cpu_peak_percent == 40.0
        assert summary.net_sent_kb_per_s == 1.0
        assert summary.net_recv_kb_per_s == 2.0
        assert summary.net_kb_per_s == 3.0

    def test_rejects_a_bad_interval(self):
        with pytest.raises(ValueError, match="interval_s"):
            ResourceSampler(interval_s=0)


class TestMemrayComponents:
    @pytest.mark.parametrize("frames, component", [
        ([], "no Python stack"),
        ([("dumps", "/usr/lib/python3.11/json/__init__.py", 231),
          ("_parse", "/x/hummingbot/connector/exchange/stellar/stellar_sse.py", 95)], "connector"),
        ([("from_xdr", "/x/stellar_sdk/xdr/asset.py", 10),
          ("parse", "/x/hummingbot/connector/exchange/stellar/stellar_order_book.py", 12)], "stellar-sdk"),
        ([("_did_fill_order", "/x/hummingbot/connector/markets_recorder.py", 400),
          ("_process_trade_event", "/x/hummingbot/connector/exchange/stellar/stellar_exchange.py", 574)],
         "hummingbot"),
        ([("_run_once", "/usr/lib/python3.11/asyncio/base_events.py", 1845)],
         "other (standard library, event loop, other packages)"),
    ])
    def test_an_allocation_belongs_to_its_innermost_known_frame(self, frames, component):
        from profiling.sessions.memray_session import component_of

        assert component_of(frames) == component

    def test_a_capture_with_python_stacks_is_split_by_component(self, tmp_path):
        session = MemraySession(tmp_path, aggregate=True)
        session.start()
        try:
            kept = [bytearray(64 * 1024) for _ in range(8)]
        finally:
            result = session.stop()
        del kept
        assert result.python_stacks
        figures = result.to_dict()["by_component_at_peak"]
        assert sum(entry["mb"] for entry in figures.values()) == pytest.approx(result.peak_memory_bytes / 2**20,
                                                                              rel=0.2)


class TestYappiStopOrder:
    def test_recording_stops_first_and_the_statistics_are_collected_later(self, tmp_path):
        session = YappiSession(tmp_path, clock_type="cpu")
        session.start()
        checksum_of_squares(10_000)
        session.stop_profiling()
        assert session.running and not session.profiling
        checksum_of_squares(10_000)  # not recorded
        result = session.stop()
        calls = [f.calls for f in result.top_by_total if f.name == "checksum_of_squares"]
        assert calls == [1]
        assert result.memory_bytes and result.to_dict()["memory_mb"] > 0


def test_the_sampler_calls_back_after_each_sample_and_survives_a_failing_callback():
    calls = []

    def callback():
        calls.append(1)
        raise RuntimeError("broken")

    sampler = ResourceSampler(interval_s=0.005, on_sample=callback)
    sampler.start()
    threading.Event().wait(0.05)
    sampler.stop()
    assert calls == [1]  # once, then dropped
    assert len(sampler.samples()) >= 3


def test_the_proc_reader_agrees_with_psutil():
    from profiling.sessions.resource_sampler import ProcReader, PsutilReader

    proc, reference = ProcReader(), PsutilReader()
    assert abs(proc.rss_bytes() - reference.rss_bytes()) < 4 * 2**20
    assert abs(proc.cpu_seconds() - reference.cpu_seconds()) < 0.5
    assert set(proc.net_bytes()) == set(reference.net_bytes())
