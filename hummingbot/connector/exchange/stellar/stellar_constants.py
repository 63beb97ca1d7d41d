"""Stellar network and Horizon constants for the connector."""
from typing import Dict, List, Optional, Tuple

from hummingbot.core.api_throttler.data_types import LinkedLimitWeightPair, RateLimit

EXCHANGE_NAME = "stellar"

# Domains, as Hummingbot names connector variants ("stellar", "stellar_testnet")
DEFAULT_DOMAIN = "stellar"
TESTNET_DOMAIN = "stellar_testnet"

HORIZON_URLS: Dict[str, str] = {
    DEFAULT_DOMAIN: "https://horizon.stellar.org",
    TESTNET_DOMAIN: "https://horizon-testnet.stellar.org",
}
NETWORK_PASSPHRASES: Dict[str, str] = {
    DEFAULT_DOMAIN: "Public Global Stellar Network ; September 2015",
    TESTNET_DOMAIN: "Test SDF Network ; September 2015",
}
# SDF runs no public RPC for the main network; a user who wants one sets stellar_rpc_url.
RPC_URLS: Dict[str, Optional[str]] = {
    DEFAULT_DOMAIN: None,
    TESTNET_DOMAIN: "https://soroban-testnet.stellar.org",
}
# A standalone network, as stellar-core's quickstart and our sandbox run it
SANDBOX_PASSPHRASE = "Standalone Network ; February 2017"

# Horizon paths the connector requests. Templates with {placeholders} are also the rate-limit ids of
# their requests: every path here needs its limit, so each one is in ALL_PATHS.
ROOT_PATH = "/"
FEE_STATS_PATH = "/fee_stats"
LEDGERS_PATH = "/ledgers"
ACCOUNT_PATH = "/accounts/{account_id}"
ACCOUNT_OFFERS_PATH = "/accounts/{account_id}/offers"
ACCOUNT_TRADES_PATH = "/accounts/{account_id}/trades"
ACCOUNT_TRANSACTIONS_PATH = "/accounts/{account_id}/transactions"
OFFER_PATH = "/offers/{offer_id}"
ORDER_BOOK_PATH = "/order_book"
TRADES_PATH = "/trades"
TRANSACTIONS_ASYNC_PATH = "/transactions_async"
TRANSACTION_PATH = "/transactions/{tx_hash}"
LIQUIDITY_POOLS_PATH = "/liquidity_pools"
LIQUIDITY_POOL_EFFECTS_PATH = "/liquidity_pools/{liquidity_pool_id}/effects"

ALL_PATHS: List[str] = [
    ROOT_PATH, FEE_STATS_PATH, LEDGERS_PATH, ACCOUNT_PATH, ACCOUNT_OFFERS_PATH, ACCOUNT_TRADES_PATH,
    ACCOUNT_TRANSACTIONS_PATH, OFFER_PATH, ORDER_BOOK_PATH, TRADES_PATH,
    TRANSACTIONS_ASYNC_PATH, TRANSACTION_PATH, LIQUIDITY_POOLS_PATH, LIQUIDITY_POOL_EFFECTS_PATH,
]

# /transactions_async answers (tx_status)
TX_STATUS_PENDING = "PENDING"
TX_STATUS_DUPLICATE = "DUPLICATE"
TX_STATUS_TRY_AGAIN_LATER = "TRY_AGAIN_LATER"
TX_STATUS_ERROR = "ERROR"

# Rate limits. SDF's public Horizon allows 3,600 requests per hour per IP address, whatever the
# path (a stream counts as one request when it opens), so every path links to one global pool.
HORIZON_REQUESTS_POOL = "HORIZON_REQUESTS"
RPC_LIMIT_ID = "STELLAR_RPC"
RPC_REQUESTS_PER_MINUTE = 60             # the connector asks it once per status poll
ONE_HOUR = 3600
PUBLIC_HORIZON_REQUESTS_PER_HOUR = 3600
# For a Horizon the user runs (or our loopback sandbox), where SDF's budget does not apply
LOCAL_HORIZON_REQUESTS_PER_HOUR = 3_600_000
# Hummingbot's throttler rescans every request it logged within a limit's window on each call: with
# an hour-long window a call costs milliseconds once a few thousand requests are logged
# (benchmarks/throttler.py). The same hourly budget is therefore declared over a short window.
RATE_LIMIT_WINDOW_S = 60                 # public budgets: 3,600/h is 60 a minute
LARGE_BUDGET_WINDOW_S = 1                # budgets above LARGE_BUDGET_PER_HOUR: per second
LARGE_BUDGET_PER_HOUR = 360_000


