"""Our `test.isolated_asyncio_wrapper_test_case` keeps the contract Hummingbot's test base relies on."""
import asyncio
import threading
import unittest

from test.isolated_asyncio_wrapper_test_case import IsolatedAsyncioWrapperTestCase, async_to_sync


class TestWrapperLoopHandling(unittest.TestCase):
    def test_set_up_class_keeps_an_existing_loop(self):
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            IsolatedAsyncioWrapperTestCase.setUpClass()
            self.assertIs(loop, IsolatedAsyncioWrapperTestCase.main_event_loop)
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    def test_set_up_class_creates_a_loop_when_there_is_none(self):
        outcome = {}

        def in_thread():
            asyncio.set_event_loop(None)
            IsolatedAsyncioWrapperTestCase.setUpClass()
            outcome["same"] = asyncio.get_event_loop() is IsolatedAsyncioWrapperTestCase.main_event_loop
            IsolatedAsyncioWrapperTestCase.main_event_loop.close()

        thread = threading.Thread(target=in_thread)
        thread.start()
        thread.join()
        self.assertTrue(outcome["same"])

    def test_tear_down_class_restores_the_main_loop(self):
        loop = asyncio.new_event_loop()
        IsolatedAsyncioWrapperTestCase.main_event_loop = loop
        try:
            IsolatedAsyncioWrapperTestCase.tearDownClass()
            self.assertIs(loop, asyncio.get_event_loop())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


class TestAwaitTaskCompletion(unittest.IsolatedAsyncioTestCase):
    async def _short(self):
        await asyncio.sleep(0.01)

    async def _long(self):
        await asyncio.sleep(0.5)

    async def test_waits_only_for_the_named_coroutines(self):
        short = asyncio.create_task(self._short())
        long = asyncio.create_task(self._long())
        await IsolatedAsyncioWrapperTestCase.await_task_completion("_short")
        self.assertTrue(short.done())
        self.assertFalse(long.done())
        long.cancel()


class TestAsyncToSync(unittest.TestCase):
    @async_to_sync
    async def add(self, a, b):
        await asyncio.sleep(0)
        return a + b

    @async_to_sync
    async def fail(self):
        raise ValueError("boom")

    def test_returns_the_result_and_keeps_the_callers_loop(self):
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            self.assertEqual(3, self.add(1, 2))
            with self.assertRaises(ValueError):
                self.fail()
            self.assertIs(loop, asyncio.get_event_loop())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
