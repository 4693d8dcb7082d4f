"""Body rendering: Markdown to HTML a feed reader can show safely, with absolute URLs."""

from __future__ import annotations

import re

import pytest

from bot.content.markdown import absolute_url, render_markdown, sanitize_html

BASE = "https://blog.example/articles/hello/"
ATTRIBUTES = re.compile(r"""\s([a-zA-Z:-]+)\s*=\s*"([^"]*)\"""")

ATTACKS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    '<img src="x.png" onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "![x](javascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<svg onload="alert(1)"><circle/></svg>',
    '<div style="background:url(javascript:alert(1))" onclick="x()">d</div>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">d</a>',
    '<form action="javascript:alert(1)"><button formaction="javascript:x">b</button></form>',
    "<object data='javascript:alert(1)'></object>",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_no_script_event_handler_or_javascript_url_survives(attack: str) -> None:
    html = render_markdown(f"Before\n\n{attack}\n\nafter", BASE)
    assert "<script" not in html.lower()
    for name, value in ATTRIBUTES.findall(html):
        assert not name.lower().startswith("on"), html
        assert name.lower() in {"href", "src", "alt", "title", "rel"}, html
        if name in {"href", "src"}:
            assert value.startswith(("https://", "http://", "mailto:")), html
    assert "after" in html  # the rest of the body is kept


def test_relative_links_and_images_become_absolute() -> None:
    html = render_markdown(
        "[up](../other/) [root](/about) [here](#part) ![pic](img/a.png 'A')\n\n"
        '<a href="notes.html">raw</a> <img src="//cdn.example/b.png">',
        BASE,
    )
    hrefs = re.findall(r'href="([^"]*)"', html)
    srcs = re.findall(r'src="([^"]*)"', html)
    assert hrefs == [
        "https://blog.example/articles/other/",
        "https://blog.example/about",
        "https://blog.example/articles/hello/#part",
        "https://blog.example/articles/hello/notes.html",
    ]
    assert srcs == ["https://blog.example/articles/hello/img/a.png", "https://cdn.example/b.png"]


def test_markdown_features_and_escaping() -> None:
    html = render_markdown(
        "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "Text with <b>bold</b> & 5 < 6 and `code <x>`\n\n[mail](mailto:me@example.org)",
        BASE,
    )
    assert "<h1>Title</h1>" in html
    assert "<table>" in html and "<td>1</td>" in html
    assert "<b>bold</b>" in html and "&amp; 5 &lt; 6" in html
    assert "<code>code &lt;x&gt;</code>" in html
    assert 'href="mailto:me@example.org"' in html


def test_xml_forbidden_characters_are_removed_from_the_body() -> None:
    html = render_markdown("a\x00b\x01c\x0bd\ufffee\tf", BASE)
    assert html == "<p>abcde\tf</p>\n"


def test_absolute_url_refuses_non_web_schemes() -> None:
    assert absolute_url("javascript:alert(1)", BASE) is None
    assert absolute_url("mailto:a@b.c", BASE) == "mailto:a@b.c"
    assert absolute_url("mailto:a@b.c", BASE, images=True) is None
    assert absolute_url("  ", BASE) is None
    assert absolute_url("x.png", BASE, images=True) == BASE + "x.png"


def test_sanitize_keeps_alt_text_and_adds_noopener() -> None:
    html = sanitize_html('<a href="https://x.example/">x</a><img src="a.png" alt="A">', BASE)
    assert 'rel="noopener noreferrer"' in html
    assert f'<img src="{BASE}a.png" alt="A">' in html
