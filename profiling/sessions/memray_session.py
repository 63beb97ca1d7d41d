"""`MemraySession`: allocation capture of a run, then memray's flame graph and statistics.

Capture in process with `memray.Tracker` (one per process). After `stop()`:
- `<name>.bin`: the capture;
- `<name>-flamegraph.html`: memory at its peak, by call stack (memray's own reporter through its
  CLI, `python -m memray flamegraph --no-web`, since the reporters are not a public API;
  `--no-web` embeds the scripts so the page opens offline);
- `<name>-stats.json`: memray's statistics (`memray stats --json`; full captures only:
  memray cannot compute them from an aggregated one);
- in the result: peak, total allocations, the largest allocation sites at the peak, and the memory
  live at the peak by component (`component_of`: the innermost frame of the connector, stellar-sdk,
  Hummingbot or profiling in an allocation's Python stack; standard library and other packages count
  for the caller), read with `memray.FileReader` (public API; works for both capture formats).

memray follows Python stacks through the interpreter's profile hook: when another profiler (yappi)
holds that hook, allocations have no Python stack, and the split by component cannot be made
(`python_stacks` False).

`aggregate=True` keeps the capture small in long runs (memray's aggregated format), at the cost of
the statistics file. A failing reporter is recorded in `errors`, not raised: the rest of the
report is still worth writing.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import memray

REPORTER_TIMEOUT_S = 900.0
NO_STACK = "no Python stack"
OTHER = "other (standard library, event loop, other packages)"
# Where a frame's code lives, checked in this order (the connector's folder is inside Hummingbot's).
_COMPONENTS: Tuple[Tuple[str, str], ...] = (
    ("connector", "/hummingbot/connector/exchange/stellar/"),
    ("stellar-sdk", "/stellar_sdk/"),
    ("profiling", "/profiling/"),
    ("profiling", "/hummingbot_stellar_profiling/"),  # its installed name
    ("hummingbot", "/hummingbot/"),
)
_MAX_FRAMES = 64


def component_of(frames: Sequence[Tuple[str, str, int]]) -> str:
    """The component an allocation belongs to, from its Python stack (innermost frame first)."""
    if not frames:
        return NO_STACK
    for _function, path, _line in frames:
        path = path.replace("\\", "/")
        for name, marker in _COMPONENTS:
            if marker in path:
                return name
    return OTHER


@dataclass
class MemrayResult:
    capture_path: Path
    flamegraph_path: Optional[Path]
    stats_path: Optional[Path]
    peak_memory_bytes: int
    total_allocations: int
    native_traces: bool
    aggregated: bool
    top_sites_at_peak: List[dict] = field(default_factory=list)  # {"location", "bytes", "allocations"}
    errors: List[str] = field(default_factory=list)
    by_component_at_peak: Dict[str, dict] = field(default_factory=dict)  # component -> {"bytes", "allocations"}
    python_stacks: bool = True  # False: no allocation had a Python stack (another profiler held the hook)

    def to_dict(self) -> dict:
        return {
            "capture_path": str(self.capture_path),
            "flamegraph_path": str(self.flamegraph_path) if self.flamegraph_path else None,
            "stats_path": str(self.stats_path) if self.stats_path else None,
            "peak_memory_mb": self.peak_memory_bytes / 2**20,
            "total_allocations": self.total_allocations,
            "native_traces": self.native_traces,
            "aggregated": self.aggregated,
            "top_sites_at_peak": self.top_sites_at_peak,
            "by_component_at_peak": {name: {"mb": figures["bytes"] / 2**20, "allocations": figures["allocations"]}
                                     for name, figures in self.by_component_at_peak.items()},
            "python_stacks": self.python_stacks,
            "errors": self.errors,
        }


def _mostly_with_stacks(by_component: Dict[str, dict]) -> bool:
    """True unless most of the memory live at the peak has no Python stack to attribute it by."""
    total = sum(figures["bytes"] for figures in by_component.values())
    return 2 * by_component.get(NO_STACK, {"bytes": 0})["bytes"] <= total


class MemraySession:
    def __init__(
        self,
        output_dir: Path | str,
        *,
        name: str = "memray",
        native_traces: bool = False,
        aggregate: bool = False,
        top_sites: int = 10,
        reporter_timeout_s: float = REPORTER_TIMEOUT_S,
    ) -> None:
        self.output_dir = Path(output_dir)
        self.name = name
        self.native_traces = native_traces
        self.aggregate = aggregate
        self.top_sites = top_sites
        self.reporter_timeout_s = reporter_timeout_s
        self._tracker: Optional[memray.Tracker] = None
        self._captured = False

    @property
    def capture_path(self) -> Path:
        return self.output_dir / f"{self.name}.bin"

    @property
    def running(self) -> bool:
        return self._tracker is not None

    def start(self) -> None:
        if self._tracker is not None:
            raise RuntimeError("this memray session is already running")
        self.output_dir.mkdir(parents=True, exist_ok=True)
        # memray refuses to overwrite a capture; this folder is ours.
        self.capture_path.unlink(missing_ok=True)
        file_format = memray.FileFormat.AGGREGATED_ALLOCATIONS if self.aggregate else memray.FileFormat.ALL_ALLOCATIONS
        tracker = memray.Tracker(
            str(self.capture_path), native_traces=self.native_traces, follow_fork=False, file_format=file_format,
        )
        tracker.__enter__()
        self._tracker = tracker

    def stop(self) -> MemrayResult:
        self.stop_tracking()
        return self.report()

    def stop_tracking(self) -> None:
        """End the capture only, so what runs next (other sessions' reporting) is not counted; `report()` later."""
        if self._tracker is None:
            raise RuntimeError("this memray session is not running")
        tracker, self._tracker = self._tracker, None
        tracker.__exit__(None, None, None)
        self._captured = True

    def report(self) -> MemrayResult:
        """The capture's figures and memray's reports, once tracking has stopped."""
        if not self._captured:
            raise RuntimeError("this memray session has no finished capture")
        self._captured = False
        return self._report()

    def _report(self) -> MemrayResult:
        errors: List[str] = []
        with memray.FileReader(str(self.capture_path)) as reader:
            metadata = reader.metadata
            top_sites, by_component = self._sites_and_components(reader)
        flamegraph_path = self.output_dir / f"{self.name}-flamegraph.html"
        if not self._run_memray(["flamegraph", "--no-web", "-f", "-o", str(flamegraph_path)], errors):
            flamegraph_path = None
        stats_path: Optional[Path] = None
        if not self.aggregate:
            stats_path = self.output_dir / f"{self.name}-stats.json"
            if not self._run_memray(["stats", "--json", "-f", "-o", str(stats_path)], errors):
                stats_path = None
        return MemrayResult(
            capture_path=self.capture_path,
            flamegraph_path=flamegraph_path,
            stats_path=stats_path,
            peak_memory_bytes=metadata.peak_memory,
            total_allocations=metadata.total_allocations,
            native_traces=metadata.has_native_traces,
            aggregated=self.aggregate,
            top_sites_at_peak=top_sites,
            errors=errors,
            by_component_at_peak=by_component,
            python_stacks=_mostly_with_stacks(by_component),
        )

    def _sites_and_components(self, reader: memray.FileReader) -> Tuple[List[dict], Dict[str, dict]]:
        records = sorted(reader.get_high_watermark_allocation_records(merge_threads=True), key=lambda r: r.size,
                         reverse=True)
        sites = []
        by_component: Dict[str, dict] = {}
        for rank, record in enumerate(records):
            frames = record.stack_trace(max_stacks=_MAX_FRAMES)
            if rank < self.top_sites:
                location = f"{frames[0][0]} {frames[0][1]}:{frames[0][2]}" if frames else "(no Python frame)"
                sites.append({"location": location, "bytes": record.size, "allocations": record.n_allocations})
            figures = by_component.setdefault(component_of(frames), {"bytes": 0, "allocations": 0})
            figures["bytes"] += record.size
            figures["allocations"] += record.n_allocations
        ordered = dict(sorted(by_component.items(), key=lambda item: item[1]["bytes"], reverse=True))
        return sites, ordered

    def _run_memray(self, arguments: List[str], errors: List[str]) -> bool:
        command = [sys.executable, "-m", "memray", *arguments, str(self.capture_path)]
        # The reporter must not profile itself when profiling was switched on by the environment.
        environment = {key: value for key, value in os.environ.items() if key != "STELLAR_PROFILING"}
        try:
            completed = subprocess.run(command, capture_output=True, text=True, timeout=self.reporter_timeout_s,
                                       env=environment)
        except subprocess.TimeoutExpired:
            errors.append(f"memray {arguments[0]} took longer than {self.reporter_timeout_s:.0f} s")
            return False
        if completed.returncode != 0:
            tail = (completed.stderr or completed.stdout).strip().splitlines()[-1:] or ["no output"]
            errors.append(f"memray {arguments[0]} failed (exit {completed.returncode}): {tail[0]}")
            return False
        return True


def load_stats(path: Path) -> dict:
    """memray's statistics JSON, as written by `memray stats --json`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
