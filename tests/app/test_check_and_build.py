"""A folder mixing good and broken articles through `check` and `build`, as a writer runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.content.test_article import EXPECTED_ERRORS, make_broken_folder
from tests.helpers import Project


def test_check_names_every_broken_file_and_build_publishes_every_good_one(
    tmp_path: Path,
) -> None:
    root, outside = make_broken_folder(tmp_path)
    project = Project(tmp_path / "site")
    project.root.mkdir()
    project.write_config(content={"dir": str(root)})
    r = project.cli("check")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    errors = [line for line in r.stdout.splitlines() if ": error: " in line]
    for relpath, (field, line, words) in EXPECTED_ERRORS.items():
        mine = [e for e in errors if f"/{relpath}:{line}: error: {field}: " in e]
        assert len(mine) == 1 and words in mine[0], (relpath, errors)
    assert "link-to-file.md:0: warning" in r.stdout and "outside" in r.stdout
    # 13 broken files, 5 good ones and a link inside the folder to one of them, whose slug
    # is then used twice: an error naming both files
    assert r.stdout.strip().splitlines()[-1].startswith("19 files checked: 15 errors")
    assert sum("slug 'plain-yaml-scalars-work-too' is also used by" in e for e in errors) == 2

    b = project.cli("build")
    assert b.returncode == 0, b.stderr
    feed = json.loads((project.feeds / "feed.json").read_text())
    titles = sorted(item["title"] for item in feed["items"])
    assert titles == sorted(
        [
            "Bold claims & tags",
            "Launch day: the bot's first post",
            "Plain YAML scalars work too",
            "TOML front matter",
        ]
    ), titles
    for name in ("rss.xml", "atom.xml", "feed.json"):
        text = (project.feeds / name).read_text()
        assert "SECRET OUTSIDE" not in text
        for bad in (
            "<script",
            "&lt;script",
            "\\u003cscript",
            "onerror",
            'href="javascript',
            "href=&quot;javascript",
            'href=\\"javascript',
        ):
            assert bad not in text, (name, bad)
        assert "alert(" not in text.replace("[click](javascript:alert(1))", "")
    assert (outside / "secret.md").read_text().startswith("---")  # untouched
