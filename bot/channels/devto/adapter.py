"""dev.to adapter: the whole article cross-posted through the Forem API v1, canonical link back.

`POST /api/articles` (header `api-key`, `Accept: application/vnd.forem.api-v1+json`) with
`{"article": {title, body_markdown, published, canonical_url, main_image, description, tags,
series, organization_id}}` answers 201 with the article (`id`, `url`); `PUT /api/articles/{id}`
with the same body updates it in place (an edit never makes a second article).

What is sent: the article's Markdown body as written, every relative link and image made
absolute against the article's URL (`channels.longform`); `canonical_url` = the article's URL,
so search engines credit the original; the hero image as `main_image`; `published` or a draft
by the channel's `published` option (an edit on a draft channel leaves the article's state
alone, so one the author published by hand stays published).

Limits (Forem's Article model): title at most 128 characters (cut at a word with an ellipsis);
at most 4 tags, each lowercase letters and digits only, at most 30 characters, so tags are
mapped (`Machine Learning` -> `machinelearning`, `c++` -> `c`) and the first 4 distinct kept.
Forem documents no body limit; Herald refuses a body over 400,000 characters itself.

Errors come as `{"error": "...", "status": N}`: 401 is an auth error (wrong or revoked key,
suspended account), 422 a refusal (validation, shown in Forem's words), 429 a rate limit until
`Retry-After`. A `canonical_url` is unique across dev.to: a second article with it is refused
("Canonical url has already been taken"), so a re-send finds the first one instead.

Recovery is LOOKUP: after a crash the engine asks `find_existing`, which reads the account's
articles (`GET /api/articles/me/all`, published and drafts) for one whose `canonical_url` is the
article's URL, so a crash between send and record never makes a duplicate.

The API cannot delete an article. `delete` unpublishes it (`published: false`): readers no
longer see it, and it stays as a draft in the author's dashboard. That is the retraction dev.to
allows; the README says so.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

import httpx

from bot.channels.base import CardStyle, Channel, Recovery
from bot.channels.devto.options import DevtoNetwork, DevtoOptions
from bot.channels.longform import article_post, unique
from bot.errors import AlreadyDone, AuthError, DeliveryError, PermanentError, RateLimited
from bot.http import error_text, json_answer, raise_for_status, request, retry_at_from_headers
from bot.models import Article, Post, Receipt
from bot.redact import foreign_text

TITLE_LIMIT = 128
MAX_TAGS = 4
TAG_LENGTH = 30
BODY_LIMIT = 400_000  # Herald's own bound: Forem documents none
ACCEPT = "application/vnd.forem.api-v1+json"
LOOKUP_PAGE = 1000  # articles per page of /api/articles/me/all (Forem's default maximum)
LOOKUP_PAGES = 5
_NOT_TAG = re.compile(r"[^a-z0-9]+")
_CANONICAL_TAKEN = re.compile(r"canonical url has already been taken", re.IGNORECASE)


def devto_tags(tags: tuple[str, ...] | list[str]) -> list[str]:
    """The article's tags as dev.to takes them: lowercase ASCII letters and digits, at most 30
    characters each, the first 4 distinct."""
    return unique((_NOT_TAG.sub("", t.lower())[:TAG_LENGTH] for t in tags), MAX_TAGS)


class DevtoChannel(DevtoNetwork, Channel[DevtoOptions]):
    """Cross-posts the whole article to one dev.to account (or organization)."""

    type_name = "devto"
    card = CardStyle("DEV", "#0A0A0A", "#3B49DF", markup="markdown")
    recovery = Recovery.LOOKUP
    whole_article = True

    # -- composing
    def render(self, article: Article) -> Post:
        return article_post(
            self.context.load_body,
            article,
            network="dev.to",
            title_limit=TITLE_LIMIT,
            body_limit=BODY_LIMIT,
            tags=devto_tags(article.tags),
            main_image=article.image,
            description=article.description or article.subtitle or "",
            published=self.opts.published,
        )

    def request_body(self, post: Post, article: Article) -> dict[str, Any]:
        """`{"article": {...}}` as POST and PUT /api/articles take it."""
        fields = post.fields
        out: dict[str, Any] = {
            "title": fields.get("title") or article.title,
            "body_markdown": post.text,
            "published": self.opts.published,
            "canonical_url": article.url,
            "tags": list(fields.get("tags", devto_tags(article.tags))),
        }
        if article.image:
            out["main_image"] = article.image
        description = fields.get("description", article.description or "")
        if description:
            out["description"] = description
        if self.opts.series:
            out["series"] = self.opts.series
        if self.opts.organization_id:
            out["organization_id"] = self.opts.organization_id
        return {"article": out}

    def preview_identity(self) -> dict[str, str]:
        state = "published" if self.opts.published else "draft"
        return {"handle": f"{self.opts.base_url.split('//', 1)[-1]} · {state}"}

    # -- delivering
    def _headers(self) -> dict[str, str]:
        return {"api-key": self.opts.api_key.get_secret_value(), "Accept": ACCEPT}

    def _clean(self, text: str) -> str:
        return foreign_text(text, [self.opts.api_key.get_secret_value()], limit=500)

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await request(
                self.context.http,
                method,
                f"{self.opts.base_url}{path}",
                headers=self._headers(),
                **kwargs,
            )
        except DeliveryError as e:
            e.message = self._clean(e.message)
            e.args = (e.message,)
            raise

    def _check(self, post: Post) -> None:
        if post.fields.get("limit_note") or not post.text.strip():
            raise PermanentError(
                "dev.to: the article's body could not be read, so nothing was posted "
                "(is the file still in the content folder?)"
            )
        if post.length > BODY_LIMIT:
            raise PermanentError(
                f"dev.to: the body has {post.length} characters, over Herald's "
                f"{BODY_LIMIT} for a cross-post; nothing was posted"
            )

    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        self._check(post)
        response = await self._call("POST", "/api/articles", json=self.request_body(post, article))
        if response.status_code == 201:
            return _receipt(json_answer(response, "dev.to article", "id"))
        if response.status_code == 422 and _CANONICAL_TAKEN.search(response.text):
            found = await self.find_existing(post, article, key)
            if found is not None:
                raise AlreadyDone(
                    "dev.to already has this article (same canonical URL)",
                    post_id=found.post_id,
                    url=found.url,
                    status=422,
                )
            self._raise(response, "another dev.to article (not this account's) has it")
        self._raise(response)

    async def edit(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        """PUT the article's current content over the dev.to article `ref`."""
        self._check(post)
        body = self.request_body(post, article)
        if not self.opts.published:  # a draft the author may have published by hand stays so
            del body["article"]["published"]
        response = await self._call("PUT", f"/api/articles/{_article_id(ref)}", json=body)
        if response.status_code == 200:
            return _receipt(json_answer(response, "dev.to article", "id"))
        if response.status_code == 404:
            raise PermanentError(
                "dev.to: the article is gone (deleted on dev.to); nothing to edit", status=404
            )
        self._raise(response)

    async def delete(self, article: Article, ref: Receipt, key: str) -> None:
        """Unpublish (the API cannot delete): readers no longer see it; a draft remains."""
        response = await self._call(
            "PUT", f"/api/articles/{_article_id(ref)}", json={"article": {"published": False}}
        )
        if response.status_code == 200:
            return
        if response.status_code == 404:
            raise AlreadyDone("dev.to: the article is already gone", status=404)
        self._raise(response)

    async def find_existing(self, post: Post, article: Article, key: str) -> Receipt | None:
        """This account's dev.to article whose canonical URL is the article's, if any."""
        wanted = article.url.rstrip("/")
        for page in range(1, LOOKUP_PAGES + 1):
            response = await self._call(
                "GET", "/api/articles/me/all", params={"per_page": LOOKUP_PAGE, "page": page}
            )
            if response.status_code != 200:
                self._raise(response)
            try:
                items = response.json()
            except ValueError:
                items = None
            if not isinstance(items, list):
                raise PermanentError("dev.to: the list of the account's articles is unreadable")
            for item in items:
                if (
                    isinstance(item, dict)
                    and str(item.get("canonical_url") or "").rstrip("/") == wanted
                    and item.get("id")
                ):
                    return _receipt(item)
            if len(items) < LOOKUP_PAGE:
                return None
        return None

    def _raise(self, response: httpx.Response, note: str = "") -> NoReturn:
        """The DeliveryError a Forem error answer means, in Forem's words (key removed)."""
        status = response.status_code
        try:
            data = response.json()
        except ValueError:
            data = None
        said = data.get("error") if isinstance(data, dict) else None
        if isinstance(said, list):
            said = "; ".join(str(s) for s in said)
        text = f"dev.to: HTTP {status}: {said}" if said else f"dev.to: {error_text(response)}"
        text = self._clean(text + (f" ({note})" if note else ""))
        if status == 429:
            raise RateLimited(text, retry_at=retry_at_from_headers(response.headers))
        if status == 401:
            raise AuthError(
                f"{text}; check api_key of channel {self.name} (dev.to Settings > Extensions)",
                status=status,
            )
        raise_for_status(response, text)
        raise PermanentError(text, status=status)  # a 1xx/3xx or another 2xx: no article


def _article_id(ref: Receipt) -> str:
    if not ref.post_id.isdigit():
        raise PermanentError(f"dev.to: {ref.post_id!r} is not a dev.to article id")
    return ref.post_id


def _receipt(body: dict[str, Any]) -> Receipt:
    url = body.get("url")
    return Receipt(str(body["id"]), url=url if isinstance(url, str) and url else None)


CHANNEL = DevtoChannel  # this module is the `devto` type (see channels/registry.py)
