"""StellarOrderBookMessage gives the OrderBookRows Hummingbot's OrderBookMessage would give."""
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.data_type.order_book_message import OrderBookMessage, OrderBookMessageType

from hummingbot.connector.exchange.stellar.stellar_order_book import StellarOrderBook, StellarOrderBookMessage

HORIZON_BOOK = {
    "bids": [{"price_r": {"n": 1, "d": 8}, "price": "0.1250000", "amount": "25.0000000"},
             {"price_r": {"n": 1, "d": 10}, "price": "0.1000000", "amount": "3.5000000"}],
    "asks": [{"price_r": {"n": 3, "d": 20}, "price": "0.1500000", "amount": "7.0000000"}],
}


def test_rows_are_what_hummingbots_message_gives():
    message = StellarOrderBook.snapshot_message_from_exchange(HORIZON_BOOK, metadata={"trading_pair": "XLM-USDC"})
    assert isinstance(message, StellarOrderBookMessage)
    stock = OrderBookMessage(OrderBookMessageType.SNAPSHOT, dict(message.content), timestamp=message.timestamp)
    assert message.bids == stock.bids and message.asks == stock.asks
    assert [(r.price, r.amount) for r in message.bids] == [(0.125, 200.0), (0.1, 35.0)]   # bids in base units
    assert {r.update_id for r in message.bids + message.asks} == {message.update_id}


def test_an_order_book_restored_from_it_holds_the_book():
    message = StellarOrderBook.snapshot_message_from_exchange(HORIZON_BOOK, metadata={"trading_pair": "XLM-USDC"})
    book = OrderBook()
    book.restore_from_snapshot_and_diffs(message, [])
    assert book.get_price(False) == 0.125 and book.get_price(True) == 0.15
    assert book.snapshot_uid == message.update_id
