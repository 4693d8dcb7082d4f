"""Slack: an announcement through an incoming webhook or, with a bot token, the Web API
(adapter); the Web API's calls and answers (webapi), through which posts are also edited,
answered in their thread and deleted."""

from bot.channels.slack.adapter import SlackChannel, SlackOptions, link

CHANNEL = SlackChannel  # this package is the `slack` type (see channels/registry.py)

__all__ = ["CHANNEL", "SlackChannel", "SlackOptions", "link"]
