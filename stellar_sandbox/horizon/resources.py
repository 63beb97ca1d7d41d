"""Records → Horizon JSON: HAL `_links` on each record, and collection pages.

The core keeps records as Horizon JSON without `_links`; this module adds the links Horizon adds
(same names, same templated forms) and wraps lists in Horizon's page shape with `self`, `next`
and `prev` links built the way Horizon builds them (the request URL with `cursor`, `limit` and
`order` set, `next` after the last record, `prev` before the first in the inverted order).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

Record = dict[str, Any]
PAGING_OPTIONS = "{?cursor,limit,order}"
HAL_JSON = "application/hal+json"


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type=HAL_JSON, charset="utf-8")


def base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def link(href: str) -> dict[str, Any]:
    return {"href": href, "templated": True} if "{" in href else {"href": href}


def paged_link(href: str) -> dict[str, Any]:
    return {"href": href + PAGING_OPTIONS, "templated": True}


def _with_links(record: Record, links: dict[str, Any]) -> Record:
    out = {"_links": links}
    out.update(record)
    return out


def _op_id_of(pair_id: str) -> int:
    """Operation id of an effect id (`"{op_id:019d}-{index:010d}"`) or a trade id (`"{op_id}-{index}"`)."""
    return int(pair_id.partition("-")[0])


def ledger(base: str, record: Record) -> Record:
    self_href = f"{base}/ledgers/{record['sequence']}"
    return _with_links(record, {
        "self": link(self_href),
        "transactions": paged_link(self_href + "/transactions"),
        "operations": paged_link(self_href + "/operations"),
        "payments": paged_link(self_href + "/payments"),
        "effects": paged_link(self_href + "/effects"),
    })


def transaction(base: str, record: Record) -> Record:
    self_href = f"{base}/transactions/{record['hash']}"
    token = record["paging_token"]
    return _with_links(record, {
        "self": link(self_href),
        "account": link(f"{base}/accounts/{record['source_account']}"),
        "ledger": link(f"{base}/ledgers/{record['ledger']}"),
        "operations": paged_link(self_href + "/operations"),
        "effects": paged_link(self_href + "/effects"),
        "precedes": link(f"{base}/transactions?order=asc&cursor={token}"),
        "succeeds": link(f"{base}/transactions?order=desc&cursor={token}"),
        "transaction": link(self_href),
    })


def operation(base: str, record: Record) -> Record:
    self_href = f"{base}/operations/{record['id']}"
    token = record["paging_token"]
    return _with_links(record, {
        "self": link(self_href),
        "transaction": link(f"{base}/transactions/{record['transaction_hash']}"),
        "effects": link(self_href + "/effects"),
        # Horizon's operation links point `succeeds`/`precedes` at /effects; kept as it does.
        "succeeds": link(f"{base}/effects?order=desc&cursor={token}"),
        "precedes": link(f"{base}/effects?order=asc&cursor={token}"),
    })


def effect(base: str, record: Record) -> Record:
    token = record["paging_token"]
    return _with_links(record, {
        "operation": link(f"{base}/operations/{_op_id_of(record['id'])}"),
        "succeeds": link(f"{base}/effects?order=desc&cursor={token}"),
        "precedes": link(f"{base}/effects?order=asc&cursor={token}"),
    })


def trade(base: str, record: Record) -> Record:
    links: dict[str, Any] = {"self": {"href": ""}}
    for side in ("base", "counter"):  # an offer's side links its account, a pool's side the pool
        if record.get(f"{side}_account"):
            links[side] = link(f"{base}/accounts/{record[f'{side}_account']}")
        elif record.get(f"{side}_liquidity_pool_id"):
            links[side] = link(f"{base}/liquidity_pools/{record[f'{side}_liquidity_pool_id']}")
    links["operation"] = link(f"{base}/operations/{_op_id_of(record['id'])}")
    return _with_links(record, links)


def offer(base: str, record: Record) -> Record:
    return _with_links(record, {
        "self": link(f"{base}/offers/{record['id']}"),
        "offer_maker": link(f"{base}/accounts/{record['seller']}"),
    })


def account(base: str, record: Record) -> Record:
    self_href = f"{base}/accounts/{record['account_id']}"
    return _with_links(record, {
        "self": link(self_href),
        "transactions": paged_link(self_href + "/transactions"),
        "operations": paged_link(self_href + "/operations"),
        "payments": paged_link(self_href + "/payments"),
        "effects": paged_link(self_href + "/effects"),
        "offers": paged_link(self_href + "/offers"),
        "trades": paged_link(self_href + "/trades"),
        "data": link(self_href + "/data/{key}"),
    })


def liquidity_pool(base: str, record: Record) -> Record:
    self_href = f"{base}/liquidity_pools/{record['id']}"
    return _with_links(record, {
        "self": link(self_href),
        "transactions": paged_link(self_href + "/transactions"),
        "operations": paged_link(self_href + "/operations"),
    })


def asset_stat(base: str, record: Record) -> Record:
    return _with_links(record, {"toml": {"href": ""}})  # issuers have no home domain here


RENDERERS: dict[str, Callable[[str, Record], Record]] = {
    "ledgers": ledger,
    "transactions": transaction,
    "operations": operation,
    "effects": effect,
    "trades": trade,
    "offers": offer,
    "accounts": account,
    "liquidity_pools": liquidity_pool,
    "assets": asset_stat,
}


def _page_url(request: web.Request, base: str, cursor: str, order: str, limit: int) -> str:
    params = dict(request.query)
    params.update({"cursor": cursor, "order": order, "limit": str(limit)})
    # Horizon encodes the query with sorted keys (Go's url.Values.Encode).
    return f"{base}{quote(request.path)}?{urlencode(sorted(params.items()))}"


def page(request: web.Request, records: Iterable[Record], render: Callable[[str, Record], Record],
         cursor: str | None, order: str, limit: int) -> Record:
    """Horizon's collection page around already-selected `records` (in response order)."""
    base = base_url(request)
    rendered = [render(base, record) for record in records]
    self_cursor = cursor or ""
    next_cursor = rendered[-1]["paging_token"] if rendered else self_cursor
    prev_cursor = rendered[0]["paging_token"] if rendered else self_cursor
    inverted = "asc" if order == "desc" else "desc"
    return {
        "_links": {
            "self": link(_page_url(request, base, self_cursor, order, limit)),
            "next": link(_page_url(request, base, next_cursor, order, limit)),
            "prev": link(_page_url(request, base, prev_cursor, inverted, limit)),
        },
        "_embedded": {"records": rendered},
    }


