"""StellarRpc: the connector's JSON-RPC calls to a Stellar RPC server (`stellar_rpc_url`), optional.

Horizon carries all trading; the RPC, when configured, is asked for its health (`getHealth`) with
each status poll, so a user sees a lagging or unhealthy node, and profiling can set its latency
beside Horizon's. While every Horizon is failing it is the last resort for orders (HorizonPool):
`sendTransaction` and `getTransaction`, answered in the shapes of Horizon's `/transactions_async`
answer and transaction record, so the pipeline resolves a transaction the same way through either.
The network's fee figures come from Horizon's /fee_stats (`ConfigCache`), not from the RPC. Each
call is timed under `RPC_CALL_PREFIX + method` and rate limited under its own limit
(`stellar_constants.RPC_LIMIT_ID`), apart from Horizon's budget.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
from typing import Any, Dict, Optional, Tuple

from hummingbot.core.web_assistant.connections.data_types import RESTMethod, RESTRequest
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar import stellar_measurement as measurement

_JSON_HEADERS = {"Content-Type": "application/json"}
HEALTHY = "healthy"
IN_LEDGER = ("SUCCESS", "FAILED")      # getTransaction statuses of a transaction in a ledger
NOT_FOUND = "NOT_FOUND"
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

    # The last resort for orders (every Horizon failing)

    async def submit_transaction_async(self, envelope_xdr: str) -> Dict[str, Any]:
        """`sendTransaction`, answered as Horizon's /transactions_async answers: {"tx_status": PENDING | DUPLICATE |
        TRY_AGAIN_LATER | ERROR, "hash", and for ERROR "error_result_xdr" (a TransactionResult)}."""
        result = await self.call("sendTransaction", {"transaction": envelope_xdr})
        if not isinstance(result, dict) or not result.get("status"):
            raise StellarRpcError(f"Stellar RPC sendTransaction answered without a status: {str(result)[:200]}")
        body: Dict[str, Any] = {"tx_status": result["status"], "hash": result.get("hash")}
        if result.get("errorResultXdr"):
            body["error_result_xdr"] = result["errorResultXdr"]
        return body

    async def transaction_after(self, tx_hash: str, after: Optional[float] = None,
                                ) -> Tuple[float, Optional[Dict[str, Any]]]:
        """`getTransaction`, one call for both reads of the expiry rule: (close time of the RPC's latest ledger,
        the transaction as Horizon's record or None while the RPC has it in no ledger). With `after` (a max_time),
        a close time of 0 means the RPC cannot tell: its history starts too late to cover the transaction."""
        result = await self.call("getTransaction", {"hash": tx_hash})
        if not isinstance(result, dict):
            raise StellarRpcError(f"Stellar RPC getTransaction answered {str(result)[:200]}")
        latest_close = _number(result.get("latestLedgerCloseTime"))
        status = result.get("status")
        if status in IN_LEDGER:
            return latest_close, transaction_record(result, tx_hash)
        if status != NOT_FOUND:
            raise StellarRpcError(f"Stellar RPC getTransaction answered status {status!r}")
        # The pipeline's transactions are built TX_TIME_BOUND_SECONDS before their max_time: none applied earlier.
        if after is not None and _number(result.get("oldestLedgerCloseTime")) > after - CONSTANTS.TX_TIME_BOUND_SECONDS:
            return 0.0, None
        return latest_close, None


def transaction_record(result: Dict[str, Any], tx_hash: str) -> Dict[str, Any]:
    """A getTransaction answer (SUCCESS or FAILED) as the fields of Horizon's transaction record the pipeline
    reads. The paging token is Horizon's (the transaction's TOID: ledger << 32 | application order << 12), so
    fills and operation ids read from it are the ones Horizon's trades carry: they de-duplicate."""
    ledger = int(result.get("ledger") or 0)
    order = int(result.get("applicationOrder") or 0)
    return {
        "hash": result.get("txHash") or tx_hash,
        "ledger": ledger,
        "successful": result.get("status") == "SUCCESS",
        "result_xdr": result.get("resultXdr"),
        "envelope_xdr": result.get("envelopeXdr"),
        "paging_token": str((ledger << 32) | (order << 12)) if ledger and order else None,
    }


def _number(value: Any) -> float:
    """stellar-rpc writes close times as strings of epoch seconds."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
