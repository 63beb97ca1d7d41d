"""`MemraySession`: allocation capture of a run, then memray's flame graph and statistics.

Capture in process with `memray.Tracker` (one per process). After `stop()`:
- `<name>.bin`: the capture;
- `<name>-flamegraph.html`: memory at its peak, by call stack (memray's own reporter through its
  CLI, `python -m memray flamegraph --no-web`, since the reporters are not a public API;
  `--no-web` embeds the scripts so the page opens offline);
- `<name>-stats.json`: memray's statistics (`memray stats --json`; full captures only:
  memray cannot compute them from an aggregated one);
- in the result: peak, total allocations, and the largest allocation sites at the peak, read
  with `memray.FileReader` (public API; works for both capture formats).

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
from typing import List, Optional

import memray

REPORTER_TIMEOUT_S = 900.0


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
            "errors": self.errors,
        }


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
            top_sites = self._top_sites(reader)
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
        )

    def _top_sites(self, reader: memray.FileReader) -> List[dict]:
        records = sorted(reader.get_high_watermark_allocation_records(merge_threads=True), key=lambda r: r.size,
                         reverse=True)
        sites = []
        for record in records[: self.top_sites]:
            frames = record.stack_trace(max_stacks=1)
            location = f"{frames[0][0]} {frames[0][1]}:{frames[0][2]}" if frames else "(no Python frame)"
            sites.append({"location": location, "bytes": record.size, "allocations": record.n_allocations})
        return sites

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
