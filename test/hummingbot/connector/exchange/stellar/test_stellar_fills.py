from decimal import Decimal

import pytest
from hummingbot.core.data_type.common import OrderType, TradeType
from hummingbot.core.data_type.in_flight_order import InFlightOrder, OrderState
from hummingbot.core.data_type.trade_fee import TradeFeeSchema
from stellar_sdk import Asset

from hummingbot.connector.exchange.stellar import stellar_fills as fills
from hummingbot.connector.exchange.stellar.stellar_amounts import to_stroops
from hummingbot.connector.exchange.stellar.stellar_horizon_records import close_timestamp, record_asset_key, trade_id
from hummingbot.connector.exchange.stellar.stellar_tx_results import Fill, OpOutcome
from test.recorded_horizon import POOL, RECORDED_TRADES, operation_id_of, pair_of, record_name

ISSUER = "GBBD47IF6LWK7P7MDEVSCWR7DPUWV3NY3DTQEVFL4NAT4AQH3ZLLFLA5"
US = "GAS4V4O2B7DW5T7IQRPEEVCRXMDZESKISR7DVIGKZQYYV3OSQ5SH5LVP"
MAKER = "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGZ"
USDC = Asset("USDC", ISSUER)
PAIR = "XLM-USDC"
CLOSE_TIME = "2026-11-25T06:00:00Z"
CLOSE_TS = 1795586400.0


def order(trade_type=TradeType.SELL, amount="10", price="0.5", offer_id="101", client_id="HBOT-1") -> InFlightOrder:
    tracked = InFlightOrder(client_order_id=client_id, trading_pair=PAIR, order_type=OrderType.LIMIT,
                            trade_type=trade_type, amount=Decimal(amount), creation_timestamp=1.0,
                            price=Decimal(price), exchange_order_id=offer_id, initial_state=OrderState.OPEN)
    return tracked


def order_fills() -> fills.OrderFills:
    return fills.OrderFills(US, lambda pair: "native", lambda: TradeFeeSchema())


def horizon_trade(our_offer="101", our_side="base", base_amount="4.0000000", counter_amount="2.0000000",
                  trade_id="4294971393-0", trade_type="orderbook") -> dict:
    """A trade as Horizon writes it: XLM is Horizon's base asset here, USDC the counter asset."""
    return {
        "id": trade_id, "paging_token": trade_id, "ledger_close_time": CLOSE_TIME, "trade_type": trade_type,
        "base_offer_id": our_offer if our_side == "base" else "555",
        "base_account": US if our_side == "base" else MAKER,
        "base_amount": base_amount, "base_asset_type": "native",
        "counter_offer_id": our_offer if our_side == "counter" else "555",
        "counter_account": US if our_side == "counter" else MAKER,
        "counter_amount": counter_amount, "counter_asset_type": "credit_alphanum4",
        "counter_asset_code": "USDC", "counter_asset_issuer": ISSUER,
        "base_is_seller": our_side == "base", "price": {"n": 1, "d": 2},
    }


def placement(offer_id=101, operation_id=None, fee=100, claimed=((555, 40_000_000, 20_000_000),)) -> OpOutcome:
    outcome = OpOutcome(success=True, offer_id=offer_id, tx_hash="ab" * 32, fee_charged_share_stroops=fee,
                        fills=tuple(Fill(counter_offer_id=o, counterparty=MAKER, base_stroops=b, quote_stroops=q,
                                         is_taker=True) for o, b, q in claimed))
    outcome.operation_id = operation_id
    return outcome


