"""`python -m benchmarks` (`make bench`): run the benchmarks, print a table, write JSON, and compare
each figure's ratio (to its floor or peer, measured in the same run) with benchmarks/baseline.json.

A figure got worse when its ratio exceeds the baseline's by more than the tolerance (default 25 %);
the run then lists those figures and exits 1 (2 when a benchmark could not run at all).
`--update-baseline` rewrites the baseline from this run instead. Ratios, not absolute times, are
compared, so a slower or busier machine does not trip the check; absolute times are in the JSON.
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Dict, List, Optional

from benchmarks.working_tree import REPO_ROOT

# Name -> module; each module has `run(quick: bool) -> {"benchmark": name, "figures": [row, ...]}`.
BENCHMARKS = {
    "order_path": "benchmarks.order_path",
    "market_data": "benchmarks.market_data",
    "user_stream": "benchmarks.user_stream",
    "scale": "benchmarks.scale",
    "end_to_end": "benchmarks.end_to_end",
    "throttler": "benchmarks.throttler",
    # The sandbox's own capacity (another module's job); run when it is there.
    "sandbox_capacity": "benchmarks.sandbox_capacity",
}
DEFAULT_BASELINE = REPO_ROOT / "benchmarks" / "baseline.json"
DEFAULT_OUTPUT = REPO_ROOT / "reports" / "bench" / "results.json"
DEFAULT_TOLERANCE = 0.25


def machine() -> Dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        model = platform.processor()
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                                text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {"cpu_model": model or "unknown", "cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "commit": commit,
            "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None}


def _module_available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _normalise(name: str, result: Any) -> Dict[str, Any]:
    """A benchmark's result in the common shape; a module with another shape keeps its own under "raw"."""
    if isinstance(result, dict) and isinstance(result.get("figures"), list):
        result.setdefault("benchmark", name)
        return result
    return {"benchmark": name, "figures": [], "raw": result}


# A benchmark with its own command line runs in a process of its own, bounded in time.
CLI_TIMEOUT_S = {True: 600, False: 1800}    # quick, full


def _cli_runner(module: Any, long_form: bool = False):
    """A benchmark with a command line of its own (the sandbox capacity one): `python -m MODULE
    --quick` in a child process (it starts processes of its own, and must not hang the others),
    its exit status and its JSON report (`DEFAULT_OUT`) kept under "raw". Its figures are absolute
    capacities against targets, not ratios, so they are reported, not checked. Its bounded form
    (about 10 s, every target still measured) runs unless `long_form` (`--sandbox-full`: its loads
    three times as large, about 25 s on 2 cores; also `python -m MODULE` on its own)."""
    def run(quick: bool) -> Dict[str, Any]:
        command = [sys.executable, "-m", module.__name__] + ([] if long_form and not quick else ["--quick"])
        try:
            status = subprocess.run(command, cwd=REPO_ROOT, timeout=CLI_TIMEOUT_S[quick], check=False).returncode
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{' '.join(command)} took more than {CLI_TIMEOUT_S[quick]} s") from None
        report_path = getattr(module, "DEFAULT_OUT", None)
        report = None
        if report_path is not None and Path(report_path).exists():
            report = json.loads(Path(report_path).read_text(encoding="utf-8"))
        if status:
            print(f"[bench] {module.__name__}: exit status {status} (a target was not met; see its report)",
                  file=sys.stderr)
        return {"figures": [], "raw": {"exit_status": status, "report": report}}
    return run


def run_benchmarks(names: List[str], quick: bool, sandbox_full: bool = False) -> List[Dict[str, Any]]:
    results = []
    for name in names:
        module_name = BENCHMARKS[name]
        if not _module_available(module_name):
            print(f"[bench] {name}: {module_name} is not there; skipped", file=sys.stderr)
            continue
        module = importlib.import_module(module_name)
        runner = getattr(module, "run", None)
        if runner is None and callable(getattr(module, "main", None)):
            runner = _cli_runner(module, long_form=sandbox_full)
        if runner is None:
            print(f"[bench] {name}: {module_name} has neither run(quick) nor main(argv); skipped", file=sys.stderr)
            continue
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        started = time.monotonic()
        try:
            result = _normalise(name, runner(quick=quick))
        except Exception as error:   # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            result = {"benchmark": name, "figures": [], "error": f"{type(error).__name__}: {error}"}
        result["seconds"] = round(time.monotonic() - started, 1)
        results.append(result)
    return results


def ratios_of(results: List[Dict[str, Any]]) -> Dict[str, float]:
    """Checked ratios by figure name (lower is better for every one of them)."""
    return {row["name"]: row["ratio"] for result in results for row in result["figures"]
            if row.get("checked", True) and isinstance(row.get("ratio"), (int, float))}


def compare(ratios: Dict[str, float], baseline: Dict[str, float], tolerance: float,
            tolerances: Optional[Dict[str, float]] = None) -> List[Dict[str, Any]]:
    """Figures whose ratio exceeds the baseline's by more than the tolerance (`tolerances` may give a
    figure its own, e.g. a latency through the sandbox's HTTP stack, which is noisier)."""
    regressions = []
    for name, ratio in ratios.items():
        base = baseline.get(name)
        if base is None or base <= 0:
            continue
        limit = base * (1 + (tolerances or {}).get(name, tolerance))
        if ratio > limit:
            regressions.append({"name": name, "ratio": ratio, "baseline": base, "limit": round(limit, 3),
                                "worse_by_pct": round((ratio / base - 1) * 100, 1)})
    return regressions


