"""Loopback emulator of dev.to's Forem API v1 articles endpoints.

Follows Forem's contract (app/controllers/api/v1, app/models/article.rb): `api-key` header
(unknown or missing: 401 `{"error": "unauthorized", "status": 401}`); `POST /api/articles` with
`{"article": {...}}` -> 201 and the article; `PUT /api/articles/{id}` -> 200 (another user's or
a missing article: 404 `{"error": "not found", "status": 404}`); `GET /api/articles/me/all`
(published and drafts, `per_page`, `page`). Validation refusals are 422 `{"error": sentence,
"status": 422}`: title required and at most 128 characters, at most 4 tags each alphanumeric and
at most 30 characters, `canonical_url` unique across the site, `body_markdown` unique per user
and title, `main_image` an http(s) URL. `create_limit` creations per window answer 429 with
`Retry-After` like Forem's rate limiter.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.server import FakeService, Reply, Request

_ARTICLE = re.compile(r"^/api/articles/(\d+)$")
_TAG = re.compile(r"^[a-z0-9]+$")
_URL = re.compile(r"^https?://[^\s/]+")


@dataclass
class DevArticle:
    id: int
    user: str
    title: str
    body_markdown: str
    published: bool
    canonical_url: str | None
    main_image: str | None
    description: str
    tags: list[str]
    slug: str
    series: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)  # every body received

    def url(self) -> str:
        return f"https://dev.to/{self.user}/{self.slug}"

    def shown(self) -> dict[str, Any]:
        return {
            "type_of": "article",
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "slug": self.slug,
            "path": f"/{self.user}/{self.slug}",
            "url": self.url(),
            "canonical_url": self.canonical_url or self.url(),
            "published": self.published,
            "body_markdown": self.body_markdown,
            "tag_list": self.tags,
            "tags": ", ".join(self.tags),
            "main_image": self.main_image,
        }


class FakeDevto(FakeService):
    """dev.to emulator; `articles` holds what was created, by id."""

    def __init__(
        self, keys: dict[str, str] | None = None, *, create_limit: int = 9, window: float = 30.0
    ) -> None:
        super().__init__()
        self.keys = keys or {"devto-key-good": "alice"}
        self.articles: dict[int, DevArticle] = {}
        self.ids = itertools.count(1_000_001)
        self.create_limit = create_limit
        self.window = window
        self.created_at: list[float] = []

    # -- the contract
    def handle(self, req: Request) -> Reply:
        user = self.keys.get(req.headers.get("api-key", ""))
        if user is None:
            return Reply(
                401, {"error": "unauthorized", "status": 401}, {"Cache-Control": "no-store"}
            )
        if req.method == "POST" and req.path == "/api/articles":
            return self.create(user, req)
        m = _ARTICLE.match(req.path)
        if req.method == "PUT" and m:
            return self.update(user, int(m.group(1)), req)
        if req.method == "GET" and req.path == "/api/articles/me/all":
            return self.mine(user, req)
        return Reply(404, {"error": "not found", "status": 404})

    def _params(self, req: Request) -> dict[str, Any] | Reply:
        try:
            data = req.json()
        except ValueError:
            return Reply(400, {"error": "JSON parse error", "status": 400})
        article = data.get("article") if isinstance(data, dict) else None
        if not isinstance(article, dict):
            kind = type(article).__name__ if article is not None else "NilClass"
            return Reply(
                422, {"error": f"article param must be a JSON object. You provided {kind}"}
            )
        return article

    def create(self, user: str, req: Request) -> Reply:
        now = time.monotonic()
        self.created_at = [t for t in self.created_at if now - t < self.window]
        if len(self.created_at) >= self.create_limit:
            wait = int(self.window - (now - self.created_at[0])) + 1
            return Reply(
                429,
                {"error": f"Rate limit reached, try again in {wait} seconds", "status": 429},
                {"Retry-After": str(wait)},
            )
        params = self._params(req)
        if isinstance(params, Reply):
            return params
        article = DevArticle(
            id=next(self.ids),
            user=user,
            title="",
            body_markdown="",
            published=False,
            canonical_url=None,
            main_image=None,
            description="",
            tags=[],
            slug="",
        )
        refused = self.apply(article, params)
        if refused:
            return refused
        self.created_at.append(now)
        self.articles[article.id] = article
        return Reply(201, article.shown(), {"Location": article.url()})

    def update(self, user: str, article_id: int, req: Request) -> Reply:
        article = self.articles.get(article_id)
        if article is None or article.user != user:
            return Reply(404, {"error": "not found", "status": 404})
        params = self._params(req)
        if isinstance(params, Reply):
            return params
        before = dict(vars(article))
        refused = self.apply(article, params)
        if refused:
            for k, v in before.items():
                setattr(article, k, v)
            return refused
        return Reply(200, article.shown())

    def apply(self, article: DevArticle, params: dict[str, Any]) -> Reply | None:
        """Set the given fields and validate like Forem; the 422 answer, or None."""
        article.history.append(dict(params))
        for key in ("title", "body_markdown", "description", "series"):
            if key in params:
                setattr(article, key, str(params[key] or ""))
        if "published" in params:
            article.published = bool(params["published"])
        if "canonical_url" in params:
            article.canonical_url = params["canonical_url"] or None
        if "main_image" in params:
            article.main_image = params["main_image"] or None
        if "tags" in params:
            tags = params["tags"]
            if isinstance(tags, str):
                tags = [t.strip() for t in tags.split(",")]
            article.tags = [str(t).lower() for t in tags or []]
        errors: list[str] = []
        if not article.title:
            errors.append("Title can't be blank")
        elif len(article.title) > 128:
            errors.append("Title is too long (maximum is 128 characters)")
        if len(article.tags) > 4:
            errors.append("Tag list exceed the maximum of 4 tags")
        for tag in article.tags:
            if not _TAG.match(tag):
                errors.append(f'Tag "{tag}" contains non-alphanumeric characters')
            if len(tag) > 30:
                errors.append(f'Tag "{tag}" is too long (maximum is 30 characters)')
        if article.canonical_url and not _URL.match(article.canonical_url):
            errors.append("Canonical url is not a valid URL")
        if article.main_image and not _URL.match(article.main_image):
            errors.append("Main image is not a valid URL")
        for other in self.articles.values():
            if other.id == article.id:
                continue
            if article.canonical_url and other.canonical_url == article.canonical_url:
                errors.append("Canonical url has already been taken")
            if (other.user, other.title, other.body_markdown) == (
                article.user,
                article.title,
                article.body_markdown,
            ):
                errors.append("Body markdown has already been taken")
        if errors:
            return Reply(422, {"error": " and ".join(errors), "status": 422})
        if not article.slug or (article.published and "-temp-slug-" in article.slug):
            base = re.sub(r"[^a-z0-9]+", "-", article.title.lower()).strip("-")
            suffix = f"{article.id % 9973:x}"
            article.slug = f"{base}-{suffix}" if article.published else f"{base}-temp-slug-{suffix}"
        return None

    def mine(self, user: str, req: Request) -> Reply:
        per_page = min(int((req.query.get("per_page") or ["30"])[0]), 1000)
        page = max(int((req.query.get("page") or ["1"])[0]), 1)
        own = sorted((a for a in self.articles.values() if a.user == user), key=lambda a: -a.id)
        chunk = own[(page - 1) * per_page : page * per_page]
        return Reply(200, [a.shown() for a in chunk])

    # -- for tests
    def by_canonical(self, url: str) -> list[DevArticle]:
        return [a for a in self.articles.values() if a.canonical_url == url]
