"""Facebook Pages channel: one Page post per article, `POST /{page-id}/feed` with `message` and
`link`; Facebook draws the link card from the article page's own Open Graph tags (og:title,
og:description, og:image), so the hero image is not uploaded.

Limits: 63,206 characters per message, counted in code points; the link is a separate field and
does not count. A refusal for length (code 100, "must be at most N characters") raises TooLong
and `refit` counts UTF-16 code units with a margin. Auth is a Page access token
(`pages_manage_posts`, `pages_read_engagement`); errors and throttling (codes 4, 17, 32, 613,
80001: rate limits with the usage headers' wait; 190: token) are read as
`bot/channels/graph_api.py` describes.

Recovery is LOOKUP: the Graph API has no idempotency key, so after a crash `find_existing` reads
the Page's 25 latest posts and takes one with the same message made after the delivery's key.
Lifecycle: `edit` (`POST /{post-id}` with the new message; the link card stays), `reply` (a
comment, for first comments and corrections) and `delete` (`DELETE /{post-id}`).
"""

from __future__ import annotations

from typing import Any

from bot.channels import compose, graph_api
from bot.channels.base import CardStyle, Channel, Recovery
from bot.channels.facebook.options import FacebookNetwork, FacebookOptions
from bot.errors import DeliveryError, PermanentError
from bot.http import json_answer
from bot.models import Article, Post, Receipt
from bot.tid import key_time

MESSAGE_LIMIT = 63_206
NETWORK = "Facebook"


class FacebookChannel(FacebookNetwork, Channel[FacebookOptions]):
    """Posts to one Facebook Page with its Page access token."""

    type_name = "facebook"
    card = CardStyle("Facebook", "#0866FF", "#385898")
    recovery = Recovery.LOOKUP
    default_template = "{title}\n\n{description}\n\n{cta}"

    def _url(self, path: str) -> str:
        return f"{self.opts.base_url}/{path.lstrip('/')}"

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        token = self.opts.token.get_secret_value()
        return await graph_api.call(
            self.context.http, method, self._url(path), token, NETWORK, **kwargs
        )

    # -- composing
    def render(self, article: Article) -> Post:
        fields = compose.template_fields(article)
        text = compose.fit(self.template, fields, measure=compose.count_chars, limit=MESSAGE_LIMIT)
        return Post(
            text=text,
            length=compose.count_chars(text),
            limit=MESSAGE_LIMIT,
            fields={
                "link": article.url,
                "image": article.image,
                "limit": MESSAGE_LIMIT,
                "limit_source": "default",
                "url_counting": "apart (the link card)",
            },
        )

    def refit(self, post: Post, article: Article, refusal: str) -> Post | None:
        """The message fitted again in UTF-16 code units with a safety margin."""
        text = compose.refit(
            self.template,
            compose.template_fields(article),
            measure=compose.count_utf16,
            limit=compose.strict_limit(MESSAGE_LIMIT, refusal),
            previous=post.text,
        )
        if text is None:
            return None
        return Post(
            text, compose.count_chars(text), MESSAGE_LIMIT, {**post.fields, "refit": refusal[:300]}
        )

    def request_body(self, post: Post, article: Article) -> dict[str, Any]:
        """`POST /{page-id}/feed`: the message and the article's link (its card)."""
        return {"message": post.text, "link": article.url}

    def preview_identity(self) -> dict[str, str]:
        return {"name": self.opts.page_name} if self.opts.page_name else {}

    # -- delivering
    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        body = self.request_body(post, article)
        response = await self._call("POST", f"{self.opts.page_id}/feed", data=body)
        post_id = str(json_answer(response, "Facebook post", "id")["id"])
        return Receipt(post_id, url=await self._permalink(post_id))

    async def _permalink(self, post_id: str) -> str:
        """The post's permalink_url; the id's own URL when it cannot be read."""
        try:
            response = await self._call("GET", post_id, params={"fields": "permalink_url"})
            link = response.json().get("permalink_url")
        except (DeliveryError, ValueError, AttributeError):
            link = None
        if isinstance(link, str) and link.startswith("https://"):
            return link
        return f"https://www.facebook.com/{post_id}"

    async def edit(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        """The message changed in place; a post that is gone is a PermanentError."""
        try:
            await self._call("POST", ref.post_id, data={"message": post.text})
        except graph_api.GoneError as e:
            raise PermanentError(e.message + "; the post is gone", status=e.status) from e
        return ref

    async def reply(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        """A comment under the post, as the Page."""
        try:
            response = await self._call(
                "POST", f"{ref.post_id}/comments", data={"message": post.text}
            )
        except graph_api.GoneError as e:
            raise PermanentError(e.message + "; the post is gone", status=e.status) from e
        comment = str(json_answer(response, "Facebook comment", "id")["id"])
        return Receipt(comment, url=ref.url)

    async def delete(self, article: Article, ref: Receipt, key: str) -> None:
        await graph_api.delete(
            self.context.http, self._url(ref.post_id), self.opts.token.get_secret_value(), NETWORK
        )

    async def find_existing(self, post: Post, article: Article, key: str) -> Receipt | None:
        """The Page's post with this message made since the delivery began, among its 25
        latest; None when there is none."""
        response = await self._call(
            "GET",
            f"{self.opts.page_id}/posts",
            params={"fields": "id,message,created_time,permalink_url", "limit": "25"},
        )
        began = (key_time(key) or 0.0) - 120  # clocks differ
        fields = ("message", "created_time", "permalink_url")
        return graph_api.find_post(response, post.text, began, fields)


CHANNEL = FacebookChannel  # this module is the `facebook` type (see channels/registry.py)
