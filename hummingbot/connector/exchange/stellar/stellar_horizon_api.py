"""HorizonApi: the connector's REST calls to Horizon, through Hummingbot's throttled RESTAssistant.

Each call is timed under `HORIZON_CALL_PREFIX + path template`, noted in the connector's
`RequestBudget` (if given), and rate limited under the path template's limit id (see
`stellar_constants.build_rate_limits`), or that id for the `index`-th Horizon of several
(`stellar_web_utils.horizon_limit_id`: each Horizon has its own budget). Horizon problem bodies
(application/problem+json) are returned where the caller needs them, never swallowed.
"""
from __future__ import annotations

import asyncio
import re
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote, urlencode

import aiohttp
from hummingbot.core.web_assistant.connections.data_types import RESTMethod, RESTRequest
from hummingbot.core.web_assistant.rest_assistant import RESTAssistant
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from hummingbot.connector.exchange.stellar import stellar_web_utils as web_utils
from hummingbot.connector.exchange.stellar.stellar_horizon_records import close_timestamp
from hummingbot.connector.exchange.stellar.stellar_request_budget import REST, SUBMIT, RequestBudget

_CALL_PREFIX = measurement.HORIZON_CALL_PREFIX
_FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
_BASE64 = re.compile(r"[A-Za-z0-9+/=]*")
# /transactions_async answers that carry a tx_status body the caller must see
_ASYNC_SUBMIT_STATUSES = (200, 201, 400, 409, 503)
TRADES_PAGE_LIMIT = 200          # Horizon's largest page (trades, offers)
TRADES_MAX_PAGES = 5             # a backstop poll looks this far back, no further


class HorizonError(IOError):
    """Horizon answered with an unexpected status (`retry_after`: a 429's Retry-After, in seconds)."""

    def __init__(self, method: str, path: str, status: int, body: Any, retry_after: Optional[float] = None):
        self.status = status
        self.body = body
        self.retry_after = retry_after
        detail = (body.get("detail") or body.get("title")) if isinstance(body, dict) else str(body)[:200]
        super().__init__(f"Horizon {method} {path} answered HTTP {status}: {detail}")


class HorizonUnavailableError(HorizonError):
    """5xx without a Horizon answer (gateway timeout, proxy error): the outcome of a POST is unknown."""


