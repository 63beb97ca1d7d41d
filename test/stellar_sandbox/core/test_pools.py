"""Liquidity pools in the core ledger: ids, math, share trustlines, deposits and withdrawals (CAP-38 and
stellar-core's rounding), every result code of the pool operations."""
from __future__ import annotations

import pytest
from stellar_sdk import Asset, ChangeTrust, LiquidityPoolAsset, LiquidityPoolDeposit, LiquidityPoolWithdraw, Price, xdr

from stellar_sandbox.core.amounts import INT64_MAX
from stellar_sandbox.core.assets import NATIVE, key_from_sdk
from stellar_sandbox.core.pools import (
    deposit_amounts,
    ordered,
    pool_cost,
    pool_id_for,
    pool_payout,
    pool_share_key,
    withdrawal_amounts,
)
from stellar_sandbox.core.state import AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG
from test.stellar_sandbox.core.pool_support import WIDE, XLM, PoolLedger, S, cap_cost, cap_payout, code_name


@pytest.fixture
def ledger() -> PoolLedger:
    return PoolLedger()


@pytest.fixture
def usd(ledger) -> Asset:
    return ledger.asset("USD")


# ---- ids and math ---------------------------------------------------------------------------------


def test_pool_id_is_the_hash_of_the_ordered_parameters(usd):
    usd_key = key_from_sdk(usd)
    assert ordered(usd_key, NATIVE) == (NATIVE, usd_key)
    expected = LiquidityPoolAsset(XLM, usd).liquidity_pool_id
    assert pool_id_for(usd_key, NATIVE) == pool_id_for(NATIVE, usd_key) == expected
    eur = Asset("EURO1", usd.issuer)  # alphanum12 sorts after alphanum4 whatever the code
    assert pool_id_for(key_from_sdk(eur), usd_key) == LiquidityPoolAsset(usd, eur).liquidity_pool_id


@pytest.mark.parametrize("reserve_in,reserve_out,amount", [
    (S("1000"), S("2000"), S("10")), (S("1000"), S("2000"), 1), (7, 1_000_003, 5),
    (S("5"), S("900000"), S("123.4567891")),
])
def test_pool_payout_and_cost_are_the_caps_formulas_in_basis_points(reserve_in, reserve_out, amount):
    assert pool_payout(reserve_in, reserve_out, amount) == (cap_payout(reserve_in, reserve_out, amount) or None)
    if amount < reserve_out:
        assert pool_cost(reserve_in, reserve_out, amount) == cap_cost(reserve_in, reserve_out, amount)


def test_pool_math_exact_numbers_and_limits():
    # 10 XLM into 1000 XLM / 2000 USD: floor(0.997 * 2000e7 * 10e7 / (1000e7 + 0.997 * 10e7))
    assert pool_payout(S("1000"), S("2000"), S("10")) == 197_431_606
    # to take 20 USD out: ceil(1000e7 * 20e7 / (1980e7) / 0.997)
    assert pool_cost(S("1000"), S("2000"), S("20")) == 101_314_044
    assert pool_payout(S("2000"), S("1000"), 1) is None  # half a stroop rounds to zero: no trade
    assert pool_cost(S("1000"), S("2000"), S("2000")) is None  # would empty the reserve
    assert pool_payout(INT64_MAX - 5, S("1"), 6) is None  # would overflow the reserve
    assert pool_payout(0, S("1"), 6) is None


# ---- share trustlines ------------------------------------------------------------------------------


def test_share_trustline_needs_asset_trustlines_and_two_reserves(ledger, usd):
    alice = ledger.account("100")
    pool_asset = ledger.pool_asset(XLM, usd)
    assert code_name(ledger.apply(ChangeTrust(pool_asset), alice)) == "CHANGE_TRUST_TRUST_LINE_MISSING"
    ledger.fund(alice, usd, "10")
    before = ledger.state.account(alice).num_subentries
    outcome = ledger.ok(ChangeTrust(pool_asset, "1000"), alice)
    pool_id = pool_asset.liquidity_pool_id
    assert ledger.state.account(alice).num_subentries == before + 2
    assert ledger.state.trustline(alice, key_from_sdk(usd)).pool_use_count == 1
    pool = ledger.state.pools[pool_id]
    assert (pool.asset_a, pool.asset_b, pool.trustline_count, pool.total_shares) == (NATIVE, key_from_sdk(usd), 1, 0)
    assert [e["type"] for e in outcome.effects] == ["trustline_created", "liquidity_pool_created"]
    assert outcome.effects[0] == {"account": alice, "type": "trustline_created", "type_i": 20, "limit": "1000.0000000",
                                  "asset_type": "liquidity_pool_shares", "liquidity_pool_id": pool_id}
    assert outcome.effects[1]["liquidity_pool"] == {
        "id": pool_id, "fee_bp": 30, "type": "constant_product", "total_trustlines": "1", "total_shares": "0.0000000",
        "reserves": [{"asset": "native", "amount": "0.0000000"}, {"asset": key_from_sdk(usd), "amount": "0.0000000"}]}
    assert outcome.pools == {pool_id}
    ledger.state.check_invariants()


