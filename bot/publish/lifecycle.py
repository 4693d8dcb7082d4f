"""Planning what happens to posts that are out: an edit (or a correction reply) when what the
post shows changed, settled over `publishing.edit_settle`; a delete (or a retraction note)
when the article is retracted, a draft again, or its file gone (`on_missing: retract`),
behind the guard against mass deletion; a first comment that is still missing."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from bot.channel_config import ChannelConfig
from bot.channels.base import Channel
from bot.models import Article, Operation
from bot.publish.engine import PassResult, S, log
from bot.publish.plan import Planner
from bot.publish.steps import wants_comment
from bot.store import Delivery, text_hash
from bot.store.operations import Withdrawal

OP = Operation
COMMENT_SWEEP = 7 * 86400.0  # posts this recent get a missing first comment planned


def update_policy(cc: ChannelConfig, ch: Channel[Any]) -> str:
    return cc.on_update or ch.default_on_update()


def retract_policy(cc: ChannelConfig, ch: Channel[Any]) -> str:
    return cc.on_retract or ch.default_on_retract()


class Lifecycle(Planner):
    """The engine's planning of operations on posts."""

    def plan(self, now: float | None = None) -> PassResult:
        now = self.clock() if now is None else now
        result = super().plan(now)
        result.merge(self.plan_updates(now))
        result.merge(self.plan_retractions(now))
        result.merge(self.plan_comments(now))
        return result

    # ------------------------------------------------------------------ edits
    def plan_updates(self, now: float) -> PassResult:
        """For each post whose article changed: render it again; when the post would read
        differently, plan (or push back, within the settle time) one edit or correction."""
        result = PassResult()
        settle = self.settings.edit_settle.total_seconds()
        for name, (cc, ch) in self.channels.items():
            policy = update_policy(cc, ch)
            for post, article in self.log.changed_posts(name):  # a page a pass
                result.edits += self._plan_update(post, article, cc, ch, policy, now, settle)
        return result

    def _plan_update(
        self,
        post: Delivery,
        article: Article,
        cc: ChannelConfig,
        ch: Channel[Any],
        policy: str,
        now: float,
        settle: float,
    ) -> int:
        digest = article.digest()
        if post.article_digest is None or policy == "ignore":  # a post older than schema 4
            self.log.checked(post, digest)
            return 0
        op = OP.EDIT if policy == "edit" else OP.CORRECT
        waiting = self.log.pending_ops(post.id, [OP.EDIT, OP.CORRECT])
        try:
            shown = ch.render(article).text
        except Exception as e:  # this article's values: its post stays as it is
            log.warning("cannot compose the edit of %s on %s: %s", post.article_id, post.channel, e)
            self.log.checked(post, digest)
            return 0
        if text_hash(shown) == post.text_hash:  # the post does not show what changed
            self.log.checked(post, digest)
            for w in waiting:
                if w.status != S.SENDING:
                    self.log.cancel(w, "unchanged", now)
            return 0
        pending = [w for w in waiting if w.status != S.SENDING]
        if pending:
            if pending[0].article_digest != digest:  # saved again within the settle time
                self.log.postpone(pending[0], now + settle, digest, now)
            return 0
        if self.log.add_op(post, op, now, now + settle, digest=digest, title=article.title):
            log.info(
                "%s of %s on %s due in %s",
                "edit" if op == OP.EDIT else "correction",
                post.article_id,
                post.channel,
                self.settings.edit_settle,
            )
            return 1
        return 0

    # ------------------------------------------------------------------ retractions
    def plan_retractions(
        self, now: float, *, confirm: bool = False, only: Collection[str] = ()
    ) -> PassResult:
        """Deletes (or retraction notes) for posts of withdrawn articles. An explicit
        `retracted: true` always goes; drafts and vanished files go only while they are no
        more than `publishing.retract_guard` articles at once, unless confirmed (`herald
        retract --confirm`, or `--article`)."""
        result = PassResult()
        found = self.withdrawals(now, on_purpose=bool(only))
        if only:
            found = [w for w in found if w.post.article_id in only]
            confirm = True
        guarded = {w.post.article_id for w in found if w.why != "retracted"}
        hold = not confirm and len(guarded) > self.settings.retract_guard
        if hold:
            result.held = len(guarded)
            log.warning(
                "%d articles would be retracted at once (drafts again or files gone), more than "
                "publishing.retract_guard (%d): nothing of that batch is retracted. If that is "
                "meant, run `herald retract --confirm` (or `--article ID` for one)",
                len(guarded),
                self.settings.retract_guard,
            )
        for w in found:
            if hold and w.why != "retracted":
                continue
            result.retractions += self._plan_retraction(w, now)
        return result

    def withdrawals(self, now: float, *, on_purpose: bool = False) -> list[Withdrawal]:
        """Posts of withdrawn articles. A vanished file counts with `on_missing: retract`
        once gone for `retract_after` across two full scans, or at once on purpose."""
        if on_purpose:
            return self.log.withdrawals(now, 0.0, min_scans=0)
        vanished = (
            self.settings.retract_after.total_seconds()
            if self.settings.on_missing == "retract"
            else None
        )
        return self.log.withdrawals(now, vanished)

    def _plan_retraction(self, w: Withdrawal, now: float) -> int:
        post = w.post
        entry = self.channels.get(post.channel)
        if entry is None:
            return 0
        cc, ch = entry
        if post.status in (S.SCHEDULED, S.RETRYING):  # not out yet: it never goes out
            return int(self.log.cancel(post, "withdrawn", now))
        if post.status == S.SENDING:
            return 0  # settled first; the next pass looks again
        policy = retract_policy(cc, ch)
        if policy == "ignore":
            return 0
        for other in self.log.pending_ops(post.id, [OP.EDIT, OP.CORRECT, OP.COMMENT]):
            if other.status != S.SENDING:
                self.log.cancel(other, "withdrawn", now)
        op = OP.DELETE if policy == "delete" else OP.RETRACT_NOTE
        if self.log.add_op(post, op, now, now):
            log.info("%s %s on %s (%s)", op, post.article_id, post.channel, w.why)
            return 1
        return 0

    # ------------------------------------------------------------------ first comments
    def plan_comments(self, now: float) -> PassResult:
        """A first comment for each recent post that should have one and has none (its post
        was recorded through a crash recovery, or `send`): the comment is never lost."""
        result = PassResult()
        for name, (cc, ch) in self.channels.items():
            if "reply" not in ch.can:
                continue
            since = now - COMMENT_SWEEP
            for post in self.log.uncommented(name, since, any_article=not cc.first_comment):
                article = self.store.article(post.article_id)
                if article is not None and not article.withdrawn and wants_comment(cc, ch, article):
                    result.planned += int(self.log.add_op(post, OP.COMMENT, now, now))
        return result
