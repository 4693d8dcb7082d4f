"""The e-mail adapter against a real SMTP server on loopback (aiosmtpd, tests/fakes/smtp.py)."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from bot.channels.email import EmailChannel
from bot.channels.loading import load_channels
from bot.errors import Ambiguous, AuthError, ConfigError, PermanentError, TooLong, TransientError
from bot.models import Receipt
from tests.channels.conftest import (
    KEY,
    article_factory,
    expect_failure,
    run_channel,
    send_once,
    sender,
)
from tests.fakes.smtp import SmtpServer, free_port

# aiosmtpd warns (as an error under pytest) about AUTH without STARTTLS: the implicit-TLS server
# (aiosmtpd does not count it as TLS) and the plain one that tests a missing STARTTLS
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

PASSWORD = "smtp-Pa55word-for-tests"
URL = "https://blog.example/articles/loopback-testing/?a=1&b=2"
article = article_factory(url=URL)


def options(smtp: SmtpServer) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": smtp.port,
        "security": smtp.security,
        "sender": "Blog Example <news@blog.example>",
        "to": ["readers@lists.example"],
    }
    if smtp.users:
        opts.update(username="herald", password=PASSWORD)
    if smtp.cert:
        opts["ca_file"] = str(smtp.cert)
    return opts


send = sender(EmailChannel, "mail", options)


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    markup = message.get_body(("html",))
    assert text is not None and markup is not None
    crlf = "\r\n"  # SMTP's line ends, kept by the parser
    return text.get_content().replace(crlf, "\n"), markup.get_content().replace(crlf, "\n")


def failure(smtp: SmtpServer, expected: type[Exception], **kwargs: Any) -> Any:
    secrets = [PASSWORD, base64.b64encode(PASSWORD.encode()).decode()]
    secrets += [kwargs["password"]] if "password" in kwargs else []
    return expect_failure(lambda: send(smtp, article(), **kwargs), expected, *secrets)


def test_one_message_with_text_and_html_parts_and_a_recognisable_message_id() -> None:
    with SmtpServer() as smtp:
        item = article(title='Fish & "chips" <b>', tags=("python",))
        post, receipt = send(smtp, item)
        (message,) = smtp.messages
        assert message["From"] == "Blog Example <news@blog.example>"
        assert message["To"] == "readers@lists.example"
        assert message["Subject"] == 'Fish & "chips" <b>'
        assert message["Message-ID"] == f"<herald.{KEY}@blog.example>"
        assert receipt == Receipt(f"<herald.{KEY}@blog.example>")
        assert message["List-Unsubscribe"] is None  # left to the list
        assert smtp.envelopes == [("news@blog.example", ["readers@lists.example"])]
        text, markup = parts(message)
        assert text.strip() == post.text
        assert post.text == (
            'Fish & "chips" <b>\n\nWhy real HTTP beats mocks for adapters.\n\n'
            f"Read the article\n{URL}"
        )
        assert "<h1" in markup and "Fish &amp; &quot;chips&quot; &lt;b&gt;" in markup
        assert (
            '<a href="https://blog.example/articles/loopback-testing/?a=1&amp;b=2"><img src="'
            in (markup)
        )
        assert 'src="https://blog.example/img/hero.jpg"' in markup
        assert "<i></i>" not in markup  # the subtitle's line went with the empty subtitle


def test_the_same_delivery_key_gives_the_same_message_id() -> None:
    with SmtpServer() as smtp:
        send(smtp, article())
        send(smtp, article())
        send(smtp, article())
        ids = [m["Message-ID"] for m in smtp.messages]
        assert ids == [f"<herald.{KEY}@blog.example>"] * 3


def test_starttls_with_login() -> None:
    with SmtpServer("starttls", users={"herald": PASSWORD}) as smtp:
        send(smtp, article())
        assert len(smtp.messages) == 1 and smtp.auth_attempts == [("herald", PASSWORD)]


def test_implicit_tls_with_login() -> None:
    with SmtpServer("tls", users={"herald": PASSWORD}) as smtp:
        send(smtp, article())
        assert len(smtp.messages) == 1


def test_wrong_password_is_an_auth_error_that_shows_no_password() -> None:
    with SmtpServer("starttls", users={"herald": PASSWORD}) as smtp:
        wrong = "Wrong-password-123456"
        e = failure(smtp, AuthError, password=wrong)
        assert "535" in e.message and "check username and password" in e.message
        assert smtp.messages == []


def test_a_server_without_starttls_gets_nothing_not_even_the_password() -> None:
    with SmtpServer("plain", users={"herald": PASSWORD}) as smtp:
        e = failure(smtp, PermanentError, security="starttls")
        assert "does not offer STARTTLS" in e.message
        assert smtp.auth_attempts == [] and smtp.messages == []


def test_an_untrusted_certificate_is_permanent_and_says_what_to_do() -> None:
    with SmtpServer("tls") as smtp:
        e = expect_failure(lambda: send(smtp, article(), ca_file=None), PermanentError)
        assert "not trusted" in e.message and "ca_file" in e.message


@pytest.mark.parametrize(
    ("stage", "answer", "expected"),
    [
        ("RCPT", "550 5.1.1 no such user", PermanentError),
        ("RCPT", "450 4.2.0 greylisted, try again later", TransientError),
        ("DATA", "451 4.3.0 local problem", TransientError),
        ("DATA", "554 5.7.1 rejected as spam", PermanentError),
        ("DATA", "552 5.3.4 message too big", TooLong),
    ],
)
def test_refusals_map_to_what_the_caller_should_do(
    stage: str, answer: str, expected: type[Exception]
) -> None:
    with SmtpServer() as smtp:
        smtp.reply_next(stage, answer)
        e = failure(smtp, expected)
        assert answer.split()[0] in e.message and type(e) is expected
        assert smtp.messages == []


def test_over_the_advertised_size_is_too_long_before_anything_is_sent() -> None:
    with SmtpServer(data_size_limit=500) as smtp:
        e = failure(smtp, TooLong)
        assert "the server takes 500" in e.message and smtp.envelopes == []


def test_a_size_refusal_refits_to_half() -> None:
    with SmtpServer() as smtp:
        item = article(description="word " * 10_000)

        async def body(ch: EmailChannel) -> int:
            post = ch.render(item)
            smtp.reply_next("DATA", "552 5.3.4 message too big")
            with pytest.raises(TooLong) as info:
                await ch.send(post, item, KEY)
            fitted = ch.refit(post, item, info.value.message)
            assert fitted is not None and fitted.length <= post.limit // 2
            assert fitted.text.endswith(f"Read the article\n{URL}")
            await ch.send(fitted, item, KEY)
            return post.length

        first = run_channel(
            lambda ctx: EmailChannel("mail", EmailChannel.Options(**options(smtp)), ctx, None),
            body,
        )
        assert first > 19_000 and len(smtp.messages) == 1


def test_long_articles_are_fitted_with_url_and_cta_kept() -> None:
    with SmtpServer() as smtp:
        post, _ = send(smtp, article(description="naïve café 😀 " * 10_000), max_characters=5_000)
        text, markup = parts(smtp.messages[0])
        assert post.length <= 5_000 and text.strip() == post.text
        assert post.text.endswith(f"…\n\nRead the article\n{URL}")
        assert "…" in markup and "Read the article</a>" in markup


def test_nobody_listening_is_transient() -> None:
    opts = {"host": "127.0.0.1", "port": free_port(), "security": "plain"}
    opts |= {"sender": "news@blog.example", "to": "a@lists.example", "timeout": 3}
    channel = EmailChannel.Options(**opts)
    item = article()
    e = expect_failure(
        lambda: send_once(lambda ctx: EmailChannel("mail", channel, ctx, None), item),
        TransientError,
    )
    assert not isinstance(e, Ambiguous) and "ConnectionRefusedError" in e.message


def test_silence_after_the_message_is_ambiguous() -> None:
    with SmtpServer() as smtp:
        smtp.hold_data = True
        opts = EmailChannel.Options(**{**options(smtp), "timeout": 1.0})  # the SMTP timeout
        item = article()
        e = expect_failure(
            lambda: send_once(lambda ctx: EmailChannel("mail", opts, ctx, None), item), Ambiguous
        )
        assert "no answer within 1 s" in e.message
        assert len(smtp.messages) == 1  # the server has it; the sender cannot know


def test_reply_is_a_follow_up_message() -> None:
    with SmtpServer() as smtp:
        item = article()

        async def body(ch: EmailChannel) -> Receipt:
            first = await ch.send(ch.render(item), item, KEY)
            note = ch.render_with(ch.correction_template, item)
            return await ch.reply(note, item, first, "3lbzq7wqdfk2r")

        receipt = run_channel(
            lambda ctx: EmailChannel("mail", EmailChannel.Options(**options(smtp)), ctx, None),
            body,
        )
        first, follow_up = smtp.messages
        assert follow_up["In-Reply-To"] == first["Message-ID"] == follow_up["References"]
        assert follow_up["Subject"] == f"Re: {first['Subject']}"
        assert receipt.post_id == follow_up["Message-ID"] == "<herald.3lbzq7wqdfk2r@blog.example>"
        assert parts(follow_up)[0].startswith("Updated: Testing against loopback emulators")
    # a follow-up on request only: no edit, so the default on_update is ignore
    assert EmailChannel.capabilities() == {"reply"}


def test_a_subject_cannot_inject_headers() -> None:
    with SmtpServer() as smtp:
        send(smtp, article(title="Hello\r\nBcc: victim@example.org"))
        (message,) = smtp.messages
        assert message["Bcc"] is None and message["Subject"] == "Hello Bcc: victim@example.org"


def test_channels_yaml_entry(tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    entry = (
        "channels:\n  - name: list\n    type: email\n    host: smtp.example.org\n"
        "    username: herald\n    password: ${SMTP_PASSWORD}\n"
        "    sender: 'Blog <news@blog.example>'\n    to: team@blog.example\n"
    )
    path.write_text(entry)
    (cc,) = load_channels(path, {"SMTP_PASSWORD": PASSWORD})
    assert cc.options.to == ["team@blog.example"]  # type: ignore[attr-defined]
    assert PASSWORD not in repr(cc.options)
    path.write_text(entry + "    security: plain\n")
    with pytest.raises(ConfigError) as info:
        load_channels(path, {"SMTP_PASSWORD": PASSWORD})
    assert "never sent unencrypted" in str(info.value) and PASSWORD not in str(info.value)
    path.write_text(entry.replace("team@blog.example", "not-an-address"))
    with pytest.raises(ConfigError, match="not an e-mail address"):
        load_channels(path, {"SMTP_PASSWORD": PASSWORD})
