"""E-mail: one SMTP message per article, a follow-up for corrections (adapter); its channels.yaml
keys (options).

Only `options` loads with the package: the adapter (and its HTTP stack) loads on first use of
`CHANNEL` (PEP 562), so validating a channels.yaml imports none of it."""

from typing import TYPE_CHECKING

from bot.channels.base import lazy_exports
from bot.channels.email.options import EmailNetwork, EmailOptions

if TYPE_CHECKING:
    from bot.channels.email.adapter import EmailChannel as EmailChannel

    CHANNEL = EmailChannel

NETWORK = EmailNetwork  # what validating a channel needs (see channels/registry.py)
# this package is the `email` type; CHANNEL is its adapter (see channels/registry.py)
__getattr__ = lazy_exports(__name__, {"CHANNEL": "adapter:EmailChannel", "EmailChannel": "adapter"})

__all__ = ["CHANNEL", "NETWORK", "EmailChannel", "EmailNetwork", "EmailOptions"]
