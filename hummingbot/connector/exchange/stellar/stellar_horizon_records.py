"""Fields of Horizon JSON records read without building objects: asset keys, close times, trade ids."""
from datetime import datetime
from typing import Any, Dict, Optional


def record_asset_key(record: Dict[str, Any], prefix: str = "") -> Optional[str]:
    """`"native"` or `"CODE:ISSUER"` of the asset a record names under `prefix` (e.g. "base_"), the
    same key as `stellar_assets.asset_key`; None when the record names no asset there."""
    asset_type = record.get(prefix + "asset_type")
    if asset_type == "native":
        return "native"
    if asset_type is None:
        return None
    return f"{record.get(prefix + 'asset_code')}:{record.get(prefix + 'asset_issuer')}"


_last_text = ""
_last_value = 0.0


def close_timestamp(text: Optional[str]) -> float:
    """An ISO-8601 time as Horizon writes it ("2024-01-01T00:00:00Z") -> epoch seconds; 0.0 when
    missing or unreadable. The last answer is remembered: records come in bursts of one ledger."""
    global _last_text, _last_value
    if not text:
        return 0.0
    if text != _last_text:
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
        except (TypeError, ValueError):
            return 0.0
        _last_text, _last_value = text, value
    return _last_value


def trade_id(record: Dict[str, Any]) -> str:
    """Horizon's trade id, "<operation id>-<index>", without zero padding whoever wrote it."""
    text = str(record.get("paging_token") or record["id"])
    operation_id, sep, index = text.partition("-")
    if sep and operation_id.isdigit() and index.isdigit():
        return f"{int(operation_id)}-{int(index)}"
    return text
