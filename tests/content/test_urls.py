"""bot.content.urls: IRIs to URIs, and `Name <email>` authors."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.content.urls import is_absolute_http_uri, split_author, to_uri


@pytest.mark.parametrize(
    ("iri", "uri"),
    [
        ("https://example.com/a/b.png", "https://example.com/a/b.png"),  # ASCII: untouched
        ("https://example.com/blog/", "https://example.com/blog/"),
        ("https://example.com/img/Café Ω.png", "https://example.com/img/Caf%C3%A9%20%CE%A9.png"),
        ("https://example.com/a%20b/ü", "https://example.com/a%20b/%C3%BC"),  # escapes kept
        ("https://example.com/100%", "https://example.com/100%25"),  # a lone % is a character
        (
            "https://bücher.example/straße?q=é#frag",
            "https://xn--bcher-kva.example/stra%C3%9Fe?q=%C3%A9#frag",
        ),
        ("https://example.com:8443/ü", "https://example.com:8443/%C3%BC"),
    ],
)
def test_iris_become_ascii_uris(iri: str, uri: str) -> None:
    assert to_uri(iri) == uri
    assert is_absolute_http_uri(uri)
    assert to_uri(uri) == uri  # idempotent


@given(
    st.text(min_size=1, max_size=30).filter(
        lambda s: "%" not in s and "#" not in s and "?" not in s
    )
)
def test_any_path_becomes_ascii_and_means_the_same(path: str) -> None:
    uri = to_uri("https://example.com/" + path)
    assert uri.isascii() and " " not in uri
    assert unquote(urlsplit(uri).path, errors="surrogatepass") == "/" + path


@pytest.mark.parametrize(
    ("author", "split"),
    [
        ("Ada Lovelace <ada@example.org>", ("Ada Lovelace", "ada@example.org")),
        ("<ada@example.org>", ("ada@example.org", "ada@example.org")),
        ("Ada Lovelace", ("Ada Lovelace", None)),
        ("Ada <not an address>", ("Ada <not an address>", None)),
    ],
)
def test_name_and_email_are_split(author: str, split: tuple[str, str | None]) -> None:
    assert split_author(author) == split


def test_relative_and_non_http_urls_are_not_feed_urls() -> None:
    assert not is_absolute_http_uri("/blog/a.png")
    assert not is_absolute_http_uri("javascript:alert(1)")
    assert not is_absolute_http_uri("https://example.com/ü")
