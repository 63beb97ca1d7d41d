"""The ledger's records of one account against what the bots that traded it reported: after a chaos scenario,
was any order lost or placed twice, any fill missed or reported twice, any offer left that no bot knows?

Two witnesses, each read independently of the connector's own decoding:
- the ledger, through Horizon (`read_ledger_history`): every transaction of the account, whose envelope names
  the offer-creating operations it sourced and whose result XDR the offer each one left on the book (or none,
  when it filled at once); every trade of the account, by the offer id on its side; the offers open now;
- the bots' journals (`BotRun.from_journal`, see `profiling.bot_process`): the orders each reported created
  (client id -> offer id), restored from Hummingbot's saved state at its start, ended (cancelled, completed,
  failed); the fills it reported (trade ids); its crash recovery's report; what it tracked when it was killed.

`account_for` is pure: crafted histories and journals test it (test/profiling/test_ledger_audit.py).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

TOID_OFFER_BIT = 1 << 62   # Horizon names an offer that never rested by its operation's id with this bit set
PAGE = 200


@dataclass(frozen=True)
class OfferCreate:
    """One offer-creating operation of the account on the ledger."""
    operation_id: int
    tx_hash: str
    offer_id: Optional[str]   # the offer it left on the book; None: it filled entirely at placement

    @property
    def order_id(self) -> str:
        """The id an order of this operation carries: its offer's, or Horizon's synthetic one for a taker."""
        return self.offer_id or str(self.operation_id | TOID_OFFER_BIT)


@dataclass
class LedgerHistory:
    creates: List[OfferCreate]
    trades: Dict[str, Tuple[str, str]]   # trade id -> (the account's offer id in it, ledger close time)
    offers: List[str]                    # offer ids on the book now


async def all_records(horizon, path: str, **params: Any) -> List[dict]:
    """Every record of a Horizon collection, page by page (ascending)."""
    records: List[dict] = []
    cursor = None
    while True:
        page = await horizon.records(path, limit=PAGE, **params, **({"cursor": cursor} if cursor else {}))
        records += page
        if len(page) < PAGE:
            return records
        cursor = page[-1]["paging_token"]


async def read_ledger_history(horizon, account_id: str) -> LedgerHistory:
    transactions = await all_records(horizon, f"/accounts/{account_id}/transactions")
    trades = await all_records(horizon, f"/accounts/{account_id}/trades")
    offers = await all_records(horizon, f"/accounts/{account_id}/offers")
    creates = [create for record in transactions for create in offer_creates(record, account_id, horizon.passphrase)]
    return LedgerHistory(creates=creates,
                         trades={trade_id(t): (trade_offer_id(t, account_id), str(t.get("ledger_close_time", "")))
                                 for t in trades},
                         offers=sorted(str(offer["id"]) for offer in offers))


def offer_creates(record: Mapping[str, Any], account_id: str, passphrase: str) -> List[OfferCreate]:
    """The offer-creating operations `account_id` sourced in a successful transaction (Horizon's record)."""
    from stellar_sdk import CreatePassiveSellOffer, ManageBuyOffer, ManageSellOffer, TransactionEnvelope
    from stellar_sdk import xdr as stellar_xdr

    if not record.get("successful", True):
        return []
    envelope = TransactionEnvelope.from_xdr(record["envelope_xdr"], passphrase)
    transaction = envelope.transaction
    results = stellar_xdr.TransactionResult.from_xdr(record["result_xdr"]).result.results or []
    first_operation = int(record["paging_token"]) + 1
    creates = []
    for index, (operation, result) in enumerate(zip(transaction.operations, results, strict=True)):
        source = operation.source.account_id if operation.source is not None else transaction.source.account_id
        if source != account_id:
            continue
        if isinstance(operation, CreatePassiveSellOffer):
            offer_result = result.tr.create_passive_sell_offer_result
        elif isinstance(operation, ManageSellOffer) and int(operation.offer_id) == 0:
            offer_result = result.tr.manage_sell_offer_result
        elif isinstance(operation, ManageBuyOffer) and int(operation.offer_id) == 0:
            offer_result = result.tr.manage_buy_offer_result
        else:
            continue
        resting = offer_result.success.offer.offer if offer_result.success is not None else None
        creates.append(OfferCreate(operation_id=first_operation + index, tx_hash=record["hash"],
                                   offer_id=str(resting.offer_id.int64) if resting is not None else None))
    return creates


def trade_id(record: Mapping[str, Any]) -> str:
    """Horizon's trade id, "<operation id>-<index>", without zero padding."""
    text = str(record.get("paging_token") or record["id"])
    operation_id, sep, index = text.partition("-")
    return f"{int(operation_id)}-{int(index)}" if sep and operation_id.isdigit() and index.isdigit() else text


def trade_offer_id(record: Mapping[str, Any], account_id: str) -> str:
    side = "base" if record.get("base_account") == account_id else "counter"
    return str(record.get(f"{side}_offer_id"))


@dataclass
class BotRun:
    """What one bot process reported, from its journal."""
    label: str
    killed: bool
    created: Dict[str, str] = field(default_factory=dict)                # client id -> offer id
    restored: Dict[str, Optional[str]] = field(default_factory=dict)     # client id -> offer id (None: pending)
    restored_fills: Set[str] = field(default_factory=set)                # trade ids the restored orders held
    ended: Set[str] = field(default_factory=set)                         # cancelled, completed or failed
    settled_at_start: Set[str] = field(default_factory=set)              # ended before the bot reported ready
    fills: List[Tuple[str, str]] = field(default_factory=list)           # (trade id, client id)
    recovery: Optional[Dict[str, List[str]]] = None
    ready_wall: Optional[float] = None
    last_orders: Dict[str, List[str]] = field(default_factory=dict)      # resting, creating
    stopped: Optional[Dict[str, Any]] = None

    @classmethod
    def from_journal(cls, label: str, journal: Sequence[Mapping[str, Any]], killed: bool) -> BotRun:
        run = cls(label=label, killed=killed)
        for entry in journal:
            event = entry.get("event")
            if event == "started":
                run.restored = {o["order_id"]: o.get("exchange_order_id") for o in entry.get("restored") or []}
                run.restored_fills = {str(t) for o in entry.get("restored") or [] for t in o.get("fills") or []}
            elif event == "ready":
                run.recovery = entry.get("recovery")
                run.ready_wall = entry.get("wall")
            elif event == "created":
                run.created[entry["order_id"]] = str(entry["exchange_order_id"])
            elif event == "filled":
                run.fills.append((str(entry["trade_id"]), entry["order_id"]))
            elif event in ("cancelled", "completed", "failed"):
                run.ended.add(entry["order_id"])
                if run.ready_wall is None:
                    run.settled_at_start.add(entry["order_id"])
            elif event == "orders":
                run.last_orders = {key: list(entry.get(key) or []) for key in ("resting", "creating")}
            elif event == "stopped":
                run.stopped = dict(entry)
        return run

    @property
    def open_at_end(self) -> Set[str]:
        return (set(self.created) | set(self.restored)) - self.ended

    def recovered(self, kind: str) -> List[str]:
        return list((self.recovery or {}).get(kind) or [])


@dataclass
class Accounting:
    lost_orders: List[str]
    duplicated_orders: List[str]
    missed_fills: List[str]
    duplicated_fills: List[str]
    unknown_offers_left: List[str]
    explained: Dict[str, List[str]]     # what no order reported, and why that is no loss
    figures: Dict[str, Any]


def account_for(history: LedgerHistory, runs: Sequence[BotRun], offers_after: Sequence[str],
                recorded_fills: Optional[Sequence[str]] = None) -> Accounting:
    """The ledger against the bots' reports (see the module); `offers_after`: the account's offers once the last
    bot has exited; `recorded_fills`: the trade ids in Hummingbot's trade database (its TradeFill rows), the durable
    witness of the fills beside the journals' events."""
    holders: Dict[str, Set[str]] = defaultdict(set)     # offer id -> client ids that reported it
    offers_of: Dict[str, Set[str]] = defaultdict(set)   # client id -> offer ids reported for it
    for run in runs:
        for client_id, offer_id in [*run.created.items(), *run.restored.items()]:
            if offer_id:
                holders[offer_id].add(client_id)
                offers_of[client_id].add(offer_id)
    unknown_settled = {o for run in runs for kind in ("cancelled", "adopted") for o in run.recovered(kind)}
    adopted_at = {o: run.ready_wall for run in runs for o in run.recovered("adopted")}
    explained: Dict[str, List[str]] = {"fills before recovery": [], "filled at placement, bot killed": [],
                                       "fills reported again after a kill, not saved before it": []}
    lost, duplicated = [], []

    # Orders: every offer-creating operation belongs to a reported order or to an offer the recovery settled.
    creates_in_flight = sum(len(run.last_orders.get("creating", [])) for run in runs if run.killed)
    unknown_found = len(unknown_settled - set(holders))
    spare = max(0, creates_in_flight - unknown_found)   # in-flight creates that may have filled at placement
    at_placement: Set[str] = set()
    for create in history.creates:
        if create.order_id in holders or create.order_id in unknown_settled:
            continue
        if create.offer_id is None and spare > 0:
            spare -= 1
            at_placement.add(create.order_id)
            explained["filled at placement, bot killed"].append(create.order_id)
        else:
            lost.append(f"offer {create.order_id} (operation {create.operation_id}): on the ledger, no bot knew it")
    # ... and every order a bot knew ends, or the next bot picks it up from the saved state.
    for index, run in enumerate(runs):
        following = runs[index + 1] if index + 1 < len(runs) else None
        # The last bot's own view at its stop is a second witness of what it left unresolved.
        left = run.open_at_end | (_unresolved(run) if following is None else set())
        for client_id in sorted(left):
            if following is not None and client_id in following.restored:
                continue
            lost.append(f"order {client_id} ({run.label}): never resolved"
                        + (", and not restored after the kill" if run.killed else ""))
        if following is not None:
            pending = [c for c, o in following.restored.items() if o is None]
            placed_again = [c for c in pending if c in following.created]
            duplicated += [f"order {c}: restored without its offer id, placed again by {following.label}"
                           for c in placed_again]
            found = set(following.recovered("cancelled")) | set(following.recovered("adopted"))
            unknown = found - set(holders)
            if run.killed and len(unknown) > len(run.last_orders.get("creating", [])):
                duplicated.append(f"{following.label} found {len(unknown)} unknown offer(s) after a kill with "
                                  f"{len(run.last_orders.get('creating', []))} create(s) in flight")
    duplicated += [f"offer {o}: reported by orders {sorted(c)}" for o, c in sorted(holders.items()) if len(c) > 1]
    duplicated += [f"order {c}: offers {sorted(o)}" for c, o in sorted(offers_of.items()) if len(o) > 1]

    # Fills: each trade of the account reported exactly once, by the order of its offer. A bot killed between
    # reporting a fill and Hummingbot saving it (MarketsRecorder writes after the event) leaves a state without it:
    # the next bot reports it again, and Hummingbot's trade database records it once.
    reports: Dict[str, List[int]] = defaultdict(list)
    for index, run in enumerate(runs):
        for trade, _client in run.fills:
            reports[trade].append(index)
    duplicated_fills = []
    for trade, indices in sorted(reports.items()):
        repeats = [j for i, j in zip(indices, indices[1:], strict=False) if j == i or not runs[j - 1].killed
                   or trade in runs[j].restored_fills]
        if repeats:
            duplicated_fills.append(f"trade {trade}: reported {len(indices)} times")
        elif len(indices) > 1:
            explained["fills reported again after a kill, not saved before it"].append(trade)
    recorded = Counter(recorded_fills or [])
    duplicated_fills += [f"trade {t}: {n} rows in the trade database" for t, n in sorted(recorded.items()) if n > 1]
    duplicated_fills += [f"trade {t}: reported, not on the ledger" for t in sorted(set(reports) | set(recorded))
                         if t not in history.trades]
    missed = []
    for trade, (offer_id, closed_at) in sorted(history.trades.items()):
        if trade in reports or trade in recorded:
            continue
        # No order could report these: an offer recovery found unknown (before it was settled or adopted), or
        # the taker fills of a create whose bot was killed before it learnt the outcome.
        never_an_order = offer_id in at_placement or (offer_id in unknown_settled and offer_id not in holders)
        if never_an_order or (offer_id in adopted_at and _before(closed_at, adopted_at[offer_id])):
            explained["fills before recovery"].append(trade)
        else:
            missed.append(f"trade {trade} of offer {offer_id}")
    if recorded_fills is not None:
        unrecorded = [t for t in sorted(reports) if t not in recorded]
        missed += [f"trade {t}: reported, not in the trade database" for t in unrecorded]

    last = runs[-1] if runs else None
    tracked_at_end = set((last.stopped or {}).get("tracked_offers") or []) if last is not None else set()
    figures = {
        "ledger_offer_creates": len(history.creates), "orders_reported": len({c for r in runs for c in r.created}),
        "ledger_trades": len(history.trades), "fills_reported": sum(len(i) for i in reports.values()),
        "fills_in_trade_database": None if recorded_fills is None else len(recorded_fills),
        "orders_restored": [len(run.restored) for run in runs],
        "recovered_known": [len(run.recovered("known")) for run in runs],
        "recovered_adopted": [len(run.recovered("adopted")) for run in runs],
        "recovered_cancelled": [len(run.recovered("cancelled")) for run in runs],
        "restored_failed": [len(run.recovered("failed_orders")) for run in runs],
        "restored_settled_at_start": [len(run.settled_at_start & set(run.restored)) for run in runs],
        "creates_in_flight_at_kills": creates_in_flight, "offers_left": len(offers_after),
    }
    return Accounting(lost_orders=lost, duplicated_orders=duplicated, missed_fills=missed,
                      duplicated_fills=duplicated_fills,
                      unknown_offers_left=sorted(set(offers_after) - tracked_at_end), explained=explained,
                      figures=figures)


def _unresolved(run: BotRun) -> Set[str]:
    return {o["order_id"] for o in (run.stopped or {}).get("unresolved") or []}


def _before(closed_at: str, wall: Optional[float]) -> bool:
    """A ledger close time (ISO, whole seconds) at or before a wall-clock time."""
    if wall is None or not closed_at:
        return False
    from datetime import datetime

    return datetime.fromisoformat(closed_at.replace("Z", "+00:00")).timestamp() <= wall
