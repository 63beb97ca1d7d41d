import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hummingbot.client.config.config_helpers import ClientConfigAdapter, api_keys_from_connector_config_map
from hummingbot.client.settings import ConnectorSetting, ConnectorType
from pydantic import SecretStr, ValidationError
from stellar_sdk import Keypair

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar import stellar_utils as utils

REPO_ROOT = Path(__file__).resolve().parents[5]
ISSUER = "GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN"
SECRET = Keypair.random().secret


def make_config(**overrides) -> utils.StellarConfigMap:
    return utils.StellarConfigMap(stellar_secret_key=SECRET, **overrides)


def test_connector_conventions():
    assert utils.CENTRALIZED is False
    assert utils.EXAMPLE_PAIR == "XLM-USDC"
    assert utils.DEFAULT_FEES.maker_percent_fee_decimal == Decimal("0")
    assert utils.DEFAULT_FEES.taker_percent_fee_decimal == Decimal("0")
    assert utils.KEYS.connector == "stellar"


def test_defaults_mean_the_domains_settings():
    config = make_config()
    assert config.stellar_horizon_url is None
    assert config.stellar_network_passphrase is None
    assert config.stellar_rpc_url is None
    assert config.stellar_markets is None
    assert config.stellar_channel_secret_keys.get_secret_value() == ""
    assert config.stellar_max_fee_stroops == CONSTANTS.DEFAULT_MAX_FEE_STROOPS
    assert config.stellar_market_order_slippage is None
    assert config.stellar_cancel_all_on_stop is True


@pytest.mark.parametrize("blank", [None, "", "   ", "\t"])
def test_blank_overrides_are_accepted_as_defaults(blank):
    config = make_config(stellar_horizon_url=blank, stellar_network_passphrase=blank, stellar_rpc_url=blank,
                         stellar_markets=blank, stellar_channel_secret_keys=blank, stellar_max_fee_stroops=blank,
                         stellar_market_order_slippage=blank, stellar_cancel_all_on_stop=blank)
    assert config.stellar_horizon_url is None and config.stellar_network_passphrase is None
    assert config.stellar_rpc_url is None and config.stellar_markets is None
    assert config.stellar_channel_secret_keys.get_secret_value() == ""
    assert config.stellar_max_fee_stroops == CONSTANTS.DEFAULT_MAX_FEE_STROOPS
    assert config.stellar_market_order_slippage is None
    assert config.stellar_cancel_all_on_stop is True


def secret_or_value(value):
    return value.get_secret_value() if isinstance(value, SecretStr) else value


@pytest.mark.parametrize("blank", ["", "  "])
@pytest.mark.parametrize("model", [utils.StellarConfigMap, utils.StellarTestnetConfigMap])
def test_every_field_left_blank_is_its_default(model, blank):
    """What Hummingbot does for a data-only connector: every key the user did not set is ""."""
    fields = [name for name in model.model_fields if name != "connector"]
    config = model(**{name: blank for name in fields})
    defaults = model.model_construct()
    for name in fields:
        expected = "" if model.model_fields[name].is_required() else secret_or_value(getattr(defaults, name))
        assert secret_or_value(getattr(config, name)) == expected, name


@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), (1, True), (0, False), ("yes", True), ("No", False), (" TRUE ", True),
    ("off", False), ("on", True), ("y", True), ("n", False), ("1", True), ("0", False),
    ("", True), ("  ", True), (None, True),
])
def test_cancel_all_on_stop_reads_yes_no_and_blank_as_the_default(value, expected):
    assert utils.validate_cancel_all_on_stop(value) is expected
    assert make_config(stellar_cancel_all_on_stop=value).stellar_cancel_all_on_stop is expected
    assert utils.validate_flag(value, default=False) is (False if utils.blank_to_none(value) is None else expected)


@pytest.mark.parametrize("value", ["maybe", 2, "yess", 0.5])
def test_a_flag_that_is_not_yes_or_no_is_rejected(value):
    with pytest.raises(ValueError, match="yes or no"):
        utils.validate_cancel_all_on_stop(value)
    with pytest.raises(ValidationError):
        make_config(stellar_cancel_all_on_stop=value)


