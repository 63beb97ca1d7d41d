"""Hummingbot conventions for the Stellar connector: fees, example pair, config maps, domains.

Hummingbot's settings scan imports this module in every Hummingbot process, so it imports no
stellar-sdk: the one validator that needs it (the assets of `stellar_markets`) imports it when called.

Every setting left blank ("" or whitespace, as Hummingbot passes a key the user left empty) means
its default: for the optional ones "use the domain's default". Secret fields are plain SecretStr
(empty when unused) because Hummingbot encrypts and decrypts exactly the fields of that type.
"""
from decimal import Decimal
from typing import Any, List, Optional

from hummingbot.client.config.config_data_types import BaseConnectorConfigMap
from hummingbot.core.data_type.trade_fee import TradeFeeSchema
from pydantic import ConfigDict, Field, SecretStr, field_validator

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar.stellar_config_cache import blank_to_none, split_urls

CENTRALIZED = False
EXAMPLE_PAIR = "XLM-USDC"
DEFAULT_CANCEL_ALL_ON_STOP = True
# What the connector does at start with offers of the account that no saved order knows (see stellar_recovery)
CANCEL = "cancel"
ADOPT = "adopt"
UNKNOWN_OFFER_POLICIES = (CANCEL, ADOPT)
_TRUE_WORDS = frozenset({"true", "t", "yes", "y", "on", "1"})
_FALSE_WORDS = frozenset({"false", "f", "no", "n", "off", "0"})

# The SDEX charges no trading fee; the network fee is paid per transaction in XLM (see stellar_max_fee_stroops).
DEFAULT_FEES = TradeFeeSchema(
    maker_percent_fee_decimal=Decimal("0"),
    taker_percent_fee_decimal=Decimal("0"),
    buy_percent_fee_deducted_from_returns=True,
)


def parse_markets(value: Any) -> List[str]:
    """`stellar_markets` (comma separated CODE:ISSUER, or a list) -> canonical "CODE:ISSUER" keys."""
    value = blank_to_none(value)
    if value is None:
        return []
    # Only now: stellar-sdk (which validates the issuers) is too heavy for Hummingbot's settings scan.
    try:
        from hummingbot.connector.exchange.stellar.stellar_assets import StellarConfigError, asset_key, parse_asset
    except ModuleNotFoundError as error:   # Hummingbot shows a ValueError and asks again; anything else hangs it
        raise ValueError(f"{error.name} is not installed in this Python: run `hummingbot-stellar install` or "
                         f"pip install 'stellar-sdk[aiohttp]>=16,<17'") from None

    items = value.split(",") if isinstance(value, str) else list(value)
    markets = []
    for item in items:
        if item is None or not str(item).strip():
            continue
        asset = parse_asset(str(item))
        if asset.issuer is None:
            raise StellarConfigError("stellar_markets lists issued assets only (CODE:ISSUER); XLM is always known")
        key = asset_key(asset)
        if key not in markets:
            markets.append(key)
    return markets


def validate_unknown_offers(value: Any) -> str:
    """`stellar_unknown_offers`: "cancel" (also when blank) or "adopt"."""
    policy = (blank_to_none(value) or CANCEL).lower() if isinstance(value, str) or value is None else value
    if policy not in UNKNOWN_OFFER_POLICIES:
        raise ValueError(f"stellar_unknown_offers must be one of {', '.join(UNKNOWN_OFFER_POLICIES)}, got {value!r}")
    return policy


def validate_book_liquidity(value: Any) -> str:
    """`stellar_book_liquidity`: "book" (the offers alone) or "book+pool" (also the pair's liquidity pool; the
    default, also when blank). Case and spaces around "+" do not matter."""
    mode = blank_to_none(value)
    if mode is None:
        return CONSTANTS.DEFAULT_BOOK_LIQUIDITY
    mode = "+".join(part.strip() for part in str(mode).lower().split("+"))
    if mode not in CONSTANTS.BOOK_LIQUIDITY_MODES:
        raise ValueError(f"stellar_book_liquidity must be one of {', '.join(CONSTANTS.BOOK_LIQUIDITY_MODES)}, "
                         f"got {value!r}")
    return mode


