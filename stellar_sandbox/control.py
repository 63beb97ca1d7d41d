"""The sandbox's control routes (never faulted), for tools outside the test's process.

Every frontend serves them on its own port:

- `GET /_sandbox/faults`: this frontend's fault settings; `POST` (JSON body, the kinds of
  `faults.Faults.set`, e.g. `{"lag": 3}`, `{"down": {"seconds": 2}}`, `{"silent_streams": true}`,
  plus `"drop_streams": true` to cut open streams now) replaces the given kinds; `DELETE` clears all.
- `GET /_sandbox/frontends`: every frontend (index, kind, url, down, lag, ingested ledger);
  `/_sandbox/frontends/{index}/faults` (GET, POST, DELETE) reaches any frontend's faults, so a
  frontend that is down can be brought back through another one; `.../requests` its request log.
- `GET /_sandbox/requests`: this frontend's request log; `DELETE` starts it afresh.
- `GET /_sandbox/fees`: the network's fees (`base_fee`, `surge_fee`, `inclusion_fee` per operation);
  `POST {"surge_fee": 5000}` loads the network with traffic bidding that much (null: none), `DELETE` ends it.
- `GET /_sandbox/market`: activity statistics; `POST {"action": "start", "rate": 50, ...}` (the
  options of `MarketActivity.start`; `base`/`counter` as `native` or `CODE:ISSUER`),
  `{"action": "rate", "rate": 200}` or `{"action": "stop"}`.
"""
from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from stellar_sdk import Asset

from stellar_sandbox.faults import FaultSettingsError, parse_down
from stellar_sandbox.horizon import errors
from stellar_sandbox.market.activity import MarketSettingsError

_UNSET = object()
MARKET_START_OPTIONS = {"rate", "mid", "volatility", "participants", "ops_per_tx", "take_share", "seed",
                        "pool_depth", "pool_share"}


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json() if request.can_read_body else {}
    except json.JSONDecodeError:
        raise errors.bad_request("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise errors.bad_request("The request body must be a JSON object.")
    return body


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def _asset(value: Any, field: str) -> Asset | None:
    if value is None:
        return None
    if value == "native":
        return Asset.native()
    code, _, issuer = str(value).partition(":")
    try:
        return Asset(code, issuer)
    except Exception:
        raise errors.invalid_field(field, "expected 'native' or 'CODE:ISSUER'") from None


def install_control(app: web.Application, frontend: Any, sandbox: Any) -> None:
    """The control routes on `frontend`'s application; `sandbox` holds the network, market and frontends."""
    market = sandbox.market

    def frontend_at(request: web.Request) -> Any:
        raw = request.match_info.get("index")
        if raw is None:
            return frontend
        try:
            return sandbox.frontends[int(raw)]
        except (ValueError, IndexError):
            raise errors.not_found() from None

    async def get_faults(request: web.Request) -> web.Response:
        return _json(frontend_at(request).faults.settings())

    async def post_faults(request: web.Request) -> web.Response:
        target = frontend_at(request)
        body = await _json_body(request)
        drop_now = bool(body.pop("drop_streams", False))
        down = body.pop("down", _UNSET)
        try:
            going_down = None if down is _UNSET else parse_down(down)
            target.faults.set(**body)
        except FaultSettingsError as exc:
            raise errors.invalid_field(exc.field, exc.reason) from None
        response_closes = False
        if going_down is not None:
            if going_down[0]:
                # this very request may come through the frontend going down: answer it, then close
                target.take_down(going_down[1], spare=request.transport)
                response_closes = target is frontend
            else:
                target.bring_up_soon()
        settings = target.faults.settings()
        if drop_now:
            settings["dropped_streams"] = target.faults.drop_streams()
        response = _json(settings)
        if response_closes:
            response.force_close()
        return response

    async def delete_faults(request: web.Request) -> web.Response:
        return _json(frontend_at(request).faults.clear())

    async def get_frontends(_request: web.Request) -> web.Response:
        return _json({"frontends": [each.describe() for each in sandbox.frontends]})

    async def get_fees(_request: web.Request) -> web.Response:
        return _json(sandbox.fees())

    async def post_fees(request: web.Request) -> web.Response:
        body = await _json_body(request)
        unknown = set(body) - {"surge_fee"}
        if unknown:
            raise errors.invalid_field(",".join(sorted(unknown)), "unknown; known: ['surge_fee']")
        try:
            sandbox.set_surge(body.get("surge_fee"))
        except ValueError as exc:
            raise errors.invalid_field("surge_fee", str(exc)) from None
        return _json(sandbox.fees())

    async def delete_fees(_request: web.Request) -> web.Response:
        sandbox.set_surge(None)
        return _json(sandbox.fees())

    async def get_market(_request: web.Request) -> web.Response:
        return _json(market.stats())

    async def post_market(request: web.Request) -> web.Response:
        body = await _json_body(request)
        action = body.pop("action", "start")
        if action not in ("start", "rate", "stop"):
            raise errors.invalid_field("action", "expected start, rate or stop")
        known = {"start": MARKET_START_OPTIONS | {"base", "counter"}, "rate": {"rate"}, "stop": set()}[action]
        unknown = set(body) - known
        if unknown:
            raise errors.invalid_field(",".join(sorted(unknown)), f"unknown for {action}; known: {sorted(known)}")
        try:
            if action == "stop":
                return _json(await market.stop())
            if action == "rate":
                if "rate" not in body:
                    raise errors.invalid_field("rate", "required: book events per second")
                return _json(market.set_rate(body["rate"]))
            base, counter = _asset(body.pop("base", None), "base"), _asset(body.pop("counter", None), "counter")
            return _json(await market.start(base=base, counter=counter, **body), status=201)
        except MarketSettingsError as exc:
            raise errors.invalid_field(exc.field, exc.reason) from None
        except (ValueError, RuntimeError) as exc:  # already running, not running, an unknown issuer
            raise errors.bad_request(f"market {action}: {exc}") from None

    async def get_requests(request: web.Request) -> web.Response:
        return _json(frontend_at(request).requests.snapshot())

    async def delete_requests(request: web.Request) -> web.Response:
        return _json(frontend_at(request).requests.clear())

    router = app.router
    for prefix in ("/_sandbox", "/_sandbox/frontends/{index}"):
        router.add_get(f"{prefix}/faults", get_faults)
        router.add_post(f"{prefix}/faults", post_faults)
        router.add_delete(f"{prefix}/faults", delete_faults)
        router.add_get(f"{prefix}/requests", get_requests)
        router.add_delete(f"{prefix}/requests", delete_requests)
    router.add_get("/_sandbox/frontends", get_frontends)
    router.add_get("/_sandbox/fees", get_fees)
    router.add_post("/_sandbox/fees", post_fees)
    router.add_delete("/_sandbox/fees", delete_fees)
    router.add_get("/_sandbox/market", get_market)
    router.add_post("/_sandbox/market", post_market)
