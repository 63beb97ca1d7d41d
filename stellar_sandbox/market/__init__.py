"""Synthetic market activity: funded participants placing, updating, cancelling and taking offers."""
from stellar_sandbox.market.activity import MarketActivity

__all__ = ["MarketActivity"]
