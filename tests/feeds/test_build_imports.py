"""What `herald build` imports when it has work to do (one new article in a built folder), in a
real process: none of the worker, the web server, the HTTP client, Pillow, the rendering code of
the channels, nor SQLAlchemy (a SQLite file is created and read on the driver, the first build
too). Each of these once loaded on this path; this keeps them off it. A later build, with the
configuration unchanged, does not load the configuration models either."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from tests.helpers import Project, ago

NOT_ON_THE_BUILD_PATH = (
    "httpx",
    "h11",
    "certifi",
    "coincurve",
    "oauthlib",
    "httpcore",
    "anyio",
    "aiohttp",
    "PIL",
    "regex",  # channels.yaml's templates are checked by bot.channels.templates
    "sqlalchemy",  # the metadata cache is SQL on the driver (bot.store.driver)
    "asyncio",  # SQLAlchemy imported it
    "bot.http",
    "bot.worker",
    "bot.web.server",
    "bot.publish",
    "bot.channels.compose",
    "bot.channels.marketing.view",
    "bot.channels.marketing.cards",
    "bot.channels.images",
    "multiprocessing",  # only a scan of thousands of new files starts worker processes
)

# what validating the configuration loads, which a build whose configuration did not change
# since the last build validated it does without (bot.build_stamp.recall_config)
CONFIG_MODELS = ("pydantic", "bot.config", "bot.app", "bot.channels.loading", "bot.channel_config")

# one channel of every network, its secrets from the environment: validating them (`build`
# checks channels.yaml as every command does) needs each network's options, not its adapter
SECRETS = {
    "MASTODON_TOKEN": "mastodon-token",
    "BSKY_PASSWORD": "abcd-efgh-ijkl-mnop",
    "X_TOKEN": "x-bearer-token",
    "LINKEDIN_TOKEN": "linkedin-token",
    "TELEGRAM_TOKEN": "987654321:AAtelegramToken_abcdefghij",
    "SLACK_TOKEN": "xoxb-slack-token",
    "NOSTR_KEY": "0" * 63 + "1",
    "WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "DISCORD_TOKEN": "discordtoken0123456789abcdefghijklmnop",
    "MATRIX_TOKEN": "syt_matrix_token",
    "SMTP_PASSWORD": "smtp-password",
    "FACEBOOK_TOKEN": "facebook-page-token",
    "THREADS_TOKEN": "threads-token",
    "DEVTO_KEY": "devto-key",
    "HASHNODE_TOKEN": "hashnode-token",
}
EVERY_NETWORK: list[dict[str, Any]] = [
    {
        "name": "masto",
        "type": "mastodon",
        "base_url": "https://mastodon.example",
        "token": "${MASTODON_TOKEN}",
        "on_update": "edit",
    },
    {
        "name": "bsky",
        "type": "bluesky",
        "handle": "news.example.org",
        "app_password": "${BSKY_PASSWORD}",
    },
    {"name": "x", "type": "x", "bearer_token": "${X_TOKEN}"},
    {
        "name": "li",
        "type": "linkedin",
        "token": "${LINKEDIN_TOKEN}",
        "author": "urn:li:organization:4242",
    },
    {"name": "tg", "type": "telegram", "token": "${TELEGRAM_TOKEN}", "chat_id": "@news_channel"},
    {
        "name": "slack",
        "type": "slack",
        "token": "${SLACK_TOKEN}",
        "channel": "C0123ABCDEF",
        "template": "{title} {link}",
        "on_retract": "delete",
    },
    {
        "name": "nostr",
        "type": "nostr",
        "private_key": "${NOSTR_KEY}",
        "relays": ["wss://relay.example"],
    },
    {
        "name": "hook",
        "type": "webhook",
        "url": "https://hooks.example/herald",
        "secret": "${WEBHOOK_SECRET}",
    },
    {
        "name": "discord",
        "type": "discord",
        "url": "https://discord.com/api/webhooks/1180000000000000001/${DISCORD_TOKEN}",
    },
    {
        "name": "matrix",
        "type": "matrix",
        "base_url": "https://matrix.example.org",
        "access_token": "${MATRIX_TOKEN}",
        "room": "!news:example.org",
    },
    {
        "name": "mail",
        "type": "email",
        "host": "smtp.example.org",
        "username": "news",
        "password": "${SMTP_PASSWORD}",
        "sender": "Blog <news@blog.example>",
        "to": "readers@lists.example",
    },
    {"name": "fb", "type": "facebook", "page_id": "1234567890", "token": "${FACEBOOK_TOKEN}"},
    {"name": "threads", "type": "threads", "token": "${THREADS_TOKEN}"},
    {"name": "devto", "type": "devto", "api_key": "${DEVTO_KEY}"},
    {
        "name": "hashnode",
        "type": "hashnode",
        "token": "${HASHNODE_TOKEN}",
        "publication_id": "0123456789abcdef01234567",
    },
    {"name": "outbox", "type": "outbox", "path": "outbox.jsonl"},
]


def test_a_build_with_one_new_article_imports_nothing_it_does_not_use(project: Project) -> None:
    assert_build_imports_nothing_it_does_not_use(project, {})


def test_a_build_with_a_channel_of_every_network_imports_no_adapter(project: Project) -> None:
    """Every network's channel is validated from its options module; no adapter, HTTP stack,
    signing library or image library loads."""
    project.write_config(channels=EVERY_NETWORK)
    assert project.cli_process("check", env=SECRETS).returncode == 0
    assert_build_imports_nothing_it_does_not_use(project, SECRETS)


def assert_build_imports_nothing_it_does_not_use(project: Project, env: dict[str, str]) -> None:
    project.article("a.md", "Alpha", ago(days=2))
    assert_build_loads_none_of(project, env, NOT_ON_THE_BUILD_PATH)  # it creates the database
    project.article("b.md", "Beta", ago(days=1))  # work to do: the record does not answer
    # the configuration is as the first build validated it: its models are not loaded either
    assert_build_loads_none_of(project, env, NOT_ON_THE_BUILD_PATH + CONFIG_MODELS)


def assert_build_loads_none_of(
    project: Project, env: dict[str, str], banned: Sequence[str]
) -> None:
    check = (
        "import sys, runpy\n"
        "config, banned = sys.argv[1], sys.argv[2:]\n"
        "sys.argv = ['herald', '--config', config, 'build']\n"
        "try:\n"
        "    runpy.run_module('bot', run_name='__main__')\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "loaded = sorted(m for m in banned if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", check, str(project.config), *banned],
        capture_output=True,
        text=True,
        cwd=project.root,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout, done.stdout  # it did build: the path under test ran
