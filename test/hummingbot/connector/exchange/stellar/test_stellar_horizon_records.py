from hummingbot.connector.exchange.stellar.stellar_horizon_records import (
    close_timestamp,
    record_asset_key,
    trade_id,
)

ISSUER = "GBBD47IF6LWK7P7MDEVSCWR7DPUWV3NY3DTQEVFL4NAT4AQH3ZLLFLA5"


def test_record_asset_key_is_the_key_stellar_assets_writes():
    trade = {"base_asset_type": "native", "counter_asset_type": "credit_alphanum4",
             "counter_asset_code": "USDC", "counter_asset_issuer": ISSUER}
    assert record_asset_key(trade, "base_") == "native"
    assert record_asset_key(trade, "counter_") == f"USDC:{ISSUER}"
    assert record_asset_key(trade, "selling_") is None


def test_close_timestamp_reads_horizon_times_and_refuses_garbage_with_zero():
    assert close_timestamp("1970-01-01T00:01:40Z") == 100.0
    assert close_timestamp("1970-01-01T00:01:40+00:00") == 100.0
    assert close_timestamp("1970-01-01T00:02:00Z") == 120.0   # not the remembered answer
    assert close_timestamp("yesterday") == 0.0
    assert close_timestamp(None) == 0.0


def test_trade_id_drops_zero_padding_whoever_wrote_it():
    assert trade_id({"paging_token": "000123-0002", "id": "x"}) == "123-2"
    assert trade_id({"id": "456-0"}) == "456-0"
    assert trade_id({"id": "odd"}) == "odd"
