from pathlib import Path

import pytest
from stellar_sdk import Asset, Keypair

from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from hummingbot.connector.exchange.stellar.stellar_assets import StellarConfigError
from hummingbot.connector.exchange.stellar.stellar_instrument_cache import (
    KNOWN_ISSUERS_PATH,
    InstrumentCache,
    load_known_issuers,
)

CIRCLE_USDC = "GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN"
OTHER = Keypair.random().public_key
THIRD = Keypair.random().public_key


@pytest.fixture
def known_file(tmp_path: Path) -> Path:
    path = tmp_path / "known.yml"
    path.write_text(
        "stellar:\n"
        f"  - {{code: USDC, issuer: {CIRCLE_USDC}}}\n"
        f"  - {{code: DUP, issuer: {OTHER}}}\n"
        f"  - {{code: DUP, issuer: {THIRD}}}\n"
        "stellar_testnet: []\n")
    return path


def test_shipped_known_issuers_resolve_usdc_on_both_networks():
    public = InstrumentCache("stellar")
    base, quote = public.assets_for_pair("XLM-USDC")
    assert base.is_native() and quote == Asset("USDC", CIRCLE_USDC)
    testnet_usdc = InstrumentCache("stellar_testnet").asset_for_token("USDC")
    assert testnet_usdc.code == "USDC" and testnet_usdc.issuer != CIRCLE_USDC


def test_shipped_file_is_reachable_through_the_conf_symlink():
    repo_root = Path(__file__).resolve().parents[5]
    link = repo_root / "conf" / "stellar_known_issuers.yml"
    assert link.is_symlink() and link.resolve() == KNOWN_ISSUERS_PATH.resolve()


def test_unknown_domain_has_no_known_assets():
    cache = InstrumentCache("sandbox", extra_markets=[f"USD:{OTHER}"])
    assert cache.assets_for_pair("XLM-USD")[1] == Asset("USD", OTHER)
    assert load_known_issuers("sandbox") == []


def test_user_markets_win_over_the_known_list(known_file):
    cache = InstrumentCache("stellar", extra_markets=[f"USDC:{OTHER}"], known_issuers_path=known_file)
    assert cache.asset_for_token("USDC") == Asset("USDC", OTHER)


def test_user_markets_may_be_the_configs_comma_separated_text(known_file):
    cache = InstrumentCache("stellar", extra_markets=f"USD:{OTHER}, EUR:{THIRD}", known_issuers_path=known_file)
    assert cache.assets_for_pair("USD-EUR") == (Asset("USD", OTHER), Asset("EUR", THIRD))


def test_ambiguous_code_names_both_issuers_and_the_fix(known_file):
    cache = InstrumentCache("stellar", known_issuers_path=known_file)
    with pytest.raises(StellarConfigError) as info:
        cache.assets_for_pair("XLM-DUP")
    message = str(info.value)
    assert OTHER in message and THIRD in message
    assert "ambiguous" in message and "stellar_markets" in message and "DUP:ISSUER" in message


def test_user_choice_resolves_ambiguity(known_file):
    cache = InstrumentCache("stellar", extra_markets=[f"DUP:{THIRD}"], known_issuers_path=known_file)
    assert cache.asset_for_token("DUP") == Asset("DUP", THIRD)


def test_two_user_issuers_for_one_code_are_ambiguous(known_file):
    cache = InstrumentCache("stellar", extra_markets=[f"ABC:{OTHER}", f"ABC:{THIRD}"], known_issuers_path=known_file)
    with pytest.raises(StellarConfigError, match="ambiguous"):
        cache.asset_for_token("ABC")


def test_unknown_code_says_to_add_it_to_stellar_markets(known_file):
    cache = InstrumentCache("stellar", known_issuers_path=known_file)
    with pytest.raises(StellarConfigError) as info:
        cache.assets_for_pair("XLM-NOPE")
    assert "NOPE:ISSUER" in str(info.value) and "stellar_markets" in str(info.value)