def test_placement_fill_is_named_as_horizon_names_the_trade_and_carries_the_network_fee_once():
    tracker = order_fills()
    tracked = order()
    updates = tracker.placement_updates(tracked, placement(operation_id=4294971393, claimed=(
        (555, 40_000_000, 20_000_000), (556, 10_000_000, 5_000_000))), timestamp=7.0)
    assert [u.trade_id for u in updates] == ["4294971393-0", "4294971393-1"]
    assert (updates[0].fill_base_amount, updates[0].fill_quote_amount, updates[0].fill_price) == \
        (Decimal("4"), Decimal("2"), Decimal("0.5"))
    assert updates[0].fee.flat_fees[0].token == "XLM"
    assert updates[0].fee.flat_fees[0].amount == Decimal("0.00001")
    assert updates[1].fee.flat_fees == []


def test_a_horizon_trade_of_a_placement_fill_keeps_the_placement_id_so_it_never_counts_twice():
    tracker = order_fills()
    tracked = order()
    first, = tracker.placement_updates(tracked, placement(), timestamp=7.0)   # no operation id known
    again = tracker.record_update(tracked, horizon_trade(trade_id="999-0"), now=8.0)
    assert again.trade_id == first.trade_id
    later = tracker.record_update(tracked, horizon_trade(trade_id="1000-0", base_amount="1.0000000",
                                                         counter_amount="0.5000000"), now=8.0)
    assert later.trade_id == "1000-0"


def test_horizon_trade_in_the_orders_terms_whichever_side_horizon_calls_base():
    tracker = order_fills()
    sell = tracker.record_update(order(), horizon_trade(), now=0.0)
    assert (sell.fill_base_amount, sell.fill_quote_amount, sell.fill_timestamp) == \
        (Decimal("4"), Decimal("2"), CLOSE_TS)
    # Horizon may name USDC its base: the amounts swap back to XLM as the order's base.
    flipped = horizon_trade(our_side="counter", base_amount="2.0000000", counter_amount="4.0000000")
    for prefix, other in (("base_", "counter_"), ("counter_", "base_")):
        flipped[prefix + "asset_type"], flipped[other + "asset_type"] = \
            ("credit_alphanum4", "native") if prefix == "base_" else ("native", "credit_alphanum4")
    flipped.update(base_asset_code="USDC", base_asset_issuer=ISSUER)
    flipped.pop("counter_asset_code")
    flipped.pop("counter_asset_issuer")
    buy = tracker.record_update(order(TradeType.BUY), flipped, now=0.0)
    assert (buy.fill_base_amount, buy.fill_quote_amount) == (Decimal("4"), Decimal("2"))


def test_trades_of_another_market_or_of_an_unknown_kind_are_not_fills_of_the_order():
    other = fills.OrderFills(US, lambda pair: f"EURC:{ISSUER}", lambda: TradeFeeSchema())
    assert other.record_update(order(), horizon_trade(), now=0.0) is None
    assert order_fills().record_update(order(), horizon_trade(trade_type="claimable_balance"), now=0.0) is None


POOL_ID = "ab" * 32


def pool_trade(our_offer: str, trade_id: str, xlm="4.0000000", usdc="1.9880000") -> dict:
    """A MARKET buy's trade with the XLM-USDC pool as Horizon writes it: the pool sold XLM (Horizon's base) and
    names no offer nor account; our side carries the synthetic offer id of our path payment."""
    return {"id": trade_id, "paging_token": trade_id, "ledger_close_time": CLOSE_TIME, "trade_type": "liquidity_pool",
            "liquidity_pool_fee_bp": 30, "base_liquidity_pool_id": POOL_ID, "base_amount": xlm,
            "base_asset_type": "native", "counter_offer_id": our_offer, "counter_account": US,
            "counter_amount": usdc, "counter_asset_type": "credit_alphanum4", "counter_asset_code": "USDC",
            "counter_asset_issuer": ISSUER, "base_is_seller": True, "price": {"n": "4970000", "d": "10000000"}}


