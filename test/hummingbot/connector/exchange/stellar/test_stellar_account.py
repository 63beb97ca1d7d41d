import asyncio
from decimal import Decimal

from hummingbot.connector.exchange.stellar.stellar_account import BalanceRefresher, balances_from_account
from test.waiting import wait_until

ISSUER = "GBBD47IF6LWK7P7MDEVSCWR7DPUWV3NY3DTQEVFL4NAT4AQH3ZLLFLA5"

# An account as Horizon writes it: two offers (one selling XLM, one selling USDC) and a trustline.
ACCOUNT = {
    "id": "GAS4V4O2B7DW5T7IQRPEEVCRXMDZESKISR7DVIGKZQYYV3OSQ5SH5LVP",
    "subentry_count": 3, "num_sponsoring": 0, "num_sponsored": 0,
    "balances": [
        {"balance": "120.0000000", "buying_liabilities": "3.0000000", "selling_liabilities": "1.5000000",
         "limit": "922337203685.4775807", "asset_type": "credit_alphanum4", "asset_code": "USDC",
         "asset_issuer": ISSUER, "is_authorized": True},
        {"balance": "12.3450000", "liquidity_pool_id": "ab" * 32, "limit": "922337203685.4775807",
         "asset_type": "liquidity_pool_shares"},
        {"balance": "100.0000000", "buying_liabilities": "0.0000000", "selling_liabilities": "10.0000000",
         "asset_type": "native"},
    ],
}


def token(entry) -> str:
    return "XLM" if entry["asset_type"] == "native" else entry["asset_code"]


def reserve(subentries: int, sponsoring: int, sponsored: int) -> int:
    return (2 + subentries + sponsoring - sponsored) * 5_000_000


def test_available_is_the_balance_less_selling_liabilities_and_for_xlm_less_the_reserve():
    totals, available = balances_from_account(ACCOUNT, token, reserve)
    assert totals == {"USDC": Decimal("120"), "XLM": Decimal("100")}
    # XLM: 100 - 10 selling liabilities - (2 + 3 subentries) * 0.5 reserve
    assert available == {"USDC": Decimal("118.5"), "XLM": Decimal("87.5")}


def test_available_never_goes_below_zero():
    poor = {"subentry_count": 40, "balances": [{"balance": "5.0000000", "selling_liabilities": "0.0000000",
                                                 "asset_type": "native"}]}
    assert balances_from_account(poor, token, reserve)[1] == {"XLM": Decimal("0")}


async def test_refresher_reads_once_per_burst_and_retries_a_failed_read():
    reads = []
    fail_next = [True]

    async def read():
        reads.append(asyncio.get_running_loop().time())
        if fail_next[0]:
            fail_next[0] = False
            raise OSError("Horizon is down")

    refresher = BalanceRefresher(read, delay=0.01, retry_cap=0.05)
    for _ in range(10):
        refresher.schedule()          # a burst of effects from one ledger
    await wait_until(lambda: len(reads) >= 2, timeout=3.0, what="a retry after the failed read")
    assert len(reads) == 2            # the failed read and its retry; the burst asked for one
    refresher.schedule()
    await wait_until(lambda: len(reads) == 3, timeout=3.0, what="a read for a later change")
    refresher.stop()
