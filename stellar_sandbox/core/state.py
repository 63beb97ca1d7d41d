"""LedgerState: accounts, trustlines and offers with stellar-core's liabilities and reserves.

Mutations go through ``mut_*``/``create_*``/``delete_*`` so that an undo log can roll a failed
transaction back cheaply: the first change of an entry inside a savepoint records a shallow copy of
it, and ``restore`` puts those copies back (no deep copy of the ledger).

The issuer of an asset holds no trustline for it: like stellar-core it can send, receive and sell
any amount of its own asset, and it carries no liabilities for it.

Order books are kept per (selling, buying) pair as a sorted list of ``(price as float, offer_id)``:
stellar-core ranks offers by the double value of the price, then by offer id.
"""

from __future__ import annotations

import bisect
import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from stellar_sandbox.core.amounts import INT64_MAX, format_amount, offer_liabilities, price_to_str
from stellar_sandbox.core.assets import NATIVE, asset_sort_key, horizon_fields, issuer_of
from stellar_sandbox.core.pool_invariants import check_pools
from stellar_sandbox.core.pools import LiquidityPool, is_pool_share, pool_id_of_share

DEFAULT_BASE_RESERVE = 5_000_000
ACCOUNT_SUBENTRY_LIMIT = 1000
AUTHORIZED_FLAG = 1
AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG = 2
PASSIVE_FLAG = 1

_ACCOUNT, _TRUSTLINE, _OFFER, _ID_POOL, _POOL = 0, 1, 2, 3, 4
TRUSTLINE_CLAWBACK_ENABLED_FLAG = 4


