"""Profiling for the Stellar connector.

One artefact per module, arranged by the runner:

- `recorder`: `LatencyRecorder`, the object installed into the connector's measuring points
  (`stellar_measurement`); samples to statistics, no Hummingbot.
- `sessions`: yappi (CPU or wall clock, per asyncio task), memray, and the RSS/CPU/network sampler.
- `report`: `report.md`, `report.json` (schema in `report_schema.json`) and PNG plots, with SLA
  verdicts whose thresholds come from `qa/quality_catalogue.yml`.
- `criteria`: the performance criteria of `qa/quality_catalogue.yml` and their verdicts.
- `plots`: the report's PNG plots.
- `config`: the profiling configuration (`conf/conf_stellar_profiling.yml`).
- `profiler`: starts and stops everything above together and writes the report.
- `hooks`: installs the recorder into the connector's measuring points, and measures what a disabled
  measuring point costs.
- `autostart`: switches profiling on from the environment (`STELLAR_PROFILING`); importing it does
  that (for a `.pth` line), and writes the report at exit.

The connector never imports this package; this package imports only the connector's hook module.
"""
