"""Each network's `NETWORK` (what validating its channels needs, imported without the adapter) is
the adapter's own: the adapter inherits it, so its Options model and capabilities are defined
once and cannot drift apart."""

from __future__ import annotations

import importlib

import pytest
from pydantic import ValidationError

from bot.channels import registry
from bot.channels.base import Network

TYPES = sorted(registry.network_types())


@pytest.mark.parametrize("type_name", TYPES)
def test_the_network_facts_are_the_adapters(type_name: str) -> None:
    network = registry.network(type_name)
    adapter = registry.get(type_name)
    assert network is not None and adapter is not None
    assert issubclass(adapter, network) and issubclass(network, Network)
    assert adapter.Options is network.Options
    assert adapter.can == network.can
    assert adapter.capability_note == network.capability_note
    assert adapter.extra_fields == network.extra_fields
    assert adapter.capabilities(None) == network.capabilities(None)
    assert adapter.config_warnings.__func__ is network.config_warnings.__func__  # type: ignore[attr-defined]
    assert adapter.capabilities.__func__ is network.capabilities.__func__  # type: ignore[attr-defined]


@pytest.mark.parametrize("type_name", TYPES)
def test_one_options_model_per_network(type_name: str) -> None:
    """No class on the adapter's way up binds an Options of its own (a twin model)."""
    network = registry.network(type_name)
    adapter = registry.get(type_name)
    assert network is not None and adapter is not None
    for cls in adapter.__mro__:
        if "Options" in vars(cls):
            assert vars(cls)["Options"] is network.Options, cls


@pytest.mark.parametrize("type_name", TYPES)
def test_a_network_package_names_its_network_in_a_light_module(type_name: str) -> None:
    module = importlib.import_module(f"bot.channels.{type_name}")
    network = module.NETWORK
    assert network.__module__ == f"bot.channels.{type_name}.options"
    assert network.Options.__module__ == f"bot.channels.{type_name}.options"
    assert module.CHANNEL is registry.get(type_name)


@pytest.mark.parametrize("kind", sorted(registry.network_types()))
def test_an_alt_text_template_with_an_unknown_placeholder_is_refused_when_options_load(
    kind: str,
) -> None:
    """Every network with an `image_alt` option checks its placeholders on load, so a typo
    is a configuration error naming the key, not a post that cannot be composed later."""
    network = registry.network(kind)
    assert network is not None
    if "image_alt" not in network.Options.model_fields:
        pytest.skip(f"{kind} has no image_alt option")
    with pytest.raises(ValidationError) as refused:
        network.Options.model_validate({"image_alt": "Cover of {titel}"})
    bad = [e for e in refused.value.errors() if e["loc"] == ("image_alt",)]
    assert bad and "titel" in bad[0]["msg"], refused.value.errors()
