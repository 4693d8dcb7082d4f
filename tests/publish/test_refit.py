"""Fit the server that is really there, through the engine: a post refused as too long is
re-fitted and sent once more within the same attempt, recorded, and shown by `status`."""

from __future__ import annotations

import json

from tests.fakes.mastodon import FakeMastodon
from tests.helpers import Project, ago

TOKEN = "refit-token-0123456789abcdef"
CTA = "Read the whole story on the blog:"
SLUG = "a-very-long-slug-" * 7 + "end"  # Herald cuts slugs; the URL stays long


def long_article(project: Project) -> None:
    project.article(
        "long.md",
        "A title long enough to matter when every character is counted " * 2,
        ago(minutes=1),
        id="long",
        slug=SLUG,
        cta=CTA,
        description="A description that goes on and on about the article's subject. " * 8,
    )


def article_url(project: Project) -> str:
    url: str = json.loads((project.feeds / "feed.json").read_text())["items"][0]["url"]
    return url


def configure(project: Project, masto: FakeMastodon) -> None:
    project.write_config(
        channels=[
            {
                "name": "masto",
                "type": "mastodon",
                "base_url": masto.url,
                "token": TOKEN,
                "image": False,
            }
        ]
    )


def status_posts(masto: FakeMastodon) -> int:
    return sum(1 for r in masto.requests if r.method == "POST" and r.path == "/api/v1/statuses")


def test_a_server_that_counts_urls_raw_gets_the_post_refitted_once(project: Project) -> None:
    with FakeMastodon(tokens={TOKEN: "herald"}, raw_length=True) as masto:
        configure(project, masto)
        long_article(project)
        r = project.cli("run", "--once")
        assert r.returncode == 0, r.stderr
        url = article_url(project)
        assert len(url) > 100  # counted as 23 by the rule the server advertises
        assert status_posts(masto) == 2  # refused as too long, then the re-fitted post
        (post,) = masto.posts
        assert url in post["text"] and CTA in post["text"]
        assert len(post["text"]) <= 500
        status = project.status()
        assert status["channels"]["masto"]["counts"] == {
            **status["channels"]["masto"]["counts"],
            "sent": 1,
            "failed": 0,
        }
        (row,) = status["recent"]
        assert "re-fitted" in row["error"] and "too long" in row["error"]
        assert "re-fitted" in project.cli("status").stdout
        # the refusal of one post says nothing about the channel's health
        assert not status["channels"]["masto"]["paused_until"]


def test_a_5000_character_server_gets_the_article_unshortened(project: Project) -> None:
    with FakeMastodon(tokens={TOKEN: "herald"}, max_characters=5000) as masto:
        configure(project, masto)
        long_article(project)
        assert project.cli("run", "--once").returncode == 0
        url = article_url(project)
        assert status_posts(masto) == 1
        (post,) = masto.posts
        assert url in post["text"] and "…" not in post["text"]
        assert post["text"].count("goes on and on") == 8


def test_refusals_of_single_posts_never_pause_the_channel(project: Project) -> None:
    with FakeMastodon(tokens={TOKEN: "herald"}) as masto:
        project.write_config(
            channels=[
                {
                    "name": "masto",
                    "type": "mastodon",
                    "base_url": masto.url,
                    "token": TOKEN,
                    "image": False,
                }
            ],
            publishing={"pause_after": 2},
        )
        from tests.fakes.server import Fault

        masto.fail_next(
            *[Fault.status(422, {"error": "Validation failed: Text is invalid"}) for _ in range(5)]
        )
        for i in range(6):
            project.article(f"p{i}.md", f"Post {i}", ago(minutes=10 - i), id=f"p{i}")
        r = project.cli("run", "--once")
        assert r.returncode == 1  # five refused
        status = project.status()["channels"]["masto"]
        assert status["counts"]["failed"] == 5 and status["counts"]["sent"] == 1
        assert not status["paused_until"]
