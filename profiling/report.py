"""The profiling report: `report.md`, `report.json` and PNG plots, from the measured figures.

Inputs are plain data (`ReportInput`): the recorder snapshot, the sampler summary and series,
yappi's and memray's results as dicts, the memory marks, and benchmark figures. Thresholds come from the
quality catalogue (`profiling.criteria`). `report.json` follows `profiling/report_schema.json`; the
markdown is rendered from the same data, so both always tell the same figures. The plots are drawn in a
child process (`profiling.plots`), so matplotlib never enters the profiled process.

Every recommendation cites a figure this run measured (a point, a difference of two points that cover one
interval, a memory mark, a profiler's table); a span no point covers is named as such, never given a cause.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from .criteria import (
    AT_RISK,
    FAILING,
    NOT_MEASURED,
    Catalogue,
    CriterionResult,
    evaluate,
    load_catalogue,
    worst,
)

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("report_schema.json")
DEFAULT_COMPONENT = "hummingbot-stellar connector (hummingbot.connector.exchange.stellar)"
_CACHE_HIT_PREFIX = "cache_hit."
_CACHE_MISS_PREFIX = "cache_miss."
_LONG_TAIL_FACTOR = 10  # p99 this many times the median marks a long tail
_LONG_TAIL_MIN_COUNT = 100
_CACHE_MIN_LOOKUPS = 50
_CACHE_MIN_HIT_RATIO = 0.9
_NETWORK_DOMINANCE = 4  # network waiting this many times the connector's own time
_TOP_ROWS = 10
_HUMMINGBOT_SHARE_ADVICE = 0.25  # Hummingbot's code this share of a connector point's time: say whose time it is
_MARKETS_RECORDER_PREFIX = "hummingbot.markets_recorder."
# Connector points that run another point inside them (the connector's code): (inner point, on which path).
_CONTAINS = {"user_stream.event": (("fill.processing", "the account's trade events"),)}
_KIND_TITLES = {"rest": "REST read", "submit": "submission", "stream": "stream opening"}
_HOLDER_TITLES = {
    "process": "the process before profiling",
    "python": "Python",
    "hummingbot": "Hummingbot",
    "connector": "the connector (with stellar-sdk)",
    "strategy": "the strategy (Hummingbot's)",
    "runner": "the profiling runner",
    "profilers": "the profilers",
    "session": "the run's growth",
}


@dataclass
class ReportInput:
    scenario: str
    started_at: datetime
    ended_at: datetime
    latency: Mapping[str, Any]  # LatencyRecorder.snapshot()
    resources: Optional[Mapping[str, Any]] = None  # ResourceSummary.to_dict()
    resource_series: Sequence[Mapping[str, float]] = ()  # [{"t_s", "rss_mb", "cpu_percent"}]
    yappi: Optional[Mapping[str, Any]] = None  # YappiResult.to_dict()
    memray: Optional[Mapping[str, Any]] = None  # MemrayResult.to_dict()
    memory_marks: Sequence[Mapping[str, Any]] = ()  # MemoryMarks.to_list(): RSS at named steps
    extra: Mapping[str, float] = field(default_factory=dict)  # benchmark figures, e.g. disabled_hook_cost_ns
    requests: Optional[Mapping[str, Any]] = None  # the connector's Horizon requests in steady state (horizon_requests)
    component: str = DEFAULT_COMPONENT
    notes: Sequence[str] = ()  # facts about the setup the reader needs (how the network ran, ...)


@dataclass(frozen=True)
class ReportPaths:
    markdown: Path
    json: Path
    plots: Dict[str, Optional[Path]]


def write_report(report_input: ReportInput, output_dir: Path | str,
                 catalogue: Optional[Catalogue | Path | str] = None) -> ReportPaths:
    """Write report.md, report.json and the plots into `output_dir`."""
    from .plots import draw_in_child_process

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if not isinstance(catalogue, Catalogue):
        catalogue = load_catalogue(catalogue)
    limits = {c.statistic: c.threshold for c in catalogue.criteria if c.source == "resources"}
    spec = {
        "latency_points": dict(report_input.latency.get("points") or {}),
        "latency_path": str(output_dir / "latency_distribution.png"),
        "resource_series": list(report_input.resource_series),
        "resources_path": str(output_dir / "resources.png"),
        "rss_limit_mb": limits.get("rss_peak_mb"),
        "cpu_limit_percent": limits.get("cpu_avg_percent"),
    }
    plot_paths, plot_error = draw_in_child_process(spec, output_dir / ".plots.json")
    data = build_report_data(report_input, catalogue,
                             {name: path.name if path else None for name, path in plot_paths.items()})
    if plot_error:
        data["notes"].append(f"Plots: {plot_error}.")
    json_path = output_dir / "report.json"
    json_path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    markdown_path = output_dir / "report.md"
    markdown_path.write_text(render_markdown(data), encoding="utf-8")
    return ReportPaths(markdown=markdown_path, json=json_path, plots=plot_paths)


# ---------------------------------------------------------------------------------------------
# Figures


def build_report_data(report_input: ReportInput, catalogue: Catalogue,
                      plot_files: Optional[Mapping[str, Optional[str]]] = None) -> dict:
    """Every figure of the report as JSON-ready data (see report_schema.json)."""
    latency = report_input.latency
    results = evaluate(catalogue, latency, report_input.resources, report_input.extra, report_input.requests)
    data = {
        "schema_version": SCHEMA_VERSION,
        "component": report_input.component,
        "scenario": report_input.scenario,
        "started_at": report_input.started_at.isoformat(),
        "ended_at": report_input.ended_at.isoformat(),
        "duration_s": max(0.0, (report_input.ended_at - report_input.started_at).total_seconds()),
        "catalogue": str(catalogue.path),
        "sla": _sla_status(catalogue, results),
        "criteria": [result.to_dict() for result in results],
        "latency": {
            "percentile_method": latency.get("percentile_method", "nearest-rank"),
            "points": dict(latency.get("points") or {}),
            "groups": dict(latency.get("groups") or {}),
        },
        "throughput": _throughput(latency),
        "cache": _cache_figures(latency.get("counters") or {}),
        "time_split": _time_split(latency.get("time_by_kind_ms") or {}, latency.get("nested") or {}),
        "hummingbot_time": _hummingbot_time(latency),
        "resources": dict(report_input.resources) if report_input.resources else None,
        "memory": _memory_figures(report_input),
        "memray": dict(report_input.memray) if report_input.memray else None,
        "bottlenecks": _bottlenecks(report_input.yappi),
        "recommendations": [],
        "plots": dict(plot_files or {"latency_distribution": None, "resources": None}),
        "extra": dict(report_input.extra),
        "requests": dict(report_input.requests) if report_input.requests else None,
        "notes": list(report_input.notes),
    }
    data["recommendations"] = recommendations(data, results)
    return data


def _sla_status(catalogue: Catalogue, results: List[CriterionResult]) -> List[dict]:
    statements = {target.name: target.statement for target in catalogue.targets}
    order = [target.name for target in catalogue.targets]
    order += [r.criterion.sla for r in results if r.criterion.sla not in order]
    status = []
    for name in dict.fromkeys(order):
        members = [r for r in results if r.criterion.sla == name]
        if not members:
            continue
        status.append({
            "target": name,
            "statement": statements.get(name, ""),
            "status": worst([r.verdict for r in members]),
            "criteria": [r.criterion.id for r in members],
            "measured": sum(r.verdict != NOT_MEASURED for r in members),
        })
    return status


def _throughput(latency: Mapping[str, Any]) -> dict:
    elapsed = latency.get("elapsed_s") or 0.0
    points = {name: {"count": entry["count"], "rate_per_s": entry["rate_per_s"]}
              for name, entry in (latency.get("points") or {}).items()}
    counters = {name: {"count": n, "rate_per_s": n / elapsed if elapsed > 0 else 0.0}
                for name, n in (latency.get("counters") or {}).items()}
    return {"elapsed_s": elapsed, "points": points, "counters": counters}


def _cache_figures(counters: Mapping[str, int]) -> dict:
    tags = {name[len(_CACHE_HIT_PREFIX):] for name in counters if name.startswith(_CACHE_HIT_PREFIX)}
    tags |= {name[len(_CACHE_MISS_PREFIX):] for name in counters if name.startswith(_CACHE_MISS_PREFIX)}
    figures = {}
    for tag in sorted(tags):
        hits = counters.get(_CACHE_HIT_PREFIX + tag, 0)
        misses = counters.get(_CACHE_MISS_PREFIX + tag, 0)
        lookups = hits + misses
        figures[tag] = {"hits": hits, "misses": misses, "hit_ratio": hits / lookups if lookups else None}
    return figures


def _time_split(by_kind: Mapping[str, float], nested: Mapping[str, Mapping[str, Any]] = None) -> dict:
    connector = float(by_kind.get("connector", 0.0))
    network = float(by_kind.get("network", 0.0))
    # Time inside Hummingbot's code that ran within the connector's points: measured, and not the connector's.
    inside = sum(float(entry.get("inner_total_ms", 0.0)) for entry in (nested or {}).values())
    own = max(0.0, connector - inside)
    both = own + network
    return {
        "connector_ms": connector,
        "network_ms": network,
        "end_to_end_ms": float(by_kind.get("end_to_end", 0.0)),
        "hummingbot_inside_connector_ms": inside,
        "connector_share": own / both if both > 0 else None,
    }


def _hummingbot_time(latency: Mapping[str, Any]) -> dict:
    """Time in Hummingbot's code timed by the profiler: its points, and their part of each enclosing point."""
    points = {name: entry for name, entry in (latency.get("points") or {}).items()
              if entry.get("kind") == "hummingbot"}
    return {
        "markets_recorder": any(name.startswith(_MARKETS_RECORDER_PREFIX) for name in points),
        "points": {name: {"count": entry["count"], "avg_ms": entry["avg_ms"], "total_ms": entry.get("total_ms")}
                   for name, entry in points.items()},
        "nested": dict(latency.get("nested") or {}),
    }


