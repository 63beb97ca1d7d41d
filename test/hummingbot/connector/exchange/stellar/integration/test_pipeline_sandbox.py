"""The transaction pipeline against the embedded sandbox, over real HTTP on loopback."""
import asyncio
from decimal import Decimal

import pytest
from hummingbot.core.data_type.common import OrderType, TradeType
from stellar_sdk import Account, Asset, Payment, TransactionBuilder, TransactionEnvelope

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar import stellar_web_utils as web_utils
from hummingbot.connector.exchange.stellar.stellar_auth import StellarAuth
from hummingbot.connector.exchange.stellar.stellar_config_cache import ConfigCache
from hummingbot.connector.exchange.stellar.stellar_horizon_api import HorizonApi
from hummingbot.connector.exchange.stellar.stellar_order_ops import CancelOrderIntent, CreateOrderIntent
from hummingbot.connector.exchange.stellar.stellar_tx_pipeline import TransactionPipeline
from hummingbot.connector.exchange.stellar.stellar_tx_results import OFFER_CREATED, OFFER_DELETED
from stellar_sandbox import Sandbox

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("closed_shared_session")]

XLM = Asset.native()


@pytest.fixture
async def net():
    async with Sandbox(ledger_interval=0.05) as sandbox:
        yield sandbox


@pytest.fixture
async def market(net):
    """A trader and a maker, each holding XLM and 1000 USD."""
    trader, maker = await asyncio.gather(net.create_account(10_000), net.create_account(10_000))
    usd = await net.issue_asset("USD")
    await asyncio.gather(net.trust_and_fund(trader, usd, "1000"), net.trust_and_fund(maker, usd, "1000"))
    return trader, maker, usd


class Pipelines:
    def __init__(self, net):
        self.net = net
        self.api = HorizonApi(web_utils.build_api_factory(web_utils.create_throttler(
            CONSTANTS.build_rate_limits(CONSTANTS.LOCAL_HORIZON_REQUESTS_PER_HOUR))), net.horizon_url)
        self.created = []

    def for_account(self, keypair, channels=()) -> TransactionPipeline:
        config = ConfigCache(horizon_url=self.net.horizon_url, network_passphrase=self.net.passphrase)
        pipeline = TransactionPipeline(self.api, StellarAuth(keypair.secret, [c.secret for c in channels]), config,
                                       poll_initial_delay=0.05, poll_max_delay=0.2, resubmit_delay=0.05)
        self.created.append(pipeline)
        return pipeline


@pytest.fixture
async def pipelines(net):
    p = Pipelines(net)
    yield p
    for pipeline in p.created:
        await pipeline.stop()


def order(n, usd, trade_type, amount, price, order_type=OrderType.LIMIT):
    return CreateOrderIntent(f"HBOT-{n}", usd, XLM, trade_type, order_type, Decimal(amount), Decimal(price))


async def offers_of(api: HorizonApi, account_id: str) -> list:
    page = await api.get_json(f"/accounts/{account_id}/offers", limit_id=CONSTANTS.ACCOUNT_OFFERS_PATH)
    return page["_embedded"]["records"]


async def in_time(awaitable, timeout=10.0):
    return await asyncio.wait_for(awaitable, timeout)


async def test_place_and_cancel_a_batch(market, pipelines):
    trader, _, usd = market
    pipeline = pipelines.for_account(trader)
    intents = [order(n, usd, TradeType.SELL, "10", f"2.{n}") for n in range(5)]
    intents.append(order(5, usd, TradeType.BUY, "4", "1.5"))
    placed = await in_time(pipeline.submit_many(intents))
    assert all(o.success and o.offer_state == OFFER_CREATED for o in placed)
    assert len({o.tx_hash for o in placed}) == 1          # one transaction
    offers = await offers_of(pipelines.api, trader.public_key)
    assert sorted(int(o["id"]) for o in offers) == sorted(o.offer_id for o in placed)
    bid = next(o for o in offers if int(o["id"]) == placed[5].offer_id)
    assert bid["selling"]["asset_type"] == "native"       # a resting buy sells the quote asset
    assert Decimal(bid["amount"]) == Decimal(6)           # 4 USD × 1.5 XLM

    cancels = [CancelOrderIntent(i.client_order_id, usd, XLM, i.trade_type, o.offer_id)
               for i, o in zip(intents, placed, strict=True)]
    cancelled = await in_time(pipeline.submit_many(cancels))
    assert all(o.success and o.offer_state == OFFER_DELETED for o in cancelled)
    assert await offers_of(pipelines.api, trader.public_key) == []


