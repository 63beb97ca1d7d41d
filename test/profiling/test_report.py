import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from profiling.criteria import (
    AT_RISK,
    FAILING,
    MEETING,
    NOT_MEASURED,
    evaluate,
    load_catalogue,
    verdict,
    worst,
)
from profiling.report import SCHEMA_PATH, ReportInput, build_report_data, render_markdown, write_report

CATALOGUE = load_catalogue(Path(__file__).resolve().parents[2] / "qa" / "quality_catalogue.yml")
STARTED = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
SECTIONS = [
    "# Performance report",
    "## SLA status",
    "## Latency per operation",
    "## Throughput",
    "## Memory",
    "## CPU",
    "## Network",
    "## Horizon requests against the budget",
    "## Connector time vs network/ledger waiting",
    "## Primary bottlenecks",
    "## Recommendations",
    "## Plots",
    "## Performance Criteria (qa_ids)",
]
KIND_OF = {"order_create.ack": "end_to_end", "order_cancel.ack": "end_to_end", "book.snapshot": "end_to_end",
           "tx.submit": "network", "horizon./order_book": "network", "rpc.getFeeStats": "network"}


# ---------------------------------------------------------------------------------------------
# A tiny JSON Schema validator (the subset report_schema.json uses): jsonschema is not installed.

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _is_type(value, name):
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def schema_errors(value, schema, root=None, path="$"):
    root = root or schema
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return schema_errors(value, root["$defs"][name], root, path)
    errors = []
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(value, name) for name in names):
            return [f"{path}: {value!r} is not of type {names}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: {value!r} != {schema['const']!r}")
    if isinstance(value, dict):
        errors += [f"{path}: missing {key}" for key in schema.get("required", []) if key not in value]
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                errors += schema_errors(item, properties[key], root, f"{path}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += schema_errors(item, schema["additionalProperties"], root, f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: unexpected {key}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            errors += schema_errors(item, schema["items"], root, f"{path}[{index}]")
    return errors


SCHEMA = json.loads(SCHEMA_PATH.read_text())


# ---------------------------------------------------------------------------------------------
# Crafted figures


def point_stats(name, value=1.0, count=200):
    return {"point": name, "kind": KIND_OF.get(name, "connector"), "count": count, "rate_per_s": count / 60,
            "avg_ms": value, "min_ms": value / 2, "p50_ms": value, "p95_ms": value, "p99_ms": value,
            "p999_ms": value, "max_ms": value, "total_ms": value * count, "exact": True, "max_relative_error": 0.0}


def figures_at(fraction_of_threshold, *, skip=()):
    """Figures that put every criterion (except those in `skip`) at this fraction of its own threshold."""
    points = {name: point_stats(name, 0.5) for name in (
        "order_create.ack", "order_cancel.ack", "order_status.update", "fill.processing", "book.update",
        "book.snapshot", "horizon./order_book", "rpc.getFeeStats", "tx.submit", "tx.build_sign")}
    groups = {"horizon.*": point_stats("horizon.*", 0.5), "rpc.*": point_stats("rpc.*", 0.5)}
    resources = {"duration_s": 60.0, "sample_count": 120, "interval_s": 0.5, "rss_start_mb": 90.0,
                 "rss_peak_mb": 100.0, "rss_steady_mb": 100.0, "cpu_avg_percent": 1.0, "cpu_peak_percent": 5.0,
                 "cpu_count": 2, "network_interface": "lo", "net_sent_kb_per_s": 1.5, "net_recv_kb_per_s": 2.5,
                 "net_kb_per_s": 4.0}
    extra = {"disabled_hook_cost_ns": 80.0}
    touched = set()
    for criterion in CATALOGUE.criteria:
        if criterion.id in skip:
            continue
        value = criterion.threshold * fraction_of_threshold
        if criterion.source == "latency":
            target = groups if "*" in criterion.point else points
            if criterion.point not in touched:  # first figure of a point: the whole distribution around it
                touched.add(criterion.point)
                target[criterion.point] = point_stats(criterion.point, value)
            target[criterion.point][criterion.statistic] = value
        elif criterion.source == "resources":
            resources[criterion.statistic] = value
        elif criterion.source == "benchmark":
            extra[criterion.statistic] = value
    latency = {"started_at": STARTED.isoformat(), "stopped_at": None, "elapsed_s": 60.0,
               "percentile_method": "nearest-rank", "sample_cap": 100000, "points": points, "groups": groups,
               "counters": {"cache_hit.instrument": 990, "cache_miss.instrument": 10},
               "time_by_kind_ms": {"connector": 400.0, "network": 900.0, "end_to_end": 1500.0}}
    return latency, resources, extra


def requests_at(fraction_of_threshold):
    """Steady-state Horizon requests whose criteria sit at this fraction of their thresholds."""
    reads = {c.statistic: c.threshold * fraction_of_threshold for c in CATALOGUE.criteria if c.source == "requests"}
    per_hour = reads.get("reads_per_hour", 0.0)
    window = 3600.0   # an hour's window: the count is the hourly figure
    return {
        "steady_state": "from 10 s after the connector reported ready to the end of the strategy's run",
        "window_s": window, "budget_per_hour": 3600.0, "public_budget_per_hour": 3600,
        "counted_by": "the connector's measuring points", "sandbox_log": True,
        "endpoints": [
            {"endpoint": "/accounts/{account_id}/offers", "kind": "rest", "count": int(per_hour), "per_hour": per_hour,
             "budget_share": per_hour / 3600, "public_share": per_hour / 3600, "sandbox_count": int(per_hour),
             "run_count": int(per_hour) + 3},
            {"endpoint": "/transactions_async", "kind": "submit", "count": 1200, "per_hour": 1200.0,
             "budget_share": 1 / 3, "public_share": 1 / 3, "sandbox_count": 1200, "run_count": 1210},
            {"endpoint": "/accounts/{account_id}", "kind": "stream", "count": 2, "per_hour": 2.0,
             "budget_share": 2 / 3600, "public_share": 2 / 3600, "sandbox_count": 2, "run_count": 3},
        ],
        "submissions_per_hour": 1200.0, "stream_openings_per_hour": 2.0, "requests_per_hour": 1202.0 + per_hour,
        "sandbox_reads_per_hour": per_hour, "notes": [], **reads,
        "scheduled": [{"what": "Hummingbot's safety poll", "interval_s": 300.0, "reads": 2, "per_hour": 24.0}],
        "scheduled_reads_per_hour": 24.0,
    }


def nested_fill(latency):
    """fill.processing at 10 ms over 100 samples, 7.5 ms of each inside Hummingbot's MarketsRecorder."""
    latency["points"]["fill.processing"] = point_stats("fill.processing", 10.0, count=100)
    for name, avg in (("did_fill_order", 6.0), ("did_complete_order", 1.5)):
        point = "hummingbot.markets_recorder." + name
        latency["points"][point] = {**point_stats(point, avg, count=100), "kind": "hummingbot"}
    latency["nested"] = {"fill.processing": {
        "samples": 100, "point_total_ms": 1000.0, "inner_total_ms": 750.0, "share": 0.75,
        "inner_ms": {"hummingbot.markets_recorder.did_complete_order": 150.0,
                     "hummingbot.markets_recorder.did_fill_order": 600.0}}}


YAPPI = {
    "clock_type": "wall", "pstat_path": "/tmp/yappi.prof", "callgrind_path": "/tmp/yappi.callgrind",
    "function_count": 3,
    "top_by_own": [
        {"name": "OrderBook.apply_diffs", "module": "/x/hummingbot/core/data_type/order_book.py", "lineno": 10,
         "calls": 500, "total_s": 0.2, "own_s": 0.15, "origin": "hummingbot"},
        {"name": "StellarOrderBook.diff_message", "module": "/x/hummingbot/connector/exchange/stellar/"
         "stellar_order_book.py", "lineno": 42, "calls": 500, "total_s": 0.1, "own_s": 0.08, "origin": "connector"},
    ],
    "top_by_total": [],
    "top_connector": [
        {"name": "StellarOrderBook.diff_message", "module": "/x/hummingbot/connector/exchange/stellar/"
         "stellar_order_book.py", "lineno": 42, "calls": 500, "total_s": 0.1, "own_s": 0.08, "origin": "connector"},
    ],
    "top_waiting": [{"name": "EpollSelector.select", "module": "/usr/lib/python3.11/selectors.py", "lineno": 451,
                     "calls": 900, "total_s": 50.0, "own_s": 50.0, "origin": "waiting"}],
    "tasks": [{"label": "StellarAPIOrderBookDataSource.listen_for_subscriptions", "own_s": 0.3, "waiting_s": 40.0,
               "calls": 9000, "top_functions": ["StellarOrderBook.diff_message"]}],
    "threads": [],
}
SERIES = [{"t_s": t * 0.5, "rss_mb": 90.0 + t, "cpu_percent": 2.0 + (t % 3)} for t in range(20)]


def report_input(fraction=0.5, *, skip=(), series=SERIES, yappi=YAPPI, **changes):
    latency, resources, extra = figures_at(fraction, skip=skip)
    for key, value in changes.items():
        {"latency": latency, "resources": resources, "extra": extra}[key.split("__")[0]][key.split("__")[1]] = value
    return ReportInput(scenario="crafted figures", started_at=STARTED, ended_at=STARTED + timedelta(seconds=60),
                       latency=latency, resources=resources, resource_series=series, yappi=yappi, extra=extra,
                       requests=requests_at(fraction), notes=["the embedded network ran in its own process"])


def verdicts_of(data):
    return {c["id"]: c["verdict"] for c in data["criteria"]}


# ---------------------------------------------------------------------------------------------


class TestVerdict:
    @pytest.mark.parametrize("value, expected", [
        (0.0, MEETING), (39.99, MEETING), (40.0, AT_RISK), (49.99, AT_RISK), (50.0, FAILING), (75.0, FAILING),
    ])
    def test_upper_limit_strict(self, value, expected):
        assert verdict(value, "<", 50) == expected

    @pytest.mark.parametrize("value, expected", [(39.9, MEETING), (50.0, AT_RISK), (50.01, FAILING)])
    def test_upper_limit_inclusive(self, value, expected):
        assert verdict(value, "<=", 50) == expected

    @pytest.mark.parametrize("value, expected", [(200.0, MEETING), (125.01, MEETING), (125.0, AT_RISK),
                                                 (100.01, AT_RISK), (100.0, FAILING), (50.0, FAILING)])
    def test_lower_limit_strict(self, value, expected):
        assert verdict(value, ">", 100) == expected

    @pytest.mark.parametrize("value, expected", [(100.0, AT_RISK), (99.9, FAILING)])
    def test_lower_limit_inclusive(self, value, expected):
        assert verdict(value, ">=", 100) == expected

    def test_absent_figure_is_not_measured(self):
        assert verdict(None, "<", 50) == NOT_MEASURED

    def test_unknown_comparison(self):
        with pytest.raises(ValueError, match="comparison"):
            verdict(1.0, "~", 50)


class TestCriteriaVerdictsInTheReport:
    @pytest.mark.parametrize("fraction, expected", [
        (0.5, MEETING), (0.79, MEETING), (0.8, AT_RISK), (0.99, AT_RISK), (1.0, FAILING), (1.5, FAILING),
    ])
    def test_every_criterion_at_a_fraction_of_its_threshold(self, tmp_path, fraction, expected):
        paths = write_report(report_input(fraction), tmp_path, CATALOGUE)
        data = json.loads(paths.json.read_text())
        # An inclusive limit ("<=") is still met at the limit itself, at risk.
        expected_of = {c.id: AT_RISK if (fraction == 1.0 and c.comparison == "<=") else expected
                       for c in CATALOGUE.criteria}
        assert verdicts_of(data) == expected_of
        status = {target["target"]: target["status"] for target in data["sla"]}
        assert status == {c.sla: worst([expected_of[o.id] for o in CATALOGUE.criteria if o.sla == c.sla])
                          for c in CATALOGUE.criteria}

        qa_section = paths.markdown.read_text().split("## Performance Criteria (qa_ids)")[1]
        for criterion in CATALOGUE.criteria:
            row = next(line for line in qa_section.splitlines() if f"`{criterion.id}`" in line)
            assert f"**{expected_of[criterion.id]}**" in row

    def test_a_target_takes_its_worst_criterion(self):
        latency, resources, extra = figures_at(0.5, skip=("perf_rpc_call_avg",))
        latency["points"]["order_create.ack"]["p99_ms"] = 250.0  # beyond 200
        latency["groups"].pop("rpc.*")
        latency["points"].pop("rpc.getFeeStats")
        resources["rss_steady_mb"] = 210.0  # at risk: 84 % of 250
        data = build_report_data(ReportInput("x", STARTED, STARTED, latency, resources, extra=extra), CATALOGUE)
        status = {target["target"]: target["status"] for target in data["sla"]}
        assert status["order operations"] == FAILING
        assert status["memory"] == AT_RISK
        assert status["Stellar RPC"] == NOT_MEASURED
        assert status["market data"] == MEETING
        assert verdicts_of(data)["perf_order_create_avg"] == MEETING

    def test_a_group_without_its_combined_figures_gets_average_and_max_only(self):
        latency = {"points": {"horizon./a": point_stats("horizon./a", 30.0, count=1),
                              "horizon./b": point_stats("horizon./b", 100.0, count=3)}, "groups": {}}
        results = {r.criterion.id: r for r in evaluate(CATALOGUE, latency, None, None)}
        assert results["perf_horizon_call_avg"].value == pytest.approx(82.5)
        assert results["perf_horizon_call_avg"].verdict == AT_RISK


class TestReportFiles:
    def test_markdown_has_every_section_in_order(self, tmp_path):
        text = write_report(report_input(), tmp_path, CATALOGUE).markdown.read_text()
        positions = [text.index(section) for section in SECTIONS]
        assert positions == sorted(positions)
        assert "crafted figures" in text
        assert "2026-11-25T06:00:00+00:00" in text
        assert "the embedded network ran in its own process" in text

    def test_markdown_tells_the_horizon_requests_against_the_budget(self, tmp_path):
        text = write_report(report_input(), tmp_path, CATALOGUE).markdown.read_text()
        section = text.split("## Horizon requests against the budget")[1].split("## ")[0]
        assert "from 10 s after the connector reported ready" in section
        assert "| `/accounts/{account_id}/offers` | REST read | 30 | 30 | 0.83 % | 0.83 % | 30 | 33 |" in section
        assert "| `/transactions_async` | submission | 1200 | 1200 | 33% | 33% | 1200 | 1210 |" in section
        assert "REST reads: 30 an hour (criterion `perf_horizon_reads_per_hour`); by the sandbox's log 30" in section
        assert ("Periodic reads by the connector's settings, 24 an hour in all: Hummingbot's safety poll, "
                "every 300 s: 24 an hour.") in section

    def test_a_failing_request_budget_names_the_busiest_endpoints(self, tmp_path):
        data = json.loads(write_report(report_input(1.5), tmp_path, CATALOGUE).json.read_text())
        advice = next(line for line in data["recommendations"] if line.startswith("perf_horizon_reads_per_hour"))
        assert "/transactions_async (submit) 1200 an hour" in advice and "/accounts/{account_id}/offers" in advice

    def test_markdown_tells_the_figures(self, tmp_path):
        text = write_report(report_input(), tmp_path, CATALOGUE).markdown.read_text()
        latency_section = text.split("## Latency per operation")[1].split("## Throughput")[0]
        assert "| `book.update` | connector | 200 | 10 | 10 | 10 | 10 | 10 |" in latency_section
        assert "RSS peak: 125 MB" in text
        assert "Average: 7.50 % of one core" in text
        assert "Sent: 1.50 KB/s, received: 2.50 KB/s, total 4 KB/s" in text
        assert "Connector share of connector + waiting time (Hummingbot's time inside the connector's points left " \
               "out): 30.8%." in text
        bottlenecks = text.split("## Primary bottlenecks")[1]
        # our code first
        assert bottlenecks.index("StellarOrderBook.diff_message") < bottlenecks.index("OrderBook.apply_diffs")
        assert "listen_for_subscriptions" in bottlenecks

    def test_json_matches_the_schema(self, tmp_path):
        paths = write_report(report_input(0.9), tmp_path, CATALOGUE)
        data = json.loads(paths.json.read_text())
        assert schema_errors(data, SCHEMA) == []
        assert [c["id"] for c in data["criteria"]] == [c.id for c in CATALOGUE.criteria]
        assert data["criteria"][0]["threshold"] == CATALOGUE.criteria[0].threshold

    def test_json_without_optional_sessions_matches_the_schema(self, tmp_path):
        latency, _, _ = figures_at(0.5)
        bare = ReportInput("bare", STARTED, STARTED, latency)
        data = json.loads(write_report(bare, tmp_path, CATALOGUE).json.read_text())
        assert schema_errors(data, SCHEMA) == []
        assert data["resources"] is None and data["bottlenecks"] is None
        assert data["plots"]["resources"] is None
        assert verdicts_of(data)["perf_rss_peak"] == NOT_MEASURED

    def test_the_validator_catches_a_broken_report(self):
        data = build_report_data(report_input(), CATALOGUE, {"latency_distribution": None, "resources": None})
        del data["criteria"]
        data["sla"][0]["status"] = "fine"
        errors = schema_errors(data, SCHEMA)
        assert any("missing criteria" in error for error in errors)
        assert any("'fine'" in error for error in errors)

    def test_plots_are_png_files(self, tmp_path):
        paths = write_report(report_input(), tmp_path, CATALOGUE)
        for name in ("latency_distribution", "resources"):
            assert paths.plots[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        data = json.loads(paths.json.read_text())
        assert data["plots"] == {"latency_distribution": "latency_distribution.png", "resources": "resources.png"}
        assert "![RSS and CPU over time](resources.png)" in paths.markdown.read_text()

    def test_plots_are_drawn_into_a_folder_named_relative_to_the_working_directory(self, tmp_path, monkeypatch):
        # A Hummingbot session profiled by STELLAR_PROFILING writes into reports/profiling/... of its working
        # directory; the plots' child process runs elsewhere.
        monkeypatch.chdir(tmp_path)
        paths = write_report(report_input(), Path("reports") / "session", CATALOGUE)
        data = json.loads(paths.json.read_text())
        assert not [note for note in data["notes"] if note.startswith("Plots:")], data["notes"]
        for name in ("latency_distribution", "resources"):
            assert paths.plots[name] == tmp_path / "reports" / "session" / f"{name}.png"
            assert paths.plots[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class TestRecommendations:
    def test_order_path_dominated_by_horizon(self):
        latency, resources, extra = figures_at(0.5)
        latency["points"]["order_create.ack"]["avg_ms"] = 60.0
        latency["points"]["tx.submit"]["avg_ms"] = 48.0
        latency["points"]["tx.build_sign"]["avg_ms"] = 3.0
        data = build_report_data(ReportInput("x", STARTED, STARTED, latency, resources, extra=extra), CATALOGUE)
        advice = next(line for line in data["recommendations"] if line.startswith("perf_order_create_avg"))
        assert "failing" in advice
        assert "the largest part is submitting to horizon until its answer" in advice.lower()
        assert "12 ms lie between the strategy's call and the start of the build" in advice

    def test_an_order_path_dominated_by_a_span_no_point_covers_gets_no_invented_cause(self):
        latency, resources, extra = figures_at(0.5)
        latency["points"]["order_create.ack"]["avg_ms"] = 45.0
        latency["points"]["tx.submit"]["avg_ms"] = 7.0  # includes the 2 ms of building and signing
        latency["points"]["tx.build_sign"]["avg_ms"] = 2.0
        data = build_report_data(ReportInput("x", STARTED, STARTED, latency, resources, extra=extra), CATALOGUE)
        advice = next(line for line in data["recommendations"] if line.startswith("perf_order_create_avg"))
        assert "at risk" in advice
        assert "building and signing (tx.build_sign) 2 ms, submitting to Horizon until its answer (tx.submit minus " \
               "tx.build_sign) 5 ms; 38 ms lie between the strategy's call and the start of the build" in advice
        assert "cannot say what it is spent on" in advice
        # No wait that nothing measured is named as the cause, nor a cure for it.
        assert "coalescing" not in advice and "channel" not in advice

    def test_every_piece_of_advice_names_a_measured_figure(self):
        latency, resources, extra = figures_at(1.2)
        nested_fill(latency)
        data = build_report_data(ReportInput("x", STARTED, STARTED, latency, resources, extra=extra), CATALOGUE)
        text = " ".join(data["recommendations"])
        assert "coalescing" not in text
        for line in data["recommendations"]:
            assert any(char.isdigit() for char in line), line

    def test_time_inside_hummingbots_markets_recorder_is_told_apart_with_its_share(self):
        latency, resources, extra = figures_at(0.5)
        nested_fill(latency)
        data = build_report_data(ReportInput("x", STARTED, STARTED, latency, resources, extra=extra), CATALOGUE)
        advice = next(line for line in data["recommendations"] if line.startswith("Of fill.processing's"))
        assert "Of fill.processing's 10 ms a sample on average, 7.50 ms (75%) were inside Hummingbot's " \
               "MarketsRecorder" in advice
        assert "did_fill_order 6 ms, did_complete_order 1.50 ms a sample" in advice
        assert "the connector's own part is 2.50 ms" in advice
        assert "That time is Hummingbot's, not the connector's" in advice
        assert data["time_split"]["hummingbot_inside_connector_ms"] == pytest.approx(750.0)
        assert data["hummingbot_time"]["markets_recorder"] is True
        assert schema_errors(data, SCHEMA) == []
        text = render_markdown(data)
        assert "### Inside the connector's points: Hummingbot's MarketsRecorder" in text
        row = "| `fill.processing` | 100 | 10 | 7.50 | 75% | did_complete_order 150 ms, did_fill_order 600 ms |"
        assert row in text

    def test_a_long_tail_of_the_user_stream_cites_the_fills_it_contains(self):
        latency, resources, extra = figures_at(0.5)
        nested_fill(latency)
        latency["points"]["user_stream.event"] = {**point_stats("user_stream.event", 0.1, count=200), "p99_ms": 9.0}
        data = build_report_data(ReportInput("x", STARTED, STARTED, latency, resources, extra=extra), CATALOGUE)
        advice = next(line for line in data["recommendations"] if line.startswith("user_stream.event has a long"))
        assert "It contains fill.processing (for the account's trade events): Of fill.processing's 10 ms" in advice

    def test_without_a_markets_recorder_the_report_says_none_ran(self):
        data = build_report_data(report_input(0.5), CATALOGUE)
        assert data["hummingbot_time"]["markets_recorder"] is False
        assert "MarketsRecorder (the trade database a Hummingbot session keeps) did not run" in render_markdown(data)

    def test_low_cache_hit_ratio_and_long_tail(self):
        latency, resources, extra = figures_at(0.5)
        latency["counters"] = {"cache_hit.config": 40, "cache_miss.config": 60}
        latency["points"]["book.update"].update(p50_ms=0.5, p99_ms=9.0)
        data = build_report_data(ReportInput("x", STARTED, STARTED, latency, resources, extra=extra), CATALOGUE)
        text = " ".join(data["recommendations"])
        assert "config cache hits 40% of 100 lookups" in text
        assert "book.update has a long tail" in text

    def test_network_waiting_outweighing_the_connector(self):
        latency, resources, extra = figures_at(0.5)
        latency["time_by_kind_ms"] = {"connector": 100.0, "network": 900.0, "end_to_end": 0.0}
        data = build_report_data(ReportInput("x", STARTED, STARTED, latency, resources, extra=extra), CATALOGUE)
        assert any("outweighs the connector's own processing" in line for line in data["recommendations"])

    def test_memory_advice_names_the_allocation_sites(self):
        latency, resources, extra = figures_at(0.5)
        resources["rss_peak_mb"] = 260.0
        memray = {"capture_path": "m.bin", "flamegraph_path": "m.html", "stats_path": None, "peak_memory_mb": 80.0,
                  "total_allocations": 10, "native_traces": False, "aggregated": True, "errors": [],
                  "top_sites_at_peak": [{"location": "parse stellar_order_book.py:12", "bytes": 50 * 2**20,
                                         "allocations": 3}]}
        data = build_report_data(ReportInput("x", STARTED, STARTED, latency, resources, memray=memray, extra=extra),
                                 CATALOGUE)
        advice = next(line for line in data["recommendations"] if line.startswith("perf_rss_peak"))
        assert "parse stellar_order_book.py:12 50 MB" in advice
        assert schema_errors(data, SCHEMA) == []

    def test_nothing_to_advise_when_everything_has_margin(self):
        data = build_report_data(report_input(0.5), CATALOGUE)
        assert len(data["recommendations"]) == 1
        assert "call for no change" in data["recommendations"][0]

    def test_unmeasured_criteria_are_listed(self):
        latency, resources, extra = figures_at(0.5)
        latency["points"].pop("book.snapshot")
        data = build_report_data(ReportInput("x", STARTED, STARTED, latency, resources, extra=extra), CATALOGUE)
        assert any("perf_book_snapshot_max" in line and "not measured" in line for line in data["recommendations"])


class TestCatalogue:
    def test_holds_the_criteria_the_report_promises(self):
        ids = {criterion.id for criterion in CATALOGUE.criteria}
        assert ids >= {"perf_order_create_avg", "perf_order_create_p99", "perf_order_cancel_avg",
                       "perf_book_update_avg", "perf_book_snapshot_max", "perf_horizon_call_avg",
                       "perf_rpc_call_avg", "perf_rss_peak", "perf_rss_steady", "perf_cpu_avg",
                       "perf_disabled_hook_cost"}
        assert CATALOGUE.latency_patterns() == ["horizon.*", "rpc.*"]

    def write(self, tmp_path, criteria):
        path = tmp_path / "catalogue.yml"
        path.write_text(yaml.safe_dump({"sla_targets": [{"name": "cpu", "statement": "< 15 %"}],
                                        "criteria": criteria}))
        return path

    def criterion(self, **changes):
        entry = {"id": "perf_cpu_avg", "title": "CPU", "sla": "cpu", "source": "resources",
                 "statistic": "cpu_avg_percent", "comparison": "<", "threshold": 15, "unit": "%",
                 "measured_by": "sampler"}
        entry.update(changes)
        return entry

    def test_reads_a_valid_catalogue(self, tmp_path):
        catalogue = load_catalogue(self.write(tmp_path, [self.criterion()]))
        assert catalogue.criteria[0].threshold == 15.0

    def test_rejects_duplicate_ids(self, tmp_path):
        with pytest.raises(ValueError, match="duplicate"):
            load_catalogue(self.write(tmp_path, [self.criterion(), self.criterion()]))

    def test_rejects_an_unknown_comparison(self, tmp_path):
        with pytest.raises(ValueError, match="comparison"):
            load_catalogue(self.write(tmp_path, [self.criterion(comparison="less")]))

    def test_rejects_a_missing_field(self, tmp_path):
        entry = self.criterion()
        del entry["threshold"]
        with pytest.raises(ValueError, match="threshold"):
            load_catalogue(self.write(tmp_path, [entry]))

    def test_rejects_an_unknown_sla_target(self, tmp_path):
        with pytest.raises(ValueError, match="memory"):
            load_catalogue(self.write(tmp_path, [self.criterion(sla="memory")]))

    def test_a_missing_file_says_how_to_point_at_one(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="STELLAR_QA_CATALOGUE"):
            load_catalogue(tmp_path / "absent.yml")