def _memory_figures(report_input: ReportInput) -> dict:
    """Who holds the process's memory: the marks (RSS at named steps), summed per holder, the sampler's view
    of the run, and the profilers' own figures."""
    marks = [dict(mark) for mark in report_input.memory_marks]
    by_holder: Dict[str, float] = {}
    for mark in marks:
        by_holder[mark["holder"]] = by_holder.get(mark["holder"], 0.0) + float(mark["added_mb"])
    yappi = report_input.yappi or {}
    memray = report_input.memray or {}
    components = memray.get("by_component_at_peak") or {}
    return {
        "marks": marks,
        "by_holder_mb": by_holder,
        "yappi_statistics_mb": yappi.get("memory_mb"),
        "memray_python_stacks": memray.get("python_stacks") if memray else None,
        "memray_connector_mb": (components.get("connector") or {}).get("mb") if memray.get("python_stacks")
        else None,
    }


def _bottlenecks(yappi_result: Optional[Mapping[str, Any]]) -> Optional[dict]:
    if not yappi_result:
        return None
    others = [f for f in yappi_result.get("top_by_own") or [] if f.get("origin") != "connector"]
    return {
        "clock_type": yappi_result.get("clock_type", "wall"),
        "connector": list(yappi_result.get("top_connector") or [])[:_TOP_ROWS],
        "connector_by_total": list(yappi_result.get("top_connector_by_total") or [])[:_TOP_ROWS],
        "other": others[:_TOP_ROWS],
        "tasks": list(yappi_result.get("tasks") or [])[:_TOP_ROWS],
        "waiting": list(yappi_result.get("top_waiting") or []),
        "pstat_path": yappi_result.get("pstat_path"),
        "callgrind_path": yappi_result.get("callgrind_path"),
    }


