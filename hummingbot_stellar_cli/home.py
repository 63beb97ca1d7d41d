"""A Hummingbot home for the installed (pip) Hummingbot: the folder its client reads and writes.

Hummingbot's client keeps conf/, logs/, data/ and scripts/ under `hummingbot.root_path()`, the folder
above the imported `hummingbot` package: a source checkout's root, but site-packages for a pip
installation, which ships no bin/ and no conf/. `use_home(home)` makes a separate folder that root:
`home/hummingbot` links to the installed package (so the connector scan, the templates and the strategy
modules resolve as in a checkout), `root_path()` and `prefix_path()` name `home`. It must run before any
`hummingbot.client` module is imported (they read the paths at import).

`prepare(...)` then writes what Hummingbot's own commands would: the password check file
(`.password_verification`, as the first login does), the `stellar` connection (encrypted secrets, as
`connect stellar` saves it, through `Security.update_secure_config`), the client settings, and a strategy
file (as `create` writes it).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any


class HomeError(RuntimeError):
    """A home that cannot be used as asked; the message says what to do."""


HOME_DIRS = ("conf", "conf/connectors", "conf/strategies", "conf/scripts", "conf/controllers", "logs", "data",
             "scripts", "controllers", "certs")
STRATEGY_FILE = "conf_pure_market_making_stellar.yml"


def use_home(home: Path) -> Path:
    """Point the installed Hummingbot's root at `home` (see the module doc); returns the package folder."""
    import hummingbot

    if "hummingbot.client.settings" in sys.modules and Path(
            sys.modules["hummingbot.client.settings"].CONF_DIR_PATH).parent != home:
        raise HomeError("hummingbot.client was imported before the home was set: its paths are fixed")
    package = Path(hummingbot.__file__).resolve().parent
    home.mkdir(parents=True, exist_ok=True)
    for name in HOME_DIRS:
        (home / name).mkdir(parents=True, exist_ok=True)
    link = home / "hummingbot"
    if link.is_symlink() and link.resolve() != package:
        link.unlink()  # another Hummingbot installation since: follow this one
    if not link.exists():
        link.symlink_to(package, target_is_directory=True)
    elif not link.is_symlink():
        raise HomeError(f"{link} is a folder, not a link to the installed package: this home is a checkout; "
                           f"run Hummingbot from it with its own bin/hummingbot.py")
    hummingbot.root_path = lambda: home  # settings.py and the others read it once, at their import
    hummingbot.set_prefix_path(str(home))  # logs, data, the logging conf
    return package


def check_password(password: str) -> Any:
    """The secrets manager for `password`: a new home stores its check (as the first login does); an existing
    one must accept it."""
    from hummingbot.client.config.config_crypt import (
        PASSWORD_VERIFICATION_PATH,
        ETHKeyFileSecretManger,
        store_password_verification,
        validate_password,
    )

    secrets_manager = ETHKeyFileSecretManger(password)
    if not PASSWORD_VERIFICATION_PATH.exists():
        store_password_verification(secrets_manager)
    elif not validate_password(secrets_manager):
        raise HomeError(f"this home's password is another one ({PASSWORD_VERIFICATION_PATH} was set with it): "
                         f"give that password, or use another home")
    return secrets_manager


def save_client_settings() -> Any:
    """conf/conf_client.yml with what a local sandbox run needs: no metrics sent, no kill switch, no paper trading
    exchanges (Hummingbot would fetch their pairs from the internet at start)."""
    from hummingbot.client.config.client_config_map import AnonymizedMetricsDisabledMode, KillSwitchDisabledMode
    from hummingbot.client.config.config_helpers import load_client_config_map_from_file, save_to_yml
    from hummingbot.client.settings import CLIENT_CONFIG_PATH

    client_config = load_client_config_map_from_file()
    client_config.anonymized_metrics_mode = AnonymizedMetricsDisabledMode()
    client_config.kill_switch_mode = KillSwitchDisabledMode()
    client_config.fetch_pairs_from_all_exchanges = False
    client_config.paper_trade.paper_trade_exchanges = []  # their pairs are fetched at start from the internet
    save_to_yml(CLIENT_CONFIG_PATH, client_config)
    return client_config


