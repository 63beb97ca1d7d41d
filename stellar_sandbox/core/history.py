"""Bounded history of closed ledgers as Horizon records, with Horizon's filters and cursor paging.

Records are Horizon JSON dicts without ``_links``. Every store keeps its records under an integer
key that grows with time (ledger ``seq << 32``, TOIDs, ``op_id << 32 | index`` for effects and
trades), so paging is a bisection over ordered keys plus ``limit`` steps, never a scan. When a
store exceeds its cap the oldest records are dropped; secondary indexes are pruned in batches.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Optional

Record = dict[str, Any]

DEFAULT_LIMIT = 10
MAX_LIMIT = 200
_INDEX_SHIFT = 32  # effects and trades: key = op_id << 32 | index
_TX_OPS_SPAN = 1 << 12  # a transaction's TOID plus 1..4095 are its operations
_COMPACT_MIN = 1024
_PAYMENT_TYPES = frozenset(
    {
        "create_account",
        "payment",
        "path_payment_strict_receive",
        "path_payment_strict_send",
        "account_merge",
    }
)


def parse_int_cursor(cursor: str) -> int:
    """Cursor of ledgers, transactions and operations: the decimal paging token."""
    try:
        value = int(cursor)
    except ValueError:
        raise ValueError(f"invalid cursor {cursor!r}: expected an integer paging token") from None
    if value < 0:
        raise ValueError(f"invalid cursor {cursor!r}: must not be negative")
    return value


def parse_pair_cursor(cursor: str) -> int:
    """Cursor of effects and trades: ``"{op_id}-{index}"`` (a bare operation id is accepted too)."""
    head, sep, tail = cursor.partition("-")
    try:
        op_id = int(head)
        index = int(tail) if sep else 0
    except ValueError:
        raise ValueError(f"invalid cursor {cursor!r}: expected '<operation id>-<index>'") from None
    if op_id < 0 or not 0 <= index < (1 << _INDEX_SHIFT):
        raise ValueError(f"invalid cursor {cursor!r}: out of range")
    return (op_id << _INDEX_SHIFT) | index


def pair_key(op_id: int, index: int) -> int:
    return (op_id << _INDEX_SHIFT) | index


def check_paging(order: str, limit: Any) -> tuple[bool, int]:
    """Validate Horizon's ``order`` and ``limit``; returns (descending, limit)."""
    if order not in ("asc", "desc"):
        raise ValueError(f"invalid order {order!r}: expected 'asc' or 'desc'")
    try:
        n = int(limit)
    except (TypeError, ValueError):
        raise ValueError(f"invalid limit {limit!r}: expected an integer") from None
    if not 1 <= n <= MAX_LIMIT:
        raise ValueError(f"invalid limit {n}: must be between 1 and {MAX_LIMIT}")
    return order == "desc", n


