"""Names a package exports but imports only when first used, so importing the package stays cheap."""
import importlib
from typing import Any, Callable, Dict


def lazy_getattr(package: str, homes: Dict[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: each name in `homes` is read from its home module on first use."""
    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(home), name)
    return __getattr__
