"""Fault settings from JSON-like input: shorthands, defaults and field errors."""
from __future__ import annotations

import pytest

from stellar_sandbox.faults import (
    SUBMISSION_PATHS,
    ErrorInjection,
    Faults,
    FaultSettingsError,
    Latency,
    SilentStreams,
    StreamDrop,
    SubmissionTimeout,
    parse_down,
    parse_kind,
    parse_lag,
)


def test_shorthands_and_defaults():
    assert parse_kind("latency", 0.2) == Latency(seconds=0.2)
    assert parse_kind("errors", {"statuses": 429, "paths": "/ledgers"}) == ErrorInjection(statuses=(429,),
                                                                                          paths=("/ledgers",))
    assert parse_kind("submission_timeout", {}) == SubmissionTimeout(rate=1.0, hold=None, paths=SUBMISSION_PATHS)
    assert parse_kind("stream_drop", {"every": None}) == StreamDrop()
    assert parse_kind("errors", None) is None
    given = ErrorInjection(rate=0.1)
    assert parse_kind("errors", given) is given


@pytest.mark.parametrize("kind, value, field", [
    ("latency", True, "latency"),
    ("latency", {"seconds": True}, "latency.seconds"),
    ("errors", {"rate": -0.1}, "errors.rate"),
    ("errors", {"statuses": []}, "errors.statuses"),
    ("errors", {"retry_after": -1}, "errors.retry_after"),
    ("stream_drop", {"every": 0}, "stream_drop.every"),
    ("stream_drop", {"paths": [3]}, "stream_drop.paths"),
    ("submission_timeout", ["rate"], "submission_timeout"),
])
def test_field_errors(kind, value, field):
    with pytest.raises(FaultSettingsError) as bad:
        parse_kind(kind, value)
    assert bad.value.field == field and bad.value.reason


def test_lag_and_down_settings():
    assert parse_lag(3) == parse_lag({"ledgers": 3}) == 3 and parse_lag(None) == 0
    assert parse_down(True) == (True, None) and parse_down(False) == parse_down(None) == (False, None)
    assert parse_down({"seconds": 2}) == (True, 2.0)
    for bad, field in [(-1, "lag.ledgers"), (1.5, "lag.ledgers"), (True, "lag"), ({"seconds": 1}, "lag")]:
        with pytest.raises(FaultSettingsError) as error:
            parse_lag(bad)
        assert error.value.field == field
    for bad, field in [("yes", "down"), ({"seconds": -1}, "down.seconds"), ({"for": 1}, "down")]:
        with pytest.raises(FaultSettingsError) as error:
            parse_down(bad)
        assert error.value.field == field
    assert parse_kind("silent_streams", True) == SilentStreams() and parse_kind("silent_streams", False) is None


def test_lag_and_down_need_a_frontend():
    from stellar_sandbox.core.network import Network

    faults = Faults(Network())
    for kind in ("lag", "down"):
        with pytest.raises(FaultSettingsError) as error:
            faults.set(**{kind: 1 if kind == "lag" else True})
        assert error.value.field == kind
    assert faults.clear()["ledger_stall"] is False
