"""The Matrix adapter against the loopback homeserver emulator (tests/fakes/matrix.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.channels.loading import load_channels
from bot.channels.matrix import CONTENT_LIMIT, MatrixChannel, content_size, plain_text, sanitise
from bot.errors import (
    AuthError,
    ConfigError,
    PermanentError,
    RateLimited,
    TooLong,
    TransientError,
    UnreadableAnswer,
)
from bot.models import Post, Receipt
from tests.channels.conftest import (
    KEY,
    ImageLog,
    article_factory,
    expect_failure,
    png_bytes,
    run_channel,
    sender,
)
from tests.fakes.matrix import ALIAS, OTHER_ROOM, ROOM, FakeMatrix
from tests.fakes.server import Fault

URL = "https://blog.example/articles/loopback-testing/?a=1&b=2"
article = article_factory(url=URL)


def options(fake: FakeMatrix) -> dict[str, Any]:
    return {"base_url": fake.url, "access_token": fake.token, "room": ROOM}


send = sender(MatrixChannel, "matrix-news", options)


def channel(fake: FakeMatrix, context: Any, **changes: Any) -> MatrixChannel:
    opts = MatrixChannel.Options(**{**options(fake), **changes})
    return MatrixChannel("matrix-news", opts, context, None)


def failure(fake: FakeMatrix, expected: type[Exception], **kwargs: Any) -> Any:
    token = kwargs.get("access_token", fake.token)
    return expect_failure(lambda: send(fake, article(image=None), **kwargs), expected, token)


def test_posts_html_and_plain_bodies_with_the_key_as_transaction_id() -> None:
    with FakeMatrix() as fake:
        post, receipt = send(fake, article(image=None))
        (event,) = fake.events()
        content = event["content"]
        assert event["type"] == "m.room.message"
        assert event["unsigned"]["transaction_id"] == KEY
        assert content["msgtype"] == "m.text"
        assert content["format"] == "org.matrix.custom.html"
        assert content["formatted_body"] == (
            "<b>Testing against loopback emulators</b><br>\n"
            "Why real HTTP beats mocks for adapters.<br>\n<br>\n"
            '<a href="https://blog.example/articles/loopback-testing/?a=1&amp;b=2">'
            "Read the article</a>"
        )
        assert content["body"] == (
            "Testing against loopback emulators\nWhy real HTTP beats mocks for adapters.\n\n"
            f"Read the article {URL}"
        )
        assert receipt == Receipt(
            event["event_id"], f"https://matrix.to/#/{ROOM}/{event['event_id']}"
        )
        assert post.length == content_size(content) and post.limit == CONTENT_LIMIT
        assert fake.requests[-1].path.endswith(f"/send/m.room.message/{KEY}")


def test_a_retry_with_the_same_key_is_the_same_event() -> None:
    with FakeMatrix() as fake:
        _, first = send(fake, article(image=None))
        _, again = send(fake, article(image=None, title="Changed meanwhile"))
        assert first == again
        assert len(fake.events()) == 1


def test_hero_image_is_uploaded_and_shown_inline_above_the_text() -> None:
    picture = png_bytes(960, 540)
    images = ImageLog(image=None)

    async def fetch(url: str) -> Any:
        from bot.channels.base import Image

        images.asked.append(url)
        return Image(url=url, content=picture, content_type="image/png")

    with FakeMatrix() as fake:
        item = article()

        async def body(ch: MatrixChannel) -> Receipt:
            return await ch.send(ch.render(item), item, KEY)

        run_channel(lambda ctx: channel(fake, ctx), body, images=fetch)
        ((mxc, (ctype, stored)),) = fake.media.items()
        assert stored == picture and ctype == "image/png"
        html = fake.events()[0]["content"]["formatted_body"]
        assert html.startswith(
            f'<img src="{mxc}" alt="Testing against loopback emulators" width="480" '
            'height="270"><br>\n<b>Testing'
        )
        assert images.asked == [item.image]
        assert "mxc://" not in fake.events()[0]["content"]["body"]


def test_without_a_usable_image_the_post_goes_out_without_it() -> None:
    with FakeMatrix() as fake:
        send(fake, article(), images=ImageLog(None))  # the image cannot be had
        fake.fail_next(Fault.status(413, {"errcode": "M_TOO_LARGE", "error": "too big"}))
        big = ImageLog(image=None)

        async def fetch(url: str) -> Any:
            from bot.channels.base import Image

            big.asked.append(url)
            return Image(url=url, content=b"\x89PNG" + b"0" * 10, content_type="image/png")

        item = article()

        async def body(ch: MatrixChannel) -> Receipt:
            return await ch.send(ch.render(item), item, "3lbzq7wqdfk2b")

        run_channel(lambda ctx: channel(fake, ctx), body, images=fetch)
        assert fake.media == {}
        assert [("<img" in e["content"]["formatted_body"]) for e in fake.events()] == [False] * 2
        assert big.asked == [item.image]


def test_image_false_uploads_nothing() -> None:
    images = ImageLog()
    with FakeMatrix() as fake:
        send(fake, article(), images=images, image=False)
        assert images.asked == [] and fake.media == {}


def test_an_alias_is_resolved_once_per_process() -> None:
    with FakeMatrix() as fake:

        async def body(ch: MatrixChannel) -> list[Receipt]:
            item = article(image=None)
            return [await ch.send(ch.render(item), item, k) for k in ("3lbzq7wqdfk2a", "3lbz2")]

        receipts = run_channel(lambda ctx: channel(fake, ctx, room=ALIAS), body)
        assert len({r.post_id for r in receipts}) == 2
        assert sum("/directory/room/" in r.path for r in fake.requests) == 1
        assert len(fake.events()) == 2


def test_unknown_alias_is_permanent() -> None:
    with FakeMatrix() as fake:
        e = failure(fake, PermanentError, room="#missing:fake.example")
        assert "M_NOT_FOUND" in e.message and fake.events() == []


def test_article_markup_is_escaped_and_template_markup_is_sanitised() -> None:
    with FakeMatrix() as fake:
        item = article(image=None, title='Q&A: <script>alert(1)</script> "quoted"')
        template = '<b>{title}</b> <a href="javascript:alert(2)">x</a><script>bad()</script> {url}'
        send(fake, item, template=template)
        html = fake.events()[0]["content"]["formatted_body"]
        assert "<script" not in html and "javascript:" not in html
        assert "Q&amp;A: &lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert fake.events()[0]["content"]["body"].startswith(
            'Q&A: <script>alert(1)</script> "quoted"'
        )


def test_sanitise_keeps_only_mxc_images_and_plain_text_shows_link_targets() -> None:
    assert sanitise('<img src="https://x.example/a.png"><img src="mxc://s/m">') == (
        '<img><img src="mxc://s/m">'
    )
    assert plain_text('<p>A &amp; B</p><a href="https://x.example/?a=1&amp;b=2">go</a>') == (
        "A & B\ngo https://x.example/?a=1&b=2"
    )


def test_very_long_article_is_fitted_in_bytes_with_url_and_cta_kept() -> None:
    with FakeMatrix() as fake:
        item = article(image=None, description="naïve café 😀 " * 20_000)
        post, _ = send(fake, item)
        content = fake.events()[0]["content"]
        assert content_size(content) == post.length
        assert CONTENT_LIMIT - 200 < post.length <= CONTENT_LIMIT
        assert content["body"].endswith(f"…\n\nRead the article {URL}")


def test_a_length_refusal_is_too_long_and_the_refit_is_accepted() -> None:
    with FakeMatrix() as fake:
        fake.envelope = 5_600  # a server whose envelope is bigger than Synapse's
        item = article(image=None, description="word " * 20_000)

        async def body(ch: MatrixChannel) -> tuple[Post, Receipt]:
            post = ch.render(item)
            with pytest.raises(TooLong) as info:
                await ch.send(post, item, KEY)
            fitted = ch.refit(post, item, info.value.message)
            assert fitted is not None and fitted.length < post.length
            return fitted, await ch.send(fitted, item, "3lbzq7wqdfk2c")

        fitted, receipt = run_channel(lambda ctx: channel(fake, ctx), body)
        assert fitted.text.endswith(f"Read the article {URL}")
        assert receipt.post_id == fake.events()[0]["event_id"]


def test_rate_limit_waits_as_the_server_says() -> None:
    with FakeMatrix() as fake:
        before = datetime.now(UTC)
        fake.rate_limit_next(retry_after_ms=7_500, header=False)
        e = failure(fake, RateLimited)
        assert e.retry_at is not None
        assert timedelta(seconds=7) <= e.retry_at - before <= timedelta(seconds=9)
        assert "M_LIMIT_EXCEEDED" in e.message
        assert fake.events() == []


def test_rate_limit_with_only_a_retry_after_header() -> None:
    with FakeMatrix() as fake:
        before = datetime.now(UTC)
        fake.fail_next(
            Fault.status(
                429,
                {"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests"},
                {"Retry-After": "30"},
            )
        )
        e = failure(fake, RateLimited)
        assert e.retry_at is not None
        assert timedelta(seconds=29) <= e.retry_at - before <= timedelta(seconds=32)


def test_wrong_token_is_an_auth_error_without_the_token() -> None:
    with FakeMatrix() as fake:
        wrong = "syt_d3Jvbmc_WrongTokenValue_zz99"
        e = failure(fake, AuthError, access_token=wrong)
        assert "M_UNKNOWN_TOKEN" in e.message and "access_token" in e.message


def test_a_room_the_account_is_not_in_is_an_auth_error() -> None:
    with FakeMatrix() as fake:
        e = failure(fake, AuthError, room=OTHER_ROOM)
        assert "M_FORBIDDEN" in e.message and "joined to the room" in e.message


def test_server_errors_and_dropped_connections_are_transient() -> None:
    with FakeMatrix() as fake:
        fake.fail_next(Fault.status(502, "<html>bad gateway</html>"))
        failure(fake, TransientError)
        fake.fail_next(Fault.drop(path="/send/"))
        failure(fake, TransientError)
        assert fake.events() == []


@pytest.mark.parametrize("body", [b"<html>ok</html>", {"event_id": None}, []])
def test_garbage_success_answer_is_unreadable(body: Any) -> None:
    with FakeMatrix() as fake:
        fake.fail_next(Fault.status(200, body, path="/send/"))
        failure(fake, UnreadableAnswer)


def test_edit_reply_and_delete() -> None:
    with FakeMatrix() as fake:
        item = article(image=None)

        async def body(ch: MatrixChannel) -> tuple[Receipt, Receipt, Receipt]:
            sent = await ch.send(ch.render(item), item, KEY)
            changed = article(image=None, title="Testing, corrected")
            edited = await ch.edit(ch.render(changed), changed, sent, "3lbzq7wqdfk2e")
            note = ch.render_with(ch.correction_template, changed)
            replied = await ch.reply(note, changed, sent, "3lbzq7wqdfk2r")
            await ch.delete(changed, sent, "3lbzq7wqdfk2d")
            return sent, edited, replied

        sent, edited, replied = run_channel(lambda ctx: channel(fake, ctx), body)
        original, edit, reply, redaction = fake.events()
        assert edited == sent
        assert edit["content"]["m.relates_to"] == {
            "rel_type": "m.replace",
            "event_id": sent.post_id,
        }
        assert edit["content"]["m.new_content"]["body"].startswith("Testing, corrected\n")
        assert edit["content"]["body"].startswith("* Testing, corrected")
        assert reply["content"]["m.relates_to"] == {"m.in_reply_to": {"event_id": sent.post_id}}
        assert reply["content"]["body"].startswith("Updated: Testing, corrected")
        assert replied.post_id == reply["event_id"]
        assert redaction["type"] == "m.room.redaction"
        assert redaction["redacts"] == sent.post_id
        assert original["content"] == {}  # redacted
        # edits and redactions by default (Channel.default_on_update/on_retract)
        assert {"edit", "delete"} <= MatrixChannel.capabilities()


def test_channels_yaml_entry_is_validated_and_the_token_kept_secret(tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text(
        "channels:\n  - name: room\n    type: matrix\n    base_url: https://matrix.example.org\n"
        "    access_token: ${MATRIX_TOKEN}\n    room: '#news:example.org'\n"
    )
    (cc,) = load_channels(path, {"MATRIX_TOKEN": "syt_secret_value_123"})
    assert cc.options.room == "#news:example.org"  # type: ignore[attr-defined]
    assert "syt_secret_value_123" not in repr(cc.options)
    path.write_text(path.read_text().replace("'#news:example.org'", "'news'"))
    with pytest.raises(ConfigError) as info:
        load_channels(path, {"MATRIX_TOKEN": "syt_secret_value_123"})
    assert "room id" in str(info.value) and "syt_secret" not in str(info.value)
