"""End to end on the sandbox: order acknowledgement and confirmation latency, injected latency out.

A StellarExchange trades XLM-USDC against the embedded sandbox over real HTTP/SSE on loopback, as
Hummingbot runs it: a real-time Hummingbot Clock ticking it (its network check starts the
network), `sell()` and `cancel()`, the orders read from `in_flight_orders`. The sandbox runs in a
child process (`python -m stellar_sandbox serve`), as a Horizon would, so its ledger closes and
stream fan-out do not share the exchange's event loop; it delays every request by
`INJECTED_LATENCY_S` (its fault layer, set through `POST /_sandbox/faults`), like a network would. The connector's
own measuring points (stellar_measurement: ORDER_*_ACK, ORDER_*_CONFIRM) give, per order:

- ack: strategy call -> Horizon accepted the transaction (one POST /transactions_async, so one
  injected delay is subtracted);
- confirm: strategy call -> the outcome is known. Between ack and confirm the transaction waits for
  the next ledger close, a property of the network (a ledger every `LEDGER_INTERVAL_S` here,
  about 5 s on the public network), not of the connector; so `confirm_after_close` is reported too:
  ledger close -> outcome known (transaction stream delivery, result decoding, order update).

The acknowledgement is also set beside a floor measured in the same run, turn about with the
orders: a POST of an envelope that stellar-sdk signed beforehand, through aiohttp to the same
sandbox (injected latency out of both). Ledger closes are timed by a client of the sandbox's
`/ledgers` stream, as the exchange hears of them. Latencies through HTTP on a shared 2-core
machine: reported for reading, not checked against the baseline.
"""
from __future__ import annotations

from benchmarks import working_tree  # (first: the connector of this working tree)

# isort: split
import asyncio
import re
import sys
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any, Callable, Dict, List

import aiohttp
from hummingbot.core.clock import Clock
from hummingbot.core.clock_mode import ClockMode
from hummingbot.core.data_type.common import OrderType
from hummingbot.core.web_assistant.connections.connections_factory import ConnectionsFactory
from stellar_sdk import Account, Asset, ChangeTrust, Keypair, Payment, TransactionBuilder

from benchmarks.timing import figure, summary_us
from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from hummingbot.connector.exchange.stellar.stellar_exchange import StellarExchange

LEDGER_INTERVAL_S = 0.2
TICK_S = 0.1                 # the exchange's clock
INJECTED_LATENCY_S = 0.02
PAIR = "XLM-USDC"
_SUBMIT_POST = measurement.HORIZON_CALL_PREFIX + "/transactions_async"   # the POST alone, in HorizonApi
_POINTS = (measurement.ORDER_CREATE_ACK, measurement.ORDER_CREATE_CONFIRM,
           measurement.ORDER_CANCEL_ACK, measurement.ORDER_CANCEL_CONFIRM, _SUBMIT_POST)


class _EventRecorder:
    """Keeps (start, end) perf_counter_ns of each sample: the end is when the connector recorded it."""

    def __init__(self) -> None:
        self.spans: Dict[str, List[tuple]] = defaultdict(list)

    def add(self, point: str, duration_ns: int) -> None:
        if point in _POINTS:
            end = time.perf_counter_ns()
            self.spans[point].append((end - duration_ns, end))

    def incr(self, point: str, n: int) -> None:
        pass


