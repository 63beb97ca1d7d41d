"""A minimal Stellar RPC (JSON-RPC 2.0): getHealth, getNetwork, getLatestLedger, getFeeStats.

Field names and encodings follow stellar-rpc (e.g. `closeTime` and fee statistics as strings,
`ledgerCount` as a number) so stellar-sdk's `SorobanServer` models parse the answers. Requests may be
batched (a JSON array), as JSON-RPC allows.
"""
from __future__ import annotations

import json
from calendar import timegm
from collections.abc import Callable
from time import strptime
from typing import Any

from aiohttp import web

from stellar_sandbox.horizon.fee_stats import rpc_inclusion_fee

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
FEE_STATS_LEDGERS = 10  # stellar-rpc's default classic fee-stats window

Record = dict[str, Any]


def _unix_time(iso: str) -> int:
    return timegm(strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


class StellarRpc:
    """JSON-RPC methods over a `Network` (read only)."""

    def __init__(self, network: Any, friendbot_url: str | None = None) -> None:
        self.network = network
        self.friendbot_url = friendbot_url
        self.methods: dict[str, Callable[[Any], Record]] = {
            "getHealth": self.get_health,
            "getNetwork": self.get_network,
            "getLatestLedger": self.get_latest_ledger,
            "getFeeStats": self.get_fee_stats,
        }

    def _oldest_ledger(self) -> int:
        oldest_key = self.network.history.ledgers.oldest_key
        latest = int(self.network.latest_ledger["sequence"])
        return latest if oldest_key is None else oldest_key >> 32

    def get_health(self, _params: Any) -> Record:
        latest = int(self.network.latest_ledger["sequence"])
        oldest = self._oldest_ledger()
        return {"status": "healthy", "latestLedger": latest, "oldestLedger": oldest,
                "ledgerRetentionWindow": latest - oldest + 1}

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
        ledger = self.network.latest_ledger
        latest = int(ledger["sequence"])
        first = max(self._oldest_ledger(), latest - FEE_STATS_LEDGERS + 1)
        transactions: list[Record] = []
        for sequence in range(first, latest + 1):
            transactions.extend(self.network.history.transactions_page(
                None, "asc", 200, ledger=sequence, include_failed=True))
        base_fee = int(ledger.get("base_fee_in_stroops", 100))
        ledger_count = latest - first + 1
        return {
            "sorobanInclusionFee": rpc_inclusion_fee(base_fee, [], ledger_count),
            "inclusionFee": rpc_inclusion_fee(base_fee, transactions, ledger_count),
            "latestLedger": latest,
        }

    def call(self, request: Any) -> Record | None:
        """Answer one JSON-RPC request object (None for a notification, which gets no answer)."""
        if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" or not isinstance(
                request.get("method"), str):
            return _error(None, INVALID_REQUEST, "invalid request")
        request_id = request.get("id")
        method = self.methods.get(request["method"])
        if method is None:
            return _error(request_id, METHOD_NOT_FOUND, "method not found")
        result = method(request.get("params"))
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