def root(base: str, info: Record) -> Record:
    """The root resource (`GET /`): `info` holds the version, ledger and passphrase fields."""
    trade_params = ("base_asset_type={base_asset_type}&base_asset_code={base_asset_code}"
                    "&base_asset_issuer={base_asset_issuer}&counter_asset_type={counter_asset_type}"
                    "&counter_asset_code={counter_asset_code}&counter_asset_issuer={counter_asset_issuer}")
    links = {
        "account": link(f"{base}/accounts/{{account_id}}"),
        "accounts": link(f"{base}/accounts{{?signer,sponsor,asset,liquidity_pool,cursor,limit,order}}"),
        "assets": link(f"{base}/assets{{?asset_code,asset_issuer,cursor,limit,order}}"),
        "liquidity_pools": link(f"{base}/liquidity_pools{{?reserves,account,cursor,limit,order}}"),
        "strict_receive_paths": link(f"{base}/paths/strict-receive{{?source_assets,source_account,destination_account,"
                                     "destination_asset_type,destination_asset_issuer,destination_asset_code,"
                                     "destination_amount}"),
        "strict_send_paths": link(f"{base}/paths/strict-send{{?destination_account,destination_assets,"
                                  "source_asset_type,source_asset_issuer,source_asset_code,source_amount}"),
        "account_transactions": paged_link(f"{base}/accounts/{{account_id}}/transactions"),
        "effects": link(f"{base}/effects{{?cursor,limit,order}}"),
        "fee_stats": link(f"{base}/fee_stats"),
        "friendbot": link(f"{base}/friendbot{{?addr}}"),
        "ledger": link(f"{base}/ledgers/{{sequence}}"),
        "ledgers": link(f"{base}/ledgers{{?cursor,limit,order}}"),
        "offer": link(f"{base}/offers/{{offer_id}}"),
        "offers": link(f"{base}/offers{{?selling,buying,seller,sponsor,cursor,limit,order}}"),
        "operation": link(f"{base}/operations/{{id}}"),
        "operations": link(f"{base}/operations{{?cursor,limit,order,include_failed}}"),
        "order_book": link(f"{base}/order_book{{?selling_asset_type,selling_asset_code,selling_asset_issuer,"
                           "buying_asset_type,buying_asset_code,buying_asset_issuer,limit}"),
        "payments": link(f"{base}/payments{{?cursor,limit,order,include_failed}}"),
        "self": link(f"{base}/"),
        "trade_aggregations": link(f"{base}/trade_aggregations?{trade_params}"),
        "trades": link(f"{base}/trades?{trade_params}"),
        "transaction": link(f"{base}/transactions/{{hash}}"),
        "transactions": paged_link(f"{base}/transactions"),
    }
    return _with_links(info, links)


def json_page(request: web.Request, records: Iterable[Record], render: Callable[[str, Record], Record],
              query: Any) -> web.Response:
    """`page` of already selected records as the HTTP response (`query`: a paging.PageQuery)."""
    return json_response(page(request, records, render, query.cursor, query.order, query.limit))