def rate_limit_window(requests_per_hour: int) -> Tuple[int, int]:
    """(limit, seconds): `requests_per_hour` as a budget over a short window (at least 1 request)."""
    if requests_per_hour <= 0:
        raise ValueError(f"requests_per_hour must be positive, got {requests_per_hour}")
    window = LARGE_BUDGET_WINDOW_S if requests_per_hour > LARGE_BUDGET_PER_HOUR else RATE_LIMIT_WINDOW_S
    return max(1, requests_per_hour * window // ONE_HOUR), window


def build_rate_limits(requests_per_hour: int = PUBLIC_HORIZON_REQUESTS_PER_HOUR) -> List[RateLimit]:
    """One global pool of `requests_per_hour` (over a short window), and one limit per path that draws on it."""
    limit, window = rate_limit_window(requests_per_hour)
    pool = [LinkedLimitWeightPair(HORIZON_REQUESTS_POOL, 1)]
    limits = [RateLimit(limit_id=HORIZON_REQUESTS_POOL, limit=limit, time_interval=window)]
    limits.extend(
        RateLimit(limit_id=path, limit=limit, time_interval=window, linked_limits=pool)
        for path in ALL_PATHS
    )
    # A Stellar RPC server is another host with its own budget: not drawn from Horizon's pool.
    limits.append(RateLimit(limit_id=RPC_LIMIT_ID, limit=RPC_REQUESTS_PER_MINUTE, time_interval=60))
    return limits


RATE_LIMITS: List[RateLimit] = build_rate_limits(PUBLIC_HORIZON_REQUESTS_PER_HOUR)

# Units and protocol limits
STROOPS_PER_UNIT = 10_000_000
DECIMALS = 7
INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1
MAX_OPS_PER_TX = 100
BASE_FEE_STROOPS = 100                 # the network minimum per operation
DEFAULT_MAX_FEE_STROOPS = 10_000       # our default cap per operation (0.001 XLM) during surge pricing
TX_TIME_BOUND_SECONDS = 30             # max_time of a tx: after it, a lost tx can no longer apply
# While the account's transaction stream is up, a submitted tx is looked up by hash no sooner than this:
# a ledger (5-6 s on the public networks) and its ingestion, by which time the stream has told.
STREAMED_RESULT_POLL_DELAY_S = 8.0
BASE_RESERVE_STROOPS = 5_000_000       # 0.5 XLM per subentry, and twice that for the account itself
FEE_PERCENTILE = 70                    # which percentile of recent fees charged we bid
# Fee figures (/fee_stats) are read this often while the connector runs (ConfigCache.keep_fresh, a little
# before they expire): 12 reads an hour (it was 30 s, 120 an hour, twice the connector's whole steady-state
# budget of REST reads). A surge in between shows as a refused transaction (tx_insufficient_fee): the figures
# are read at once and the transaction rebuilt once at the higher bid, within stellar_max_fee_stroops.
FEE_FIGURES_TTL_S = 300.0
FEE_FIGURES_MIN_AGE_S = 5.0            # a refused bid reads the figures again unless they are this young (a ledger)

# What the order book shows (`stellar_book_liquidity`): the offers alone, or also the pair's liquidity pool as
# levels at the prices a taker would get from it (stellar_pool_levels). The default shows the pool: takers
# (path payments, our MARKET orders) trade with it, so prices and depth without it are not the market's.
BOOK_ONLY = "book"
BOOK_AND_POOL = "book+pool"
BOOK_LIQUIDITY_MODES = (BOOK_ONLY, BOOK_AND_POOL)
DEFAULT_BOOK_LIQUIDITY = BOOK_AND_POOL

NATIVE_ASSET_CODE = "XLM"
NATIVE_ASSET_TYPE = "native"

# Stellar result codes, as Horizon names them in extras.result_codes, with a message for people.
TX_RESULT_MESSAGES: Dict[str, str] = {
    "tx_success": "The transaction succeeded.",
    "tx_failed": "One of the operations failed (see the operation result codes); nothing was applied.",
    "tx_too_early": "The ledger close time is before the transaction's min_time.",
    "tx_too_late": "The transaction expired: the ledger close time is after its max_time.",
    "tx_missing_operation": "The transaction has no operation.",
    "tx_bad_seq": "Bad sequence number: the source account's sequence has moved on; resync it and rebuild.",
    "tx_bad_auth": "Missing or wrong signatures (or the network passphrase does not match the network).",
    "tx_insufficient_balance": "The fee would take the source account below its minimum XLM balance.",
    "tx_no_source_account": "The transaction's source account does not exist.",
    "tx_insufficient_fee": "The fee is below the network's current minimum (surge pricing); raise the max fee.",
    "tx_bad_auth_extra": "The transaction carries signatures that are not needed.",
    "tx_internal_error": "stellar-core hit an internal error.",
    "tx_not_supported": "The transaction type is not supported.",
    "tx_fee_bump_inner_success": "The fee-bump's inner transaction succeeded.",
    "tx_fee_bump_inner_failed": "The fee-bump's inner transaction failed.",
    "tx_bad_sponsorship": "A sponsorship is not closed within the transaction.",
    "tx_bad_minseq_age_or_gap": "The min sequence age or ledger gap precondition is not met.",
    "tx_malformed": "The transaction is malformed.",
    "tx_soroban_invalid": "The Soroban parts of the transaction are invalid.",
}
OP_RESULT_MESSAGES: Dict[str, str] = {
    "op_success": "The operation succeeded.",
    "op_inner": "The operation ran (see its inner result).",
    "op_bad_auth": "The operation's source account did not sign, or its signatures do not reach the threshold.",
    "op_no_source_account": "The operation's source account does not exist.",
    "op_no_account": "The operation's source account does not exist.",
    "op_not_supported": "The operation is not supported by this network.",
    "op_too_many_subentries": "The account has too many subentries (offers, trustlines, signers).",
    "op_exceeded_work_limit": "The operation did too much work (too many offers crossed).",
    "op_too_many_sponsoring": "The account sponsors too many entries.",
    # Offers (ManageSellOffer, ManageBuyOffer, CreatePassiveSellOffer)
    "op_malformed": "The offer is malformed: bad amount or price, or the same asset on both sides.",
    "op_sell_no_trust": "The account has no trustline for the asset it sells.",
    "op_buy_no_trust": "The account has no trustline for the asset it buys.",
    "op_sell_not_authorized": "The account is not authorized by the issuer to sell this asset.",
    "op_buy_not_authorized": "The account is not authorized by the issuer to buy this asset.",
    "op_line_full": "The account cannot receive more of the bought asset: its trustline limit would be exceeded.",
    "op_underfunded": "The account does not hold enough of the asset it sells (after its other offers).",
    "op_cross_self": "The offer would cross an offer of the same account.",
    "op_sell_no_issuer": "The issuer of the asset sold does not exist.",
    "op_buy_no_issuer": "The issuer of the asset bought does not exist.",
    "op_offer_not_found": "No offer with this id belongs to the account (already filled or cancelled).",
    "op_low_reserve": "The account's XLM balance is below the minimum reserve needed for a new entry.",
    # Trustlines and payments
    "op_no_issuer": "The asset's issuer does not exist.",
    "op_invalid_limit": "The trustline limit is below the current balance and liabilities.",
    "op_self_not_allowed": "An issuer cannot trust its own asset.",
    "op_trust_line_missing": "The trustline does not exist.",
    "op_cannot_delete": "The trustline cannot be deleted while it holds a balance or liabilities.",
    "op_not_auth_maintain_liabilities": "The asset's issuer does not allow maintaining liabilities.",
    "op_src_no_trust": "The source account has no trustline for the asset sent.",
    "op_src_not_authorized": "The source account is not authorized to send this asset.",
    "op_no_destination": "The destination account does not exist.",
    "op_no_trust": "The destination account has no trustline for the asset.",
    "op_not_authorized": "The destination account is not authorized to hold the asset.",
    "op_too_few_offers": "The order book does not hold enough offers for the path payment.",
    "op_offer_cross_self": "The path payment would cross an offer of the source account.",
    "op_over_source_max": "The path payment would cost more than the source maximum.",
    "op_under_dest_min": "The path payment would deliver less than the destination minimum.",
    "op_already_exists": "The account already exists.",
}
RESULT_CODE_MESSAGES: Dict[str, str] = {**TX_RESULT_MESSAGES, **OP_RESULT_MESSAGES}


def result_code_message(code: str) -> str:
    """A message for people for a result code as Horizon spells it: tx_*, op_*, or one of the offer
    codes Horizon leaves unprefixed (sell_not_authorized, buy_not_authorized, buy_no_issuer), which
    read as their op_* twins. Unknown codes are named as such."""
    message = RESULT_CODE_MESSAGES.get(code)
    if message is None and not code.startswith(("op_", "tx_")):
        message = OP_RESULT_MESSAGES.get("op_" + code)
    return message if message is not None else f"Unknown Stellar result code {code!r}."
