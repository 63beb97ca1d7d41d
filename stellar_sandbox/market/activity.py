"""`MarketActivity`: participants trading a pair at a chosen rate of book events per second.

    await net.market.start(rate=50)          # new asset MKT against XLM, accounts created and funded
    net.market.set_rate(500)                 # more participants are added if needed
    net.market.stats()
    await net.market.stop()

Participants are ordinary accounts, created by the root account and funded by the asset's issuer
through real transactions; they submit envelopes built and signed with stellar-sdk to
`Network.submit`, the same entry as `POST /transactions_async`. A *book event* is one applied
operation of a participant, each exactly one of: offer created, offer updated, offer removed
(makers) or a take that fills resting offers (takers: a path payment to themselves, so they never
rest an offer). With ``pool_depth`` the pair also gets a liquidity pool (``pool_liquidity``): a share
``pool_share`` of the makers become providers that deposit and withdraw (one event per operation),
and the takes trade with the pool whenever it quotes them better. Without it (the default) nothing
about pools happens. Transactions that fail count nothing; the rate controller owes their events again.
An account has at most one pending transaction per ledger, so each carries up to `ops_per_tx`
operations and there are enough participants for the rate at the sandbox's ledger interval.
"""
from __future__ import annotations

import asyncio
import logging
import math
import random
from dataclasses import dataclass
from typing import Any

from stellar_sdk import Asset, Keypair, MuxedAccount, Price, TimeBounds, Transaction, TransactionEnvelope
from stellar_sdk.operation import ManageBuyOffer, ManageSellOffer, Operation, PathPaymentStrictSend
from stellar_sdk.preconditions import Preconditions

from stellar_sandbox.core.amounts import price_fraction
from stellar_sandbox.core.assets import key_from_sdk
from stellar_sandbox.core.pools import pool_id_for
from stellar_sandbox.market.planner import (
    ASK,
    BID,
    Cancel,
    Intent,
    MakerPlanner,
    RestingOffer,
    Take,
    Update,
    plan_takes,
)
from stellar_sandbox.market.pool_liquidity import PoolLiquidity
from stellar_sandbox.market.rate import RateController
from stellar_sandbox.market.walk import PriceWalk

logger = logging.getLogger(__name__)

Record = dict[str, Any]
PARTICIPANT_XLM = 100_000
PARTICIPANT_ASSET = 1_000_000
DEST_MIN = "0.0000001"
NO_TIME_BOUNDS = Preconditions(time_bounds=TimeBounds(0, 0))
MAX_PARTICIPANTS = 1000
HEADROOM = 1.5  # participants for this many times the rate: failures and slow ledgers leave room


asset_key = key_from_sdk   # the core's key for an asset: 'native' or 'CODE:ISSUER'


def fraction(price: float) -> Price:
    """`price` as a fraction with int32 terms and up to 7 decimals (no rational approximation search)."""
    return Price(*price_fraction(price))


def amount(value: float) -> str:
    return f"{value:.7f}"


