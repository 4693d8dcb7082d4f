"""The one small interface every channel adapter implements.

An adapter turns an Article into a Post (`render`, pure, no network) and delivers a Post
(`send`), returning a Receipt or raising one of the DeliveryError classes from `bot.errors`.
Adapters never touch the sent-log or the content folder.

`key` is the delivery's stable key, chosen once per (article, channel) before the first attempt
and kept in the sent-log: a 13-character AT Protocol TID (`[2-7a-z]`), so it can serve as a
Mastodon Idempotency-Key, a Bluesky record key and a webhook-id alike.
"""

from __future__ import annotations

import copy
import enum
import functools
import inspect
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, Self, TypeVar, cast
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, SecretStr

from bot.channels.network import Network as Network  # each network's options.py subclasses it
from bot.channels.network import lazy_exports as lazy_exports
from bot.config import ChannelConfig
from bot.config import ChannelOptions as ChannelOptions  # the adapters subclass it
from bot.models import Article, Post, Receipt

if TYPE_CHECKING:  # loading a config needs no HTTP stack, nor marketing.view (methods load it)
    import httpx


def announcement(article: Article) -> dict[str, object]:
    """The article as receivers of the outbox and webhooks get it (JSON-ready)."""
    return {
        "id": article.id,
        "title": article.title,
        "subtitle": article.subtitle,
        "description": article.description,
        "cta": article.cta,
        "url": article.url,
        "image": article.image,
        "author": article.author,
        "tags": list(article.tags),
        "published": article.published.isoformat(),
    }


class Recovery(enum.StrEnum):
    """What the engine may do with a delivery left `sending` by a process that died."""

    IDEMPOTENT = "idempotent"  # re-send: the network de-duplicates by our key
    LOOKUP = "lookup"  # ask the network (find_existing) before re-sending
    NONE = "none"  # cannot know: mark `unknown`, re-send only on `retry --force`


_HTTP_URL = re.compile(r"^https?://[^/\s]+")


def absolute_http_url(value: str) -> str:
    """An option that must be an absolute http(s) URL, without a trailing slash."""
    if not _HTTP_URL.match(value):
        raise ValueError("must be an absolute http(s) URL such as https://api.example.com")
    return value.rstrip("/")


HttpUrl = Annotated[str, AfterValidator(absolute_http_url)]


def secret_values(model: BaseModel) -> list[str]:
    """The secret strings of an options model: each SecretStr and, for a secret URL, its
    query, path and each path segment long enough to identify it."""
    out: list[str] = []
    for name in type(model).model_fields:
        value = getattr(model, name, None)  # preview builds options without secrets
        values = value if isinstance(value, list | tuple) else [value]
        for v in values:
            if isinstance(v, SecretStr):
                out.extend(_secret_parts(v.get_secret_value()))
            elif isinstance(v, BaseModel):
                out.extend(secret_values(v))
    return [s for s in dict.fromkeys(out) if s]


def _secret_parts(secret: str) -> list[str]:
    """A secret URL's secret is its path and query (its scheme and host are public)."""
    if not _HTTP_URL.match(secret):
        return [secret]
    split = urlsplit(secret)
    parts = [split.path + (f"?{split.query}" if split.query else ""), split.query]
    parts += split.path.split("/") + [p.partition("=")[2] for p in split.query.split("&")]
    return [p for p in parts if len(p) >= 8]


@dataclass(frozen=True)
class CardStyle:
    """How the preview page draws this network's post: the network's shown name, its brand and
    link colours, and how its text is marked up: "plain", "markdown" (`**bold**` shown bold) or
    "html" (only `html_tags` kept, sanitised)."""

    name: str = ""
    colour: str = "#64748B"
    link: str = "#2563EB"
    markup: str = "plain"
    html_tags: frozenset[str] = frozenset()


ImageFetcher = Callable[[str], Awaitable["Image | None"]]


@dataclass(frozen=True, slots=True)
class Image:
    """A fetched hero image."""

    url: str
    content: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class Comment:
    """A public reply under a post, as the network shows it. `html` is the network's markup
    (HTML on Mastodon) or None when `text` is plain; both are sanitised before they are shown."""

    author: str
    handle: str
    avatar: str | None
    text: str
    html: str | None
    url: str | None
    published: str  # ISO 8601


BodyLoader = Callable[[Article], "str | None"]


@dataclass(frozen=True)
class ChannelContext:
    """What the engine hands every adapter: the shared HTTP client, the image fetcher and,
    for the channels that post the whole article (`whole_article`), the reader of an article's
    Markdown body (`content.article.markdown_body` bound to the content rules; None: absent)."""

    http: httpx.AsyncClient
    fetch_image: ImageFetcher
    load_body: BodyLoader | None = None