class RecordStore:
    """Records ordered by an increasing integer key, capped, with secondary indexes of keys."""

    def __init__(
        self,
        cap: int,
        parse_cursor: Callable[[str], int],
        on_evict: Optional[Callable[[int, Record], None]] = None,
    ) -> None:
        if cap < 1:
            raise ValueError(f"history cap must be positive, got {cap}")
        self.cap = cap
        self._parse_cursor = parse_cursor
        self._on_evict = on_evict
        self._records: dict[int, Record] = {}
        self._keys: list[int] = []  # ascending; entries before _start were evicted
        self._start = 0
        self._indexes: dict[Hashable, list[int]] = {}

    def __len__(self) -> int:
        return len(self._records)

    @property
    def latest_key(self) -> Optional[int]:
        return self._keys[-1] if len(self._keys) > self._start else None

    @property
    def oldest_key(self) -> Optional[int]:
        return self._keys[self._start] if len(self._keys) > self._start else None

    def get(self, key: int) -> Optional[Record]:
        return self._records.get(key)

    def add(self, key: int, record: Record, index_keys: Iterable[Hashable] = ()) -> None:
        keys = self._keys
        if len(keys) > self._start and key <= keys[-1]:
            raise ValueError(f"record key {key} is not after the latest key {keys[-1]}")
        keys.append(key)
        self._records[key] = record
        indexes = self._indexes
        for index_key in index_keys:
            bucket = indexes.get(index_key)
            if bucket is None:
                indexes[index_key] = [key]
            elif bucket[-1] != key:  # the same account may be named twice by one record
                bucket.append(key)
        if len(self._records) > self.cap:
            self._evict_oldest()

    def _evict_oldest(self) -> None:
        key = self._keys[self._start]
        self._start += 1
        record = self._records.pop(key)
        if self._on_evict is not None:
            self._on_evict(key, record)
        if self._start >= _COMPACT_MIN and self._start * 2 >= len(self._keys):
            self._compact()

    def _compact(self) -> None:
        """Drop evicted keys from the key list and the indexes (amortised over cap/2 evictions)."""
        del self._keys[: self._start]
        self._start = 0
        oldest = self._keys[0] if self._keys else None
        empty = []
        for index_key, bucket in self._indexes.items():
            cut = len(bucket) if oldest is None else bisect_left(bucket, oldest)
            if cut:
                del bucket[:cut]
                if not bucket:
                    empty.append(index_key)
        for index_key in empty:
            del self._indexes[index_key]

    def page(
        self,
        cursor: Optional[str] = None,
        order: str = "asc",
        limit: Any = DEFAULT_LIMIT,
        *,
        index: Optional[Hashable] = None,
        key_range: Optional[tuple[int, int]] = None,
        accept: Optional[Callable[[Record], bool]] = None,
    ) -> list[Record]:
        """One page of records after (asc) or before (desc) ``cursor``.

        ``index`` restricts to a secondary index, ``key_range`` to keys in [lo, hi), ``accept`` drops
        records (e.g. failed transactions) while walking. ``cursor="now"`` means after the latest.
        """
        descending, n = check_paging(order, limit)
        if index is not None:
            keys = self._indexes.get(index)
            if not keys:
                return []
            first = 0
        else:
            keys = self._keys
            first = self._start
        oldest = self.oldest_key
        if oldest is None:
            return []
        lo, hi = key_range if key_range is not None else (oldest, None)
        lo = max(lo, oldest)
        if cursor is not None and cursor != "":
            if cursor == "now":
                if not descending:
                    return []
            else:
                position = self._parse_cursor(cursor)
                if descending:
                    hi = position if hi is None else min(hi, position)
                else:
                    lo = max(lo, position + 1)
        records = self._records
        out: list[Record] = []
        if descending:
            i = (len(keys) if hi is None else bisect_left(keys, hi, first)) - 1
            while i >= first and len(out) < n:
                key = keys[i]
                if key < lo:
                    break
                record = records.get(key)
                if record is not None and (accept is None or accept(record)):
                    out.append(record)
                i -= 1
        else:
            i = bisect_left(keys, lo, first)
            end = len(keys)
            while i < end and len(out) < n:
                key = keys[i]
                if hi is not None and key >= hi:
                    break
                record = records.get(key)
                if record is not None and (accept is None or accept(record)):
                    out.append(record)
                i += 1
        return out


def _successful_only(record: Record) -> bool:
    return record.get("successful", record.get("transaction_successful", True)) is not False


def _payment_only(record: Record) -> bool:
    return record.get("type") in _PAYMENT_TYPES


def _successful_payment(record: Record) -> bool:
    return _payment_only(record) and _successful_only(record)


def trade_asset_key(record: Record, side: str) -> str:
    """Asset key (``"native"`` or ``"CODE:ISSUER"``) of a trade's ``base`` or ``counter`` side."""
    if record.get(f"{side}_asset_type") == "native":
        return "native"
    return f"{record[f'{side}_asset_code']}:{record[f'{side}_asset_issuer']}"


_SWAPPED_FIELDS = (
    "offer_id",
    "account",
    "amount",
    "asset_type",
    "asset_code",
    "asset_issuer",
    "liquidity_pool_id",
)


def reverse_trade(record: Record) -> Record:
    """The trade seen from the other side: base and counter swapped, price inverted (as Horizon)."""
    out = dict(record)
    for field in _SWAPPED_FIELDS:
        base_field, counter_field = f"base_{field}", f"counter_{field}"
        base_value = record.get(base_field)
        counter_value = record.get(counter_field)
        out.pop(base_field, None)
        out.pop(counter_field, None)
        if counter_value is not None:
            out[base_field] = counter_value
        if base_value is not None:
            out[counter_field] = base_value
    if "base_is_seller" in record:
        out["base_is_seller"] = not record["base_is_seller"]
    price = record.get("price")
    if isinstance(price, dict):
        out["price"] = {"n": price["d"], "d": price["n"]}
    return out


