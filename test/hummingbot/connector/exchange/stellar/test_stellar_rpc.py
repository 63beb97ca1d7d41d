"""The optional Stellar RPC client against the embedded sandbox's JSON-RPC endpoint, over real HTTP."""
import pytest
from stellar_sdk import Keypair

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from hummingbot.connector.exchange.stellar import stellar_web_utils as web_utils
from hummingbot.connector.exchange.stellar.stellar_exchange import StellarExchange
from hummingbot.connector.exchange.stellar.stellar_rpc import StellarRpc, StellarRpcError
from stellar_sandbox import Sandbox

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("closed_shared_session")]


class ListRecorder:
    def __init__(self):
        self.points = []

    def add(self, point, duration_ns):
        self.points.append(point)

    def incr(self, point, n):
        pass


@pytest.fixture(autouse=True)
def no_recorder_left_installed():
    yield
    measurement.uninstall()


@pytest.fixture
async def net():
    async with Sandbox(ledger_interval=None) as sandbox:
        yield sandbox


def rpc_for(url: str) -> StellarRpc:
    throttler = web_utils.create_throttler(CONSTANTS.build_rate_limits(CONSTANTS.LOCAL_HORIZON_REQUESTS_PER_HOUR))
    return StellarRpc(web_utils.build_api_factory(throttler), url)


async def test_calls_return_results_and_are_measured_by_method(net):
    recorder = ListRecorder()
    measurement.install(recorder)
    rpc = rpc_for(net.horizon_url + "/rpc")
    await net.close_ledger()

    health = await rpc.health()
    network = await rpc.call("getNetwork")

    assert health["status"] == "healthy"
    assert health["latestLedger"] == int(net.network.latest_ledger["sequence"])
    assert network["passphrase"] == net.passphrase
    assert recorder.points == ["rpc.getHealth", "rpc.getNetwork"]


async def test_an_unknown_method_is_a_clear_error(net):
    with pytest.raises(StellarRpcError, match="getNothing"):
        await rpc_for(net.horizon_url + "/rpc").call("getNothing")


async def test_the_exchange_reports_the_rpcs_health_and_an_unreachable_one(net):
    def exchange(rpc_url):
        return StellarExchange(stellar_secret_key=Keypair.random().secret, stellar_horizon_url=net.horizon_url,
                               stellar_network_passphrase=net.passphrase, stellar_rpc_url=rpc_url,
                               trading_pairs=["XLM-USDC"], trading_required=False)

    healthy = exchange(net.horizon_url + "/rpc")
    await healthy._horizons.check_rpc_health()
    assert healthy.rpc_health["status"] == "healthy"

    unreachable = exchange(net.horizon_url + "/no-rpc-here")
    await unreachable._horizons.check_rpc_health()
    assert unreachable.rpc_health["status"] == "unreachable"

    without = exchange(None)
    await without._horizons.check_rpc_health()
    assert without.rpc_health is None
