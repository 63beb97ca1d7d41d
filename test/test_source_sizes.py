"""Each connector module stays small enough to be read as one thing: under 500 lines, and the
exchange (Hummingbot's glue, with its many small overrides) under 650."""
from pathlib import Path

import pytest

CONNECTOR = Path(__file__).resolve().parents[1] / "hummingbot" / "connector" / "exchange" / "stellar"
MAX_LINES = 500
MAX_LINES_OF = {"stellar_exchange.py": 650}


@pytest.mark.parametrize("name", sorted(path.name for path in CONNECTOR.glob("*.py")))
def test_connector_module_is_small(name):
    lines = len((CONNECTOR / name).read_text(encoding="utf-8").splitlines())
    limit = MAX_LINES_OF.get(name, MAX_LINES)
    assert lines < limit, f"{name} has {lines} lines (limit {limit})"
