"""Horizon's path finding (``/paths/strict-send``, ``/paths/strict-receive``) and asset list (``/assets``).

Parameters as Horizon's actions/path.go takes them: strict receive needs ``destination_asset_*`` and
``destination_amount`` plus exactly one of ``source_account`` (its trustlines and lumens, each path
within its balance) and ``source_assets`` (comma-separated canonical assets, at most 15); strict send
needs ``source_asset_*`` and ``source_amount`` plus exactly one of ``destination_account`` and
``destination_assets``. The answer is Horizon's page without links: ``{"_embedded": {"records": [...]}}``.
Amounts come from ``core.pathfinding``: exactly what a path payment would move now, book and pools.
"""
from __future__ import annotations

from typing import Any

from aiohttp import web

from stellar_sandbox.core.amounts import format_amount
from stellar_sandbox.core.asset_stats import asset_stats
from stellar_sandbox.core.assets import NATIVE, horizon_fields
from stellar_sandbox.core.pathfinding import FoundPath, strict_receive_paths, strict_send_paths
from stellar_sandbox.core.pools import is_pool_share
from stellar_sandbox.horizon import errors, params, resources
from stellar_sandbox.horizon.paging import page_by_token, parse_string_page_query

MAX_ASSETS_PER_REQUEST = 15  # Horizon's --max-assets-per-path-request default
_SOURCE_EITHER = ("The request requires either a list of source assets or a source account. "
                  "Both fields cannot be present.")
_DESTINATION_EITHER = ("The request requires either a list of destination assets or a destination account. "
                       "Both fields cannot be present.")


def path_record(path: FoundPath) -> dict[str, Any]:
    record: dict[str, Any] = dict(horizon_fields(path.source_asset, "source_"))
    record["source_amount"] = format_amount(path.source_amount)
    record.update(horizon_fields(path.destination_asset, "destination_"))
    record["destination_amount"] = format_amount(path.destination_amount)
    record["path"] = [horizon_fields(asset) for asset in path.path]
    return record


def _held_assets(state: Any, account_id: str) -> dict[str, int]:
    """What the account can pay or receive in: lumens and its (non pool-share) trustlines, with balances."""
    if state.account(account_id) is None:
        return {}
    held = {NATIVE: state.balance(account_id, NATIVE)}
    held.update((line.asset, line.balance) for line in state.trustlines_of(account_id)
                if not is_pool_share(line.asset))
    return held


class PathRoutes:
    def __init__(self, horizon: Any) -> None:
        self.horizon = horizon

    async def strict_receive(self, request: web.Request) -> web.Response:
        account = params.optional_account(request, "source_account")
        if (account is None) == (not request.query.get("source_assets")):
            raise errors.bad_request(_SOURCE_EITHER)
        destination = params.asset_from_fields(request, "destination_", required=True)
        amount = params.amount(request, "destination_amount")
        state = self.horizon.state
        balances = None
        if account is not None:
            balances = _held_assets(state, account)
            sources = list(balances)
        else:
            sources = params.canonical_assets(request, "source_assets", MAX_ASSETS_PER_REQUEST)
        found = strict_receive_paths(state, destination, amount, sources, balances) if sources else []
        return resources.json_response({"_embedded": {"records": [path_record(p) for p in found]}})

    async def strict_send(self, request: web.Request) -> web.Response:
        account = params.optional_account(request, "destination_account")
        if (account is None) == (not request.query.get("destination_assets")):
            raise errors.bad_request(_DESTINATION_EITHER)
        source = params.asset_from_fields(request, "source_", required=True)
        amount = params.amount(request, "source_amount")
        state = self.horizon.state
        if account is not None:
            destinations = list(_held_assets(state, account))
        else:
            destinations = params.canonical_assets(request, "destination_assets", MAX_ASSETS_PER_REQUEST)
        found = strict_send_paths(state, source, amount, destinations) if destinations else []
        return resources.json_response({"_embedded": {"records": [path_record(p) for p in found]}})

    async def assets(self, request: web.Request) -> web.Response:
        code = request.query.get("asset_code", "")
        if code and not (code.isascii() and code.isalnum() and len(code) <= 12):
            raise errors.invalid_field("asset_code", f"{code} is not a valid asset code")
        issuer = request.query.get("asset_issuer", "")
        if issuer:
            params.account_id(issuer, "asset_issuer")
        query = parse_string_page_query(request)
        if query.cursor is not None and len(query.cursor.split("_", 2)) != 3:
            raise errors.invalid_field("cursor", "the cursor is not a valid paging_token")
        records = page_by_token(asset_stats(self.horizon.state, code or None, issuer or None),
                                lambda r: r["paging_token"], query)
        return resources.json_page(request, records, resources.asset_stat, query)


def register(app: web.Application, horizon: Any) -> None:
    routes = PathRoutes(horizon)
    app.router.add_get("/paths/strict-receive", routes.strict_receive)
    app.router.add_get("/paths/strict-send", routes.strict_send)
    app.router.add_get("/assets", routes.assets)
