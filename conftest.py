"""Make every test run against the working tree.

`make setup` installs this distribution non-editably, so Hummingbot finds the connector in
site-packages as a user's installation would. Tests must still exercise the files being
edited, so the working tree's connector folder goes first on the search path of
`hummingbot.connector.exchange` (a regular package from the installed Hummingbot; our repo
has no `__init__.py` above the connector, so the installed Hummingbot keeps the top level).
"""
from pathlib import Path

import hummingbot.connector.exchange as _exchange_package

REPO_ROOT = Path(__file__).resolve().parent
_WORKING_TREE_EXCHANGES = str(REPO_ROOT / "hummingbot" / "connector" / "exchange")

if _WORKING_TREE_EXCHANGES not in _exchange_package.__path__:
    _exchange_package.__path__.insert(0, _WORKING_TREE_EXCHANGES)
