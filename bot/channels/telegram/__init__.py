"""Telegram: an announcement through the Bot API as a photo with caption or a message
(adapter), edited, answered and deleted afterwards (lifecycle)."""

from bot.channels.telegram.adapter import (
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    TelegramOptions,
    message_url,
    visible_length,
)
from bot.channels.telegram.lifecycle import TelegramChannel

CHANNEL = TelegramChannel  # this package is the `telegram` type (see channels/registry.py)

__all__ = [
    "CAPTION_LIMIT",
    "CHANNEL",
    "MESSAGE_LIMIT",
    "TelegramChannel",
    "TelegramOptions",
    "message_url",
    "visible_length",
]
