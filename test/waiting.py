"""The one way tests wait: on a condition, never on a fixed sleep."""
import asyncio
from typing import Any, Callable, Optional


async def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.01,
                     what: str = "condition", on_poll: Optional[Callable[[], Any]] = None) -> Any:
    """Poll `predicate` until it returns something truthy and return that; AssertionError naming
    `what` after `timeout` seconds. `on_poll` runs before each check (e.g. to tick a clock)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if on_poll is not None:
            on_poll()
        value = predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)