async def _wait_until(condition: Callable[[], Any], timeout: float = 15.0, what: Callable[[], Any] = str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out: the end-to-end benchmark could not drive the exchange {what()}")
        await asyncio.sleep(0.002)


class _ChildSandbox:
    """`python -m stellar_sandbox serve` in a child process, driven over its HTTP API only."""

    def __init__(self, ledger_interval: float) -> None:
        self._ledger_interval = ledger_interval
        self.closes: List[int] = []       # perf_counter_ns when each ledger's record reached us
        self.horizon_url = ""
        self.passphrase = ""

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "stellar_sandbox", "serve", "--port", "0",
            "--ledger-interval", str(self._ledger_interval),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, cwd=str(working_tree.REPO_ROOT))
        line = (await asyncio.wait_for(self._process.stdout.readline(), 60.0)).decode()
        # "Horizon URL network passphrase: P", or with the sandbox's RPC named: "Horizon URL (Stellar RPC URL) ..."
        match = re.match(r"Horizon (\S+)(?: \(Stellar RPC \S+\))? network passphrase: (.+)$", line.strip())
        if match is None:
            raise RuntimeError(f"the sandbox did not start: {line!r}")
        self.horizon_url, self.passphrase = match.group(1), match.group(2)
        self.session = aiohttp.ClientSession()
        self._ledgers = asyncio.ensure_future(self._watch_ledgers())

    async def stop(self) -> None:
        self._ledgers.cancel()
        await asyncio.gather(self._ledgers, return_exceptions=True)
        await self.session.close()
        self._process.terminate()
        await self._process.wait()

    async def _watch_ledgers(self) -> None:
        async with self.session.get(self.horizon_url + "/ledgers", params={"cursor": "now"},
                                    headers={"Accept": "text/event-stream"}) as response:
            async for line in response.content:
                if line.startswith(b"data:") and b'"sequence"' in line:
                    self.closes.append(time.perf_counter_ns())

    async def set_latency(self, seconds: float) -> None:
        async with self.session.post(self.horizon_url + "/_sandbox/faults",
                                     json={"latency": {"seconds": seconds}}) as response:
            if response.status != 200:
                raise RuntimeError(f"could not set the sandbox's latency: {response.status} {await response.text()}")

    async def account(self) -> Keypair:
        keypair = Keypair.random()
        async with self.session.get(self.horizon_url + "/friendbot", params={"addr": keypair.public_key}) as response:
            if response.status != 200:
                raise RuntimeError(f"friendbot: {response.status} {await response.text()}")
        return keypair

    async def sequence(self, account_id: str) -> int:
        async with self.session.get(f"{self.horizon_url}/accounts/{account_id}") as response:
            return int((await response.json())["sequence"])

    async def submit(self, keypair: Keypair, *operations: Any) -> None:
        """One transaction applied in a ledger (POST /transactions waits for it)."""
        account = Account(keypair.public_key, await self.sequence(keypair.public_key))
        builder = TransactionBuilder(account, self.passphrase, base_fee=100)
        for operation in operations:
            builder.append_operation(operation)
        envelope = builder.add_time_bounds(0, 0).build()
        envelope.sign(keypair)
        async with self.session.post(self.horizon_url + "/transactions", data={"tx": envelope.to_xdr()}) as response:
            if response.status != 200:
                raise RuntimeError(f"set-up transaction failed: {response.status} {await response.text()}")

    async def trust_and_fund(self, keypair: Keypair, asset: Asset, issuer: Keypair, amount: str) -> None:
        await self.submit(keypair, ChangeTrust(asset=asset))
        await self.submit(issuer, Payment(destination=keypair.public_key, asset=asset, amount=amount))


class _BareSubmitter:
    """The floor of an acknowledgement: stellar-sdk signs a ManageSellOffer beforehand and aiohttp
    POSTs it to /transactions_async, nothing else (ns per answer, injected latency included)."""

    def __init__(self, net: _ChildSandbox) -> None:
        self._net = net
        self.samples: List[int] = []

    async def start(self, usdc: Asset, issuer: Keypair) -> None:
        net = self._net
        self._keypair = await net.account()
        await net.trust_and_fund(self._keypair, usdc, issuer, "100")
        self._account = Account(self._keypair.public_key, await net.sequence(self._keypair.public_key))
        self._usdc = usdc

    async def submit_one(self) -> None:
        net = self._net
        envelope = TransactionBuilder(self._account, net.passphrase, base_fee=100).append_manage_sell_offer_op(
            selling=Asset.native(), buying=self._usdc, amount="1", price=str(50 + len(self.samples))
        ).add_time_bounds(0, 0).build()
        envelope.sign(self._keypair)
        envelope_xdr = envelope.to_xdr()
        closes_before = len(net.closes)
        start = time.perf_counter_ns()
        async with net.session.post(net.horizon_url + "/transactions_async", data={"tx": envelope_xdr}) as reply:
            body = await reply.json()
        self.samples.append(time.perf_counter_ns() - start)
        if body.get("tx_status") != "PENDING":
            raise RuntimeError(f"the bare submission was not accepted: {body}")
        # One pending transaction per account: the next one waits for this one's ledger.
        await _wait_until(lambda: len(net.closes) > closes_before)


def _after_close(spans: List[tuple], closes: List[int]) -> List[int]:
    """For each (start, end): end minus the time the nearest ledger close reached the watching client
    (negative when the exchange heard of its outcome before that client heard of the ledger)."""
    return [end - min(closes, key=lambda close, end=end: abs(end - close)) for _start, end in spans if closes]


class _Ticking:
    """The exchange on a real-time Hummingbot Clock, as a bot runs it: the clock starts it (its network
    check starts the network) and ticks it every TICK_S; on leaving, the clock stops it and what the
    stop schedules (stop_network) is awaited."""

    def __init__(self, exchange: StellarExchange) -> None:
        self._exchange = exchange
        self._clock = Clock(ClockMode.REALTIME, tick_size=TICK_S)
        self._clock.add_iterator(exchange)

    async def __aenter__(self) -> _Ticking:
        self._clock.__enter__()
        self._run = asyncio.ensure_future(self._clock.run())
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self._run.cancel()
        await asyncio.gather(self._run, return_exceptions=True)
        before = asyncio.all_tasks()
        self._clock.__exit__(None, None, None)
        await asyncio.gather(*(asyncio.all_tasks() - before), return_exceptions=True)
        await self._exchange.pipeline.stop()


