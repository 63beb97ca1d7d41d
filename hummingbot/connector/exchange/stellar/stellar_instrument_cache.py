"""InstrumentCache: Hummingbot trading pairs ("XLM-USDC") <-> Stellar assets, and back.

A token names an asset by its code; the issuer comes from the user's `stellar_markets` first,
then from the well-known list for the domain (`stellar_known_issuers.yml`). A token may also be
written in full as CODE:ISSUER. Resolved pairs sit in a bounded LRU cache, so the hot path (every
order, every book update) is one dictionary lookup.
"""
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from cachetools import LRUCache
from stellar_sdk import Asset

from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from hummingbot.connector.exchange.stellar.stellar_assets import (
    StellarConfigError,
    asset_key,
    horizon_asset_params,
    native_asset,
    parse_asset,
    token_name,
)

KNOWN_ISSUERS_PATH = Path(__file__).resolve().parent / "stellar_known_issuers.yml"
_HIT_POINT = measurement.CACHE_HIT_PREFIX + measurement.INSTRUMENT_CACHE
_MISS_POINT = measurement.CACHE_MISS_PREFIX + measurement.INSTRUMENT_CACHE
_NATIVE = native_asset()


def load_known_issuers(domain: str, path: Optional[Path] = None) -> List[Asset]:
    """The well-known assets listed for `domain` (an unknown domain, e.g. a sandbox, has none)."""
    import yaml  # Hummingbot ships PyYAML; imported here so importing the connector does not need it

    path = path or KNOWN_ISSUERS_PATH
    try:
        with open(path, encoding="utf-8") as f:
            document = yaml.safe_load(f) or {}
    except FileNotFoundError:
        raise StellarConfigError(f"Known issuers file {path} does not exist") from None
    if not isinstance(document, dict):
        raise StellarConfigError(f"Known issuers file {path} must map domains to lists of assets")
    entries = document.get(domain) or []
    assets = []
    for entry in entries:
        if not isinstance(entry, dict) or "code" not in entry or "issuer" not in entry:
            raise StellarConfigError(f"Known issuers file {path}, domain {domain!r}: bad entry {entry!r}")
        assets.append(parse_asset(f"{entry['code']}:{entry['issuer']}"))
    return assets


def split_trading_pair(trading_pair: Any) -> Tuple[str, str]:
    """(base token, quote token) of a `BASE-QUOTE` pair; StellarConfigError for any other shape."""
    if not isinstance(trading_pair, str) or trading_pair.count("-") != 1:
        raise StellarConfigError(
            f"Trading pair {trading_pair!r} must be BASE-QUOTE with exactly one dash, e.g. XLM-USDC")
    base_token, quote_token = trading_pair.split("-")
    if not base_token.strip() or not quote_token.strip():
        raise StellarConfigError(f"Trading pair {trading_pair!r} has an empty side; write it as BASE-QUOTE")
    return base_token, quote_token


def _issuers_by_code(assets: Sequence[Asset]) -> Dict[str, List[Asset]]:
    by_code: Dict[str, List[Asset]] = {}
    for asset in assets:
        candidates = by_code.setdefault(asset.code, [])
        if asset not in candidates:
            candidates.append(asset)
    return by_code