@lru_cache(maxsize=1024)
def iso_time(unix_seconds: int) -> str:
    """Horizon's timestamp format, e.g. ``2026-11-25T06:00:00Z``."""
    return datetime.fromtimestamp(unix_seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class Account:
    account_id: str
    balance: int
    seq_num: int
    num_subentries: int = 0
    buying_liabilities: int = 0
    selling_liabilities: int = 0
    flags: int = 0
    master_weight: int = 1
    low_threshold: int = 0
    med_threshold: int = 0
    high_threshold: int = 0
    num_sponsoring: int = 0
    num_sponsored: int = 0
    last_modified_ledger: int = 0
    last_modified_time: int = 0


@dataclass(slots=True)
class TrustLine:
    account_id: str
    asset: str
    balance: int
    limit: int
    flags: int = AUTHORIZED_FLAG
    buying_liabilities: int = 0
    selling_liabilities: int = 0
    last_modified_ledger: int = 0
    last_modified_time: int = 0
    pool_use_count: int = 0  # pools whose share trustline needs this asset trustline (liquidityPoolUseCount)

    @property
    def is_authorized(self) -> bool:
        return bool(self.flags & AUTHORIZED_FLAG)

    @property
    def can_maintain_liabilities(self) -> bool:
        # pool-share trustlines carry no flags and are always authorized to maintain liabilities (stellar-core)
        return bool(self.flags & (AUTHORIZED_FLAG | AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG)) or is_pool_share(
            self.asset
        )


@dataclass(slots=True)
class Offer:
    offer_id: int
    seller: str
    selling: str
    buying: str
    amount: int  # of the selling asset, in stroops
    price_n: int  # buying per selling
    price_d: int
    flags: int = 0
    last_modified_ledger: int = 0
    last_modified_time: int = 0

    @property
    def passive(self) -> bool:
        return bool(self.flags & PASSIVE_FLAG)

    @property
    def book_key(self) -> tuple[float, int]:
        return self.price_n / self.price_d, self.offer_id


class LedgerState:
    """The ledger's entries plus the rules every operation shares (balances, liabilities, reserves)."""

    def __init__(self, base_reserve: int = DEFAULT_BASE_RESERVE) -> None:
        self.base_reserve = base_reserve
        self.accounts: dict[str, Account] = {}
        self._trustlines: dict[str, dict[str, TrustLine]] = {}
        self.offers: dict[int, Offer] = {}
        self.pools: dict[str, LiquidityPool] = {}  # by hex pool id
        self._books: dict[tuple[str, str], list[tuple[float, int]]] = {}
        self._offers_by_seller: dict[str, set[int]] = {}
        self.id_pool = 0  # last offer id handed out (stellar-core's header.idPool)
        # stamped on every entry changed; set by the applier from the ledger being closed
        self.ledger_seq = 0
        self.close_time = 0
        # undo log: (kind, key, previous entry or None, index of the key's previous record)
        self._journal: list[tuple[int, object, object, int | None]] = []
        self._last_record: dict[tuple[int, object], int] = {}
        self._marks: list[int] = []
        # entries changed since the last ``take_changes`` (None: not tracked); what a ledger's meta carries
        self._touched: set[tuple[int, object]] | None = None

    # ---- savepoints -------------------------------------------------------------------------

    def snapshot(self) -> int:
        """Open a (possibly nested) savepoint; returns a token for ``restore``/``commit``."""
        self._marks.append(len(self._journal))
        return len(self._marks)

    def restore(self, token: int) -> None:
        """Undo every change since the savepoint ``token`` was opened, and close it."""
        if token < 1 or token > len(self._marks):
            raise ValueError(f"no open savepoint {token}")
        mark = self._marks[token - 1]
        journal = self._journal
        while len(journal) > mark:
            kind, key, old, prev = journal.pop()
            self._undo(kind, key, old)
            if prev is None:
                del self._last_record[(kind, key)]
            else:
                self._last_record[(kind, key)] = prev
        del self._marks[token - 1 :]

    def commit(self, token: int) -> None:
        """Close the savepoint ``token`` keeping its changes (they stay undoable by an outer savepoint)."""
        if token < 1 or token > len(self._marks):
            raise ValueError(f"no open savepoint {token}")
        del self._marks[token - 1 :]
        if not self._marks:
            self._journal.clear()
            self._last_record.clear()

    @contextmanager
    def savepoint(self) -> Iterator[int]:
        """Commit on normal exit, restore when an exception escapes."""
        token = self.snapshot()
        try:
            yield token
        except BaseException:
            self.restore(token)
            raise
        self.commit(token)

    def _record(self, kind: int, key: object, live: object, copy_live: bool = True) -> None:
        """Save ``live`` (a copy of it) as the entry's state before the innermost savepoint changed it."""
        if self._touched is not None:
            self._touched.add((kind, key))
        if not self._marks:
            return
        rec_key = (kind, key)
        prev = self._last_record.get(rec_key)
        if prev is not None and prev >= self._marks[-1]:
            return  # already saved inside the innermost savepoint
        self._last_record[rec_key] = len(self._journal)
        saved = copy.copy(live) if copy_live and live is not None else live
        self._journal.append((kind, key, saved, prev))

    def _undo(self, kind: int, key: object, old: object) -> None:
        if kind == _ACCOUNT:
            if old is None:
                self.accounts.pop(key, None)  # type: ignore[arg-type]
            else:
                self.accounts[key] = old  # type: ignore[index]
        elif kind == _TRUSTLINE:
            account_id, asset = key  # type: ignore[misc]
            if old is None:
                lines = self._trustlines.get(account_id)
                if lines is not None:
                    lines.pop(asset, None)
            else:
                self._trustlines.setdefault(account_id, {})[asset] = old  # type: ignore[assignment]
        elif kind == _OFFER:
            current = self.offers.get(key)  # type: ignore[arg-type]
            if current is not None:
                self._unindex_offer(current)
            if old is not None:
                self._index_offer(old)  # type: ignore[arg-type]
        elif kind == _POOL:
            if old is None:
                self.pools.pop(key, None)  # type: ignore[arg-type]
            else:
                self.pools[key] = old  # type: ignore[index]
        else:
            self.id_pool = old  # type: ignore[assignment]

    # ---- ledger entry changes (what a replica, e.g. a lagging Horizon's, ingests) --------------

    def track_changes(self, enabled: bool) -> None:
        """Start (empty) or stop recording which entries change; see ``take_changes``."""
        self._touched = set() if enabled else None

    def take_changes(self) -> list[tuple[int, object, object]]:
        """The entries changed since the last call, as ``(kind, key, copy of the entry or None if deleted)``.

        Like the ledger entry changes in a ledger's close meta: enough for a replica to reach this state
        through ``apply_changes``. Empty when changes are not tracked.
        """
        touched = self._touched
        if not touched:
            return []
        self._touched = set()
        changes: list[tuple[int, object, object]] = []
        for kind, key in touched:
            if kind == _ACCOUNT:
                entry: object = self.accounts.get(key)  # type: ignore[call-overload]
            elif kind == _TRUSTLINE:
                entry = self.trustline(*key)  # type: ignore[misc]
            elif kind == _OFFER:
                entry = self.offers.get(key)  # type: ignore[call-overload]
            elif kind == _POOL:
                entry = self.pools.get(key)  # type: ignore[call-overload]
            else:
                changes.append((kind, key, self.id_pool))
                continue
            changes.append((kind, key, None if entry is None else copy.copy(entry)))
        return changes

    def apply_changes(self, changes: list[tuple[int, object, object]]) -> None:
        """Bring a replica up to date with ``take_changes`` output (its entries are then read only)."""
        for kind, key, entry in changes:
            if kind == _ID_POOL:
                self.id_pool = entry  # type: ignore[assignment]
            elif kind == _OFFER:
                current = self.offers.get(key)  # type: ignore[call-overload]
                if current is not None:
                    self._unindex_offer(current)
                if entry is not None:
                    self._index_offer(entry)  # type: ignore[arg-type]
            else:
                self._undo(kind, key, entry)  # the same put-or-delete as rolling back to `entry`

    def clone(self) -> LedgerState:
        """An independent copy of every entry and index (the starting point of a replica)."""
        other = LedgerState(self.base_reserve)
        other.accounts = {key: copy.copy(acc) for key, acc in self.accounts.items()}
        other._trustlines = {key: {asset: copy.copy(line) for asset, line in lines.items()}
                             for key, lines in self._trustlines.items()}
        other.offers = {key: copy.copy(offer) for key, offer in self.offers.items()}
        other.pools = {key: copy.copy(pool) for key, pool in self.pools.items()}
        other._books = {pair: list(book) for pair, book in self._books.items()}
        other._offers_by_seller = {seller: set(ids) for seller, ids in self._offers_by_seller.items()}
        other.id_pool = self.id_pool
        other.ledger_seq, other.close_time = self.ledger_seq, self.close_time
        return other

    def _stamp(self, entry: Account | TrustLine | Offer | LiquidityPool) -> None:
        entry.last_modified_ledger = self.ledger_seq
        entry.last_modified_time = self.close_time

    # ---- accounts -----------------------------------------------------------------------------

    def account(self, account_id: str) -> Account | None:
        return self.accounts.get(account_id)

    def create_account(self, account_id: str, balance: int, seq_num: int) -> Account:
        if account_id in self.accounts:
            raise ValueError(f"account {account_id} already exists")
        self._record(_ACCOUNT, account_id, None)
        acc = Account(account_id, balance, seq_num)
        self._stamp(acc)
        self.accounts[account_id] = acc
        return acc

    def mut_account(self, account_id: str) -> Account:
        """The account, saved to the undo log first; mutate the returned object."""
        acc = self.accounts[account_id]
        self._record(_ACCOUNT, account_id, acc)
        acc = self.accounts[account_id]
        self._stamp(acc)
        return acc

    def min_balance(self, acc: Account) -> int:
        return (2 + acc.num_subentries + acc.num_sponsoring - acc.num_sponsored) * self.base_reserve

    def charge_fee(self, account_id: str, fee: int) -> int:
        """Take up to ``fee`` stroops (never below zero, reserve ignored as stellar-core does); returns it."""
        acc = self.mut_account(account_id)
        charged = min(fee, acc.balance)
        acc.balance -= charged
        return charged

    # ---- trustlines ---------------------------------------------------------------------------

    def trustline(self, account_id: str, asset: str) -> TrustLine | None:
        lines = self._trustlines.get(account_id)
        return None if lines is None else lines.get(asset)

    def trustlines_of(self, account_id: str) -> list[TrustLine]:
        return list(self._trustlines.get(account_id, {}).values())

    def create_trustline(self, account_id: str, asset: str, limit: int, flags: int = AUTHORIZED_FLAG) -> TrustLine:
        if self.trustline(account_id, asset) is not None:
            raise ValueError(f"trustline {account_id}/{asset} already exists")
        self._record(_TRUSTLINE, (account_id, asset), None)
        line = TrustLine(account_id, asset, 0, limit, flags)
        self._stamp(line)
        self._trustlines.setdefault(account_id, {})[asset] = line
        return line

    def mut_trustline(self, account_id: str, asset: str) -> TrustLine:
        line = self._trustlines[account_id][asset]
        self._record(_TRUSTLINE, (account_id, asset), line)
        line = self._trustlines[account_id][asset]
        self._stamp(line)
        return line

    def delete_trustline(self, account_id: str, asset: str) -> None:
        line = self._trustlines[account_id][asset]
        self._record(_TRUSTLINE, (account_id, asset), line)
        del self._trustlines[account_id][asset]

    # ---- liquidity pools ------------------------------------------------------------------------

    def pool(self, pool_id: str) -> LiquidityPool | None:
        return self.pools.get(pool_id)

    def create_pool(self, pool: LiquidityPool) -> LiquidityPool:
        if pool.pool_id in self.pools:
            raise ValueError(f"liquidity pool {pool.pool_id} already exists")
        self._record(_POOL, pool.pool_id, None)
        self._stamp(pool)
        self.pools[pool.pool_id] = pool
        return pool

    def mut_pool(self, pool_id: str) -> LiquidityPool:
        pool = self.pools[pool_id]
        self._record(_POOL, pool_id, pool)
        pool = self.pools[pool_id]
        self._stamp(pool)
        return pool

    def delete_pool(self, pool_id: str) -> None:
        self._record(_POOL, pool_id, self.pools[pool_id])
        del self.pools[pool_id]

    @contextmanager
    def dry_run(self) -> Iterator[None]:
        """Changes made inside are undone at exit and never reported by ``take_changes`` (what-if pricing)."""
        touched, self._touched = self._touched, None
        token = self.snapshot()
        try:
            yield
        finally:
            self.restore(token)
            self._touched = touched

    # ---- offers -------------------------------------------------------------------------------

    def offer(self, offer_id: int) -> Offer | None:
        return self.offers.get(offer_id)

    def generate_offer_id(self) -> int:
        self._record(_ID_POOL, None, self.id_pool, copy_live=False)
        self.id_pool += 1
        return self.id_pool

    def put_offer(self, offer: Offer) -> None:
        """Add a new offer to the book (liabilities and subentries are the caller's business)."""
        if offer.offer_id in self.offers:
            raise ValueError(f"offer {offer.offer_id} already exists")
        self._record(_OFFER, offer.offer_id, None)
        self._stamp(offer)
        self._index_offer(offer)

    def mut_offer(self, offer_id: int) -> Offer:
        """The offer, saved first; only its amount may be changed (price and assets are its book key)."""
        offer = self.offers[offer_id]
        self._record(_OFFER, offer_id, offer)
        offer = self.offers[offer_id]
        self._stamp(offer)
        return offer

    def delete_offer(self, offer_id: int) -> Offer:
        offer = self.offers[offer_id]
        self._record(_OFFER, offer_id, offer)
        self._unindex_offer(offer)
        return offer

    def _index_offer(self, offer: Offer) -> None:
        self.offers[offer.offer_id] = offer
        bisect.insort(self._books.setdefault((offer.selling, offer.buying), []), offer.book_key)
        self._offers_by_seller.setdefault(offer.seller, set()).add(offer.offer_id)

    def _unindex_offer(self, offer: Offer) -> None:
        del self.offers[offer.offer_id]
        book = self._books[(offer.selling, offer.buying)]
        key = offer.book_key
        index = bisect.bisect_left(book, key)
        if index >= len(book) or book[index] != key:
            raise AssertionError(f"offer {offer.offer_id} missing from its book")
        del book[index]
        if not book:
            del self._books[(offer.selling, offer.buying)]
        ids = self._offers_by_seller[offer.seller]
        ids.discard(offer.offer_id)
        if not ids:
            del self._offers_by_seller[offer.seller]

    def best_offer(self, selling: str, buying: str) -> Offer | None:
        """The best offer selling ``selling`` for ``buying`` (lowest price, then oldest)."""
        book = self._books.get((selling, buying))
        return self.offers[book[0][1]] if book else None

    def book(self, selling: str, buying: str) -> Iterator[Offer]:
        """Offers selling ``selling`` for ``buying``, best first (a snapshot of the current order)."""
        offers = self.offers
        return (offers[oid] for _, oid in list(self._books.get((selling, buying), ())))

    def book_pairs(self) -> list[tuple[str, str]]:
        """(selling, buying) of every book holding at least one offer."""
        return list(self._books)

    def offers_of(self, seller: str) -> list[Offer]:
        return [self.offers[oid] for oid in sorted(self._offers_by_seller.get(seller, ()))]

    def find_offers(
        self, seller: str | None = None, selling: str | None = None, buying: str | None = None
    ) -> list[Offer]:
        """Offers matching every given filter, by ascending offer id."""
        if seller is not None:
            return [
                o
                for o in self.offers_of(seller)
                if (selling is None or o.selling == selling) and (buying is None or o.buying == buying)
            ]
        found: list[Offer] = []
        for (sell, buy), book in self._books.items():
            if (selling is None or sell == selling) and (buying is None or buy == buying):
                found.extend(self.offers[oid] for _, oid in book)
        found.sort(key=lambda o: o.offer_id)
        return found

    # ---- balances, liabilities, reserves (stellar-core's TransactionUtils) ------------------

    def is_issuer(self, account_id: str, asset: str) -> bool:
        return asset != NATIVE and issuer_of(asset) == account_id

    def holds(self, account_id: str, asset: str) -> bool:
        """Whether the account can hold the asset at all (native, own asset, or a trustline)."""
        return asset == NATIVE or self.is_issuer(account_id, asset) or self.trustline(account_id, asset) is not None

    def balance(self, account_id: str, asset: str) -> int:
        if asset == NATIVE:
            acc = self.accounts.get(account_id)
            return 0 if acc is None else acc.balance
        if self.is_issuer(account_id, asset):
            return INT64_MAX
        line = self.trustline(account_id, asset)
        return 0 if line is None else line.balance

    def liabilities(self, account_id: str, asset: str) -> tuple[int, int]:
        """(selling, buying) liabilities of the account in the asset."""
        entry = self.accounts.get(account_id) if asset == NATIVE else self.trustline(account_id, asset)
        return (0, 0) if entry is None else (entry.selling_liabilities, entry.buying_liabilities)

    def available_balance(self, account_id: str, asset: str) -> int:
        """Balance minus reserve (native) minus selling liabilities; may be negative (getAvailableBalance)."""
        if asset == NATIVE:
            acc = self.accounts[account_id]
            return acc.balance - self.min_balance(acc) - acc.selling_liabilities
        if self.is_issuer(account_id, asset):
            return INT64_MAX
        line = self.trustline(account_id, asset)
        return 0 if line is None else line.balance - line.selling_liabilities

    def max_receive(self, account_id: str, asset: str) -> int:
        """Room left to receive: limit minus balance minus buying liabilities (getMaxAmountReceive)."""
        if asset == NATIVE:
            acc = self.accounts[account_id]
            return INT64_MAX - acc.balance - acc.buying_liabilities
        if self.is_issuer(account_id, asset):
            return INT64_MAX
        line = self.trustline(account_id, asset)
        if line is None or not line.is_authorized:
            return 0
        return line.limit - line.balance - line.buying_liabilities

    def available_to_sell(self, account_id: str, asset: str) -> int:
        """What an offer of the account can still sell of the asset (canSellAtMost)."""
        if asset != NATIVE and not self.is_issuer(account_id, asset):
            line = self.trustline(account_id, asset)
            if line is None or not line.can_maintain_liabilities:
                return 0
        return max(self.available_balance(account_id, asset), 0)

    def available_to_receive(self, account_id: str, asset: str) -> int:
        """What the account can still receive of the asset (canBuyAtMost)."""
        if asset != NATIVE and not self.is_issuer(account_id, asset) and self.trustline(account_id, asset) is None:
            return 0
        return max(self.max_receive(account_id, asset), 0)

    def add_balance(self, account_id: str, asset: str, delta: int) -> bool:
        """Apply ``delta`` if stellar-core's addBalance allows it (reserve, liabilities, limit)."""
        if delta == 0:
            return True
        if asset == NATIVE:
            acc = self.accounts[account_id]
            new_balance = acc.balance + delta
            if new_balance < 0 or new_balance > INT64_MAX:
                return False
            if delta < 0 and new_balance - self.min_balance(acc) < acc.selling_liabilities:
                return False
            if new_balance > INT64_MAX - acc.buying_liabilities:
                return False
            self.mut_account(account_id).balance = new_balance
            return True
        if self.is_issuer(account_id, asset):
            return True
        line = self.trustline(account_id, asset)
        if line is None or not line.can_maintain_liabilities:
            return False
        new_balance = line.balance + delta
        if new_balance < 0 or new_balance < line.selling_liabilities:
            return False
        if new_balance > line.limit - line.buying_liabilities:
            return False
        self.mut_trustline(account_id, asset).balance = new_balance
        return True

    def _add_liabilities(self, account_id: str, asset: str, selling: int, buying: int) -> None:
        if self.is_issuer(account_id, asset):
            return
        entry = self.mut_account(account_id) if asset == NATIVE else self.mut_trustline(account_id, asset)
        entry.selling_liabilities += selling
        entry.buying_liabilities += buying
        if entry.selling_liabilities < 0 or entry.buying_liabilities < 0:
            raise AssertionError(f"negative liabilities for {account_id}/{asset}")

    def acquire_liabilities(self, offer: Offer) -> None:
        selling, buying = offer_liabilities(offer.price_n, offer.price_d, offer.amount)
        self._add_liabilities(offer.seller, offer.buying, 0, buying)
        self._add_liabilities(offer.seller, offer.selling, selling, 0)

    def release_liabilities(self, offer: Offer) -> None:
        selling, buying = offer_liabilities(offer.price_n, offer.price_d, offer.amount)
        self._add_liabilities(offer.seller, offer.buying, 0, -buying)
        self._add_liabilities(offer.seller, offer.selling, -selling, 0)

    def can_add_subentry(self, account_id: str, count: int = 1) -> str | None:
        """None when ``count`` more subentries fit (a pool-share trustline is 2), else ``"LOW_RESERVE"`` or
        ``"TOO_MANY_SUBENTRIES"``."""
        acc = self.accounts[account_id]
        if acc.num_subentries + count > ACCOUNT_SUBENTRY_LIMIT:
            return "TOO_MANY_SUBENTRIES"
        if self.available_balance(account_id, NATIVE) < count * self.base_reserve:
            return "LOW_RESERVE"
        return None

    def add_subentries(self, account_id: str, count: int) -> None:
        acc = self.mut_account(account_id)
        acc.num_subentries += count
        if acc.num_subentries < 0:
            raise AssertionError(f"negative subentry count for {account_id}")

    # ---- Horizon JSON views -----------------------------------------------------------------------

    def offer_json(self, offer: Offer) -> dict:
        """Horizon's offer resource without ``_links``."""
        return {
            "id": str(offer.offer_id),
            "paging_token": str(offer.offer_id),
            "seller": offer.seller,
            "selling": horizon_fields(offer.selling),
            "buying": horizon_fields(offer.buying),
            "amount": format_amount(offer.amount),
            "price_r": {"n": offer.price_n, "d": offer.price_d},
            "price": price_to_str(offer.price_n, offer.price_d),
            "last_modified_ledger": offer.last_modified_ledger,
            "last_modified_time": iso_time(offer.last_modified_time),
        }

    def account_json(self, account_id: str) -> dict | None:
        """Horizon's account resource without ``_links``; credit balances first, native last."""
        acc = self.accounts.get(account_id)
        if acc is None:
            return None
        balances = []
        lines = self.trustlines_of(account_id)
        for line in sorted((t for t in lines if is_pool_share(t.asset)), key=lambda t: t.asset):
            balances.append(_pool_share_balance(line))
        for line in sorted((t for t in lines if not is_pool_share(t.asset)), key=lambda t: asset_sort_key(t.asset)):
            entry = {
                "balance": format_amount(line.balance),
                "limit": format_amount(line.limit),
                "buying_liabilities": format_amount(line.buying_liabilities),
                "selling_liabilities": format_amount(line.selling_liabilities),
                "last_modified_ledger": line.last_modified_ledger,
                "is_authorized": line.is_authorized,
                "is_authorized_to_maintain_liabilities": line.can_maintain_liabilities,
                "is_clawback_enabled": bool(line.flags & TRUSTLINE_CLAWBACK_ENABLED_FLAG),
            }
            entry.update(horizon_fields(line.asset))
            balances.append(entry)
        balances.append(
            {
                "balance": format_amount(acc.balance),
                "buying_liabilities": format_amount(acc.buying_liabilities),
                "selling_liabilities": format_amount(acc.selling_liabilities),
                "asset_type": "native",
            }
        )
        return {
            "id": account_id,
            "account_id": account_id,
            "sequence": str(acc.seq_num),
            "subentry_count": acc.num_subentries,
            "last_modified_ledger": acc.last_modified_ledger,
            "last_modified_time": iso_time(acc.last_modified_time),
            "thresholds": {
                "low_threshold": acc.low_threshold,
                "med_threshold": acc.med_threshold,
                "high_threshold": acc.high_threshold,
            },
            "flags": {
                "auth_required": bool(acc.flags & 1),
                "auth_revocable": bool(acc.flags & 2),
                "auth_immutable": bool(acc.flags & 4),
                "auth_clawback_enabled": bool(acc.flags & 8),
            },
            "balances": balances,
            "signers": [{"weight": acc.master_weight, "key": account_id, "type": "ed25519_public_key"}],
            "data": {},
            "num_sponsoring": acc.num_sponsoring,
            "num_sponsored": acc.num_sponsored,
            "paging_token": account_id,
        }

    def order_book_json(self, selling: str, buying: str, limit: int = 20) -> dict:
        """Horizon's /order_book for base=selling, counter=buying.

        asks: offers selling ``selling`` (price = offer price, amount in ``selling``);
        bids: offers selling ``buying`` (price and price_r inverted, amount in ``buying`` as Horizon does).
        Levels aggregate offers with the same (n, d), best first, at most ``limit`` per side.
        """
        return {
            "bids": self._levels(buying, selling, limit, invert=True),
            "asks": self._levels(selling, buying, limit, invert=False),
            "base": horizon_fields(selling),
            "counter": horizon_fields(buying),
        }

    def _levels(self, selling: str, buying: str, limit: int, invert: bool) -> list[dict]:
        totals: dict[tuple[int, int], int] = {}
        for _, oid in self._books.get((selling, buying), ()):
            offer = self.offers[oid]
            key = (offer.price_n, offer.price_d)
            if key in totals:
                totals[key] += offer.amount
            elif len(totals) < limit:
                totals[key] = offer.amount
        levels = []
        for (n, d), total in totals.items():
            if invert:
                n, d = d, n
            levels.append({"price_r": {"n": n, "d": d}, "price": price_to_str(n, d), "amount": format_amount(total)})
        return levels

    # ---- checks used by tests and debugging -------------------------------------------------------

    def total_supply(self, asset: str) -> int:
        """Sum of all balances of the asset held by non-issuers."""
        if asset == NATIVE:
            return sum(acc.balance for acc in self.accounts.values())
        return sum(lines[asset].balance for lines in self._trustlines.values() if asset in lines)

    def check_invariants(self) -> None:
        """Raise AssertionError when liabilities, balances or books disagree with the offers."""
        expected: dict[tuple[str, str], list[int]] = {}
        for offer in self.offers.values():
            if offer.amount <= 0:
                raise AssertionError(f"offer {offer.offer_id} has amount {offer.amount}")
            sell, buy = offer_liabilities(offer.price_n, offer.price_d, offer.amount)
            if not self.is_issuer(offer.seller, offer.selling):
                expected.setdefault((offer.seller, offer.selling), [0, 0])[0] += sell
            if not self.is_issuer(offer.seller, offer.buying):
                expected.setdefault((offer.seller, offer.buying), [0, 0])[1] += buy
        entries: list[tuple[str, str, Account | TrustLine]] = [
            (a.account_id, NATIVE, a) for a in self.accounts.values()
        ]
        for lines in self._trustlines.values():
            entries.extend((ln.account_id, ln.asset, ln) for ln in lines.values() if not is_pool_share(ln.asset))
        for account_id, asset, entry in entries:
            sell, buy = expected.pop((account_id, asset), (0, 0))
            if (entry.selling_liabilities, entry.buying_liabilities) != (sell, buy):
                raise AssertionError(
                    f"{account_id}/{asset}: liabilities {(entry.selling_liabilities, entry.buying_liabilities)}"
                    f" != offers' {(sell, buy)}"
                )
            if entry.balance < 0:
                raise AssertionError(f"{account_id}/{asset}: negative balance")
            if isinstance(entry, TrustLine):
                if entry.balance < entry.selling_liabilities or entry.balance + entry.buying_liabilities > entry.limit:
                    raise AssertionError(f"{account_id}/{asset}: liabilities exceed balance or limit")
            elif entry.balance < self.min_balance(entry) + entry.selling_liabilities:
                raise AssertionError(f"{account_id}: native balance below reserve plus selling liabilities")
        if expected:
            raise AssertionError(f"liabilities on missing entries: {sorted(expected)}")
        counts: dict[str, int] = {}
        for offer in self.offers.values():
            counts[offer.seller] = counts.get(offer.seller, 0) + 1
        for account_id, lines in self._trustlines.items():
            counts[account_id] = counts.get(account_id, 0) + sum(2 if is_pool_share(a) else 1 for a in lines)
        for acc in self.accounts.values():
            entries_held = counts.get(acc.account_id, 0)
            if acc.num_subentries != entries_held:
                raise AssertionError(f"{acc.account_id}: subentries {acc.num_subentries} != entries {entries_held}")
        in_books = sum(len(book) for book in self._books.values())
        if in_books != len(self.offers):
            raise AssertionError(f"books hold {in_books} offers, ledger {len(self.offers)}")
        check_pools(self)


def _pool_share_balance(line: TrustLine) -> dict:
    """Horizon's balance line of pool shares (no liabilities; flags as the trustline has them: none)."""
    return {
        "balance": format_amount(line.balance),
        "liquidity_pool_id": pool_id_of_share(line.asset),
        "limit": format_amount(line.limit),
        "last_modified_ledger": line.last_modified_ledger,
        "is_authorized": line.is_authorized,
        "is_authorized_to_maintain_liabilities": line.is_authorized,
        "is_clawback_enabled": False,
        "asset_type": "liquidity_pool_shares",
    }


__all__ = [
    "ACCOUNT_SUBENTRY_LIMIT",
    "AUTHORIZED_FLAG",
    "DEFAULT_BASE_RESERVE",
    "PASSIVE_FLAG",
    "Account",
    "LedgerState",
    "Offer",
    "TrustLine",
    "iso_time",
]
