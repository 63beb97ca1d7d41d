"""Each connector module stays under 500 lines, so each one can be read as one thing."""
from pathlib import Path

import pytest

CONNECTOR = Path(__file__).resolve().parents[1] / "hummingbot" / "connector" / "exchange" / "stellar"
MAX_LINES = 500
# Over the limit when this test was written (stellar_exchange.py is being rewritten): skipped while they
# are over, checked again once they are under. Remove a name from here when its file is split.
KNOWN_OVER = {"stellar_exchange.py", "stellar_tx_pipeline.py"}


@pytest.mark.parametrize("name", sorted(path.name for path in CONNECTOR.glob("*.py")))
def test_connector_module_is_under_500_lines(name):
    lines = len((CONNECTOR / name).read_text(encoding="utf-8").splitlines())
    if name in KNOWN_OVER and lines >= MAX_LINES:
        pytest.skip(f"{name}: {lines} lines, a known exception")
    assert lines < MAX_LINES, f"{name} has {lines} lines"
