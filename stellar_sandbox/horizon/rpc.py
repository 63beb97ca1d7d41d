"""Stellar RPC (JSON-RPC 2.0): getHealth, getNetwork, getLatestLedger, getFeeStats, sendTransaction,
getTransaction.

Field names and encodings follow stellar-rpc (`cmd/stellar-rpc/internal/methods`, protocol types
of go-stellar-sdk `protocols/rpc`): close times as strings where stellar-rpc tags them `,string`,
fee statistics as strings, `ledgerCount` as a number, so stellar-sdk's `SorobanServer` models
parse the answers. Parameters are by name (an object), as stellar-rpc requires; requests may be
batched (a JSON array). The RPC reads the frontend's view of the network (what its own ingestion
has reached) and submits to the shared network, like stellar-rpc submitting to its core:

- sendTransaction: `{"status": PENDING|DUPLICATE|TRY_AGAIN_LATER|ERROR, "hash", "latestLedger",
  "latestLedgerCloseTime"}`, plus `errorResultXdr` (a TransactionResult) for ERROR; an envelope that
  does not decode is the JSON-RPC error -32602 `invalid_xdr`.
- getTransaction: `{"status": SUCCESS|FAILED|NOT_FOUND, "txHash", "latestLedger",
  "latestLedgerCloseTime", "oldestLedger", "oldestLedgerCloseTime", "applicationOrder", "feeBump",
  "ledger", "createdAt", "events"}` and, once found, `envelopeXdr`, `resultXdr`, `resultMetaXdr`.
  A pending transaction is NOT_FOUND (stellar-rpc knows only ingested ledgers).
"""
from __future__ import annotations

import json
from calendar import timegm
from collections.abc import Callable
from time import strptime, time
from typing import Any

from aiohttp import web

from stellar_sandbox.horizon.fee_stats import rpc_inclusion_fee

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
FEE_STATS_LEDGERS = 10  # stellar-rpc's default classic fee-stats window
MAX_HEALTHY_LEDGER_LATENCY = 30.0  # s, stellar-rpc's default --max-healthy-ledger-latency

Record = dict[str, Any]


