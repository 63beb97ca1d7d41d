"""URL building, the throttler and the web assistants factory for Horizon."""
import ipaddress
import time
from decimal import Decimal
from typing import List, Optional
from urllib.parse import urlparse

from hummingbot.core.api_throttler.async_throttler import AsyncThrottler
from hummingbot.core.api_throttler.data_types import RateLimit
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
    """SDF's public budget for any remote Horizon; a loopback one (our sandbox, a local node) is not limited."""
    host = (urlparse(horizon_url).hostname or "").lower()
    if host == "localhost":
        return CONSTANTS.LOCAL_HORIZON_REQUESTS_PER_HOUR
    try:
        is_loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name
        is_loopback = False
    return CONSTANTS.LOCAL_HORIZON_REQUESTS_PER_HOUR if is_loopback else CONSTANTS.PUBLIC_HORIZON_REQUESTS_PER_HOUR


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
