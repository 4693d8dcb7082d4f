"""E-mail channel: one message per article over SMTP (STARTTLS, implicit TLS, or plain).

The message is `multipart/alternative`: a text part from the channel's `template` and an HTML
part from `html_template` (article fields escaped), the hero image at the top of the HTML as a
linked remote image (`<img src=…>`, not attached). The subject comes from `subject`.
`List-Unsubscribe` and the like are left to the list the message is sent to.

`Message-ID` is `<herald.{delivery key}@{sender's domain}>`: the same on every attempt of a
delivery, so a message sent twice (after a crash, or `retry --force`) is recognisable as the
same message, and mailing-list managers and mailboxes that drop a repeated Message-ID do so.
SMTP has no way to ask whether a message went out, so by default a delivery interrupted after
the message was handed over becomes `unknown` (Recovery.NONE); `idempotent: true` re-sends it
(Recovery.IDEMPOTENT), relying on the Message-ID.

Limits: SMTP has none on text; the text body is fitted to `max_characters` (code points) and the
HTML's visible text to the same. A server that refuses the size (552, or over its SIZE) raises
TooLong. Errors: 535/530/534 (authentication) are AuthError, other 5xx PermanentError, 4xx
(greylisting, 421 busy) TransientError; a connection lost after the message's final dot was
sent is Ambiguous. STARTTLS is never skipped: a server that does not offer it is a permanent
failure. The stdlib's smtplib runs in a worker thread (no extra dependency, no start-up cost).
"""

from __future__ import annotations

import asyncio
import base64
import email.policy
import email.utils
import html
import logging
import re
import smtplib
import socket
import ssl
import string
from email.message import EmailMessage
from typing import Any

from bot.channels import compose
from bot.channels.base import CardStyle, Channel, Recovery
from bot.channels.email.options import EmailNetwork, EmailOptions
from bot.channels.escaping import Escaper
from bot.errors import (
    Ambiguous,
    AuthError,
    DeliveryError,
    PermanentError,
    TooLong,
    TransientError,
)
from bot.http import tls_context
from bot.models import Article, Post, Receipt
from bot.redact import foreign_text

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "plain": 25}
_HTML = Escaper({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})
_TAG = re.compile(r"<[^>]*>")
_AUTH_CODES = frozenset({530, 534, 535, 538})
_SIZE_CODES = frozenset({552, 523})
# CRLF line ends; non-ASCII bodies quoted-printable or base64, so no server needs 8BITMIME
_POLICY = email.policy.SMTP.clone(cte_type="7bit")
log = logging.getLogger("bot.channels.email")


def _fill(template: str, fields: dict[str, str]) -> str:
    """The template without the lines whose fields are all empty (an HTML line keeps its tags,
    so compose's own rule cannot see it is empty)."""
    kept = []
    for line in template.split("\n"):
        names = [n for _, n, _, _ in string.Formatter().parse(line) if n]
        if names and not any(fields.get(n, "").strip() for n in names):
            continue
        kept.append(line)
    return "\n".join(kept)


def _visible(held: str) -> int:
    return compose.count_chars(_TAG.sub("", held))


def _one_line(text: str) -> str:
    return " ".join(text.split())


