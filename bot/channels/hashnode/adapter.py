"""Hashnode adapter: the whole article cross-posted to a publication through the GraphQL API.

`publishPost(input: {publicationId, title, subtitle, contentMarkdown, slug, tags [{slug,
name}], coverImageOptions {coverImageURL}, originalArticleURL})` answers `post {id slug url}`;
`updatePost(input: {id, ...})` changes it in place when the article changes; `removePost(input:
{id})` removes it when the article is retracted. The token goes as it is in `Authorization`.

What is sent: the article's Markdown body as written, every relative link and image made
absolute against the article's URL (`channels.longform`); `originalArticleURL` = the article's
URL, which Hashnode shows as "originally published at" and uses as the canonical link; the hero
image as the cover; the article's slug, so the post can be found again by it. Tags: at most 15,
each `{slug, name}` with the slug lowercase letters, digits and hyphens (`Machine Learning` ->
`machine-learning`).

Errors: GraphQL answers HTTP 200 with an `errors` array; each error's `extensions.code` says
what it is. UNAUTHENTICATED is an auth error; FORBIDDEN is an auth error (the token's user may
not write to the publication), except "Publication does not have an active Pro plan", which is a
permanent failure that says so: since May 2026 Hashnode's API writes need a Pro publication.
TOO_MANY_REQUESTS (or HTTP 429) is a rate limit (`Retry-After`); BAD_USER_INPUT,
GRAPHQL_VALIDATION_FAILED and NOT_FOUND are permanent; INTERNAL_SERVER_ERROR is transient. A
redirect (Hashnode moved the API: `gql.hashnode.com` answers 301 since the paid switch) is a
permanent failure naming `base_url`.

Recovery is LOOKUP: `find_existing` asks the publication for the post with the article's slug
and checks its canonical URL, then reads the publication's newest posts for one whose canonical
URL is the article's, so a crash between send and record never makes a duplicate.
"""

from __future__ import annotations

import re
from typing import Any, TypeGuard

import httpx

from bot.channels.base import CardStyle, Channel, Recovery
from bot.channels.hashnode.options import HashnodeNetwork, HashnodeOptions
from bot.channels.longform import article_post, unique
from bot.errors import (
    AlreadyDone,
    AuthError,
    DeliveryError,
    PermanentError,
    RateLimited,
    TransientError,
    UnreadableAnswer,
)
from bot.http import error_text, raise_for_status, request, retry_at_from_headers
from bot.models import Article, Post, Receipt
from bot.redact import foreign_text

MAX_TAGS = 15
TITLE_LIMIT = 250  # Herald's bound for a title; Hashnode documents none
BODY_LIMIT = 400_000  # Herald's own bound: Hashnode documents none
LOOKUP_PAGE = 50
LOOKUP_PAGES = 4
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_PRO_PLAN = re.compile(r"pro plan", re.IGNORECASE)

POST_FIELDS = "id slug url canonicalUrl"
PUBLISH = (
    "mutation Publish($input: PublishPostInput!) "
    f"{{ publishPost(input: $input) {{ post {{ {POST_FIELDS} }} }} }}"
)
UPDATE = (
    "mutation Update($input: UpdatePostInput!) "
    f"{{ updatePost(input: $input) {{ post {{ {POST_FIELDS} }} }} }}"
)
REMOVE = "mutation Remove($input: RemovePostInput!) { removePost(input: $input) { post { id } } }"
BY_SLUG = (
    "query BySlug($id: ObjectId!, $slug: String!) "
    f"{{ publication(id: $id) {{ post(slug: $slug) {{ {POST_FIELDS} }} }} }}"
)
NEWEST = (
    "query Newest($id: ObjectId!, $first: Int!, $after: String) "
    "{ publication(id: $id) { posts(first: $first, after: $after) "
    f"{{ edges {{ node {{ {POST_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }} }}"
)


def tag_slug(tag: str) -> str:
    """A tag as a Hashnode tag slug: lowercase letters and digits joined by hyphens."""
    return _NOT_SLUG.sub("-", tag.lower()).strip("-")


