"""Performance criteria from `qa/quality_catalogue.yml`, and their verdicts.

The catalogue is the single source of truth for thresholds; this module only reads it, finds each
criterion's figure among the measured ones, and judges it:

- upper limit ("<", "<="): meeting below 80 % of the limit, at risk from 80 % up to the limit,
  failing beyond (at the limit itself for "<");
- lower limit (">", ">="): meeting above 125 % of the limit, at risk down to the limit, failing beyond;
- not measured: the figure is absent (the scenario did not exercise that point).
"""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

MEETING = "meeting"
AT_RISK = "at risk"
FAILING = "failing"
NOT_MEASURED = "not measured"
VERDICTS = (MEETING, AT_RISK, FAILING, NOT_MEASURED)
_SEVERITY = {MEETING: 0, AT_RISK: 1, FAILING: 2}

COMPARISONS = ("<", "<=", ">", ">=")
SOURCES = ("latency", "resources", "benchmark", "requests")
CATALOGUE_ENV = "STELLAR_QA_CATALOGUE"
_REQUIRED = ("id", "title", "sla", "source", "statistic", "comparison", "threshold", "unit", "measured_by")


@dataclass(frozen=True)
class Criterion:
    id: str
    title: str
    sla: str
    source: str
    statistic: str
    comparison: str
    threshold: float
    unit: str
    measured_by: str
    point: Optional[str] = None


@dataclass(frozen=True)
class SlaTarget:
    name: str
    statement: str


@dataclass(frozen=True)
class Catalogue:
    path: Path
    targets: Tuple[SlaTarget, ...]
    criteria: Tuple[Criterion, ...]

    def latency_patterns(self) -> List[str]:
        """Point patterns (e.g. "horizon.*") whose combined statistics the criteria read."""
        return sorted({c.point for c in self.criteria if c.source == "latency" and c.point and "*" in c.point})


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    value: Optional[float]
    verdict: str

    def to_dict(self) -> dict:
        c = self.criterion
        return {
            "id": c.id, "title": c.title, "sla": c.sla, "source": c.source, "point": c.point,
            "statistic": c.statistic, "comparison": c.comparison, "threshold": c.threshold, "unit": c.unit,
            "measured_by": c.measured_by, "value": self.value, "verdict": self.verdict,
        }


def verdict(value: Optional[float], comparison: str, threshold: float) -> str:
    """meeting / at risk / failing / not measured (see the module docstring)."""
    if value is None:
        return NOT_MEASURED
    if comparison == "<":
        if value >= threshold:
            return FAILING
        return AT_RISK if 5 * value >= 4 * threshold else MEETING
    if comparison == "<=":
        if value > threshold:
            return FAILING
        return AT_RISK if 5 * value >= 4 * threshold else MEETING
    if comparison == ">":
        if value <= threshold:
            return FAILING
        return AT_RISK if 4 * value <= 5 * threshold else MEETING
    if comparison == ">=":
        if value < threshold:
            return FAILING
        return AT_RISK if 4 * value <= 5 * threshold else MEETING
    raise ValueError(f"unknown comparison {comparison!r}; expected one of {COMPARISONS}")


def worst(verdicts: List[str]) -> str:
    """The worst measured verdict; not measured only if nothing was measured."""
    measured = [v for v in verdicts if v != NOT_MEASURED]
    if not measured:
        return NOT_MEASURED
    return max(measured, key=_SEVERITY.__getitem__)


def default_catalogue_path() -> Path:
    """$STELLAR_QA_CATALOGUE, else qa/quality_catalogue.yml of the source tree, else the copy shipped in
    the installed package (the source tree's profiling/quality_catalogue.yml is a link to qa/), else ./qa/."""
    from_env = os.environ.get(CATALOGUE_ENV)
    if from_env:
        return Path(from_env)
    beside_package = Path(__file__).resolve().parent.parent / "qa" / "quality_catalogue.yml"
    if beside_package.is_file():
        return beside_package
    shipped = Path(__file__).parent / "quality_catalogue.yml"
    if shipped.is_file():
        return shipped
    return Path.cwd() / "qa" / "quality_catalogue.yml"


