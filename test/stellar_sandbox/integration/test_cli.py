"""`python -m stellar_sandbox serve` prints its URL and passphrase, serves Horizon, stops on SIGINT."""
from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

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
