"""Horizon-compatible HTTP/SSE API (and a minimal Stellar RPC) over the core `Network`."""
from stellar_sandbox.horizon.app import create_app

__all__ = ["create_app"]
