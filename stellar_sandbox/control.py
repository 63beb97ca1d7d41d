"""The sandbox's control routes (never faulted), for tools outside the test's process.

- `GET /_sandbox/faults`: current fault settings; `POST` (JSON body, the kinds of `faults.Faults.set`
  plus `"drop_streams": true` to cut open streams now) replaces the given kinds; `DELETE` clears all.
- `GET /_sandbox/market`: activity statistics; `POST {"action": "start", "rate": 50, ...}` (the
  options of `MarketActivity.start`; `base`/`counter` as `native` or `CODE:ISSUER`),
  `{"action": "rate", "rate": 200}` or `{"action": "stop"}`.
"""
from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from stellar_sdk import Asset

from stellar_sandbox.faults import Faults, FaultSettingsError
from stellar_sandbox.horizon import errors
from stellar_sandbox.market.activity import MarketSettingsError

MARKET_START_OPTIONS = {"rate", "mid", "volatility", "participants", "ops_per_tx", "take_share", "seed"}


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


def install_control(app: web.Application, faults: Faults, market: Any, requests: Any = None) -> None:
    async def get_faults(_request: web.Request) -> web.Response:
        return _json(faults.settings())

    async def post_faults(request: web.Request) -> web.Response:
        body = await _json_body(request)
        drop_now = bool(body.pop("drop_streams", False))
        try:
            faults.set(**body)
        except FaultSettingsError as exc:
            raise errors.invalid_field(exc.field, exc.reason) from None
        settings = faults.settings()
        if drop_now:
            settings["dropped_streams"] = faults.drop_streams()
        return _json(settings)

    async def delete_faults(_request: web.Request) -> web.Response:
        return _json(faults.clear())

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

    async def get_requests(_request: web.Request) -> web.Response:
        return _json(requests.snapshot())

    async def delete_requests(_request: web.Request) -> web.Response:
        return _json(requests.clear())

    if requests is not None:
        app.router.add_get("/_sandbox/requests", get_requests)
        app.router.add_delete("/_sandbox/requests", delete_requests)
    app.router.add_get("/_sandbox/faults", get_faults)
    app.router.add_post("/_sandbox/faults", post_faults)
    app.router.add_delete("/_sandbox/faults", delete_faults)
    app.router.add_get("/_sandbox/market", get_market)
    app.router.add_post("/_sandbox/market", post_market)