def save_connection(secrets_manager: Any, values: dict[str, Any], connector: str = "stellar") -> Path:
    """Save a connector's settings as `connect <connector>` does: validated by the connector's config map,
    secrets encrypted with the home's password (conf/connectors/<connector>.yml)."""
    from hummingbot.client.config.config_helpers import ClientConfigAdapter, get_connector_config_yml_path
    from hummingbot.client.config.security import Security
    from hummingbot.client.settings import AllConnectorSettings

    if not AllConnectorSettings.get_connector_settings():
        AllConnectorSettings.create_connector_settings()
    settings = AllConnectorSettings.get_connector_settings().get(connector)
    if settings is None or settings.config_keys is None:
        raise HomeError(f"Hummingbot's connector scan does not list {connector!r}: run `hummingbot-stellar doctor`")
    config = ClientConfigAdapter(settings.config_keys.__class__(**values))
    Security.secrets_manager = secrets_manager  # the encryption key for the save, as after a login
    Security.update_secure_config(config)
    return get_connector_config_yml_path(connector)


def forget_connection(connector: str = "stellar") -> None:
    """No saved connection: the user connects with `connect`."""
    from hummingbot.client.config.config_helpers import get_connector_config_yml_path

    get_connector_config_yml_path(connector).unlink(missing_ok=True)


def save_strategy(values: dict[str, Any], file_name: str = STRATEGY_FILE) -> Path:
    """A pure market making strategy file, as `create` writes it: Hummingbot's template with our values."""
    import yaml
    from hummingbot.client.settings import STRATEGIES_CONF_DIR_PATH, TEMPLATE_PATH

    template = TEMPLATE_PATH / "conf_pure_market_making_strategy_TEMPLATE.yml"
    data = yaml.safe_load(template.read_text(encoding="utf-8"))
    unknown = set(values) - set(data)
    if unknown:
        raise ValueError(f"not in Hummingbot's pure market making template: {sorted(unknown)}")
    data.update(values)
    path = STRATEGIES_CONF_DIR_PATH / file_name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def demo_strategy_values(trading_pair: str, order_amount: str = "20", spread_pct: str = "0.1",
                         refresh_s: int = 10) -> dict[str, Any]:
    """Pure market making on the demo pair: one order a side, close to the mid, so the sandbox's takers fill it."""
    return {
        "strategy": "pure_market_making",
        "exchange": "stellar",
        "market": trading_pair,
        "bid_spread": float(spread_pct),
        "ask_spread": float(spread_pct),
        "minimum_spread": -100.0,
        "order_refresh_time": float(refresh_s),
        "max_order_age": 1800.0,
        "order_refresh_tolerance_pct": 0.0,
        "order_amount": float(order_amount),
        "price_ceiling": -1.0,
        "price_floor": -1.0,
        "ping_pong_enabled": False,
        "order_levels": 1,
        "inventory_skew_enabled": False,
        "filled_order_delay": 5.0,
        "hanging_orders_enabled": False,
        "order_optimization_enabled": False,
        "add_transaction_costs": False,
        "price_source": "current_market",
        "price_type": "mid_price",
        "take_if_crossed": False,
    }


def forget_old_orders(file_name: str = STRATEGY_FILE) -> None:
    """A new sandbox is a new network: the strategy's saved orders (data/<file>.sqlite) name offers of a
    network that is gone, so they go."""
    from hummingbot import data_path

    database = Path(data_path()) / (Path(file_name).stem + ".sqlite")
    for path in (database, database.with_name(database.name + "-journal")):
        if path.exists():
            os.remove(path)
