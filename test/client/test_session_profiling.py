"""`hummingbot_stellar_cli.session_profiling`: the client finds (or starts) the session's profiler and writes its
report when the session ends, also where the distribution's `.pth` line is not installed."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from hummingbot_stellar_cli import session_profiling
from hummingbot_stellar_cli.home import HomeError

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_off_means_no_profiler(monkeypatch):
    for value in ("", "0", "off", " No "):
        monkeypatch.setenv("STELLAR_PROFILING", value)
        assert not session_profiling.requested()
        assert session_profiling.start_if_requested() is None
    session_profiling.write_report(None)  # nothing to write, nothing raised


def test_without_any_profiling_package_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setenv("STELLAR_PROFILING", "1")
    monkeypatch.setattr(session_profiling, "AUTOSTART_MODULES", ("no_such_profiling_package.autostart",))
    with pytest.raises(HomeError, match="pip install hummingbot-stellar"):
        session_profiling.start_if_requested()


def test_without_the_pth_line_the_client_starts_the_profiler_and_writes_the_report(tmp_path):
    config = tmp_path / "profiling.yml"
    config.write_text(yaml.safe_dump({"output_dir": str(tmp_path / "reports"), "yappi": False, "memray": False,
                                      "sample_interval_s": 0.01, "scenario": "no pth"}), encoding="utf-8")
    script = (
        "import sys\n"
        "assert not [n for n in sys.modules if 'profiling' in n]  # no .pth line ran\n"
        "from hummingbot_stellar_cli import session_profiling\n"
        "autostart = session_profiling.start_if_requested()\n"
        "assert autostart.__name__ in session_profiling.AUTOSTART_MODULES, autostart.__name__\n"
        "assert session_profiling.start_if_requested() is autostart\n"
        "from hummingbot.connector.exchange.stellar import stellar_measurement as m\n"
        "m.record_value(m.ORDER_CREATE_ACK, 7_000_000)\n"
        "session_profiling.write_report(autostart)\n"
        "assert autostart.active_profiler() is None\n"
    )
    site_packages = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    environment.update(STELLAR_PROFILING=str(config), PYTHONPATH=os.pathsep.join([str(REPO_ROOT), *site_packages]))
    completed = subprocess.run([sys.executable, "-S", "-c", script], cwd=tmp_path, env=environment,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-3000:]
    reports = list((tmp_path / "reports").glob("*/report.json"))
    assert len(reports) == 1
    assert f"Profiling report: {reports[0].parent / 'report.md'}" in completed.stdout
    assert "STELLAR_PROFILING: report written" not in completed.stderr  # once, by the client, not again at exit
    assert json.loads(reports[0].read_text())["latency"]["points"]["order_create.ack"]["avg_ms"] == 7.0
