"""Loopback emulator of LinkedIn's versioned Posts API and Images API upload flow.

Enforces: Bearer token, `LinkedIn-Version` (YYYYMM, active set), `X-Restli-Protocol-Version`,
the post body (author URN, visibility, distribution, lifecycleState, article card, known
thumbnail), commentary ≤ 3000 characters, 422 DUPLICATE_POST for a repeated post. Like LinkedIn,
it silently cuts the commentary at the first unescaped little-format reserved character and
records `truncated=True` so tests can assert escaping.

After the post, each naming it by its URL-encoded URN in the path (a raw `urn:li:...` is a
400): `GET /rest/posts/{urn}` (the post; 404 when unknown or deleted), `POST /rest/posts/{urn}`
with `X-RestLi-Method: PARTIAL_UPDATE` and `{"patch": {"$set": {"commentary"}}}` (204; only
the commentary may be set; same length and little-format rules), `DELETE /rest/posts/{urn}`
(204, also for a post already gone: LinkedIn's deletes are idempotent), and
`POST /rest/socialActions/{urn}/comments` (`{actor, object, message: {text}}`, 201 with the
comment and `x-restli-id`; 404 on a gone post). `fake.live(urn)` is a post still there with
its `edits` (earlier commentaries) and `comments`.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import unquote

from tests.fakes.server import FakeService, Reply, Request

RESERVED = set("\\|{}@[]()<>#*_~")
HASHTAG_MARKUP = re.compile(r"\{hashtag\|\\#\|([^{}|\\]+)\}")
URN = re.compile(r"^urn:li:(person|organization):[A-Za-z0-9_-]+$")
MAX_COMMENTARY = 3000


@dataclass
class LinkedInPost:
    urn: str
    author: str
    commentary: str  # as received
    shown: str  # the text as LinkedIn would display it (unescaped, possibly cut)
    truncated: bool
    hashtags: list[str]
    visibility: str
    article: dict[str, Any]
    body: dict[str, Any] = field(repr=False, default_factory=dict)
    edits: list[str] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False


def read_little(commentary: str) -> tuple[str, bool, list[str]]:
    """Display text, whether it was cut at an unescaped reserved char, and hashtags found."""
    out: list[str] = []
    tags: list[str] = []
    i = 0
    while i < len(commentary):
        ch = commentary[i]
        if ch == "{":
            m = HASHTAG_MARKUP.match(commentary, i)
            if m:
                out.append("#" + m.group(1))
                tags.append(m.group(1))
                i = m.end()
                continue
        if ch == "\\":
            if i + 1 < len(commentary) and commentary[i + 1] in RESERVED:
                out.append(commentary[i + 1])
                i += 2
                continue
            return "".join(out), True, tags
        if ch in RESERVED:
            return "".join(out), True, tags
        out.append(ch)
        i += 1
    return "".join(out), False, tags


def supported_versions(today: date | None = None) -> tuple[str, ...]:
    """The versions LinkedIn keeps active: the last twelve months' (released monthly)."""
    today = today or datetime.now(UTC).date()
    now = today.year * 12 + today.month - 1
    return tuple(f"{m // 12:04d}{m % 12 + 1:02d}" for m in range(now - 11, now + 1))