class RpcError(Exception):
    """A JSON-RPC error answer."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _unix_time(iso: str) -> int:
    return timegm(strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


def _named_params(params: Any, *required: str) -> Record:
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise RpcError(INVALID_PARAMS, "invalid parameters: expected an object of named parameters")
    for name in required:
        if not isinstance(params.get(name), str):
            raise RpcError(INVALID_PARAMS, f"missing or invalid parameter {name!r}")
    return params


class StellarRpc:
    """JSON-RPC methods over a network view (what the frontend has ingested) and its network."""

    def __init__(self, network: Any, friendbot_url: str | None = None,
                 max_healthy_latency: float | None = MAX_HEALTHY_LEDGER_LATENCY,
                 clock: Callable[[], float] | None = None) -> None:
        self.network = network
        self.friendbot_url = friendbot_url
        self.max_healthy_latency = max_healthy_latency  # None: always healthy
        self.clock = clock or getattr(network, "clock", time)
        self.methods: dict[str, Callable[[Any], Record]] = {
            "getHealth": self.get_health,
            "getNetwork": self.get_network,
            "getLatestLedger": self.get_latest_ledger,
            "getFeeStats": self.get_fee_stats,
            "sendTransaction": self.send_transaction,
            "getTransaction": self.get_transaction,
        }

    # ----- the ledger range this RPC has -----

    def _range(self) -> tuple[Record, Record]:
        """(oldest, latest) ledger records this RPC serves."""
        latest = self.network.latest_ledger
        oldest_key = self.network.history.ledgers.oldest_key
        oldest = None if oldest_key is None else self.network.history.ledger(oldest_key >> 32)
        return oldest or latest, latest

    def get_health(self, _params: Any) -> Record:
        oldest, latest = self._range()
        close_time = _unix_time(latest["closed_at"])
        latency = self.clock() - close_time
        if self.max_healthy_latency is not None and latency > self.max_healthy_latency:
            raise RpcError(INTERNAL_ERROR, f"latency ({round(latency)}s) since last known ledger closed is too "
                                           f"high (>{self.max_healthy_latency:g}s)")
        return {"status": "healthy", "latestLedger": int(latest["sequence"]), "latestLedgerCloseTime": close_time,
                "oldestLedger": int(oldest["sequence"]),
                "ledgerRetentionWindow": int(latest["sequence"]) - int(oldest["sequence"]) + 1}

    def get_network(self, _params: Any) -> Record:
        result: Record = {"passphrase": self.network.passphrase,
                          "protocolVersion": int(self.network.latest_ledger["protocol_version"])}
        if self.friendbot_url:
            result["friendbotUrl"] = self.friendbot_url
        return result

    def get_latest_ledger(self, _params: Any) -> Record:
        ledger = self.network.latest_ledger
        return {
            "id": ledger["hash"],
            "protocolVersion": int(ledger["protocol_version"]),
            "sequence": int(ledger["sequence"]),
            "closeTime": str(_unix_time(ledger["closed_at"])),
            "headerXdr": ledger.get("header_xdr", ""),
            "metadataXdr": "",  # no LedgerCloseMeta is kept
        }

    def get_fee_stats(self, _params: Any) -> Record:
        oldest, ledger = self._range()
        latest = int(ledger["sequence"])
        first = max(int(oldest["sequence"]), latest - FEE_STATS_LEDGERS + 1)
        charged, _offered, _ops = self.network.fee_samples(first, latest)
        base_fee = int(ledger.get("base_fee_in_stroops", 100))
        ledger_count = latest - first + 1
        return {
            "sorobanInclusionFee": rpc_inclusion_fee(base_fee, [], ledger_count),
            "inclusionFee": rpc_inclusion_fee(base_fee, charged, ledger_count),
            "latestLedger": latest,
        }

    # ----- transactions -----

    def send_transaction(self, params: Any) -> Record:
        envelope_xdr = _named_params(params, "transaction")["transaction"]
        try:
            outcome = self.network.submit(envelope_xdr)
        except ValueError:  # does not decode
            raise RpcError(INVALID_PARAMS, "invalid_xdr") from None
        latest = self.network.latest_ledger
        result: Record = {"status": outcome.status, "hash": outcome.hash, "latestLedger": int(latest["sequence"]),
                          "latestLedgerCloseTime": str(_unix_time(latest["closed_at"]))}
        if outcome.status == "ERROR":
            result["errorResultXdr"] = outcome.error_result_xdr
        return result

    def get_transaction(self, params: Any) -> Record:
        tx_hash = _named_params(params, "hash")["hash"]
        if len(tx_hash) != 64:
            raise RpcError(INVALID_PARAMS, f"unexpected hash length ({len(tx_hash)})")
        try:
            bytes.fromhex(tx_hash)
        except ValueError as exc:
            raise RpcError(INVALID_PARAMS, f"incorrect hash: {exc}") from None
        record = self.network.transaction(tx_hash.lower())
        oldest, latest = self._range()
        result: Record = {
            "latestLedger": int(latest["sequence"]),
            "latestLedgerCloseTime": str(_unix_time(latest["closed_at"])),
            "oldestLedger": int(oldest["sequence"]),
            "oldestLedgerCloseTime": str(_unix_time(oldest["closed_at"])),
            "status": "NOT_FOUND",
            "txHash": tx_hash,
            "applicationOrder": 0,
            "feeBump": False,
            "events": {},
            "ledger": 0,
            "createdAt": "0",
        }
        if record is None:
            return result
        result.update({
            "status": "SUCCESS" if record["successful"] else "FAILED",
            "applicationOrder": (int(record["paging_token"]) >> 12) & 0xFFFFF,
            "feeBump": "fee_bump_transaction" in record,
            "envelopeXdr": record["envelope_xdr"],
            "resultXdr": record["result_xdr"],
            "resultMetaXdr": record["result_meta_xdr"],
            "ledger": int(record["ledger"]),
            "createdAt": str(_unix_time(record["created_at"])),
        })
        return result

    # ----- JSON-RPC -----

    def call(self, request: Any) -> Record | None:
        """Answer one JSON-RPC request object (None for a notification, which gets no answer)."""
        if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" or not isinstance(
                request.get("method"), str):
            return _error(None, INVALID_REQUEST, "invalid request")
        request_id = request.get("id")
        method = self.methods.get(request["method"])
        if method is None:
            return _error(request_id, METHOD_NOT_FOUND, "method not found")
        try:
            result = method(request.get("params"))
        except RpcError as error:
            return _error(request_id, error.code, error.message) if "id" in request else None
        if "id" not in request:
            return None
        return {"jsonrpc": "2.0", "id": request_id, "result": result}

    async def handle(self, http_request: web.Request) -> web.Response:
        try:
            body = json.loads(await http_request.read())
        except (ValueError, UnicodeDecodeError):
            return web.json_response(_error(None, PARSE_ERROR, "parse error"))
        if isinstance(body, list):
            if not body:
                return web.json_response(_error(None, INVALID_REQUEST, "invalid request"))
            answers = [answer for answer in map(self.call, body) if answer is not None]
            return web.json_response(answers) if answers else web.Response(status=204)
        answer = self.call(body)
        return web.json_response(answer) if answer is not None else web.Response(status=204)


def _error(request_id: Any, code: int, message: str) -> Record:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
