import asyncio
import logging

from hummingbot.core.api_throttler.async_throttler import AsyncThrottler
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar.stellar_stream_group import StreamGroup


def group() -> StreamGroup:
    factory = WebAssistantsFactory(throttler=AsyncThrottler(rate_limits=[]))
    return StreamGroup(factory, CONSTANTS.DEFAULT_DOMAIN, "http://127.0.0.1:1", logging.getLogger("test.stream_group"),
                       backoff_base=0.001, backoff_cap=0.01)


async def test_a_listener_that_ends_is_not_started_again():
    # A listen ends without an error only once its stream was stopped: starting it again would open a stream
    # nobody stops (what a stop whose cancel got lost on the way would otherwise leave running).
    calls = []

    async def listen():
        calls.append("listened")
        await asyncio.sleep(0)

    task = group().run("XLM-USDC", "a test stream", listen)
    await asyncio.wait_for(task, 2.0)
    assert calls == ["listened"] and not task.cancelled()


async def test_a_listener_that_fails_is_started_again():
    calls = []

    async def listen():
        calls.append("listened")
        if len(calls) == 1:
            raise ValueError("a pair the instrument cache cannot resolve")

    task = group().run("XLM-USDC", "a test stream", listen)
    await asyncio.wait_for(task, 2.0)
    assert calls == ["listened", "listened"]


async def test_a_task_whose_cancel_was_lost_opens_no_stream():
    streams = group()

    async def listen():
        asyncio.current_task().cancel()
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            pass   # lost, as Python 3.11's wait_for may lose it in a REST read before the stream opens
        streams.open_stream("XLM-USDC", "/trades XLM-USDC", "/trades", None, "now")

    task = streams.run("XLM-USDC", "a test stream", listen)
    await asyncio.wait([task], timeout=2.0)
    assert task.cancelled() and streams.streams() == []
