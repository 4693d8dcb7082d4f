"""The adapters by their channels.yaml `type`: each network module registers itself by its name
and its `CHANNEL`; `build_channels` makes the configured ones. A network package also names its
`NETWORK` (its Options model and capabilities, from a module that imports no HTTP stack), which
is all that loading channels.yaml needs (`network`)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from bot import channels as channels_package
from bot.channels.base import Channel, ChannelContext, Network
from bot.config import ChannelConfig
from bot.redact import REDACTOR

# The modules of this package that are not networks. Every other module (or package) here is
# one network, named after its channels.yaml `type`, and says which class it is with `CHANNEL`:
# adding a network is adding its module, nothing else. (A package may also say `NETWORK`, the
# light part of that class, so that validating its channels does not import the adapter.)
NOT_NETWORKS = frozenset(
    {
        "base",
        "compose",
        "escaping",
        "graph_api",
        "images",
        "shrink",
        "loading",
        "marketing",
        "network",
        "longform",
        "preview",
        "registry",
        "templates",
    }
)


def network_types() -> frozenset[str]:
    """The channels.yaml types there are (module names, listed without importing them)."""
    names = {m.name for m in pkgutil.iter_modules(channels_package.__path__)}
    return frozenset(names - NOT_NETWORKS)


def get(type_name: str) -> type[Channel[Any]] | None:
    """The adapter class of a type, importing only that network's module; None if unknown."""
    if type_name not in network_types():
        return None
    module = importlib.import_module(f"{channels_package.__name__}.{type_name}")
    cls: type[Channel[Any]] = module.CHANNEL
    return cls


def network(type_name: str) -> type[Network] | None:
    """What validating a channel of this type needs (its Options model, `can`, `capabilities`,
    `config_warnings`, ...): the network's `NETWORK`, imported without its adapter, or its
    `CHANNEL` when it names none (a one-module network); None if the type is unknown."""
    if type_name not in network_types():
        return None
    module = importlib.import_module(f"{channels_package.__name__}.{type_name}")
    facts: type[Network] = getattr(module, "NETWORK", None) or module.CHANNEL
    return facts


def build_channels(
    configs: Sequence[ChannelConfig],
    context: ChannelContext | Callable[[ChannelConfig], ChannelContext],
) -> dict[str, tuple[ChannelConfig, Channel[Any]]]:
    """The adapters for these channels, each with the context given (or made for it)."""
    from bot.channels.marketing import cards  # making adapters, not loading channels.yaml

    out: dict[str, tuple[ChannelConfig, Channel[Any]]] = {}
    for cc in configs:
        kind = get(cc.type)
        assert kind is not None  # validated when the config loaded
        ctx = context if isinstance(context, ChannelContext) else context(cc)
        if cc.site.cards is not None and cc.site.cards.enabled:  # generated cards: drawn here
            ctx = replace(ctx, fetch_image=cards.fetcher(ctx.fetch_image))
        channel = kind(cc.name, cc.options, ctx, cc.template)
        channel.config = cc  # utm, image_alt, the site's language and cards
        REDACTOR.add(channel.credentials())  # no log line, row or page may show them
        out[cc.name] = (cc, channel)
    return out
