"""What validating a channels.yaml entry needs of its network (`Network`: its Options model and
what it lets Herald do after a post), apart from the adapter that sends; and the lazy names of a
network package (`lazy_exports`), which let `herald build` and `herald check` import a network
without its adapter and HTTP stack."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from bot.config import ChannelOptions


def lazy_exports(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A network package's module `__getattr__` (PEP 562): each name of `homes` is imported
    from its submodule on first use ("adapter", or "lifecycle:MastodonChannel" for a name bound
    to another), so importing the package for its `NETWORK` loads no adapter."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, attr = home.partition(":")
        value = getattr(importlib.import_module(f"{package}.{module}"), attr or name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__


class Network:
    """What checking a channels.yaml entry needs of its network, without the adapter: its
    options model and what it lets Herald do after a post. Each network states these once, in
    a module that imports no HTTP stack (`<type>/options.py`), and its adapter inherits them,
    so `herald build` and `herald check` validate channels without importing any adapter."""

    Options: ClassVar[type[ChannelOptions]]
    # what the network lets Herald do to a post after it is out: "edit" (in place), "reply"
    # (a reply under it) and "delete"; each is one method of the adapter
    # (each channel's own `can` is `capabilities(its options)`, set when it is made)
    can: frozenset[str] = frozenset()
    # template fields the network's templates may use beyond compose's
    extra_fields: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def config_warnings(cls, options: ChannelOptions) -> list[tuple[str, str]]:
        """What `herald check` should warn about in valid options: (option key, message)."""
        return []

    # said when `can` holds a policy that these options do not allow (see `capabilities`)
    capability_note: ClassVar[str] = ""

    @classmethod
    def capabilities(cls, options: ChannelOptions | None = None) -> frozenset[str]:
        """What a channel with these options can do: `can`, unless the options narrow it (a
        Slack channel with only an incoming webhook can do nothing after the post)."""
        return cls.can