def test_a_pool_trade_of_a_market_order_is_one_fill_reported_once_from_the_result_and_from_horizon():
    tracker = order_fills()
    operation_id = 4294971393
    market_buy = order(TradeType.BUY, amount="4", price="0.6", offer_id=str(operation_id | fills.TOID_OFFER_BIT))
    pool_claim = Fill(counter_offer_id=0, counterparty=POOL_ID, base_stroops=40_000_000, quote_stroops=19_880_000,
                      is_taker=True)
    first, = tracker.placement_updates(market_buy, OpOutcome(success=True, fills=(pool_claim,)), timestamp=7.0)
    assert first.trade_id.endswith("-0") and first.fill_price == Decimal("0.497")
    # Horizon's record names it "<operation id>-0"; a result read without the operation id named it otherwise:
    # the same fill (same pool, same amounts) keeps its first id, so Hummingbot's tracker drops it.
    again = tracker.record_update(market_buy, pool_trade(market_buy.exchange_order_id, f"{operation_id}-0"), now=8.0)
    assert (again.trade_id, again.fill_base_amount, again.fill_quote_amount) == \
        (first.trade_id, Decimal("4"), Decimal("1.988"))
    assert tracker.record_update(market_buy, pool_trade(market_buy.exchange_order_id, "99-0", xlm="1.0000000",
                                                        usdc="0.5000000"), now=8.0).trade_id == "99-0"


def test_a_claim_that_traded_nothing_is_no_fill_and_keeps_the_index_of_those_after_it():
    tracker = order_fills()
    updates = tracker.placement_updates(order(), placement(operation_id=4294971393, claimed=(
        (554, 0, 0), (555, 40_000_000, 20_000_000))), timestamp=7.0)
    assert [u.trade_id for u in updates] == ["4294971393-1"]   # as Horizon numbers the trade: by claim index


def test_trades_streamed_before_the_order_knew_its_offer_are_held_by_our_offer_id():
    tracker = order_fills()
    tracker.hold_unmatched(horizon_trade(our_offer="777", our_side="counter"))
    assert tracker.release_unmatched("555") == []           # the maker's offer, not ours
    assert len(tracker.release_unmatched("777")) == 1
    assert tracker.release_unmatched("777") == []           # released once


def test_order_ids_of_resting_and_never_resting_offers():
    assert fills.exchange_order_id_for(placement(offer_id=101), "HBOT-1") == "101"
    never_rested = fills.exchange_order_id_for(placement(offer_id=None, operation_id=4294971393), "HBOT-1")
    assert int(never_rested) == 4294971393 | fills.TOID_OFFER_BIT
    assert fills.exchange_order_id_for(placement(offer_id=None), "HBOT-1") == f"{'ab' * 32}-HBOT-1"
    assert fills.rests_on_book("101")
    assert not fills.rests_on_book(never_rested)
    assert not fills.rests_on_book(None)
    assert not fills.rests_on_book(f"{'ab' * 32}-HBOT-1")


def test_fills_cover_an_order_up_to_a_stroop_of_quote_and_up_to_dust_once_its_offer_is_gone():
    tracked = order(amount="10", price="0.5")
    tracked.executed_amount_base = Decimal("10") - Decimal("0.0000002")   # two stroops of base: 1e-7 of quote
    assert fills.fills_cover(tracked)
    tracked.executed_amount_base = Decimal("9.99999")                     # 100 stroops of base missing
    assert not fills.fills_cover(tracked)
    # dust of a sell at 0.5: under 100 stroops of quote = 200 stroops of base
    assert fills.dust(tracked) == Decimal("0.00002")
    assert fills.fills_cover(tracked, offer_gone=True)
    assert fills.only_dust_left(tracked)
    tracked.executed_amount_base = Decimal("9")
    assert not fills.fills_cover(tracked, offer_gone=True)


