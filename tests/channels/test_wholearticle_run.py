"""dev.to and Hashnode through the engine: `herald run --once` reads the sample article's body
from the content folder (ChannelContext.load_body) and both emulators receive the whole article
with its canonical URL and absolute images; `preview` shows the same body."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.channels.longform import absolute_markdown
from tests.channels.wholearticle import EXTRA, file_body, sample_source
from tests.fakes.devto import FakeDevto
from tests.fakes.hashnode import FakeHashnode
from tests.fakes.server import Reply, Request
from tests.helpers import Project
from tests.test_secrets import everything_visible

DEVTO_KEY = "devto-Run-key-5d1e9a"
HN_TOKEN = "hn-Run-token-77ac03"
PUB = "65a1b2c3d4e5f60718293a4b"
SECRETS = {"DEVTO_KEY": DEVTO_KEY, "HN_TOKEN": HN_TOKEN}


@pytest.fixture
def fakes() -> Iterator[tuple[FakeDevto, FakeHashnode]]:
    with FakeDevto({DEVTO_KEY: "magick"}) as dev, FakeHashnode({HN_TOKEN: "magick"}) as hn:
        hn.add_publication(PUB, "magick.hashnode.dev", members=("magick",))
        yield dev, hn


def site(project: Project, dev: FakeDevto, hn: FakeHashnode) -> Path:
    project.write_config(
        channels=[
            {"name": "dev", "type": "devto", "base_url": dev.url, "api_key": "${DEVTO_KEY}"},
            {
                "name": "hn",
                "type": "hashnode",
                "base_url": hn.url,
                "token": "${HN_TOKEN}",
                "publication_id": PUB,
            },
        ],
        publishing={"catch_up": "3650d", "max_age": "3650d"},
    )
    path = project.content / "deepseek.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sample_source(), path)
    with path.open("a", encoding="utf-8") as f:
        f.write(EXTRA)
    return path


def test_run_posts_the_whole_sample_to_both_networks_once(
    project: Project, fakes: tuple[FakeDevto, FakeHashnode]
) -> None:
    dev, hn = fakes
    path = site(project, dev, hn)
    r = project.cli("run", "--once", env=SECRETS)
    assert r.returncode == 0, r.stderr
    (article,) = dev.articles.values()
    (post,) = hn.posts(PUB)
    url = article.canonical_url
    assert url is not None and url.startswith("https://blog.example.org/")
    body = absolute_markdown(file_body(path), url)
    assert article.body_markdown == body == post.content and post.canonical == url
    assert f"![Diagram]({url}images/diagram.png" in body
    for secret in SECRETS.values():
        assert secret not in r.stdout + r.stderr
    again = project.cli("run", "--once", env=SECRETS)  # nothing new: nothing sent again
    assert again.returncode == 0 and len(dev.articles) == 1 and len(hn.posts(PUB)) == 1
    status = project.cli("status", "--json", env=SECRETS)
    sent = {(d["channel"], d["status"]) for d in json.loads(status.stdout)["recent"]}
    assert sent == {("dev", "sent"), ("hn", "sent")}


def test_a_body_edit_updates_both_networks_in_place(
    project: Project, fakes: tuple[FakeDevto, FakeHashnode]
) -> None:
    dev, hn = fakes
    path = site(project, dev, hn)
    project.write_config(
        channels=[
            {"name": "dev", "type": "devto", "base_url": dev.url, "api_key": "${DEVTO_KEY}"},
            {
                "name": "hn",
                "type": "hashnode",
                "base_url": hn.url,
                "token": "${HN_TOKEN}",
                "publication_id": PUB,
            },
        ],
        publishing={"catch_up": "3650d", "max_age": "3650d", "edit_settle": "0s"},
    )
    assert project.cli("run", "--once", env=SECRETS).returncode == 0
    with path.open("a", encoding="utf-8") as f:
        f.write("\n\nAn added paragraph, after publication.\n")
    r = project.cli("run", "--once", env=SECRETS)
    assert r.returncode == 0, r.stderr
    (article,) = dev.articles.values()  # updated, not posted again
    (post,) = hn.posts(PUB)
    assert article.body_markdown.rstrip().endswith("An added paragraph, after publication.")
    assert post.content.rstrip().endswith("An added paragraph, after publication.")
    links = json.loads(project.cli("links", "deepseek", "--json", env=SECRETS).stdout)
    assert {p["state"] for p in links} == {"edited"}


def test_preview_shows_the_body_that_would_be_posted(
    project: Project, fakes: tuple[FakeDevto, FakeHashnode]
) -> None:
    dev, hn = fakes
    path = site(project, dev, hn)
    r = project.cli("preview", "--json", env=SECRETS)
    assert r.returncode == 0, r.stderr
    rows = {row["channel"]: row for row in json.loads(r.stdout)}
    url = rows["dev"]["url"]
    assert rows["dev"]["text"] == rows["hn"]["text"] == absolute_markdown(file_body(path), url)
    assert dev.requests == [] and hn.requests == []  # a preview makes no call


class DevtoStoresThenHangs(FakeDevto):
    """Makes the article, then holds the answer until the test has killed the worker."""

    hold = 10.0

    def dispatch(self, req: Request) -> Reply:
        reply = super().dispatch(req)
        if req.method == "POST" and self.hold:
            time.sleep(self.hold)
        return reply


class HashnodeStoresThenHangs(FakeHashnode):
    hold = 10.0

    def dispatch(self, req: Request) -> Reply:
        reply = super().dispatch(req)
        if b"publishPost(" in req.body and self.hold:
            time.sleep(self.hold)
        return reply


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_sigkill_after_the_post_then_restart_posts_nothing_twice(project: Project) -> None:
    with (
        DevtoStoresThenHangs({DEVTO_KEY: "magick"}) as dev,
        HashnodeStoresThenHangs({HN_TOKEN: "magick"}) as hn,
    ):
        hn.add_publication(PUB, "magick.hashnode.dev", members=("magick",))
        site(project, dev, hn)
        env = {**os.environ, **SECRETS, "HERALD_CONFIG": str(project.config)}
        cmd = [sys.executable, "-m", "bot", "run", "--once"]
        proc = subprocess.Popen(cmd, cwd=project.root, env=env, stderr=subprocess.PIPE)
        end = time.monotonic() + 30
        while not (dev.articles and hn.posts(PUB)):
            assert proc.poll() is None and time.monotonic() < end, "never posted"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)  # both exist; the sent-log says `sending`
        proc.wait()
        counts = project.status()["channels"]
        assert counts["dev"]["counts"]["sending"] == counts["hn"]["counts"]["sending"] == 1
        dev.hold = hn.hold = 0.0
        again = subprocess.run(cmd, cwd=project.root, env=env, capture_output=True, timeout=60)
        assert again.returncode == 0, again.stderr.decode()
        assert len(dev.articles) == 1 and len(hn.posts(PUB)) == 1, "posted twice"
        recent = {d["channel"]: d for d in project.status()["recent"]}
        assert recent["dev"]["status"] == recent["hn"]["status"] == "sent"
        assert recent["dev"]["post_id"] == str(next(iter(dev.articles)))
        assert recent["hn"]["post_id"] == hn.posts(PUB)[0].id


def test_wrong_credentials_fail_clearly_and_no_secret_is_visible(
    project: Project, fakes: tuple[FakeDevto, FakeHashnode], tmp_path: Path
) -> None:
    dev, hn = fakes
    site(project, dev, hn)
    wrong = {k: v.replace("Run", "Wrong") for k, v in SECRETS.items()}
    r = project.cli("run", "--once", env=wrong)
    assert r.returncode == 1
    problems = {d["channel"]: d for d in project.status()["problems"]}
    assert set(problems) == {"dev", "hn"}
    assert dev.articles == {} and hn.posts(PUB) == []
    visible = r.stdout + r.stderr + everything_visible(project, wrong, tmp_path / "p.html")
    assert "HTTP 401: unauthorized" in visible and "UNAUTHENTICATED" in visible
    for value in [*SECRETS.values(), *wrong.values()]:
        assert value not in visible, f"a secret leaked: {value[:8]}..."