def load_baseline(path: Path) -> Dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def table(results: List[Dict[str, Any]], baseline: Dict[str, float]) -> str:
    header = ("figure", "median µs", "p99 µs", "floor / peer", "floor median µs", "ratio", "baseline")
    lines = [header]
    for result in results:
        for row in result["figures"]:
            subject = row.get("subject") or {}
            floor = row.get("floor") or {}
            ratio = row.get("ratio")
            base = baseline.get(row["name"])
            lines.append((row["name"], _num(subject.get("median_us")), _num(subject.get("p99_us")),
                          row.get("floor_name") or "", _num(floor.get("median_us")),
                          _num(ratio, 2) + ("" if row.get("checked", True) else " (info)"),
                          _num(base, 2)))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    out = []
    for index, line in enumerate(lines):
        out.append("  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(line)))
        if index == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def breakdowns(results: List[Dict[str, Any]]) -> str:
    """The breakdowns benchmarks give besides their figures (where an order's time goes), as lines."""
    lines = []
    for result in results:
        for name, parts in (result.get("breakdown") or {}).items():
            lines.append(f"\n{name}:")
            width = max(len(part) for part in parts)
            for part, value in parts.items():
                lines.append(f"  {part.ljust(width)}  {_num(value.get('median_us'))} µs"
                             + (f"  ({value['share']:.0%})" if "share" in value else ""))
    return "\n".join(lines)


def _num(value: Optional[float], digits: int = 1) -> str:
    if value is None:
        return ""
    if digits == 1 and abs(value) < 1:
        digits = 2   # a per-level cost is a fraction of a µs
    return f"{value:,.{digits}f}"


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run; noisier ratios)")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run only these benchmarks")
    parser.add_argument("--update-baseline", nargs="*", metavar="FIGURE", default=None,
                        help="rewrite the baseline from this run: every figure of the run, or only those named")
    parser.add_argument("--sandbox-full", action="store_true",
                        help="the sandbox capacity benchmark's long form (three times the load) instead of its "
                             "bounded one")
    parser.add_argument("--tolerance", type=float, default=None,
                        help=f"allowed worsening of every ratio, as a fraction (default: the baseline's "
                             f"tolerance and per-figure tolerances, else {DEFAULT_TOLERANCE})")
    parser.add_argument("--baseline", type=Path, default=DEFAULT_BASELINE)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    names = args.only or list(BENCHMARKS)
    started = datetime.datetime.now(datetime.UTC)
    wall_start = time.monotonic()
    results = run_benchmarks(names, args.quick, args.sandbox_full)
    baseline_doc = load_baseline(args.baseline)
    baseline = baseline_doc.get("ratios", {})
    tolerance = args.tolerance if args.tolerance is not None else baseline_doc.get("tolerance", DEFAULT_TOLERANCE)
    ratios = ratios_of(results)
    tolerances = {} if args.tolerance is not None else baseline_doc.get("tolerances", {})
    updating = args.update_baseline is not None
    unknown = sorted(set(args.update_baseline or ()) - set(ratios))
    regressions = [] if updating else compare(ratios, baseline, tolerance, tolerances)
    document = {
        "date": started.isoformat(timespec="seconds"),
        "command": "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:]),
        "quick": args.quick,
        "machine": machine(),
        "tolerance": tolerance,
        "results": results,
        "ratios": ratios,
        "regressions": regressions,
        "seconds": round(time.monotonic() - wall_start, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(table(results, baseline))
    print(breakdowns(results))
    print(f"\nresults: {args.output} ({document['seconds']:.0f} s)")
    if unknown:
        print(f"ERROR: --update-baseline names figures this run did not measure: {', '.join(unknown)}; "
              f"the baseline is left as it was")
        return 2
    if updating:
        merged = dict(baseline)
        merged.update({name: ratio for name, ratio in ratios.items()
                       if not args.update_baseline or name in args.update_baseline})
        new_doc = {"tolerance": tolerance, "tolerances": baseline_doc.get("tolerances", {}),
                   "date": document["date"], "machine": document["machine"],
                   "command": document["command"], "ratios": dict(sorted(merged.items()))}
        args.baseline.write_text(json.dumps(new_doc, indent=2) + "\n", encoding="utf-8")
        updated = len(args.update_baseline) if args.update_baseline else len(ratios)
        print(f"baseline rewritten: {args.baseline} ({updated} ratios from this run)")
        return 2 if any(r.get("error") for r in results) else 0
    errors = [r for r in results if r.get("error")]
    for result in errors:
        print(f"ERROR: benchmark {result['benchmark']} failed: {result['error']}")
    missing = sorted(set(ratios) - set(baseline))
    if missing:
        print(f"not in the baseline yet (not checked): {', '.join(missing)}")
    if regressions:
        print(f"\nREGRESSION: {len(regressions)} figure(s) worse than the baseline by more than "
              f"{tolerance:.0%} (ratio to the floor or peer measured in the same run):")
        for r in regressions:
            print(f"  {r['name']}: ratio {r['ratio']} vs baseline {r['baseline']} (+{r['worse_by_pct']} %, "
                  f"limit {r['limit']})")
        return 1
    print(f"no regression beyond {tolerance:.0%} against {args.baseline}")
    return 2 if errors else 0
