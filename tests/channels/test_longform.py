"""Relative links and images of a Markdown body made absolute, code left as written."""

from __future__ import annotations

import pytest

from bot.channels.longform import absolute, absolute_markdown

BASE = "https://blog.example/articles/hello/"


@pytest.mark.parametrize(
    ("given", "made"),
    [
        ("![a](img/a.png)", f"![a]({BASE}img/a.png)"),
        ('![a](img/a.png "A title")', f'![a]({BASE}img/a.png "A title")'),
        ("[up](../other/)", "[up](https://blog.example/articles/other/)"),
        ("[root](/about)", "[root](https://blog.example/about)"),
        ("[angle](<my file.pdf>)", f"[angle](<{BASE}my file.pdf>)"),
        ("[ref]: notes.html", f"[ref]: {BASE}notes.html"),
        ("[ref]: <notes one.html> 'T'", f"[ref]: <{BASE}notes one.html> 'T'"),
        ("<img src='pics/x.jpg' alt=''>", f"<img src='{BASE}pics/x.jpg' alt=''>"),
        ('<a href="dl.zip">zip</a>', f'<a href="{BASE}dl.zip">zip</a>'),
        ("[here](#section)", "[here](#section)"),
        ("[mail](mailto:a@b.example)", "[mail](mailto:a@b.example)"),
        ("[abs](https://x.example/y)", "[abs](https://x.example/y)"),
        ("[cdn](//cdn.example/a.png)", "[cdn](https://cdn.example/a.png)"),
        ("<https://auto.example/link>", "<https://auto.example/link>"),
        ("A `[code](span.md)` and [b](c.md)", f"A `[code](span.md)` and [b]({BASE}c.md)"),
        ("``[x](y) ` z`` then [b](c)", f"``[x](y) ` z`` then [b]({BASE}c)"),
    ],
)
def test_each_kind_of_link(given: str, made: str) -> None:
    assert absolute_markdown(given + "\n", BASE) == made + "\n"


def test_code_blocks_are_left_as_written() -> None:
    body = (
        "Text [a](a.md)\n\n"
        "```md\n[b](b.md)\n``\n```js\n[c](c.md)\n````\n"
        "~~~~\n![d](d.png)\n~~~~\n\n"
        "    [e](e.md) indented code\n\n    still code [f](f.md)\n\n"
        "After [g](g.md)\n"
    )
    out = absolute_markdown(body, BASE)
    assert f"Text [a]({BASE}a.md)" in out and f"After [g]({BASE}g.md)" in out
    for kept in ("[b](b.md)", "[c](c.md)", "![d](d.png)", "[e](e.md)", "[f](f.md)"):
        assert kept in out


def test_an_indented_paragraph_inside_a_list_is_rewritten() -> None:
    body = "- item\n\n    more of the item [x](x.md)\n\nParagraph.\n\n    code [y](y.md)\n"
    out = absolute_markdown(body, BASE)
    assert f"more of the item [x]({BASE}x.md)" in out
    assert "code [y](y.md)" in out  # after the list ended: an indented code block


def test_odd_destinations_stay_as_written() -> None:
    assert absolute("", BASE) == ""
    assert absolute("http://[::1", BASE) == "http://[::1"  # unparseable
    assert absolute("javascript:alert(1)", BASE) == "javascript:alert(1)"
