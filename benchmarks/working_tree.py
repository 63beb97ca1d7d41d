"""Benchmarks measure the connector as it is in this working tree, not the copy `make setup`
installed into site-packages (the same arrangement as the repository's conftest.py)."""
import sys
from pathlib import Path

import hummingbot.connector.exchange as _exchange_package

REPO_ROOT = Path(__file__).resolve().parent.parent
_WORKING_TREE_EXCHANGES = str(REPO_ROOT / "hummingbot" / "connector" / "exchange")

if _WORKING_TREE_EXCHANGES not in _exchange_package.__path__:
    _exchange_package.__path__.insert(0, _WORKING_TREE_EXCHANGES)

# Hummingbot's connector settings import every connector's utils module; if that happened before
# the line above, the installed copy is in use and the figures would not be of this tree.
_loaded = sys.modules.get("hummingbot.connector.exchange.stellar")
if _loaded is not None and not str(getattr(_loaded, "__file__", "") or "").startswith(_WORKING_TREE_EXCHANGES):
    raise RuntimeError(f"the installed connector ({_loaded.__file__}) was imported before benchmarks.working_tree; "
                       f"import benchmarks.working_tree first")