class InstrumentCache:
    def __init__(self,
                 domain: str,
                 extra_markets: Sequence[str] = (),
                 known_issuers_path: Optional[Path] = None,
                 maxsize: int = 1024):
        self._domain = domain
        if isinstance(extra_markets, str):  # the config's comma separated form
            extra_markets = extra_markets.split(",")
        user_assets = [parse_asset(text) for text in extra_markets if text and text.strip()]
        self._user_by_code = _issuers_by_code([a for a in user_assets if a.issuer is not None])
        self._known_by_code = _issuers_by_code(load_known_issuers(domain, known_issuers_path))
        self._pairs: LRUCache = LRUCache(maxsize=maxsize)
        self._tokens: LRUCache = LRUCache(maxsize=maxsize)
        self._names: LRUCache = LRUCache(maxsize=maxsize)
        self.hits = 0
        self.misses = 0

    @property
    def domain(self) -> str:
        return self._domain

    def known_assets(self) -> List[Asset]:
        """Every asset this cache can name by its code alone: the user's markets, then the known list."""
        seen: Dict[str, Asset] = {}
        for by_code in (self._user_by_code, self._known_by_code):
            for candidates in by_code.values():
                for asset in candidates:
                    seen.setdefault(asset_key(asset), asset)
        return list(seen.values())

    def tradable_pairs(self, configured: List[str]) -> Tuple[List[str], Dict[str, StellarConfigError]]:
        """The configured pairs that resolve, then XLM against every asset this cache can name by its code;
        and the configured pairs that do not resolve, with the reason."""
        pairs: Dict[str, None] = {}
        errors: Dict[str, StellarConfigError] = {}
        for pair in configured:
            try:
                self.assets_for_pair(pair)
            except StellarConfigError as error:
                errors[pair] = error
                continue
            pairs[pair] = None
        for asset in self.known_assets():
            pairs.setdefault(f"{token_name(_NATIVE)}-{self.token_for_asset(asset)}", None)
        return list(pairs), errors

    # Hot path

    def assets_for_pair(self, trading_pair: str) -> Tuple[Asset, Asset]:
        """(base, quote) for a pair such as "XLM-USDC"; raises StellarConfigError if it cannot resolve."""
        try:
            assets = self._pairs[trading_pair]
        except KeyError:
            pass
        else:
            self.hits += 1
            measurement.count(_HIT_POINT)
            return assets
        self.misses += 1
        measurement.count(_MISS_POINT)
        assets = self._resolve_pair(trading_pair)
        self._pairs[trading_pair] = assets
        return assets

    def horizon_pair_params(self, trading_pair: str) -> Dict[str, str]:
        """/order_book query parameters: selling = base, buying = quote."""
        base, quote = self.assets_for_pair(trading_pair)
        params = horizon_asset_params(base, "selling_")
        params.update(horizon_asset_params(quote, "buying_"))
        return params

    def pair_for_assets(self, base: Asset, quote: Asset) -> str:
        return f"{self.token_for_asset(base)}-{self.token_for_asset(quote)}"

    def token_for_asset(self, asset: Asset) -> str:
        """The shortest token that resolves back to `asset`: "XLM", its code, or CODE:ISSUER."""
        key = asset_key(asset)
        try:
            name = self._names[key]
        except KeyError:
            pass
        else:
            self.hits += 1
            measurement.count(_HIT_POINT)
            return name
        self.misses += 1
        measurement.count(_MISS_POINT)
        if asset.issuer is None:
            name = token_name(asset)
        else:
            try:
                name = asset.code if self._cached_token(asset.code) == asset else key
            except StellarConfigError:  # unknown or ambiguous code: only the full key names it
                name = key
        self._names[key] = name
        return name

    def asset_for_token(self, token: str) -> Asset:
        """The asset a token ("XLM", "USDC", "USDC:G...") names; raises StellarConfigError if none or two."""
        try:
            asset = self._tokens[token]
        except KeyError:
            pass
        else:
            self.hits += 1
            measurement.count(_HIT_POINT)
            return asset
        self.misses += 1
        measurement.count(_MISS_POINT)
        asset = self._resolve_token(token)
        self._tokens[token] = asset
        return asset

    # Resolution (cache misses)

    def _resolve_pair(self, trading_pair: str) -> Tuple[Asset, Asset]:
        base_token, quote_token = split_trading_pair(trading_pair)
        base = self._cached_token(base_token)
        quote = self._cached_token(quote_token)
        if base == quote:
            raise StellarConfigError(
                f"Trading pair {trading_pair!r} names the same asset ({asset_key(base)}) on both sides")
        return base, quote

    def _cached_token(self, token: str) -> Asset:
        """asset_for_token without counting: misses of the public lookups count once, not per token."""
        asset = self._tokens.get(token)
        if asset is None:
            asset = self._tokens[token] = self._resolve_token(token)
        return asset

    def _resolve_token(self, token: str) -> Asset:
        text = token.strip()
        if text.lower() in ("xlm", "native"):
            return _NATIVE
        if ":" in text:
            return parse_asset(text)
        for source, candidates in (("stellar_markets", self._user_by_code.get(text)),
                                   ("the known issuers list", self._known_by_code.get(text))):
            if not candidates:
                continue
            if len(candidates) == 1:
                return candidates[0]
            issuers = " and ".join(a.issuer for a in candidates)
            raise StellarConfigError(
                f"Asset code {text!r} is ambiguous on {self._domain}: {source} has issuers {issuers}. "
                f"Pick one by listing exactly one {text}:ISSUER in stellar_markets.")
        raise StellarConfigError(
            f"Unknown asset {text!r} on {self._domain}: add {text}:ISSUER (the issuer's G... account id) "
            f"to stellar_markets in the connector's configuration.")
