"""aioresponses across aiohttp versions.

aiohttp 3.14's ClientResponse requires a `stream_writer` argument that aioresponses 0.7.9 does not
pass. Where it is required, mocked responses use a ClientResponse subclass that supplies one; with
older aiohttp this module is plain aioresponses. Tests then use aioresponses as Hummingbot's do.
"""
import inspect

from aiohttp import ClientResponse
from aioresponses import CallbackResult
from aioresponses import aioresponses as _aioresponses

_NEEDS_STREAM_WRITER = "stream_writer" in inspect.signature(ClientResponse.__init__).parameters


class _SentRequestWriter:
    output_size = 0   # the request is already "sent" (aioresponses passes writer=None)


class CompatClientResponse(ClientResponse):
    def __init__(self, method, url, **kwargs):
        if _NEEDS_STREAM_WRITER and kwargs.get("stream_writer") is None:
            kwargs["stream_writer"] = _SentRequestWriter()
        super().__init__(method, url, **kwargs)


class aioresponses(_aioresponses):  # noqa: N801 - same name as the library's class
    def add(self, *args, **kwargs):
        if kwargs.get("response_class") is None:
            kwargs["response_class"] = CompatClientResponse
        return super().add(*args, **kwargs)


def reply(status: int = 200, payload=None, body: str = "", content_type: str = "application/json") -> CallbackResult:
    """What an aioresponses callback returns, with the compatible response class."""
    return CallbackResult(status=status, payload=payload, body=body, content_type=content_type,
                          response_class=CompatClientResponse)
