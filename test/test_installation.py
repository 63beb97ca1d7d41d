"""The environment that `make setup` builds: Hummingbot finds the connector as a user's
installation would, the tests import the working tree, and Hummingbot's test base imports."""
import filecmp
import importlib
from pathlib import Path

import hummingbot

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKING_TREE_CONNECTOR = REPO_ROOT / "hummingbot" / "connector" / "exchange" / "stellar"
INSTALLED_CONNECTOR = Path(hummingbot.__file__).parent / "connector" / "exchange" / "stellar"


def test_installed_hummingbot_owns_the_top_level_package():
    assert Path(hummingbot.__file__).parent != REPO_ROOT / "hummingbot"
    assert not (REPO_ROOT / "hummingbot" / "__init__.py").exists()
    assert not (REPO_ROOT / "hummingbot" / "connector" / "__init__.py").exists()
    assert not (REPO_ROOT / "hummingbot" / "connector" / "exchange" / "__init__.py").exists()


def test_hummingbot_discovers_the_connector_and_its_testnet_domain():
    from hummingbot.client.settings import AllConnectorSettings

    settings = AllConnectorSettings.create_connector_settings()

    assert "stellar" in settings
    assert settings["stellar"].centralised is False
    assert settings["stellar"].example_pair == "XLM-USDC"
    assert "stellar_testnet" in settings
    assert settings["stellar_testnet"].parent_name == "stellar"
    assert "binance" in settings  # the scan still finds Hummingbot's own connectors


def test_tests_import_the_working_tree_not_the_installed_copy():
    utils = importlib.import_module("hummingbot.connector.exchange.stellar.stellar_utils")
    assert Path(utils.__file__).resolve().parent == WORKING_TREE_CONNECTOR


def test_installed_copy_is_in_sync_with_the_working_tree():
    # `make test` reinstalls the distribution whenever a source changes; a stale installed copy
    # would make Hummingbot (outside the tests) run old code.
    assert INSTALLED_CONNECTOR.is_dir(), "the connector is not installed: run `make setup`"
    sources = sorted(p.name for p in WORKING_TREE_CONNECTOR.iterdir() if p.suffix in (".py", ".yml"))
    match, mismatch, errors = filecmp.cmpfiles(WORKING_TREE_CONNECTOR, INSTALLED_CONNECTOR, sources, shallow=False)
    stale = mismatch + errors
    assert not stale, f"installed copy differs from the working tree: {stale}; run `make setup`"


def test_hummingbot_connector_test_base_imports():
    from hummingbot.connector.test_support.exchange_connector_test import AbstractExchangeConnectorTests

    assert hasattr(AbstractExchangeConnectorTests, "ExchangeConnectorTests")


def test_connector_class_imports():
    from hummingbot.connector.exchange_py_base import ExchangePyBase

    from hummingbot.connector.exchange.stellar.stellar_exchange import StellarExchange

    assert issubclass(StellarExchange, ExchangePyBase)
    assert StellarExchange.__module__ == "hummingbot.connector.exchange.stellar.stellar_exchange"


async def test_the_data_only_connector_hummingbot_builds_with_blank_values_works():
    """Hummingbot builds a market-data connector with "" for every key the user left unset (its trading
    pair fetcher lists pairs through it): every value must read blank as its default."""
    from hummingbot.client.settings import AllConnectorSettings

    AllConnectorSettings.create_connector_settings()
    for name in ("stellar", "stellar_testnet"):
        connector = AllConnectorSettings.get_connector_settings()[name]\
            .non_trading_connector_instance_with_default_configuration()
        assert connector.name == name and not connector.is_trading_required
        assert connector.horizon_url.startswith("https://horizon")
        assert connector.network_passphrase
