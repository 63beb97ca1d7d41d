import os

import pytest

from hummingbot.connector import utils as hummingbot_utils
from hummingbot.connector.exchange.stellar import stellar_order_ids
from hummingbot.connector.exchange.stellar.stellar_assets import StellarConfigError
from hummingbot.connector.exchange.stellar.stellar_order_ids import bot_instance_id, new_client_order_id


@pytest.fixture
def fixed_nonce(monkeypatch):
    """Both makers draw the same nonce (Hummingbot's tracking nonce would differ between two calls)."""
    def use(nonce: int):
        monkeypatch.setattr(stellar_order_ids, "get_tracking_nonce", lambda: nonce)
        monkeypatch.setattr(hummingbot_utils, "get_tracking_nonce", lambda: nonce)
    return use


@pytest.mark.parametrize("is_buy", [True, False])
@pytest.mark.parametrize("pair, prefix, max_length", [
    ("XLM-USDC", "HBOT", 32),                  # the connector's settings: the id cut to 32
    ("xlm-yXLM", "HBOT", 32),                  # Hummingbot upper-cases the pair's letters
    ("XLM-USDC", "HBOT", None),                # no maximum: the whole instance id
    ("XLM-USDC", "HB$OT", 40),                 # "$" dropped, as Hummingbot does
    ("XLM-USDC", "HBOT", 16),                  # too short for the nonce: Hummingbot's md5 suffix instead
    ("A-B", "", 20),
])
def test_ids_are_hummingbots_own(fixed_nonce, is_buy, pair, prefix, max_length):
    for nonce in (1_765_000_000_123_456, 0x1F, 2**60 + 7):
        fixed_nonce(nonce)
        expected = hummingbot_utils.get_new_client_order_id(is_buy, pair, prefix, max_length)
        assert new_client_order_id(is_buy, pair, prefix, max_length) == expected


def test_the_instance_id_is_hashed_once_per_process_and_again_in_another(monkeypatch):
    assert bot_instance_id() == hummingbot_utils._bot_instance_id()
    hashed = []
    real_md5 = stellar_order_ids.md5
    monkeypatch.setattr(stellar_order_ids, "md5", lambda data: hashed.append(data) or real_md5(data))
    bot_instance_id()
    assert hashed == []                        # cached
    monkeypatch.setattr(os, "getppid", lambda: 1)   # reparented (its parent exited): Hummingbot's id changes too
    assert bot_instance_id() == hummingbot_utils._bot_instance_id()
    assert len(hashed) == 1


def test_ids_from_one_process_differ():
    ids = {new_client_order_id(False, "XLM-USDC", "HBOT", 32) for _ in range(1000)}
    assert len(ids) == 1000 and all(len(i) == 32 and i.startswith("HBOTSXMUC") for i in ids)


@pytest.mark.parametrize("pair", ["XLMUSDC", "XLM-USDC-X", "-USDC", "XLM- "])
def test_a_pair_not_of_two_sides_is_a_clear_error(pair):
    with pytest.raises(StellarConfigError, match="BASE-QUOTE"):
        new_client_order_id(True, pair, "HBOT", 32)
