import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from profiling import hooks
from profiling.config import ProfilingConfig
from profiling.recorder import LatencyRecorder

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def profiling_off():
    measurement.uninstall()
    yield
    hooks.stop_active(write_report=False)
    measurement.uninstall()


def write_config(tmp_path, **settings):
    values = {"output_dir": str(tmp_path / "reports"), "yappi": False, "memray": False,
              "report_on_exit": False, "sample_interval_s": 0.01}
    values.update(settings)
    path = tmp_path / "profiling.yml"
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


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


class TestEnvironmentSwitch:
    @pytest.mark.parametrize("value", ["", "0", "false", "off", "No"])
    def test_off_values_start_nothing(self, value):
        assert hooks.enable_from_environment({"STELLAR_PROFILING": value}) is None
        assert hooks.active_profiler() is None
        assert not measurement.is_enabled()

    def test_unset_starts_nothing(self):
        assert hooks.enable_from_environment({}) is None
        assert not measurement.is_enabled()

    @pytest.mark.parametrize("value", ["1", "true", "on", "YES"])
    def test_on_values_mean_the_defaults(self, value):
        assert hooks.config_from_environment({"STELLAR_PROFILING": value}) == ProfilingConfig()

    def test_a_path_reads_that_configuration(self, tmp_path):
        path = write_config(tmp_path, scenario="two pairs", sample_interval_s=0.25)
        config = hooks.config_from_environment({"STELLAR_PROFILING": str(path)})
        assert config.scenario == "two pairs"
        assert config.sample_interval_s == 0.25
        assert config.yappi is False

    def test_the_template_in_conf_is_a_valid_configuration(self):
        config = ProfilingConfig.from_yaml("conf/conf_stellar_profiling.yml")
        assert config.yappi and config.memray and config.report_on_exit

    def test_a_missing_configuration_says_where_it_looked(self, tmp_path):
        missing = tmp_path / "nowhere.yml"
        with pytest.raises(FileNotFoundError, match="nowhere.yml"):
            hooks.enable_from_environment({"STELLAR_PROFILING": str(missing)})
        assert not measurement.is_enabled()

    def test_an_unknown_setting_is_named(self, tmp_path):
        path = write_config(tmp_path, yapi=True)
        with pytest.raises(ValueError, match="yapi"):
            hooks.config_from_environment({"STELLAR_PROFILING": str(path)})

    def test_a_setting_of_the_wrong_type_is_named(self, tmp_path):
        path = write_config(tmp_path, sample_interval_s="fast")
        with pytest.raises(ValueError, match="sample_interval_s"):
            hooks.config_from_environment({"STELLAR_PROFILING": str(path)})

    def test_switched_on_it_records_and_writes_the_report_when_stopped(self, tmp_path):
        path = write_config(tmp_path, scenario="hooks test")

        profiler = hooks.enable_from_environment({"STELLAR_PROFILING": str(path)})

        assert profiler is not None and profiler.running
        assert hooks.enable_from_environment({"STELLAR_PROFILING": str(path)}) is profiler
        assert measurement.is_enabled()
        measurement.record_value(measurement.ORDER_CREATE_ACK, 4_000_000)

        paths = hooks.stop_active()

        assert not measurement.is_enabled()
        assert hooks.active_profiler() is None
        assert paths.markdown.parent.parent == tmp_path / "reports"
        report = json.loads(paths.json.read_text())
        assert report["scenario"] == "hooks test"
        assert report["latency"]["points"]["order_create.ack"]["avg_ms"] == 4.0
        assert report["extra"]["disabled_hook_cost_ns"] >= 0
        assert hooks.stop_active() is None


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


class TestAutostart:
    def test_a_fresh_process_is_profiled_and_reports_at_exit(self, tmp_path):
        path = write_config(tmp_path, report_on_exit=True, yappi=True, scenario="autostart")
        script = (
            "import conftest\n"  # the working tree's connector, as in the test session
            "import profiling.autostart\n"
            "from hummingbot.connector.exchange.stellar import stellar_measurement as m\n"
            "assert m.is_enabled()\n"
            "m.record_value(m.BOOK_UPDATE, 2_000_000)\n"
        )
        environment = {**os.environ, "STELLAR_PROFILING": str(path)}
        completed = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=environment,
                                   capture_output=True, text=True, timeout=120)
        assert completed.returncode == 0, completed.stderr

        reports = list((tmp_path / "reports").glob("*/report.json"))
        assert len(reports) == 1
        report = json.loads(reports[0].read_text())
        assert report["scenario"] == "autostart"
        assert report["latency"]["points"]["book.update"]["avg_ms"] == 2.0

    def test_off_it_starts_nothing(self):
        script = ("import conftest, profiling.autostart\n"
                  "from hummingbot.connector.exchange.stellar import stellar_measurement as m\n"
                  "assert not m.is_enabled()\n")
        environment = {key: value for key, value in os.environ.items() if key != "STELLAR_PROFILING"}
        completed = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=environment,
                                   capture_output=True, text=True, timeout=120)
        assert completed.returncode == 0, completed.stderr
