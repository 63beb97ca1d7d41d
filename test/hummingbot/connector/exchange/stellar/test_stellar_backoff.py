import random

import pytest

from hummingbot.connector.exchange.stellar.stellar_backoff import Backoff


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap_and_resets():
    backoff = Backoff(base=0.5, factor=2.0, cap=4.0, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(6)]
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    for delay, ceiling in zip(delays, ceilings, strict=True):
        assert ceiling / 2 <= delay <= ceiling
    assert backoff.failures == 6
    backoff.reset()
    assert backoff.ceiling() == 0.5
    assert Backoff(base=1.0, cap=30.0).ceiling(10_000) == 30.0   # no overflow for long outages


def test_backoff_rejects_nonsense():
    with pytest.raises(ValueError, match="invalid backoff"):
        Backoff(base=0.0)


def test_backoff_without_jitter_doubles_exactly_up_to_the_cap():
    backoff = Backoff(base=0.5, factor=2.0, cap=3.0, jitter=False)
    assert [backoff.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