class FakeLinkedIn(FakeService):
    """LinkedIn REST emulator; `posts` and `images` record what was created."""

    def __init__(
        self,
        token: str = "li-token-good",
        authors: tuple[str, ...] = ("urn:li:person:AbC123",),
        active_versions: tuple[str, ...] | None = None,
        *,
        strict_length: bool = False,
    ) -> None:
        """`strict_length=True`: the commentary's 3000 counts UTF-16 code units (astral
        characters count 2) and a longer one gets LinkedIn's real 400 refusal."""
        super().__init__()
        self.strict_length = strict_length
        self.token = token
        self.authors = set(authors)
        # LinkedIn's rule: each monthly version is active for about a year after its release
        self.active_versions = set(active_versions or supported_versions())
        self.posts: list[LinkedInPost] = []
        self.images: dict[str, bytes | None] = {}  # image URN -> uploaded bytes (None: waiting)
        self.upload_auth: list[str | None] = []  # Authorization header seen on each upload PUT
        self._ids = itertools.count(7412345678901234567)
        self._uploads: dict[str, str] = {}  # upload path -> image URN

    # -- helpers
    @staticmethod
    def error(status: int, message: str, code: str | None = None, **extra: Any) -> Reply:
        body: dict[str, Any] = {"status": status, "message": message, **extra}
        if code:
            body["code"] = code
        return Reply(status, body)

    def _check_headers(self, req: Request) -> Reply | None:
        if req.headers.get("authorization") != f"Bearer {self.token}":
            return self.error(401, "Invalid access token", serviceErrorCode=65600)
        version = req.headers.get("linkedin-version")
        if not version or not re.fullmatch(r"\d{6}", version):
            return self.error(
                400,
                "A version must be present. Please specify a version by adding the "
                "LinkedIn-Version header.",
                "VERSION_MISSING",
            )
        if version not in self.active_versions:
            return self.error(
                426, f"Requested version {version} is not active", "NONEXISTENT_VERSION"
            )
        if req.headers.get("x-restli-protocol-version") != "2.0.0":
            return self.error(400, "X-Restli-Protocol-Version 2.0.0 is required")
        return None

    # -- routes
    def handle(self, req: Request) -> Reply:
        if req.method == "PUT" and req.path in self._uploads:
            return self._upload(req)
        denied = self._check_headers(req)
        if denied:
            return denied
        if req.method == "POST" and req.path == "/rest/posts":
            return self._create_post(req)
        one = re.fullmatch(r"/rest/(posts|socialActions)/([^/]+)(/comments)?", req.path)
        if one and (one.group(1) == "posts") != bool(one.group(3)):
            if ":" in one.group(2):
                return self.error(400, "Syntax exception in path variables", "ILLEGAL_ARGUMENT")
            return self._one_post(req, unquote(one.group(2)), bool(one.group(3)))
        if (
            req.method == "POST"
            and req.path == "/rest/images"
            and req.query.get("action") == ["initializeUpload"]
        ):
            return self._initialize_upload(req)
        return self.error(404, f"No resource for {req.method} {req.path}")

    def live(self, urn: str) -> LinkedInPost | None:
        with self.lock:
            return next((p for p in self.posts if p.urn == urn and not p.deleted), None)

    def _one_post(self, req: Request, urn: str, comments: bool) -> Reply:
        method = req.headers.get("x-restli-method", "").upper()
        post = self.live(urn)
        if req.method == "DELETE":
            if post is not None:
                post.deleted = True
            return Reply(204)  # idempotent: a post already gone is deleted too
        if post is None:
            return self.error(404, f"Not Found: {urn}", "NOT_FOUND")
        if req.method == "GET":
            return Reply(200, {**post.body, "id": post.urn, "commentary": post.commentary})
        if comments:
            return self._comment(req, post)
        if method != "PARTIAL_UPDATE":
            return self.error(400, "X-RestLi-Method PARTIAL_UPDATE is required for an update")
        patch = ((req.json() or {}).get("patch") or {}).get("$set")
        if not isinstance(patch, dict) or set(patch) - {"commentary", "contentCallToActionLabel"}:
            return self.error(422, "/patch/$set: only commentary may be updated", "FIELD_INVALID")
        commentary = patch.get("commentary")
        if not isinstance(commentary, str):
            return self.error(422, "/patch/$set/commentary must be a string", "FIELD_MISSING")
        if len(commentary) > MAX_COMMENTARY:
            message = f"/commentary: length {len(commentary)} exceeds {MAX_COMMENTARY}"
            return self.error(422, message, "FIELD_LENGTH_TOO_LONG")
        with self.lock:
            post.edits.append(post.commentary)
            post.commentary = commentary
            post.shown, post.truncated, post.hashtags = read_little(commentary)
        return Reply(204)

    def _comment(self, req: Request, post: LinkedInPost) -> Reply:
        body = req.json() or {}
        text = (body.get("message") or {}).get("text")
        if body.get("actor") not in self.authors:
            return self.error(403, f"Not enough permissions to comment as {body.get('actor')}")
        if body.get("object") != post.urn:
            return self.error(422, "/object must be the post the comments belong to")
        if not isinstance(text, str) or not text.strip():
            return self.error(422, "/message/text is required", "FIELD_MISSING")
        with self.lock:
            number = next(self._ids)
            urn = f"urn:li:comment:({post.urn},{number})"
            comment = {
                "id": str(number),
                "$URN": urn,
                "actor": body["actor"],
                "message": {"text": text},
            }
            post.comments.append(comment)
        return Reply(201, {**comment, "object": post.urn}, {"x-restli-id": urn})

    def _initialize_upload(self, req: Request) -> Reply:
        owner = ((req.json() or {}).get("initializeUploadRequest") or {}).get("owner")
        if not isinstance(owner, str) or not URN.match(owner):
            return self.error(
                400, "initializeUploadRequest.owner must be a person or organization URN"
            )
        n = next(self._ids)
        urn = f"urn:li:image:C4E10AQF{n}"
        path = f"/dms-uploads/{n}/uploaded-image/0"
        with self.lock:
            self.images[urn] = None
            self._uploads[path] = urn
        return Reply(
            200,
            {
                "value": {
                    "uploadUrl": self.url + path,
                    "uploadUrlExpiresAt": 1_900_000_000_000,
                    "image": urn,
                }
            },
        )

    def _upload(self, req: Request) -> Reply:
        if not req.body:
            return self.error(400, "empty upload")
        with self.lock:
            self.upload_auth.append(req.headers.get("authorization"))
            self.images[self._uploads[req.path]] = req.body
        return Reply(201)

    def _create_post(self, req: Request) -> Reply:
        try:
            body = req.json()
        except ValueError:
            return self.error(400, "Malformed JSON")
        if not isinstance(body, dict):
            return self.error(400, "Body must be an object")
        author = body.get("author")
        if not isinstance(author, str) or not URN.match(author):
            return self.error(422, f"/author: invalid URN {author!r}", "FIELD_VALUE_INVALID")
        if author not in self.authors:
            return self.error(403, f"Not enough permissions to post as {author}", "ACCESS_DENIED")
        commentary = body.get("commentary")
        if not isinstance(commentary, str):
            return self.error(422, "/commentary is required", "FIELD_MISSING")
        units = len(commentary.encode("utf-16-le")) // 2
        if self.strict_length and units > MAX_COMMENTARY:
            return self.error(
                400,
                "com.linkedin.content.common.exception.BadRequestResponseException: "
                f"ShareCommentary text length ({units} characters) exceeded the maximum "
                f"allowed ({MAX_COMMENTARY} characters)",
                errorDetailType="com.linkedin.common.error.BadRequest",
                errorDetails={
                    "inputErrors": [
                        {
                            "description": "Size of array cannot be higher than the maxLength",
                            "code": "FIELD_ARRAY_SIZE_TOO_HIGH",
                            "maxLength": MAX_COMMENTARY,
                        }
                    ]
                },
            )
        if len(commentary) > MAX_COMMENTARY:
            return self.error(
                422,
                f"/commentary: length {len(commentary)} exceeds {MAX_COMMENTARY}",
                "FIELD_LENGTH_TOO_LONG",
            )
        if body.get("visibility") not in ("PUBLIC", "CONNECTIONS", "LOGGED_IN"):
            return self.error(422, "/visibility is invalid", "FIELD_VALUE_INVALID")
        if (body.get("distribution") or {}).get("feedDistribution") != "MAIN_FEED":
            return self.error(422, "/distribution/feedDistribution must be MAIN_FEED")
        if body.get("lifecycleState") != "PUBLISHED":
            return self.error(422, "/lifecycleState must be PUBLISHED")
        article = (body.get("content") or {}).get("article")
        if article is not None:
            if not isinstance(article.get("source"), str) or not isinstance(
                article.get("title"), str
            ):
                return self.error(422, "/content/article needs source and title", "FIELD_MISSING")
            thumb = article.get("thumbnail")
            if thumb is not None and self.images.get(thumb) is None:
                return self.error(422, f"/content/article/thumbnail: image {thumb} is not uploaded")
        shown, truncated, tags = read_little(commentary)
        with self.lock:
            for earlier in self.posts:
                if (
                    not earlier.deleted
                    and earlier.author == author
                    and earlier.commentary == commentary
                    and earlier.article == (article or {})
                ):
                    return Reply(
                        422,
                        {
                            "errorDetailType": "com.linkedin.common.error.BadRequest",
                            "message": (
                                f"ERROR :: /commentary :: Content is a duplicate of {earlier.urn}"
                            ),
                            "errorDetails": {
                                "inputErrors": [
                                    {
                                        "description": "Duplicate post is detected",
                                        "input": {},
                                        "code": "DUPLICATE_POST",
                                    }
                                ]
                            },
                            "status": 422,
                        },
                    )
            urn = f"urn:li:share:{next(self._ids)}"
            self.posts.append(
                LinkedInPost(
                    urn=urn,
                    author=author,
                    commentary=commentary,
                    shown=shown,
                    truncated=truncated,
                    hashtags=tags,
                    visibility=body["visibility"],
                    article=article or {},
                    body=body,
                )
            )
        return Reply(201, b"", {"x-restli-id": urn, "x-linkedin-id": urn})
