"""Horizon's liquidity pool endpoints over the ledger and its history.

- ``/liquidity_pools``: the current pools by id, filtered by ``reserves`` (comma-separated canonical
  assets the pool must hold: ``native``, ``CODE:ISSUER``) and ``account`` (pools it holds shares of);
- ``/liquidity_pools/{id}``: one pool (404 when there is none);
- ``/liquidity_pools/{id}/effects|operations|trades|transactions``: the history of the operations and
  transactions that changed the pool (Horizon's pool participants), and the pool's trades.

Validation messages as Horizon's (actions/liquidity_pool.go): a pool id must be 64 hex digits.
"""
from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from stellar_sandbox.core.pool_records import pool_json
from stellar_sandbox.core.pools import pool_share_key
from stellar_sandbox.horizon import errors, params, resources
from stellar_sandbox.horizon.paging import page_by_token, parse_string_page_query

_POOL_ID = re.compile(r"^[0-9a-f]{64}$")
_RESERVES_PROBLEM = "Invalid reserves, should be comma-separated list of assets in canonical form"


def pool_id_param(value: str, name: str = "liquidity_pool_id") -> str:
    if not _POOL_ID.match(value):
        raise errors.invalid_field(name, "Value must be a valid liquidity pool id (64 hexadecimal digits)")
    return value


def reserves_param(request: web.Request) -> list[str]:
    assets = []
    for item in request.query.get("reserves", "").split(","):
        if not item:
            continue
        try:
            assets.append(params.canonical_asset(item))
        except ValueError:
            raise errors.invalid_field("reserves", _RESERVES_PROBLEM) from None
    return assets


class LiquidityPoolRoutes:
    """The handlers, bound to one `Horizon` (its ledger view, history and streams)."""

    def __init__(self, horizon: Any) -> None:
        self.horizon = horizon

    async def pools(self, request: web.Request) -> web.Response:
        reserves = reserves_param(request)
        account = params.optional_account(request, "account")
        query = parse_string_page_query(request)
        state = self.horizon.state
        pools = sorted(state.pools.values(), key=lambda p: p.pool_id)
        pools = [p for p in pools if all(a in (p.asset_a, p.asset_b) for a in reserves)
                 and (account is None or state.trustline(account, pool_share_key(p.pool_id)) is not None)]
        records = [pool_json(p) for p in page_by_token(pools, lambda p: p.pool_id, query)]
        return resources.json_page(request, records, resources.liquidity_pool, query)

    async def pool(self, request: web.Request) -> web.Response:
        pool = self.horizon.state.pool(pool_id_param(request.match_info["liquidity_pool_id"]))
        if pool is None:
            raise errors.not_found()
        return resources.json_response(resources.liquidity_pool(resources.base_url(request), pool_json(pool)))

    async def effects(self, request: web.Request) -> web.StreamResponse:
        pool_id = pool_id_param(request.match_info["liquidity_pool_id"])
        history = self.horizon.history
        return await self.horizon.history_collection(request, "effects", lambda c, o, n: history.effects_page(
            c, o, n, liquidity_pool=pool_id))

    async def operations(self, request: web.Request) -> web.StreamResponse:
        pool_id = pool_id_param(request.match_info["liquidity_pool_id"])
        include_failed = params.boolean(request, "include_failed")
        history = self.horizon.history
        return await self.horizon.history_collection(request, "operations", lambda c, o, n: history.operations_page(
            c, o, n, liquidity_pool=pool_id, include_failed=include_failed))

    async def transactions(self, request: web.Request) -> web.StreamResponse:
        pool_id = pool_id_param(request.match_info["liquidity_pool_id"])
        include_failed = params.boolean(request, "include_failed")
        history = self.horizon.history
        return await self.horizon.history_collection(
            request, "transactions", lambda c, o, n: history.transactions_page(
                c, o, n, liquidity_pool=pool_id, include_failed=include_failed))

    async def trades(self, request: web.Request) -> web.StreamResponse:
        pool_id = pool_id_param(request.match_info["liquidity_pool_id"])
        history = self.horizon.history
        return await self.horizon.history_collection(request, "trades", lambda c, o, n: history.trades_page(
            c, o, n, liquidity_pool=pool_id))


def register(app: web.Application, horizon: Any) -> None:
    routes = LiquidityPoolRoutes(horizon)
    get = app.router.add_get
    get("/liquidity_pools", routes.pools)
    get("/liquidity_pools/{liquidity_pool_id}", routes.pool)
    get("/liquidity_pools/{liquidity_pool_id}/effects", routes.effects)
    get("/liquidity_pools/{liquidity_pool_id}/operations", routes.operations)
    get("/liquidity_pools/{liquidity_pool_id}/trades", routes.trades)
    get("/liquidity_pools/{liquidity_pool_id}/transactions", routes.transactions)
