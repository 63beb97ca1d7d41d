"""The connector's order errors, as Hummingbot's order failure events and logs show them."""
from typing import Optional

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS


class StellarOrderRejected(IOError):
    """The network (or Horizon) refused an order operation; carries the Stellar result code."""

    def __init__(self, code: Optional[str], message: Optional[str], client_order_id: str, action: str = "order"):
        self.code = code
        self.client_order_id = client_order_id
        # People read the connector's own message for a known Stellar code; others keep the pipeline's words.
        if code in CONSTANTS.RESULT_CODE_MESSAGES or (code and not message):
            detail = CONSTANTS.result_code_message(code)
        else:
            detail = message or "no result code"
        text = f"Stellar rejected the {action} {client_order_id}: {code} ({detail})"
        super().__init__(text)


class StellarOrderNotFound(IOError):
    """No offer of ours with this id exists on the ledger, and no trade of it either."""