def validate_markets(value: Any) -> Optional[str]:
    markets = parse_markets(value)
    return ",".join(markets) if markets else None


def validate_url(value: Any) -> Optional[str]:
    value = blank_to_none(value)
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith(("http://", "https://")) or len(value) <= len("https://"):
        raise ValueError(f"{value!r} is not an http:// or https:// URL")
    return value.rstrip("/")


def validate_horizon_urls(value: Any) -> Optional[str]:
    """`stellar_horizon_url`: one URL, or several separated by commas (the connector fails over between them)."""
    urls = [validate_url(url) for url in split_urls(value)]
    return ",".join(urls) if urls else None


def validate_passphrase(value: Any) -> Optional[str]:
    value = blank_to_none(value)
    if value is not None and not isinstance(value, str):
        raise ValueError("The network passphrase must be text, e.g. 'Test SDF Network ; September 2015'")
    return value


def validate_max_fee(value: Any) -> int:
    value = blank_to_none(value)
    if value is None:
        return CONSTANTS.DEFAULT_MAX_FEE_STROOPS
    try:
        fee = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"The max fee must be a whole number of stroops, got {value!r}") from None
    if isinstance(value, float) and value != fee:
        raise ValueError(f"The max fee must be a whole number of stroops, got {value!r}")
    if fee < CONSTANTS.BASE_FEE_STROOPS:
        raise ValueError(f"The max fee per operation must be at least the network's base fee "
                         f"{CONSTANTS.BASE_FEE_STROOPS} stroops, got {fee}")
    return fee


def validate_slippage(value: Any) -> Optional[Decimal]:
    value = blank_to_none(value)
    if value is None:
        return None
    try:
        slippage = Decimal(str(value))
    except ArithmeticError:
        raise ValueError(f"The market order slippage must be a fraction such as 0.02, got {value!r}") from None
    if not (slippage.is_finite() and Decimal(0) <= slippage < Decimal(1)):
        raise ValueError(f"The market order slippage must be at least 0 and below 1, got {value!r}")
    return slippage


def validate_flag(value: Any, default: bool) -> bool:
    """A yes/no setting: blank (or None) is `default`; otherwise true/false, yes/no, on/off, 1/0 (any case)."""
    value = blank_to_none(value)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    word = value.lower() if isinstance(value, str) else None
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ValueError(f"Expected yes or no (true/false), got {value!r}")


def validate_cancel_all_on_stop(value: Any) -> bool:
    return validate_flag(value, DEFAULT_CANCEL_ALL_ON_STOP)


def validate_secret_text(value: Any) -> Any:
    """Blank text ("" or whitespace) or None is the empty secret: unused, or no key (market data only).

    The value itself is checked by StellarAuth, which never echoes it."""
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if blank_to_none(text) is None:
        return SecretStr("")
    return value


def _validate_trading_secret(value: Any) -> Any:
    # The trading key is required: None stays an error; blank text is the empty secret.
    return value if value is None else validate_secret_text(value)


BOOK_LIQUIDITY_PROMPT = ("Order book shown to strategies: book (offers only) or book+pool (also the pair's liquidity "
                         "pool, at the prices a taker gets; empty for book+pool)")
HORIZON_URL_PROMPT = ("Horizon URL, or several separated by commas to fail over between them "
                      "(empty for {default})")


def _field(prompt: str, default: Any = None, secure: bool = False, prompt_on_new: bool = False) -> Any:
    return Field(
        default=default,
        json_schema_extra={
            "prompt": prompt,
            "is_secure": secure,
            "is_connect_key": True,
            "prompt_on_new": prompt_on_new,
        },
    )


