"""Hummingbot's trade records (`MarketsRecorder` on an SQLite file), as a Hummingbot session keeps them.

`StrategyV2Base` reads and writes executors through the process-wide `MarketsRecorder`, so a V2
strategy cannot run without one; the classic strategies run either way, and recording fills and
orders the way Hummingbot does keeps the session's cost honest.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from hummingbot.client.config.client_config_map import ClientConfigMap
from hummingbot.client.config.config_helpers import ClientConfigAdapter
from hummingbot.connector.connector_base import ConnectorBase
from hummingbot.connector.markets_recorder import MarketsRecorder
from hummingbot.model.sql_connection_manager import SQLConnectionManager, SQLConnectionType


class TradeRecords:
    """Opens Hummingbot's trade database at `db_path` and records the connectors' order events into it."""

    def __init__(self, db_path: Path | str, connectors: Sequence[ConnectorBase], strategy_name: str,
                 config_name: str = "stellar_profiling") -> None:
        self.db_path = Path(db_path)
        self._connectors = list(connectors)
        self._strategy_name = strategy_name
        self._config_name = config_name
        self.recorder: Optional[MarketsRecorder] = None

    def start(self) -> MarketsRecorder:
        if self.recorder is not None:
            raise RuntimeError("trade records are already open")
        if MarketsRecorder._shared_instance is not None:
            raise RuntimeError("another MarketsRecorder is active in this process; stop it first")
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        client_config = ClientConfigAdapter(ClientConfigMap())
        sql = SQLConnectionManager(client_config, SQLConnectionType.TRADE_FILLS, db_path=str(self.db_path))
        self.recorder = MarketsRecorder(sql, self._connectors, self._config_name, self._strategy_name,
                                        client_config.market_data_collection)
        self.recorder.start()
        return self.recorder

    def restore_market_states(self) -> None:
        """Give each connector the orders this config's last session saved (MarketsRecorder's `MarketState`, written
        at every order event), as Hummingbot does before its clock starts: the connector then picks them up."""
        if self.recorder is None:
            raise RuntimeError("trade records are not open")
        for connector in self._connectors:
            self.recorder.restore_market_states(self._config_name, connector)

    def stop(self) -> None:
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        recorder.stop()
        if MarketsRecorder._shared_instance is recorder:
            MarketsRecorder._shared_instance = None
