"""Fixtures: a running Sandbox on loopback and stellar-sdk clients pointed at it."""
from __future__ import annotations

import pytest
from stellar_sdk import Server, ServerAsync
from stellar_sdk.client.aiohttp_client import AiohttpClient

from stellar_sandbox import Sandbox

pytestmark = pytest.mark.integration

FAST_LEDGERS = 0.05


@pytest.fixture
async def net():
    """A sandbox closing a ledger every 50 ms."""
    async with Sandbox(ledger_interval=FAST_LEDGERS, submission_timeout=5.0, stream_keep_alive=1.0) as sandbox:
        yield sandbox


@pytest.fixture
async def manual_net():
    """A sandbox that closes ledgers only on `await manual_net.close_ledger()`."""
    async with Sandbox(ledger_interval=None, submission_timeout=0.5, stream_keep_alive=1.0) as sandbox:
        yield sandbox


@pytest.fixture
async def server(net):
    async with ServerAsync(net.horizon_url, client=AiohttpClient()) as client:
        yield client


@pytest.fixture
def sync_server(net):
    """stellar-sdk's blocking Server; call it through `asyncio.to_thread`."""
    client = Server(net.horizon_url)
    yield client
    client.close()