def hashnode_tags(tags: tuple[str, ...] | list[str]) -> list[dict[str, str]]:
    """The article's tags as `[{slug, name}]`, the first 15 distinct slugs."""
    names = {tag_slug(t): t.strip() for t in reversed(tags)}  # the first spelling wins
    return [{"slug": s, "name": names[s]} for s in unique((tag_slug(t) for t in tags), MAX_TAGS)]


class HashnodeChannel(HashnodeNetwork, Channel[HashnodeOptions]):
    """Cross-posts the whole article to one Hashnode publication."""

    type_name = "hashnode"
    card = CardStyle("Hashnode", "#2962FF", "#2962FF", markup="markdown")
    recovery = Recovery.LOOKUP
    whole_article = True

    # -- composing
    def render(self, article: Article) -> Post:
        return article_post(
            self.context.load_body,
            article,
            network="Hashnode",
            title_limit=TITLE_LIMIT,
            body_limit=BODY_LIMIT,
            subtitle=article.subtitle or "",
            tags=hashnode_tags(article.tags),
            cover=article.image,
        )

    def request_body(self, post: Post, article: Article) -> dict[str, Any]:
        """The publishPost request: query and variables (`updatePost` takes the same input
        with the post's id instead of the publication and slug)."""
        fields = post.fields
        data: dict[str, Any] = {
            "publicationId": self.opts.publication_id,
            "title": fields.get("title") or article.title,
            "contentMarkdown": post.text,
            "slug": article.slug,
            "tags": list(fields.get("tags", hashnode_tags(article.tags))),
            "originalArticleURL": article.url,
        }
        if fields.get("subtitle"):
            data["subtitle"] = fields["subtitle"]
        if article.image:
            data["coverImageOptions"] = {"coverImageURL": article.image}
        return {"query": PUBLISH, "variables": {"input": data}}

    def preview_identity(self) -> dict[str, str]:
        return {"handle": f"publication {self.opts.publication_id}"}

    # -- delivering
    def _clean(self, text: str) -> str:
        return foreign_text(text, [self.opts.token.get_secret_value()], limit=500)

    async def _graphql(self, query: str, variables: dict[str, Any], what: str) -> dict[str, Any]:
        """The `data` of one GraphQL request, or the DeliveryError its answer means."""
        try:
            response = await request(
                self.context.http,
                "POST",
                self.opts.base_url,
                json={"query": query, "variables": variables},
                headers={"Authorization": self.opts.token.get_secret_value()},
            )
        except DeliveryError as e:
            e.message = self._clean(e.message)
            e.args = (e.message,)
            raise
        status = response.status_code
        if 300 <= status < 400:
            raise PermanentError(
                f"Hashnode: HTTP {status} redirect to "
                f"{self._clean(response.headers.get('location', '?'))}: the API is not at "
                f"{self.opts.base_url}; set base_url of channel {self.name}",
                status=status,
            )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        errors = answer.get("errors") if isinstance(answer, dict) else None
        if isinstance(errors, list) and errors:
            self._raise_errors(errors, response)
        if status != 200:
            raise_for_status(response, self._clean(f"Hashnode: {error_text(response)}"))
            raise PermanentError(f"Hashnode: HTTP {status}", status=status)
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, dict):
            raise UnreadableAnswer(f"Hashnode {what}: HTTP 200 but the answer has no data")
        return data

    def _raise_errors(self, errors: list[Any], response: httpx.Response) -> None:
        first = errors[0] if isinstance(errors[0], dict) else {}
        extensions = first.get("extensions")
        code = str((extensions or {}).get("code") or "") if isinstance(extensions, dict) else ""
        said = "; ".join(
            str(e.get("message")) for e in errors[:3] if isinstance(e, dict) and e.get("message")
        )
        text = self._clean(f"Hashnode: {said or 'error'}" + (f" ({code})" if code else ""))
        status = response.status_code
        if code in ("TOO_MANY_REQUESTS", "RATE_LIMITED") or status == 429:
            raise RateLimited(text, retry_at=retry_at_from_headers(response.headers))
        if code == "UNAUTHENTICATED":
            raise AuthError(f"{text}; check token of channel {self.name}", status=status)
        if code == "FORBIDDEN" and _PRO_PLAN.search(said):
            raise PermanentError(
                f"{text}; Hashnode's API writes need a Pro plan on the publication since "
                "May 2026: upgrade it in the Hashnode dashboard",
                status=status,
            )
        if code == "FORBIDDEN":
            raise AuthError(
                f"{text}; the token's user may not write to publication {self.opts.publication_id}",
                status=status,
            )
        if code == "NOT_FOUND":
            raise _Gone(text, status=status)
        if code == "INTERNAL_SERVER_ERROR" or status >= 500:
            raise TransientError(text, status=status)
        raise PermanentError(text, status=status)

    def _check(self, post: Post) -> None:
        if post.fields.get("limit_note") or not post.text.strip():
            raise PermanentError(
                "Hashnode: the article's body could not be read, so nothing was posted "
                "(is the file still in the content folder?)"
            )
        if post.length > BODY_LIMIT:
            raise PermanentError(
                f"Hashnode: the body has {post.length} characters, over Herald's "
                f"{BODY_LIMIT} for a cross-post; nothing was posted"
            )

    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        self._check(post)
        body = self.request_body(post, article)
        data = await self._graphql(PUBLISH, body["variables"], "publishPost")
        return _receipt(data, "publishPost")

    async def edit(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        """updatePost with the article's current content."""
        self._check(post)
        data = dict(self.request_body(post, article)["variables"]["input"])
        for unchanged in ("publicationId", "slug"):  # the post's address stays
            data.pop(unchanged, None)
        try:
            answer = await self._graphql(UPDATE, {"input": {"id": ref.post_id, **data}}, "edit")
        except _Gone as e:
            raise PermanentError(f"{e.message}; the post is gone, nothing to edit") from e
        return _receipt(answer, "updatePost")

    async def delete(self, article: Article, ref: Receipt, key: str) -> None:
        """removePost; a post already removed (NOT_FOUND) is done."""
        try:
            await self._graphql(REMOVE, {"input": {"id": ref.post_id}}, "removePost")
        except _Gone as e:
            raise AlreadyDone(e.message, post_id=ref.post_id, url=ref.url) from e

    async def find_existing(self, post: Post, article: Article, key: str) -> Receipt | None:
        """The publication's post for this article: by its slug, then among the newest posts,
        matched by canonical URL."""
        wanted = article.url.rstrip("/")
        variables = {"id": self.opts.publication_id, "slug": article.slug}
        try:
            found = await self._graphql(BY_SLUG, variables, "lookup")
        except _Gone:
            found = {}
        hit = (found.get("publication") or {}).get("post")
        if _is_ours(hit, wanted):
            return Receipt(str(hit["id"]), url=_url(hit))
        after: str | None = None
        for _ in range(LOOKUP_PAGES):
            page_vars = {"id": self.opts.publication_id, "first": LOOKUP_PAGE, "after": after}
            data = await self._graphql(NEWEST, page_vars, "lookup")
            posts = (data.get("publication") or {}).get("posts") or {}
            for edge in posts.get("edges") or []:
                node = edge.get("node") if isinstance(edge, dict) else None
                if _is_ours(node, wanted):
                    return Receipt(str(node["id"]), url=_url(node))
            info = posts.get("pageInfo") or {}
            after = info.get("endCursor")
            if not info.get("hasNextPage") or not after:
                return None
        return None


class _Gone(PermanentError):
    """NOT_FOUND: the post (or publication) does not exist."""


def _is_ours(node: Any, wanted: str) -> TypeGuard[dict[str, Any]]:
    if not isinstance(node, dict) or not node.get("id"):
        return False
    return str(node.get("canonicalUrl") or "").rstrip("/") == wanted


def _url(node: dict[str, Any]) -> str | None:
    url = node.get("url")
    return url if isinstance(url, str) and url else None


def _receipt(data: dict[str, Any], field: str) -> Receipt:
    payload = data.get(field)
    post = payload.get("post") if isinstance(payload, dict) else None
    if not isinstance(post, dict) or not post.get("id"):
        raise UnreadableAnswer(f"Hashnode {field}: HTTP 200 but the answer names no post")
    return Receipt(str(post["id"]), url=_url(post))


CHANNEL = HashnodeChannel  # this module is the `hashnode` type (see channels/registry.py)
