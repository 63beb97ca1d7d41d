"""ConfigCache: network settings and the network's current fee and reserve figures.

Settings (Horizon URLs, passphrase, RPC URL) are fixed for the connector's life and resolved once
from the domain and the user's overrides. The figures change with the network and are read from
Horizon through a `fetch_json` the exchange attaches (this module does no HTTP): fee figures stay
fresh for `ttl_seconds` (surge pricing moves them), the base reserve and account thresholds for
`slow_ttl_seconds` (they change by network vote or by the account's owner).

What the cache is for: the fee bid of every transaction without a Horizon read on the order path.
A read of a fresh figure is a hit. A read of an expired one is a miss: it answers with the last
value read (stale beats a guess; before any read, the protocol default) and starts one refresh in
the background, so figures are read at most once per TTL. While the connector runs, `keep_fresh`
reads the fee figures a little before they expire (one /fee_stats read per TTL, 12 an hour): a
surge shows in the bid within a TTL even when no order was placed, and an order's fee read is a
hit. A bid refused for its fee asks for the figures at once (`refresh_fees_now`).
"""
import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple

from cachetools import TLRUCache

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from hummingbot.connector.exchange.stellar.stellar_backoff import Backoff

FetchJson = Callable[..., Awaitable[Dict[str, Any]]]

_HIT_POINT = measurement.CACHE_HIT_PREFIX + measurement.CONFIG_CACHE
_MISS_POINT = measurement.CACHE_MISS_PREFIX + measurement.CONFIG_CACHE
_BASE_FEE = "base_fee"
_BASE_RESERVE = "base_reserve"
_FEE_CHARGED = "fee_charged"          # Horizon's fee_stats.fee_charged percentiles, as ints
_LAST_LEDGER = "last_ledger"
_THRESHOLDS = "thresholds:"
_SLOW_KEYS = frozenset({_BASE_RESERVE})
_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class NetworkSettings:
    domain: str
    horizon_url: str                    # the first of horizon_urls: the one Horizon of a one-URL setting
    network_passphrase: str
    rpc_url: Optional[str]
    horizon_urls: Tuple[str, ...] = ()  # every Horizon the user gave, in their order (failover: stellar_horizon_pool)


def blank_to_none(value: Any) -> Any:
    """A configuration value as the connector reads it: text stripped, blank text ("" or whitespace) is
    None (unset: Hummingbot passes "" for every key the user left empty); anything else as given."""
    if isinstance(value, str):
        return value.strip() or None
    return value


def split_urls(value: Any) -> Tuple[str, ...]:
    """One URL or several (text separated by commas, or a list) -> the URLs without trailing slashes, blanks
    and repeats dropped, in their order; () for none."""
    value = blank_to_none(value)
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    urls: list = []
    for item in items:
        url = (blank_to_none(item) or "").rstrip("/") if isinstance(item, str) else item
        if url and url not in urls:
            urls.append(url)
    return tuple(urls)


def resolve_network_settings(domain: str,
                             horizon_url: Any = None,
                             network_passphrase: Optional[str] = None,
                             rpc_url: Optional[str] = None) -> NetworkSettings:
    """The domain's defaults, each replaced by the user's override when one is given (blank = none).
    `horizon_url`: one URL, or several separated by commas (or a list)."""
    default_url = CONSTANTS.HORIZON_URLS.get(domain)
    horizon_urls = split_urls(horizon_url) or ((default_url.rstrip("/"),) if default_url else ())
    horizon_url = horizon_urls[0] if horizon_urls else None
    network_passphrase = blank_to_none(network_passphrase) or CONSTANTS.NETWORK_PASSPHRASES.get(domain)
    if horizon_url is None or network_passphrase is None:
        raise ValueError(
            f"Domain {domain!r} has no default Horizon URL or network passphrase; "
            f"set stellar_horizon_url and stellar_network_passphrase")
    rpc_url = blank_to_none(rpc_url) or CONSTANTS.RPC_URLS.get(domain)
    return NetworkSettings(domain=domain, horizon_url=horizon_url, network_passphrase=network_passphrase,
                           rpc_url=rpc_url, horizon_urls=horizon_urls)