OptionsT = TypeVar("OptionsT", bound=ChannelOptions)

# The methods that take an article: each adapter's own is wrapped (Channel.__init_subclass__)
# so it gets the article as its channel posts it (bot.channels.marketing.view.posted); the
# two that fill the template also get the article's own `social.text` for this channel.
_ARTICLE_METHODS = frozenset(
    {
        "render",
        "refit",
        "send",
        "request_body",
        "attached_image",
        "find_existing",
        "edit",
        "reply",
        "delete",
    }
)
_TEMPLATED = frozenset({"render", "refit"})


def _as_posted(method: Callable[..., Any], templated: bool) -> Callable[..., Any]:
    """`method` given the posted article in place of the article (and, for `templated`, run
    on a copy of the channel whose template is the article's own text, when it has one)."""
    if getattr(method, "_posted", False):
        return method

    def arguments(self: Channel[Any], args: tuple[Any, ...], kw: dict[str, Any]) -> Any:
        args = tuple(self.posted(a) if isinstance(a, Article) else a for a in args)
        kw = {k: self.posted(v) if isinstance(v, Article) else v for k, v in kw.items()}
        target = self
        if templated:
            article = next((a for a in (*args, *kw.values()) if isinstance(a, Article)), None)
            if article is not None:
                target = self.for_article(article)
        return target, args, kw

    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def run_async(self: Channel[Any], *args: Any, **kw: Any) -> Any:
            target, args, kw = arguments(self, args, kw)
            return await method(target, *args, **kw)

        run_async._posted = True  # type: ignore[attr-defined]
        return run_async

    @functools.wraps(method)
    def run(self: Channel[Any], *args: Any, **kw: Any) -> Any:
        target, args, kw = arguments(self, args, kw)
        return method(target, *args, **kw)

    run._posted = True  # type: ignore[attr-defined]
    return run


