"""What the data source tests share: a minimal real connector and Horizon JSON builders."""
from hummingbot.connector.exchange.stellar.stellar_instrument_cache import InstrumentCache

ISSUER = "GBBD47IF6LWK7P7MDEVSCWR7DPUWV3NY3DTQEVFL4NAT4AQH3ZLLFLA5"
EURT_ISSUER = "GCAIVLFK6TYJWDW33FYCLHTXA2CL6S5MEDUV4W76YSRJIJ6RYK7JVWGN"
DOMAIN = "stellar_test_sandbox"   # a domain without known issuers: assets come from the markets below
MARKETS = (f"USDC:{ISSUER}", f"EURT:{EURT_ISSUER}")


class MinimalConnector:
    """The part of StellarExchange the data sources use: the instrument cache, the order books and the
    symbol mapping (the Stellar connector's exchange symbol is the Hummingbot pair itself)."""

    def __init__(self) -> None:
        self.instrument_cache = InstrumentCache(DOMAIN, extra_markets=MARKETS)
        self.order_books = {}   # pair -> OrderBook, as Hummingbot's tracker holds them

    async def trading_pair_associated_to_exchange_symbol(self, symbol: str) -> str:
        return symbol

    async def exchange_symbol_associated_to_pair(self, trading_pair: str) -> str:
        return trading_pair


def book_level(n: int, d: int, amount: str) -> dict:
    return {"price_r": {"n": n, "d": d}, "price": f"{n / d:.7f}", "amount": amount}


def horizon_book(best_bid=(1, 10, "50.0000000"), best_ask=(11, 100, "200.0000000")) -> dict:
    return {"bids": [book_level(*best_bid)], "asks": [book_level(*best_ask)],
            "base": {"asset_type": "native"},
            "counter": {"asset_type": "credit_alphanum4", "asset_code": "USDC", "asset_issuer": ISSUER}}


def horizon_trade(token: str, price=(1, 8), base_amount="100.0000000", base_is_seller=True,
                  counter_code="USDC", counter_issuer=ISSUER) -> dict:
    n, d = price
    return {
        "id": token, "paging_token": token, "ledger_close_time": "2026-11-25T06:00:00Z",
        "base_asset_type": "native",
        "counter_asset_type": "credit_alphanum4", "counter_asset_code": counter_code,
        "counter_asset_issuer": counter_issuer,
        "base_is_seller": base_is_seller, "base_amount": base_amount,
        "counter_amount": f"{float(base_amount) * n / d:.7f}",
        "price": {"n": str(n), "d": str(d)},
    }


def page(records: list) -> dict:
    return {"_links": {}, "_embedded": {"records": records}}
