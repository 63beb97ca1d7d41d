"""PNG plots for the report: latency distribution per operation, RSS and CPU over time.

Drawn with matplotlib's Agg canvas directly (no pyplot), so nothing changes the process-wide
backend and plotting works without a display.

`draw_in_child_process(spec)` draws them in a child process (`python -m profiling.plots SPEC.json`), which is
how the report does it: matplotlib (some 30 MB, and more while drawing) is then never loaded into the
profiled process, whose memory is what the report measures, and a Hummingbot session that writes its report at
exit does not grow by it either.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CHILD_TIMEOUT_S = 180.0

# The quantile function of each operation: where its samples lie from the fastest to the slowest.
_QUANTILES = (("min", "min_ms"), ("p50", "p50_ms"), ("p95", "p95_ms"), ("p99", "p99_ms"),
              ("p99.9", "p999_ms"), ("max", "max_ms"))
_KIND_TITLES = {
    "connector": "connector's own processing",
    "end_to_end": "end to end (connector + network)",
    "network": "waiting on network / ledger",
}


def plot_latency_distribution(points: Mapping[str, Mapping[str, Any]], path: Path) -> Optional[Path]:
    """One panel per kind of point, one line per operation over min..max percentiles (log scale)."""
    by_kind: Dict[str, List[str]] = {}
    for name, entry in sorted(points.items()):
        if entry.get("count"):
            by_kind.setdefault(entry.get("kind", "connector"), []).append(name)
    if not by_kind:
        return None
    kinds = [kind for kind in _KIND_TITLES if kind in by_kind] + sorted(set(by_kind) - set(_KIND_TITLES))
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, NullFormatter

    figure = Figure(figsize=(8, 3.2 * len(kinds)), layout="constrained")
    axes_list = figure.subplots(len(kinds), 1, squeeze=False)[:, 0]
    labels = [label for label, _ in _QUANTILES]
    for axes, kind in zip(axes_list, kinds, strict=True):
        lowest, highest = float("inf"), 0.0
        for name in by_kind[kind]:
            entry = points[name]
            values = [max(float(entry[key]), 1e-6) for _, key in _QUANTILES]
            lowest, highest = min(lowest, *values), max(highest, *values)
            axes.plot(labels, values, marker="o", label=f"{name} (n={entry['count']})")
        axes.set_yscale("log")
        plain = FuncFormatter(lambda value, _: f"{value:g}")
        axes.yaxis.set_major_formatter(plain)
        # Within one decade the major ticks alone say too little; across decades labelled minor ticks crowd.
        axes.yaxis.set_minor_formatter(plain if highest < 10 * lowest else NullFormatter())
        axes.set_ylabel("ms")
        axes.set_title(_KIND_TITLES.get(kind, kind))
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize="small", loc="upper left")
    return _save(figure, path)


def plot_resources(series: Sequence[Mapping[str, float]], path: Path, *, rss_limit_mb: Optional[float] = None,
                   cpu_limit_percent: Optional[float] = None) -> Optional[Path]:
    """RSS (MB) and CPU (% of one core) against time, with the SLA limits as dashed lines."""
    if not series:
        return None
    times = [sample["t_s"] for sample in series]
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 5), layout="constrained")
    rss_axes, cpu_axes = figure.subplots(2, 1, sharex=True)
    rss_axes.plot(times, [sample["rss_mb"] for sample in series], color="tab:blue")
    rss_axes.set_ylabel("RSS (MB)")
    # The first sample is the baseline: it closes no interval, so it has no CPU figure.
    cpu_series = series[1:] if len(series) > 1 else series
    cpu_axes.plot([sample["t_s"] for sample in cpu_series], [sample["cpu_percent"] for sample in cpu_series],
                  color="tab:red")
    cpu_axes.set_ylabel("CPU (% of one core)")
    cpu_axes.set_xlabel("time (s)")
    for axes, limit in ((rss_axes, rss_limit_mb), (cpu_axes, cpu_limit_percent)):
        if limit is not None:
            axes.axhline(limit, linestyle="--", color="grey", label=f"limit {limit:g}")
            axes.legend(fontsize="small", loc="upper left")
        axes.grid(True, alpha=0.3)
    return _save(figure, path)


def _save(figure: Figure, path: Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure).print_png(str(path))
    return path


def draw(spec: Mapping[str, Any]) -> Dict[str, Optional[str]]:
    """Draw the plots a spec asks for: {"latency_points", "latency_path", "resource_series", "resources_path",
    "rss_limit_mb", "cpu_limit_percent"}; returns {"latency_distribution", "resources"}: the paths drawn or None."""
    latency = plot_latency_distribution(spec.get("latency_points") or {}, Path(spec["latency_path"]))
    resources = plot_resources(spec.get("resource_series") or [], Path(spec["resources_path"]),
                               rss_limit_mb=spec.get("rss_limit_mb"), cpu_limit_percent=spec.get("cpu_limit_percent"))
    return {"latency_distribution": str(latency) if latency else None,
            "resources": str(resources) if resources else None}


def draw_in_child_process(spec: Mapping[str, Any], spec_path: Path,
                          timeout_s: float = CHILD_TIMEOUT_S) -> Tuple[Dict[str, Optional[Path]], Optional[str]]:
    """`draw(spec)` in a child process (the spec goes through `spec_path`, removed afterwards).
    Returns the plots drawn and, if the child failed, why."""
    source_root = str(Path(__file__).resolve().parent.parent)  # this very profiling package
    environment = {key: value for key, value in os.environ.items() if key != "STELLAR_PROFILING"}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [source_root, environment.get("PYTHONPATH")]))
    none: Dict[str, Optional[Path]] = {"latency_distribution": None, "resources": None}
    # The child runs in source_root: every path it gets must not depend on this process's working directory.
    spec_path = Path(spec_path).absolute()
    spec = {**spec, **{key: str(Path(spec[key]).absolute()) for key in ("latency_path", "resources_path")
                       if spec.get(key)}}
    spec_path.write_text(json.dumps(spec, default=str), encoding="utf-8")
    try:
        completed = subprocess.run([sys.executable, "-m", f"{__package__}.plots", str(spec_path)], capture_output=True,
                                   text=True, timeout=timeout_s, env=environment, cwd=source_root)
    except subprocess.TimeoutExpired:
        return none, f"the plots took longer than {timeout_s:.0f} s"
    finally:
        spec_path.unlink(missing_ok=True)
    if completed.returncode != 0:
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-1:] or ["no output"]
        return none, f"drawing the plots failed (exit {completed.returncode}): {tail[0]}"
    try:
        drawn = json.loads(completed.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return none, "the plots' child process answered nothing readable"
    return {name: Path(path) if path else None for name, path in drawn.items()}, None


def main(argv: Optional[Sequence[str]] = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if len(arguments) != 1:
        print("usage: python -m profiling.plots SPEC.json", file=sys.stderr)
        return 2
    spec = json.loads(Path(arguments[0]).read_text(encoding="utf-8"))
    print(json.dumps(draw(spec)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