class StellarConfigMap(BaseConnectorConfigMap):
    connector: str = "stellar"
    stellar_secret_key: SecretStr = _field(
        "Enter your Stellar secret key (S..., the trading account)", default=..., secure=True, prompt_on_new=True)
    stellar_markets: Optional[str] = _field(
        "Assets you trade beyond the known list, comma separated CODE:ISSUER (empty for none)", prompt_on_new=True)
    stellar_horizon_url: Optional[str] = _field(HORIZON_URL_PROMPT.format(default="the network's default"),
                                                prompt_on_new=True)
    stellar_network_passphrase: Optional[str] = _field("Network passphrase (empty for the network's default)",
                                                       prompt_on_new=True)
    stellar_rpc_url: Optional[str] = _field("Stellar RPC URL (empty for none or the network's default)")
    stellar_channel_secret_keys: SecretStr = _field(
        "Channel account secret keys, comma separated (empty for none)", default=SecretStr(""), secure=True)
    stellar_max_fee_stroops: int = _field(
        "Maximum fee per operation in stroops", default=CONSTANTS.DEFAULT_MAX_FEE_STROOPS)
    stellar_market_order_slippage: Optional[Decimal] = _field(
        "Worst price move a market order accepts, as a fraction (empty for the connector's default)")
    stellar_cancel_all_on_stop: bool = _field(
        "Cancel all open offers when the bot stops?", default=DEFAULT_CANCEL_ALL_ON_STOP)
    stellar_unknown_offers: str = _field(
        "At start, offers of the account no saved order knows: cancel or adopt", default=CANCEL)
    stellar_book_liquidity: str = _field(BOOK_LIQUIDITY_PROMPT, default=CONSTANTS.DEFAULT_BOOK_LIQUIDITY)
    model_config = ConfigDict(title="stellar")

    _markets = field_validator("stellar_markets", mode="before")(classmethod(lambda cls, v: validate_markets(v)))
    _horizon_urls = field_validator("stellar_horizon_url", mode="before")(
        classmethod(lambda cls, v: validate_horizon_urls(v)))
    _rpc_url = field_validator("stellar_rpc_url", mode="before")(classmethod(lambda cls, v: validate_url(v)))
    _passphrase = field_validator("stellar_network_passphrase", mode="before")(
        classmethod(lambda cls, v: validate_passphrase(v)))
    _secret = field_validator("stellar_secret_key", mode="before")(
        classmethod(lambda cls, v: _validate_trading_secret(v)))
    _channels = field_validator("stellar_channel_secret_keys", mode="before")(
        classmethod(lambda cls, v: validate_secret_text(v)))
    _max_fee = field_validator("stellar_max_fee_stroops", mode="before")(
        classmethod(lambda cls, v: validate_max_fee(v)))
    _slippage = field_validator("stellar_market_order_slippage", mode="before")(
        classmethod(lambda cls, v: validate_slippage(v)))
    _cancel_all = field_validator("stellar_cancel_all_on_stop", mode="before")(
        classmethod(lambda cls, v: validate_cancel_all_on_stop(v)))
    _unknown_offers = field_validator("stellar_unknown_offers", mode="before")(
        classmethod(lambda cls, v: validate_unknown_offers(v)))
    _book_liquidity = field_validator("stellar_book_liquidity", mode="before")(
        classmethod(lambda cls, v: validate_book_liquidity(v)))


KEYS = StellarConfigMap.model_construct()

OTHER_DOMAINS = [CONSTANTS.TESTNET_DOMAIN]
OTHER_DOMAINS_PARAMETER = {CONSTANTS.TESTNET_DOMAIN: CONSTANTS.TESTNET_DOMAIN}
OTHER_DOMAINS_EXAMPLE_PAIR = {CONSTANTS.TESTNET_DOMAIN: "XLM-USDC"}
OTHER_DOMAINS_DEFAULT_FEES = {CONSTANTS.TESTNET_DOMAIN: DEFAULT_FEES}


