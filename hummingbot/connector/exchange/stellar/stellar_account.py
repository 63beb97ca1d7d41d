"""The trading account: Horizon's account JSON to balances, and when to read it again.

Total is what the ledger holds; available is what a new offer may still sell: the balance less
the selling liabilities of our resting offers and, for XLM, less the minimum balance the account's
subentries reserve.
"""
import asyncio
import logging
from decimal import Decimal
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple

from hummingbot.core.utils.async_utils import safe_ensure_future

from hummingbot.connector.exchange.stellar.stellar_amounts import from_stroops
from hummingbot.connector.exchange.stellar.stellar_backoff import Backoff

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


class BalanceRefresher:
    """One account read per burst of changes: a change during a read causes one more read, and a failed
    read is retried with a growing wait (the stream that asked for it may say nothing more)."""

    def __init__(self, read: Callable[[], Awaitable[None]], delay: float = 0.05, retry_cap: float = 5.0,
                 logger: Optional[logging.Logger] = None):
        self._read = read
        self._delay = delay
        self._backoff = Backoff(base=min(max(delay, 0.5), retry_cap), cap=retry_cap, jitter=False)
        self._stale = False
        self._task: Optional[asyncio.Task] = None
        self._logger = logger or logging.getLogger(__name__)

    def schedule(self) -> None:
        self._stale = True
        if self._task is None or self._task.done():
            self._task = safe_ensure_future(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        delay = self._delay
        while self._stale:
            await asyncio.sleep(delay)
            self._stale = False
            try:
                await self._read()
                self._backoff.reset()
                delay = self._delay
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._stale = True
                delay = self._backoff.next_delay()
                self._logger.warning(f"Failed to update balances ({error}); retrying in {delay:.1f}s.")
