"""Nostr adapter: a kind-1 text note per article (or, with `long_form: true`, a NIP-23 long-form
event, kind 30023), signed with the account's key and sent to several relays at once.

Limits: Nostr itself has none for a note; relays cap an event's size (often 64–128 KB) and
clients show long notes folded. Herald fits the note to `max_characters` (default 1000)
counted in grapheme clusters, links at full length (clients show them as written); a relay that
refuses the event as too long (`invalid: ... too long` / `too large`) raises TooLong and `refit`
counts UTF-8 bytes instead, with a safety margin. With `image: true` the hero image's URL ends
the note on its own line (clients show it inline) and is described by a NIP-92 `imeta` tag.

Recovery is IDEMPOTENT: the event's id is the hash of its content, and its `created_at` is the
time inside the delivery key (made once, before the first attempt), so every attempt of one
delivery builds the same event with the same id; a relay that has it answers `duplicate:`, and
nobody sees two notes.

Lifecycle: `reply` is a kind-1 note with NIP-10 `e` (root) and `p` tags; `delete` is a NIP-09
deletion request (kind 5) naming the event (relays and clients honour it, but copies others
made may remain). A long-form event is replaceable by its `d` tag, so with `long_form: true` an
`edit` publishes the same `d` with new content (not offered yet: `can` has no "edit").

With `long_form: true` the event's content is the article's whole Markdown body (front matter
removed) as the engine reads it from the content folder (`ChannelContext.load_body`), with
relative links and images made absolute (`channels.longform`), and `title`, `summary`,
`image`, `published_at`, `t` and `r` tags; it is measured in UTF-8 bytes against 64 KiB and
never cut. Replies, corrections and retraction notes stay kind-1 notes.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from bot.channels import compose, longform
from bot.channels.base import CardStyle, Channel, Recovery
from bot.channels.nostr.keys import Signer, bech32_encode, secret_bytes
from bot.channels.nostr.options import NostrNetwork, NostrOptions
from bot.channels.nostr.relays import publish, settle
from bot.models import Article, Post, Receipt
from bot.tid import key_time

log = logging.getLogger("herald.channels.nostr")

NOTE = 1
DELETION = 5
LONG_FORM = 30023
LONG_FORM_LIMIT = 65_536  # bytes of content many relays take (NIP-11 max_content_length)


def _utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


class NostrChannel(NostrNetwork, Channel[NostrOptions]):
    """Signs one event per article and sends it to the configured relays."""

    type_name = "nostr"
    card = CardStyle("Nostr", "#8E30EB", "#8E30EB", markup="plain")
    recovery = Recovery.IDEMPOTENT
    default_template = "{title}\n\n{description}\n\n{cta}\n{url}\n\n{tags}"

    @functools.cached_property
    def signer(self) -> Signer:
        return Signer.from_key(self.opts.private_key.get_secret_value())

    def credentials(self) -> list[str]:
        """The key as configured and in both of its other spellings (hex, nsec)."""
        try:
            raw = secret_bytes(self.opts.private_key.get_secret_value())
        except (AttributeError, ValueError):  # preview and check build options without it
            return super().credentials()
        return [*super().credentials(), raw.hex(), bech32_encode("nsec", raw)]

    # -- composing
    def render(self, article: Article) -> Post:
        if self.opts.long_form:
            return self._long_form(article)
        return self._render(article, compose.count_graphemes, self.opts.max_characters)

    def render_with(self, template: str, article: Article) -> Post:
        """Corrections, retraction notes and comments are kind-1 notes, also for long-form."""
        other = self.with_template(template)
        return other._render(
            self.posted(article), compose.count_graphemes, self.opts.max_characters
        )

    def _long_form(self, article: Article) -> Post:
        """The article's whole Markdown body (absolute links), measured in UTF-8 bytes against
        the event size relays commonly take; the note's text when the body cannot be read
        (offline preview)."""
        body = (longform.article_body(self.context.load_body, article) or "").strip()
        if not body:
            note = self._render(article, compose.count_graphemes, self.opts.max_characters)
            body = note.text
        return Post(
            text=body,
            length=_utf8_bytes(body),
            limit=LONG_FORM_LIMIT,
            fields={
                "image": None,  # the `image` tag instead
                "limit": LONG_FORM_LIMIT,
                "limit_source": "default",
                "url_counting": "UTF-8 bytes of the Markdown",
                "long_form": True,
            },
        )

    def _render(self, article: Article, measure: compose.Measure, fit_to: int) -> Post:
        fields = compose.template_fields(article)
        image = article.image if self.opts.image else None
        room = fit_to - (measure("\n\n" + image) if image else 0)
        text = compose.fit(self.template, fields, measure=measure, limit=room)
        if image:
            text = f"{text}\n\n{image}"
        alt = compose.render_template(self.opts.image_alt, fields).strip()
        configured = "max_characters" in self.opts.model_fields_set
        return Post(
            text=text,
            length=measure(text),
            limit=self.opts.max_characters,
            fields={
                "image": image,
                "image_alt": alt,
                "limit": self.opts.max_characters,
                "limit_source": "config" if configured else "default",
                "url_counting": "full length",
            },
        )

    def refit(self, post: Post, article: Article, refusal: str) -> Post | None:
        """Counted in UTF-8 bytes (what relays measure) with a safety margin; a long-form
        body is never cut."""
        if post.fields.get("long_form"):
            return None
        fit_to = compose.strict_limit(self.opts.max_characters, refusal)
        again = self._render(article, _utf8_bytes, fit_to)
        if again.text == post.text or _utf8_bytes(again.text) > fit_to:
            return None
        return Post(again.text, again.length, again.limit, {**again.fields, "refit": refusal[:300]})

    def _tags(self, post: Post, article: Article) -> list[list[str]]:
        tags: list[list[str]] = [["r", article.url]]
        tags += [["t", t.lstrip("#").lower()] for t in compose.hashtags(article.tags).split()]
        image = post.fields.get("image")
        if image:
            tags.append(["imeta", f"url {image}", f"alt {post.fields.get('image_alt') or ''}"])
        return tags

    def request_body(self, post: Post, article: Article) -> dict[str, Any]:
        """The unsigned event: kind, tags and content; `send` adds the public key, the
        delivery's `created_at`, the id and the signature."""
        if not self.opts.long_form:
            return {"kind": NOTE, "tags": self._tags(post, article), "content": post.text}
        tags = [
            ["d", article.id],
            ["title", article.title],
            ["published_at", str(int(article.published.timestamp()))],
            ["r", article.url],
        ]
        if article.description or article.subtitle:
            tags.append(["summary", str(article.description or article.subtitle)])
        if article.image:
            tags.append(["image", article.image])
        tags += [["t", t.lstrip("#").lower()] for t in compose.hashtags(article.tags).split()]
        return {"kind": LONG_FORM, "tags": tags, "content": post.text}

    def attached_image(self, post: Post, article: Article) -> str | None:
        return None  # clients fetch it from the URL in the note

    def preview_identity(self) -> dict[str, str]:
        try:
            npub = self.signer.npub
        except (AttributeError, ValueError):  # no key in the options (preview without secrets)
            return {}
        return {"handle": f"{npub[:12]}…{npub[-6:]}"}

    # -- delivering
    def _created_at(self, key: str, article: Article) -> int:
        made = key_time(key)
        return int(made) if made is not None else int(article.published.timestamp())

    def _receipt(self, event: dict[str, Any]) -> Receipt:
        note = bech32_encode("note", bytes.fromhex(event["id"]))
        return Receipt(event["id"], url=self.opts.viewer.format(note=note, id=event["id"]))

    async def _publish(
        self, body: dict[str, Any], key: str, article: Article, what: str
    ) -> Receipt:
        event = self.signer.sign(
            self._created_at(key, article), body["kind"], body["tags"], body["content"]
        )
        answers = await publish(
            event, self.opts.relays, timeout=self.opts.timeout, secrets=self.credentials()
        )
        settle(answers, self.opts.quorum, what)
        late = [a.describe() for a in answers if not a.accepted]
        if late:
            log.info("%s: %s %s; not on: %s", self.name, what, event["id"], "; ".join(late))
        return self._receipt(event)

    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        return await self._publish(self.request_body(post, article), key, article, "the note")

    async def reply(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        """A kind-1 note answering `ref` (NIP-10 marked `e` root tag and a `p` tag)."""
        relay = self.opts.relays[0]
        tags = [["e", ref.post_id, relay, "root", self.signer.pubkey], ["p", self.signer.pubkey]]
        tags += [t for t in self._tags(post, article) if t[0] != "t"]
        body = {"kind": NOTE, "tags": tags, "content": post.text}
        return await self._publish(body, key, article, "the reply")

    async def delete(self, article: Article, ref: Receipt, key: str) -> None:
        """A NIP-09 deletion request for `ref` (and, for a long-form event, its address)."""
        kind = LONG_FORM if self.opts.long_form else NOTE
        tags = [["e", ref.post_id], ["k", str(kind)]]
        if self.opts.long_form:
            tags.append(["a", f"{LONG_FORM}:{self.signer.pubkey}:{article.id}"])
        body = {"kind": DELETION, "tags": tags, "content": "This article has been withdrawn."}
        await self._publish(body, key, article, "the deletion request")
        return None
