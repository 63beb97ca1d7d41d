"""`profiling.autostart`: STELLAR_PROFILING switches profiling on, in this process and in a fresh one."""
import ast
import json
import os
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from profiling import autostart
from profiling.config import ProfilingConfig

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def profiling_off():
    measurement.uninstall()
    yield
    autostart.stop_active(write_report=False)
    measurement.uninstall()


def write_config(tmp_path, **settings):
    values = {"output_dir": str(tmp_path / "reports"), "yappi": False, "memray": False,
              "report_on_exit": False, "sample_interval_s": 0.01}
    values.update(settings)
    path = tmp_path / "profiling.yml"
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


def fresh_process_environment(**variables) -> dict:
    """os.environ without STELLAR_PROFILING, plus `variables`, with the working tree first on the path.

    The installed distribution's `.pth` line runs at interpreter start-up, before `-c` code, and starts the
    installed `hummingbot_stellar_profiling` when STELLAR_PROFILING is set: a script that imports the working
    tree's `profiling.autostart` with STELLAR_PROFILING set runs with `without_pth_files`.
    """
    environment = {key: value for key, value in os.environ.items() if key != autostart.ENV_VAR}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    environment.update(variables)
    return environment


def run_python(script: str, environment: dict, *, without_pth_files: bool = False) -> subprocess.CompletedProcess:
    """`python -c script`; `without_pth_files`: no `site` (so no installed `.pth` line runs), with
    the working tree and site-packages on the path as PYTHONPATH entries."""
    options = []
    if without_pth_files:
        options = ["-S"]
        site_packages = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
        environment = {**environment,
                       "PYTHONPATH": os.pathsep.join([environment["PYTHONPATH"], *site_packages])}
    return subprocess.run([sys.executable, *options, "-c", script], cwd=REPO_ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


def autostart_pth_line() -> str:
    """The `.pth` line setup.py installs (read from its source: running setup.py would build)."""
    tree = ast.parse((REPO_ROOT / "setup.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["AUTOSTART_LINE"]:
            return ast.literal_eval(node.value)
    raise AssertionError("setup.py has no AUTOSTART_LINE")


class TestEnvironmentSwitch:
    @pytest.mark.parametrize("value", ["", "0", "false", "off", "No"])
    def test_off_values_start_nothing(self, value):
        assert autostart.enable_from_environment({"STELLAR_PROFILING": value}) is None
        assert autostart.active_profiler() is None
        assert not measurement.is_enabled()

    def test_unset_starts_nothing(self):
        assert autostart.enable_from_environment({}) is None
        assert not measurement.is_enabled()

    @pytest.mark.parametrize("value", ["1", "true", "on", "YES"])
    def test_on_values_mean_the_defaults(self, value):
        assert autostart.config_from_environment({"STELLAR_PROFILING": value}) == ProfilingConfig()

    def test_a_path_reads_that_configuration(self, tmp_path):
        path = write_config(tmp_path, scenario="two pairs", sample_interval_s=0.25)
        config = autostart.config_from_environment({"STELLAR_PROFILING": str(path)})
        assert config.scenario == "two pairs"
        assert config.sample_interval_s == 0.25
        assert config.yappi is False

    def test_the_template_in_conf_is_a_valid_configuration(self):
        config = ProfilingConfig.from_yaml("conf/conf_stellar_profiling.yml")
        assert config.yappi and config.memray and config.report_on_exit

    def test_a_missing_configuration_says_where_it_looked(self, tmp_path):
        missing = tmp_path / "nowhere.yml"
        with pytest.raises(FileNotFoundError, match="nowhere.yml"):
            autostart.enable_from_environment({"STELLAR_PROFILING": str(missing)})
        assert not measurement.is_enabled()

    def test_an_unknown_setting_is_named(self, tmp_path):
        path = write_config(tmp_path, yapi=True)
        with pytest.raises(ValueError, match="yapi"):
            autostart.config_from_environment({"STELLAR_PROFILING": str(path)})

    def test_a_setting_of_the_wrong_type_is_named(self, tmp_path):
        path = write_config(tmp_path, sample_interval_s="fast")
        with pytest.raises(ValueError, match="sample_interval_s"):
            autostart.config_from_environment({"STELLAR_PROFILING": str(path)})

    def test_switched_on_it_records_and_writes_the_report_when_stopped(self, tmp_path):
        path = write_config(tmp_path, scenario="autostart test")

        profiler = autostart.enable_from_environment({"STELLAR_PROFILING": str(path)})

        assert profiler is not None and profiler.running
        assert autostart.enable_from_environment({"STELLAR_PROFILING": str(path)}) is profiler
        assert measurement.is_enabled()
        measurement.record_value(measurement.ORDER_CREATE_ACK, 4_000_000)

        paths = autostart.stop_active()

        assert not measurement.is_enabled()
        assert autostart.active_profiler() is None
        assert paths.markdown.parent.parent == tmp_path / "reports"
        report = json.loads(paths.json.read_text())
        assert report["scenario"] == "autostart test"
        assert report["latency"]["points"]["order_create.ack"]["avg_ms"] == 4.0
        assert report["extra"]["disabled_hook_cost_ns"] >= 0
        assert autostart.stop_active() is None


class TestAutostart:
    def test_a_fresh_process_is_profiled_and_reports_at_exit(self, tmp_path):
        path = write_config(tmp_path, report_on_exit=True, yappi=True, scenario="autostart")
        script = (
            "import conftest\n"  # the working tree's connector, as in the test session
            "import profiling.autostart\n"
            f"assert profiling.autostart.__file__ == {str(REPO_ROOT / 'profiling' / 'autostart.py')!r}\n"
            "from hummingbot.connector.exchange.stellar import stellar_measurement as m\n"
            "assert m.is_enabled()\n"
            "m.record_value(m.BOOK_UPDATE, 2_000_000)\n"
        )
        completed = run_python(script, fresh_process_environment(STELLAR_PROFILING=str(path)), without_pth_files=True)
        assert completed.returncode == 0, completed.stderr

        reports = list((tmp_path / "reports").glob("*/report.json"))
        assert len(reports) == 1
        report = json.loads(reports[0].read_text())
        assert report["scenario"] == "autostart"
        assert report["latency"]["points"]["book.update"]["avg_ms"] == 2.0
        assert f"STELLAR_PROFILING: report written to {reports[0].parent / 'report.md'}" in completed.stderr

    def test_a_process_ended_by_sigterm_writes_the_report_then_ends_by_the_signal(self, tmp_path):
        # `docker stop` and `kill` send SIGTERM, whose default skips exit handlers.
        path = write_config(tmp_path, report_on_exit=True, scenario="terminated")
        script = (
            "import conftest, os, signal, time\n"
            "import profiling.autostart\n"
            "from hummingbot.connector.exchange.stellar import stellar_measurement as m\n"
            "m.record_value(m.ORDER_CANCEL_ACK, 6_000_000)\n"
            "os.kill(os.getpid(), signal.SIGTERM)\n"
            "time.sleep(60)\n"
            "raise SystemExit('still running after SIGTERM')\n"
        )
        completed = run_python(script, fresh_process_environment(STELLAR_PROFILING=str(path)), without_pth_files=True)
        assert completed.returncode == -signal.SIGTERM, completed.stderr
        reports = list((tmp_path / "reports").glob("*/report.json"))
        assert len(reports) == 1, completed.stderr
        assert json.loads(reports[0].read_text())["latency"]["points"]["order_cancel.ack"]["avg_ms"] == 6.0

    def test_sigterm_handled_by_the_application_stays_the_applications(self, tmp_path):
        path = write_config(tmp_path, report_on_exit=True)
        script = (
            "import signal\n"
            "signal.signal(signal.SIGTERM, lambda *_: None)\n"
            "mine = signal.getsignal(signal.SIGTERM)\n"
            "import conftest, profiling.autostart\n"
            "assert profiling.autostart.active_profiler() is not None\n"
            "assert signal.getsignal(signal.SIGTERM) is mine\n"
        )
        completed = run_python(script, fresh_process_environment(STELLAR_PROFILING=str(path)), without_pth_files=True)
        assert completed.returncode == 0, completed.stderr

    def test_off_it_starts_nothing_and_loads_no_profiler(self):
        script = ("import conftest, sys, profiling.autostart\n"
                  "from hummingbot.connector.exchange.stellar import stellar_measurement as m\n"
                  "assert not m.is_enabled()\n"
                  "loaded = sorted(n for n in ('profiling.config', 'profiling.profiler', 'profiling.hooks', 'yappi',\n"
                  "                            'memray', 'yaml') if n in sys.modules)\n"
                  "assert not loaded, loaded\n")
        completed = run_python(script, fresh_process_environment())
        assert completed.returncode == 0, completed.stderr

    def test_the_pth_line_of_setup_py_starts_the_working_trees_autostart_under_its_installed_name(self, tmp_path):
        line = autostart_pth_line()
        assert "__import__('hummingbot_stellar_profiling.autostart')" in line
        installed_name = tmp_path / "site"  # the working tree's profiling/ under the name the wheel installs it as
        installed_name.mkdir()
        (installed_name / "hummingbot_stellar_profiling").symlink_to(REPO_ROOT / "profiling", target_is_directory=True)
        path = write_config(tmp_path, report_on_exit=True, scenario="pth line")
        script = (
            f"{line.strip()}\n"
            "import sys\n"
            "from pathlib import Path\n"
            "started = Path(sys.modules['hummingbot_stellar_profiling.autostart'].__file__).resolve()\n"
            f"assert str(started) == {str(REPO_ROOT / 'profiling' / 'autostart.py')!r}, started\n"
            "assert sys.modules['hummingbot_stellar_profiling.autostart'].active_profiler() is not None\n"
            "from hummingbot.connector.exchange.stellar import stellar_measurement as m\n"
            "assert m.is_enabled()\n"
            "m.record_value(m.BOOK_UPDATE, 3_000_000)\n"
            "assert not [n for n in sys.modules if n == 'profiling' or n.startswith('profiling.')], 'old name'\n"
        )
        environment = fresh_process_environment(STELLAR_PROFILING=str(path))
        environment["PYTHONPATH"] = os.pathsep.join([str(installed_name), environment["PYTHONPATH"]])
        completed = run_python(script, environment, without_pth_files=True)
        assert completed.returncode == 0, completed.stderr
        reports = list((tmp_path / "reports").glob("*/report.json"))
        assert [json.loads(report.read_text())["scenario"] for report in reports] == ["pth line"]
        assert json.loads(reports[0].read_text())["latency"]["points"]["book.update"]["avg_ms"] == 3.0

    def test_the_pth_line_imports_nothing_of_profiling_when_off(self):
        script = (f"{autostart_pth_line().strip()}\nimport sys\n"
                  "loaded = sorted(n for n in sys.modules if 'profiling' in n)\n"
                  "assert not loaded, loaded\n")
        completed = run_python(script, fresh_process_environment(STELLAR_PROFILING=" Off "), without_pth_files=True)
        assert completed.returncode == 0, completed.stderr
