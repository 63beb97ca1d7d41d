"""The Horizon-compatible aiohttp application over a core `Network`.

`create_app(network)` wires Horizon's routes to the network's state and history. Every list endpoint
pages like Horizon (`cursor`, `order`, `limit`) and, where Horizon streams, answers
`Accept: text/event-stream` with SSE (see `streaming`). Errors are Horizon problems (see `errors`).
"""
from __future__ import annotations

import asyncio
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from stellar_sandbox.core.history import MAX_LIMIT
from stellar_sandbox.horizon import errors, liquidity_pools, params, paths, resources
from stellar_sandbox.horizon.paging import PageQuery, parse_limit, parse_page_query
from stellar_sandbox.horizon.resources import json_response
from stellar_sandbox.horizon.root_agent import RootAgent
from stellar_sandbox.horizon.rpc import StellarRpc
from stellar_sandbox.horizon.streaming import StreamHub, book_topic, dumps, stream_object, stream_records, wants_stream
from stellar_sandbox.horizon.submission import Submitter
from stellar_sandbox.horizon.trade_aggregations import (
    adjusted_range,
    aggregate,
    close_time_ms,
    offset_error,
    resolution_error,
)

Record = dict[str, Any]
HORIZON_VERSION = "stellar-sandbox-1.0"
CORE_VERSION = "stellar-core (stellar-sandbox, embedded)"
TRADE_TYPES = ("all", "orderbook", "liquidity_pool")

HORIZON_KEY = web.AppKey("horizon", object)


