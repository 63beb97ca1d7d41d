"""Counts the requests a Horizon frontend answers, by method, route and kind (REST or stream), so a
test or a load run can hold a client to its request budget. A layer around the handlers, like faults."""
from __future__ import annotations

import time
from collections import Counter
from typing import Any, Dict, List

from aiohttp import web

from stellar_sandbox.faults import CONTROL_PREFIX
from stellar_sandbox.horizon.streaming import wants_stream


class RequestLog:
    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.since = time.time()

    @web.middleware
    async def middleware(self, request: web.Request, handler):
        if not request.path.startswith(CONTROL_PREFIX):
            resource = request.match_info.route.resource
            route = resource.canonical if resource is not None else request.path
            self.counts[(request.method, route, "stream" if wants_stream(request) else "rest")] += 1
        return await handler(request)

    def count(self, route: str, method: str = "GET", kind: str = "rest") -> int:
        return self.counts[(method, route, kind)]

    def total(self, kind: str = "rest") -> int:
        return sum(n for (_method, _route, k), n in self.counts.items() if k == kind)

    def snapshot(self) -> Dict[str, Any]:
        rows: List[Dict[str, Any]] = [{"method": method, "route": route, "kind": kind, "count": n}
                                      for (method, route, kind), n in sorted(self.counts.items())]
        return {"since": self.since, "requests": rows}

    def clear(self) -> Dict[str, Any]:
        self.counts.clear()
        self.since = time.time()
        return self.snapshot()