@pytest.mark.parametrize("pair, hint", [
    ("XLMUSDC", "exactly one dash"),
    ("XLM-USDC-EUR", "exactly one dash"),
    ("-USDC", "empty side"),
    ("XLM-", "empty side"),
    ("XLM-native", "same asset"),
    ("USDC-USDC", "same asset"),
])
def test_malformed_pairs(known_file, pair, hint):
    cache = InstrumentCache("stellar", known_issuers_path=known_file)
    with pytest.raises(StellarConfigError, match=hint):
        cache.assets_for_pair(pair)


def test_full_asset_keys_work_as_tokens(known_file):
    cache = InstrumentCache("stellar", known_issuers_path=known_file)
    base, quote = cache.assets_for_pair(f"DUP:{OTHER}-XLM")
    assert base == Asset("DUP", OTHER) and quote.is_native()


def test_pair_for_assets_uses_the_shortest_token_that_resolves_back(known_file):
    cache = InstrumentCache("stellar", known_issuers_path=known_file)
    usdc = Asset("USDC", CIRCLE_USDC)
    assert cache.pair_for_assets(Asset.native(), usdc) == "XLM-USDC"
    assert cache.token_for_asset(Asset("USDC", OTHER)) == f"USDC:{OTHER}"   # not the known USDC
    assert cache.token_for_asset(Asset("DUP", OTHER)) == f"DUP:{OTHER}"     # ambiguous code
    assert cache.token_for_asset(Asset("XLM", OTHER)) == f"XLM:{OTHER}"     # not lumens
    for asset in (usdc, Asset("DUP", OTHER), Asset("XLM", OTHER)):
        assert cache.asset_for_token(cache.token_for_asset(asset)) == asset


def test_horizon_pair_params_sell_base_buy_quote(known_file):
    cache = InstrumentCache("stellar", known_issuers_path=known_file)
    assert cache.horizon_pair_params("USDC-XLM") == {
        "selling_asset_type": "credit_alphanum4",
        "selling_asset_code": "USDC",
        "selling_asset_issuer": CIRCLE_USDC,
        "buying_asset_type": "native",
    }


class CountingRecorder:
    def __init__(self):
        self.counts = {}

    def add(self, point, duration_ns):
        pass

    def incr(self, point, n):
        self.counts[point] = self.counts.get(point, 0) + n


def test_hits_and_misses_are_counted_and_reported(known_file):
    recorder = CountingRecorder()
    measurement.install(recorder)
    try:
        cache = InstrumentCache("stellar", known_issuers_path=known_file)
        first = cache.assets_for_pair("XLM-USDC")
        assert (cache.hits, cache.misses) == (0, 1)
        assert cache.assets_for_pair("XLM-USDC") is first
        assert cache.assets_for_pair("XLM-USDC") is first
        assert (cache.hits, cache.misses) == (2, 1)
    finally:
        measurement.uninstall()
    assert recorder.counts == {"cache_hit.instrument": 2, "cache_miss.instrument": 1}


def test_errors_are_not_cached_as_results(known_file):
    cache = InstrumentCache("stellar", known_issuers_path=known_file)
    for _ in range(2):
        with pytest.raises(StellarConfigError):
            cache.assets_for_pair("XLM-NOPE")
    assert cache.misses == 2


def test_cache_is_bounded(known_file):
    cache = InstrumentCache("stellar", extra_markets=[f"A{i}:{OTHER}" for i in range(10)],
                            known_issuers_path=known_file, maxsize=4)
    for i in range(10):
        cache.assets_for_pair(f"XLM-A{i}")
    cache.assets_for_pair("XLM-A0")
    assert cache.misses == 11 and cache.hits == 0


def test_bad_known_issuers_file_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("stellar:\n  - {code: USDC}\n")
    with pytest.raises(StellarConfigError, match="bad entry"):
        InstrumentCache("stellar", known_issuers_path=path)
    with pytest.raises(StellarConfigError, match="does not exist"):
        InstrumentCache("stellar", known_issuers_path=tmp_path / "missing.yml")


def test_malformed_user_market_is_rejected():
    with pytest.raises(StellarConfigError, match="no issuer"):
        InstrumentCache("stellar", extra_markets=["USDC"])
