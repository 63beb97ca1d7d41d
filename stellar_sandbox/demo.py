"""A ready-to-trade sandbox for a person: an issued asset, funded accounts that trust it, market activity on
XLM against it, and what to paste into Hummingbot (`python -m stellar_sandbox serve --demo`).

    async with Sandbox(ledger_interval=1) as net:
        demo = await prepare_demo(net, DemoSettings(asset_code="USDC", accounts=1))
        print(describe_demo(demo))

Everything goes through real transactions (see `Sandbox`). The secrets are the sandbox's throwaway
accounts: printed on purpose, they are worth nothing outside this process.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stellar_sdk import Asset

ASSET_CODE = re.compile(r"^[A-Za-z0-9]{1,12}$")


@dataclass(frozen=True)
class DemoSettings:
    asset_code: str = "USDC"
    accounts: int = 1
    xlm: str = "10000"  # lumens each account gets
    asset_amount: str = "1000"  # units of the asset each account gets
    market_rate: float = 2.0  # book events per second on XLM/asset by the sandbox's participants (0: none)
    market_mid: float = 0.1  # starting price of one XLM in the asset
    market_pool_depth: float | None = None  # XLM seeded into the XLM/asset liquidity pool (None: no pool)

    def check(self) -> None:
        if not ASSET_CODE.match(self.asset_code) or self.asset_code.upper() == "XLM":
            raise ValueError(f"the demo asset code must be 1 to 12 letters or digits, not XLM; got {self.asset_code!r}")
        if not 1 <= self.accounts <= 20:
            raise ValueError(f"demo accounts: 1 to 20, got {self.accounts}")
        if self.market_rate < 0 or not self.market_mid > 0:
            raise ValueError("the market rate must not be negative and the mid price must be positive")


async def prepare_demo(net: Any, settings: DemoSettings) -> dict[str, Any]:
    """Issue the asset, create and fund the accounts (trustline and asset included), start the market.

    Returns what a client needs: URLs, passphrase, the asset, the trading pair, the `stellar_markets` entry,
    and each account's keys (a JSON-ready dict, see `write_demo_file`)."""
    settings.check()
    asset = await net.issue_asset(settings.asset_code)
    accounts = []
    for _ in range(settings.accounts):
        keypair = await net.create_account(settings.xlm)
        await net.trust_and_fund(keypair, asset, settings.asset_amount)
        accounts.append({"public_key": keypair.public_key, "secret": keypair.secret,
                         "xlm": settings.xlm, settings.asset_code: settings.asset_amount})
    market: dict[str, Any] = {"running": False}
    if settings.market_rate:
        stats = await net.market.start(settings.market_rate, base=Asset.native(), counter=asset,
                                       mid=settings.market_mid, pool_depth=settings.market_pool_depth)
        market = {"running": True, "rate": settings.market_rate, "mid": settings.market_mid,
                  "participants": stats["participants"]}
    asset_entry = f"{asset.code}:{asset.issuer}"
    return {
        "horizon_url": net.horizon_url,
        "rpc_url": net.rpc_url,
        "passphrase": net.passphrase,
        "asset": asset_entry,
        "asset_code": asset.code,
        "issuer": asset.issuer,
        "trading_pair": f"XLM-{asset.code}",
        "stellar_markets": asset_entry,
        "accounts": accounts,
        "market": market,
    }


def describe_demo(demo: dict[str, Any]) -> str:
    """What a person reads: the accounts and the answers to Hummingbot's `connect stellar` prompts."""
    lines = [
        "",
        f"Demo network ready: asset {demo['asset_code']} issued by {demo['issuer']}",
        f"  Horizon URL:         {demo['horizon_url']}",
        f"  Network passphrase:  {demo['passphrase']}",
        f"  Trading pair:        {demo['trading_pair']}",
    ]
    market = demo["market"]
    if market["running"]:
        lines.append(f"  Market activity:     {market['rate']} book events/s on {demo['trading_pair']} around "
                     f"{market['mid']} by {market['participants']} sandbox accounts")
    lines.append("Funded accounts (sandbox only, worthless anywhere else):")
    for number, account in enumerate(demo["accounts"], start=1):
        lines.append(f"  {number}. {account['public_key']}  secret {account['secret']}  "
                     f"({account['xlm']} XLM, {account[demo['asset_code']]} {demo['asset_code']})")
    first = demo["accounts"][0]
    lines += [
        "In Hummingbot: `connect stellar`, then answer",
        f"  stellar_secret_key:          {first['secret']}",
        f"  stellar_markets:             {demo['stellar_markets']}",
        f"  stellar_horizon_url:         {demo['horizon_url']}",
        f"  stellar_network_passphrase:  {demo['passphrase']}",
        "  (the other questions: Enter keeps the default)",
        "",
    ]
    return "\n".join(lines)


def write_demo_file(path: Path, demo: dict[str, Any]) -> None:
    """The demo as JSON, readable by its owner only (it holds secrets), written whole or not at all."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as f:
        json.dump(demo, f, indent=2)
    os.replace(partial, path)