# ---------------------------------------------------------------------------------------------
# Recommendations: each rule reads figures and says what they point to; no figure, no advice.


def recommendations(data: Mapping[str, Any], results: Sequence[CriterionResult]) -> List[str]:
    advice: List[str] = []
    for result in results:
        if result.verdict in (FAILING, AT_RISK):
            advice.append(_criterion_advice(result, data))
    advice += _hummingbot_share_advice(data)
    advice += _long_tail_advice(data)
    advice += _cache_advice(data)
    advice += _network_share_advice(data)
    unmeasured = [r for r in results if r.verdict == NOT_MEASURED]
    if unmeasured:
        ids = ", ".join(r.criterion.id for r in unmeasured)
        advice.append(f"{len(unmeasured)} criteria were not measured by this scenario ({ids}); "
                      "their `measured_by` entries in the quality catalogue say what produces them.")
    if not advice:
        advice.append("Every criterion meets its limit with more than 20 % margin and no rule below the "
                      "limits fired (long tails, cache hit ratios, network share): these figures call for no change.")
    return advice


def _criterion_advice(result: CriterionResult, data: Mapping[str, Any]) -> str:
    c = result.criterion
    head = (f"{c.id} is {result.verdict}: {_number(result.value)} {c.unit} against a limit of "
            f"{c.comparison} {_number(c.threshold)} {c.unit}.")
    if c.source == "latency" and c.point and c.point.endswith(".ack"):
        return f"{head} {_order_path_breakdown(result.value, data)}"
    if c.source == "latency" and c.point and "*" in c.point:
        return f"{head} {_slowest_members(c.point, data)}"
    if c.source == "latency" and c.point and _inside_hummingbot(c.point, data):
        return f"{head} {_inside_hummingbot(c.point, data)}"
    if c.source == "latency":
        return f"{head} {_connector_totals(data)}"
    if c.statistic.startswith("rss"):
        return f"{head} {_memory_advice(data)}"
    if c.statistic.startswith("cpu"):
        return f"{head} {_hot_functions(data, 'The CPU goes first to')}"
    if c.source == "requests":
        return f"{head} {_busiest_endpoints(data)}"
    if c.statistic == "disabled_hook_cost_ns":
        return (f"{head} A disabled measuring point must stay a global lookup and a None check: look for work "
                "added before that check in stellar_measurement.")
    return head


def _busiest_endpoints(data: Mapping[str, Any]) -> str:
    rows = [row for row in (data.get("requests") or {}).get("endpoints") or [] if row["count"]]
    if not rows:
        return "No request was counted in the steady window."
    listed = "; ".join(f"{row['endpoint']} ({row['kind']}) {_number(row['per_hour'])} an hour"
                       for row in sorted(rows, key=lambda row: -row["per_hour"])[:3])
    return (f"In steady state: {listed}. A read that recurs less often than the window "
            f"({_number(data['requests']['window_s'])} s) counts only when it falls inside it, as the hourly "
            "figure it makes: see the Horizon requests section.")


def _order_path_breakdown(value: Optional[float], data: Mapping[str, Any]) -> str:
    """Split an acknowledgement's latency by the measuring points that cover its parts; a part no point covers
    is named as such, and no cause is given for it."""
    points = data["latency"]["points"]
    submit = (points.get("tx.submit") or {}).get("avg_ms")  # from the build's start to Horizon's answer
    build = (points.get("tx.build_sign") or {}).get("avg_ms")
    if value is None or submit is None:
        return ("No tx.submit figure to split it by (tx.submit times a transaction from the start of its build to "
                "Horizon's answer); " + _hot_functions(data, "the connector functions with the most own time are"))
    build = min(build or 0.0, submit)
    parts = {
        "building and signing (tx.build_sign)": build,
        "submitting to Horizon until its answer (tx.submit minus tx.build_sign)": submit - build,
    }
    unmeasured = max(0.0, value - submit)
    split = ", ".join(f"{name} {_number(ms)} ms" for name, ms in parts.items())
    text = f"On average: {split}"
    if unmeasured > 0:
        text += (f"; {_number(unmeasured)} ms lie between the strategy's call and the start of the build "
                 "(the ack minus tx.submit), a span no measuring point covers")
    text += "."
    dominant = max(parts, key=parts.get)
    if unmeasured > max(parts.values()):
        return (f"{text} The largest part is that unmeasured span: this run's figures cannot say what it is "
                "spent on. A measuring point from the pipeline's submit call to the start of the transaction's "
                "build would measure it (it would hold any wait for a transaction slot).")
    lever = {
        "building and signing (tx.build_sign)": "cut the per-transaction work in the build/sign step "
                                                "(see the connector's functions by own time)",
        "submitting to Horizon until its answer (tx.submit minus tx.build_sign)":
            _submission_lever(data),
    }[dominant]
    return f"{text} The largest part is {dominant.split(' (')[0]}: {lever}."


