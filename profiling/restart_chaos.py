"""Load test 7, `restart`: pure market making against the sandbox while the bot process is killed with SIGKILL
mid-run (offers on the book; with more kills, creates or cancels in flight) and started again on the same Hummingbot
state, the market going on meanwhile.

    python -m profiling loadtest --scenario restart                      # 60 s of trading, one kill (~1.5 min)
    python -m profiling loadtest --scenario restart --full               # 300 s, a kill every 60 s (~6 min)
    python -m profiling loadtest --scenario restart --without-recovery   # the negative control: must FAIL

The strategy's time is split into equal segments, one bot process each (`profiling.process_chaos.ChaosHarness`).
At the end of a segment the scenario waits up to `Restart.kill_wait_s` for the moment it aims at (kill after kill:
offers resting and nothing in flight, a create in flight, offers resting and a transaction in flight), else for
an offer resting, then kills it. The next bot restores the orders Hummingbot's MarketsRecorder saved
(`stellar_restart` config in `trades.sqlite`) before its clock starts, and the connector's crash recovery settles
them and every offer nobody knows (`stellar_unknown_offers`, cancel by default). After the last segment the
market stops and the last bot stops in order.

The verdict compares the ledger's records with what the bots reported (`profiling.ledger_audit`): no order lost
or duplicated, no fill missed or duplicated, balances equal to the ledger's, no offer left unknown, REST reads in
steady state within the budget; and the restart's own: each kill hit a bot with offers on the book, each new bot
settled them before it traded. `--without-recovery` restarts without the saved state and with the connector's
recovery switched off: the offers and orders of the killed bot are left behind, and the verdict must say so.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Optional

from .load_scenarios import LoadScenario, Restart
from .process_chaos import REPORT, ChaosHarness, ChaosResult, Evidence, Segment, write_result
from .verdicts import Check

KILL_POLL_S = 0.02
IN_FLIGHT = "offers resting, a transaction in flight"
CREATING = "a create in flight"
RESTING = "offers resting, nothing in flight"
NOTHING = "no offer resting"


async def run_restart_scenario(scenario: LoadScenario, output: Path, *, duration: float,
                               restart: Optional[Restart] = None, progress: bool = False) -> ChaosResult:
    restart = restart or scenario.restart or Restart()
    kills = restart.kills(duration)
    segment_s = duration / (kills + 1)
    output = Path(output)
    began = time.monotonic()
    moments: List[Dict[str, Any]] = []
    async with ChaosHarness(output, progress=progress) as harness:
        segment = await harness.start_bot()
        for kill in range(kills):
            await harness.trade(segment, segment_s)
            target = restart.kill_targets[kill % len(restart.kill_targets)]
            moments.append(await _kill_at(harness, segment, target, restart.kill_wait_s))
            segment = await harness.start_bot(restore=restart.recovery, recovery=restart.recovery,
                                              unknown_offers=restart.unknown_offers)
        await harness.trade(segment, segment_s)
        await harness.finish(segment)
        evidence = await harness.evidence()
        checks = harness.common_checks(evidence) + restart_checks(harness.segments, moments, evidence)
        figures = {"wall_clock_s": round(time.monotonic() - began, 1), "kills": len(moments),
                   "kill_moments": [m["kind"] for m in moments], **harness.figures(evidence)}
    result = ChaosResult(scenario, duration, checks, figures, output / REPORT, details={
        "restart": {"kills": kills, "segment_s": segment_s, "unknown_offers": restart.unknown_offers,
                    "recovery": restart.recovery, "kill_moments": moments},
        "bots": [s.summary() for s in harness.segments],
        "explained": evidence.accounting.explained,
        "ledger": {"offer_creates": len(evidence.history.creates), "trades": len(evidence.history.trades),
                   "offers_after": evidence.offers_after}})
    write_result(result, _notes(restart, moments, harness.segments))
    return result


async def _kill_at(harness: ChaosHarness, segment: Segment, target: str, wait_s: float) -> Dict[str, Any]:
    """Kill at the first moment the bot reports what `target` aims at (see `Restart.kill_targets`); after `wait_s`,
    at the first with an offer resting; after twice that, at once."""
    bot = segment.bot
    started = time.monotonic()
    while True:
        state = bot.last("orders") or {}
        resting = len(state.get("resting") or [])
        creating = len(state.get("creating") or [])
        in_flight = int(state.get("transactions") or 0)
        waited = time.monotonic() - started
        kind = (CREATING if creating else IN_FLIGHT if resting and in_flight else RESTING if resting else NOTHING)
        aimed = kind == {"creating": CREATING, "busy": IN_FLIGHT}.get(target, RESTING)
        if aimed or (kind in (IN_FLIGHT, RESTING) and waited >= wait_s) or waited >= 2 * wait_s:
            break
        await asyncio.sleep(KILL_POLL_S)
    await harness.kill(segment)
    moment = {"bot": bot.label, "aimed_at": target, "kind": kind, "waited_s": round(waited, 2), "resting": resting,
              "creating": creating, "transactions": in_flight}
    harness.say(f"killed {bot.label} with {kind}: {moment}")
    return moment


def restart_checks(segments: List[Segment], moments: List[Dict[str, Any]], evidence: Evidence) -> List[Check]:
    killed = [s for s in segments if s.ended_by == "kill"]
    restarted = segments[1:]
    reports = [s.bot.last("ready") or {} for s in restarted]
    settled = [r for r in reports if (r.get("status") or {}).get("offers_recovered")]
    by_kill = [f"{m['bot']}: {m['resting']} offer(s) resting, {m['creating']} create(s) unsettled, "
               f"{m['transactions']} transaction(s) in flight"
               for m in moments]
    return [
        Check("killed mid-run", "each kill (SIGKILL) hit a bot with offers on the book or a create in flight, "
              "and ended it", "; ".join(by_kill) + f"; exits {[s.bot.returncode for s in killed]}",
              bool(moments) and all(m["kind"] != NOTHING for m in moments)
              and all(s.bot.returncode == -9 for s in killed)),
        Check("recovered before trading", "each restarted bot reported ready only with its start-up recovery "
              "done (status offers_recovered)", f"{len(settled)} of {len(restarted)}: " + "; ".join(
                  _recovery_text(r.get("recovery")) for r in reports),
              len(settled) == len(restarted) > 0),
    ]


def _recovery_text(report: Optional[Dict[str, Any]]) -> str:
    if not report:
        return "no report"
    return (f"known {len(report.get('known') or [])}, adopted {len(report.get('adopted') or [])}, cancelled "
            f"{len(report.get('cancelled') or [])}, not cancelled {len(report.get('not_cancelled') or [])}, "
            f"restored without offer id {len(report.get('failed_orders') or [])}")


def _notes(restart: Restart, moments: List[Dict[str, Any]], segments: List[Segment]) -> List[str]:
    bots = ", ".join(f"{s.label} pid {s.bot.pid} ({s.ended_by}, exit {s.bot.returncode})" for s in segments)
    notes = [f"Bots: {bots}; beside this report: each bot's log (<label>.log) and journal (<label>.journal.jsonl), "
             "the sandbox's log (sandbox.log), Hummingbot's trade database (trades.sqlite).",
             f"Unknown offers at a restart: {restart.unknown_offers} (the connector's `stellar_unknown_offers`)."]
    if not restart.recovery:
        notes.append("Negative control (--without-recovery): each restarted bot started without Hummingbot's saved "
                     "state and with the connector's start-up recovery switched off; the verdict is expected to "
                     "FAIL.")
    notes.append("Fills of an offer no order held (a create in flight at the kill, found unknown at the restart) "
                 "cannot be reported by any order; they are counted apart (loadtest.json: `explained`), not as "
                 "missed.")
    return notes


def without_recovery(restart: Restart) -> Restart:
    return replace(restart, recovery=False)
