"""Webhooks: the article as a signed JSON event (Standard Webhooks) POSTed to a URL (adapter); its
channels.yaml keys (options).

Only `options` loads with the package: the adapter (and its HTTP stack) loads on first use of
`CHANNEL` (PEP 562), so validating a channels.yaml imports none of it."""

from typing import TYPE_CHECKING

from bot.channels.base import lazy_exports
from bot.channels.webhook.options import WebhookNetwork, WebhookOptions

if TYPE_CHECKING:
    from bot.channels.webhook.adapter import WebhookChannel as WebhookChannel
    from bot.channels.webhook.adapter import sign as sign

    CHANNEL = WebhookChannel

NETWORK = WebhookNetwork  # what validating a channel needs (see channels/registry.py)
# this package is the `webhook` type; CHANNEL is its adapter (see channels/registry.py)
__getattr__ = lazy_exports(
    __name__, {"CHANNEL": "adapter:WebhookChannel", "WebhookChannel": "adapter", "sign": "adapter"}
)

__all__ = ["CHANNEL", "NETWORK", "WebhookChannel", "WebhookNetwork", "WebhookOptions", "sign"]