def _submission_lever(data: Mapping[str, Any]) -> str:
    round_trip = (data["latency"]["points"].get("horizon./transactions_async") or {}).get("avg_ms")
    if round_trip is None:
        return "a Horizon closer to the bot (or a less loaded one) shortens it; the connector cannot"
    return (f"Horizon's POST /transactions_async took {_number(round_trip)} ms on average "
            "(horizon./transactions_async): a Horizon closer to the bot (or a less loaded one) shortens it; the "
            "connector cannot")


def _inside_hummingbot(point: str, data: Mapping[str, Any]) -> str:
    """What part of a connector point's time was inside Hummingbot's code timed by the profiler ('' if none)."""
    nested = (data.get("hummingbot_time") or {}).get("nested") or {}
    entry = nested.get(point)
    stats = data["latency"]["points"].get(point)
    if not entry or not stats or not entry.get("share"):
        return ""
    count = stats["count"]
    listeners = ", ".join(f"{name.removeprefix(_MARKETS_RECORDER_PREFIX)} {_number(ms / count)} ms"
                          for name, ms in sorted(entry["inner_ms"].items(), key=lambda item: -item[1]))
    whose = ("Hummingbot's MarketsRecorder (its SQL writes of each event to the trade database, made in its event "
             "listener, on the event loop)" if any(name.startswith(_MARKETS_RECORDER_PREFIX)
                                                    for name in entry["inner_ms"]) else "Hummingbot's code")
    inside_avg = entry["inner_total_ms"] / count
    return (f"Of {point}'s {_number(stats['avg_ms'])} ms a sample on average, {_number(inside_avg)} ms "
            f"({entry['share']:.0%}) were inside {whose}: {listeners} a sample (timed by the profiler's wrapper on "
            f"the recorder's listeners); the connector's own part is {_number(stats['avg_ms'] - inside_avg)} ms.")


def _hummingbot_share_advice(data: Mapping[str, Any]) -> List[str]:
    advice = []
    nested = (data.get("hummingbot_time") or {}).get("nested") or {}
    for point, entry in nested.items():
        if (entry.get("share") or 0.0) < _HUMMINGBOT_SHARE_ADVICE:
            continue
        inside = _inside_hummingbot(point, data)
        if inside:
            advice.append(f"{inside} That time is Hummingbot's, not the connector's: making {point} cheaper means "
                          "changing how Hummingbot records trades (the trade database's storage, or MarketsRecorder "
                          "writing off the event loop), not the connector.")
    return advice


def _slowest_members(pattern: str, data: Mapping[str, Any]) -> str:
    prefix = pattern.rstrip("*")
    members = [(name, entry) for name, entry in data["latency"]["points"].items() if name.startswith(prefix)]
    members.sort(key=lambda item: item[1]["avg_ms"], reverse=True)
    if not members:
        return "No individual points to break it down."
    listed = "; ".join(f"{name} avg {_number(e['avg_ms'])} ms over {e['count']} calls" for name, e in members[:3])
    return f"The slowest: {listed}. Cache or batch the slowest calls, or reach a closer server."


def _memory_advice(data: Mapping[str, Any]) -> str:
    resources = data.get("resources") or {}
    peak, steady = resources.get("rss_peak_mb"), resources.get("rss_steady_mb")
    start = resources.get("rss_start_mb")
    memory = data.get("memory") or {}
    by_holder = {holder: mb for holder, mb in (memory.get("by_holder_mb") or {}).items() if mb > 0.5}
    text = ""
    if by_holder:
        ordered = sorted(by_holder.items(), key=lambda item: -item[1])
        listed = ", ".join(f"{_HOLDER_TITLES.get(holder, holder)} {_number(mb)} MB" for holder, mb in ordered)
        largest = _HOLDER_TITLES.get(ordered[0][0], ordered[0][0])
        text = (f"By the memory marks (RSS before and after each step, see the memory section): {listed}; the "
                f"largest holder is {largest}. ")
    elif start is not None and steady is not None and steady - start < 0.2 * start:
        text = (f"The run itself added {_number(steady - start)} MB to the {_number(start)} MB held when it started: "
                "the RSS is mostly what was loaded before the measurement, not data the session accumulates. ")
    if peak is not None and steady is not None and peak > 1.2 * steady:
        text += (f"The peak ({_number(peak)} MB) is well above the steady state ({_number(steady)} MB): a burst; "
                 "the RSS plot shows when. ")
    memray = data.get("memray") or {}
    sites = memray.get("top_sites_at_peak") or []
    if sites and memray.get("python_stacks", True):
        listed = "; ".join(f"{site['location']} {_number(site['bytes'] / 2**20)} MB" for site in sites[:3])
        text += f"Largest allocation sites at memray's peak: {listed}."
    elif memray:
        text += ("memray's allocations had no Python stack (yappi held the interpreter's profile hook): run with "
                 "--no-yappi for allocation sites.")
    else:
        text += "Run with memray on to see the allocation sites."
    return text


