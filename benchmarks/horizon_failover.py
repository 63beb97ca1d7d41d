"""How long the connector takes to leave a failing Horizon: `python -m benchmarks.horizon_failover [--rounds 2]`.

A StellarExchange configured with two Horizon frontends of one embedded sandbox (in this process, ledgers every
`--ledger-interval` s) runs as Hummingbot runs it: a real-time Hummingbot Clock starts and ticks it. Each round
sets, on the Horizon active at that moment (both healthy), one fault after the other, and waits for the switch:

- down: the frontend stops listening and resets its connections;
- 429: every request refused with 429 (the next request, here a read of the trading rules, meets it: a
  connector learns of a 429 only by asking);
- lag: its ingestion falls 10 ledgers behind;
- silent: its streams connect and then say nothing (they are dropped first, so they reconnect into silence).

Per switch: `injected_to_switch_s`, from setting the fault (wall clock) to the switch's record, and the
switch's own `fault_age_s` (from the first sign the connector saw). Printed as JSON; the worst of each last.
Not part of `python -m benchmarks`: timings on a shared machine, read, not checked against a baseline.
"""
from __future__ import annotations

from benchmarks import working_tree  # noqa: F401  (first: the connector of this working tree)

# isort: split
import argparse
import asyncio
import json
import time
from typing import Any, Dict, List

from hummingbot.core.clock import Clock
from hummingbot.core.clock_mode import ClockMode
from hummingbot.core.web_assistant.connections.connections_factory import ConnectionsFactory

from hummingbot.connector.exchange.stellar.stellar_exchange import StellarExchange
from stellar_sandbox import Sandbox

LEDGER_INTERVAL_S = 0.1
WAIT_S = 20.0
FAULTS = ("down", "429", "lag", "silent")


async def _wait(predicate, what: str, timeout: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout}s for {what}")
        await asyncio.sleep(0.01)
    return value


def _inject(net: Sandbox, index: int, fault: str) -> None:
    faults = net.frontends[index].faults
    if fault == "down":
        faults.set(down=True)
    elif fault == "429":
        faults.set(errors={"rate": 1.0, "statuses": [429], "retry_after": 1})
    elif fault == "lag":
        faults.set(lag=10)
    elif fault == "silent":
        faults.set(silent_streams=True)
        faults.drop_streams()


async def measure(rounds: int, ledger_interval: float = LEDGER_INTERVAL_S) -> Dict[str, Any]:
    ConnectionsFactory()._shared_client = None   # Hummingbot's process-wide session may belong to another loop
    async with Sandbox(ledger_interval=ledger_interval, horizons=2, stream_keep_alive=1.0) as net:
        usdc = await net.issue_asset("USDC")
        trader = await net.create_account(10_000)
        await net.trust_and_fund(trader, usdc, "1000")
        exchange = StellarExchange(stellar_secret_key=trader.secret, stellar_markets=f"USDC:{usdc.issuer}",
                                   stellar_horizon_url=",".join(net.horizon_urls),
                                   stellar_network_passphrase=net.passphrase, trading_pairs=["XLM-USDC"])
        clock = Clock(ClockMode.REALTIME, tick_size=0.1)
        clock.add_iterator(exchange)
        clock.__enter__()
        ticker = asyncio.ensure_future(clock.run())
        rows: List[Dict[str, Any]] = []
        try:
            await _wait(lambda: exchange.ready, "the exchange ready")
            for _ in range(rounds):
                for fault in FAULTS:
                    await _wait(lambda: all(row["state"] == "healthy" for row in exchange.horizon_health()),
                                f"both Horizons healthy again (the last fault over): {exchange.horizon_health()}")
                    active = net.horizon_urls.index(exchange.active_horizon_url)
                    seen = len(exchange.horizon_switches())
                    injected_at = time.time()
                    _inject(net, active, fault)
                    if fault == "429":
                        await exchange.refresh_trading_rules()   # the next request meets it
                    switch = (await _wait(lambda n=seen: exchange.horizon_switches()[n:], f"a switch ({fault})"))[0]
                    rows.append({"fault": fault, "from": switch["from_url"], "to": switch["to_url"],
                                 "reason": switch["reason"][:80],
                                 "injected_to_switch_s": round(switch["time"] - injected_at, 3),
                                 "fault_age_s": round(switch["fault_age_s"], 3)})
                    net.frontends[active].faults.clear()
                    await _wait(lambda: all(exchange.streams_connected().values()), "the streams connected")
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
            before = asyncio.all_tasks()
            clock.__exit__(None, None, None)   # stops the exchange: its stop_network is awaited here
            await asyncio.gather(*(asyncio.all_tasks() - before), return_exceptions=True)
            await exchange.pipeline.stop()
    return {"switches": rows,
            "worst_injected_to_switch_s": max(row["injected_to_switch_s"] for row in rows),
            "worst_fault_age_s": max(row["fault_age_s"] for row in rows)}


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the four faults (default 2)")
    parser.add_argument("--ledger-interval", type=float, default=LEDGER_INTERVAL_S,
                        help=f"seconds between ledgers (default {LEDGER_INTERVAL_S})")
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(measure(args.rounds, args.ledger_interval)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