class MarketSettingsError(ValueError):
    """A start option or rate that cannot be used; `field` names it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise MarketSettingsError(field, f"expected a number, got {value!r}")
    return float(value)


def check_rate(rate: Any) -> float:
    rate = _number(rate, "rate")
    if rate < 0:
        raise MarketSettingsError("rate", f"must not be negative, got {rate}")
    return rate


def check_options(rate: Any, mid: Any, volatility: Any, participants: Any, ops_per_tx: Any, take_share: Any,
                  seed: Any) -> None:
    """Every start option checked before anything is created (accounts take ledgers to make)."""
    check_rate(rate)
    if not _number(mid, "mid") > 0:
        raise MarketSettingsError("mid", f"must be positive, got {mid}")
    if _number(volatility, "volatility") < 0:
        raise MarketSettingsError("volatility", f"must not be negative, got {volatility}")
    if participants is not None and (isinstance(participants, bool) or not isinstance(participants, int)
                                     or not 2 <= participants <= MAX_PARTICIPANTS):
        raise MarketSettingsError("participants", f"expected an integer from 2 to {MAX_PARTICIPANTS} (or null: "
                                                  f"enough for the rate), got {participants!r}")
    if isinstance(ops_per_tx, bool) or not isinstance(ops_per_tx, int) or not 1 <= ops_per_tx <= 100:
        raise MarketSettingsError("ops_per_tx", f"expected an integer from 1 to 100, got {ops_per_tx!r}")
    if not 0 <= _number(take_share, "take_share") < 1:
        raise MarketSettingsError("take_share", f"must be in [0, 1), got {take_share}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise MarketSettingsError("seed", f"expected an integer or null, got {seed!r}")


def check_pool_options(pool_depth: Any, pool_share: Any, mid: float) -> None:
    if pool_depth is None:
        return
    depth, most = _number(pool_depth, "pool_depth"), PARTICIPANT_XLM / 10
    if not 0 < depth <= most or depth * mid > most:  # a provider seeds it out of its own holdings
        raise MarketSettingsError("pool_depth", f"must be positive, with it and pool_depth x mid at most {most:g}, "
                                                f"got {pool_depth}")
    if not 0 < _number(pool_share, "pool_share") < 1:
        raise MarketSettingsError("pool_share", f"must be in (0, 1), got {pool_share}")


@dataclass(slots=True)
class Participant:
    keypair: Keypair
    account: MuxedAccount
    maker: bool
    provider: bool = False  # a maker turned liquidity provider: deposits and withdraws instead of quoting
    pending_hash: str | None = None
    pending_ops: int = 0

    @property
    def account_id(self) -> str:
        return self.keypair.public_key


class MarketActivity:
    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.participants: list[Participant] = []
        self._by_id: dict[str, Participant] = {}
        self._task: asyncio.Task | None = None
        self._grower: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self._listening = False
        self._rotation = 0
        self.base: Asset | None = None
        self.counter: Asset | None = None
        self.ops_per_tx = 5
        self.take_share = 0.2
        self.rng = random.Random()
        self.walk: PriceWalk | None = None
        self.controller: RateController | None = None
        self.planner: MakerPlanner | None = None
        self.pool: PoolLiquidity | None = None
        self.applied_events = 0
        self.applied_transactions = 0
        self.failed_transactions = 0
        self.submitted_transactions = 0
        self.rejected_submissions = 0

    # ----- control -----

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self, rate: float = 50.0, *, base: Asset | None = None, counter: Asset | None = None,
                    mid: float = 1.0, volatility: float = 0.01, participants: int | None = None,
                    ops_per_tx: int = 5, take_share: float = 0.2, seed: int | None = None,
                    pool_depth: float | None = None, pool_share: float = 0.2) -> Record:
        """Create and fund participants (unless already running on this pair), then trade at `rate` events/s.

        `base` defaults to a new asset MKT, `counter` to XLM; either issued asset must be known to the
        sandbox (`issue_asset`). `participants`: how many accounts (default: enough for the rate).
        `pool_depth`: base units seeded into the pair's liquidity pool at `mid` (None: no pool activity).
        """
        if self.running:
            raise RuntimeError("market activity is already running; use set_rate() or stop() first")
        check_options(rate, mid, volatility, participants, ops_per_tx, take_share, seed)
        check_pool_options(pool_depth, pool_share, float(mid))
        self.rng = random.Random(seed)
        self.walk = PriceWalk(mid, volatility, self.rng)
        self.planner = MakerPlanner(self.rng)
        self.ops_per_tx = ops_per_tx
        self.take_share = take_share
        counter = counter or Asset.native()
        if base is None:
            base = self.base if self.base is not None and self.counter == counter else await self.sandbox.issue_asset(
                "MKT")
        if (base, counter) != (self.base, self.counter):
            self.participants, self._by_id = [], {}
        self.base, self.counter = base, counter
        self._base_key, self._counter_key = asset_key(base), asset_key(counter)
        if self._base_key == self._counter_key:
            raise ValueError("base and counter must be different assets")
        wanted = participants if participants is not None else self.participants_for(rate)
        await self._add_participants(wanted - len(self.participants))
        if pool_depth is not None:
            await self._open_pool(pool_depth, pool_share, float(mid))
        self._listen()
        loop = asyncio.get_running_loop()
        self.controller = RateController(rate, loop.time())
        self.controller.set_rate(rate, loop.time(), self.applied_events)  # count from what applied so far
        self._task = asyncio.create_task(self._run())
        return self.stats()

    def set_rate(self, rate: float) -> Record:
        """A new rate from now on; adds participants in the background if the rate needs more."""
        rate = check_rate(rate)
        if self.controller is None or not self.running:
            raise RuntimeError("market activity is not running; start() it first")
        self.controller.set_rate(rate, asyncio.get_running_loop().time(), self.applied_events)
        missing = self.participants_for(rate) - len(self.participants)
        if missing > 0 and (self._grower is None or self._grower.done()):
            self._grower = asyncio.create_task(self._add_participants(missing))
        return self.stats()

    async def stop(self) -> Record:
        """Stop submitting; offers rest in the book, pending transactions still apply."""
        for task in (self._task, self._grower):
            if task is not None and not task.done():
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        self._task = self._grower = None
        return self.stats()

    def stats(self) -> Record:
        return {
            "running": self.running,
            "rate": self.controller.rate if self.controller is not None and self.running else 0.0,
            "base": self._base_key if self.base is not None else None,
            "counter": self._counter_key if self.counter is not None else None,
            "mid_price": self.walk.mid if self.walk is not None else None,
            "participants": len(self.participants),
            "makers": sum(1 for p in self.participants if p.maker and not p.provider),
            "providers": sum(1 for p in self.participants if p.provider),
            "pool": self.pool.stats() if self.pool is not None else None,
            "ops_per_tx": self.ops_per_tx,
            "events_applied": self.applied_events,
            "transactions_submitted": self.submitted_transactions,
            "transactions_applied": self.applied_transactions,
            "transactions_failed": self.failed_transactions,
            "submissions_rejected": self.rejected_submissions,
            "participant_accounts": [p.account_id for p in self.participants],
        }

    def participants_for(self, rate: float) -> int:
        """Enough accounts to submit `rate` events per second, one transaction per account per ledger."""
        interval = self.sandbox.ledger_interval or 1.0
        per_ledger = rate * interval * HEADROOM
        return min(MAX_PARTICIPANTS, max(4, math.ceil(per_ledger / self.ops_per_tx) + 2))

    # ----- participants -----

    async def _add_participants(self, count: int) -> None:
        if count <= 0:
            return
        count = min(count, MAX_PARTICIPANTS - len(self.participants))
        keypairs = await asyncio.gather(*(self.sandbox.create_account(PARTICIPANT_XLM) for _ in range(count)))
        for asset in (self.base, self.counter):
            if not asset.is_native():
                await asyncio.gather(*(self.sandbox.trust_and_fund(kp, asset, PARTICIPANT_ASSET) for kp in keypairs))
        takers = sum(1 for p in self.participants if not p.maker)
        for keypair in keypairs:
            # keep roughly `take_share` of the accounts as takers, at least one of each kind
            maker = takers >= max(1, round(self.take_share * (len(self.participants) + 1)))
            takers += 0 if maker else 1
            participant = Participant(keypair, MuxedAccount(keypair.public_key), maker)
            self.participants.append(participant)
            self._by_id[keypair.public_key] = participant

    async def _open_pool(self, depth: float, share: float, mid: float) -> None:
        """Turn a share of the makers into providers with pool-share trustlines, and seed the pool."""
        if self.pool is None or self.pool.pool_id != pool_id_for(self._base_key, self._counter_key):
            self.pool = PoolLiquidity(self.sandbox, self.base, self.counter, self.rng)
        makers = [p for p in self.participants if p.maker]
        wanted = max(1, round(share * len(makers)))
        providers = [p for p in makers if p.provider][:wanted]
        for participant in makers:
            if len(providers) >= wanted or len(providers) >= len(makers) - 1:
                break
            if not participant.provider:
                participant.provider = True
                providers.append(participant)
        await self.pool.open(providers, depth, mid)

    # ----- the loop -----

    def _listen(self) -> None:
        if not self._listening:
            self.sandbox.network.add_listener(self._on_network_event)
            self._listening = True

    def _on_network_event(self, kind: str, record: Record) -> None:
        if kind == "transactions":
            participant = self._by_id.get(record["source_account"])
            if participant is None:
                return
            if record["successful"]:
                self.applied_transactions += 1
                self.applied_events += record["operation_count"]
            else:
                self.failed_transactions += 1
        elif kind == "ledgers":
            self._wake.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        tick = min(0.25, self.sandbox.ledger_interval or 0.25)
        while True:
            now = loop.time()
            self.walk.step(now - last)
            last = now
            try:
                self._tick(now)
            except Exception:  # keep trading: one bad transaction must not end the activity
                logger.exception("market activity tick failed")
            self._wake.clear()
            try:
                # asyncio.timeout, not wait_for: 3.11's wait_for drops a cancel that arrives as the wake
                # comes, and stop() would then wait for this loop forever.
                async with asyncio.timeout(tick):
                    await self._wake.wait()
            except TimeoutError:
                pass

    def _tick(self, now: float) -> None:
        queue = self.sandbox.network.queue
        in_flight = 0
        free: list[Participant] = []
        for participant in self.participants:
            if participant.pending_hash is not None:
                pending = queue.pending_for(participant.account_id)
                if pending is not None and pending.hash == participant.pending_hash:
                    in_flight += participant.pending_ops
                    continue
                participant.pending_hash = None  # applied (counted by the listener) or dropped
            free.append(participant)
        due = self.controller.due(now, self.applied_events, in_flight)
        if not due or not free:
            return
        start = self._rotation % len(free)
        self._rotation += 1
        for participant in free[start:] + free[:start]:
            if due <= 0:
                break
            submitted = self._submit(participant, min(self.ops_per_tx, due))
            due -= submitted

    def _submit(self, participant: Participant, count: int) -> int:
        operations = self._operations(participant, count)
        if not operations:
            return 0
        network = self.sandbox.network
        account = network.state.account(participant.account_id)
        # the least the network accepts now (the base fee, or just above a surge's background bids)
        tx = Transaction(participant.account, account.seq_num + 1, network.inclusion_fee(len(operations)),
                         operations, preconditions=NO_TIME_BOUNDS)
        envelope = TransactionEnvelope(tx, network.passphrase)
        envelope.sign(participant.keypair)
        outcome = network.submit(envelope.to_xdr())
        self.submitted_transactions += 1
        if outcome.status != "PENDING":
            self.rejected_submissions += 1
            return 0
        participant.pending_hash = outcome.hash
        participant.pending_ops = len(operations)
        return len(operations)

    def _operations(self, participant: Participant, count: int) -> list[Operation]:
        mid = self.walk.mid
        state = self.sandbox.network.state
        if participant.provider and self.pool is not None:
            return self.pool.operations(participant.account_id, count)
        if participant.maker:
            intents: list[Intent] = self.planner.plan(self._resting(participant.account_id), mid, count)
        else:
            pool = state.pool(self.pool.pool_id) if self.pool is not None else None
            pooled = pool is not None and pool.total_shares > 0  # the pool takes either side
            intents = plan_takes(self.rng, count, mid,
                                 can_buy=pooled or state.best_offer(self._base_key, self._counter_key) is not None,
                                 can_sell=pooled or state.best_offer(self._counter_key, self._base_key) is not None)
        return [self._operation(intent, participant.account) for intent in intents]

    def _resting(self, account_id: str) -> list[RestingOffer]:
        offers = []
        for offer in self.sandbox.network.state.offers_of(account_id):
            if offer.selling == self._base_key:
                offers.append(RestingOffer(offer.offer_id, ASK, offer.price_n / offer.price_d))
            elif offer.selling == self._counter_key:
                offers.append(RestingOffer(offer.offer_id, BID, offer.price_d / offer.price_n))
        return offers

    def _operation(self, intent: Intent, account: MuxedAccount) -> Operation:
        base, counter = self.base, self.counter
        if isinstance(intent, Take):
            send, receive = (counter, base) if intent.side == BID else (base, counter)
            return PathPaymentStrictSend(account, send, amount(intent.amount), receive, DEST_MIN, [])
        if isinstance(intent, Cancel):
            offer_id, price, size = intent.offer_id, Price(1, 1), "0"
        else:
            offer_id = intent.offer_id if isinstance(intent, Update) else 0
            price, size = fraction(intent.price), amount(intent.amount)
        if intent.side == ASK:
            return ManageSellOffer(base, counter, size, price, offer_id)
        return ManageBuyOffer(counter, base, size, price, offer_id)


__all__ = ["MarketActivity", "MarketSettingsError", "asset_key", "check_options", "check_rate", "fraction"]
