"""A scripted Horizon + stellar-core behind aioresponses, for the pipeline tests.

It answers the four calls the pipeline makes (POST /transactions_async, GET /transactions/{hash},
GET /accounts/{id}, GET /ledgers) the way Horizon and stellar-core do: one pending transaction per
source account (TRY_AGAIN_LATER), DUPLICATE for a known hash, ERROR tx_bad_seq for a wrong sequence
(including a copy of an applied transaction), time bounds checked at ledger close. Ledgers close
when the test says so (`close_ledger`), or on the first lookup of a pending hash (`auto_close`).
Faults are scripted per POST: "try_again_later", "504_accepted", "504_lost", "timeout",
"pending_lost" (PENDING, then stellar-core drops it), "insufficient_fee", "in_ledger_too_late"
(PENDING, then in a ledger as tx_too_late: sequence and fee consumed, no operation run).
Surge pricing: with `surge_fee` set, a bid of at most that per operation is refused with ERROR
tx_insufficient_fee carrying the fee needed (one stroop more per operation), as stellar-core does;
GET /fee_stats answers `fee_charged_p70` as its p70 of fees charged (`fee_stats_reads` counts them).
"""
import asyncio
import re
from collections import deque
from datetime import UTC, datetime
from decimal import Decimal
from typing import Callable, Deque, Dict, List, Optional, Set
from urllib.parse import parse_qs

from stellar_sdk import ManageBuyOffer, ManageSellOffer, TransactionEnvelope
from stellar_sdk import xdr as x

