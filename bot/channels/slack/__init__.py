"""Slack: an announcement through an incoming webhook or, with a bot token, the Web API
(adapter); the Web API's calls and answers (webapi), through which posts are also edited,
answered in their thread and deleted; its channels.yaml keys (options).

Only `options` loads with the package: the adapter (and its HTTP stack) loads on first use of
`CHANNEL` (PEP 562), so validating a channels.yaml imports none of it."""

from typing import TYPE_CHECKING

from bot.channels.base import lazy_exports
from bot.channels.slack.options import SlackNetwork, SlackOptions

if TYPE_CHECKING:
    from bot.channels.slack.adapter import SlackChannel as SlackChannel
    from bot.channels.slack.adapter import link as link

    CHANNEL = SlackChannel

NETWORK = SlackNetwork  # what validating a channel needs (see channels/registry.py)
# this package is the `slack` type; CHANNEL is its adapter (see channels/registry.py)
__getattr__ = lazy_exports(
    __name__, {"CHANNEL": "adapter:SlackChannel", "SlackChannel": "adapter", "link": "adapter"}
)

__all__ = ["CHANNEL", "NETWORK", "SlackChannel", "SlackNetwork", "SlackOptions", "link"]
