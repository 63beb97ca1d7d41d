"""Helpers for the integration tests: building, signing and submitting through stellar-sdk."""
from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable

import aiohttp
from stellar_sdk import Keypair, ServerAsync, TransactionBuilder, TransactionEnvelope
from stellar_sdk import xdr as stellar_xdr
from stellar_sdk.exceptions import BaseHorizonError
from stellar_sdk.operation import Operation


async def build(server: ServerAsync, passphrase: str, source: Keypair, operations: Iterable[Operation],
                signers: Iterable[Keypair] = (), base_fee: int = 100, sequence_offset: int = 0,
                time_bounds: tuple[int, int] = (0, 0)) -> TransactionEnvelope:
    """A signed envelope from `source` (sequence loaded over HTTP, as a client does)."""
    account = await server.load_account(source.public_key)
    account.sequence += sequence_offset
    builder = TransactionBuilder(account, passphrase, base_fee=base_fee).add_time_bounds(*time_bounds)
    for operation in operations:
        builder.append_operation(operation)
    envelope = builder.build()
    for keypair in (source, *signers):
        envelope.sign(keypair)
    return envelope


async def submit(server: ServerAsync, passphrase: str, source: Keypair, operations: Iterable[Operation],
                 **options) -> dict:
    envelope = await build(server, passphrase, source, operations, **options)
    return await server.submit_transaction(envelope, skip_memo_required_check=True)


async def expect_failure(server: ServerAsync, passphrase: str, source: Keypair, operations: Iterable[Operation],
                         **options) -> BaseHorizonError:
    envelope = await build(server, passphrase, source, operations, **options)
    try:
        await server.submit_transaction(envelope, skip_memo_required_check=True)
    except BaseHorizonError as error:
        return error
    raise AssertionError("the transaction was expected to fail")


def operation_results(result_xdr: str) -> list[stellar_xdr.OperationResult]:
    return stellar_xdr.TransactionResult.from_xdr(result_xdr).result.results


async def read_sse(response: aiohttp.ClientResponse, count: int,
                   timeout: float = 10.0) -> list[tuple[str | None, dict | str]]:
    """The next `count` data events of an SSE response as (id, decoded data); skips comments and hello."""
    return await asyncio.wait_for(_read_sse(response, count), timeout)


async def next_event(stream, timeout: float = 10.0) -> dict:
    """The next record of a stellar-sdk stream, failing fast instead of hanging."""
    return await asyncio.wait_for(anext(stream), timeout)


async def _read_sse(response: aiohttp.ClientResponse, count: int) -> list[tuple[str | None, dict | str]]:
    events: list[tuple[str | None, dict | str]] = []
    event_id, data = None, None
    while len(events) < count:
        raw = await response.content.readline()
        if not raw and response.content.at_eof():  # ended: fail now instead of spinning on empty reads
            raise EOFError(f"the stream ended after {len(events)} of {count} events")
        line = raw.decode().rstrip("\n")
        if line.startswith(":"):
            continue
        if line == "":
            if data is not None and data != '"hello"':
                events.append((event_id, json.loads(data)))
            event_id, data = None, None
            continue
        field, _, value = line.partition(": ")
        if field == "id":
            event_id = value
        elif field == "data":
            data = value
    return events


async def get_json(url: str, **query: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.get(url, params=query) as response:
        return response.status, await response.json(content_type=None)