def test_a_blank_trading_key_is_the_empty_secret_but_none_is_refused():
    for blank in ("", "   "):
        assert utils.StellarConfigMap(stellar_secret_key=blank).stellar_secret_key.get_secret_value() == ""
    assert make_config().stellar_secret_key.get_secret_value() == SECRET
    with pytest.raises(ValidationError):
        utils.StellarConfigMap(stellar_secret_key=None)
    assert utils.validate_secret_text(SecretStr("  ")).get_secret_value() == ""


def test_overrides_are_validated_and_normalised():
    config = make_config(stellar_horizon_url="http://127.0.0.1:8000/",
                         stellar_network_passphrase=CONSTANTS.SANDBOX_PASSPHRASE,
                         stellar_markets=f" USDC:{ISSUER} ,, AQUA:{ISSUER}, USDC:{ISSUER}",
                         stellar_max_fee_stroops="500")
    assert config.stellar_horizon_url == "http://127.0.0.1:8000"
    assert config.stellar_markets == f"USDC:{ISSUER},AQUA:{ISSUER}"
    assert utils.parse_markets(config.stellar_markets) == [f"USDC:{ISSUER}", f"AQUA:{ISSUER}"]
    assert config.stellar_max_fee_stroops == 500
    assert make_config(stellar_market_order_slippage="0.05").stellar_market_order_slippage == Decimal("0.05")


@pytest.mark.parametrize("field, value, hint", [
    ("stellar_horizon_url", "horizon.stellar.org", "URL"),
    ("stellar_rpc_url", "ftp://x", "URL"),
    ("stellar_markets", "USDC", "no issuer"),
    ("stellar_markets", "XLM", "issued assets only"),
    ("stellar_markets", "USDC:GBAD", "not a valid Stellar account id"),
    ("stellar_max_fee_stroops", 99, "base fee"),
    ("stellar_max_fee_stroops", "lots", "whole number"),
    ("stellar_market_order_slippage", "1", "below 1"),
    ("stellar_market_order_slippage", "-0.1", "at least 0"),
    ("stellar_market_order_slippage", "lots", "fraction"),
])
def test_bad_values_are_rejected_with_a_clear_message(field, value, hint):
    with pytest.raises(ValidationError) as info:
        make_config(**{field: value})
    assert hint in str(info.value)


def test_assignment_is_validated_too():
    config = make_config()
    with pytest.raises(ValidationError):
        config.stellar_max_fee_stroops = 5
    config.stellar_horizon_url = ""
    assert config.stellar_horizon_url is None


def test_secret_key_is_required():
    with pytest.raises(ValidationError):
        utils.StellarConfigMap()


def test_secret_fields_are_secure_and_hidden():
    channel_secret = Keypair.random().secret
    config = make_config(stellar_channel_secret_keys=channel_secret)
    adapter = ClientConfigAdapter(config)
    assert adapter.is_secure("stellar_secret_key")
    assert adapter.is_secure("stellar_channel_secret_keys")
    assert not adapter.is_secure("stellar_horizon_url")
    assert isinstance(config.stellar_secret_key, SecretStr)
    for text in (repr(config), str(config)):
        assert SECRET not in text and channel_secret not in text
    printable = {item.attr: item.printable_value for item in adapter.traverse()}
    assert SECRET not in printable["stellar_secret_key"]


def test_every_field_has_a_prompt_and_reaches_the_exchange():
    for model in (utils.StellarConfigMap, utils.StellarTestnetConfigMap):
        for name, field in model.model_fields.items():
            if name == "connector":
                continue
            assert field.json_schema_extra["prompt"], name
            assert field.json_schema_extra["is_connect_key"], name
    assert utils.StellarConfigMap.model_fields["stellar_secret_key"].json_schema_extra["prompt_on_new"]


def test_api_keys_passed_to_the_exchange():
    adapter = ClientConfigAdapter(make_config(stellar_markets=f"USDC:{ISSUER}"))
    keys = api_keys_from_connector_config_map(adapter)
    assert keys["stellar_secret_key"] == SECRET
    assert keys["stellar_markets"] == f"USDC:{ISSUER}"
    assert keys["stellar_channel_secret_keys"] == ""
    assert "stellar_horizon_url" not in keys          # unset optional settings are left to the exchange