class Channel(Network, ABC, Generic[OptionsT]):
    """Base class of the adapters: `class XChannel(Channel[XOptions])` sets the class
    attributes and two methods; `self.opts` is its validated options."""

    type_name: ClassVar[str]
    recovery: ClassVar[Recovery] = Recovery.NONE
    # how a doubt about another new post on the network (a reply under the post, a reshare)
    # is settled: IDEMPOTENT where the network de-duplicates it by the operation's key
    keyed_recovery: ClassVar[Recovery] = Recovery.NONE
    card: ClassVar[CardStyle] = CardStyle()  # the preview page's look of this network
    default_template: ClassVar[str] = "{title}\n\n{description}\n\n{cta}\n\n{url}"
    correction_template: ClassVar[str] = "Updated: {title}\n\n{url}"
    retraction_template: ClassVar[str] = "This article has been withdrawn: {title}"
    # posts the article's whole body (read through `context.load_body`): a change of the body
    # alone (the store's `body_sig`) is a change of the post, to be edited like a title change
    whole_article: ClassVar[bool] = False

    # the channels.yaml entry (utm, image_alt, ...) and bot.yaml's site defaults, set by
    # registry.build_channels; None for an adapter made by hand (no marketing controls)
    config: ChannelConfig | None = None
    _own_template = False  # render_with's copy: its template is not the article's to replace

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in _ARTICLE_METHODS & cls.__dict__.keys():
            setattr(cls, name, _as_posted(cls.__dict__[name], name in _TEMPLATED))

    def __init__(
        self, name: str, options: ChannelOptions, context: ChannelContext, template: str | None
    ) -> None:
        self.name = name
        self.options = options
        self.opts = cast(OptionsT, options)
        self.context = context
        self.template = template or self.default_template
        self.can = type(self).capabilities(options)

    # ------------------------------------------------------------------ marketing controls
    def posted(self, article: Article) -> Article:
        """The article as this channel posts it: UTM on its link, its extra hashtags, a
        generated card for its missing hero image (bot/channels/marketing/view.py)."""
        from bot.channels.marketing import view

        return view.posted(article, self.config, self.type_name)

    def for_article(self, article: Article) -> Channel[OptionsT]:
        """This channel, or a copy whose template is the article's own `social.text`."""
        if self._own_template:
            return self
        from bot.channels.marketing import view

        text = view.template_for(article, self.name, self.type_name)
        if text is None or text == self.template:
            return self
        return self.with_template(text)

    def with_template(self, template: str) -> Self:
        """A copy of this channel posting with another template, which the article's own
        `social.text` does not replace (a correction, a retraction note, a first comment)."""
        other = copy.copy(self)
        other.template = template
        other._own_template = True
        return other

    def alt_text(self, article: Article, fallback: str = "{title}") -> str:
        """The image's alt text: `social.image_alt`, else the channel's `image_alt`, else
        `fallback` (a template)."""
        from bot.channels.marketing import view

        return view.alt_text(article, self.config, fallback)

    def language(self, article: Article, option: str | None = None) -> str | None:
        """The post's language: `social.lang`, else `option`, else `site.language`."""
        from bot.channels.marketing import view

        return view.language(article, self.config, option)

    def content_warning(self, article: Article, option: str | None = None) -> str | None:
        """`social.content_warning`, else `option`."""
        from bot.channels.marketing import view

        return view.content_warning(article, option)

    @abstractmethod
    def render(self, article: Article) -> Post:
        """The post for this article as this network will show it; no network call."""

    def render_with(self, template: str, article: Article) -> Post:
        """The article rendered with another template (a correction, a retraction note, a
        first comment), fitted and counted like the post itself."""
        return self.with_template(template).render(article)

    def refit_with(self, template: str, post: Post, article: Article, refusal: str) -> Post | None:
        """`refit` for a post rendered by `render_with(template, ...)`: fitted again with the
        same template."""
        return self.with_template(template).refit(post, article, refusal)

    def default_on_update(self) -> str:
        """`on_update` when the channel does not set it: edit where this channel can."""
        return "edit" if "edit" in self.can else "ignore"

    def default_on_retract(self) -> str:
        """`on_retract` when the channel does not set it: delete where this channel can."""
        return "delete" if "delete" in self.can else "ignore"

    def request_body(self, post: Post, article: Article) -> dict[str, Any]:
        """The JSON body `send` posts for `post`, built without a network call. `send` uses
        it as it is and only adds what needs a request first (uploaded media ids, an image
        blob, a session's account id, the creation time); the preview card is drawn from it, so
        what the preview shows is what is sent."""
        return {"text": post.text}

    def attached_image(self, post: Post, article: Article) -> str | None:
        """The image URL `send` would fetch, upload and attach (media or card thumbnail);
        None when it attaches none or the network fetches the image itself from the body."""
        return None

    def preview_identity(self) -> dict[str, str]:
        """Who the post appears from, as far as the options say (no secret, no request):
        `name`, `handle`, `avatar` (URL); empty when the network decides (webhooks)."""
        return {}

    @abstractmethod
    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        """Deliver the post; return the network's id and URL or raise a DeliveryError."""

    def refit(self, post: Post, article: Article, refusal: str) -> Post | None:
        """After the network refused `post` as too long: the post fitted again with the
        strictest reading of the network's rules (every URL at full length, a safety margin),
        URL and call-to-action kept; None when it cannot be made shorter."""
        return None

    def credentials(self) -> list[str]:
        """Every secret this channel holds (tokens, passwords, secret webhook URLs and their
        path segments), so foreign text can be scrubbed of them before it is shown."""
        return secret_values(self.options)

    async def find_existing(self, post: Post, article: Article, key: str) -> Receipt | None:
        """For Recovery.LOOKUP channels: the post if the network already has it, else None."""
        raise NotImplementedError

    # ------------------------------------------------------------------ the post's lifecycle
    # Each takes the post as the sent-log holds it (`ref`: the id and URL `send` returned) and
    # the operation's own key; each raises the DeliveryError classes as `send` does. A post the
    # network no longer has raises AlreadyDone for `delete` (it is gone: done) and
    # PermanentError for `edit` and `reply`.

    async def edit(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        """Change the post in place to `post` (only when "edit" is in `can`)."""
        raise NotImplementedError(f"{self.type_name} posts cannot be edited")

    async def reply(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        """Post `post` as a reply under the post `ref` (only when "reply" is in `can`); `key`
        de-duplicates the reply where the network takes one, as for `send`."""
        raise NotImplementedError(f"{self.type_name} posts cannot be answered")

    async def delete(self, article: Article, ref: Receipt, key: str) -> None:
        """Remove the post `ref` (only when "delete" is in `can`); for event channels
        (webhook, outbox) record the retraction instead."""
        raise NotImplementedError(f"{self.type_name} posts cannot be deleted")

    # ------------------------------------------------------------------ what comes back
    # Networks that let an account read its own posts' counts and public replies without more
    # permissions put "reactions" (and "comments") in `can`.

    async def reactions(self, ref: Receipt) -> dict[str, int]:
        """The post's counts: any of `replies`, `reposts`, `likes` the network gives."""
        raise NotImplementedError(f"{self.type_name} does not give reactions")

    async def comments(self, ref: Receipt) -> list[Comment]:
        """The public direct replies under the post, oldest first (at most a page)."""
        raise NotImplementedError(f"{self.type_name} does not give replies")

    async def aclose(self) -> None:
        """Release anything the adapter holds (sessions); the HTTP client is not its own."""
        return None
