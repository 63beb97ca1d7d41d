"""A load or chaos scenario's checks and its markdown verdict block (no Hummingbot import: the process-level chaos
scenarios judge in a process that runs no bot)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Sequence

from .load_scenarios import LoadScenario


@dataclass
class Check:
    name: str
    criterion: str
    measured: str
    passed: bool
    timing: bool = False


class Judged:
    """A scenario's result judged by its `checks`: passed when every check did; correct when every check but the
    timing ones did."""
    checks: Sequence[Check]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def correctness_passed(self) -> bool:
        return all(check.passed for check in self.checks if not check.timing)


def verdict_markdown(scenario: LoadScenario, duration: float, checks: Sequence[Check], fig: Dict[str, Any]) -> str:
    passed = all(check.passed for check in checks)
    lines = [f"## Load test {scenario.number}: {scenario.title} ({duration:g} s): {'PASS' if passed else 'FAIL'}",
             "", f"Criterion: {scenario.criterion}.", "", "| Check | Criterion | Measured | Result |",
             "|---|---|---|---|"]
    lines += [f"| {c.name}{' (timing)' if c.timing else ''} | {c.criterion} | {c.measured} | "
              f"{'PASS' if c.passed else 'FAIL'} |" for c in checks]
    lines += ["", "| Figure | Value |", "|---|---:|"]
    lines += [f"| {name} | {value} |" for name, value in fig.items()]
    return "\n".join(lines) + "\n"