def test_resting_buy_counts_as_open_until_more_than_a_stroop_of_quote_is_missing():
    buy = order(TradeType.BUY, amount="10", price="0.5")
    # A buy of 10 XLM at 0.5 rests as an offer selling 5 USDC at 2 XLM per USDC.
    offer = {"amount": "5.0000000", "price_r": {"n": 2, "d": 1}, "price": "2.0000000",
             "selling": {"asset_type": "credit_alphanum4", "asset_code": "USDC", "asset_issuer": ISSUER}}
    assert fills.resting_offer_state(buy, offer, Asset.native()) is OrderState.OPEN
    offer["amount"] = "4.0000000"
    assert fills.resting_offer_state(buy, offer, Asset.native()) is OrderState.PARTIALLY_FILLED


# Trades as public Horizon servers recorded them


def taker_order(record: dict, base_prefix: str = "base_") -> InFlightOrder:
    """The base party's order as our connector would hold it: the offer never rested, so its id is Horizon's
    synthetic one, derived from the operation id the transaction result gives."""
    outcome = placement(offer_id=None, operation_id=operation_id_of(record), claimed=())
    exchange_order_id = fills.exchange_order_id_for(outcome, "HBOT-1")
    # base_is_seller false: the taker sold Horizon's base asset for the counter asset.
    side = TradeType.SELL if base_prefix == "base_" else TradeType.BUY
    return InFlightOrder(client_order_id="HBOT-1", trading_pair=pair_of(record, base_prefix),
                         order_type=OrderType.MARKET, trade_type=side, amount=Decimal(record[base_prefix + "amount"]),
                         creation_timestamp=1.0, price=Decimal("NaN"),
                         exchange_order_id=exchange_order_id, initial_state=OrderState.OPEN)


def fills_of_base_party(record: dict, base_prefix: str) -> fills.OrderFills:
    return fills.OrderFills(record["base_account"], lambda pair: record_asset_key(record, base_prefix),
                            lambda: TradeFeeSchema())


@pytest.mark.parametrize("record", RECORDED_TRADES, ids=record_name)
def test_an_order_that_never_rested_is_named_as_horizon_names_it(record):
    assert record["base_is_seller"] is False     # the base party took: its offer id is synthetic
    assert taker_order(record).exchange_order_id == record["base_offer_id"]
    assert not fills.rests_on_book(record["base_offer_id"])
    counter_offer = record.get("counter_offer_id")
    assert counter_offer is None or fills.rests_on_book(counter_offer)   # a pool trade names no offer there


@pytest.mark.parametrize("record", RECORDED_TRADES, ids=record_name)
@pytest.mark.parametrize("base_prefix", ["base_", "counter_"])
def test_the_fill_from_the_result_and_the_same_trade_from_horizon_count_once(record, base_prefix):
    taker = taker_order(record, base_prefix)
    quote_prefix = "counter_" if base_prefix == "base_" else "base_"
    base, quote = Decimal(record[base_prefix + "amount"]), Decimal(record[quote_prefix + "amount"])
    counter_offer_id = int(record.get("counter_offer_id", 0))   # 0: the pool
    tracker = fills_of_base_party(record, base_prefix)
    outcome = placement(offer_id=None, operation_id=operation_id_of(record),
                        claimed=((counter_offer_id, to_stroops(base), to_stroops(quote)),))

    placed, = tracker.placement_updates(taker, outcome, timestamp=7.0)
    streamed = tracker.record_update(taker, record, now=8.0)

    assert placed.trade_id == streamed.trade_id == trade_id(record) == record["id"]
    assert (streamed.fill_base_amount, streamed.fill_quote_amount) == (base, quote)
    assert streamed.fill_price == quote / base
    assert streamed.fill_timestamp == close_timestamp(record["ledger_close_time"])
    assert taker.exchange_order_id == str(record["base_offer_id"])


def test_a_twelve_character_code_and_a_pool_keep_their_asset_keys():
    assert record_asset_key(POOL, "counter_") == \
        "GOLDBANK001:GDEUQ2MX3YXMITFOTC3CO3GW5V3XE3IVG7JKLZZAOZ7WFYIN256INDUS"
    assert record_asset_key(POOL, "base_") == "native"
    assert "counter_offer_id" not in POOL and "counter_account" not in POOL