def _hot_functions(data: Mapping[str, Any], lead: str) -> str:
    bottlenecks = data.get("bottlenecks")
    if not bottlenecks:
        return "Run with yappi on to see which functions take the time."
    parts = []
    for where, functions in (("in the connector", bottlenecks["connector"]), ("elsewhere", bottlenecks["other"])):
        if functions:
            listed = ", ".join(f"`{f['name']}` ({_number(f['own_s'])} s own)" for f in functions[:3])
            parts.append(f"{where} {listed}")
    if not parts:
        return "yappi recorded no function with own time."
    return f"{lead}: {'; '.join(parts)}."


def _connector_totals(data: Mapping[str, Any]) -> str:
    """Where a connector-side point's time goes: its functions by total time, against their own time."""
    bottlenecks = data.get("bottlenecks") or {}
    functions = (bottlenecks.get("connector_by_total") or [])[:3]
    if not functions:
        return _hot_functions(data, "Start with the connector functions with the most own time")
    listed = ", ".join(f"`{f['name']}` ({_number(f['total_s'])} s total, {_number(f['own_s'])} s own)"
                       for f in functions)
    own, total = sum(f["own_s"] for f in functions), sum(f["total_s"] for f in functions)
    where = ("almost all of it in what they call (see the function tables: Hummingbot's order tracker and the "
             "listeners of its events, stellar-sdk)" if total > 5 * own else "much of it in their own code")
    return f"The connector's functions with the most total time: {listed}; {where}."


def _long_tail_advice(data: Mapping[str, Any]) -> List[str]:
    advice = []
    for name, entry in data["latency"]["points"].items():
        if entry.get("kind") != "connector" or entry["count"] < _LONG_TAIL_MIN_COUNT:
            continue
        median = entry["p50_ms"]
        if median > 0 and entry["p99_ms"] > _LONG_TAIL_FACTOR * median:
            inside = _inside_hummingbot(name, data) or next(
                (f"It contains {inner} (for {why}): {_inside_hummingbot(inner, data)}"
                 for inner, why in _CONTAINS.get(name, ()) if _inside_hummingbot(inner, data)), "")
            cause = (inside if inside else "No measuring point inside it tells where the slow samples spend their "
                     "time: see its functions by total time in the bottleneck tables.")
            advice.append(
                f"{name} has a long tail: p99 {_number(entry['p99_ms'])} ms is "
                f"{entry['p99_ms'] / median:.0f}x its median {_number(median)} ms over {entry['count']} samples. "
                f"{cause}")
    return advice


def _cache_advice(data: Mapping[str, Any]) -> List[str]:
    advice = []
    for tag, figures in data["cache"].items():
        lookups = figures["hits"] + figures["misses"]
        ratio = figures["hit_ratio"]
        if lookups >= _CACHE_MIN_LOOKUPS and ratio is not None and ratio < _CACHE_MIN_HIT_RATIO:
            advice.append(f"The {tag} cache hits {ratio:.0%} of {lookups} lookups: raise its size or lifetime, "
                          "or find why its entries are evicted.")
    return advice


def _network_share_advice(data: Mapping[str, Any]) -> List[str]:
    split = data["time_split"]
    connector, network = split["connector_ms"], split["network_ms"]
    if connector > 0 and network > _NETWORK_DOMINANCE * connector:
        return [f"Waiting on the network and the ledger ({_number(network)} ms measured) outweighs the connector's "
                f"own processing ({_number(connector)} ms) {network / connector:.0f} to 1: latency is won on the "
                "network side (Horizon placement, fewer round trips), not by optimising the connector's code."]
    return []


# ---------------------------------------------------------------------------------------------
# Markdown


def render_markdown(data: Mapping[str, Any]) -> str:
    sections = [
        _header(data), _sla_section(data), _latency_section(data), _throughput_section(data),
        _memory_section(data), _cpu_section(data), _network_section(data), _requests_section(data),
        _time_split_section(data),
        _bottleneck_section(data), _recommendation_section(data), _plot_section(data), _criteria_section(data),
    ]
    return "\n\n".join(section.rstrip() for section in sections) + "\n"


def _header(data: Mapping[str, Any]) -> str:
    lines = [
        f"# Performance report: {data['component']}",
        "",
        f"- Component: {data['component']}",
        f"- Date: {data['started_at']} to {data['ended_at']} ({_number(data['duration_s'])} s)",
        f"- Load scenario: {data['scenario']}",
        f"- Thresholds: `{data['catalogue']}`",
        f"- Percentiles: {data['latency']['percentile_method']}",
    ]
    lines += [f"- {note}" for note in data.get("notes") or []]
    return "\n".join(lines)


def _sla_section(data: Mapping[str, Any]) -> str:
    verdicts = {c["id"]: c for c in data["criteria"]}
    rows = []
    for target in data["sla"]:
        measured = "; ".join(
            f"{cid} {_number(verdicts[cid]['value'])} {verdicts[cid]['unit']}" for cid in target["criteria"]
            if verdicts[cid]["value"] is not None) or "–"
        rows.append([target["target"], target["statement"], measured, f"**{target['status']}**"])
    legend = ("Status per target: the worst verdict among its criteria. meeting: below 80 % of the limit; "
              "at risk: 80-100 % of it; failing: beyond it; not measured: no figure in this run.")
    return "## SLA status\n\n" + _table(["target", "limit", "measured", "status"], rows) + "\n\n" + legend


