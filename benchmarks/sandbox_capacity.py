"""How much load the embedded sandbox carries on this machine (a benchmark, never a test).

    .venv/bin/python -m benchmarks.sandbox_capacity [--quick] [--out reports/bench/sandbox_capacity.json]

Figures, each against the target the sandbox must meet so it is never the bottleneck of the
connector's load tests:

- submissions: single-operation transactions per second answered 201 PENDING by
  `POST /transactions_async` over loopback HTTP. The envelopes are signed beforehand and the
  clients (several concurrent connections) run in a *separate process*, so the server's process
  spends its core on the server alone; ledgers keep closing every second meanwhile.
- apply: operations per second applied by `Network.close_ledger` (in-process, no HTTP), for
  payments and for offers that rest and cross in the book.
- streams: events per second delivered to SSE subscribers (`/operations` streams read by a
  separate process), from the first ledger close to the last event received.
- market activity: the book-event rate synthetic participants hold at 1,000 events/s requested
  (informational), and the share of a core it takes.
- memory: the server process's RSS while applying many operations with a small history cap
  (a separate process per cap): it must level off once the history is full.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import multiprocessing
import os
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

from stellar_sdk import Account, Asset, Keypair, TransactionBuilder

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "reports" / "bench" / "sandbox_capacity.json"
TARGETS = {"submissions_tx_per_s": 500.0, "apply_ops_per_s": 2000.0, "stream_events_per_s": 2000.0}
XLM = Asset.native()
STROOP = "0.0000001"

Record = dict[str, Any]


# ----- accounts and pre-signed envelopes, in-process through the ordinary submit/close path -----


def create_accounts(network: Any, count: int, xlm: str = "10000") -> list[Keypair]:
    """`count` funded accounts: root transactions of 100 CreateAccount each, one ledger per transaction."""
    keypairs = [Keypair.random() for _ in range(count)]
    root = network.root_keypair
    for start in range(0, count, 100):
        sequence = network.state.account(root.public_key).seq_num
        builder = TransactionBuilder(Account(root.public_key, sequence), network.passphrase, base_fee=100)
        for keypair in keypairs[start:start + 100]:
            builder.append_create_account_op(keypair.public_key, xlm)
        envelope = builder.add_time_bounds(0, 0).build()
        envelope.sign(root)
        _submit(network, envelope.to_xdr())
        network.close_ledger()
    return keypairs


def _submit(network: Any, envelope_xdr: str) -> str:
    outcome = network.submit(envelope_xdr)
    if outcome.status != "PENDING":
        raise RuntimeError(f"benchmark setup: submission answered {outcome.status} {outcome.error_result_xdr}")
    return outcome.hash


def signed(network: Any, keypair: Keypair, sequence: int, operations: list) -> str:
    """An envelope from `keypair` with sequence number `sequence + 1`."""
    builder = TransactionBuilder(Account(keypair.public_key, sequence), network.passphrase, base_fee=100)
    for operation in operations:
        builder.append_operation(operation)
    envelope = builder.add_time_bounds(0, 0).build()
    envelope.sign(keypair)
    return envelope.to_xdr()


def payment_envelopes(network: Any, keypairs: list[Keypair], rounds: int = 1, ops: int = 1) -> list[list[str]]:
    """Per round, one envelope per account of `ops` payments of a stroop to the root (state stays the same size)."""
    from stellar_sdk.operation import Payment

    root = network.root_keypair.public_key
    payment = [Payment(root, XLM, STROOP)] * ops
    rounds_out: list[list[str]] = [[] for _ in range(rounds)]
    for keypair in keypairs:
        sequence = network.state.account(keypair.public_key).seq_num
        for index in range(rounds):
            rounds_out[index].append(signed(network, keypair, sequence + index, payment))
    return rounds_out


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# ----- (a) submissions over HTTP -----


def _submission_client(url: str, envelopes: list[str], concurrency: int, pipe) -> None:
    """Child process: post every envelope to /transactions_async over `concurrency` connections."""
    import aiohttp

    async def run() -> Record:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            async with session.get(url + "/") as warm:  # connection set-up is not measured
                await warm.read()
            pipe.send("ready")
            pipe.recv()  # go
            statuses: dict[int, int] = {}
            queue = iter(envelopes)

            async def worker() -> None:
                for envelope in queue:
                    async with session.post(url + "/transactions_async", data={"tx": envelope}) as response:
                        await response.read()
                        statuses[response.status] = statuses.get(response.status, 0) + 1

            started = time.time()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return {"started": started, "finished": time.time(), "statuses": statuses}

    pipe.send(asyncio.run(run()))


async def bench_submissions(count: int, concurrency: int) -> Record:
    from stellar_sandbox import Sandbox

    async with Sandbox(ledger_interval=1.0, network_options={"max_ops_per_ledger": 1000}) as net:
        keypairs = create_accounts(net.network, count)
        (envelopes,) = payment_envelopes(net.network, keypairs)
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(target=_submission_client, args=(net.horizon_url, envelopes, concurrency, child))
        process.start()
        loop = asyncio.get_running_loop()
        try:
            assert await loop.run_in_executor(None, parent.recv) == "ready"
            cpu_before = time.process_time()
            parent.send("go")
            result = await loop.run_in_executor(None, parent.recv)
            server_cpu = time.process_time() - cpu_before
        finally:
            await loop.run_in_executor(None, process.join, 30)
        seconds = result["finished"] - result["started"]
        accepted = result["statuses"].get(201, 0)
        return {
            "transactions": count, "concurrency": concurrency, "seconds": round(seconds, 3),
            "statuses": {str(k): v for k, v in sorted(result["statuses"].items())},
            "accepted_tx_per_s": round(accepted / seconds, 1),
            "server_cpu_share": round(server_cpu / seconds, 2),
            # what the server could take with a core of its own: not hidden by other load on the machine
            "tx_per_server_cpu_second": round(accepted / server_cpu, 1) if server_cpu else None,
            "client": "separate process (spawn), aiohttp, pre-signed envelopes",
        }


# ----- (b) applying operations in-process -----


def bench_apply(count: int) -> Record:
    from stellar_sdk.operation import ManageSellOffer

    from stellar_sandbox.core.network import Network

    results: Record = {}
    network = Network(max_ops_per_ledger=1000)
    keypairs = create_accounts(network, count)
    (payments,) = payment_envelopes(network, keypairs)
    results["payments"] = _timed_apply(network, payments)

    # offers: makers rest asks around 1.0, takers sell XLM for MKT at prices that cross some of them
    issuer = create_accounts(network, 1)[0]
    mkt = Asset("MKT", issuer.public_key)
    makers, takers = keypairs[: count // 2], keypairs[count // 2:]
    for start in range(0, count, 500):  # trustlines of one call go in one ledger: stay within its capacity
        network.issue_asset(issuer, "MKT", {keypair: "100000" for keypair in keypairs[start:start + 500]})
    rng = random.Random(1)
    envelopes = []
    for index, keypair in enumerate(makers + takers):
        sequence = network.state.account(keypair.public_key).seq_num
        if index < len(makers):
            operation = ManageSellOffer(mkt, XLM, "10", f"{rng.uniform(1.0, 1.04):.4f}")
        else:
            operation = ManageSellOffer(XLM, mkt, "5", f"{1 / rng.uniform(1.0, 1.04):.4f}")
        envelopes.append(signed(network, keypair, sequence, [operation]))
    results["offers"] = _timed_apply(network, envelopes)
    results["trades"] = len(network.history.trades)
    results["resting_offers"] = sum(1 for keypair in keypairs for _ in network.state.offers_of(keypair.public_key))
    results["apply_ops_per_s"] = min(results["payments"]["ops_per_s"], results["offers"]["ops_per_s"])
    return results


def _timed_apply(network: Any, envelopes: list[str]) -> Record:
    started = time.perf_counter()
    for envelope in envelopes:
        _submit(network, envelope)
    submit_seconds = time.perf_counter() - started
    applied = close_seconds = 0.0
    ledgers = 0
    while len(network.queue):
        started = time.perf_counter()
        ledger = network.close_ledger()
        close_seconds += time.perf_counter() - started
        applied += ledger["operation_count"]
        ledgers += 1
    return {"transactions": len(envelopes), "ops_applied": int(applied), "ledgers": ledgers,
            "close_seconds": round(close_seconds, 3), "ops_per_s": round(applied / close_seconds, 1),
            "submit_tx_per_s": round(len(envelopes) / submit_seconds, 1)}


# ----- (c) events streamed to SSE subscribers -----


def _stream_client(url: str, subscribers: int, expected: int) -> None:
    """Child process: `subscribers` SSE streams, each counting `id:` lines until `expected` events arrived.

    Prints `ready` once every stream is open, then one JSON line of results (stdout is the channel).
    """
    import aiohttp

    marker = b"\nid: "

    async def subscriber(session, opened: list, ready: asyncio.Event) -> Record:
        headers = {"Accept": "text/event-stream"}
        async with session.get(url + "/operations", params={"cursor": "now"}, headers=headers) as response:
            await response.content.readuntil(b'data: "hello"\n\n')
            opened.append(1)
            if len(opened) == subscribers:
                ready.set()
            count, tail, first = 0, b"\n", None  # the hello ended with a blank line: the first id starts a line
            async for chunk in response.content.iter_any():
                if first is None:
                    first = time.time()
                data = tail + chunk
                count += data.count(marker)
                tail = data[-(len(marker) - 1):]
                if count >= expected:
                    break
            return {"events": count, "first": first, "last": time.time()}

    async def run() -> list[Record]:
        timeout = aiohttp.ClientTimeout(total=None, sock_read=120)
        connector = aiohttp.TCPConnector(limit=subscribers)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            opened: list = []
            ready = asyncio.Event()
            tasks = [asyncio.ensure_future(subscriber(session, opened, ready)) for _ in range(subscribers)]
            await ready.wait()
            print("ready", flush=True)
            return await asyncio.gather(*tasks)

    print(json.dumps(asyncio.run(run())), flush=True)


async def bench_streams(accounts: int, rounds: int, subscribers: int) -> Record:
    from stellar_sandbox import Sandbox

    options = {"max_ops_per_ledger": accounts}
    async with Sandbox(ledger_interval=None, stream_keep_alive=30.0, network_options=options) as net:
        keypairs = create_accounts(net.network, accounts)
        envelope_rounds = payment_envelopes(net.network, keypairs, rounds=rounds)
        expected = accounts * rounds
        client = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.sandbox_capacity", "--stream-client", net.horizon_url,
            str(subscribers), str(expected), cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE)
        try:
            line = await asyncio.wait_for(client.stdout.readline(), 60)
            if line.strip() != b"ready":
                raise RuntimeError(f"stream client did not start: {line!r}")
            started, cpu_before = time.time(), time.process_time()
            for envelopes in envelope_rounds:  # submission is part of the load; each round one ledger
                for envelope in envelopes:
                    _submit(net.network, envelope)
                await net.close_ledger()
                await asyncio.sleep(0)
            results = json.loads(await asyncio.wait_for(client.stdout.readline(), 120))
            server_cpu = time.process_time() - cpu_before
        finally:
            if client.returncode is None:
                try:
                    await asyncio.wait_for(client.wait(), 10)
                except TimeoutError:
                    client.kill()
                    await client.wait()
        finished = max(r["last"] for r in results)
        delivered = sum(r["events"] for r in results)
        seconds = finished - started
        return {
            "subscribers": subscribers, "events_per_subscriber": expected, "ledgers": rounds,
            "delivered": delivered, "seconds": round(seconds, 3),
            "stream_events_per_s": round(delivered / seconds, 1),
            "server_cpu_share": round(server_cpu / seconds, 2),
            "per_subscriber_events_per_s": round(expected / seconds, 1),
            "client": "separate process, aiohttp, one connection per subscriber",
        }


# ----- market activity at a high rate (informational: the rate it holds, and the CPU it takes) -----


async def bench_market(rate: float, ledger_interval: float, seconds: float) -> Record:
    from stellar_sandbox import Sandbox

    async with Sandbox(ledger_interval=ledger_interval) as net:
        started = await net.market.start(rate=rate, seed=1)
        await asyncio.sleep(2 * ledger_interval + 0.5)  # the first ledgers of a start are a ramp
        events, cpu, wall = net.market.applied_events, time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        stats = await net.market.stop()
        wall = time.perf_counter() - wall
        return {"requested_events_per_s": rate, "ledger_interval": ledger_interval,
                "participants": started["participants"], "seconds": round(wall, 2),
                "achieved_events_per_s": round((stats["events_applied"] - events) / wall, 1),
                "server_cpu_share": round((time.process_time() - cpu) / wall, 2),
                "transactions_applied": stats["transactions_applied"],
                "transactions_failed": stats["transactions_failed"]}


# ----- (d) memory with a history cap -----


def _memory_run(history_cap: int, total_ops: int, ops_per_tx: int, pipe) -> None:
    from stellar_sandbox.core.network import Network

    network = Network(history_cap=history_cap, max_ops_per_ledger=10_000)
    keypairs = create_accounts(network, 100)
    per_round = len(keypairs) * ops_per_tx
    rounds = max(1, total_ops // per_round)
    samples = [{"ops": 0, "rss_mb": round(rss_mb(), 1)}]
    applied = 0
    every = max(1, rounds // 10)
    for index in range(rounds):
        (envelopes,) = payment_envelopes(network, keypairs, ops=ops_per_tx)
        for envelope in envelopes:
            _submit(network, envelope)
        applied += network.close_ledger()["operation_count"]
        if (index + 1) % every == 0 or index == rounds - 1:
            samples.append({"ops": applied, "rss_mb": round(rss_mb(), 1)})
    history = network.history
    stored = {name: len(getattr(history, name)) for name in ("ledgers", "transactions", "operations", "effects")}
    pipe.send({"history_cap": history_cap, "ops_applied": applied, "samples": samples, "stored": stored})


def bench_memory(total_ops: int, caps: list[int]) -> Record:
    context = multiprocessing.get_context("spawn")
    runs = []
    for cap in caps:
        parent, child = context.Pipe()
        process = context.Process(target=_memory_run, args=(cap, total_ops, 20, child))
        process.start()
        runs.append(parent.recv())
        process.join(30)
    for run in runs:
        samples = run["samples"]
        half = samples[len(samples) // 2]
        run["rss_growth_second_half_mb"] = round(samples[-1]["rss_mb"] - half["rss_mb"], 1)
        # bounded: once the history is full, the second half of the run adds next to nothing
        run["bounded"] = run["rss_growth_second_half_mb"] <= max(10.0, 0.05 * samples[-1]["rss_mb"])
    return {"runs": runs, "bounded": runs[0]["bounded"]}


# ----- report -----


def machine() -> Record:
    import aiohttp
    import stellar_sdk

    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(), "aiohttp": aiohttp.__version__,
            "stellar_sdk": stellar_sdk.__version__, "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sandbox_capacity", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller loads (about a minute)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON report (default {DEFAULT_OUT})")
    parser.add_argument("--stream-client", nargs=3, metavar=("URL", "SUBSCRIBERS", "EVENTS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stream_client:  # the subscribers' side of the streams figure, in its own process
        url, subscribers, events = args.stream_client
        _stream_client(url, int(subscribers), int(events))
        return 0
    quick = args.quick
    started = time.time()
    given = argv if argv is not None else sys.argv[1:]
    command = " ".join([".venv/bin/python -m benchmarks.sandbox_capacity", *given])
    report: Record = {"benchmark": "sandbox_capacity", "quick": quick, "command": command, "machine": machine(),
                      "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"), "targets": TARGETS}
    print("submissions over HTTP ...", flush=True)
    report["submissions"] = asyncio.run(bench_submissions(1000 if quick else 3000, concurrency=16))
    print("applying operations in-process ...", flush=True)
    report["apply"] = bench_apply(1000 if quick else 2000)
    print("streaming to subscribers ...", flush=True)
    report["streams"] = asyncio.run(bench_streams(500 if quick else 1000, rounds=2 if quick else 4,
                                                  subscribers=10))
    print("market activity at 1,000 events/s ...", flush=True)
    report["market"] = asyncio.run(bench_market(1000.0, 0.25, 2.0 if quick else 5.0))
    print("memory with a history cap ...", flush=True)
    report["memory"] = bench_memory(8_000 if quick else 40_000, caps=[1_000 if quick else 2_000, 100_000])
    figures = {
        "submissions_tx_per_s": report["submissions"]["accepted_tx_per_s"],
        "apply_ops_per_s": report["apply"]["apply_ops_per_s"],
        "stream_events_per_s": report["streams"]["stream_events_per_s"],
    }
    report["results"] = {name: {"value": value, "target": TARGETS[name], "pass": value >= TARGETS[name]}
                         for name, value in figures.items()}
    report["results"]["memory_bounded"] = {"value": report["memory"]["runs"][0]["rss_growth_second_half_mb"],
                                           "target": "levels off with a small cap",
                                           "pass": report["memory"]["bounded"]}
    report["seconds"] = round(time.time() - started, 1)
    print_table(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {args.out}")
    return 0 if all(r["pass"] for r in report["results"].values()) else 1


def print_table(report: Record) -> None:
    apply, streams, submissions = report["apply"], report["streams"], report["submissions"]
    rows = [
        ("transactions accepted (POST /transactions_async, HTTP)", f"{submissions['accepted_tx_per_s']:.0f} tx/s "
         f"at {submissions['server_cpu_share']:.0%} CPU", "500 tx/s",
         report["results"]["submissions_tx_per_s"]["pass"]),
        ("operations applied: payments (close_ledger)", f"{apply['payments']['ops_per_s']:.0f} ops/s", "2000 ops/s",
         apply["payments"]["ops_per_s"] >= TARGETS["apply_ops_per_s"]),
        ("operations applied: offers, crossing (close_ledger)", f"{apply['offers']['ops_per_s']:.0f} ops/s",
         "2000 ops/s", apply["offers"]["ops_per_s"] >= TARGETS["apply_ops_per_s"]),
        (f"events delivered to {streams['subscribers']} SSE subscribers", f"{streams['stream_events_per_s']:.0f} ev/s",
         "2000 ev/s", report["results"]["stream_events_per_s"]["pass"]),
    ]
    market = report["market"]
    rows.append((f"market activity, {market['requested_events_per_s']:.0f}/s requested "
                 f"({market['participants']} accounts)", f"{market['achieved_events_per_s']:.0f} ev/s at "
                 f"{market['server_cpu_share']:.0%} CPU", "(info)", None))
    for run in report["memory"]["runs"]:
        first, last = run["samples"][0]["rss_mb"], run["samples"][-1]["rss_mb"]
        rows.append((f"RSS, history cap {run['history_cap']:,}, {run['ops_applied']:,} ops",
                     f"{first:.0f} -> {last:.0f} MB (+{run['rss_growth_second_half_mb']} MB 2nd half)",
                     "bounded" if run is report["memory"]["runs"][0] else "(contrast)",
                     run["bounded"] if run is report["memory"]["runs"][0] else None))
    width = max(len(r[0]) for r in rows)
    print(f"\n{'figure':<{width}}  {'measured':>36}  {'target':>12}  verdict")
    for name, value, target, verdict in rows:
        mark = "" if verdict is None else ("PASS" if verdict else "FAIL")
        print(f"{name:<{width}}  {value:>36}  {target:>12}  {mark}")


if __name__ == "__main__":
    sys.exit(main())
