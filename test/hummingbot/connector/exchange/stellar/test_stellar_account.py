from decimal import Decimal

from hummingbot.connector.exchange.stellar.stellar_account import AccountSync, balances_from_account

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


class FakeSource:
    """The user stream data source as AccountSync sees it."""

    def __init__(self, current: bool = False, up: bool = False):
        self.current = current
        self.up = up

    def account_stream_current(self) -> bool:
        return self.current

    def all_streams_connected(self) -> bool:
        return self.up


def make_sync(source, read):
    held = ({}, {})
    return AccountSync(lambda: source, read, lambda: held, token, reserve), held


async def test_streamed_accounts_set_the_balances_and_the_poll_reads_none_while_the_stream_is_current():
    reads = []

    async def read():
        reads.append(1)
        return ACCOUNT

    source = FakeSource(current=True, up=True)
    sync, (totals, available) = make_sync(source, read)
    sync.apply(ACCOUNT, streamed=True)
    assert (totals, available) == balances_from_account(ACCOUNT, token, reserve)
    await sync.refresh()
    assert reads == [] and sync.reads == 0 and sync.streamed == 1

    source.current = False   # the account stream dropped (or has not sent the account since it reconnected)
    await sync.refresh()
    assert reads == [1] and sync.reads == 1


async def test_a_read_overtaken_by_a_streamed_account_is_dropped():
    newer = {**ACCOUNT, "balances": [{"balance": "50.0000000", "selling_liabilities": "0.0000000",
                                      "asset_type": "native"}]}
    sync, (totals, _available) = make_sync(FakeSource(), None)

    async def read():
        sync.apply(newer, streamed=True)   # the stream delivers while the REST answer is on its way
        return ACCOUNT

    sync._read_account = read
    await sync.refresh()
    assert totals == {"XLM": Decimal("50")}, "the older REST answer must not replace the streamed account"
    assert sync.reads == 1


def test_poll_interval_and_trade_pages_follow_the_streams():
    source = FakeSource(up=True)
    sync, _held = make_sync(source, None)
    assert (sync.poll_interval(300, 5), sync.trade_pages()) == (300, 1)
    source.up = False
    assert (sync.poll_interval(300, 5), sync.trade_pages()) == (5, None)
    no_source = AccountSync(lambda: None, None, lambda: ({}, {}), token, reserve)
    assert no_source.poll_interval(300, 5) == 5
