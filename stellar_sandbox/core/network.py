"""``Network``: ledger state, the pending queue and history of one standalone Stellar network.

``submit`` validates an envelope at once (an invalid one answers ERROR and is not queued);
``close_ledger`` applies what the queue hands it, as stellar-core does: per transaction, charge
the fee and consume the sequence number, then apply every operation inside one savepoint, rolled
back entirely when any operation failed (``txFAILED``, fee and sequence still consumed). Every
new record then goes to the listeners. No I/O, no asyncio: the web layer drives the clock.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Optional, Union

from stellar_sdk import Account as SdkAccount
from stellar_sdk import Asset, Keypair, TransactionBuilder
from stellar_sdk import xdr as sx

from stellar_sandbox.core.amounts import format_amount
from stellar_sandbox.core.assets import NATIVE
from stellar_sandbox.core.history import History
from stellar_sandbox.core.operations import OpContext, OpOutcome, apply_operation
from stellar_sandbox.core.records import (
    ledger_header,
    ledger_record,
    operation_participants,
    operation_record,
    toid,
    transaction_record,
)
from stellar_sandbox.core.state import LedgerState, iso_time
from stellar_sandbox.core.txqueue import DUPLICATE, PENDING, POOL_LEDGERS, TRY_AGAIN_LATER, TxQueue
from stellar_sandbox.core.validation import (
    TX,
    DecodedTx,
    ValidationContext,
    check_transaction,
    decode_envelope,
    fee_bump_result,
    inner_result,
    network_id,
    recheck_for_apply,
    tx_error_result,
)

log = logging.getLogger(__name__)

STANDALONE_PASSPHRASE = "Standalone Network ; February 2017"
TOTAL_COINS = 100_000_000_000 * 10_000_000  # stroops: 100 billion lumens, all held by the root at genesis
PROTOCOL_VERSION = 22
ERROR = "ERROR"
FEE_STATS_LEDGERS = 5  # Horizon's /fee_stats window
BACKGROUND_KEPT = 64  # ledgers of background traffic remembered for fee statistics
_PERCENTILES = (10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99)

Record = dict[str, Any]
Listener = Callable[[str, Record], None]
EntryListener = Callable[[int, list], None]


@dataclass(frozen=True, slots=True)
class SubmitOutcome:
    status: str  # PENDING, DUPLICATE, TRY_AGAIN_LATER or ERROR
    hash: str
    error_result_xdr: Optional[str] = None


class _AuthView:
    """An account as ``validation`` reads it (``AccountAuth``), built from ``state.Account``."""

    __slots__ = ("seq_num", "available_balance", "master_weight", "thresholds", "signers")

    def __init__(self, seq_num: int, available: int, master_weight: int, thresholds: tuple, signers: list) -> None:
        self.seq_num = seq_num
        self.available_balance = available
        self.master_weight = master_weight
        self.thresholds = thresholds
        self.signers = signers


class Network:
    def __init__(
        self,
        passphrase: str = STANDALONE_PASSPHRASE,
        *,
        base_fee: int = 100,
        base_reserve: int = 5_000_000,
        max_ops_per_ledger: int = 1000,
        history_cap: int = 100_000,
        clock: Callable[[], float] = time.time,
        pool_ledgers: int = POOL_LEDGERS,
    ) -> None:
        if base_fee < 0 or base_reserve < 0:
            raise ValueError("base_fee and base_reserve must not be negative")
        self.passphrase = passphrase
        self.network_id = network_id(passphrase)
        self.base_fee = base_fee
        self.base_reserve = base_reserve
        self.max_ops_per_ledger = max_ops_per_ledger
        self._clock = clock
        self.clock = clock  # what "now" is for this network (close times, time bounds)
        # stellar-core's standalone root: its seed is the network id (sha256 of the passphrase)
        self.root_keypair = Keypair.from_raw_ed25519_seed(self.network_id)
        self.state = LedgerState(base_reserve=base_reserve)
        self.queue = TxQueue(max_ops_per_ledger, pool_ledgers)
        self.history = History(history_cap)
        self._listeners: list[Listener] = []
        self._entry_listeners: list[EntryListener] = []
        # background traffic per ledger (surge): sequence -> (operations, bid per op, fee charged per op)
        self.background: dict[int, tuple[int, int, int]] = {}
        self._fee_pool = 0
        genesis_time = int(clock())
        self.state.ledger_seq, self.state.close_time = 1, genesis_time
        self.state.create_account(self.root_keypair.public_key, TOTAL_COINS, 0)
        genesis_tx_set = hashlib.sha256(self.network_id + b"genesis").digest()
        self.latest_ledger: Record = self._ledger_record(1, "0" * 64, genesis_time, genesis_tx_set, 0, 0, 0, 0)
        self.history.add_ledger(self.latest_ledger)

    # ----- listeners -----

    def add_listener(self, callback: Listener) -> None:
        self._listeners.append(callback)

    def remove_listener(self, callback: Listener) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def add_entry_listener(self, callback: EntryListener) -> None:
        """``callback(sequence, changes)`` at each close, before the records' listeners: the ledger entries
        the ledger changed, as ``LedgerState.take_changes`` gives them (what a replica needs to follow)."""
        if not self._entry_listeners:
            self.state.track_changes(True)
        self._entry_listeners.append(callback)

    def remove_entry_listener(self, callback: EntryListener) -> None:
        if callback in self._entry_listeners:
            self._entry_listeners.remove(callback)
            if not self._entry_listeners:
                self.state.track_changes(False)

    # ----- surge: background traffic -----

    @property
    def surge_fee(self) -> Optional[int]:
        """The per-operation bid of background traffic that fills every ledger (None: no such traffic)."""
        return self.queue.background_fee

    def set_surge(self, fee: Optional[int]) -> None:
        """Load the network with other traffic bidding ``fee`` per operation (None: none), as a busy network.

        stellar-core then keeps the queue and each ledger full: a transaction must bid more than ``fee``
        per operation to be accepted (else ERROR txINSUFFICIENT_FEE with the fee needed); the included
        ones pay ``fee`` per operation (the lowest fee in the ledger). Transactions already pending
        with a lower bid are left out and dropped after a few ledgers.
        """
        if fee is not None:
            if isinstance(fee, bool) or not isinstance(fee, int):
                raise ValueError(f"surge fee must be an integer number of stroops, got {fee!r}")
            if fee < self.base_fee:
                raise ValueError(f"surge fee {fee} is below the base fee {self.base_fee}")
        self.queue.background_fee = fee

    def inclusion_fee(self, op_count: int = 1) -> int:
        """The smallest fee a transaction of ``op_count`` operations is accepted with now."""
        ops = max(op_count, 1)
        fee = self.base_fee * ops
        surge = self.queue.background_fee
        return fee if surge is None else max(fee, surge * ops + 1)

    # ----- submission -----

    @property
    def next_ledger_seq(self) -> int:
        return self.latest_ledger["sequence"] + 1

    def _now(self) -> int:
        return int(self._clock())

    def _lookup(self, account_id: str) -> Optional[_AuthView]:
        acc = self.state.accounts.get(account_id)
        if acc is None:
            return None
        available = acc.balance - self.state.min_balance(acc) - acc.selling_liabilities
        thresholds = (acc.low_threshold, acc.med_threshold, acc.high_threshold)
        return _AuthView(acc.seq_num, available, acc.master_weight, thresholds, list(getattr(acc, "signers", ())))

    def submit(self, envelope_xdr: str) -> SubmitOutcome:
        """Validate and queue; raises ``validation.MalformedEnvelope`` (a ValueError) if it does not decode."""
        tx = decode_envelope(envelope_xdr, self.network_id)
        if self.queue.is_banned(tx.hash):
            return SubmitOutcome(TRY_AGAIN_LATER, tx.hash)  # dropped or refused lately (stellar-core's ban)
        if tx.hash in self.queue:
            return SubmitOutcome(DUPLICATE, tx.hash)  # stellar-core: DUPLICATE only while it is still queued
        # An already applied envelope goes through validation like any other: its sequence number is
        # consumed, so stellar-core answers ERROR tx_bad_seq (a hash can never apply twice).
        pending = self.queue.pending_for(tx.source_id)
        if pending is not None:
            # stellar-core's queue: one transaction per source account, replaceable only by a fee-bump
            if tx.seq_num < pending.seq_num:
                return SubmitOutcome(ERROR, tx.hash, tx_error_result(TX.txBAD_SEQ, tx.fee_bid).to_xdr())
            if not tx.is_fee_bump or tx.seq_num != pending.seq_num:
                return SubmitOutcome(TRY_AGAIN_LATER, tx.hash)
            min_fee = self.queue.min_replacement_fee(pending, tx)
            if tx.fee_bid < min_fee:
                return SubmitOutcome(ERROR, tx.hash, tx_error_result(TX.txINSUFFICIENT_FEE, min_fee).to_xdr())
        # The queue's room (surge pricing) before validity, as stellar-core's canAdd: a refused bid is banned.
        needed = self.queue.check_admission(tx, replaces=pending)
        if needed is not None:
            self.queue.ban(tx.hash)
            if needed == 0:
                return SubmitOutcome(TRY_AGAIN_LATER, tx.hash)
            return SubmitOutcome(ERROR, tx.hash, tx_error_result(TX.txINSUFFICIENT_FEE, needed).to_xdr())
        ctx = ValidationContext(self.base_fee, self.next_ledger_seq, self._now())
        check = check_transaction(tx, self._lookup, ctx)
        if not check.ok:
            return SubmitOutcome(ERROR, tx.hash, check.result.to_xdr())
        return SubmitOutcome(self.queue.add(tx, replaces=pending), tx.hash)

    # ----- lookups -----

    def transaction(self, tx_hash: str) -> Optional[Record]:
        return self.history.transaction(tx_hash)

    def transaction_status(self, tx_hash: str) -> str:
        if tx_hash in self.queue or self.queue.contains_inner(tx_hash):
            return "PENDING"
        record = self.history.transaction(tx_hash)
        if record is None:
            return "NOT_FOUND"
        return "SUCCESS" if record["successful"] else "FAILED"

    # ----- closing a ledger -----

    def close_ledger(self) -> Record:
        """Apply the queued transactions that fit this ledger; returns the new ledger record."""
        seq = self.next_ledger_seq
        close_time = max(self._now(), self.state.close_time)
        closed_at = iso_time(close_time)
        state = self.state
        state.ledger_seq, state.close_time = seq, close_time
        selection = self.queue.take_for_ledger(close_time)
        per_op_fee = self.base_fee
        if selection.base_fee_rate is not None:
            per_op_fee = max(per_op_fee, selection.base_fee_rate)
        if selection.background_ops:
            self.background[seq] = (selection.background_ops, self.queue.background_fee, per_op_fee)
            while len(self.background) > BACKGROUND_KEPT:
                del self.background[next(iter(self.background))]
        ctx = ValidationContext(self.base_fee, seq, close_time)
        new_records: list[tuple[str, Record]] = []
        changed_books: set[tuple[str, str]] = set()
        changed_offers: dict[str, Record] = {}
        tx_hashes: list[bytes] = []
        successful = failed = op_count = tx_set_op_count = 0
        for tx in selection.included:
            if recheck_for_apply(tx, self._lookup, ctx) is not None:
                continue  # no longer valid (as stellar-core trims invalid transactions): never applies
            tx_order = len(tx_hashes) + 1
            tx_hashes.append(tx.hash_bytes)
            ok = self._apply_transaction(
                tx, seq, tx_order, close_time, closed_at, per_op_fee, new_records, changed_books, changed_offers
            )
            tx_set_op_count += tx.op_count
            if ok:
                successful += 1
                op_count += tx.op_count
            else:
                failed += 1
        prev_hash = self.latest_ledger["hash"]
        tx_set_hash = hashlib.sha256(bytes.fromhex(prev_hash) + b"".join(tx_hashes)).digest()
        ledger = self._ledger_record(
            seq, prev_hash, close_time, tx_set_hash, successful, failed, op_count, tx_set_op_count
        )
        self.latest_ledger = ledger
        self.history.add_ledger(ledger)
        if self._entry_listeners:
            changes = state.take_changes()
            for entry_listener in list(self._entry_listeners):
                try:
                    entry_listener(seq, changes)
                except Exception:
                    log.exception("entry change listener failed")
        self._notify(ledger, new_records, changed_books, changed_offers)
        return ledger

    def _apply_transaction(
        self,
        tx: DecodedTx,
        seq: int,
        tx_order: int,
        close_time: int,
        closed_at: str,
        per_op_fee: int,
        new_records: list,
        changed_books: set,
        changed_offers: dict,
    ) -> bool:
        state = self.state
        fee = state.charge_fee(tx.fee_payer_id, min(tx.fee_bid, per_op_fee * tx.fee_op_count))
        self._fee_pool += fee
        state.mut_account(tx.source_id).seq_num = tx.seq_num
        tx_key = toid(seq, tx_order)
        outcomes: list[OpOutcome] = []
        all_ok = True
        internal_error = False
        token = state.snapshot()
        try:
            for index, op in enumerate(tx.operations):
                op_ctx = OpContext(seq, close_time, tx_key + index + 1)
                outcome = apply_operation(state, op, tx.op_source_ids[index], op_ctx)
                outcomes.append(outcome)
                all_ok = all_ok and outcome.success
        except Exception:  # a bug in an applier must not take the network down: fail this transaction only
            log.exception("internal error applying transaction %s", tx.hash)
            all_ok, internal_error = False, True
        if all_ok:
            state.commit(token)
        else:
            state.restore(token)
        result = self._transaction_result(tx, fee, all_ok, internal_error, outcomes)
        record = transaction_record(
            tx, ledger=seq, tx_order=tx_order, closed_at=closed_at, result_xdr=result.to_xdr(),
            fee_charged=fee, successful=all_ok,
        )
        participants = {tx.source_id, tx.fee_payer_id}
        op_records = []
        for index, op in enumerate(tx.operations):
            source_id = tx.op_source_ids[index]
            op_id = tx_key + index + 1
            op_result = outcomes[index].result if index < len(outcomes) else None
            op_record = operation_record(op, op_id=op_id, source_id=source_id, tx_hash=tx.hash, closed_at=closed_at,
                                         successful=all_ok, result=op_result)
            if all_ok:
                op_record.update(outcomes[index].details)
            accounts = operation_participants(op, source_id)
            participants.update(accounts)
            op_records.append((op_record, accounts, outcomes[index].pools if all_ok else ()))
        if all_ok:  # as Horizon, whose ledger entries changed take part too (e.g. makers whose offers filled)
            for outcome in outcomes:
                participants.update(effect["account"] for effect in outcome.effects if effect.get("account"))
        tx_pools = set().union(*(pools for _, _, pools in op_records))
        self.history.add_transaction(record, participants, tx_pools)
        new_records.append(("transactions", record))
        for op_record, accounts, pools in op_records:
            self.history.add_operation(op_record, accounts, pools)
            new_records.append(("operations", op_record))
        if all_ok:
            for index, outcome in enumerate(outcomes):
                self._record_outcome(outcome, tx_key + index + 1, closed_at, new_records)
                changed_books.update(outcome.changed_books)
                for offer in outcome.changed_offers:
                    changed_offers[offer["id"]] = offer
        return all_ok

    def _record_outcome(self, outcome: OpOutcome, op_id: int, closed_at: str, new_records: list) -> None:
        for index, effect in enumerate(outcome.effects, start=1):
            effect["id"] = f"{op_id:019d}-{index:010d}"
            effect["paging_token"] = f"{op_id}-{index}"
            effect["created_at"] = closed_at
            self.history.add_effect(effect, outcome.pools)
            new_records.append(("effects", effect))
        for index, trade in enumerate(outcome.trades):
            if trade is None:   # a claim that traded nothing: no trade, but its index is skipped (as Horizon)
                continue
            # Horizon's trade id is its paging token (unlike effect ids, it is not zero-padded).
            trade["id"] = trade["paging_token"] = f"{op_id}-{index}"
            self.history.add_trade(trade)
            new_records.append(("trades", trade))

    def _transaction_result(
        self, tx: DecodedTx, fee: int, ok: bool, internal_error: bool, outcomes: list[OpOutcome]
    ) -> sx.TransactionResult:
        if internal_error:
            code, op_results = TX.txINTERNAL_ERROR, None
        else:
            code, op_results = (TX.txSUCCESS if ok else TX.txFAILED), [o.result for o in outcomes]
        if not tx.is_fee_bump:
            return tx_error_result(code, fee, op_results)
        outer = TX.txFEE_BUMP_INNER_SUCCESS if ok else TX.txFEE_BUMP_INNER_FAILED
        return fee_bump_result(outer, fee, tx.tx_hash_bytes, inner_result(code, op_results))

    def _ledger_record(
        self, seq: int, prev_hash: str, close_time: int, tx_set_hash: bytes, successful: int, failed: int,
        op_count: int, tx_set_op_count: int,
    ) -> Record:
        """The ledger's Horizon record; its hash is the SHA-256 of its header XDR, as on a real network."""
        header = ledger_header(
            sequence=seq, prev_hash=prev_hash, closed_at=close_time, tx_set_hash=tx_set_hash,
            total_coins=TOTAL_COINS, fee_pool=self._fee_pool, id_pool=self.state.id_pool, base_fee=self.base_fee,
            base_reserve=self.base_reserve, max_tx_set_size=self.max_ops_per_ledger, protocol_version=PROTOCOL_VERSION,
        )
        return ledger_record(
            sequence=seq, ledger_hash=hashlib.sha256(header).hexdigest(), prev_hash=prev_hash, closed_at=close_time,
            header_xdr=base64.b64encode(header).decode(),
            successful=successful, failed=failed, operation_count=op_count,
            tx_set_operation_count=tx_set_op_count, total_coins=TOTAL_COINS, fee_pool=self._fee_pool,
            base_fee=self.base_fee, base_reserve=self.base_reserve, max_tx_set_size=self.max_ops_per_ledger,
            protocol_version=PROTOCOL_VERSION,
        )

    def _notify(self, ledger: Record, new_records: list, changed_books: set, changed_offers: dict) -> None:
        listeners = self._listeners
        if not listeners:
            return
        events: list[tuple[str, Record]] = [("ledgers", ledger)]
        events.extend(new_records)
        events.extend(("order_book_changed", {"selling": s, "buying": b}) for s, b in sorted(changed_books))
        events.extend(("offers", offer) for offer in changed_offers.values())
        for listener in list(listeners):
            for kind, record in events:
                try:
                    listener(kind, record)
                except Exception:  # one broken listener must not starve the others
                    log.exception("network listener failed on %s", kind)

    # ----- fee stats -----

    def fee_samples(self, first: int, last: int) -> tuple[list[int], list[int], int]:
        """Per-operation (fee charged, max fee) of every transaction in ledgers ``first..last``, background
        traffic included, and the number of operations; Horizon and stellar-rpc compute their statistics
        from these. Operations of a fee bump count one more, as Horizon counts them."""
        charged: list[int] = []
        offered: list[int] = []
        op_total = 0
        for ledger in range(max(1, first), last + 1):
            cursor = None
            while True:
                page = self.history.transactions_page(cursor, "asc", 200, ledger=ledger, include_failed=True)
                for tx in page:
                    ops = max(1, tx["operation_count"] + (1 if "fee_bump_transaction" in tx else 0))
                    charged.append(int(tx["fee_charged"]) // ops)
                    offered.append(int(tx["max_fee"]) // ops)
                    op_total += tx["operation_count"]
                if len(page) < 200:
                    break
                cursor = page[-1]["paging_token"]
            background = self.background.get(ledger)
            if background is not None:  # one-operation transactions bidding the surge fee
                ops, bid, fee = background
                charged.extend([fee] * ops)
                offered.extend([bid] * ops)
                op_total += ops
        return charged, offered, op_total

    def fee_stats(self, as_of: Optional[int] = None) -> Record:
        """Horizon's ``/fee_stats`` body as of ledger ``as_of`` (default the latest).

        As Horizon computes it: per-operation fees of the transactions of the last 5 ledgers
        (``fee_charged`` and ``max_fee`` distributions, each the ledger's base fee when there are none),
        ``last_ledger_base_fee`` from the ledger header (surge pricing does not change it), and
        ``ledger_capacity_usage``: the operations of those ledgers' transactions over their capacity.
        """
        seq = self.latest_ledger["sequence"] if as_of is None else as_of
        ledger = self.history.ledger(seq) or self.latest_ledger
        base_fee = int(ledger.get("base_fee_in_stroops", self.base_fee))
        first = max(1, seq - FEE_STATS_LEDGERS + 1)
        charged, offered, op_total = self.fee_samples(first, seq)
        capacity = 0
        for sequence in range(first, seq + 1):
            record = self.history.ledger(sequence)
            capacity += int(record["max_tx_set_size"]) if record is not None else self.max_ops_per_ledger
        usage = (Decimal(op_total) / Decimal(max(capacity, 1))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return {
            "last_ledger": str(seq),
            "last_ledger_base_fee": str(base_fee),
            "ledger_capacity_usage": str(usage),
            "fee_charged": _distribution(charged, base_fee),
            "max_fee": _distribution(offered, base_fee),
        }

    # ----- convenience for tests and tools: real transactions through the same path -----

    def fund(self, account_id: str, xlm: Union[str, int, Decimal] = 10_000) -> Record:
        """Create (or top up) ``account_id`` with lumens from the root, closing a ledger; the tx record."""
        builder = self._root_builder()
        amount = str(xlm)
        if self.state.account(account_id) is None:
            builder.append_create_account_op(destination=account_id, starting_balance=amount)
        else:
            builder.append_payment_op(destination=account_id, asset=Asset.native(), amount=amount)
        return self._submit_and_close(self._signed(builder, self.root_keypair))

    def create_funded_account(self, xlm: Union[str, int, Decimal] = 10_000) -> Keypair:
        keypair = Keypair.random()
        self.fund(keypair.public_key, xlm)
        return keypair

    def issue_asset(
        self,
        issuer: Keypair,
        code: str,
        holders: dict[Keypair, Union[str, int, Decimal]],
        limit: Optional[Union[str, int, Decimal]] = None,
    ) -> str:
        """Trustlines from each holder, then payments from ``issuer``; returns the asset key ``CODE:ISSUER``."""
        asset = Asset(code, issuer.public_key)
        trusting = []
        for holder in holders:
            builder = self._builder(holder.public_key)
            builder.append_change_trust_op(asset=asset, limit=None if limit is None else str(limit))
            trusting.append(self._checked_submit(self._signed(builder, holder)))
        self._close_and_check(trusting)
        items = list(holders.items())
        for start in range(0, len(items), 100):
            builder = self._builder(issuer.public_key)
            for holder, amount in items[start : start + 100]:
                builder.append_payment_op(destination=holder.public_key, asset=asset, amount=str(amount))
            self._submit_and_close(self._signed(builder, issuer))
        return f"{code}:{issuer.public_key}"

    def balance(self, account_id: str, asset: str = NATIVE) -> str:
        """Convenience for tests: the balance as Horizon prints it."""
        return format_amount(self.state.balance(account_id, asset))

    def _root_builder(self) -> TransactionBuilder:
        return self._builder(self.root_keypair.public_key)

    def _builder(self, account_id: str) -> TransactionBuilder:
        account = self.state.account(account_id)
        if account is None:
            raise ValueError(f"account {account_id} does not exist")
        pending = self.queue.pending_for(account_id)
        if pending is not None:
            raise RuntimeError(f"account {account_id} already has a pending transaction {pending.hash}")
        builder = TransactionBuilder(SdkAccount(account_id, account.seq_num), self.passphrase,
                                     base_fee=self.inclusion_fee(1))
        return builder.add_time_bounds(0, 0)

    @staticmethod
    def _signed(builder: TransactionBuilder, signer: Keypair) -> str:
        envelope = builder.build()
        envelope.sign(signer)
        return envelope.to_xdr()

    def _checked_submit(self, envelope_xdr: str) -> str:
        outcome = self.submit(envelope_xdr)
        if outcome.status != PENDING:
            raise RuntimeError(f"submission {outcome.hash} answered {outcome.status} {outcome.error_result_xdr or ''}")
        return outcome.hash

    def _close_and_check(self, hashes: list[str]) -> list[Record]:
        self.close_ledger()
        records = []
        for tx_hash in hashes:
            record = self.transaction(tx_hash)
            if record is None or not record["successful"]:
                detail = "not applied" if record is None else record["result_xdr"]
                raise RuntimeError(f"transaction {tx_hash} failed: {detail}")
            records.append(record)
        return records

    def _submit_and_close(self, envelope_xdr: str) -> Record:
        return self._close_and_check([self._checked_submit(envelope_xdr)])[0]


def _distribution(values: list[int], default: int) -> Record:
    """Horizon's fee distribution: max, min, mode and p10..p99 (nearest rank) as strings."""
    if not values:
        stats = {"max": default, "min": default, "mode": default, **{f"p{p}": default for p in _PERCENTILES}}
    else:
        ordered = sorted(values)
        counts: dict[int, int] = {}
        for v in ordered:
            counts[v] = counts.get(v, 0) + 1
        top = max(counts.values())
        stats = {"max": ordered[-1], "min": ordered[0], "mode": min(v for v, c in counts.items() if c == top)}
        n = len(ordered)
        for p in _PERCENTILES:
            stats[f"p{p}"] = ordered[max(1, -(-p * n // 100)) - 1]
    return {k: str(v) for k, v in stats.items()}


__all__ = ["ERROR", "PROTOCOL_VERSION", "STANDALONE_PASSPHRASE", "TOTAL_COINS", "Network", "SubmitOutcome"]