class HorizonApi:
    def __init__(self, api_factory: WebAssistantsFactory, horizon_url: str,
                 domain: str = CONSTANTS.DEFAULT_DOMAIN, request_timeout: float = 10.0,
                 budget: Optional[RequestBudget] = None, index: int = 0):
        self._api_factory = api_factory
        self._index = index
        self._horizon_url = horizon_url.rstrip("/")
        self._domain = domain
        self._timeout = request_timeout
        self._rest: Optional[RESTAssistant] = None
        self._budget = budget

    @property
    def horizon_url(self) -> str:
        return self._horizon_url

    @property
    def budget(self) -> Optional[RequestBudget]:
        return self._budget

    def url(self, path: str) -> str:
        return web_utils.public_rest_url(path, self._domain, self._horizon_url)

    def limit_id(self, limit_id: str) -> str:
        """This Horizon's throttler id for `limit_id` (a path template or the pool's id)."""
        return web_utils.horizon_limit_id(limit_id, self._index)

    async def _assistant(self) -> RESTAssistant:
        rest = self._rest
        if rest is None:
            rest = self._rest = await self._api_factory.get_rest_assistant()
        return rest

    async def request(self, path: str, params: Optional[Dict[str, Any]] = None,
                      limit_id: Optional[str] = None, path_template: Optional[str] = None,
                      ) -> Tuple[int, Any]:
        """GET `path`; returns (HTTP status, decoded JSON body) whatever the status."""
        status, body, _retry_after = await self._get(path, params, limit_id, path_template)
        return status, body

    async def _get(self, path: str, params: Optional[Dict[str, Any]] = None, limit_id: Optional[str] = None,
                   path_template: Optional[str] = None) -> Tuple[int, Any, Optional[float]]:
        template = path_template or limit_id or path
        rest = await self._assistant()
        if self._budget is not None:
            self._budget.note(template, REST)
        start = measurement.now()
        try:
            response = await rest.execute_request_and_get_response(
                url=self.url(path), throttler_limit_id=self.limit_id(limit_id or template), params=params,
                method=RESTMethod.GET, return_err=True, timeout=self._timeout)
            status = response.status
            body = await _json_or_text(response)
        finally:
            measurement.record(_CALL_PREFIX + template, start)
        return status, body, (retry_after_seconds(response.headers) if status == 429 else None)

    async def get_json(self, path: str, params: Optional[Dict[str, Any]] = None,
                       limit_id: Optional[str] = None, path_template: Optional[str] = None) -> Dict[str, Any]:
        """GET `path` and return its JSON; raises HorizonError for any status >= 400."""
        status, body, retry_after = await self._get(path, params, limit_id, path_template)
        if status >= 400:
            raise _error("GET", path, status, body, retry_after)
        return body

    async def get_account(self, account_id: str) -> Dict[str, Any]:
        return await self.get_json(CONSTANTS.ACCOUNT_PATH.format(account_id=quote(account_id, safe="")),
                                   limit_id=CONSTANTS.ACCOUNT_PATH)

    async def get_offer(self, offer_id: str) -> Optional[Dict[str, Any]]:
        """The offer record, or None when no offer has this id (filled or cancelled: 404)."""
        path = CONSTANTS.OFFER_PATH.format(offer_id=quote(offer_id, safe=""))
        status, body, retry_after = await self._get(path, limit_id=CONSTANTS.OFFER_PATH)
        if status == 404:
            return None
        if status >= 400 or not isinstance(body, dict):
            raise _error("GET", CONSTANTS.OFFER_PATH, status, body, retry_after)
        return body

    async def get_account_trades(self, account_id: str, since: float = 0,
                                 max_pages: int = TRADES_MAX_PAGES) -> List[Dict[str, Any]]:
        """The account's trades, newest first, back to `since` (epoch seconds, with a minute's margin)
        or `max_pages` pages of Horizon's largest size, whichever comes first."""
        path = CONSTANTS.ACCOUNT_TRADES_PATH.format(account_id=quote(account_id, safe=""))
        params: Dict[str, Any] = {"order": "desc", "limit": TRADES_PAGE_LIMIT}
        records: List[Dict[str, Any]] = []
        for _ in range(max(1, max_pages)):
            page = await self.get_json(path, params=dict(params), limit_id=CONSTANTS.ACCOUNT_TRADES_PATH)
            batch = (page.get("_embedded") or {}).get("records") or []
            records.extend(batch)
            if len(batch) < TRADES_PAGE_LIMIT:
                break
            last = batch[-1]
            if since and close_timestamp(last.get("ledger_close_time")) < since - 60:
                break
            params["cursor"] = last.get("paging_token")
        return records

    async def get_account_offers(self, account_id: str) -> List[Dict[str, Any]]:
        """Every offer of the account on the ledger (all pages)."""
        path = CONSTANTS.ACCOUNT_OFFERS_PATH.format(account_id=quote(account_id, safe=""))
        params: Dict[str, Any] = {"limit": TRADES_PAGE_LIMIT}
        offers: List[Dict[str, Any]] = []
        while True:
            page = await self.get_json(path, params=dict(params), limit_id=CONSTANTS.ACCOUNT_OFFERS_PATH)
            batch = (page.get("_embedded") or {}).get("records") or []
            offers.extend(batch)
            if len(batch) < TRADES_PAGE_LIMIT:
                return offers
            params["cursor"] = batch[-1].get("paging_token")

    async def get_transaction(self, tx_hash: str) -> Optional[Dict[str, Any]]:
        """The transaction record, or None while Horizon does not know the hash (404)."""
        path = CONSTANTS.TRANSACTION_PATH.format(tx_hash=quote(tx_hash, safe=""))
        status, body, retry_after = await self._get(path, limit_id=CONSTANTS.TRANSACTION_PATH)
        if status == 404:
            return None
        if status >= 400:
            raise _error("GET", path, status, body, retry_after)
        return body

    async def get_latest_ledger(self) -> Dict[str, Any]:
        """The latest ledger Horizon has ingested (a ledger record)."""
        page = await self.get_json(CONSTANTS.LEDGERS_PATH, params={"order": "desc", "limit": 1},
                                   limit_id=CONSTANTS.LEDGERS_PATH)
        records = (page.get("_embedded") or {}).get("records") or []
        if not records:
            raise HorizonError("GET", CONSTANTS.LEDGERS_PATH, 200, {"detail": "no ledger record in the answer"})
        return records[0]

    async def transaction_after(self, tx_hash: str, after: float) -> Tuple[float, Optional[Dict[str, Any]]]:
        """(close time of the latest ledger Horizon has ingested, the transaction record or None), both read from
        this Horizon; the record is looked up only when that ledger closed after `after` (epoch seconds), and
        then None proves the transaction is in no ledger up to it (Horizon ingests ledgers in order)."""
        closed_at = close_timestamp((await self.get_latest_ledger())["closed_at"])
        if closed_at <= after:
            return closed_at, None
        return closed_at, await self.get_transaction(tx_hash)

    async def submit_transaction_async(self, envelope_xdr: str) -> Dict[str, Any]:
        """POST the envelope to /transactions_async and return Horizon's answer body.

        201 PENDING, 409 DUPLICATE, 503 TRY_AGAIN_LATER and 400 ERROR (with `error_result_xdr`) come
        back as bodies with `tx_status`. Anything else (a 504 from a proxy, a 5xx without tx_status)
        raises HorizonUnavailableError: the transaction may or may not have reached stellar-core.
        Timeouts (no answer within `request_timeout`) and connection errors propagate (asyncio.TimeoutError,
        aiohttp.ClientError).
        """
        template = CONSTANTS.TRANSACTIONS_ASYNC_PATH
        limit_id = self.limit_id(template)
        rest = await self._assistant()
        request = RESTRequest(method=RESTMethod.POST, url=self.url(template),
                              data=submission_form(envelope_xdr), headers=_FORM_HEADERS,
                              throttler_limit_id=limit_id)
        if self._budget is not None:
            self._budget.note(template, SUBMIT)
        start = measurement.now()
        try:
            async with self._api_factory.throttler.execute_task(limit_id=limit_id):
                # Hummingbot's wait_for would run the request in a task of its own (one more loop turn before the
                # order reaches Horizon) and, on Python 3.11, may drop a cancellation arriving as the answer does.
                async with asyncio.timeout(self._timeout):
                    response = await rest.call(request=request, timeout=None)
                status = response.status
                body = await _json_or_text(response)
        finally:
            measurement.record(_CALL_PREFIX + template, start)
        if status in _ASYNC_SUBMIT_STATUSES and isinstance(body, dict) and "tx_status" in body:
            return body
        raise _error("POST", template, status, body, retry_after_seconds(response.headers) if status == 429 else None)


def submission_form(envelope_xdr: str) -> str:
    """The form body `tx=<envelope>`, as `urlencode({"tx": envelope_xdr})` writes it. Base64 needs only its three
    symbols escaped: urlencode quotes character by character in Python, about 0.4 ms an envelope under a profiler,
    on every order's way to Horizon."""
    if _BASE64.fullmatch(envelope_xdr):
        return "tx=" + envelope_xdr.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    return urlencode({"tx": envelope_xdr})


# What a caller treats as "the request may or may not have reached Horizon"
TRANSIENT_ERRORS = (asyncio.TimeoutError, aiohttp.ClientError, ConnectionError, HorizonUnavailableError)


def _error(method: str, path: str, status: int, body: Any, retry_after: Optional[float]) -> HorizonError:
    error_cls = HorizonUnavailableError if status >= 500 else HorizonError
    return error_cls(method, path, status, body, retry_after)


def retry_after_seconds(headers: Any) -> Optional[float]:
    """A Retry-After header in seconds (None when absent or an HTTP date)."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


async def _json_or_text(response: Any) -> Any:
    try:
        return await response.json()
    except (aiohttp.ContentTypeError, ValueError):
        return await response.text()
