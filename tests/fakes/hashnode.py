"""Loopback emulator of Hashnode's GraphQL API (the operations Herald uses).

Follows the contract of Hashnode's API guide (Hashnode/gql-skill): one endpoint, `POST /` with
`{"query", "variables"}`; errors come as HTTP 200 with `{"errors": [{"message", "extensions":
{"code"}}], "data": null}`. A mutation without a known token (`Authorization`, `Bearer `
optional) is UNAUTHENTICATED; a publication without Pro answers FORBIDDEN "Publication does not
have an active Pro plan. ..." to mutations and publication reads; a user who is not a member of
the publication gets FORBIDDEN. `publishPost` requires title and contentMarkdown, at most 15 tags
with lowercase slugs (BAD_USER_INPUT), makes a slug unique within the publication, and keeps
`originalArticleURL` as the post's `canonicalUrl`. `updatePost`/`removePost` on a missing or
removed post answer NOT_FOUND. A query it does not know is a 400 GRAPHQL_VALIDATION_FAILED, as
Apollo Server answers. `redirect=True` answers every request with the 301 gql.hashnode.com
gives since the paid switch.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.server import FakeService, Reply, Request

PRO_MESSAGE = (
    "Publication does not have an active Pro plan. Upgrade in your dashboard to access this "
    "via the API."
)
_SLUG = re.compile(r"^[a-z0-9-]+$")


@dataclass
class HashPost:
    id: str
    publication: str
    author: str
    title: str
    content: str
    slug: str
    canonical: str | None
    cover: str | None
    tags: list[dict[str, Any]]
    subtitle: str | None = None
    active: bool = True
    updates: int = 0

    def node(self, host: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "slug": self.slug,
            "url": f"https://{host}/{self.slug}",
            "canonicalUrl": self.canonical,
            "title": self.title,
        }


@dataclass
class Publication:
    id: str
    host: str
    members: set[str]
    pro: bool = True
    posts: list[HashPost] = field(default_factory=list)


def _error(message: str, code: str, path: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "extensions": {"code": code}}
    if path:
        error["path"] = [path]
    return {"errors": [error], "data": None}


class FakeHashnode(FakeService):
    """Hashnode GraphQL emulator; `publications` by id, each with its posts."""

    def __init__(self, tokens: dict[str, str] | None = None, *, redirect: bool = False) -> None:
        super().__init__()
        self.tokens = tokens or {"hn-token-good": "alice"}
        self.publications: dict[str, Publication] = {}
        self.ids = (f"{n:024x}" for n in itertools.count(0x6A603FB103E2CB323E785100))
        self.redirect = redirect

    def add_publication(
        self,
        pub_id: str,
        host: str = "blog.hashnode.dev",
        members: tuple[str, ...] = ("alice",),
        pro: bool = True,
    ) -> Publication:
        pub = Publication(pub_id, host, set(members), pro)
        self.publications[pub_id] = pub
        return pub

    def handle(self, req: Request) -> Reply:
        if self.redirect:
            return Reply(301, "", {"Location": "https://hashnode.com/changelog/graphql-paid"})
        if req.method != "POST" or req.path not in ("/", "/graphql"):
            return Reply(404, "Not found")
        try:
            body = req.json()
            query, variables = str(body["query"]), dict(body.get("variables") or {})
        except (ValueError, KeyError, TypeError, AttributeError):
            return Reply(400, _error("POST body missing, invalid or empty", "BAD_REQUEST"))
        raw = req.headers.get("authorization", "")
        token = raw[7:] if raw.lower().startswith("bearer ") else raw
        user = self.tokens.get(token)
        for name, op in (
            ("publishPost", self.publish),
            ("updatePost", self.update),
            ("removePost", self.remove),
        ):
            if f"{name}(" in query:
                if user is None:
                    return Reply(200, _error("You must be logged in", "UNAUTHENTICATED", name))
                return Reply(200, op(user, variables.get("input") or {}))
        if "publication(" in query:
            return Reply(200, self.read(query, variables))
        return Reply(400, _error("Cannot query field on type Query", "GRAPHQL_VALIDATION_FAILED"))

    def _gate(self, pub_id: str, user: str | None, path: str) -> Publication | dict[str, Any]:
        pub = self.publications.get(str(pub_id))
        if pub is None:
            return _error("Publication not found", "NOT_FOUND", path)
        if not pub.pro:
            return _error(PRO_MESSAGE, "FORBIDDEN", path)
        if user is not None and user not in pub.members:
            return _error("You are not allowed to publish in this publication", "FORBIDDEN", path)
        return pub

    def _fields(self, post: HashPost, data: dict[str, Any], path: str) -> dict[str, Any] | None:
        if "title" in data:
            post.title = str(data["title"] or "")
        if "contentMarkdown" in data:
            post.content = str(data["contentMarkdown"] or "")
        if "subtitle" in data:
            post.subtitle = data["subtitle"]
        if "originalArticleURL" in data:
            post.canonical = data["originalArticleURL"] or None
        if "coverImageOptions" in data:
            post.cover = (data["coverImageOptions"] or {}).get("coverImageURL")
        if "tags" in data:
            tags = list(data["tags"] or [])
            if len(tags) > 15:
                return _error("A post can have at most 15 tags", "BAD_USER_INPUT", path)
            for t in tags:
                if not isinstance(t, dict) or not _SLUG.match(str(t.get("slug", ""))):
                    return _error(f"Invalid tag slug: {t!r}", "BAD_USER_INPUT", path)
            post.tags = tags
        if not post.title.strip():
            return _error("Title is required", "BAD_USER_INPUT", path)
        if not post.content.strip():
            return _error("Content is required", "BAD_USER_INPUT", path)
        return None

    def publish(self, user: str, data: dict[str, Any]) -> dict[str, Any]:
        pub = self._gate(data.get("publicationId", ""), user, "publishPost")
        if isinstance(pub, dict):
            return pub
        post = HashPost(next(self.ids), pub.id, user, "", "", "", None, None, [])
        refused = self._fields(post, data, "publishPost")
        if refused:
            return refused
        base = str(data.get("slug") or "") or re.sub(r"[^a-z0-9]+", "-", post.title.lower())
        taken = {p.slug for p in pub.posts if p.active}
        slug, n = base.strip("-"), 1
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        post.slug = slug
        pub.posts.append(post)
        return {"data": {"publishPost": {"post": post.node(pub.host)}}}

    def _find(self, post_id: str) -> tuple[Publication, HashPost] | None:
        for pub in self.publications.values():
            for p in pub.posts:
                if p.id == post_id and p.active:
                    return pub, p
        return None

    def update(self, user: str, data: dict[str, Any]) -> dict[str, Any]:
        found = self._find(str(data.get("id", "")))
        if found is None:
            return _error("Post not found", "NOT_FOUND", "updatePost")
        gated = self._gate(found[0].id, user, "updatePost")
        if isinstance(gated, dict):
            return gated
        pub, post = found
        before = dict(vars(post))
        refused = self._fields(post, data, "updatePost")
        if refused:
            for k, v in before.items():
                setattr(post, k, v)
            return refused
        post.updates += 1
        return {"data": {"updatePost": {"post": post.node(pub.host)}}}

    def remove(self, user: str, data: dict[str, Any]) -> dict[str, Any]:
        found = self._find(str(data.get("id", "")))
        if found is None:
            return _error("Post not found", "NOT_FOUND", "removePost")
        gated = self._gate(found[0].id, user, "removePost")
        if isinstance(gated, dict):
            return gated
        if found[1].author != user:
            return _error("Only the author can remove the post", "FORBIDDEN", "removePost")
        found[1].active = False
        return {"data": {"removePost": {"post": {"id": found[1].id}}}}

    def read(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        pub = self._gate(variables.get("id", ""), None, "publication")
        if isinstance(pub, dict):
            return pub
        active = [p for p in reversed(pub.posts) if p.active]  # newest first
        if "post(slug" in query:
            hit = next((p for p in active if p.slug == variables.get("slug")), None)
            return {"data": {"publication": {"post": hit.node(pub.host) if hit else None}}}
        first = min(int(variables.get("first") or 10), 50)
        start = int(variables.get("after") or 0)
        chunk = active[start : start + first]
        end = start + len(chunk)
        return {
            "data": {
                "publication": {
                    "posts": {
                        "edges": [
                            {"node": p.node(pub.host), "cursor": str(start + i + 1)}
                            for i, p in enumerate(chunk)
                        ],
                        "pageInfo": {"hasNextPage": end < len(active), "endCursor": str(end)},
                    }
                }
            }
        }

    # -- for tests
    def posts(self, pub_id: str, active: bool = True) -> list[HashPost]:
        return [p for p in self.publications[pub_id].posts if p.active or not active]
