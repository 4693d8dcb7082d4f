"""Matrix: room messages (HTML and plain text), media upload, edits and redactions (adapter); its
channels.yaml keys (options).

Only `options` loads with the package: the adapter (and its HTTP stack) loads on first use of
`CHANNEL` (PEP 562), so validating a channels.yaml imports none of it."""

from typing import TYPE_CHECKING

from bot.channels.base import lazy_exports
from bot.channels.matrix.options import MatrixNetwork, MatrixOptions

if TYPE_CHECKING:
    from bot.channels.matrix.adapter import CONTENT_LIMIT as CONTENT_LIMIT
    from bot.channels.matrix.adapter import MATRIX_TAGS as MATRIX_TAGS
    from bot.channels.matrix.adapter import MatrixChannel as MatrixChannel
    from bot.channels.matrix.adapter import content_size as content_size
    from bot.channels.matrix.adapter import plain_text as plain_text
    from bot.channels.matrix.adapter import sanitise as sanitise

    CHANNEL = MatrixChannel

NETWORK = MatrixNetwork  # what validating a channel needs (see channels/registry.py)
# this package is the `matrix` type; CHANNEL is its adapter (see channels/registry.py)
__getattr__ = lazy_exports(
    __name__,
    {
        "CHANNEL": "adapter:MatrixChannel",
        "MatrixChannel": "adapter",
        "CONTENT_LIMIT": "adapter",
        "MATRIX_TAGS": "adapter",
        "content_size": "adapter",
        "plain_text": "adapter",
        "sanitise": "adapter",
    },
)

__all__ = [
    "CHANNEL",
    "CONTENT_LIMIT",
    "MATRIX_TAGS",
    "NETWORK",
    "MatrixChannel",
    "MatrixNetwork",
    "MatrixOptions",
    "content_size",
    "plain_text",
    "sanitise",
]
