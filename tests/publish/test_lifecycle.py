"""Posts follow their articles, through the real command line against the Mastodon emulator:
edits (settled, only when the post shows the change), retractions (explicit, drafts, the
guard against mass deletion, `retract --confirm`), first comments, `links`, syndication.json."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.mastodon import FakeMastodon
from tests.helpers import Project, ago

TOKEN = "masto-token-0123456789abcdef"


@pytest.fixture
def masto() -> Iterator[FakeMastodon]:
    with FakeMastodon(tokens={TOKEN: "herald"}) as fake:
        yield fake


def setup(project: Project, masto: FakeMastodon, **channel: Any) -> None:
    publishing = channel.pop("publishing", {})
    project.write_config(
        channels=[
            {
                "name": "masto",
                "type": "mastodon",
                "base_url": masto.url,
                "token": TOKEN,
                "image": False,
                "template": "{title}\n\n{url}",
                **channel,
            }
        ],
        publishing={"edit_settle": "0s", **publishing},
    )


def run(project: Project) -> str:
    r = project.cli("run", "--once")
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout + r.stderr


def statuses(masto: FakeMastodon, *, live: bool = True) -> list[dict[str, Any]]:
    return [p for p in masto.posts if not (live and p.get("deleted"))]


def top_level(masto: FakeMastodon) -> list[dict[str, Any]]:
    return [p for p in statuses(masto) if not p.get("in_reply_to_id")]


def test_an_edited_title_edits_the_post_once_and_a_body_edit_sends_nothing(
    project: Project, masto: FakeMastodon
) -> None:
    setup(project, masto)
    project.article("a.md", "Frist title", ago(minutes=5), id="a", body="Body one.\n")
    run(project)
    (post,) = top_level(masto)
    assert "Frist title" in post["text"]

    project.article("a.md", "First title", ago(minutes=5), id="a", body="Body one.\n")
    run(project)
    run(project)  # nothing new: no second edit
    (post,) = top_level(masto)
    assert "First title" in masto.live(post["id"])["text"]  # type: ignore[index]
    assert len(post.get("edits", [])) == 1, post

    # the body is not in the template: the post does not show it, nothing is sent
    project.article("a.md", "First title", ago(minutes=5), id="a", body="Body two, longer.\n")
    run(project)
    assert len(top_level(masto)[0].get("edits", [])) == 1
    assert len(masto.posts) == 1

    (shown,) = project.status()["posts"]
    assert shown["state"] == "edited" and shown["edits"] == 1 and shown["edited_at"]
    text = project.cli("status").stdout
    assert "edited 1× (last " in text


def test_saves_within_the_settle_time_make_one_edit(project: Project, masto: FakeMastodon) -> None:
    setup(project, masto, publishing={"edit_settle": "3s"})
    project.article("a.md", "Title 0", ago(minutes=5), id="a")
    run(project)
    for i in range(1, 4):  # three saves, each seen by a pass, within the settle time
        project.article("a.md", f"Title {i}", ago(minutes=5), id="a")
        run(project)
    (post,) = top_level(masto)
    assert not post.get("edits"), "an edit went out before the saves settled"
    time.sleep(3.2)
    run(project)
    (post,) = top_level(masto)
    assert len(post["edits"]) == 1
    assert "Title 3" in masto.live(post["id"])["text"]  # type: ignore[index]


def test_reply_policy_answers_with_a_correction(project: Project, masto: FakeMastodon) -> None:
    setup(project, masto, on_update="reply", correction_template="Corrected: {title} {url}")
    project.article("a.md", "Wrong price: $10", ago(minutes=5), id="a")
    run(project)
    project.article("a.md", "Right price: $12", ago(minutes=5), id="a")
    run(project)
    run(project)
    post, reply = masto.posts
    assert reply["in_reply_to_id"] == post["id"]
    assert reply["text"].startswith("Corrected: Right price: $12")
    assert not post.get("edits")


def test_retracted_true_deletes_the_post(project: Project, masto: FakeMastodon) -> None:
    setup(project, masto)
    project.article("a.md", "Oops", ago(minutes=5), id="a")
    project.article("b.md", "Fine", ago(minutes=6), id="b")
    run(project)
    assert len(top_level(masto)) == 2
    project.article("a.md", "Oops", ago(minutes=5), id="a", retracted=True)
    out = run(project)
    assert [p["text"].split("\n")[0] for p in top_level(masto)] == ["Fine"]
    assert "deleted a on masto" in out
    feed = json.loads((project.feeds / "feed.json").read_text())
    assert [i["title"] for i in feed["items"]] == ["Fine"]  # the feeds drop it at once
    run(project)
    assert len([p for p in masto.posts if p.get("deleted")]) == 1  # once
    links = json.loads(project.cli("links", "a", "--json").stdout)
    assert links[0]["state"] == "deleted" and links[0]["deleted"]


def test_retraction_note_policy(project: Project, masto: FakeMastodon) -> None:
    setup(project, masto, on_retract="reply")
    project.article("a.md", "Claims", ago(minutes=5), id="a")
    run(project)
    project.article("a.md", "Claims", ago(minutes=5), id="a", retracted=True)
    run(project)
    post, note = masto.posts
    assert not post.get("deleted") and note["in_reply_to_id"] == post["id"]
    assert note["text"].startswith("This article has been withdrawn: Claims")


def test_many_drafts_at_once_retract_nothing_until_confirmed(
    project: Project, masto: FakeMastodon
) -> None:
    setup(project, masto, publishing={"retract_guard": 3})
    for i in range(6):
        project.article(f"a{i}.md", f"Article {i}", ago(minutes=5 + i), id=f"a{i}")
    run(project)
    assert len(top_level(masto)) == 6
    for i in range(6):  # a sync tool flips them all to drafts
        project.article(f"a{i}.md", f"Article {i}", ago(minutes=5 + i), id=f"a{i}", draft=True)
    out = run(project)
    assert "would be retracted at once" in out and "herald retract --confirm" in out
    assert len(top_level(masto)) == 6
    dry = project.cli("retract")
    assert dry.returncode == 0 and "6 articles would be retracted; nothing was done" in dry.stdout
    assert len(top_level(masto)) == 6
    one = project.cli("retract", "--article", "a0")
    assert one.returncode == 0, one.stderr
    assert len(top_level(masto)) == 5
    done = project.cli("retract", "--confirm")
    assert done.returncode == 0, done.stdout + done.stderr
    assert top_level(masto) == []


def test_an_explicit_retraction_passes_the_guard(project: Project, masto: FakeMastodon) -> None:
    setup(project, masto, publishing={"retract_guard": 0})
    project.article("a.md", "Legal", ago(minutes=5), id="a")
    project.article("b.md", "Draft again", ago(minutes=6), id="b")
    run(project)
    project.article("a.md", "Legal", ago(minutes=5), id="a", retracted=True)
    project.article("b.md", "Draft again", ago(minutes=6), id="b", draft=True)
    run(project)
    assert [p["text"].split("\n")[0] for p in top_level(masto)] == ["Draft again"]


def test_a_retracted_article_that_comes_back_is_not_posted_again(
    project: Project, masto: FakeMastodon
) -> None:
    setup(project, masto)
    project.article("a.md", "Back", ago(minutes=5), id="a")
    run(project)
    project.article("a.md", "Back", ago(minutes=5), id="a", retracted=True)
    run(project)
    project.article("a.md", "Back", ago(minutes=5), id="a")
    run(project)
    assert top_level(masto) == []


def test_first_comment_goes_under_the_post_once(project: Project, masto: FakeMastodon) -> None:
    setup(project, masto, template="{title}", first_comment="Read it: {url}")
    project.article("a.md", "Hello", ago(minutes=5), id="a", slug="hello")
    run(project)
    run(project)
    post, comment = masto.posts
    assert comment["in_reply_to_id"] == post["id"]
    assert comment["text"].startswith("Read it: https://")
    syndication = json.loads((project.feeds / "syndication.json").read_text())
    (entry,) = syndication["articles"]["a"]["posts"]
    assert entry["network"] == "mastodon" and entry["state"] == "posted"
    item = json.loads((project.feeds / "feed.json").read_text())["items"][0]
    assert item["_herald"]["syndication"][0]["url"] == entry["url"]


def test_on_update_edit_on_a_network_that_cannot_is_a_config_error(project: Project) -> None:
    project.write_config(
        channels=[
            {"name": "x", "type": "x", "on_update": "edit", **X_KEYS},
        ]
    )
    r = project.cli("check")
    assert r.returncode == 2
    assert "Herald cannot edit its posts on x; use reply, ignore" in r.stdout + r.stderr
    assert "on_update" in r.stdout + r.stderr


X_KEYS = {
    "api_key": "k" * 25,
    "api_secret": "s" * 50,
    "access_token": "t" * 50,
    "access_secret": "a" * 45,
}


def test_reactions_and_replies_come_back(project: Project, masto: FakeMastodon) -> None:
    setup(project, masto, publishing={"reactions_every": "1s"})
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
        publishing={"reactions_every": "1s"},
        feeds={"comments": True},
    )
    project.article("a.md", "Liked", ago(minutes=5), id="a", slug="liked")
    run(project)
    (post,) = masto.posts
    masto.react(post["id"], reblogs=3, favourites=7)
    masto.reply_from(
        "bob", post["id"], '<p>Great <script>alert(1)</script><a href="/x">read</a></p>'
    )
    time.sleep(1.1)
    run(project)
    (shown,) = project.status()["posts"]
    assert shown["reactions"] == {"replies": 1, "reposts": 3, "likes": 7}
    assert "1 reply, 3 reposts, 7 likes" in project.cli("status").stdout
    syndication = json.loads((project.feeds / "syndication.json").read_text())
    assert syndication["articles"]["a"]["posts"][0]["reactions"]["likes"] == 7
    comments = json.loads((project.feeds / "comments" / "liked.json").read_text())
    (c,) = comments["comments"]
    assert c["author"] == "Bob" and c["network"] == "mastodon"
    assert "<script>" not in c["content_html"] and "Great" in c["content_html"]
    assert f'href="{masto.url}/x"' in c["content_html"]  # made absolute against the reply


def test_vanished_files_retract_only_behind_the_guard(
    project: Project, masto: FakeMastodon
) -> None:
    setup(project, masto, publishing={"on_missing": "retract", "retract_after": "0s"})
    for i in range(22):
        project.article(f"a{i:02d}.md", f"Article {i}", ago(minutes=5 + i), id=f"a{i:02d}")
    run(project)
    assert len(top_level(masto)) == 22

    # one file deleted: gone across two full scans, its post goes
    (project.content / "a21.md").unlink()
    run(project)
    assert len(top_level(masto)) == 22  # one scan is not enough
    run(project)
    assert len(top_level(masto)) == 21

    # 20 files deleted at once: nothing is deleted, the worker warns, on every pass
    for i in range(1, 21):
        (project.content / f"a{i:02d}.md").unlink()
    for _ in range(3):
        out = run(project)
    assert "20 articles would be retracted at once" in out
    assert len(top_level(masto)) == 21
    done = project.cli("retract", "--confirm")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "retractions: 20 planned; 20 done" in done.stdout
    assert [p["text"].split("\n")[0] for p in top_level(masto)] == ["Article 0"]


@pytest.mark.parametrize("how", ["emptied", "removed"])
def test_an_emptied_or_missing_folder_retracts_nothing(
    project: Project, masto: FakeMastodon, how: str
) -> None:
    setup(
        project,
        masto,
        publishing={"on_missing": "retract", "retract_after": "0s", "retract_guard": 100},
    )
    for i in range(3):
        project.article(f"a{i}.md", f"Article {i}", ago(minutes=5 + i), id=f"a{i}")
    run(project)
    for path in project.content.iterdir():
        path.unlink()
    if how == "removed":
        project.content.rmdir()
    r = project.cli("run", "--once")
    if how == "emptied":  # a missing folder stops the run before the scan, which says why
        assert "the content folder is empty" in r.stdout + r.stderr
        assert "their posts stay" in r.stdout + r.stderr
    for _ in range(2):
        project.cli("run", "--once")
    assert len(top_level(masto)) == 3


def test_a_correction_refused_as_too_long_is_refitted_as_a_correction(project: Project) -> None:
    # the server counts every URL at full length (raw_length), not as the 23 it advertises
    with FakeMastodon(tokens={TOKEN: "herald"}, max_characters=120, raw_length=True) as strict:
        setup(
            project,
            strict,
            on_update="reply",
            correction_template="Corrected: {title} {url}",
            template="{title}",
        )
        project.article("a.md", "Short", ago(minutes=5), id="a", slug="a")
        run(project)
        project.article("a.md", "Price " + "words " * 30, ago(minutes=5), id="a", slug="a")
        out = run(project)
        assert "re-fitted" in out  # the first reply was refused as too long
        creates = [r for r in strict.requests if r.path == "/api/v1/statuses"]
        assert len(creates) == 3  # the post, the refused reply, the refitted one
        post, reply = strict.posts
        assert reply["in_reply_to_id"] == post["id"]
        assert reply["text"].startswith("Corrected: Price words")  # its own template
        assert reply["text"].endswith("https://blog.example.org/articles/a/")  # link kept


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_post_id_longer_than_the_sent_log_keeps_is_still_a_sent_post(
    project: Project, masto: FakeMastodon, database: str, request: pytest.FixtureRequest
) -> None:
    """A server that answers with a 600-character post id: PostgreSQL refused to record it
    (post_id is 512 characters), so a post that went out stayed `sending`. It is `sent` now,
    the id not kept and said so; the next pass posts nothing again."""
    url = request.getfixturevalue("pg_url") if database == "postgresql" else None
    setup(project, masto)
    if url is not None:
        text = project.config.read_text()
        project.config.write_text(text.replace(f"sqlite:///{project.root / 'herald.sqlite3'}", url))
    ids = iter(range(10**6))
    masto._next_id = lambda: "9" * 600 + str(next(ids))  # type: ignore[method-assign]
    project.article("a.md", "Alpha", ago(minutes=5), id="alpha")
    r = project.cli("run", "--once")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "deliveries: 1 sent" in r.stdout
    row = project.status()["recent"][0]
    assert row["status"] == "sent" and row["post_id"] is None, row
    assert "the network's post id (601 characters) not kept" in str(row), row
    assert "not kept: longer than Herald keeps" in r.stderr
    again = project.cli("run", "--once")
    assert again.returncode == 0 and len(masto.posts) == 1