class EmailChannel(EmailNetwork, Channel[EmailOptions]):
    """Sends one message per article to the `to` addresses through one SMTP server."""

    type_name = "email"
    card = CardStyle("E-mail", "#334155", "#1D4ED8", markup="html")
    default_template = "{title}\n\n{subtitle}\n\n{description}\n\n{cta}\n{url}"
    correction_template = "Updated: {title}\n\n{description}\n\n{url}"
    retraction_template = "This article has been withdrawn: {title}"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if getattr(self.opts, "idempotent", False):
            self.recovery = Recovery.IDEMPOTENT  # type: ignore[misc]

    # -- composing
    def render(self, article: Article) -> Post:
        limit = self.opts.max_characters
        fields = compose.template_fields(article)
        text = compose.fit(self.template, fields, measure=compose.count_chars, limit=limit)
        held = {k: _HTML.hold(v) for k, v in fields.items()}
        markup = compose.fit(
            _fill(self.opts.html_template, held), held, measure=_visible, limit=limit
        )
        alt = compose.render_template(self.opts.image_alt, fields)
        return Post(
            text=text,
            length=compose.count_chars(text),
            limit=limit,
            fields={
                "subject": _one_line(compose.render_template(self.opts.subject, fields))[:900],
                "html": _HTML.expand(markup),
                "image": article.image,
                "image_alt": _one_line(alt)[:300],
                "limit": limit,
                "limit_source": "config"
                if "max_characters" in self.opts.model_fields_set
                else "default",
                "url_counting": "full length",
            },
        )

    def refit(self, post: Post, article: Article, refusal: str) -> Post | None:
        """Both bodies fitted again to half the limit (the server refused the size)."""
        if post.limit <= 200:
            return None
        smaller = self.opts.model_copy(update={"max_characters": max(200, post.limit // 2)})
        shorter = type(self)(self.name, smaller, self.context, self.template).render(article)
        if shorter.text == post.text:
            return None
        return Post(
            shorter.text, shorter.length, post.limit, {**shorter.fields, "refit": refusal[:300]}
        )

    def _html_document(self, post: Post, article: Article) -> str:
        body = str(post.fields.get("html") or html.escape(post.text).replace("\n", "<br>\n"))
        image = self.attached_image(post, article)
        if image and image.startswith(("https://", "http://")):
            alt = html.escape(str(post.fields.get("image_alt") or ""), quote=True)
            body = (
                f'<a href="{html.escape(article.url, quote=True)}"><img src="'
                f'{html.escape(image, quote=True)}" alt="{alt}" width="600" style="display:block;'
                'max-width:100%;height:auto;border:0;margin:0 0 16px"></a>\n' + body
            )
        title = html.escape(str(post.fields.get("subject") or article.title))
        return (
            '<!doctype html>\n<html><head><meta charset="utf-8">'
            f"<title>{title}</title></head>\n"
            '<body style="font-family:Helvetica,Arial,sans-serif;line-height:1.5;'
            f'max-width:600px;margin:0 auto;padding:16px">\n{body}\n</body></html>\n'
        )

    def request_body(self, post: Post, article: Article) -> dict[str, Any]:
        """The message as sent, less `Message-ID` and `Date` (added by `send`)."""
        body: dict[str, Any] = {
            "from": self.opts.sender,
            "to": list(self.opts.to),
            "subject": str(post.fields.get("subject") or _one_line(article.title)),
            "text": post.text,
            "html": self._html_document(post, article),
        }
        if self.opts.reply_to:
            body["reply_to"] = self.opts.reply_to
        return body

    def attached_image(self, post: Post, article: Article) -> str | None:
        image = post.fields.get("image", article.image)
        return str(image) if self.opts.image and image else None

    def preview_identity(self) -> dict[str, str]:
        name, addr = email.utils.parseaddr(self.opts.sender)
        return {"name": name or addr, "handle": addr}

    def credentials(self) -> list[str]:
        """The password, and how AUTH PLAIN and AUTH LOGIN carry it (base64), so a server
        echoing what it got cannot show it either."""
        out = super().credentials()
        if self.opts.password is not None and self.opts.username is not None:
            secret = self.opts.password.get_secret_value()
            plain = f"\0{self.opts.username}\0{secret}".encode()
            out += [base64.b64encode(secret.encode()).decode(), base64.b64encode(plain).decode()]
        return out

    def message_id(self, key: str) -> str:
        """`<herald.{key}@{sender's domain}>`: the same for every attempt of a delivery."""
        domain = email.utils.parseaddr(self.opts.sender)[1].rpartition("@")[2]
        return f"<herald.{key}@{domain}>"

    def message(self, post: Post, article: Article, key: str) -> EmailMessage:
        body = self.request_body(post, article)
        msg = EmailMessage(policy=_POLICY)
        msg["From"] = body["from"]
        msg["To"] = ", ".join(body["to"])
        if "reply_to" in body:
            msg["Reply-To"] = body["reply_to"]
        msg["Subject"] = body["subject"]
        msg["Date"] = email.utils.formatdate(usegmt=True)
        msg["Message-ID"] = self.message_id(key)
        msg.set_content(body["text"])
        msg.add_alternative(body["html"], subtype="html")
        return msg

    # -- delivering
    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        msg = self.message(post, article, key)
        await asyncio.to_thread(self._deliver, msg)
        return Receipt(str(msg["Message-ID"]))

    async def reply(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        """A follow-up message: `In-Reply-To` and `References` name the first one."""
        msg = self.message(post, article, key)
        subject = str(msg["Subject"])
        del msg["Subject"]
        msg["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
        msg["In-Reply-To"] = ref.post_id
        msg["References"] = ref.post_id
        await asyncio.to_thread(self._deliver, msg)
        return Receipt(str(msg["Message-ID"]))

    def _deliver(self, msg: EmailMessage) -> None:
        """Hand the message to the server (in a worker thread); DeliveryErrors as it went."""
        opts = self.opts
        data = msg.as_bytes()
        port = opts.port or DEFAULT_PORTS[opts.security]
        context = (
            ssl.create_default_context(cafile=str(opts.ca_file)) if opts.ca_file else tls_context()
        )
        where = f"SMTP {opts.host}:{port}"
        handed_over = False
        try:
            if opts.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    opts.host, port, timeout=opts.timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(opts.host, port, timeout=opts.timeout)
            with smtp:
                smtp.ehlo()
                if opts.security == "starttls":
                    if not smtp.has_extn("starttls"):
                        raise PermanentError(
                            f"{where} does not offer STARTTLS; Herald does not send without it "
                            "(use security: tls for port 465)"
                        )
                    _check(*smtp.starttls(context=context), where)
                    smtp.ehlo()
                if opts.username is not None and opts.password is not None:
                    smtp.login(opts.username, opts.password.get_secret_value())
                size = smtp.esmtp_features.get("size", "")
                if size.isdigit() and int(size) and len(data) > int(size):
                    raise TooLong(
                        f"{where}: the message is {len(data)} bytes, the server takes {size}"
                    )
                _check(*smtp.mail(email.utils.parseaddr(opts.sender)[1]), where)
                refused = []
                for rcpt in opts.to:
                    code, answer = smtp.rcpt(email.utils.parseaddr(rcpt)[1])
                    if code not in (250, 251):
                        refused.append((code, answer))
                if len(refused) == len(opts.to):
                    _check(*refused[0], where)
                for code, answer in refused:
                    log.warning("%s: a recipient was refused: %s", self.name, _said(code, answer))
                handed_over = True  # from here on the server may have the message
                _check(*smtp.data(data), where)
        except DeliveryError:
            raise
        except smtplib.SMTPAuthenticationError as e:
            raise AuthError(
                f"{where}: login refused: {_said(e.smtp_code, e.smtp_error)}; "
                "check username and password"
            ) from None
        except smtplib.SMTPNotSupportedError as e:
            raise PermanentError(f"{where}: {foreign_text(str(e), limit=200)}") from None
        except smtplib.SMTPResponseException as e:
            _check(e.smtp_code, e.smtp_error, where)
        except ssl.SSLCertVerificationError as e:
            raise PermanentError(
                f"{where}: the server's certificate is not trusted ({e.verify_message}); "
                "set ca_file for a private CA"
            ) from None
        except (smtplib.SMTPException, OSError) as e:
            kind = Ambiguous if handed_over else TransientError
            detail = foreign_text(str(e), limit=200) or type(e).__name__
            if isinstance(e, socket.timeout | TimeoutError) or "timed out" in str(e):
                detail = f"no answer within {opts.timeout:g} s"
            raise kind(f"{where}: {type(e).__name__}: {detail}") from None


def _said(code: int, answer: bytes | str) -> str:
    text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
    return f"{code} {foreign_text(text, limit=300)}"


def _check(code: int, answer: bytes | str, where: str) -> None:
    """Raise the DeliveryError an SMTP reply code means; 2xx and 3xx pass."""
    if 200 <= code < 400:
        return
    text = f"{where}: {_said(code, answer)}"
    if code in _AUTH_CODES:
        raise AuthError(text + "; check username and password")
    if code in _SIZE_CODES:
        raise TooLong(text)
    if 400 <= code < 500 or code == -1:
        raise TransientError(text)
    raise PermanentError(text)


CHANNEL = EmailChannel  # this module is the `email` type (see channels/registry.py)
