"""An embedded Stellar network (ledger rules, Horizon-compatible web API) for tests and profiling."""

__all__ = ["Sandbox"]


def __getattr__(name: str):
    # Lazy, so that importing the pure core does not pull in aiohttp and the web layer.
    if name == "Sandbox":
        from stellar_sandbox.sandbox import Sandbox

        return Sandbox
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