async def test_crossing_order_reports_fills_in_the_orders_terms(market, pipelines):
    trader, maker, usd = market
    resting = await in_time(pipelines.for_account(maker).submit(order("m", usd, TradeType.SELL, "5", "2")))
    assert resting.success
    outcome = await in_time(pipelines.for_account(trader).submit(order("t", usd, TradeType.BUY, "3", "2.5")))
    assert outcome.success and outcome.offer_state == OFFER_DELETED   # fully filled at placement
    (fill,) = outcome.fills
    assert fill.is_taker and fill.counterparty == maker.public_key and fill.counter_offer_id == resting.offer_id
    assert (fill.base_amount, fill.quote_amount, fill.price) == (Decimal(3), Decimal(6), Decimal(2))


async def test_limit_maker_buy_rests_as_a_passive_offer_selling_the_quote(market, pipelines):
    trader, _, usd = market
    outcome = await in_time(pipelines.for_account(trader).submit(
        order(1, usd, TradeType.BUY, "10", "0.25", OrderType.LIMIT_MAKER)))
    assert outcome.success and outcome.offer_state == OFFER_CREATED
    (offer,) = await offers_of(pipelines.api, trader.public_key)
    assert offer["selling"]["asset_type"] == "native" and Decimal(offer["amount"]) == Decimal("2.5")
    assert (offer["price_r"]["n"], offer["price_r"]["d"]) == (4, 1)
    cancel = CancelOrderIntent("1", usd, XLM, TradeType.BUY, outcome.offer_id, OrderType.LIMIT_MAKER)
    assert (await in_time(pipelines.for_account(trader).submit(cancel))).offer_state == OFFER_DELETED


async def test_underfunded_order_fails_alone(market, pipelines):
    trader, _, usd = market
    pipeline = pipelines.for_account(trader)
    ok, too_big = await in_time(pipeline.submit_many([order(1, usd, TradeType.SELL, "10", "3"),
                                                      order(2, usd, TradeType.SELL, "5000", "3")]))
    assert not too_big.success and too_big.error_code == "op_underfunded"
    assert ok.success and ok.offer_state == OFFER_CREATED
    assert len(await offers_of(pipelines.api, trader.public_key)) == 1


async def test_channel_account_pays_and_sequences_while_trader_owns_the_offers(net, market, pipelines):
    trader, _, usd = market
    channel = await net.create_account(100)
    pipeline = pipelines.for_account(trader, channels=[channel])
    outcome = await in_time(pipeline.submit(order(1, usd, TradeType.SELL, "1", "4")))
    assert outcome.success
    record = await pipelines.api.get_transaction(outcome.tx_hash)
    assert record["source_account"] == channel.public_key
    envelope = TransactionEnvelope.from_xdr(record["envelope_xdr"], net.passphrase)
    assert envelope.transaction.operations[0].source.account_id == trader.public_key
    (offer,) = await offers_of(pipelines.api, trader.public_key)
    assert int(offer["id"]) == outcome.offer_id and offer["seller"] == trader.public_key


async def test_another_client_moving_the_sequence_is_absorbed(net, market, pipelines):
    trader, maker, usd = market
    pipeline = pipelines.for_account(trader)
    assert (await in_time(pipeline.submit(order(1, usd, TradeType.SELL, "1", "5")))).success
    account = await pipelines.api.get_account(trader.public_key)
    external = (TransactionBuilder(Account(trader.public_key, int(account["sequence"])), net.passphrase, base_fee=100)
                .append_operation(Payment(maker.public_key, XLM, "1")).set_timeout(30).build())
    external.sign(trader)
    await net.submit(external.to_xdr())            # the pipeline's local sequence is now stale
    outcome = await in_time(pipeline.submit(order(2, usd, TradeType.SELL, "1", "6")))
    assert outcome.success and outcome.offer_state == OFFER_CREATED
    assert pipeline.sequences.current(trader.public_key) == int(account["sequence"]) + 2
