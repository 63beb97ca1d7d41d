import ast
from pathlib import Path

import pytest

from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from profiling import hooks
from profiling.recorder import LatencyRecorder


@pytest.fixture(autouse=True)
def profiling_off():
    measurement.uninstall()
    yield
    measurement.uninstall()


def test_hooks_imports_nothing_else_of_profiling():
    tree = ast.parse(Path(hooks.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not {name for name in imported if name == "profiling" or name.startswith("profiling.")}
    assert "hummingbot.connector.exchange.stellar" in imported


class TestRecorderInstall:
    def test_measuring_points_reach_an_installed_recorder(self):
        recorder = LatencyRecorder()
        hooks.install_recorder(recorder)

        start = measurement.now()
        measurement.record(measurement.BOOK_UPDATE, start)
        measurement.record_value(measurement.ORDER_CREATE_ACK, 3_000_000)
        measurement.count(measurement.CACHE_HIT_PREFIX + measurement.INSTRUMENT_CACHE)

        assert measurement.is_enabled()
        assert recorder.stats(measurement.BOOK_UPDATE).count == 1
        assert recorder.stats(measurement.BOOK_UPDATE).min_ns >= 0
        assert recorder.stats(measurement.ORDER_CREATE_ACK).max_ns == 3_000_000
        assert recorder.counters() == {"cache_hit.instrument": 1}

    def test_nothing_is_recorded_after_uninstall(self):
        recorder = LatencyRecorder()
        hooks.install_recorder(recorder)
        measurement.record_value(measurement.BOOK_UPDATE, 1)
        hooks.uninstall_recorder()

        measurement.record_value(measurement.BOOK_UPDATE, 2)
        measurement.record(measurement.BOOK_UPDATE, measurement.now())
        measurement.count("cache_miss.config", 3)

        assert not measurement.is_enabled()
        assert recorder.stats(measurement.BOOK_UPDATE).count == 1
        assert recorder.counters() == {}

    def test_disabled_points_do_nothing(self):
        assert not measurement.is_enabled()
        assert measurement.record(measurement.BOOK_UPDATE, measurement.now()) is None
        assert measurement.record_value(measurement.BOOK_UPDATE, 5) is None
        assert measurement.count(measurement.BOOK_UPDATE) is None


class TestDisabledHookCost:
    def test_gives_nanoseconds_per_call(self):
        cost = hooks.measure_disabled_hook_cost(2_000, repeats=2)
        assert isinstance(cost, float)
        assert cost >= 0.0

    def test_refuses_while_a_recorder_is_installed(self):
        hooks.install_recorder(LatencyRecorder())
        with pytest.raises(RuntimeError, match="profiling off"):
            hooks.measure_disabled_hook_cost(10)

    def test_rejects_a_count_below_one(self):
        with pytest.raises(ValueError, match="at least 1"):
            hooks.measure_disabled_hook_cost(0)
