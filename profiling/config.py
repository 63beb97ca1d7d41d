"""Profiling configuration: `ProfilingConfig` and its YAML file (template: conf/conf_stellar_profiling.yml)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping


@dataclass(frozen=True)
class ProfilingConfig:
    output_dir: str = "reports/profiling"  # each session writes into a timestamped folder inside
    scenario: str = "interactive Hummingbot session"  # the load scenario named in the report
    yappi: bool = True
    yappi_clock: str = "cpu"  # cpu: own time is work; wall counts an async function's suspensions as its own
    # Per asyncio task: a Python tag callback on every profiled call; measured on the demo, it added about 2.5 MB
    # of yappi statistics and half a point of CPU, so it is asked for, not on by default.
    yappi_per_task: bool = False
    memray: bool = True
    memray_native_traces: bool = False
    memray_aggregate: bool = True  # small capture for long sessions; false adds memray's statistics file
    sample_interval_s: float = 0.5
    report_on_exit: bool = True
    top_functions: int = 30
    sample_cap: int = 100_000

    def __post_init__(self) -> None:
        if self.yappi_clock not in ("wall", "cpu"):
            raise ValueError(f"yappi_clock must be 'wall' or 'cpu', got {self.yappi_clock!r}")
        if self.sample_interval_s <= 0:
            raise ValueError(f"sample_interval_s must be positive, got {self.sample_interval_s}")
        if self.top_functions < 1:
            raise ValueError(f"top_functions must be at least 1, got {self.top_functions}")
        if self.sample_cap < 1:
            raise ValueError(f"sample_cap must be at least 1, got {self.sample_cap}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, source: str = "configuration") -> ProfilingConfig:
        fields = {field.name: field for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ValueError(f"{source}: unknown profiling setting(s) {unknown}; known: {sorted(fields)}")
        checked = {}
        for name, value in values.items():
            expected = type(getattr(cls, name))
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise ValueError(f"{source}: {name} must be a {expected.__name__}, got {value!r}")
            checked[name] = value
        return cls(**checked)

    @classmethod
    def from_yaml(cls, path: Path | str) -> ProfilingConfig:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"profiling configuration not found: {path}")
        import yaml  # only for a configuration file: the default run does not load it

        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(values, dict):
            raise ValueError(f"{path}: a profiling configuration is a mapping of settings, got {type(values).__name__}")
        return cls.from_mapping(values, source=str(path))
