"""The trading account: Horizon's account JSON to balances, and how the account is kept current.

Total is what the ledger holds; available is what a new offer may still sell: the balance less
the selling liabilities of our resting offers and, for XLM, less the minimum balance the account's
subentries reserve.

`AccountSync`: the user stream data source streams the account itself (each event the whole record),
its trades, offers and transactions. While those streams are connected the account's state comes from
them, and Hummingbot's REST safety poll reads only what they cannot vouch for:
- balances come from each streamed account record (`apply`); the poll's balance read (`refresh`) asks
  Horizon only while the account stream is not current, and drops an answer overtaken by a streamed
  record (the streamed one is newer);
- the poll runs every `long` seconds (`poll_interval`): Hummingbot's own rule, the time of the last
  byte on the user stream, does not fit Horizon, which sends nothing on a quiet stream;
- the poll's read of the account's trades is one page (`trade_pages`): the trade stream, resumed by
  cursor, delivers every fill, and the poll is a backstop whose cost must not grow with the fill rate.
"""
from decimal import Decimal
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple

from hummingbot.connector.exchange.stellar.stellar_amounts import from_stroops

Balances = Dict[str, Decimal]
_ZERO = Decimal(0)


def balances_from_account(account: Dict[str, Any],
                          token_of_entry: Callable[[Dict[str, Any]], str],
                          minimum_balance_stroops: Callable[[int, int, int], int]) -> Tuple[Balances, Balances]:
    """(total, available) per token. `token_of_entry` names a balance line's asset as Hummingbot shows
    it; `minimum_balance_stroops(subentries, sponsoring, sponsored)` is the account's reserve."""
    totals: Balances = {}
    available: Balances = {}
    for entry in account.get("balances") or []:
        asset_type = entry.get("asset_type")
        if asset_type == "liquidity_pool_shares":
            continue   # pool shares are not tradable on the order book
        token = token_of_entry(entry)
        total = Decimal(entry["balance"])
        free = total - Decimal(entry.get("selling_liabilities") or "0")
        if asset_type == "native":
            free -= from_stroops(minimum_balance_stroops(int(account.get("subentry_count") or 0),
                                                         int(account.get("num_sponsoring") or 0),
                                                         int(account.get("num_sponsored") or 0)))
        totals[token] = total
        available[token] = max(free, _ZERO)
    return totals, available


class AccountSync:
    def __init__(self, source: Callable[[], Any], read_account: Callable[[], Awaitable[Dict[str, Any]]],
                 balances: Callable[[], Tuple[Balances, Balances]], token_of_entry: Callable[[Dict[str, Any]], str],
                 minimum_balance_stroops: Callable[[int, int, int], int]):
        """`source()`: the user stream data source (None without one); `read_account()`: GET /accounts/{id};
        `balances()`: the exchange's (totals, available) dicts, which `apply` sets."""
        self._source = source
        self._read_account = read_account
        self._balances = balances
        self._token_of_entry = token_of_entry
        self._minimum_balance_stroops = minimum_balance_stroops
        self.streamed = 0       # account records applied from the stream
        self.reads = 0          # account reads over REST

    def streams_up(self) -> bool:
        """True while every stream of the account is connected."""
        source = self._source()
        return source is not None and source.all_streams_connected()

    def poll_interval(self, long: float, short: float) -> float:
        return long if self.streams_up() else short

    def trade_pages(self) -> Optional[int]:
        """Pages of trades the safety poll reads: one while the streams are up; None, HorizonApi's default, else."""
        return 1 if self.streams_up() else None

    def apply(self, account: Dict[str, Any], streamed: bool = False) -> None:
        if streamed:
            self.streamed += 1
        totals, available = balances_from_account(account, self._token_of_entry, self._minimum_balance_stroops)
        held_totals, held_available = self._balances()
        held_totals.clear()
        held_totals.update(totals)
        held_available.clear()
        held_available.update(available)

    async def refresh(self) -> None:
        """The safety poll's balance update: a REST read unless the account stream is current."""
        source = self._source()
        if source is not None and source.account_stream_current():
            return   # the streamed account is the ledger's as Horizon last ingested it: a read adds nothing
        streamed = self.streamed
        account = await self._read_account()
        self.reads += 1
        if streamed == self.streamed:   # else the stream sent a newer account while the read was on its way
            self.apply(account)
