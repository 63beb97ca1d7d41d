"""Fixtures every test shares."""
import asyncio
import gc
import sys
import threading
import types

import pytest
from hummingbot.core.web_assistant.connections.connections_factory import ConnectionsFactory


@pytest.fixture(autouse=True)
def fresh_hummingbot_connections_factory():
    # Hummingbot's ConnectionsFactory is a process-wide singleton that keeps one aiohttp session,
    # bound to the event loop of the test that first used it; each test gets its own.
    ConnectionsFactory._instance = None
    yield
    ConnectionsFactory._instance = None


@pytest.fixture
async def closed_shared_session():
    """Closes the aiohttp session that Hummingbot's ConnectionsFactory shares, on the test's own loop,
    before the loop goes away (the factory itself is fresh: see above). Async, so a module asks for it:
    `pytest.mark.usefixtures(...)`."""
    yield
    await ConnectionsFactory().close()


def _dump_pending_tasks(nodeid: str) -> None:
    """What every unfinished asyncio task awaits, down the chain of awaited coroutines and async generators:
    pytest-timeout shows only the main thread idling in the event loop's select()."""
    tasks = [o for o in gc.get_objects() if isinstance(o, asyncio.Task) and not o.done()]
    generators = [o for o in gc.get_objects() if isinstance(o, types.AsyncGeneratorType) and o.ag_frame is not None]
    print(f"\n=== {nodeid}: {len(tasks)} unfinished asyncio tasks near the timeout ===", file=sys.stderr)
    for task in tasks:
        print(f"--- {task!r}", file=sys.stderr)
        _print_await_chain(task.get_coro())
    print(f"=== {len(generators)} suspended async generators ===", file=sys.stderr)
    for generator in generators[:50]:
        _print_await_chain(generator)


def _print_await_chain(awaitable) -> None:
    for _ in range(20):
        frame = getattr(awaitable, "cr_frame", None) or getattr(awaitable, "ag_frame", None)
        if frame is None:
            print(f"    awaits {awaitable!r}", file=sys.stderr)
            return
        print(f"    {frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}", file=sys.stderr)
        awaitable = getattr(awaitable, "cr_await", None) or getattr(awaitable, "ag_await", None)
        if awaitable is None:
            return


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    timeout = float(item.config.getini("timeout") or 0)
    watchdog = None
    if timeout > 30:
        watchdog = threading.Timer(timeout - 15, _dump_pending_tasks, args=(item.nodeid,))
        watchdog.daemon = True
        watchdog.start()
    try:
        yield
    finally:
        if watchdog is not None:
            watchdog.cancel()
