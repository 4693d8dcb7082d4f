"""The adapters by their channels.yaml `type`."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

from bot.channels.base import Channel, ChannelContext
from bot.config import ChannelConfig
from bot.redact import REDACTOR

# type -> "module:Class"; imported on first use so a config naming one type loads one module
TYPES: dict[str, str] = {
    "outbox": "bot.channels.outbox:OutboxChannel",
    "webhook": "bot.channels.webhook:WebhookChannel",
    "mastodon": "bot.channels.mastodon:MastodonChannel",
    "bluesky": "bot.channels.bluesky:BlueskyChannel",
    "linkedin": "bot.channels.linkedin:LinkedInChannel",
    "x": "bot.channels.x:XChannel",
    "discord": "bot.channels.discord:DiscordChannel",
    "slack": "bot.channels.slack:SlackChannel",
    "telegram": "bot.channels.telegram:TelegramChannel",
}


def get(type_name: str) -> type[Channel[Any]] | None:
    target = TYPES.get(type_name)
    if target is None:
        return None
    module_name, _, cls_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name == module_name:
            return None
        raise
    cls: type[Channel[Any]] = getattr(module, cls_name)
    return cls


def build_channels(
    configs: Sequence[ChannelConfig],
    context: ChannelContext | Callable[[ChannelConfig], ChannelContext],
) -> dict[str, tuple[ChannelConfig, Channel[Any]]]:
    """The adapters for these channels, each with the context given (or made for it)."""
    out: dict[str, tuple[ChannelConfig, Channel[Any]]] = {}
    for cc in configs:
        kind = get(cc.type)
        assert kind is not None  # validated when the config loaded
        ctx = context if isinstance(context, ChannelContext) else context(cc)
        channel = kind(cc.name, cc.options, ctx, cc.template)
        REDACTOR.add(channel.credentials())  # no log line, row or page may show them
        out[cc.name] = (cc, channel)
    return out