def test_share_trustline_reserve_and_deletion_rules(ledger, usd):
    alice = ledger.account("3.5")  # 1 XLM base + 0.5 for USD: 2 XLM spare, a pool line needs 1 (2 x 0.5)
    ledger.ok(ChangeTrust(usd), alice)  # an empty USD line: only the pool keeps it from being deleted
    bob = ledger.account("2.4")
    ledger.fund(bob, usd, "10")  # 1.5 reserved, 0.9 spare < 1
    pool_asset = ledger.pool_asset(XLM, usd)
    assert code_name(ledger.apply(ChangeTrust(pool_asset), bob)) == "CHANGE_TRUST_LOW_RESERVE"
    assert ledger.state.pools == {}  # the failed operation created nothing
    ledger.ok(ChangeTrust(pool_asset), alice)
    assert code_name(ledger.apply(ChangeTrust(usd, "0"), alice)) == "CHANGE_TRUST_CANNOT_DELETE"
    outcome = ledger.ok(ChangeTrust(pool_asset, "0"), alice)
    assert [e["type"] for e in outcome.effects] == ["trustline_removed", "liquidity_pool_removed"]
    assert outcome.effects[1]["liquidity_pool_id"] == pool_asset.liquidity_pool_id
    assert ledger.state.pools == {} and ledger.state.account(alice).num_subentries == 1
    assert ledger.state.trustline(alice, key_from_sdk(usd)).pool_use_count == 0
    ledger.state.check_invariants()


def test_share_trustline_requires_liabilities_authorization_and_valid_parameters(ledger, usd):
    alice = ledger.account("100")
    ledger.fund(alice, usd, "10")
    ledger.state.mut_trustline(alice, key_from_sdk(usd)).flags = 0
    pool_asset = ledger.pool_asset(XLM, usd)
    assert code_name(ledger.apply(ChangeTrust(pool_asset), alice)) == "CHANGE_TRUST_NOT_AUTH_MAINTAIN_LIABILITIES"
    ledger.state.mut_trustline(alice, key_from_sdk(usd)).flags = AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG
    assert ledger.apply(ChangeTrust(pool_asset), alice).success
    bad_fee = ChangeTrust(pool_asset).to_xdr_object()
    bad_fee.body.change_trust_op.line.liquidity_pool.constant_product.fee = xdr.Int32(31)
    assert code_name(ledger.apply(bad_fee, alice)) == "CHANGE_TRUST_MALFORMED"
    reversed_assets = ChangeTrust(pool_asset).to_xdr_object()
    params = reversed_assets.body.change_trust_op.line.liquidity_pool.constant_product
    params.asset_a, params.asset_b = params.asset_b, params.asset_a
    assert code_name(ledger.apply(reversed_assets, alice)) == "CHANGE_TRUST_MALFORMED"


def test_issuer_joins_a_pool_of_its_own_asset_without_trustlines(ledger, usd):
    pool_id = ledger.join(usd.issuer, XLM, usd)
    ledger.deposit(usd.issuer, XLM, "10", usd, "1000000")
    assert ledger.state.pools[pool_id].reserve_b == S("1000000")
    ledger.state.check_invariants()


# ---- deposits ------------------------------------------------------------------------------------


def test_first_deposit_takes_the_maximum_amounts_for_floor_sqrt_shares(ledger, usd):
    alice = ledger.trader(usd=(usd, "5000"))
    pool_id = ledger.join(alice, XLM, usd)
    outcome = ledger.deposit(alice, XLM, "1000", usd, "2000")
    shares = 14_142_135_623  # floor(sqrt(1000e7 * 2000e7))
    assert ledger.shares(alice, pool_id) == shares
    pool = ledger.state.pools[pool_id]
    assert (pool.reserve_a, pool.reserve_b, pool.total_shares) == (S("1000"), S("2000"), shares)
    assert ledger.balance(alice, usd) == S("3000")
    assert outcome.details["reserves_deposited"] == [{"asset": "native", "amount": "1000.0000000"},
                                                     {"asset": key_from_sdk(usd), "amount": "2000.0000000"}]
    assert outcome.details["shares_received"] == "1414.2135623"
    assert outcome.effects[0]["type"] == "liquidity_pool_deposited"
    assert outcome.effects[0]["liquidity_pool"]["total_shares"] == "1414.2135623"
    ledger.state.check_invariants()