class ConfigCache:
    def __init__(self,
                 domain: str = CONSTANTS.DEFAULT_DOMAIN,
                 horizon_url: Any = None,
                 network_passphrase: Optional[str] = None,
                 rpc_url: Optional[str] = None,
                 ttl_seconds: float = CONSTANTS.FEE_FIGURES_TTL_S,
                 slow_ttl_seconds: float = 3600.0,
                 maxsize: int = 256,
                 fee_percentile: int = CONSTANTS.FEE_PERCENTILE,
                 timer: Callable[[], float] = time.monotonic):
        self.network = resolve_network_settings(domain, horizon_url, network_passphrase, rpc_url)

        def expires(key: str, _value: Any, now: float) -> float:
            slow = key in _SLOW_KEYS or key.startswith(_THRESHOLDS)
            return now + (slow_ttl_seconds if slow else ttl_seconds)

        self._fresh: TLRUCache = TLRUCache(maxsize=maxsize, ttu=expires, timer=timer)
        self._last_known: Dict[str, Any] = {}
        self._fetch_json: Optional[FetchJson] = None
        self._refreshing: Optional[asyncio.Task] = None
        self._keeper: Optional[asyncio.Task] = None   # keep_fresh, while started
        self._timer = timer
        self._retry_backoff = Backoff(base=1.0, cap=60.0)
        self._retry_at = 0.0                    # after a failed refresh, none starts before this time
        self._fee_percentile_key = f"p{fee_percentile}"
        self._ttl = ttl_seconds
        self._fees_read_at: Optional[float] = None   # when /fee_stats was last read (timer)
        self._fees_fresh_until = 0.0                  # the fee figures are fresh before this time (timer)
        self._bid = CONSTANTS.BASE_FEE_STROOPS        # per operation, from the last known figures, uncapped
        self.hits = 0
        self.misses = 0

    # Network settings (fixed)

    @property
    def horizon_url(self) -> str:
        return self.network.horizon_url

    @property
    def horizon_urls(self) -> Tuple[str, ...]:
        return self.network.horizon_urls

    @property
    def network_passphrase(self) -> str:
        return self.network.network_passphrase

    @property
    def rpc_url(self) -> Optional[str]:
        return self.network.rpc_url

    # Freshness

    def _get(self, key: str, default: Any) -> Any:
        value = self._fresh.get(key)
        if value is not None:
            self.hits += 1
            measurement.count(_HIT_POINT)
            return value
        self.misses += 1
        measurement.count(_MISS_POINT)
        self.refresh_soon()
        return self._last_known.get(key, default)

    def _put(self, key: str, value: Any) -> None:
        self._fresh[key] = value
        self._last_known[key] = value

    def needs_refresh(self) -> bool:
        """True when the fee figures are older than the TTL (or were never read)."""
        return _BASE_FEE not in self._fresh or _BASE_RESERVE not in self._fresh

    def attach(self, fetch_json: FetchJson) -> None:
        """How to read Horizon (`fetch_json(path, params=None) -> dict`); from then on an expired read
        starts a refresh."""
        self._fetch_json = fetch_json

    def refresh_soon(self) -> None:
        """Start one refresh in the background, unless one is running, the last failed too recently, or
        nothing is attached."""
        if self._fetch_json is None or (self._refreshing is not None and not self._refreshing.done()) \
                or self._timer() < self._retry_at:
            return
        try:
            self._refreshing = asyncio.get_running_loop().create_task(self._refresh_logged())
        except RuntimeError:   # no event loop running: the next read in one will
            pass

    async def refresh_fees_now(self, min_age: float = CONSTANTS.FEE_FIGURES_MIN_AGE_S) -> bool:
        """Read the fee figures now (a bid was refused for its fee), unless they are younger than `min_age` s
        (within a ledger they cannot have changed: lanes refused together share one read) or a failed read
        asks to wait; joins a refresh under way. True when the figures are that young afterwards."""
        if self._fees_read_at is None or self._timer() - self._fees_read_at >= min_age:
            if self._fetch_json is None or self._timer() < self._retry_at:
                return False
            if self._refreshing is None or self._refreshing.done():
                self._refreshing = asyncio.get_running_loop().create_task(self._refresh_logged())
            await asyncio.shield(self._refreshing)
        return self._fees_read_at is not None and self._timer() - self._fees_read_at < min_age

    def start_keeping_fresh(self) -> None:
        """Run `keep_fresh` in the background (the exchange does while its network runs); no second one."""
        if self._keeper is None or self._keeper.done():
            self._keeper = asyncio.get_running_loop().create_task(self.keep_fresh())

    def stop_keeping_fresh(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
            self._keeper = None

    async def keep_fresh(self, sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        """Read the fee figures a little before they expire (at once if never read), until cancelled; after a
        failed read, when its backoff allows. Needs `attach` first. `sleep`: for tests with a fake timer."""
        if self._fetch_json is None:
            raise RuntimeError("ConfigCache.keep_fresh needs attach(fetch_json) first")
        ahead = min(10.0, self._ttl / 10)
        while True:
            due = 0.0 if self._fees_read_at is None else self._fees_read_at + self._ttl - ahead
            wait = max(due, self._retry_at) - self._timer()
            if wait > 0:
                await sleep(wait)
                continue      # look again: another read may have come meanwhile
            if self._refreshing is None or self._refreshing.done():
                self._refreshing = asyncio.get_running_loop().create_task(self._refresh_logged())
            await asyncio.shield(self._refreshing)   # after it, the figures are fresh or a retry time is set

    async def _refresh_logged(self) -> None:
        try:
            await self.refresh(self._fetch_json)
            self._retry_backoff.reset()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            delay = self._retry_backoff.next_delay()
            self._retry_at = self._timer() + delay   # a failing Horizon is not asked at every read
            _LOGGER.warning(f"Could not refresh the network's fee and reserve figures ({error}); "
                            f"next try in {delay:.0f}s or later.")

    async def refresh(self, fetch_json: FetchJson) -> None:
        """Read /fee_stats, and the latest ledger when the base reserve has expired."""
        fee_stats = await fetch_json(CONSTANTS.FEE_STATS_PATH)
        self.update_fee_stats(fee_stats)
        if _BASE_RESERVE not in self._fresh:
            ledgers = await fetch_json(CONSTANTS.LEDGERS_PATH, {"order": "desc", "limit": 1})
            self.update_latest_ledger(ledgers)

    def update_fee_stats(self, fee_stats: Dict[str, Any]) -> None:
        """Take Horizon's /fee_stats answer (numbers come as strings)."""
        try:
            base_fee = int(fee_stats["last_ledger_base_fee"])
            charged = {k: int(v) for k, v in (fee_stats.get("fee_charged") or {}).items()}
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ValueError(f"Unexpected /fee_stats answer from Horizon: {e!r}") from None
        self._put(_BASE_FEE, base_fee)
        self._put(_FEE_CHARGED, charged)
        if "last_ledger" in fee_stats:
            self._put(_LAST_LEDGER, int(fee_stats["last_ledger"]))
        self._fees_read_at = now = self._timer()
        self._fees_fresh_until = now + self._ttl
        self._update_bid()

    def _update_bid(self) -> None:
        """The bid per operation from the last known figures: the chosen percentile of recent fees charged,
        never below the base fee. Above the base fee (a surge: ledgers are full, and every transaction in
        one pays the same, its cheapest bid) one stroop more, as a full queue admits only a higher bid
        than those it holds (stellar-core's surge pricing): bidding the same would only tie with them."""
        base_fee = self._last_known.get(_BASE_FEE, CONSTANTS.BASE_FEE_STROOPS)
        charged = self._last_known.get(_FEE_CHARGED, {}).get(self._fee_percentile_key, base_fee)
        self._bid = charged + 1 if charged > base_fee else base_fee

    def update_latest_ledger(self, ledgers: Dict[str, Any]) -> None:
        """Take a ledger record, or a /ledgers page whose first record is the latest ledger."""
        record = ledgers
        embedded = ledgers.get("_embedded")
        if embedded is not None:
            records = embedded.get("records") or []
            if not records:
                raise ValueError("Horizon's /ledgers answer has no record")
            record = records[0]
        try:
            self._put(_BASE_RESERVE, int(record["base_reserve_in_stroops"]))
            if "base_fee_in_stroops" in record and _BASE_FEE not in self._fresh:
                self._put(_BASE_FEE, int(record["base_fee_in_stroops"]))
                self._update_bid()
            self._put(_LAST_LEDGER, int(record["sequence"]))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"Unexpected ledger record from Horizon: {e!r}") from None

    # Figures

    @property
    def base_fee_stroops(self) -> int:
        return self._get(_BASE_FEE, CONSTANTS.BASE_FEE_STROOPS)

    @property
    def base_reserve_stroops(self) -> int:
        return self._get(_BASE_RESERVE, CONSTANTS.BASE_RESERVE_STROOPS)

    @property
    def last_ledger(self) -> Optional[int]:
        return self._get(_LAST_LEDGER, None)

    def fee_per_op(self, max_fee_cap: int = CONSTANTS.DEFAULT_MAX_FEE_STROOPS) -> int:
        """The fee to bid per operation (`_update_bid`), capped by the user's maximum. On every transaction's
        path: one clock read, the bid worked out when the figures came."""
        if self._timer() < self._fees_fresh_until:
            self.hits += 1
            measurement.count(_HIT_POINT)
        else:
            self.misses += 1
            measurement.count(_MISS_POINT)
            self.refresh_soon()
        bid = self._bid
        return bid if bid < max_fee_cap else max_fee_cap

    def minimum_balance_stroops(self, subentries: int, sponsoring: int = 0, sponsored: int = 0) -> int:
        """(2 + subentries + sponsoring - sponsored) x base reserve: the XLM an account must keep."""
        return (2 + subentries + sponsoring - sponsored) * self.base_reserve_stroops

    # Account thresholds (from /accounts/{id}), cached like the fee figures

    def set_account_thresholds(self, account_id: str, thresholds: Dict[str, int]) -> None:
        self._put(_THRESHOLDS + account_id, dict(thresholds))

    def account_thresholds(self, account_id: str) -> Optional[Dict[str, int]]:
        return self._get(_THRESHOLDS + account_id, None)
