"""What each channel can do after the post and its default policies, as a channels.yaml entry
makes it (the README's table): `can`, `default_on_update`, `default_on_retract`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from bot.channels import registry
from bot.channels.base import ChannelContext
from bot.channels.loading import load_channels
from tests.channels.conftest import no_image

ENTRIES = {
    "mastodon": "base_url: https://masto.example\n    token: t",
    "bluesky": "handle: herald.test\n    app_password: abcd-efgh-ijkl-mnop",
    "x": "bearer_token: t",
    "linkedin": "token: t\n    author: urn:li:person:AbC123\n    version: '202510'",
    "discord": "url: https://discord.com/api/webhooks/1/abcdefghijklmnop",
    "slack-bot": "token: xoxb-1\n    channel: C0HERALD01",
    "slack-hook": "url: https://hooks.slack.com/services/T1/B2/abcdefgh12345678",
    "telegram": "token: '123456789:AAHerald-Fake_Token0123'\n    chat_id: '@heraldnews'",
    "webhook": "url: https://receiver.example/hook",
    "outbox": "path: outbox.jsonl",
}
# (edit, reply, delete), default on_update, default on_retract: the README's table
TABLE = {
    "mastodon": ({"edit", "reply", "delete"}, "edit", "delete"),
    "bluesky": ({"reply", "delete"}, "ignore", "delete"),
    "x": ({"reply", "delete"}, "ignore", "delete"),
    "linkedin": ({"edit", "reply", "delete"}, "edit", "delete"),
    "discord": ({"edit", "delete"}, "edit", "delete"),
    "slack-bot": ({"edit", "reply", "delete"}, "edit", "delete"),
    "slack-hook": (set(), "ignore", "ignore"),
    "telegram": ({"edit", "reply", "delete"}, "edit", "delete"),
    "webhook": ({"edit", "delete"}, "edit", "delete"),
    "outbox": ({"edit", "delete"}, "edit", "delete"),
}


@pytest.mark.parametrize("name", sorted(TABLE))
def test_each_channel_can_what_the_readme_says(tmp_path: Path, name: str) -> None:
    path = tmp_path / "channels.yaml"
    kind = name.partition("-")[0]
    path.write_text(
        f"channels:\n  - name: {name}\n    type: {kind}\n    {ENTRIES[name]}\n", encoding="utf-8"
    )

    async def go() -> tuple[set[str], str, str]:
        async with httpx.AsyncClient() as client:
            # made as build_channels makes it, without registering these fake secrets with the
            # process-wide redactor (a one-letter "secret" would blank that letter in later logs)
            (cc,) = load_channels(path, {})
            kind = registry.get(cc.type)
            assert kind is not None
            channel = kind(cc.name, cc.options, ChannelContext(client, no_image), cc.template)
            lifecycle = set(channel.can) & {"edit", "reply", "delete"}
            return lifecycle, channel.default_on_update(), channel.default_on_retract()

    assert asyncio.run(go()) == (TABLE[name][0], TABLE[name][1], TABLE[name][2])
