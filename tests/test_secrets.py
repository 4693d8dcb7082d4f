"""A full pass over every channel type with known secrets: none leaks anywhere a person looks."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.bluesky import FakeBluesky
from tests.fakes.discord import FakeDiscord
from tests.fakes.linkedin import FakeLinkedIn
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram import PUBLIC_CHANNEL, FakeTelegram
from tests.fakes.webhook import WebhookReceiver
from tests.fakes.x import FakeX
from tests.helpers import Project, ago

SECRETS = {
    "MASTODON_TOKEN": "mastodon-SECRET-7f3a9c",
    "BSKY_APP_PASSWORD": "bsky-SECRET-pass-1234",
    "LINKEDIN_TOKEN": "linkedin-SECRET-token-99",
    "X_BEARER": "x-SECRET-bearer-abcdef",
    "DISCORD_TOKEN": "discordSECRETtoken0123456789abcdefghijklmnop",
    "SLACK_PART": "slackSECRETpart0123456789",
    "TELEGRAM_TOKEN": "987654321:AASECRETtelegramToken_abcdefghij",
    "WEBHOOK_SECRET": "whsec_U0VDUkVUd2ViaG9va0tleTEyMzQ1Njc4",
}


def channels(urls: dict[str, str]) -> list[dict[str, object]]:
    return [
        {
            "name": "masto",
            "type": "mastodon",
            "base_url": urls["masto"],
            "token": "${MASTODON_TOKEN}",
        },
        {
            "name": "bsky",
            "type": "bluesky",
            "base_url": urls["bsky"],
            "handle": "herald.test",
            "app_password": "${BSKY_APP_PASSWORD}",
        },
        {
            "name": "li",
            "type": "linkedin",
            "base_url": urls["li"],
            "token": "${LINKEDIN_TOKEN}",
            "author": "urn:li:organization:4242",
        },
        {"name": "x", "type": "x", "base_url": urls["x"], "bearer_token": "${X_BEARER}"},
        {
            "name": "discord",
            "type": "discord",
            "url": urls["discord"] + "/api/webhooks/1180000000000000001/${DISCORD_TOKEN}",
        },
        {
            "name": "slack",
            "type": "slack",
            "url": urls["slack"] + "/services/T0HERALD1/B0HERALD2/${SLACK_PART}",
        },
        {
            "name": "tg",
            "type": "telegram",
            "base_url": urls["tg"],
            "token": "${TELEGRAM_TOKEN}",
            "chat_id": PUBLIC_CHANNEL,
        },
        {"name": "hook", "type": "webhook", "url": urls["hook"], "secret": "${WEBHOOK_SECRET}"},
    ]


def everything_visible(project: Project, env: dict[str, str], html: Path) -> str:
    seen = []
    for args in (
        ("status",),
        ("status", "--json"),
        ("preview",),
        ("preview", "--json"),
        ("preview", "--html", str(html)),
        ("check",),
    ):
        r = project.cli(*args, env=env)
        seen += [r.stdout, r.stderr]
    seen.append(html.read_text())
    seen.append((project.root / "herald.sqlite3").read_bytes().decode("utf-8", "replace"))
    return "\n".join(seen)


def test_every_channel_posts_once_and_no_secret_leaks(project: Project, tmp_path: Path) -> None:
    with (
        FakeMastodon(tokens={SECRETS["MASTODON_TOKEN"]: "herald"}) as masto,
        FakeBluesky(password=SECRETS["BSKY_APP_PASSWORD"]) as bsky,
        FakeLinkedIn(token=SECRETS["LINKEDIN_TOKEN"], authors=("urn:li:organization:4242",)) as li,
        FakeX(bearer_token=SECRETS["X_BEARER"]) as x,
        FakeDiscord(token=SECRETS["DISCORD_TOKEN"]) as discord,
        FakeSlack(path=f"/services/T0HERALD1/B0HERALD2/{SECRETS['SLACK_PART']}") as slack,
        FakeTelegram(token=SECRETS["TELEGRAM_TOKEN"]) as tg,
        WebhookReceiver(secret=SECRETS["WEBHOOK_SECRET"]) as hook,
    ):
        urls = {
            "masto": masto.url,
            "bsky": bsky.url,
            "li": li.url,
            "x": x.url,
            "discord": discord.url,
            "slack": slack.url,
            "tg": tg.url,
            "hook": hook.url,
        }
        project.write_config(channels=channels(urls))
        project.article(
            "launch.md",
            "Launch: Herald 1.0 is here",
            ago(minutes=2),
            id="launch",
            description="Feeds and posts, once.",
            cta="Try it today",
            tags=["release"],
        )
        r = project.cli("run", "--once", env=SECRETS)
        assert r.returncode == 0, r.stdout + r.stderr
        status = project.status()
        sent = {d["channel"]: d for d in status["recent"]}
        assert set(sent) == {"masto", "bsky", "li", "x", "discord", "slack", "tg", "hook"}
        for name, d in sent.items():
            assert d["post_id"], name
        for name in ("masto", "bsky", "li", "x", "discord", "tg"):
            assert str(sent[name]["post_url"]).startswith("http"), name
        assert len(masto.posts) == len(bsky.posts) == len(li.posts) == len(x.posts) == 1
        assert len(discord.messages) == len(slack.messages) == len(tg.messages) == 1
        assert hook.posts_by_article == {"launch": 1}
        visible = r.stdout + r.stderr + everything_visible(project, SECRETS, tmp_path / "p.html")

        # wrong credentials everywhere: the errors are recorded, still without secrets
        wrong = {k: v.replace("SECRET", "WRONG") for k, v in SECRETS.items()}
        wrong["WEBHOOK_SECRET"] = "whsec_V1JPTkd3ZWJob29rS2V5MTIzNDU2Nzg="
        project.article("second.md", "Second post", ago(minutes=1), id="second")
        r = project.cli("run", "--once", env=wrong)
        assert r.returncode == 1
        failures = {d["channel"] for d in project.status()["problems"]}
        assert failures == {"masto", "bsky", "li", "x", "discord", "slack", "tg", "hook"}
        visible += r.stdout + r.stderr + everything_visible(project, wrong, tmp_path / "q.html")
    for value in [*SECRETS.values(), *wrong.values()]:
        assert value not in visible, f"a secret leaked: {value[:8]}..."
    assert "Launch: Herald 1.0 is here" in visible  # the check looked at real output
