"""The test base class that Hummingbot's connector test support imports.

Hummingbot's own repository keeps this module in its `test/` folder, which its sdist does not
ship; `hummingbot.connector.test_support.exchange_connector_test` imports it as
`test.isolated_asyncio_wrapper_test_case`. This is our implementation of the same contract:

- `IsolatedAsyncioWrapperTestCase`: an `unittest.IsolatedAsyncioTestCase` that remembers the
  event loop that was current before the class ran (creating one if there was none) and makes
  it current again afterwards, because `IsolatedAsyncioTestCase` closes its own loop and leaves
  none behind, which breaks code that later calls `asyncio.get_event_loop()`.
- `await_task_completion(names)`: wait for the running tasks whose coroutine has one of the names.
- `async_to_sync`: run a coroutine function to completion on a private loop from sync code,
  leaving the caller's current loop untouched.
"""
import asyncio
import functools
import unittest
from typing import Any, Awaitable, Callable, Iterable, Optional, TypeVar, Union

T = TypeVar("T")


def _current_loop_or_none() -> Optional[asyncio.AbstractEventLoop]:
    try:
        return asyncio.get_event_loop()
    except RuntimeError:
        return None


class IsolatedAsyncioWrapperTestCase(unittest.IsolatedAsyncioTestCase):
    main_event_loop: Optional[asyncio.AbstractEventLoop] = None

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        loop = _current_loop_or_none()
        if loop is None or loop.is_closed():
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
        cls.main_event_loop = loop

    @classmethod
    def tearDownClass(cls) -> None:
        loop = cls.main_event_loop
        if loop is None or loop.is_closed():
            loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        cls.main_event_loop = loop
        super().tearDownClass()

    @staticmethod
    async def await_task_completion(coroutine_names: Union[str, Iterable[str]]) -> None:
        """Wait until every task running a coroutine with one of these names has finished."""
        names = {coroutine_names} if isinstance(coroutine_names, str) else set(coroutine_names)
        current = asyncio.current_task()
        pending = [
            task for task in asyncio.all_tasks()
            if task is not current and task.get_coro().__name__ in names
        ]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


def async_to_sync(func: Callable[..., Awaitable[T]]) -> Callable[..., T]:
    """Decorator: call an async function synchronously on a fresh loop, then restore the caller's loop."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        previous = _current_loop_or_none()
        loop = asyncio.new_event_loop()
        try:
            asyncio.set_event_loop(loop)
            return loop.run_until_complete(func(*args, **kwargs))
        finally:
            loop.close()
            asyncio.set_event_loop(previous)

    return wrapper