async def _run(orders: int) -> Dict[str, Any]:
    ConnectionsFactory()._shared_client = None   # Hummingbot's process-wide session may belong to another loop
    net = _ChildSandbox(LEDGER_INTERVAL_S)
    await net.start()
    recorder = _EventRecorder()
    bare: List[int] = []
    try:
        issuer = await net.account()
        usdc = Asset("USDC", issuer.public_key)
        trader = await net.account()
        await net.trust_and_fund(trader, usdc, issuer, "1000")
        bare_submitter = _BareSubmitter(net)
        await bare_submitter.start(usdc, issuer)
        exchange = StellarExchange(stellar_secret_key=trader.secret, stellar_markets=f"USDC:{usdc.issuer}",
                                   stellar_horizon_url=net.horizon_url, stellar_network_passphrase=net.passphrase,
                                   trading_pairs=[PAIR])
        async with _Ticking(exchange):
            await _wait_until(lambda: exchange.ready, timeout=30.0, what=lambda: exchange.status_dict)
            await net.set_latency(INJECTED_LATENCY_S)
            measurement.install(recorder)
            active = exchange.in_flight_orders
            for i in range(orders):
                order_id = exchange.sell(PAIR, Decimal("10"), OrderType.LIMIT, Decimal("5") + Decimal(i) / 100)
                await _wait_until(lambda order_id=order_id: (o := active.get(order_id)) is not None
                                  and o.exchange_order_id is not None and o.is_open)
                order = active[order_id]   # kept: a cancelled order leaves in_flight_orders
                exchange.cancel(PAIR, order_id)
                await _wait_until(lambda order=order: order.is_cancelled)
                await bare_submitter.submit_one()   # turn about with the orders: the same load on both
            measurement.uninstall()
            bare = bare_submitter.samples
    finally:
        measurement.uninstall()
        await ConnectionsFactory().close()
        await net.stop()
    closes = net.closes
    injected = int(INJECTED_LATENCY_S * 1e9)
    rows = []
    points = (("create", measurement.ORDER_CREATE_ACK, measurement.ORDER_CREATE_CONFIRM),
              ("cancel", measurement.ORDER_CANCEL_ACK, measurement.ORDER_CANCEL_CONFIRM))
    for action, ack_point, confirm_point in points:
        acks = recorder.spans[ack_point]
        confirms = recorder.spans[confirm_point]
        if not acks or not confirms:
            raise RuntimeError(f"no {action} samples: the connector's measuring points did not fire")
        rows.append(figure(f"e2e_{action}_ack_vs_bare_submit", [max(1, (e - s) - injected) for s, e in acks],
                           [max(1, b - injected) for b in bare], floor_name="aiohttp POST of a pre-signed tx",
                           description=f"{action}: call -> accepted by Horizon, vs a bare POST /transactions_async "
                                       f"of an envelope signed beforehand (injected latency out of both)"))
        rows[-1]["checked"] = False   # HTTP latencies on a shared machine: too noisy to check (see the doc)
        rows.append({"name": f"e2e_{action}_ack_minus_injected", "checked": False,
                     "description": f"{action}: call -> accepted by Horizon, minus the "
                                    f"{INJECTED_LATENCY_S * 1000:.0f} ms injected on the submission",
                     "subject": summary_us([max(0, (e - s) - injected) for s, e in acks])})
        rows.append({"name": f"e2e_{action}_confirm_minus_injected", "checked": False,
                     "description": f"{action}: call -> outcome known, minus the injected latency "
                                    f"(includes the wait for the next ledger, every {LEDGER_INTERVAL_S} s)",
                     "subject": summary_us([max(0, (e - s) - injected) for s, e in confirms])})
        rows.append({"name": f"e2e_{action}_confirm_after_close", "checked": False,
                     "description": f"{action}: ledger close (as a client of /ledgers hears of it) -> outcome known "
                                    f"(stream delivery, decoding, order update)",
                     "subject": summary_us(_after_close(confirms, closes))})
    posts = recorder.spans[_SUBMIT_POST]
    rows.append({"name": "e2e_submit_post_minus_injected", "checked": False,
                 "description": "the POST /transactions_async alone, through HorizonApi and Hummingbot's web assistant "
                                "(throttler, REST assistant), minus the injected latency: compare with the bare POST",
                 "subject": summary_us([max(0, (e - s) - injected) for s, e in posts])})
    return {"benchmark": "end_to_end", "figures": rows,
            "settings": {"ledger_interval_s": LEDGER_INTERVAL_S, "injected_latency_s": INJECTED_LATENCY_S,
                         "orders": orders}}


def run(quick: bool = False) -> Dict[str, Any]:
    return asyncio.run(_run(8 if quick else 40))


if __name__ == "__main__":
    import json
    import sys
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
