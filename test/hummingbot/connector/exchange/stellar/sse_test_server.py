"""A small Horizon-like SSE server on 127.0.0.1 for the connector's stream tests.

Each route has an ordered list of records `(paging_token, json)` and serves them after the
request's `cursor` (`now` = from the records published after connecting), as Horizon does, then
waits for `publish()`. What each successive connection does is scripted with `Plan`s: drop the
socket after N events, end with "byebye", answer an HTTP error, or write raw bytes (for parser
edge cases). Routes can also be "objects" (like `/order_book`): the whole current value, sent on
connect and on every change, without ids. Plain GETs (no `Accept: text/event-stream`) get the
JSON set with `set_rest`.
"""
import asyncio
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Deque, Dict, List, Optional, Tuple

from aiohttp import web

HELLO = b'retry: 1000\nevent: open\ndata: "hello"\n\n'
BYEBYE = b'event: close\ndata: "byebye"\n\n'


@dataclass
class Plan:
    status: int = 200
    headers: Dict[str, str] = field(default_factory=dict)
    raw: List[bytes] = field(default_factory=list)   # written as separate chunks, before any record
    hello: bool = True
    drop_after: Optional[int] = None                 # close the socket abruptly after this many events
    byebye_after: Optional[int] = None               # end cleanly with "byebye" after this many events
    end_after_raw: bool = False                      # EOF right after the raw chunks


@dataclass
class Route:
    records: List[Tuple[str, Any]] = field(default_factory=list)
    object_value: Any = None
    is_object: bool = False
    plans: Deque[Plan] = field(default_factory=deque)
    requests: List[Dict[str, Any]] = field(default_factory=list)
    rest: Any = None
    rest_requests: List[Dict[str, str]] = field(default_factory=list)


class SSETestServer:
    def __init__(self) -> None:
        self.routes: Dict[str, Route] = {}
        self._changed = asyncio.Event()
        self._runner: Optional[web.AppRunner] = None
        self.base_url = ""
        self.open_streams = 0

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/{path:.*}", self._handle)
        # A client's disconnect cancels its handler, so `open_streams` counts only live connections.
        self._runner = web.AppRunner(app, shutdown_timeout=0.1, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def route(self, path: str) -> Route:
        return self.routes.setdefault(path, Route())

    def plan(self, path: str, *plans: Plan) -> None:
        self.route(path).plans.extend(plans)

    def publish(self, path: str, token: str, record: Any) -> None:
        self.route(path).records.append((token, record))
        self._wake()

    def set_object(self, path: str, value: Any) -> None:
        route = self.route(path)
        route.is_object = True
        route.object_value = value
        self._wake()

    def set_rest(self, path: str, value: Any) -> None:
        self.route(path).rest = value

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        route = self.route("/" + request.match_info["path"])
        if "text/event-stream" not in request.headers.get("Accept", ""):
            route.rest_requests.append(dict(request.query))
            if route.rest is None:
                return web.json_response({"status": 404}, status=404)
            return web.json_response(route.rest)
        route.requests.append({"query": dict(request.query), "headers": dict(request.headers)})
        plan = route.plans.popleft() if route.plans else Plan()
        if plan.status != 200:
            return web.Response(status=plan.status, headers=plan.headers, text="scripted error")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        await response.prepare(request)
        self.open_streams += 1
        try:
            if plan.hello:
                await response.write(HELLO)
            for chunk in plan.raw:
                await response.write(chunk)
                await asyncio.sleep(0.001)   # separate TCP writes, so the client sees separate chunks
            if plan.end_after_raw:
                return response
            if route.is_object:
                await self._serve_object(route, plan, request, response)
            else:
                await self._serve_records(route, plan, request, response)
            return response
        finally:
            self.open_streams -= 1

    async def _serve_records(self, route: Route, plan: Plan, request: web.Request,
                             response: web.StreamResponse) -> None:
        cursor = request.query.get("cursor")
        if cursor == "now":
            index = len(route.records)
        elif cursor is None:
            index = 0
        else:
            tokens = [token for token, _ in route.records]
            index = _position_after(tokens, cursor)
        sent = 0
        while True:
            changed = self._changed
            while index < len(route.records):
                if await self._limit_reached(plan, sent, request, response):
                    return
                token, record = route.records[index]
                await response.write(f"id: {token}\ndata: {json.dumps(record)}\n\n".encode())
                index += 1
                sent += 1
            if await self._limit_reached(plan, sent, request, response):
                return
            await changed.wait()

    async def _serve_object(self, route: Route, plan: Plan, request: web.Request,
                            response: web.StreamResponse) -> None:
        sent = 0
        last = None
        while True:
            changed = self._changed
            current = json.dumps(route.object_value)
            if route.object_value is not None and current != last:
                if await self._limit_reached(plan, sent, request, response):
                    return
                await response.write(f"data: {current}\n\n".encode())
                last = current
                sent += 1
            if await self._limit_reached(plan, sent, request, response):
                return
            await changed.wait()

    @staticmethod
    async def _limit_reached(plan: Plan, sent: int, request: web.Request, response: web.StreamResponse) -> bool:
        if plan.drop_after is not None and sent >= plan.drop_after:
            request.transport.close()   # abrupt: no final chunk, the client sees a broken payload
            return True
        if plan.byebye_after is not None and sent >= plan.byebye_after:
            await response.write(BYEBYE)
            return True
        return False


def _position_after(tokens: List[str], cursor: str) -> int:
    """Index of the first record after `cursor`, comparing tokens as Horizon orders them."""
    def key(token: str) -> Tuple[int, ...]:
        return tuple(int(part) for part in token.split("-"))

    cursor_key = key(cursor)
    for i, token in enumerate(tokens):
        if key(token) > cursor_key:
            return i
    return len(tokens)