from test.hummingbot.connector.exchange.stellar import result_xdr_factory as f
from test.hummingbot.connector.exchange.stellar.aioresponses_compat import aioresponses, reply


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeHorizon:
    def __init__(self, mock: aioresponses, url: str, passphrase: str, accounts: Dict[str, int], clock: Clock):
        self.url = url
        self.passphrase = passphrase
        self.accounts = dict(accounts)
        self.clock = clock
        self.auto_close = True
        self.script: Deque[str] = deque()
        self.failing_amounts: Set[Decimal] = set()     # ops with these amounts fail op_underfunded
        self.posts: List[str] = []                     # every envelope posted, in order
        self.pending: Dict[str, TransactionEnvelope] = {}
        self.too_late: Set[str] = set()               # hashes to include as tx_too_late
        self.records: Dict[str, dict] = {}
        self.account_reads = 0
        self.tx_lookups = 0
        self.ledger = 1
        self.ledger_close_time = clock()
        self.next_offer_id = 1000
        self.surge_fee: Optional[int] = None
        self.fee_charged_p70 = 100
        self.fee_stats_reads = 0
        self.before_answer: Optional[Callable[[], None]] = None   # called at each POST, once it is in `posts`
        self._posted = asyncio.Event()
        escaped = re.escape(url)
        mock.post(f"{url}/transactions_async", callback=self._post, repeat=True)
        mock.get(re.compile(rf"^{escaped}/transactions/\w+$"), callback=self._get_transaction, repeat=True)
        mock.get(re.compile(rf"^{escaped}/accounts/\w+$"), callback=self._get_account, repeat=True)
        mock.get(re.compile(rf"^{escaped}/ledgers.*$"), callback=self._get_ledgers, repeat=True)
        mock.get(f"{url}/fee_stats", callback=self._get_fee_stats, repeat=True)

    # Test helpers

    def envelope(self, index: int) -> TransactionEnvelope:
        return TransactionEnvelope.from_xdr(self.posts[index], self.passphrase)

    async def wait_posts(self, count: int, timeout: float = 2.0) -> None:
        async def wait():
            while len(self.posts) < count:
                self._posted.clear()
                await self._posted.wait()
        await asyncio.wait_for(wait(), timeout)

    def close_ledger(self) -> List[dict]:
        """Apply every pending transaction whose time bounds allow it; return their records."""
        self.ledger += 1
        self.ledger_close_time = self.clock()
        applied = []
        for tx_hash, envelope in list(self.pending.items()):
            del self.pending[tx_hash]
            tx = envelope.transaction
            if tx.preconditions and tx.preconditions.time_bounds.max_time < self.ledger_close_time:
                continue   # stellar-core drops it from the queue: never applies
            self.accounts[tx.source.account_id] = tx.sequence
            applied.append(self._apply(tx_hash, envelope))
        return applied

    # Ledger

    def _apply(self, tx_hash: str, envelope: TransactionEnvelope) -> dict:
        tx = envelope.transaction
        if tx_hash in self.too_late:
            fee = 100 * len(tx.operations)
            return self._record(tx_hash, envelope, False, fee, f.tx_result(f.TX.txTOO_LATE, fee_charged=fee))
        results = [self._op_result(op, tx.source.account_id) for op in tx.operations]
        failed = any(r is None for r in results)
        op_results = []
        for op, res in zip(tx.operations, results, strict=True):
            if res is None:
                code = x.ManageSellOfferResultCode.MANAGE_SELL_OFFER_UNDERFUNDED
                op_results.append(f.sell_offer_failed(code) if not isinstance(op, ManageBuyOffer)
                                  else f.buy_offer_failed(x.ManageBuyOfferResultCode.MANAGE_BUY_OFFER_UNDERFUNDED))
            else:
                op_results.append(res)
        fee = 100 * len(tx.operations)
        code = f.TX.txFAILED if failed else f.TX.txSUCCESS
        return self._record(tx_hash, envelope, not failed, fee, f.tx_result(code, op_results, fee_charged=fee))

    def _record(self, tx_hash: str, envelope: TransactionEnvelope, successful: bool, fee: int, result_xdr: str) -> dict:
        record = {"hash": tx_hash, "ledger": self.ledger, "paging_token": str((self.ledger << 32) | (1 << 12)),
                  "successful": successful, "fee_charged": str(fee), "result_xdr": result_xdr,
                  "envelope_xdr": envelope.to_xdr(), "source_account": envelope.transaction.source.account_id}
        self.records[tx_hash] = record
        return record

    def _op_result(self, op, tx_source: str) -> Optional[x.OperationResult]:
        if Decimal(op.amount) in self.failing_amounts:
            return None
        seller = op.source.account_id if op.source else tx_source
        if Decimal(op.amount) == 0:
            result_offer = None
        else:
            self.next_offer_id += 1
            result_offer = f.offer_entry(seller, self.next_offer_id, op.selling, op.buying,
                                         int(Decimal(op.amount) * 10_000_000), (op.price.n, op.price.d))
        if isinstance(op, ManageBuyOffer):
            return f.buy_offer_ok(offer=result_offer)
        return f.sell_offer_ok(offer=result_offer, passive=not isinstance(op, ManageSellOffer))

    # Routes

    async def _post(self, url, **kwargs):
        tx_xdr = parse_qs(kwargs["data"])["tx"][0]
        self.posts.append(tx_xdr)
        self._posted.set()
        if self.before_answer is not None:
            self.before_answer()
        action = self.script.popleft() if self.script else None
        if action == "try_again_later":
            return reply(503, {"tx_status": "TRY_AGAIN_LATER", "hash": "?"})
        if action == "timeout":
            raise TimeoutError()
        if action == "rate_limited":   # Horizon's 429 problem: refused before reading the transaction
            return reply(429, {"type": "https://stellar.org/horizon-errors/rate_limit_exceeded",
                               "title": "Rate Limit Exceeded", "status": 429})
        if action == "504_lost":
            return reply(504, body="<html>Gateway Timeout</html>", content_type="text/html")
        if action == "insufficient_fee":
            error_xdr = f.tx_result(f.TX.txINSUFFICIENT_FEE, fee_charged=0)
            return reply(400, {"tx_status": "ERROR", "error_result_xdr": error_xdr})
        envelope = TransactionEnvelope.from_xdr(tx_xdr, self.passphrase)
        tx_hash = envelope.hash_hex()
        ops = len(envelope.transaction.operations)
        if self.surge_fee is not None and envelope.transaction.fee // ops <= self.surge_fee:
            needed = (self.surge_fee + 1) * ops
            return reply(400, {"tx_status": "ERROR", "hash": tx_hash,
                               "error_result_xdr": f.tx_result(f.TX.txINSUFFICIENT_FEE, fee_charged=needed)})
        answer = self._accept(tx_hash, envelope)
        if action == "504_accepted":
            return reply(504, body="<html>Gateway Timeout</html>", content_type="text/html")
        if action == "pending_lost" and answer.status == 201:
            del self.pending[tx_hash]
        if action == "in_ledger_too_late" and answer.status == 201:
            self.too_late.add(tx_hash)
        return answer

    def _accept(self, tx_hash: str, envelope: TransactionEnvelope):
        tx = envelope.transaction
        source = tx.source.account_id
        if tx_hash in self.pending:
            return reply(409, {"tx_status": "DUPLICATE", "hash": tx_hash})
        if tx.sequence != self.accounts[source] + 1:
            return reply(400, {"tx_status": "ERROR", "hash": tx_hash,
                               "error_result_xdr": f.tx_result(f.TX.txBAD_SEQ, fee_charged=0)})
        if any(p.transaction.source.account_id == source for p in self.pending.values()):
            return reply(503, {"tx_status": "TRY_AGAIN_LATER", "hash": tx_hash})
        self.pending[tx_hash] = envelope
        return reply(201, {"tx_status": "PENDING", "hash": tx_hash})

    async def _get_transaction(self, url, **kwargs):
        tx_hash = str(url).rsplit("/", 1)[1]
        self.tx_lookups += 1
        if self.auto_close and tx_hash in self.pending:
            self.close_ledger()
        record = self.records.get(tx_hash)
        if record is None:
            return reply(404, {"status": 404, "title": "Resource Missing"}, content_type="application/problem+json")
        return reply(200, record)

    async def _get_account(self, url, **kwargs):
        account_id = str(url).rsplit("/", 1)[1]
        self.account_reads += 1
        return reply(200, {"id": account_id, "sequence": str(self.accounts[account_id])})

    async def _get_ledgers(self, url, **kwargs):
        closed_at = datetime.fromtimestamp(self.ledger_close_time, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return reply(200, {"_embedded": {"records": [{"sequence": self.ledger, "closed_at": closed_at,
                                                      "base_reserve_in_stroops": 5_000_000}]}})

    async def _get_fee_stats(self, url, **kwargs):
        self.fee_stats_reads += 1
        return reply(200, {"last_ledger": str(self.ledger), "last_ledger_base_fee": "100",
                           "fee_charged": {"p50": "100", "p70": str(self.fee_charged_p70)}})

