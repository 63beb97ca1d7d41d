"""STELLAR_PROFILING in Hummingbot's real client: a session driven through a pseudo-terminal (`start`, a fill,
`stop`, `exit`) writes the profiling report when it ends, with the sections `python -m profiling run` writes:
SLA verdicts, latency per operation from the connector's measuring points, bottlenecks (yappi), memory, CPU,
plots. The profiler comes from the distribution's `.pth` line at interpreter start-up, or, where that line is
not installed, from the client itself (`hummingbot_stellar_cli.session_profiling`)."""
from __future__ import annotations

import json
import re

import pytest
import yaml

from test.client.driver import ClientSession, DemoSandbox

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

REPORT_SECTIONS = ("## SLA status", "## Latency per operation", "## Memory", "## CPU", "## Primary bottlenecks",
                   "## Plots", "## Performance Criteria (qa_ids)")


@pytest.fixture
def sandbox(tmp_path):
    network = DemoSandbox(tmp_path)
    yield network
    network.stop()


def test_an_interactive_session_writes_the_profiling_report_at_exit(tmp_path, sandbox):
    config = tmp_path / "conf_stellar_profiling.yml"
    # memray off: its reporters take a while on 2 shared cores; yappi on, for the bottleneck tables
    config.write_text(yaml.safe_dump({"output_dir": str(tmp_path / "reports"), "memray": False, "yappi": True,
                                      "scenario": "client session test"}), encoding="utf-8")
    session = ClientSession(tmp_path / "home", ["--sandbox", str(sandbox.demo_file)],
                            env={"STELLAR_PROFILING": str(config)})
    try:
        session.wait_for(r"is loaded: type `start`", 120)
        assert "Profiling is on (STELLAR_PROFILING): the report is written when the session ends (`exit`)" \
            in session.text()
        session.command("start")
        session.wait_for(r"started successfully", 60)
        session.wait_for(r"(BUY|SELL) order [\d.]+ XLM @ [\d.]+ USDC is filled", 90)
        session.command("stop")
        session.wait_for(r"Hummingbot stopped\.", 60)
        assert not list((tmp_path / "reports").glob("*/report.json"))  # written when the session ends
        session.command("exit")
        last_output = session.wait_exit(timeout=180)
    finally:
        session.close()

    reports = list((tmp_path / "reports").glob("*/report.json"))
    assert len(reports) == 1, last_output[-3000:]
    folder = reports[0].parent
    assert re.search(rf"Profiling report: {re.escape(str(folder / 'report.md'))}", last_output), last_output[-3000:]
    assert "left on the sandbox's book: 0" in last_output
    assert sandbox.account_offers() == []

    data = json.loads(reports[0].read_text(encoding="utf-8"))
    assert data["scenario"] == "client session test"
    assert {"order_create.ack", "order_cancel.ack", "fill.processing", "book.update"} <= set(data["latency"]["points"])
    status = {target["target"]: target["status"] for target in data["sla"]}
    assert status["order operations"] != "not measured" and status["market data"] != "not measured", status
    assert data["bottlenecks"]["connector"], "yappi saw none of the connector's functions"
    assert data["plots"] == {"latency_distribution": "latency_distribution.png", "resources": "resources.png"}
    assert (folder / "latency_distribution.png").is_file() and (folder / "yappi.prof").is_file()
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    for section in REPORT_SECTIONS:
        assert section in markdown, section
