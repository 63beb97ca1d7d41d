"""`python -m stellar_sandbox serve` prints its URL and passphrase, serves Horizon, stops on SIGINT."""
from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from test.stellar_sandbox.integration.support import get_json

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[3]


async def test_serve_prints_url_and_passphrase_and_stops_on_sigint():
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "stellar_sandbox", "serve", "--port", "0", "--ledger-interval", "0.1",
        cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE)
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        assert match and "Standalone Network ; February 2017" in line
        status, root = await get_json(match.group(1) + "/")
        assert status == 200 and root["network_passphrase"] == "Standalone Network ; February 2017"
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_serve_with_several_frontends_prints_every_url():
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "stellar_sandbox", "serve", "--port", "0", "--ledger-interval", "0.1",
        "--horizons", "3", "--rpcs", "1", "--surge-fee", "2000", cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE)
    try:
        lines = [(await asyncio.wait_for(process.stdout.readline(), 20)).decode() for _ in range(4)]
        horizons = [re.search(r"^Horizon (http://127\.0\.0\.1:\d+) \(Stellar RPC (\S+)\)", line) for line in lines[:3]]
        assert all(horizons) and "Standalone Network ; February 2017" in lines[0]
        rpc = re.search(r"^Stellar RPC (http://127\.0\.0\.1:\d+/rpc)", lines[3])
        assert rpc
        urls = [match.group(1) for match in horizons]
        assert len(set(urls)) == 3 and [match.group(2) for match in horizons] == [url + "/rpc" for url in urls]
        for url in urls:
            status, root = await get_json(url + "/")
            assert status == 200 and root["network_passphrase"] == "Standalone Network ; February 2017"
        status, fees = await get_json(urls[2] + "/_sandbox/fees")
        assert status == 200 and fees["surge_fee"] == 2000
        async with aiohttp.ClientSession() as session, session.post(
                rpc.group(1), json={"jsonrpc": "2.0", "id": 1, "method": "getNetwork"}) as response:
            assert (await response.json())["result"]["passphrase"] == "Standalone Network ; February 2017"
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