class Horizon:
    """Request handlers; one instance per application, bound to one `Network` or a view of it.

    `network` is what this Horizon has ingested: the `Network` itself or an `IngestView` of it (a
    frontend that may lag). `root_agent` (friendbot's funding) is shared by every frontend of one
    network, since the root account has one sequence number; one is made here if none is given.
    """

    def __init__(self, network: Any, *, submission_timeout: float = 30.0, stream_keep_alive: float = 5.0,
                 stream_write_timeout: float = 10.0, stream_event_limit: int | None = None,
                 object_stream_limit: int | None = None, rpc_max_healthy_latency: float | None = 30.0,
                 root_agent: RootAgent | None = None) -> None:
        self.network = network
        self.hub = StreamHub(keep_alive=stream_keep_alive, write_timeout=stream_write_timeout,
                             event_limit=stream_event_limit)
        network.add_listener(self.hub.on_network_event)
        self.submitter = Submitter(network, timeout=submission_timeout)
        self.owns_root_agent = root_agent is None
        self.root_agent = root_agent or RootAgent(network, self.submitter)
        self.rpc = StellarRpc(network, max_healthy_latency=rpc_max_healthy_latency)
        # Horizon ends object streams (an account, the order book) after 10 events; None: never
        self.object_stream_limit = object_stream_limit

    # ----- helpers -----

    @property
    def history(self):
        return self.network.history

    @property
    def state(self):
        return self.network.state

    def now_token(self) -> str:
        """What `cursor=now` stands for: just after the latest closed ledger (Horizon's toid.AfterLedger)."""
        return str(((int(self.network.latest_ledger["sequence"]) + 1) << 32) - 1)

    def page_query(self, request: web.Request) -> PageQuery:
        return parse_page_query(request, self.now_token())

    async def history_collection(self, request: web.Request, kind: str,
                                 fetch: Callable[[str | None, str, int], list[Record]],
                                 render: Callable[[str, Record], Record] | None = None,
                                 topic: str | None = None) -> web.StreamResponse:
        """A paged (or streamed) list of history records; `fetch(cursor, order, limit)` reads them."""
        render = render or resources.RENDERERS[kind]
        query = self.page_query(request)

        def checked_fetch(cursor: str | None, order: str, limit: int) -> list[Record]:
            try:
                return fetch(cursor, order, limit)
            except ValueError as exc:
                raise errors.invalid_field("cursor", str(exc)) from None

        if wants_stream(request):
            checked_fetch(query.cursor, "asc", 1)  # a bad cursor is a 400 before the stream opens
            base = resources.base_url(request)
            cache = self.hub.encoded

            def encode(record: Record) -> str:
                # History records never change once written; trades differ only by orientation.
                key = (kind, base, record["paging_token"], record.get("base_asset_code"), record.get("base_account"))
                return cache.get(key, lambda: dumps(render(base, record)))

            return await stream_records(
                request, self.hub, (topic or kind,), lambda cursor, limit: checked_fetch(cursor, "asc", limit),
                encode, query.cursor, query.limit if query.limit_given else None)
        records = checked_fetch(query.cursor, query.order, query.limit)
        return json_response(resources.page(request, records, render, query.cursor, query.order, query.limit))

    async def offers_collection(self, request: web.Request, offers_of: Callable[[], list]) -> web.StreamResponse:
        """Offers (current state) paged by offer id; streams send offers with ids after the cursor."""
        query = self.page_query(request)

        def fetch(cursor: str | None, order: str, limit: int) -> list[Record]:
            offers = offers_of()
            ids = [offer.offer_id for offer in offers]
            try:
                position = None if cursor is None else int(cursor)
            except ValueError:
                raise errors.invalid_field("cursor", "cursor: invalid value") from None
            if order == "asc":
                start = 0 if position is None else bisect_right(ids, position)
                chosen = offers[start:start + limit]
            else:
                end = len(ids) if position is None else bisect_left(ids, position)
                chosen = offers[max(0, end - limit):end][::-1]
            return [self.state.offer_json(offer) for offer in chosen]

        if wants_stream(request):
            base = resources.base_url(request)
            return await stream_records(
                request, self.hub, ("offers",), lambda cursor, limit: fetch(cursor, "asc", limit),
                lambda record: dumps(resources.offer(base, record)), query.cursor,
                query.limit if query.limit_given else None)
        records = fetch(query.cursor, query.order, query.limit)
        return json_response(resources.page(request, records, resources.offer, query.cursor, query.order,
                                            query.limit))

    # ----- root, ledgers, fee stats -----

    async def root(self, request: web.Request) -> web.Response:
        latest = self.network.latest_ledger
        sequence = int(latest["sequence"])
        oldest_key = self.history.ledgers.oldest_key
        protocol = int(latest.get("protocol_version", 0))
        info = {
            "horizon_version": HORIZON_VERSION,
            "core_version": CORE_VERSION,
            "ingest_latest_ledger": sequence,
            "history_latest_ledger": sequence,
            "history_latest_ledger_closed_at": latest.get("closed_at"),
            "history_elder_ledger": sequence if oldest_key is None else oldest_key >> 32,
            "core_latest_ledger": sequence,
            "network_passphrase": self.network.passphrase,
            "current_protocol_version": protocol,
            "supported_protocol_version": protocol,
            "core_supported_protocol_version": protocol,
        }
        return json_response(resources.root(resources.base_url(request), info))

    async def ledgers(self, request: web.Request) -> web.StreamResponse:
        return await self.history_collection(request, "ledgers", self.history.ledgers_page)

    async def ledger(self, request: web.Request) -> web.Response:
        record = self.history.ledger(params.path_int(request, "sequence"))
        if record is None:
            raise errors.not_found()
        return json_response(resources.ledger(resources.base_url(request), record))

    async def ledger_transactions(self, request: web.Request) -> web.StreamResponse:
        sequence = params.path_int(request, "sequence")
        include_failed = params.boolean(request, "include_failed")
        return await self.history_collection(request, "transactions", lambda c, o, n: self.history.transactions_page(
            c, o, n, ledger=sequence, include_failed=include_failed))

    async def ledger_operations(self, request: web.Request, payments_only: bool = False) -> web.StreamResponse:
        sequence = params.path_int(request, "sequence")
        include_failed = params.boolean(request, "include_failed")
        return await self.history_collection(request, "operations", lambda c, o, n: self.history.operations_page(
            c, o, n, ledger=sequence, include_failed=include_failed, payments_only=payments_only))

    async def ledger_payments(self, request: web.Request) -> web.StreamResponse:
        return await self.ledger_operations(request, payments_only=True)

    async def ledger_effects(self, request: web.Request) -> web.StreamResponse:
        sequence = params.path_int(request, "sequence")
        return await self.history_collection(request, "effects", lambda c, o, n: self.history.effects_page(
            c, o, n, ledger=sequence))

    async def fee_stats(self, request: web.Request) -> web.Response:
        return json_response(self.network.fee_stats())

    # ----- accounts -----

    async def account(self, request: web.Request) -> web.StreamResponse:
        """The account; as a stream (Horizon's streamable object), the whole account now, then again after
        each ingested ledger that changed it. A missing account is a 404 before the stream opens."""
        account_id = params.account_id(request.match_info["account_id"])
        record = self.state.account_json(account_id)
        if record is None:
            raise errors.not_found()
        base = resources.base_url(request)
        if wants_stream(request):
            last = [record]

            def build() -> str:
                current = self.state.account_json(account_id)
                if current is not None:
                    last[0] = current
                return dumps(resources.account(base, last[0]))

            return await stream_object(request, self.hub, ("ledgers",), build, self.object_stream_limit)
        return json_response(resources.account(base, record))

    async def account_transactions(self, request: web.Request) -> web.StreamResponse:
        account_id = params.account_id(request.match_info["account_id"])
        include_failed = params.boolean(request, "include_failed")
        return await self.history_collection(request, "transactions", lambda c, o, n: self.history.transactions_page(
            c, o, n, account=account_id, include_failed=include_failed))

    async def account_operations(self, request: web.Request, payments_only: bool = False) -> web.StreamResponse:
        account_id = params.account_id(request.match_info["account_id"])
        include_failed = params.boolean(request, "include_failed")
        return await self.history_collection(request, "operations", lambda c, o, n: self.history.operations_page(
            c, o, n, account=account_id, include_failed=include_failed, payments_only=payments_only))

    async def account_payments(self, request: web.Request) -> web.StreamResponse:
        return await self.account_operations(request, payments_only=True)

    async def account_effects(self, request: web.Request) -> web.StreamResponse:
        account_id = params.account_id(request.match_info["account_id"])
        return await self.history_collection(request, "effects", lambda c, o, n: self.history.effects_page(
            c, o, n, account=account_id))

    async def account_trades(self, request: web.Request) -> web.StreamResponse:
        account_id = params.account_id(request.match_info["account_id"])
        return await self.history_collection(request, "trades", lambda c, o, n: self.history.trades_page(
            c, o, n, account=account_id))

    async def account_offers(self, request: web.Request) -> web.StreamResponse:
        account_id = params.account_id(request.match_info["account_id"])
        return await self.offers_collection(request, lambda: self.state.offers_of(account_id))

    # ----- offers and the order book -----

    async def offers(self, request: web.Request) -> web.StreamResponse:
        seller = params.optional_account(request, "seller")
        selling = params.offer_asset(request, "selling")
        buying = params.offer_asset(request, "buying")
        params.optional_account(request, "sponsor")  # validated; nothing is sponsored here
        if request.query.get("sponsor"):
            return await self.offers_collection(request, list)
        return await self.offers_collection(
            request, lambda: self.state.find_offers(seller=seller, selling=selling, buying=buying))

    async def offer(self, request: web.Request) -> web.Response:
        offer = self.state.offer(params.path_int(request, "offer_id"))
        if offer is None:
            raise errors.not_found()
        return json_response(resources.offer(resources.base_url(request), self.state.offer_json(offer)))

    async def offer_trades(self, request: web.Request) -> web.StreamResponse:
        offer_id = str(params.path_int(request, "offer_id"))
        return await self.history_collection(request, "trades", lambda c, o, n: self.history.trades_page(
            c, o, n, offer_id=offer_id))

    async def order_book(self, request: web.Request) -> web.StreamResponse:
        problem = errors.invalid_order_book()
        selling = params.asset_from_fields(request, "selling_", required=True, problem=problem)
        buying = params.asset_from_fields(request, "buying_", required=True, problem=problem)
        try:
            limit = parse_limit(request, default=20, maximum=200)
        except errors.Problem:
            raise problem from None
        if wants_stream(request):
            return await stream_object(request, self.hub, (book_topic(selling, buying),),
                                       lambda: dumps(self.state.order_book_json(selling, buying, limit)),
                                       self.object_stream_limit)
        return json_response(self.state.order_book_json(selling, buying, limit))

    # ----- trades -----

    async def trades(self, request: web.Request) -> web.StreamResponse:
        base = params.asset_from_fields(request, "base_")
        counter = params.asset_from_fields(request, "counter_")
        offer_id = params.unsigned(request, "offer_id")
        account_id = params.optional_account(request, "account_id")
        pool_value = request.query.get("liquidity_pool_id", "")
        pool_id = liquidity_pools.pool_id_param(pool_value) if pool_value else None
        trade_type = request.query.get("trade_type", "") or "all"
        if trade_type not in TRADE_TYPES:
            raise errors.invalid_field("trade_type", "Trade type must be all, orderbook or liquidity_pool")
        if (base is None) != (counter is None):
            raise errors.invalid_field("base_asset_type,counter_asset_type",
                                       "this endpoint supports asset pairs but only one asset supplied")
        if base is not None and offer_id:
            raise errors.invalid_field("base_asset_type,counter_asset_type,offer_id",
                                       "this endpoint does not support filtering by both asset pair and offer id ")
        if sum(1 for given in (offer_id, account_id, pool_id) if given) > 1:
            raise errors.invalid_field("account_id,liquidity_pool_id,offer_id",
                                       "Use a single filter for trades, you can only use one of account_id, "
                                       "liquidity_pool_id, offer_id")
        if offer_id and trade_type == "liquidity_pool":
            raise errors.invalid_field("trade_type",
                                       "trade_type liquidity_pool cannot be used with the offer_id filter")
        if pool_id and trade_type == "orderbook":
            raise errors.invalid_field("trade_type",
                                       "trade_type orderbook cannot be used with the liquidity_pool_id filter")
        return await self.history_collection(request, "trades", lambda c, o, n: self.history.trades_page(
            c, o, n, account=account_id, offer_id=str(offer_id) if offer_id else None,
            base_asset=base, counter_asset=counter, liquidity_pool=pool_id, trade_type=trade_type))

    async def trade_aggregations(self, request: web.Request) -> web.Response:
        base = params.asset_from_fields(request, "base_", required=True)
        counter = params.asset_from_fields(request, "counter_", required=True)
        resolution = params.unsigned(request, "resolution")
        message = resolution_error(resolution)
        if message:
            raise errors.invalid_field("resolution", message)
        offset = params.unsigned(request, "offset") or 0
        message = offset_error(offset, resolution)
        if message:
            raise errors.invalid_field("offset", message)
        start, end = adjusted_range(params.unsigned(request, "start_time"), params.unsigned(request, "end_time"),
                                    resolution, offset)
        if end is not None and end < start:
            raise errors.invalid_field("end_time", "illegal end time. adjusted end time must be greater than the "
                                                   "offset and greater than the provided start time")
        query = parse_page_query(request, max_limit=200)
        trades = self._trades_between(base, counter, start, end)
        buckets = aggregate(trades, resolution, offset)
        if query.descending:
            buckets.reverse()
        buckets = buckets[:query.limit]
        return json_response(self._aggregations_page(request, buckets, query, resolution))

    def _trades_between(self, base: str, counter: str, start_ms: int, end_ms: int | None) -> list[Record]:
        selected: list[Record] = []
        cursor = None
        while True:
            page = self.history.trades_page(cursor, "asc", MAX_LIMIT, base_asset=base, counter_asset=counter)
            for trade in page:
                moment = close_time_ms(trade)
                if end_ms is not None and moment >= end_ms:
                    return selected
                if moment >= start_ms:
                    selected.append(trade)
            if len(page) < MAX_LIMIT:
                return selected
            cursor = page[-1]["paging_token"]

    @staticmethod
    def _aggregations_page(request: web.Request, buckets: list[Record], query: PageQuery, resolution: int) -> Record:
        base = resources.base_url(request)
        query_params = dict(request.query)
        self_href = f"{base}{request.path_qs}"
        next_params = dict(query_params)
        if buckets:
            last = int(buckets[-1]["timestamp"])
            if query.descending:
                next_params["end_time"] = str(last)
            else:
                next_params["start_time"] = str(last + resolution)
        return {  # Horizon's page links: `prev` is always there, and always empty for aggregations
            "_links": {"self": {"href": self_href},
                       "next": {"href": f"{base}{request.path}?{urlencode(sorted(next_params.items()))}"},
                       "prev": {"href": ""}},
            "_embedded": {"records": buckets},
        }

    # ----- transactions, operations, effects, payments -----

    async def transactions(self, request: web.Request) -> web.StreamResponse:
        include_failed = params.boolean(request, "include_failed")
        return await self.history_collection(request, "transactions", lambda c, o, n: self.history.transactions_page(
            c, o, n, include_failed=include_failed))

    async def transaction(self, request: web.Request) -> web.Response:
        record = self.network.transaction(params.tx_hash(request))
        if record is None:
            raise errors.not_found()
        return json_response(resources.transaction(resources.base_url(request), record))

    async def transaction_operations(self, request: web.Request, payments_only: bool = False) -> web.StreamResponse:
        tx_hash = params.tx_hash(request)
        return await self.history_collection(request, "operations", lambda c, o, n: self.history.operations_page(
            c, o, n, tx_hash=tx_hash, payments_only=payments_only))

    async def transaction_payments(self, request: web.Request) -> web.StreamResponse:
        return await self.transaction_operations(request, payments_only=True)

    async def transaction_effects(self, request: web.Request) -> web.StreamResponse:
        tx_hash = params.tx_hash(request)
        return await self.history_collection(request, "effects", lambda c, o, n: self.history.effects_page(
            c, o, n, tx_hash=tx_hash))

    async def operations(self, request: web.Request, payments_only: bool = False) -> web.StreamResponse:
        include_failed = params.boolean(request, "include_failed")
        return await self.history_collection(request, "operations", lambda c, o, n: self.history.operations_page(
            c, o, n, include_failed=include_failed, payments_only=payments_only))

    async def payments(self, request: web.Request) -> web.StreamResponse:
        return await self.operations(request, payments_only=True)

    async def operation(self, request: web.Request) -> web.Response:
        record = self.history.operation(params.path_int(request, "op_id"))
        if record is None:
            raise errors.not_found()
        return json_response(resources.operation(resources.base_url(request), record))

    async def operation_effects(self, request: web.Request) -> web.StreamResponse:
        op_id = params.path_int(request, "op_id")
        return await self.history_collection(request, "effects", lambda c, o, n: self.history.effects_page(
            c, o, n, operation_id=op_id))

    async def effects(self, request: web.Request) -> web.StreamResponse:
        return await self.history_collection(request, "effects", self.history.effects_page)

    # ----- submission and friendbot -----

    async def _envelope(self, request: web.Request) -> str:
        content_type = request.content_type
        if request.can_read_body and content_type not in ("application/x-www-form-urlencoded", "multipart/form-data",
                                                          "application/octet-stream", ""):
            raise errors.unsupported_media_type()
        form = await request.post()
        value = form.get("tx") or request.query.get("tx", "")
        return value if isinstance(value, str) else ""

    async def submit_transaction(self, request: web.Request) -> web.Response:
        record = await self.submitter.submit_and_wait(await self._envelope(request))
        return json_response(resources.transaction(resources.base_url(request), record))

    async def submit_transaction_async(self, request: web.Request) -> web.Response:
        status, body = self.submitter.submit_async(await self._envelope(request))
        return json_response(body, status=status)

    async def friendbot(self, request: web.Request) -> web.Response:
        address = request.query.get("addr", "")
        if not address and request.method == "POST":
            form = await request.post()
            value = form.get("addr", "")
            address = value if isinstance(value, str) else ""
        params.account_id(address, "addr")
        record = await self.root_agent.create_account(address)
        return json_response(resources.transaction(resources.base_url(request), record))

    async def rpc_endpoint(self, request: web.Request) -> web.Response:
        return await self.rpc.handle(request)


