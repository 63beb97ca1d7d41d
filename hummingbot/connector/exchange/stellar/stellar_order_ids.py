"""Client order ids exactly as Hummingbot makes them (`hummingbot.connector.utils.get_new_client_order_id`), cheaper.

Hummingbot's id is prefix, side, the first and last letters of base and quote, the hex of its tracking nonce,
then its bot instance id (an md5 of `platform.uname()`, the pid and the parent pid), cut to the connector's
maximum length. Hummingbot hashes the instance id again for every order (about 19 us of a create on the
order path, more than building the transaction's hash); here it is hashed once per (pid, parent pid), so
the ids are the same strings, from the same nonce.
"""
import os
import platform
from hashlib import md5
from typing import Optional, Tuple

from hummingbot.core.utils.tracking_nonce import get_tracking_nonce

from hummingbot.connector.exchange.stellar.stellar_instrument_cache import split_trading_pair

_instance: Tuple[int, int, str] = (0, 0, "")     # (pid, parent pid, instance id) of the last hash


def bot_instance_id() -> str:
    """Hummingbot's instance id of this process: the same md5 as its own, worked out once per (pid, ppid)."""
    global _instance
    pid, ppid = os.getpid(), os.getppid()
    if _instance[0] != pid or _instance[1] != ppid:
        digest = md5(f"{platform.uname()}_pid:{pid}_ppid:{ppid}".encode()).hexdigest()
        _instance = (pid, ppid, digest)
    return _instance[2]


def new_client_order_id(is_buy: bool, trading_pair: str, prefix: str = "", max_length: Optional[int] = None) -> str:
    """The id Hummingbot's `get_new_client_order_id(is_buy, trading_pair, prefix, max_length)` gives; for a
    pair not of the form BASE-QUOTE, StellarConfigError (Hummingbot names an order after its pair's sides)."""
    base, quote = split_trading_pair(trading_pair)
    base, quote = base.upper(), quote.upper()
    head = f"{prefix}{'B' if is_buy else 'S'}{base[0]}{base[-1]}{quote[0]}{quote[-1]}"
    nonce_hex = hex(get_tracking_nonce())[2:]
    instance = bot_instance_id()
    order_id = f"{head}{nonce_hex}{instance}".replace("$", "")
    if max_length is None:
        return order_id
    room = max_length - len(head)
    if room < len(nonce_hex):      # too little room for the nonce: a hash of nonce and instance instead
        return f"{head}{md5(f'{nonce_hex}{instance}'.encode()).hexdigest()[:room]}"
    return order_id[:max_length]
