"""Fault settings from JSON-like input: shorthands, defaults and field errors."""
from __future__ import annotations

import pytest

from stellar_sandbox.faults import (
    SUBMISSION_PATHS,
    ErrorInjection,
    FaultSettingsError,
    Latency,
    StreamDrop,
    SubmissionTimeout,
    parse_kind,
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