class History:
    """Ledgers, transactions, operations, effects and trades, each capped at ``cap`` records."""

    def __init__(self, cap: int = 100_000) -> None:
        self._tx_key_by_hash: dict[str, int] = {}
        self.ledgers = RecordStore(cap, parse_int_cursor)
        self.transactions = RecordStore(cap, parse_int_cursor, on_evict=self._forget_transaction)
        self.operations = RecordStore(cap, parse_int_cursor)
        self.effects = RecordStore(cap, parse_pair_cursor)
        self.trades = RecordStore(cap, parse_pair_cursor)

    # ----- adding (called by the network at ledger close, in key order) -----

    def add_ledger(self, record: Record) -> None:
        self.ledgers.add(int(record["paging_token"]), record)

    def add_transaction(self, record: Record, accounts: Iterable[str], pools: Iterable[str] = ()) -> None:
        """``accounts``: every participant (tx source, fee source, operation participants); ``pools``: the
        liquidity pools whose entry it changed (Horizon's pool participants)."""
        key = int(record["paging_token"])
        self.transactions.add(key, record, [*(("account", a) for a in accounts), *(("pool", p) for p in pools)])
        self._tx_key_by_hash[record["hash"]] = key
        inner = record.get("inner_transaction")
        if inner:
            self._tx_key_by_hash[inner["hash"]] = key

    def add_operation(self, record: Record, accounts: Iterable[str], pools: Iterable[str] = ()) -> None:
        index_keys: list[Hashable] = [("account", a) for a in accounts]
        index_keys.extend(("pool", p) for p in pools)
        if record.get("type") in _PAYMENT_TYPES:
            index_keys.append("payments")
            index_keys.extend(("payments", a) for a in accounts)
        self.operations.add(int(record["paging_token"]), record, index_keys)

    def add_effect(self, record: Record, pools: Iterable[str] = ()) -> None:
        """``pools``: the pools its operation changed (Horizon lists every effect of such an operation)."""
        index_keys: list[Hashable] = [("account", record["account"])] if record.get("account") else []
        index_keys.extend(("pool", p) for p in pools)
        self.effects.add(parse_pair_cursor(record["paging_token"]), record, index_keys)

    def add_trade(self, record: Record) -> None:
        index_keys: list[Hashable] = []
        for side in ("base", "counter"):
            account = record.get(f"{side}_account")
            if account:
                index_keys.append(("account", account))
            offer_id = record.get(f"{side}_offer_id")
            if offer_id:
                index_keys.append(("offer", str(offer_id)))
            pool_id = record.get(f"{side}_liquidity_pool_id")
            if pool_id:
                index_keys.append(("pool", pool_id))
        base, counter = trade_asset_key(record, "base"), trade_asset_key(record, "counter")
        index_keys.append(("pair",) + tuple(sorted((base, counter))))
        self.trades.add(parse_pair_cursor(record["paging_token"]), record, index_keys)

    def _forget_transaction(self, _key: int, record: Record) -> None:
        self._tx_key_by_hash.pop(record["hash"], None)
        inner = record.get("inner_transaction")
        if inner:
            self._tx_key_by_hash.pop(inner["hash"], None)

    # ----- single records -----

    def ledger(self, sequence: int) -> Optional[Record]:
        return self.ledgers.get(sequence << 32)

    def transaction(self, tx_hash: str) -> Optional[Record]:
        """By outer hash, or by the inner hash of a fee-bump transaction (as Horizon)."""
        key = self._tx_key_by_hash.get(tx_hash)
        return None if key is None else self.transactions.get(key)

    def operation(self, op_id: int) -> Optional[Record]:
        return self.operations.get(op_id)

    # ----- pages -----

    def ledgers_page(self, cursor: Optional[str] = None, order: str = "asc", limit: Any = DEFAULT_LIMIT) -> list:
        return self.ledgers.page(cursor, order, limit)

    def transactions_page(
        self,
        cursor: Optional[str] = None,
        order: str = "asc",
        limit: Any = DEFAULT_LIMIT,
        *,
        account: Optional[str] = None,
        ledger: Optional[int] = None,
        include_failed: bool = False,
        liquidity_pool: Optional[str] = None,
    ) -> list[Record]:
        return self.transactions.page(
            cursor,
            order,
            limit,
            index=_participant_index(account, liquidity_pool),
            key_range=_ledger_range(ledger, 0) if ledger is not None else None,
            accept=None if include_failed else _successful_only,
        )

    def operations_page(
        self,
        cursor: Optional[str] = None,
        order: str = "asc",
        limit: Any = DEFAULT_LIMIT,
        *,
        account: Optional[str] = None,
        ledger: Optional[int] = None,
        tx_hash: Optional[str] = None,
        include_failed: bool = False,
        payments_only: bool = False,
        liquidity_pool: Optional[str] = None,
    ) -> list[Record]:
        """Operations, optionally only payments (Horizon's ``/payments``)."""
        key_range = self._tx_or_ledger_range(tx_hash, ledger, 0)
        if key_range is None:
            return []
        if payments_only:
            index: Optional[Hashable] = ("payments", account) if account else "payments"
        else:
            index = _participant_index(account, liquidity_pool)
        accept: Optional[Callable[[Record], bool]] = None
        if not include_failed and tx_hash is None:
            accept = _successful_only
        return self.operations.page(
            cursor, order, limit, index=index, key_range=key_range or None, accept=accept
        )

    def effects_page(
        self,
        cursor: Optional[str] = None,
        order: str = "asc",
        limit: Any = DEFAULT_LIMIT,
        *,
        account: Optional[str] = None,
        ledger: Optional[int] = None,
        tx_hash: Optional[str] = None,
        operation_id: Optional[int] = None,
        liquidity_pool: Optional[str] = None,
    ) -> list[Record]:
        if operation_id is not None:
            key_range: Optional[tuple[int, int]] = (pair_key(operation_id, 0), pair_key(operation_id + 1, 0))
        else:
            key_range = self._tx_or_ledger_range(tx_hash, ledger, _INDEX_SHIFT)
            if key_range is None:
                return []
        return self.effects.page(
            cursor, order, limit, index=_participant_index(account, liquidity_pool), key_range=key_range or None
        )

    def trades_page(
        self,
        cursor: Optional[str] = None,
        order: str = "asc",
        limit: Any = DEFAULT_LIMIT,
        *,
        account: Optional[str] = None,
        offer_id: Optional[str] = None,
        base_asset: Optional[str] = None,
        counter_asset: Optional[str] = None,
        liquidity_pool: Optional[str] = None,
        trade_type: Optional[str] = None,
    ) -> list[Record]:
        """Trades; with a pair, oriented as asked (base/counter swapped and price inverted if needed).

        ``trade_type``: ``orderbook`` or ``liquidity_pool`` (None or ``all``: both)."""
        if (base_asset is None) != (counter_asset is None):
            raise ValueError("base_asset and counter_asset must be given together")
        kind = None if trade_type in (None, "all") else trade_type
        if base_asset is not None:
            index: Optional[Hashable] = ("pair",) + tuple(sorted((base_asset, counter_asset)))
            accept = _trade_filter(account, offer_id, kind, liquidity_pool)
            page = self.trades.page(cursor, order, limit, index=index, accept=accept)
            return [r if trade_asset_key(r, "base") == base_asset else reverse_trade(r) for r in page]
        if offer_id is not None:
            index = ("offer", str(offer_id))
            accept = _trade_filter(account, None, kind, liquidity_pool)
        elif liquidity_pool is not None:
            index = ("pool", liquidity_pool)
            accept = _trade_filter(account, None, kind, None)
        else:
            index = ("account", account) if account else None
            accept = _trade_filter(None, None, kind, None)
        return self.trades.page(cursor, order, limit, index=index, accept=accept)

    def _tx_or_ledger_range(self, tx_hash: Optional[str], ledger: Optional[int], shift: int):
        """Key range of a transaction's or a ledger's records; ``()`` for none, ``None`` if unknown tx."""
        if tx_hash is not None:
            key = self._tx_key_by_hash.get(tx_hash)
            if key is None:
                return None
            return (key << shift, (key + _TX_OPS_SPAN) << shift)
        if ledger is not None:
            return _ledger_range(ledger, shift)
        return ()


def _ledger_range(ledger: int, shift: int) -> tuple[int, int]:
    return ((ledger << 32) << shift, ((ledger + 1) << 32) << shift)


def _participant_index(account: Optional[str], liquidity_pool: Optional[str]) -> Optional[Hashable]:
    if account:
        return ("account", account)
    return ("pool", liquidity_pool) if liquidity_pool else None


def _trade_filter(
    account: Optional[str], offer_id: Optional[str], trade_type: Optional[str], liquidity_pool: Optional[str]
) -> Optional[Callable[[Record], bool]]:
    """A filter for the criteria the page's index does not already apply (None: keep every record)."""
    if account is None and offer_id is None and trade_type is None and liquidity_pool is None:
        return None

    def accept(record: Record) -> bool:
        if account is not None and account not in (record.get("base_account"), record.get("counter_account")):
            return False
        if trade_type is not None and record.get("trade_type") != trade_type:
            return False
        if liquidity_pool is not None and liquidity_pool not in (
            record.get("base_liquidity_pool_id"), record.get("counter_liquidity_pool_id")
        ):
            return False
        return offer_id is None or str(offer_id) in (
            str(record.get("base_offer_id")),
            str(record.get("counter_offer_id")),
        )

    return accept