def load_catalogue(path: Optional[Path | str] = None) -> Catalogue:
    path = Path(path) if path is not None else default_catalogue_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"quality catalogue not found: {path} (pass its path, or set {CATALOGUE_ENV})"
        )
    import yaml  # here: a profiled process reads the catalogue once its run is over

    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(document, dict):
        raise ValueError(f"{path}: expected a mapping with 'sla_targets' and 'criteria'")
    targets = tuple(_target(entry, path) for entry in document.get("sla_targets") or [])
    criteria = tuple(_criterion(entry, path) for entry in document.get("criteria") or [])
    if not criteria:
        raise ValueError(f"{path}: no criteria")
    ids = [c.id for c in criteria]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"{path}: duplicate criterion id(s) {duplicates}")
    target_names = {t.name for t in targets}
    unknown = sorted({c.sla for c in criteria} - target_names)
    if targets and unknown:
        raise ValueError(f"{path}: criteria name SLA target(s) {unknown} missing from sla_targets")
    return Catalogue(path=path, targets=targets, criteria=criteria)


def figure_value(criterion: Criterion, latency: Optional[Mapping[str, Any]], resources: Optional[Mapping[str, Any]],
                 extra: Optional[Mapping[str, Any]], requests: Optional[Mapping[str, Any]] = None) -> Optional[float]:
    """The measured figure a criterion reads, or None if it was not measured."""
    if criterion.source == "latency":
        entry = _latency_entry(criterion.point, latency or {})
        value = entry.get(criterion.statistic) if entry else None
    elif criterion.source == "resources":
        value = (resources or {}).get(criterion.statistic)
    elif criterion.source == "requests":
        value = (requests or {}).get(criterion.statistic)
    else:
        value = (extra or {}).get(criterion.statistic)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def evaluate(catalogue: Catalogue, latency: Optional[Mapping[str, Any]], resources: Optional[Mapping[str, Any]],
             extra: Optional[Mapping[str, Any]], requests: Optional[Mapping[str, Any]] = None) -> List[CriterionResult]:
    results = []
    for criterion in catalogue.criteria:
        value = figure_value(criterion, latency, resources, extra, requests)
        results.append(CriterionResult(criterion, value, verdict(value, criterion.comparison, criterion.threshold)))
    return results


def _latency_entry(point: Optional[str], latency: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
    points: Dict[str, Any] = latency.get("points") or {}
    groups: Dict[str, Any] = latency.get("groups") or {}
    if point in points:
        return points[point]
    if point in groups:
        return groups[point]
    if point and "*" in point:
        return _combine_without_samples([entry for name, entry in points.items() if fnmatch.fnmatchcase(name, point)])
    return None


def _combine_without_samples(entries: List[Mapping[str, Any]]) -> Optional[Dict[str, float]]:
    """Figures of a group when only per-point figures are at hand: exact for these, no percentiles."""
    entries = [e for e in entries if e.get("count")]
    if not entries:
        return None
    count = sum(e["count"] for e in entries)
    return {
        "count": count,
        "avg_ms": sum(e["avg_ms"] * e["count"] for e in entries) / count,
        "max_ms": max(e["max_ms"] for e in entries),
        "min_ms": min(e["min_ms"] for e in entries),
        "rate_per_s": sum(e.get("rate_per_s", 0.0) for e in entries),
    }


def _target(entry: Any, path: Path) -> SlaTarget:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise ValueError(f"{path}: each SLA target needs a name, got {entry!r}")
    return SlaTarget(name=entry["name"], statement=str(entry.get("statement", "")))


def _criterion(entry: Any, path: Path) -> Criterion:
    if not isinstance(entry, dict):
        raise ValueError(f"{path}: each criterion is a mapping, got {entry!r}")
    missing = [key for key in _REQUIRED if key not in entry]
    label = entry.get("id", "?")
    if missing:
        raise ValueError(f"{path}: criterion {label} lacks {missing}")
    if entry["comparison"] not in COMPARISONS:
        raise ValueError(f"{path}: criterion {label}: comparison must be one of {COMPARISONS}")
    if entry["source"] not in SOURCES:
        raise ValueError(f"{path}: criterion {label}: source must be one of {SOURCES}")
    if entry["source"] == "latency" and not entry.get("point"):
        raise ValueError(f"{path}: criterion {label}: a latency criterion needs a point")
    threshold = entry["threshold"]
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise ValueError(f"{path}: criterion {label}: threshold must be a number, got {threshold!r}")
    return Criterion(
        id=str(entry["id"]), title=str(entry["title"]), sla=str(entry["sla"]), source=entry["source"],
        statistic=str(entry["statistic"]), comparison=entry["comparison"], threshold=float(threshold),
        unit=str(entry["unit"]), measured_by=str(entry["measured_by"]), point=entry.get("point"),
    )
