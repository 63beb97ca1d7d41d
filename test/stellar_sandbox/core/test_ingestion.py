"""A frontend's view of the network `lag` ledgers behind: state, history and events as of its ledger."""
from stellar_sdk import Asset, LiquidityPoolAsset

from stellar_sandbox.core.ingestion import IngestView
from stellar_sandbox.core.network import Network


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        self.now += 5
        return self.now


def test_a_view_without_lag_is_the_network():
    net = Network(clock=Clock())
    view = IngestView(net)
    events = []
    view.add_listener(lambda kind, record: events.append(kind))
    alice = net.create_funded_account(100)
    assert view.state is net.state and view.history is net.history and view.latest_ledger is net.latest_ledger
    assert view.state.account(alice.public_key) is not None and "ledgers" in events


def test_a_lagging_view_serves_old_state_and_history_then_catches_up():
    net = Network(clock=Clock())
    alice, bob = net.create_funded_account(100), net.create_funded_account(100)
    view = IngestView(net)
    events: list[tuple[str, dict]] = []
    view.add_listener(lambda kind, record: events.append((kind, record)))
    start = net.latest_ledger["sequence"]
    view.set_lag(2)
    net.fund(bob.public_key, 7)
    usd = net.issue_asset(alice, "USD", {bob: "5"})  # two ledgers: trustline, then payment
    assert net.latest_ledger["sequence"] == start + 3
    assert view.sequence == start + 1 and view.behind == 2  # froze at start, then follows 2 behind
    assert view.state.balance(bob.public_key, "native") == 1_070_000_000  # funded, not yet charged the trust fee
    assert view.state.trustline(bob.public_key, usd) is None and net.state.trustline(bob.public_key, usd)
    assert view.state.account_json(bob.public_key)["subentry_count"] == 0
    ingested = [record["sequence"] for kind, record in events if kind == "ledgers"]
    assert ingested == [start + 1]
    assert view.history.ledger(start + 2) is None and view.history.ledger(start + 1) is not None
    assert [r["ledger"] for r in view.history.transactions_page(order="desc", limit=1)] == [start + 1]
    view.set_lag(0)
    assert view.sequence == start + 3 and view.state is net.state
    assert [record["sequence"] for kind, record in events if kind == "ledgers"] == [start + 1, start + 2, start + 3]
    assert view.state.balance(bob.public_key, usd) == 50_000_000


def test_a_replica_follows_offers_and_its_order_book():
    net = Network(clock=Clock())
    alice, bob = net.create_funded_account(1000), net.create_funded_account(1000)
    usd = net.issue_asset(alice, "USD", {bob: "100"})
    view = IngestView(net)
    view.set_lag(1)
    tx = net._builder(bob.public_key).append_manage_sell_offer_op(
        selling=Asset(*usd.split(":")), buying=Asset.native(), amount="10", price="2")
    net._submit_and_close(net._signed(tx, bob))
    assert view.state.offers_of(bob.public_key) == [] and net.state.offers_of(bob.public_key)
    net.close_ledger()
    assert [offer.amount for offer in view.state.offers_of(bob.public_key)] == [100_000_000]
    assert view.state.order_book_json(usd, "native")["asks"][0]["price"] == "2.0000000"
    assert view.state.offers_of(bob.public_key)[0] is not net.state.offers_of(bob.public_key)[0]  # copies


def test_a_replica_follows_liquidity_pools():
    net = Network(clock=Clock())
    alice = net.create_funded_account(1000)
    usd = net.issue_asset(alice, "USD", {})
    view = IngestView(net)
    view.set_lag(1)
    pool = LiquidityPoolAsset(Asset.native(), Asset(*usd.split(":")))
    tx = net._builder(alice.public_key).append_change_trust_op(asset=pool).append_liquidity_pool_deposit_op(
        liquidity_pool_id=pool.liquidity_pool_id, max_amount_a="100", max_amount_b="400", min_price="0.1",
        max_price="10")
    net._submit_and_close(net._signed(tx, alice))
    assert view.state.pools == {} and net.state.pools[pool.liquidity_pool_id].reserve_a == 1_000_000_000
    net.close_ledger()
    replica = view.state.pools[pool.liquidity_pool_id]
    assert (replica.reserve_a, replica.reserve_b, replica.total_shares) == (1_000_000_000, 4_000_000_000, 2_000_000_000)
    assert replica is not net.state.pools[pool.liquidity_pool_id]  # a copy
    assert view.state.account_json(alice.public_key)["balances"][0]["balance"] == "200.0000000"
