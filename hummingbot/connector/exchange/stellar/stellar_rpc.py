"""StellarRpc: the connector's JSON-RPC calls to a Stellar RPC server (`stellar_rpc_url`), optional.

Horizon carries all trading; the RPC, when configured, is asked for its health (`getHealth`) with
each status poll, so a user sees a lagging or unhealthy node, and profiling can set its latency
beside Horizon's. The network's fee figures come from Horizon's /fee_stats (`ConfigCache`), not
from the RPC. Each call is timed under `RPC_CALL_PREFIX + method` and rate limited under its own
limit (`stellar_constants.RPC_LIMIT_ID`), apart from Horizon's budget.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
from typing import Any, Dict, Optional

from hummingbot.core.web_assistant.connections.data_types import RESTMethod, RESTRequest
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar import stellar_measurement as measurement

_JSON_HEADERS = {"Content-Type": "application/json"}
HEALTHY = "healthy"
_LOGGER = logging.getLogger(__name__)


class StellarRpcError(IOError):
    """The RPC answered with an HTTP error or a JSON-RPC error object."""


class StellarRpc:
    def __init__(self, api_factory: WebAssistantsFactory, rpc_url: str, request_timeout: float = 10.0):
        self._api_factory = api_factory
        self._url = rpc_url.rstrip("/")
        self._timeout = request_timeout
        self._ids = itertools.count(1)
        self.last_health: Optional[Dict[str, Any]] = None   # the last check_health answer

    @property
    def url(self) -> str:
        return self._url

    async def call(self, method: str, params: Optional[Dict[str, Any]] = None) -> Any:
        """The `result` of one JSON-RPC 2.0 call; StellarRpcError for an error answer."""
        payload: Dict[str, Any] = {"jsonrpc": "2.0", "id": next(self._ids), "method": method}
        if params is not None:
            payload["params"] = params
        rest = await self._api_factory.get_rest_assistant()
        request = RESTRequest(method=RESTMethod.POST, url=self._url, data=json.dumps(payload), headers=_JSON_HEADERS,
                              throttler_limit_id=CONSTANTS.RPC_LIMIT_ID)
        start = measurement.now()
        try:
            async with self._api_factory.throttler.execute_task(limit_id=CONSTANTS.RPC_LIMIT_ID):
                response = await rest.call(request=request, timeout=self._timeout)
                status = response.status
                try:
                    body = await response.json()
                except ValueError:
                    body = None
        finally:
            measurement.record(measurement.RPC_CALL_PREFIX + method, start)
        if status >= 400 or not isinstance(body, dict):
            raise StellarRpcError(f"Stellar RPC {method} answered HTTP {status}")
        error = body.get("error")
        if error is not None:
            message = error.get("message") if isinstance(error, dict) else error
            raise StellarRpcError(f"Stellar RPC {method} failed: {message}")
        return body.get("result")

    async def health(self) -> Dict[str, Any]:
        """`getHealth`: {"status": "healthy", "latestLedger": ..., ...}."""
        return await self.call("getHealth")

    async def check_health(self) -> Dict[str, Any]:
        """`getHealth`, kept as `last_health`; a failure is kept as {"status": "unreachable", "error": ...} and
        any status but healthy is logged as a warning, for trading goes through Horizon either way."""
        try:
            health = await self.health()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.last_health = {"status": "unreachable", "error": str(error)}
            _LOGGER.warning(f"The Stellar RPC at {self._url} did not answer getHealth: {error}")
            return self.last_health
        self.last_health = health if isinstance(health, dict) else {"status": str(health)}
        if self.last_health.get("status") != HEALTHY:
            _LOGGER.warning(f"The Stellar RPC at {self._url} reports {self.last_health.get('status')!r}.")
        return self.last_health
