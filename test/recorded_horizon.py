"""Trade records exactly as public Horizon servers wrote them (`recorded/horizon_trades.json`): old and new
record shapes, credit pairs, a 12-character asset code, a pool trade whose price parts are strings. In each the
base party took: its offer never rested, so Horizon names it by the operation id with bit 62 set."""
import json
from pathlib import Path

RECORDED = json.loads((Path(__file__).parent / "recorded" / "horizon_trades.json").read_text())
CREDIT_PAIR = RECORDED["testnet_orderbook_credit_pair"]             # DSQ/USD: the taker sold DSQ to offer 3698823
NATIVE_BASE = RECORDED["testnet_orderbook_native_base_streamed"]    # XLM/WTF: the taker sold 1 stroop of XLM
POOL = RECORDED["mainnet_liquidity_pool"]                           # XLM/GOLDBANK001: the taker sold XLM to a pool
RECORDED_TRADES = (CREDIT_PAIR, NATIVE_BASE, POOL)


def pair_of(record: dict, base_prefix: str) -> str:
    """The Hummingbot pair with the record's `base_prefix` side ("base_" or "counter_") as its base."""
    quote_prefix = "counter_" if base_prefix == "base_" else "base_"

    def code(prefix: str) -> str:
        return "XLM" if record[prefix + "asset_type"] == "native" else record[prefix + "asset_code"]
    return f"{code(base_prefix)}-{code(quote_prefix)}"


def operation_id_of(record: dict) -> int:
    """The id of the operation that made the trade ("<operation id>-<index>")."""
    return int(record["id"].split("-")[0])


def record_name(record: dict) -> str:
    return record["id"]