def _application(horizon: Horizon) -> web.Application:
    """An aiohttp application around `horizon`'s handlers, with its hub bound and closed with it."""
    app = web.Application(middlewares=[errors.problem_middleware])
    app[HORIZON_KEY] = horizon

    async def bind_loop(_app: web.Application) -> None:
        horizon.hub.bind(asyncio.get_running_loop())

    async def shut_down(_app: web.Application) -> None:
        horizon.hub.close()  # open streams end instead of holding the server
        if horizon.owns_root_agent:
            await horizon.root_agent.close()

    app.on_startup.append(bind_loop)
    app.on_shutdown.append(shut_down)
    return app


def create_app(network: Any, **options: Any) -> web.Application:
    """The aiohttp application serving Horizon (and Stellar RPC on `/rpc`) for `network`.

    Options: `submission_timeout` (s, sync `POST /transactions`), `stream_keep_alive` (s between
    keep-alive comments), `stream_write_timeout` (s before a stuck client is dropped),
    `stream_event_limit` (end every stream after N events, as Horizon's default of 10; None: never),
    `object_stream_limit` (end account and order book streams after N events, as Horizon's 10),
    `rpc_max_healthy_latency` (s since the last ledger after which RPC getHealth fails; None: never),
    `root_agent` (a shared friendbot funder).
    """
    horizon = Horizon(network, **options)
    app = _application(horizon)
    h = horizon
    get = app.router.add_get
    get("/", h.root)
    get("/ledgers", h.ledgers)
    get("/ledgers/{sequence}", h.ledger)
    get("/ledgers/{sequence}/transactions", h.ledger_transactions)
    get("/ledgers/{sequence}/operations", h.ledger_operations)
    get("/ledgers/{sequence}/payments", h.ledger_payments)
    get("/ledgers/{sequence}/effects", h.ledger_effects)
    get("/fee_stats", h.fee_stats)
    get("/accounts/{account_id}", h.account)
    get("/accounts/{account_id}/transactions", h.account_transactions)
    get("/accounts/{account_id}/operations", h.account_operations)
    get("/accounts/{account_id}/payments", h.account_payments)
    get("/accounts/{account_id}/effects", h.account_effects)
    get("/accounts/{account_id}/trades", h.account_trades)
    get("/accounts/{account_id}/offers", h.account_offers)
    get("/offers", h.offers)
    get("/offers/{offer_id}", h.offer)
    get("/offers/{offer_id}/trades", h.offer_trades)
    get("/order_book", h.order_book)
    get("/trades", h.trades)
    get("/trade_aggregations", h.trade_aggregations)
    get("/transactions", h.transactions)
    get("/transactions/{tx_id}", h.transaction)
    get("/transactions/{tx_id}/operations", h.transaction_operations)
    get("/transactions/{tx_id}/effects", h.transaction_effects)
    get("/transactions/{tx_id}/payments", h.transaction_payments)
    get("/operations", h.operations)
    get("/operations/{op_id}", h.operation)
    get("/operations/{op_id}/effects", h.operation_effects)
    get("/payments", h.payments)
    get("/effects", h.effects)
    get("/friendbot", h.friendbot)
    app.router.add_post("/friendbot", h.friendbot)
    app.router.add_post("/transactions", h.submit_transaction)
    app.router.add_post("/transactions_async", h.submit_transaction_async)
    app.router.add_post("/rpc", h.rpc_endpoint)
    app.router.add_post("/soroban/rpc", h.rpc_endpoint)
    liquidity_pools.register(app, horizon)
    paths.register(app, horizon)
    return app



def create_rpc_app(network: Any, **options: Any) -> web.Application:
    """An application serving Stellar RPC only: JSON-RPC on `/` (as stellar-rpc), `/rpc` and `/soroban/rpc`.

    Options as `create_app`.
    """
    horizon = Horizon(network, **options)
    app = _application(horizon)
    for path in ("/", "/rpc", "/soroban/rpc"):
        app.router.add_post(path, horizon.rpc_endpoint)
    return app