def test_testnet_domain_declarations():
    domain = CONSTANTS.TESTNET_DOMAIN
    assert utils.OTHER_DOMAINS == ["stellar_testnet"]
    assert utils.OTHER_DOMAINS_PARAMETER[domain] == domain
    assert utils.OTHER_DOMAINS_EXAMPLE_PAIR[domain] == "XLM-USDC"
    assert utils.OTHER_DOMAINS_DEFAULT_FEES[domain] is utils.DEFAULT_FEES
    assert isinstance(utils.OTHER_DOMAINS_KEYS[domain], utils.StellarTestnetConfigMap)
    assert utils.OTHER_DOMAINS_KEYS[domain].connector == domain


def test_testnet_fields_mirror_the_main_ones():
    main = {name.replace("stellar_", "", 1) for name in utils.StellarConfigMap.model_fields if name != "connector"}
    testnet = {name.replace("stellar_testnet_", "", 1)
               for name in utils.StellarTestnetConfigMap.model_fields if name != "connector"}
    assert main == testnet


def test_testnet_keys_reach_the_exchange_under_the_main_names():
    """Hummingbot renames stellar_testnet_* to stellar_* and adds the domain (as settings.py does)."""
    config = utils.StellarTestnetConfigMap(stellar_testnet_secret_key=SECRET, stellar_testnet_markets="")
    keys = api_keys_from_connector_config_map(ClientConfigAdapter(config))
    setting = ConnectorSetting(
        name="stellar_testnet", type=ConnectorType.Exchange, example_pair=utils.OTHER_DOMAINS_EXAMPLE_PAIR[
            "stellar_testnet"], centralised=utils.CENTRALIZED, use_ethereum_wallet=False,
        trade_fee_schema=utils.DEFAULT_FEES, config_keys=utils.OTHER_DOMAINS_KEYS["stellar_testnet"],
        is_sub_domain=True, parent_name="stellar", domain_parameter="stellar_testnet", use_eth_gas_lookup=False)
    params = setting.conn_init_parameters(trading_pairs=["XLM-USDC"], api_keys=keys)
    assert params["stellar_secret_key"] == SECRET
    assert params["domain"] == "stellar_testnet"
    assert params["stellar_max_fee_stroops"] == CONSTANTS.DEFAULT_MAX_FEE_STROOPS
    assert "stellar_markets" not in params


def test_importing_it_loads_no_stellar_sdk():
    """Hummingbot's settings scan imports stellar_utils in every Hummingbot process: no stellar-sdk there."""
    script = (
        "import conftest\n"   # the working tree's connector first, as in the test session
        "import hummingbot.connector.exchange.stellar.stellar_utils as utils, sys\n"
        f"assert utils.__file__.startswith({str(REPO_ROOT)!r}), utils.__file__\n"
        "print(any(m.startswith('stellar_sdk') for m in sys.modules))\n"
    )
    environment = {key: value for key, value in os.environ.items() if key != "STELLAR_PROFILING"}
    completed = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=environment,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "False"


def test_the_markets_validator_still_checks_issuers_with_stellar_sdk():
    from hummingbot.connector.exchange.stellar.stellar_assets import StellarConfigError

    with pytest.raises(StellarConfigError, match="not a valid Stellar account id"):
        utils.parse_markets(f"USDC:{ISSUER[:-1]}A")
    assert utils.validate_markets(f"usdc:{ISSUER}") == f"usdc:{ISSUER}"


@pytest.mark.parametrize("value, expected", [
    (None, "book+pool"), ("", "book+pool"), ("   ", "book+pool"), ("book", "book"), (" Book ", "book"),
    ("book+pool", "book+pool"), ("BOOK + POOL", "book+pool"),
])
def test_book_liquidity_reads_book_or_book_plus_pool_and_blank_as_the_default(value, expected):
    assert utils.validate_book_liquidity(value) == expected
    assert make_config(stellar_book_liquidity=value).stellar_book_liquidity == expected
    assert CONSTANTS.DEFAULT_BOOK_LIQUIDITY == "book+pool"


@pytest.mark.parametrize("value", ["pool", "book+", "offers", "book+pool+amm", 3])
def test_a_book_liquidity_that_is_not_book_or_book_plus_pool_is_rejected(value):
    with pytest.raises(ValueError, match="book, book\\+pool"):
        utils.validate_book_liquidity(value)
    with pytest.raises(ValidationError):
        make_config(stellar_book_liquidity=value)
