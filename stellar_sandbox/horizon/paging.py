"""Horizon's paging parameters: `cursor`, `order`, `limit`, with its 400 problems for bad values.

Rules as Horizon applies them: `order` is `asc` (default) or `desc`; `limit` is 1..200 (default 10);
`cursor` is a paging token (a non-negative integer, or `<int>-<int>` for effects and trades),
`now` meaning "after the latest closed ledger", and the `Last-Event-ID` header, when present,
overrides `cursor` (how an SSE client resumes).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from stellar_sandbox.horizon.errors import invalid_field

DEFAULT_LIMIT = 10
MAX_LIMIT = 200
CURSOR_NOW = "now"


@dataclass(frozen=True, slots=True)
class PageQuery:
    cursor: str | None  # None: from the start (asc) or the end (desc); a paging token otherwise
    order: str  # "asc" or "desc"
    limit: int
    limit_given: bool  # the client set `limit` (streams end after that many events, as Horizon's do)

    @property
    def descending(self) -> bool:
        return self.order == "desc"


def token_key(token: str) -> tuple[int, int]:
    """Sort key of a paging token: `"123"` → (123, 0); `"123-4"` → (123, 4). Raises ValueError if malformed."""
    head, sep, tail = token.partition("-")
    if not head.isascii() or not head.isdigit() or (sep and not (tail.isascii() and tail.isdigit())):
        raise ValueError(f"invalid paging token {token!r}")
    return int(head), int(tail) if sep else 0


def parse_limit(request: web.Request, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT,
                name: str = "limit") -> int:
    raw = request.query.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_field(name, "unparseable value") from None
    if value <= 0:
        raise invalid_field(name, "invalid limit: non-positive value provided")
    if value > maximum:
        raise invalid_field(name, f"invalid limit: value provided that is over limit max of {maximum}")
    return value


def parse_cursor(request: web.Request, now_token: str | None = None) -> str | None:
    """The cursor (after `Last-Event-ID` override and `now` resolution), validated, or None if absent.

    `now_token` is the paging token that `cursor=now` stands for (the latest closed ledger's
    boundary); without it `now` is rejected.
    """
    cursor = request.query.get("cursor", "")
    last_event_id = request.headers.get("Last-Event-ID", "")
    if last_event_id:
        cursor = last_event_id
    if cursor == "":
        return None
    if cursor == CURSOR_NOW:
        if now_token is None:
            raise invalid_field("cursor", "cursor: invalid value")
        return now_token
    if cursor.lstrip("-").isdigit() and cursor.startswith("-"):
        raise invalid_field("cursor", f"the cursor {cursor} is a negative number: ")
    try:
        token_key(cursor)
    except ValueError:
        raise invalid_field("cursor", "cursor: invalid value") from None
    return cursor


def parse_page_query(request: web.Request, now_token: str | None = None, default_limit: int = DEFAULT_LIMIT,
                     max_limit: int = MAX_LIMIT) -> PageQuery:
    order = request.query.get("order", "") or "asc"
    if order not in ("asc", "desc"):
        raise invalid_field("order", "order: invalid value")
    cursor = parse_cursor(request, now_token)
    limit = parse_limit(request, default_limit, max_limit)
    return PageQuery(cursor=cursor, order=order, limit=limit, limit_given="limit" in request.query)


def parse_string_page_query(request: web.Request, default_limit: int = DEFAULT_LIMIT,
                            max_limit: int = MAX_LIMIT) -> PageQuery:
    """Paging of records whose paging token is a string (pool ids, asset tokens): the cursor is taken as
    it is (Horizon skips its cursor validation there); `Last-Event-ID` still overrides it."""
    order = request.query.get("order", "") or "asc"
    if order not in ("asc", "desc"):
        raise invalid_field("order", "order: invalid value")
    cursor = request.headers.get("Last-Event-ID", "") or request.query.get("cursor", "")
    limit = parse_limit(request, default_limit, max_limit)
    return PageQuery(cursor=cursor or None, order=order, limit=limit, limit_given="limit" in request.query)


def page_by_token(records: list, token: Callable[[Any], str], query: PageQuery) -> list:
    """One page of `records` (sorted by ascending `token`) after (asc) or before (desc) the query's cursor."""
    if query.order == "asc":
        chosen = [r for r in records if query.cursor is None or token(r) > query.cursor]
        return chosen[:query.limit]
    chosen = [r for r in records if query.cursor is None or token(r) < query.cursor]
    return chosen[::-1][:query.limit]
