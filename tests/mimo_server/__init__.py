"""MiMo's documented chat-completions contract as a local HTTP server: a test fixture.

It validates requests the way MiMo's documentation says MiMo does, measures the media it
receives with PyAV, reports usage from its own implementation of the documented token
formula, and answers with deterministic text built from those measurements. It is not a
fake of MiMo's intelligence. See ``README.md`` in this folder.
"""

from .behaviour import Behaviour
from .contract import IMAGE_TOKENS, MODELS, ApiError
from .server import FAULT_OPTIONS, Fault, MiMoContractServer, RecordedRequest

__all__ = [
    "FAULT_OPTIONS",
    "IMAGE_TOKENS",
    "MODELS",
    "ApiError",
    "Behaviour",
    "Fault",
    "MiMoContractServer",
    "RecordedRequest",
]