def _latency_section(data: Mapping[str, Any]) -> str:
    entries = dict(data["latency"]["points"])
    entries.update({f"{name} (all)": entry for name, entry in data["latency"]["groups"].items()})
    if not entries:
        return "## Latency per operation\n\nNo measuring point recorded a sample."
    rows = [[f"`{name}`", e["kind"], e["count"], _number(e["avg_ms"]), _number(e["p50_ms"]), _number(e["p95_ms"]),
             _number(e["p99_ms"]), _number(e["max_ms"])] for name, e in entries.items()]
    note = ("All figures in milliseconds. Kinds: connector = the connector's own processing; network = waiting on "
            "Horizon, RPC or the ledger; end_to_end = both.")
    approximate = [name for name, e in entries.items() if not e.get("exact", True)]
    if approximate:
        note += (f" Percentiles of {', '.join(approximate)} come from the bounded histogram "
                 f"(within {max(e.get('max_relative_error', 0) for e in entries.values()):.2%}).")
    table = _table(["operation", "kind", "count", "avg", "p50", "p95", "p99", "max"], rows,
                   numeric=(2, 3, 4, 5, 6, 7))
    note = note.replace("end_to_end = both.", "end_to_end = both; hummingbot = inside Hummingbot's own code (timed by "
                                              "the profiler's wrappers).")
    return "## Latency per operation\n\n" + table + "\n\n" + note + _hummingbot_time_text(data)


def _hummingbot_time_text(data: Mapping[str, Any]) -> str:
    hummingbot = data.get("hummingbot_time") or {}
    if not hummingbot.get("markets_recorder"):
        return ("\n\nHummingbot's MarketsRecorder (the trade database a Hummingbot session keeps) did not run in this "
                "process: no database write is in the connector's figures.")
    text = ("\n\n### Inside the connector's points: Hummingbot's MarketsRecorder\n\nThe profiler times the "
            "MarketsRecorder's event listeners (points `hummingbot.markets_recorder.*`); a listener call that ran "
            "within a sample of an enclosing point (code that does not yield to the event loop) is that point's time "
            "spent in Hummingbot.")
    rows = []
    for point, entry in (hummingbot.get("nested") or {}).items():
        stats = data["latency"]["points"].get(point) or {}
        count = stats.get("count") or 0
        share = entry.get("share")
        rows.append([f"`{point}`", count, _number(stats.get("avg_ms")),
                     _number(entry["inner_total_ms"] / count) if count else "–",
                     "–" if share is None else f"{share:.0%}",
                     ", ".join(f"{name.removeprefix(_MARKETS_RECORDER_PREFIX)} {_number(ms)} ms"
                               for name, ms in entry["inner_ms"].items())])
    if rows:
        text += "\n\n" + _table(["connector point", "samples", "avg ms", "of which Hummingbot ms", "share",
                                  "listeners (total)"], rows, numeric=(1, 2, 3, 4))
    else:
        text += "\n\nNo listener call ran within an enclosing point in this run."
    return text


def _throughput_section(data: Mapping[str, Any]) -> str:
    throughput = data["throughput"]
    rows = [[f"`{name}`", figures["count"], _number(figures["rate_per_s"])]
            for name, figures in {**throughput["points"], **throughput["counters"]}.items()]
    text = f"## Throughput\n\nOver {_number(throughput['elapsed_s'])} s of measurement.\n\n"
    text += _table(["point or counter", "count", "per second"], rows, numeric=(1, 2)) if rows else "Nothing counted."
    if data["cache"]:
        cache_rows = [[tag, f["hits"], f["misses"], "–" if f["hit_ratio"] is None else f"{f['hit_ratio']:.1%}"]
                      for tag, f in data["cache"].items()]
        text += "\n\nCaches:\n\n" + _table(["cache", "hits", "misses", "hit ratio"], cache_rows, numeric=(1, 2, 3))
    return text


def _memory_section(data: Mapping[str, Any]) -> str:
    resources = data.get("resources")
    memory = data.get("memory") or {}
    marks = memory.get("marks") or []
    lines = ["## Memory", ""]
    if marks:
        lines += ["Who holds the process's memory: its RSS (resident pages, shared libraries included, as the SLA "
                  "counts it) at each step of the session, and what each step added.", ""]
        rows = [[mark["label"], _number(mark["rss_mb"]), _signed(mark["added_mb"]),
                 _HOLDER_TITLES.get(mark["holder"], mark["holder"]), mark["how"]] for mark in marks]
        lines.append(_table(["step", "RSS MB", "added MB", "holder", "how measured"], rows, numeric=(1, 2)))
        by_holder = memory.get("by_holder_mb") or {}
        if by_holder:
            listed = "; ".join(f"{_HOLDER_TITLES.get(holder, holder)} {_number(mb)} MB"
                               for holder, mb in sorted(by_holder.items(), key=lambda item: -item[1]))
            lines += ["", f"By holder (the steps above added up): {listed}."]
        lines.append("")
    if resources:
        lines += [
            f"- RSS peak: {_number(resources['rss_peak_mb'])} MB (the sampler, every "
            f"{_number(resources['interval_s'])} s from the profilers' start to the end of the run; it stops before "
            "yappi's statistics are collected and the report is written)",
            f"- RSS steady state (median of the second half): {_number(resources['rss_steady_mb'])} MB",
            f"- RSS at start: {_number(resources['rss_start_mb'])} MB (the sampler's first sample, before the "
            "profilers started: everything loaded and set up before the measurement)",
            f"- Growth from the start to the steady state: "
            f"{_number(resources['rss_steady_mb'] - resources['rss_start_mb'])} MB (the profilers' start, then what "
            "the session itself holds)",
        ]
    else:
        lines.append("- The resource sampler was off.")
    if memory.get("yappi_statistics_mb") is not None:
        lines.append(f"- yappi's own statistics at the end of the run: {_number(memory['yappi_statistics_mb'])} MB "
                     "(yappi.get_mem_usage(), part of the run's growth above)")
    memray = data.get("memray")
    if memray:
        # An aggregated capture keeps no count of allocations (memray's figure there counts records).
        count = "" if memray.get("aggregated") else f", {memray['total_allocations']} allocations"
        lines.append(f"- memray: peak of tracked allocations {_number(memray['peak_memory_mb'])} MB{count} (what was "
                     "allocated after its start and still live at its peak; memray's own buffers are not in it); "
                     f"flame graph `{memray.get('flamegraph_path')}`")
        components = memray.get("by_component_at_peak") or {}
        if components and memray.get("python_stacks", True):
            listed = "; ".join(f"{name} {_number(figures['mb'])} MB" for name, figures in components.items())
            lines.append(f"  - by component at the peak (the innermost frame of the connector, stellar-sdk, Hummingbot "
                         f"or profiling in each allocation's Python stack): {listed}")
        elif components:
            lines.append("  - not split by component: its allocations had no Python stack (yappi held the "
                         "interpreter's profile hook, which memray follows stacks by); run with --no-yappi for the "
                         "connector's own allocations")
        for site in (memray.get("top_sites_at_peak") or [])[:5]:
            lines.append(f"  - `{site['location']}`: {_number(site['bytes'] / 2**20)} MB in "
                         f"{site['allocations']} allocations at the peak")
        for error in memray.get("errors") or []:
            lines.append(f"  - memray reporter problem: {error}")
    return "\n".join(lines)