class StellarTestnetConfigMap(BaseConnectorConfigMap):
    # Hummingbot renames "stellar_testnet_*" to "stellar_*" when it passes these to the exchange.
    connector: str = "stellar_testnet"
    stellar_testnet_secret_key: SecretStr = _field(
        "Enter your Stellar testnet secret key (S..., the trading account)", default=..., secure=True,
        prompt_on_new=True)
    stellar_testnet_markets: Optional[str] = _field(
        "Testnet assets you trade beyond the known list, comma separated CODE:ISSUER (empty for none)",
        prompt_on_new=True)
    stellar_testnet_horizon_url: Optional[str] = _field(HORIZON_URL_PROMPT.format(default="the testnet default"),
                                                        prompt_on_new=True)
    stellar_testnet_network_passphrase: Optional[str] = _field("Network passphrase (empty for the testnet default)",
                                                               prompt_on_new=True)
    stellar_testnet_rpc_url: Optional[str] = _field("Stellar RPC URL (empty for the testnet default)")
    stellar_testnet_channel_secret_keys: SecretStr = _field(
        "Channel account secret keys, comma separated (empty for none)", default=SecretStr(""), secure=True)
    stellar_testnet_max_fee_stroops: int = _field(
        "Maximum fee per operation in stroops", default=CONSTANTS.DEFAULT_MAX_FEE_STROOPS)
    stellar_testnet_market_order_slippage: Optional[Decimal] = _field(
        "Worst price move a market order accepts, as a fraction (empty for the connector's default)")
    stellar_testnet_cancel_all_on_stop: bool = _field(
        "Cancel all open offers when the bot stops?", default=DEFAULT_CANCEL_ALL_ON_STOP)
    stellar_testnet_unknown_offers: str = _field(
        "At start, offers of the account no saved order knows: cancel or adopt", default=CANCEL)
    stellar_testnet_book_liquidity: str = _field(BOOK_LIQUIDITY_PROMPT, default=CONSTANTS.DEFAULT_BOOK_LIQUIDITY)
    model_config = ConfigDict(title="stellar_testnet")

    _markets = field_validator("stellar_testnet_markets", mode="before")(
        classmethod(lambda cls, v: validate_markets(v)))
    _horizon_urls = field_validator("stellar_testnet_horizon_url", mode="before")(
        classmethod(lambda cls, v: validate_horizon_urls(v)))
    _rpc_url = field_validator("stellar_testnet_rpc_url", mode="before")(classmethod(lambda cls, v: validate_url(v)))
    _passphrase = field_validator("stellar_testnet_network_passphrase", mode="before")(
        classmethod(lambda cls, v: validate_passphrase(v)))
    _secret = field_validator("stellar_testnet_secret_key", mode="before")(
        classmethod(lambda cls, v: _validate_trading_secret(v)))
    _channels = field_validator("stellar_testnet_channel_secret_keys", mode="before")(
        classmethod(lambda cls, v: validate_secret_text(v)))
    _max_fee = field_validator("stellar_testnet_max_fee_stroops", mode="before")(
        classmethod(lambda cls, v: validate_max_fee(v)))
    _slippage = field_validator("stellar_testnet_market_order_slippage", mode="before")(
        classmethod(lambda cls, v: validate_slippage(v)))
    _cancel_all = field_validator("stellar_testnet_cancel_all_on_stop", mode="before")(
        classmethod(lambda cls, v: validate_cancel_all_on_stop(v)))
    _unknown_offers = field_validator("stellar_testnet_unknown_offers", mode="before")(
        classmethod(lambda cls, v: validate_unknown_offers(v)))
    _book_liquidity = field_validator("stellar_testnet_book_liquidity", mode="before")(
        classmethod(lambda cls, v: validate_book_liquidity(v)))


OTHER_DOMAINS_KEYS = {CONSTANTS.TESTNET_DOMAIN: StellarTestnetConfigMap.model_construct()}
