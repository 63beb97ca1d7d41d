"""URL building, the throttler and the web assistants factory for Horizon."""
import ipaddress
import time
from decimal import Decimal
from typing import List, Optional, Sequence
from urllib.parse import urlparse

from hummingbot.core.api_throttler.async_throttler import AsyncThrottler
from hummingbot.core.api_throttler.data_types import LinkedLimitWeightPair, RateLimit
from hummingbot.core.web_assistant.auth import AuthBase
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS


def horizon_base_url(domain: str = CONSTANTS.DEFAULT_DOMAIN, horizon_url: Optional[str] = None) -> str:
    """The user's Horizon URL if set (blank = unset), else the domain's; without a trailing slash."""
    if horizon_url is not None and horizon_url.strip():
        return horizon_url.strip().rstrip("/")
    try:
        return CONSTANTS.HORIZON_URLS[domain]
    except KeyError:
        raise ValueError(f"Domain {domain!r} has no default Horizon URL; set stellar_horizon_url") from None


def public_rest_url(path_url: str, domain: str = CONSTANTS.DEFAULT_DOMAIN, horizon_url: Optional[str] = None) -> str:
    """The full URL of a Horizon path, e.g. "/order_book" -> "https://horizon.stellar.org/order_book"."""
    if not path_url.startswith("/"):
        path_url = "/" + path_url
    return horizon_base_url(domain, horizon_url) + path_url


def requests_per_hour_for(horizon_url: str) -> int:
    """The request budget for a Horizon: large for one on this machine or a private network (the
    user's own node, our sandbox), SDF's public 3,600 an hour for any other host, SDF's or not.

    Loopback or private: `localhost`, 127.0.0.0/8, ::1, and the private and reserved ranges (10/8,
    172.16/12, 192.168/16, fc00::/7, link-local...). A host name other than localhost is public:
    nothing here resolves names.
    """
    host = (urlparse(horizon_url).hostname or "").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return CONSTANTS.LOCAL_HORIZON_REQUESTS_PER_HOUR
    try:
        address = ipaddress.ip_address(host)
    except ValueError:  # a host name
        return CONSTANTS.PUBLIC_HORIZON_REQUESTS_PER_HOUR
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:a.b.c.d is the IPv4 host a.b.c.d
    if address.is_loopback or address.is_private:
        return CONSTANTS.LOCAL_HORIZON_REQUESTS_PER_HOUR
    return CONSTANTS.PUBLIC_HORIZON_REQUESTS_PER_HOUR


def rate_limits_for(horizon_url: Optional[str], domain: str = CONSTANTS.DEFAULT_DOMAIN) -> List[RateLimit]:
    """The rate limits for requests to `horizon_url` (blank: the domain's Horizon), per `requests_per_hour_for`.

    The public budget is `CONSTANTS.RATE_LIMITS` itself; a local or private Horizon gets its own list.
    """
    requests_per_hour = requests_per_hour_for(horizon_base_url(domain, horizon_url))
    if requests_per_hour == CONSTANTS.PUBLIC_HORIZON_REQUESTS_PER_HOUR:
        return CONSTANTS.RATE_LIMITS
    return CONSTANTS.build_rate_limits(requests_per_hour)


def horizon_limit_id(limit_id: str, index: int) -> str:
    """The throttler's id of `limit_id` for the `index`-th configured Horizon. Hummingbot's throttler is keyed by
    limit ids alone, so each Horizon's budget needs ids of its own; the first keeps the plain ids."""
    return limit_id if index == 0 else f"{limit_id}@horizon{index}"


def rate_limits_for_horizons(horizon_urls: Sequence[str], domain: str = CONSTANTS.DEFAULT_DOMAIN) -> List[RateLimit]:
    """The rate limits of every configured Horizon (`rate_limits_for` each), under each one's limit ids
    (`horizon_limit_id`); for one Horizon, exactly `rate_limits_for` it."""
    limits = rate_limits_for(horizon_urls[0] if horizon_urls else None, domain)
    if len(horizon_urls) <= 1:
        return limits
    limits = list(limits)
    for index, url in enumerate(horizon_urls[1:], start=1):
        limits.extend(
            RateLimit(limit_id=horizon_limit_id(limit.limit_id, index), limit=limit.limit,
                      time_interval=limit.time_interval, weight=limit.weight,
                      linked_limits=[LinkedLimitWeightPair(horizon_limit_id(link.limit_id, index), link.weight)
                                     for link in limit.linked_limits])
            for limit in rate_limits_for(url, domain) if limit.limit_id != CONSTANTS.RPC_LIMIT_ID)
    return limits


def create_throttler(rate_limits: Optional[List[RateLimit]] = None,
                     limits_share_percentage: Optional[Decimal] = None) -> AsyncThrottler:
    return AsyncThrottler(rate_limits if rate_limits is not None else CONSTANTS.RATE_LIMITS,
                          limits_share_percentage=limits_share_percentage)


def build_api_factory(throttler: Optional[AsyncThrottler] = None,
                      auth: Optional[AuthBase] = None) -> WebAssistantsFactory:
    # No time synchronizer: Horizon has no server-time endpoint and nothing we send is time-signed
    # (transaction time bounds are checked against ledger close times, with a margin).
    return WebAssistantsFactory(throttler=throttler or create_throttler(), auth=auth)


async def get_current_server_time(throttler: Optional[AsyncThrottler] = None,
                                  domain: str = CONSTANTS.DEFAULT_DOMAIN) -> float:
    """Horizon has no server-time endpoint, so this is the local clock (as the XRPL connector does)."""
    return time.time()