def _signed(value: float) -> str:
    return ("+" if value >= 0.05 else "") + _number(value)


def _cpu_section(data: Mapping[str, Any]) -> str:
    resources = data.get("resources")
    if not resources:
        return "## CPU\n\nThe resource sampler was off."
    return (f"## CPU\n\n- Average: {_number(resources['cpu_avg_percent'])} % of one core "
            f"({resources['cpu_count']} cores on the machine)\n"
            f"- Peak over one sampling interval ({_number(resources['interval_s'])} s): "
            f"{_number(resources['cpu_peak_percent'])} %")


def _network_section(data: Mapping[str, Any]) -> str:
    resources = data.get("resources")
    if not resources:
        return "## Network\n\nThe resource sampler was off."
    interface = resources.get("network_interface") or "none found"
    return (f"## Network\n\n- Interface: {interface} (machine-wide counter: an upper bound for this process)\n"
            f"- Sent: {_number(resources['net_sent_kb_per_s'])} KB/s, received: "
            f"{_number(resources['net_recv_kb_per_s'])} KB/s, total {_number(resources['net_kb_per_s'])} KB/s")


def _requests_section(data: Mapping[str, Any]) -> str:
    requests = data.get("requests")
    title = "## Horizon requests against the budget"
    if not requests:
        return f"{title}\n\nNot counted in this run (the runner counts them in steady state)."
    if not requests.get("window_s"):
        return f"{title}\n\nSteady state: {requests['steady_state']}."
    budget, public = requests["budget_per_hour"], requests["public_budget_per_hour"]
    sandbox = requests.get("sandbox_log")
    rows = []
    for row in requests["endpoints"]:
        cells = [f"`{row['endpoint']}`", _KIND_TITLES.get(row["kind"], row["kind"]), row["count"],
                 _number(row["per_hour"]), _share(row["budget_share"]), _share(row["public_share"])]
        if sandbox:
            cells.append(row["sandbox_count"])
        cells.append("–" if row.get("run_count") is None else row["run_count"])
        rows.append(cells)
    headers = ["endpoint", "kind", "in window", "per hour", f"of {_number(budget)}/h", f"of SDF's {public:,}/h"]
    if sandbox:
        headers.append("sandbox log, in window")
    headers.append("whole run")
    lines = [
        title, "",
        f"Steady state: {requests['steady_state']} ({_number(requests['window_s'])} s); counts in it extrapolated "
        f"to an hour. Budget: {_number(budget)} requests an hour for this Horizon (stellar_web_utils.rate_limits_for: "
        f"the connector's rate limits); SDF's public Horizon allows {public:,} an hour per IP address, every request "
        "counted (a stream opening too).", "",
        f"Counted by {requests['counted_by']}" + ("; the sandbox's request log of the Horizon frontend the connector "
                                                   "alone uses, alongside." if sandbox else "."), "",
        _table(headers, rows, numeric=tuple(range(2, len(headers)))), "",
        f"- REST reads: {_number(requests['reads_per_hour'])} an hour (criterion `perf_horizon_reads_per_hour`)"
        + (f"; by the sandbox's log {_number(requests['sandbox_reads_per_hour'])}" if sandbox else ""),
        f"- Submissions: {_number(requests['submissions_per_hour'])} an hour; stream openings: "
        f"{_number(requests['stream_openings_per_hour'])} an hour; every request: "
        f"{_number(requests['requests_per_hour'])} an hour ({_share(requests['requests_per_hour'] / public)} of "
        f"SDF's {public:,})",
    ]
    scheduled = requests.get("scheduled") or []
    if scheduled:
        listed = "; ".join(f"{entry['what']}, every {_number(entry['interval_s'])} s: {_number(entry['per_hour'])} "
                           "an hour" for entry in scheduled)
        lines.append(f"- Periodic reads by the connector's settings, {_number(requests['scheduled_reads_per_hour'])} "
                     f"an hour in all: {listed}. A window shorter than an interval sees that read only when one "
                     f"falls inside it, and then counts it as {_number(3600 / requests['window_s'])} an hour.")
    lines += [f"- {note}" for note in requests.get("notes") or []]
    return "\n".join(lines)


