"""`herald check` and `herald preview` on the articles' social: overrides."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import Project, ago


def project_with(tmp_path: Path, social_yaml: str) -> Project:
    project = Project(tmp_path)
    project.write_config(
        channels=[
            {"name": "out", "type": "outbox", "path": str(project.outbox)},
            {
                "name": "masto",
                "type": "mastodon",
                "base_url": "https://social.example",
                "token": "stand-in-token",  # a secret: the redactor hides it everywhere
            },
        ]
    )
    path = project.content / "hello.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    published = ago(minutes=5).strftime("%Y-%m-%dT%H:%M:%SZ")
    path.write_text(
        f"---\ntitle: Hello\npublish_date: {published}\ndescription: First post.\n"
        f"social:\n{social_yaml}---\n\nBody.\n",
        encoding="utf-8",
    )
    return project


def test_check_names_a_misspelt_override_key_with_a_suggestion(tmp_path: Path) -> None:
    project = project_with(tmp_path, "  skip: [out]\n  hashtag: [launch]\n  frist_comment: hi\n")
    r = project.cli("check")
    assert r.returncode == 0  # warnings: the article is still published
    lines = r.stdout.splitlines()
    assert any(
        "content/hello.md:7: warning: social.hashtag:" in line and "did you mean hashtags?" in line
        for line in lines
    ), r.stdout
    assert any(
        "social.frist_comment" in line and "did you mean first_comment?" in line for line in lines
    )


def test_check_names_an_override_naming_no_channel(tmp_path: Path) -> None:
    project = project_with(tmp_path, "  only: [masot, mastodon]\n  text:\n    outbx: Hi {url}\n")
    r = project.cli("check", "--format", "json")
    findings = json.loads(r.stdout)
    found = {(f["field"], f["line"]): f["message"] for f in findings["problems"]}
    assert "did you mean masto?" in found[("social.only", 6)]
    assert "did you mean outbox?" in found[("social.text", 7)]  # the type
    assert len(found) == 2  # mastodon is a network type: fine


def test_preview_shows_the_overrides(tmp_path: Path) -> None:
    project = project_with(
        tmp_path,
        "  text:\n    mastodon: 'Ours: {title}'\n  hashtags: [launch]\n  lang: fr\n"
        "  content_warning: Spoilers\n  first_comment: 'More: {url}'\n  at: 2030-01-01T09:00\n"
        "  skip: [out]\n",
    )
    r = project.cli("preview")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    masto = out.split("on masto (mastodon)")[1]
    assert "text: the article's own (social.text)" in masto
    assert "hashtags: #launch" in masto
    assert "language: fr" in masto and "content warning: Spoilers" in masto
    assert "first comment: More: https://blog.example.org/articles/hello/" in masto
    assert "at: 2030-01-01T09:00:00+00:00" in masto
    assert "Ours: Hello" in masto
    outbox = out.split("on out (outbox)")[1].split("==")[0]
    assert "will NOT be sent: skipped: the article's social.skip names out" in outbox


def test_preview_json_and_html(tmp_path: Path) -> None:
    project = project_with(tmp_path, "  image_alt: A kite\n  hashtags: [launch]\n")
    (tmp_path / "config" / "channels.yaml").write_text(
        "channels:\n"
        "  - {name: masto, type: mastodon, base_url: 'https://social.example',\n"
        "     token: stand-in-token, utm: true}\n"
        "  - {name: li, type: linkedin, token: stand-in-token, author: 'urn:li:person:A1'}\n"
    )
    r = project.cli("preview", "--json")
    rows = {row["channel"]: row for row in json.loads(r.stdout)}
    marketing = rows["masto"]["marketing"]
    assert marketing["link"].endswith("?utm_source=mastodon&utm_medium=social&utm_campaign=hello")
    assert marketing["image alt"] == "A kite"
    assert marketing["card"].startswith("mastodon-1280x720-")
    assert rows["li"]["marketing"]["card"].startswith("linkedin-1200x627-")
    page = tmp_path / "preview.html"
    r = project.cli("preview", "--html", str(page))
    assert r.returncode == 0, r.stderr
    html = page.read_text()
    assert html.count('src="data:image/png;base64,') == 2  # each network's card, drawn
    assert "<dt>image alt</dt><dd>A kite</dd>" in html


def test_run_honours_skip_and_only(tmp_path: Path) -> None:
    project = Project(tmp_path)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    project.write_config(
        channels=[
            {"name": "first", "type": "outbox", "path": str(first)},
            {"name": "second", "type": "outbox", "path": str(second)},
        ]
    )
    project.article("a.md", "A", ago(minutes=5), social={"skip": ["first"]})
    project.article("b.md", "B", ago(minutes=5), social={"only": ["first"]})
    project.article("c.md", "C", ago(minutes=5))
    r = project.cli("run", "--once")
    assert r.returncode == 0, r.stderr

    def titles(path: Path) -> list[str]:
        return sorted(
            json.loads(line)["article"]["title"] for line in path.read_text().splitlines()
        )

    assert titles(first) == ["B", "C"]
    assert titles(second) == ["A", "C"]
    status = project.status()
    assert status["skipped"] == {"social": 2}  # `herald status`: "Skipped: 2 social"
    assert status["channels"]["first"]["counts"]["skipped"] == 1
    assert status["channels"]["second"]["counts"]["skipped"] == 1
