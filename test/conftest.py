"""Fixtures every test shares."""
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