def _share(fraction: Optional[float]) -> str:
    if fraction is None:
        return "–"
    return "0 %" if fraction == 0 else f"{fraction * 100:.2g} %" if fraction < 0.1 else f"{fraction:.0%}"


def _time_split_section(data: Mapping[str, Any]) -> str:
    split = data["time_split"]
    share = split["connector_share"]
    share_text = "–" if share is None else f"{share:.1%}"
    return ("## Connector time vs network/ledger waiting\n\n"
            + _table(["", "total measured (ms)"], [
                ["connector's own processing", _number(split["connector_ms"])],
                ["waiting on network / ledger", _number(split["network_ms"])],
                ["end-to-end points (contain both; not added)", _number(split["end_to_end_ms"])],
                ["inside Hummingbot's code within the connector's points (timed; not the connector's)",
                 _number(split.get("hummingbot_inside_connector_ms", 0.0))],
            ], numeric=(1,))
            + f"\n\nConnector share of connector + waiting time (Hummingbot's time inside the connector's points "
              f"left out): {share_text}.")


def _bottleneck_section(data: Mapping[str, Any]) -> str:
    bottlenecks = data.get("bottlenecks")
    if not bottlenecks:
        return "## Primary bottlenecks\n\nyappi was off in this session."
    header = ["function", "calls", "own s", "total s", "location"]

    def rows(functions: Sequence[Mapping[str, Any]]) -> List[list]:
        return [[f"`{f['name']}`", f["calls"], _number(f["own_s"]), _number(f["total_s"]),
                 f"`{f['module']}:{f['lineno']}`"] for f in functions]

    text = (f"## Primary bottlenecks\n\nyappi, {bottlenecks['clock_type']} clock; own time excludes callees "
            f"(profile: `{bottlenecks.get('pstat_path')}`, `{bottlenecks.get('callgrind_path')}`).\n\n"
            "### The connector's functions, by own time\n\n")
    text += _table(header, rows(bottlenecks["connector"]), numeric=(1, 2, 3)) if bottlenecks["connector"] \
        else "No connector function was profiled."
    by_total = bottlenecks.get("connector_by_total") or []
    if by_total:
        text += ("\n\n### The connector's functions, by total time\n\nTotal time includes what they call: "
                 "stellar-sdk (XDR, signing), aiohttp, and Hummingbot's order tracker with the listeners its events "
                 "reach (the strategy, the trade records). Total well above own time means the cost is there, not "
                 "in the connector's code.\n\n")
        text += _table(header, rows(by_total), numeric=(1, 2, 3))
    text += "\n\n### Other code, by own time\n\n"
    other_rows = [[*row[:1], f["origin"], *row[1:]] for row, f in zip(rows(bottlenecks["other"]),
                                                                       bottlenecks["other"], strict=True)]
    text += _table(["function", "origin", *header[1:]], other_rows, numeric=(2, 3, 4)) if other_rows else "None."
    if not bottlenecks["tasks"]:
        text += ("\n\nPer asyncio task: not recorded (yappi_per_task, `--yappi-tasks`: a tag callback on every "
                 "profiled call, which costs memory and CPU of its own).")
    if bottlenecks["tasks"]:
        task_rows = [[f"`{t['label']}`", t["calls"], _number(t["own_s"]), _number(t.get("waiting_s")),
                      ", ".join(t["top_functions"])] for t in bottlenecks["tasks"]]
        text += "\n\n### Per asyncio task (by task coroutine)\n\n" + _table(
            ["task", "calls", "own s (working)", "waiting s", "top functions"], task_rows, numeric=(1, 2, 3))
    if bottlenecks["waiting"]:
        waits = ", ".join(f"`{f['name']}` {_number(f['own_s'])} s" for f in bottlenecks["waiting"])
        text += f"\n\nWaiting (wall time parked, not work; left out above): {waits}."
    return text


def _recommendation_section(data: Mapping[str, Any]) -> str:
    return "## Recommendations\n\n" + "\n".join(f"- {line}" for line in data["recommendations"])


def _plot_section(data: Mapping[str, Any]) -> str:
    lines = ["## Plots", ""]
    titles = {"latency_distribution": "Latency distribution per operation", "resources": "RSS and CPU over time"}
    for name, title in titles.items():
        file_name = data["plots"].get(name)
        lines.append(f"![{title}]({file_name})" if file_name else f"- {title}: no data.")
    return "\n".join(lines)


def _criteria_section(data: Mapping[str, Any]) -> str:
    rows = [[f"`{c['id']}`", c["title"], f"{_number(c['value'])} {c['unit']}" if c["value"] is not None else "–",
             f"{c['comparison']} {_number(c['threshold'])} {c['unit']}", f"**{c['verdict']}**", c["measured_by"]]
            for c in data["criteria"]]
    return "## Performance Criteria (qa_ids)\n\n" + _table(
        ["qa_id", "criterion", "measured", "threshold", "verdict", "measured by"], rows)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[int] = ()) -> str:
    align = ["---:" if i in numeric else "---" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _number(value: Optional[float]) -> str:
    if value is None:
        return "–"
    magnitude = abs(value)
    if magnitude >= 1 and float(value).is_integer():
        return f"{value:.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"
