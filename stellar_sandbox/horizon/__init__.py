"""Horizon-compatible HTTP/SSE API (and a minimal Stellar RPC) over the core `Network`: `app.create_app`."""
