"""What one Horizon (or RPC) frontend has ingested of a ``Network``: the network as of a ledger.

A real Horizon serves what its ingestion has written: the ledgers and history up to its latest
ingested ledger, the ledger entries (accounts, trustlines, offers) as of that ledger, and it streams
a record once the record's ledger is ingested. ``IngestView`` does the same over the one shared
network. With ``lag`` 0 it is the network as it is. With ``lag`` N:

- a replica of the ledger entries follows the network's per-ledger entry changes (as Horizon applies
  a ledger's meta), so accounts, offers and order books are those of the ingested ledger;
- history after the ingested ledger is hidden (pages, single records, ``cursor=now``);
- the network's events (which wake streams and submission waiters) are held back until their ledger
  is ingested.

A view never goes back in time: a lag set at ledger L keeps the view at L until the network is N
ledgers ahead, then it follows N behind (a Horizon whose ingestion falls behind). Lowering the lag
ingests the held ledgers at once, in order (catching up). No I/O: the web layer reads it like the
``Network`` (``latest_ledger``, ``history``, ``state``, ``transaction``, ``fee_stats``,
``add_listener``) and submits through it to the network.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Any, Optional

from stellar_sandbox.core.history import History
from stellar_sandbox.core.state import LedgerState

log = logging.getLogger(__name__)

Record = dict[str, Any]
Listener = Callable[[str, Record], None]


class _StoreView:
    """A ``RecordStore`` seen up to the end of ledger ``ceiling()``: its keys start with the ledger."""

    __slots__ = ("_store", "_ceiling", "_shift")

    def __init__(self, store: Any, ceiling: Callable[[], int], shift: int) -> None:
        self._store = store
        self._ceiling = ceiling
        self._shift = shift

    def _limit(self) -> int:
        return ((self._ceiling() + 1) << 32) << self._shift

    def __len__(self) -> int:
        return len(self._store)

    @property
    def oldest_key(self) -> Optional[int]:
        key = self._store.oldest_key
        return key if key is not None and key < self._limit() else None

    def get(self, key: int) -> Optional[Record]:
        return self._store.get(key) if key < self._limit() else None

    def page(self, cursor: Optional[str] = None, order: str = "asc", limit: Any = 10, *, index: Any = None,
             key_range: Optional[tuple[int, Optional[int]]] = None,
             accept: Optional[Callable[[Record], bool]] = None) -> list[Record]:
        ceiling = self._limit()
        low, high = key_range if key_range is not None else (0, None)
        high = ceiling if high is None else min(high, ceiling)
        return self._store.page(cursor, order, limit, index=index, key_range=(low, high), accept=accept)


class HistoryView(History):
    """``History`` up to the end of ledger ``ceiling()``: the same queries, later records hidden."""

    def __init__(self, history: History, ceiling: Callable[[], int]) -> None:  # shares `history`'s stores
        self._tx_key_by_hash = history._tx_key_by_hash
        self.ledgers = _StoreView(history.ledgers, ceiling, 0)
        self.transactions = _StoreView(history.transactions, ceiling, 0)
        self.operations = _StoreView(history.operations, ceiling, 0)
        self.effects = _StoreView(history.effects, ceiling, 32)
        self.trades = _StoreView(history.trades, ceiling, 32)


class _HeldLedger:
    __slots__ = ("sequence", "changes", "events")

    def __init__(self, sequence: int) -> None:
        self.sequence = sequence
        self.changes: list = []
        self.events: list[tuple[str, Record]] = []


class IngestView:
    """The network as one frontend has ingested it, ``lag`` ledgers behind at most (see the module doc)."""

    def __init__(self, network: Any) -> None:
        self.network = network
        self.lag = 0
        self._listeners: list[Listener] = []
        self._replica: Optional[LedgerState] = None
        self._ledger: Optional[Record] = None  # the ingested ledger while lagging (None: the network's)
        self._held: deque[_HeldLedger] = deque()
        self._history_view = HistoryView(network.history, lambda: self.sequence)
        network.add_listener(self._on_network_event)

    def close(self) -> None:
        """Stop following the network (the frontend is gone)."""
        self.network.remove_listener(self._on_network_event)
        self.network.remove_entry_listener(self._on_entry_changes)

    # ----- what the web layer reads -----

    @property
    def lagging(self) -> bool:
        return self._replica is not None

    @property
    def latest_ledger(self) -> Record:
        return self._ledger if self._ledger is not None else self.network.latest_ledger

    @property
    def sequence(self) -> int:
        """The latest ingested ledger."""
        return int(self.latest_ledger["sequence"])

    @property
    def behind(self) -> int:
        """Ledgers closed by the network and not yet ingested here."""
        return int(self.network.latest_ledger["sequence"]) - self.sequence

    @property
    def history(self) -> History:
        return self._history_view if self._replica is not None else self.network.history

    @property
    def state(self) -> LedgerState:
        return self._replica if self._replica is not None else self.network.state

    @property
    def passphrase(self) -> str:
        return self.network.passphrase

    def transaction(self, tx_hash: str) -> Optional[Record]:
        return self.history.transaction(tx_hash)

    @property
    def clock(self) -> Callable[[], float]:
        return self.network.clock

    def fee_stats(self) -> Record:
        return self.network.fee_stats(self.sequence)

    def fee_samples(self, first: int, last: int) -> tuple[list[int], list[int], int]:
        return self.network.fee_samples(first, min(last, self.sequence))

    def submit(self, envelope_xdr: str) -> Any:
        """Submissions go to the one network (its core), whatever this frontend has ingested."""
        return self.network.submit(envelope_xdr)

    def add_listener(self, callback: Listener) -> None:
        self._listeners.append(callback)

    def remove_listener(self, callback: Listener) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    # ----- lag -----

    def set_lag(self, ledgers: int) -> None:
        """Ingest ``ledgers`` behind the network from now on (0: keep up; held ledgers are ingested at once)."""
        if isinstance(ledgers, bool) or not isinstance(ledgers, int) or ledgers < 0:
            raise ValueError(f"lag must be a non-negative number of ledgers, got {ledgers!r}")
        self.lag = ledgers
        if ledgers and self._replica is None:
            # start lagging from the ledger the network is at: a replica of its entries from here on
            self._replica = self.network.state.clone()
            self._ledger = self.network.latest_ledger
            self.network.add_entry_listener(self._on_entry_changes)
        self._ingest(int(self.network.latest_ledger["sequence"]) - ledgers)
        if not ledgers and self._replica is not None:
            self.network.remove_entry_listener(self._on_entry_changes)
            self._replica = None
            self._ledger = None

    # ----- following the network -----

    def _on_entry_changes(self, sequence: int, changes: list) -> None:
        # called at each close before that ledger's events: every earlier ledger is complete by now
        self._ingest(sequence - self.lag)
        held = _HeldLedger(sequence)
        held.changes = changes
        self._held.append(held)

    def _on_network_event(self, kind: str, record: Record) -> None:
        if self._replica is None:
            self._emit(kind, record)
        elif self._held:
            self._held[-1].events.append((kind, record))

    def _ingest(self, up_to: int) -> None:
        """Ingest the held ledgers up to ``up_to``: entries, then the ledger, then its events."""
        while self._held and self._held[0].sequence <= up_to:
            held = self._held.popleft()
            self._replica.apply_changes(held.changes)
            self._ledger = self.network.history.ledger(held.sequence) or self._ledger
            for kind, record in held.events:
                self._emit(kind, record)

    def _emit(self, kind: str, record: Record) -> None:
        for listener in list(self._listeners):
            try:
                listener(kind, record)
            except Exception:  # one broken listener must not starve the others
                log.exception("view listener failed on %s", kind)
