"""Horizon's problem+json error responses.

Horizon renders every error as an RFC 7807 problem whose `type` is a URL under
`https://stellar.org/horizon-errors/`; stellar-sdk reads `type`, `title`, `status`, `detail` and
`extras` (notably `extras.result_xdr` and `extras.result_codes`) from it. The shapes and wording
here follow Horizon's own problem definitions so clients parse them unchanged.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

PROBLEM_TYPE_PREFIX = "https://stellar.org/horizon-errors/"
PROBLEM_CONTENT_TYPE = "application/problem+json"

logger = logging.getLogger(__name__)


class Problem(Exception):
    """An error that renders as a Horizon problem response."""

    def __init__(self, type_: str, title: str, status: int, detail: str = "",
                 extras: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {type_}: {detail}")
        self.type = type_
        self.title = title
        self.status = status
        self.detail = detail
        self.extras = extras

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": PROBLEM_TYPE_PREFIX + self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if self.extras:
            body["extras"] = self.extras
        return body

    def to_response(self) -> web.Response:
        return web.Response(status=self.status, text=json.dumps(self.as_dict(), indent=2),
                            content_type=PROBLEM_CONTENT_TYPE, charset="utf-8")


def not_found() -> Problem:
    return Problem("not_found", "Resource Missing", 404,
                   "The resource at the url requested was not found.  This usually occurs for one of two reasons:  "
                   "The url requested is not valid, or no data in our database could be found with the parameters "
                   "provided.")


def bad_request(detail: str = "The request you sent was invalid in some way.",
                extras: dict[str, Any] | None = None) -> Problem:
    return Problem("bad_request", "Bad Request", 400, detail, extras)


def invalid_field(name: str, reason: str) -> Problem:
    """Horizon's `MakeInvalidFieldProblem`: a bad_request naming the field and the reason."""
    return bad_request(extras={"invalid_field": name, "reason": reason})


def not_acceptable() -> Problem:
    return Problem("not_acceptable", "An acceptable response content-type could not be provided for this request",
                   406)


def server_error() -> Problem:
    return Problem("server_error", "Internal Server Error", 500,
                   "An error occurred while processing this request.  This is usually due to a bug within the server "
                   "software.  Trying this request again may succeed if the bug is transient. Otherwise, please "
                   "contact the system administrator.")


def invalid_order_book() -> Problem:
    return Problem("invalid_order_book", "Invalid Order Book Parameters", 400,
                   "The parameters that specify what order book to view are invalid in some way. Please ensure that "
                   "your type parameters (selling_asset_type and buying_asset_type) are one the following valid "
                   "values: native, credit_alphanum4, credit_alphanum12.  Also ensure that you have specified "
                   "selling_asset_code and selling_asset_issuer if selling_asset_type is not 'native', as well as "
                   "buying_asset_code and buying_asset_issuer if buying_asset_type is not 'native'")


def transaction_malformed(envelope_xdr: str) -> Problem:
    return Problem("transaction_malformed", "Transaction Malformed", 400,
                   "Horizon could not decode the transaction envelope in this request. A transaction should be an XDR "
                   "TransactionEnvelope struct encoded using base64.  The envelope read from this request is echoed "
                   "in the `extras.envelope_xdr` field of this response for your convenience.",
                   {"envelope_xdr": envelope_xdr})


def transaction_failed(envelope_xdr: str, result_xdr: str, result_codes: dict[str, Any]) -> Problem:
    return Problem("transaction_failed", "Transaction Failed", 400,
                   "The transaction failed when submitted to the stellar network. The `extras.result_codes` field on "
                   "this response contains further details.  Descriptions of each code can be found at: "
                   "https://developers.stellar.org/api/errors/http-status-codes/horizon-specific/transaction-failed/",
                   {"envelope_xdr": envelope_xdr, "result_xdr": result_xdr, "result_codes": result_codes})


def submission_timeout(tx_hash: str, envelope_xdr: str) -> Problem:
    """504 for a synchronous submission whose transaction did not make it into a ledger in time."""
    return Problem("transaction_submission_timeout", "Transaction Submission Timeout", 504,
                   "Your transaction submission request has timed out. This does not necessarily mean the submission "
                   "has failed. Before resubmitting, please use the transaction hash provided in `extras.hash` to "
                   "poll the GET /transactions endpoint for sometime and check if it was included in a ledger.",
                   {"hash": tx_hash, "envelope_xdr": envelope_xdr})


def unsupported_media_type() -> Problem:
    return Problem("unsupported_media_type", "Unsupported Media Type", 415,
                   "The request has an unsupported content type. Presently, the only supported content type is "
                   "application/x-www-form-urlencoded.")


@web.middleware
async def problem_middleware(request: web.Request, handler):
    """Render `Problem`s, unknown routes and unexpected exceptions as Horizon problems."""
    try:
        return await handler(request)
    except Problem as problem:
        return problem.to_response()
    except web.HTTPNotFound:
        return not_found().to_response()
    except web.HTTPMethodNotAllowed:
        return Problem("method_not_allowed", "Method Not Allowed", 405,
                       "This endpoint does not support the request method you used.").to_response()
    except web.HTTPException:
        raise
    except Exception:
        logger.exception("unexpected error serving %s %s", request.method, request.path)
        return server_error().to_response()
