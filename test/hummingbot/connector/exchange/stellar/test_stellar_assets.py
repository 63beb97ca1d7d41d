import pytest
from stellar_sdk import Asset, Keypair

from hummingbot.connector.exchange.stellar.stellar_assets import (
    StellarConfigError,
    asset_from_horizon,
    asset_key,
    horizon_asset_params,
    parse_asset,
    token_name,
)

ISSUER = "GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN"
USDC = Asset("USDC", ISSUER)


@pytest.mark.parametrize("text", ["XLM", "native", " xlm ", "NATIVE"])
def test_native_words_parse_to_lumens(text):
    assert parse_asset(text).is_native()


def test_code_and_issuer_parse_to_an_issued_asset():
    assert parse_asset(f"USDC:{ISSUER}") == USDC
    long_code = parse_asset(f"LONGCODE123:{ISSUER}")
    assert long_code.code == "LONGCODE123" and long_code.type == "credit_alphanum12"
    assert parse_asset(f" USDC : {ISSUER} ") == USDC


@pytest.mark.parametrize("text, hint", [
    ("USDC", "no issuer"),
    (f":{ISSUER}", "1 to 12 letters"),
    (f"THIRTEENCHARS:{ISSUER}", "1 to 12 letters"),
    (f"US-D:{ISSUER}", "1 to 12 letters"),
    ("USDC:GNOTAKEY", "not a valid Stellar account id"),
    (f"USDC:{ISSUER[:-1]}A", "not a valid Stellar account id"),
    ("", "no issuer"),
])
def test_malformed_assets_name_the_offending_text(text, hint):
    with pytest.raises(StellarConfigError) as info:
        parse_asset(text)
    assert hint in str(info.value)
    assert repr(text) in str(info.value)


def test_secret_key_as_issuer_is_rejected():
    secret = Keypair.random().secret
    with pytest.raises(StellarConfigError):
        parse_asset(f"USDC:{secret}")


def test_non_text_is_rejected():
    with pytest.raises(StellarConfigError):
        parse_asset(None)


def test_keys_and_token_names():
    assert asset_key(Asset.native()) == "native"
    assert asset_key(USDC) == f"USDC:{ISSUER}"
    assert token_name(Asset.native()) == "XLM"
    assert token_name(USDC) == "USDC"
    assert parse_asset(asset_key(USDC)) == USDC
    assert parse_asset(asset_key(Asset.native())).is_native()


def test_horizon_params_with_prefix():
    assert horizon_asset_params(Asset.native(), "buying_") == {"buying_asset_type": "native"}
    assert horizon_asset_params(USDC, "selling_") == {
        "selling_asset_type": "credit_alphanum4",
        "selling_asset_code": "USDC",
        "selling_asset_issuer": ISSUER,
    }
    assert horizon_asset_params(USDC) == {"asset_type": "credit_alphanum4", "asset_code": "USDC",
                                          "asset_issuer": ISSUER}


def test_asset_from_horizon_reads_both_forms_and_reuses_objects():
    record = {"base_asset_type": "native",
              "counter_asset_type": "credit_alphanum4", "counter_asset_code": "USDC", "counter_asset_issuer": ISSUER}
    assert asset_from_horizon(record, "base_").is_native()
    first = asset_from_horizon(record, "counter_")
    assert first == USDC
    assert asset_from_horizon(dict(record), "counter_") is first
    balance = {"asset_type": "credit_alphanum4", "asset_code": "USDC", "asset_issuer": ISSUER}
    assert asset_from_horizon(balance) == USDC


def test_asset_from_horizon_round_trips_params():
    for asset in (Asset.native(), USDC, Asset("LONGCODE", ISSUER)):
        assert asset_from_horizon(horizon_asset_params(asset, "x_"), "x_") == asset


@pytest.mark.parametrize("record", [
    {},
    {"asset_type": "liquidity_pool_shares"},
    {"asset_type": "credit_alphanum4", "asset_code": "USDC"},
    {"asset_type": "credit_alphanum4", "asset_code": "USDC", "asset_issuer": "GBAD"},
])
def test_asset_from_horizon_rejects_unusable_records(record):
    with pytest.raises(StellarConfigError):
        asset_from_horizon(record)


def test_offer_asset_reads_nested_and_flat_offer_records_alike():
    from hummingbot.connector.exchange.stellar.stellar_assets import offer_asset

    issuer = Keypair.random().public_key
    nested = {"selling": {"asset_type": "native"},
              "buying": {"asset_type": "credit_alphanum4", "asset_code": "USDC", "asset_issuer": issuer}}
    flat = {"selling_asset_type": "native", "buying_asset_type": "credit_alphanum4",
            "buying_asset_code": "USDC", "buying_asset_issuer": issuer}
    for offer in (nested, flat):
        assert offer_asset(offer, "selling") == Asset.native()
        assert offer_asset(offer, "buying") == Asset("USDC", issuer)
