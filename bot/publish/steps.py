"""What one sent-log row does on its network: the post it renders, the channel call that does
it, how a doubt about it is settled, and what its success changes in the sent-log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from bot.channel_config import ChannelConfig, ReshareSettings
from bot.channels.base import Channel, Recovery
from bot.channels.compose import RESHARE_COUNT
from bot.models import Article, Operation, Post, Receipt
from bot.store import Delivery, text_hash
from bot.store.operations import Operations
from bot.store.schema import deliveries

OP = Operation
# how the log says an operation's success
DONE = {
    OP.POST: "sent",
    OP.RESHARE: "reshared",
    OP.EDIT: "edited",
    OP.CORRECT: "replied with a correction to",
    OP.DELETE: "deleted",
    OP.RETRACT_NOTE: "replied with a retraction note to",
    OP.COMMENT: "posted the first comment under",
}


Refit = Callable[[Post, str], "Post | None"]


@dataclass(frozen=True)
class Step:
    """One row's action: `post` as rendered, `act(post)` calls the network, `refit(post,
    refusal)` fits it again with the same template after a refusal as too long (None: it
    cannot be shortened)."""

    post: Post
    act: Callable[[Post], Awaitable[Receipt]]
    recovery: Recovery
    refit: Refit | None


def recovery_of(ch: Channel[Any], op: Operation) -> Recovery:
    """How a doubt about this operation is settled. An edit or a delete done twice is done
    once (the same content, a post already gone), so it is simply repeated; a reply or a
    reshare is repeated only where the network de-duplicates it by key (`keyed_recovery`): it
    cannot be looked up apart from the post it answers or repeats."""
    if op in (OP.EDIT, OP.DELETE):
        return Recovery.IDEMPOTENT
    if op == OP.POST or ch.recovery == Recovery.IDEMPOTENT:
        return ch.recovery
    return ch.keyed_recovery


def reply_template(cc: ChannelConfig, ch: Channel[Any], op: Operation, article: Article) -> str:
    """The template of a reply-like operation: the channel's, else the network's default;
    a first comment from the article's `social:` wins over the channel's."""
    if op == OP.CORRECT:
        return cc.correction_template or ch.correction_template
    if op == OP.RETRACT_NOTE:
        return cc.retraction_template or ch.retraction_template
    social = article.social.get("first_comment")
    if isinstance(social, str) and social.strip():
        return social
    return cc.first_comment or ""


def wants_comment(cc: ChannelConfig, ch: Channel[Any], article: Article) -> bool:
    """A first comment goes under this article's post on this channel."""
    return "reply" in ch.can and bool(reply_template(cc, ch, OP.COMMENT, article))


def step_for(
    d: Delivery, parent: Delivery | None, cc: ChannelConfig, ch: Channel[Any], article: Article
) -> Step:
    """The step of a claimed row (raises what rendering raises: nothing was sent)."""
    op = d.op
    recovery = recovery_of(ch, op)

    def refit(p: Post, refusal: str) -> Post | None:
        return ch.refit(p, article, refusal)

    if op == OP.POST:
        return Step(ch.render(article), lambda p: ch.send(p, article, d.key), recovery, refit)
    if op == OP.RESHARE:
        again = replace(article, extra={**article.extra, RESHARE_COUNT: str(d.revision)})
        template = (cc.reshare or ReshareSettings()).template

        def refit_again(p: Post, refusal: str) -> Post | None:
            return ch.refit_with(template, p, again, refusal)

        post = ch.render_with(template, again)
        return Step(post, lambda p: ch.send(p, again, d.key), recovery, refit_again)
    if parent is None or not parent.post_id:
        raise LookupError("the post it acts on has no id in the sent-log")
    ref = Receipt(parent.post_id, parent.post_url)
    if op == OP.EDIT:
        return Step(ch.render(article), lambda p: ch.edit(p, article, ref, d.key), recovery, refit)
    if op == OP.DELETE:

        async def delete(_p: Post) -> Receipt:
            await ch.delete(article, ref, d.key)
            return ref

        return Step(Post("", 0, 0), delete, recovery, None)
    reply_with = reply_template(cc, ch, op, article)

    def refit_reply(p: Post, refusal: str) -> Post | None:
        return ch.refit_with(reply_with, p, article, refusal)

    post = ch.render_with(reply_with, article)
    return Step(post, lambda p: ch.reply(p, article, ref, d.key), recovery, refit_reply)


def after_success(
    log: Operations,
    d: Delivery,
    parent: Delivery | None,
    cc: ChannelConfig,
    ch: Channel[Any],
    article: Article,
    post: Post,
    receipt: Receipt,
    now: float,
) -> Callable[[sa.Connection], object] | None:
    """What a success changes besides its own row (which records the article's digest), in
    the same transaction: a post gets its first comment planned; an edit or a correction
    makes the post record the content it now shows. None when nothing else changes."""
    if d.op == OP.POST:
        if not wants_comment(cc, ch, article):
            return None
        return lambda conn: log.add_op(d, OP.COMMENT, now, now, conn=conn)
    if parent is None or d.op not in (OP.EDIT, OP.CORRECT):
        return None
    values: dict[str, Any] = {"article_digest": article.digest()}
    if d.op == OP.EDIT:
        values.update(text_hash=text_hash(post.text), title=article.title)
        values["article_url"] = article.url
        if receipt.url:
            values["post_url"] = receipt.url

    def write(conn: sa.Connection) -> None:
        conn.execute(deliveries.update().where(deliveries.c.id == parent.id).values(**values))

    return write