def test_later_deposits_are_proportional_rounded_against_the_depositor(ledger, usd):
    alice = ledger.trader(usd=(usd, "5000"))
    bob = ledger.trader(usd=(usd, "5000"))
    pool_id = ledger.join(alice, XLM, usd)
    ledger.join(bob, XLM, usd)
    ledger.deposit(alice, XLM, "1000", usd, "2000")
    total = ledger.state.pools[pool_id].total_shares
    usd_before = ledger.balance(bob, usd)
    ledger.deposit(bob, XLM, "10.0000001", usd, "30")  # XLM binds: shares = floor(T * 100000001 / 1000e7)
    shares = total * 100_000_001 // S("1000")
    assert ledger.shares(bob, pool_id) == shares == 141_421_357
    amount_xlm = -(-shares * S("1000") // total)
    amount_usd = -(-shares * S("2000") // total)
    assert (amount_xlm, amount_usd) == (100_000_001, 200_000_002)
    assert usd_before - ledger.balance(bob, usd) == amount_usd
    pool = ledger.state.pools[pool_id]
    assert (pool.reserve_a, pool.reserve_b) == (S("1000") + amount_xlm, S("2000") + amount_usd)
    ledger.state.check_invariants()


def test_deposit_result_codes(ledger, usd):
    alice = ledger.trader(usd=(usd, "500"))
    pool_asset = ledger.pool_asset(XLM, usd)
    pool_id = pool_asset.liquidity_pool_id

    def deposit(xlm: str, dollars: str, low: Price = WIDE[0], high: Price = WIDE[1]) -> str:
        return code_name(ledger.apply(LiquidityPoolDeposit(pool_id, xlm, dollars, low, high), alice))

    assert deposit("10", "10") == "LIQUIDITY_POOL_DEPOSIT_NO_TRUST"
    ledger.ok(ChangeTrust(pool_asset, "100"), alice)
    assert deposit("10", "600") == "LIQUIDITY_POOL_DEPOSIT_UNDERFUNDED"
    assert deposit("10", "20", Price(1, 1), Price(2, 1)) == "LIQUIDITY_POOL_DEPOSIT_BAD_PRICE"  # 10/20 < 1
    assert deposit("100", "200") == "LIQUIDITY_POOL_DEPOSIT_LINE_FULL"  # sqrt(100*200) = 141.42 > 100
    assert deposit("10", "20", Price(1, 2), Price(1, 2)) == "LIQUIDITY_POOL_DEPOSIT_SUCCESS"  # exactly 1/2
    malformed = LiquidityPoolDeposit(pool_id, "10", "20", Price(2, 1), Price(1, 1))
    assert code_name(ledger.apply(malformed, alice)) == "LIQUIDITY_POOL_DEPOSIT_MALFORMED"
    ledger.state.mut_trustline(alice, key_from_sdk(usd)).flags = AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG
    assert deposit("1", "2") == "LIQUIDITY_POOL_DEPOSIT_NOT_AUTHORIZED"


def test_deposit_pool_full(ledger, usd):
    issuer = usd.issuer  # issues both assets: it can deposit any amount of either
    eur = Asset("EUR", issuer)
    pool_id = ledger.join(issuer, eur, usd)
    ledger.deposit(issuer, eur, "1", usd, "1")
    pool = ledger.state.mut_pool(pool_id)
    pool.reserve_a = pool.reserve_b = INT64_MAX - 5  # as if deposits had piled up
    outcome = ledger.apply(LiquidityPoolDeposit(pool_id, "100000", "100000", *WIDE), issuer)
    assert code_name(outcome) == "LIQUIDITY_POOL_DEPOSIT_POOL_FULL"


def test_deposit_into_a_tiny_pool_that_mints_no_share_is_a_bad_price(ledger, usd):
    alice = ledger.trader(usd=(usd, "500"))
    pool_id = ledger.join(alice, XLM, usd)
    low, high = Price(1, 2_000_000_000), Price(1, 1)
    ledger.ok(LiquidityPoolDeposit(pool_id, "0.0000001", "100", low, high), alice)  # floor(sqrt(1 * 1e9)) shares
    assert ledger.shares(alice, pool_id) == 31_622
    assert deposit_amounts(ledger.state.pools[pool_id], 1, 1) == (0, 0, 0)
    outcome = ledger.apply(LiquidityPoolDeposit(pool_id, "0.0000001", "0.0000001", *WIDE), alice)
    assert code_name(outcome) == "LIQUIDITY_POOL_DEPOSIT_BAD_PRICE"


# ---- withdrawals ---------------------------------------------------------------------------------


def test_withdraw_pays_out_rounded_down_and_burns_shares(ledger, usd):
    alice = ledger.trader(usd=(usd, "5000"))
    pool_id = ledger.join(alice, XLM, usd)
    ledger.deposit(alice, XLM, "1000", usd, "2000")
    pool = ledger.state.pools[pool_id]
    total, shares = pool.total_shares, 333_333_333
    expected = withdrawal_amounts(pool, shares)
    assert expected == (shares * S("1000") // total, shares * S("2000") // total) == (235_702_260, 471_404_520)
    xlm_before, usd_before = ledger.balance(alice, XLM), ledger.balance(alice, usd)
    outcome = ledger.ok(LiquidityPoolWithdraw(pool_id, "33.3333333", "23.5702260", "47.1404520"), alice)
    assert ledger.balance(alice, XLM) - xlm_before == expected[0]
    assert ledger.balance(alice, usd) - usd_before == expected[1]
    assert ledger.state.pools[pool_id].total_shares == total - shares
    assert outcome.details["reserves_received"][1] == {"asset": key_from_sdk(usd), "amount": "47.1404520"}
    assert outcome.effects[0]["type"] == "liquidity_pool_withdrew"
    assert outcome.effects[0]["shares_redeemed"] == "33.3333333"
    ledger.ok(LiquidityPoolWithdraw(pool_id, str(ledger.shares(alice, pool_id) / 10**7), "0", "0"), alice)
    pool = ledger.state.pools[pool_id]
    assert (pool.reserve_a, pool.reserve_b, pool.total_shares) == (0, 0, 0)  # the last shares take everything
    ledger.state.check_invariants()


def test_withdraw_result_codes(ledger, usd):
    alice = ledger.trader(usd=(usd, "5000"))
    pool_asset = ledger.pool_asset(XLM, usd)
    pool_id = pool_asset.liquidity_pool_id

    def withdraw(shares: str, min_xlm: str = "0", min_usd: str = "0") -> str:
        return code_name(ledger.apply(LiquidityPoolWithdraw(pool_id, shares, min_xlm, min_usd), alice))

    assert withdraw("1") == "LIQUIDITY_POOL_WITHDRAW_NO_TRUST"
    ledger.join(alice, XLM, usd)
    ledger.deposit(alice, XLM, "100", usd, "400")  # 200 shares
    assert withdraw("200.0000001") == "LIQUIDITY_POOL_WITHDRAW_UNDERFUNDED"
    assert withdraw("10", "5.0000001") == "LIQUIDITY_POOL_WITHDRAW_UNDER_MINIMUM"  # pays 5 XLM
    assert withdraw("10", "5", "20.0000001") == "LIQUIDITY_POOL_WITHDRAW_UNDER_MINIMUM"  # pays 20 USD
    ledger.ok(ChangeTrust(usd, "4600"), alice)  # holds 4600 USD now: no room for 20 more
    assert withdraw("10") == "LIQUIDITY_POOL_WITHDRAW_LINE_FULL"
    assert ledger.shares(alice, pool_id) == S("200")  # every failure left the shares
    malformed = LiquidityPoolWithdraw(pool_id, "1", "0", "0").to_xdr_object()
    malformed.body.liquidity_pool_withdraw_op.min_amount_a = xdr.Int64(-1)
    assert code_name(ledger.apply(malformed, alice)) == "LIQUIDITY_POOL_WITHDRAW_MALFORMED"


def test_pool_share_balance_in_the_account_record(ledger, usd):
    alice = ledger.trader(usd=(usd, "5000"))
    pool_id = ledger.join(alice, XLM, usd)
    ledger.deposit(alice, XLM, "100", usd, "400")
    balances = ledger.state.account_json(alice)["balances"]
    assert balances[0] == {"balance": "200.0000000", "liquidity_pool_id": pool_id, "limit": "922337203685.4775807",
                           "last_modified_ledger": ledger.ledger_seq, "is_authorized": False,
                           "is_authorized_to_maintain_liabilities": False, "is_clawback_enabled": False,
                           "asset_type": "liquidity_pool_shares"}
    assert balances[1]["asset_code"] == "USD" and balances[1]["is_clawback_enabled"] is False
    assert balances[-1]["asset_type"] == "native" and "is_clawback_enabled" not in balances[-1]
    assert ledger.state.account_json(alice)["subentry_count"] == 3
    assert ledger.state.trustline(alice, pool_share_key(pool_id)).limit == INT64_MAX
