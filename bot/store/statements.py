"""The sent-log's hot-path statements, built once (building them per call costs more than
running them)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from bot.models import DeliveryStatus as S
from bot.store.rows import WAITING as WAITING
from bot.store.schema import deliveries

# `status IN ('scheduled', 'retrying')` with the values written into the SQL, as the claim's
# partial index (ix_deliveries_waiting) states it: with bound parameters instead, neither SQLite
# nor PostgreSQL's generic plans can tell that the index covers the query
IS_WAITING = deliveries.c.status.in_([sa.literal_column(f"'{s}'") for s in WAITING])


class unsearched(FunctionElement[str]):  # lower case: written like a SQL function
    """A column, written so that SQLite does not search by its index (SQLite's unary `+`);
    other databases get the plain column. The claim's re-check of a row's status would
    otherwise make SQLite walk every waiting row's index entry instead of fetching the
    claimed ids by rowid: O(waiting rows) per claim."""

    type = sa.String()
    inherit_cache = True


@compiles(unsearched)
def _plain(element: unsearched, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(unsearched, "sqlite")
def _unary_plus(element: unsearched, compiler: Any, **kw: Any) -> str:
    return "+" + str(compiler.process(element.clauses, **kw))


# rows that mean an article is (or may be) on the channel, or about to be
POSTED_OR_PENDING = (S.SENT, S.SENDING, S.UNKNOWN, S.SCHEDULED, S.RETRYING)
_parent = deliveries.alias("parent")
_sibling = deliveries.alias("sibling")
# an operation on a post waits until the post is out, and until the post's operation being
# sent (by any worker) is settled: operations on one post go out one at a time, in order
READY = sa.or_(
    deliveries.c.parent_id.is_(None),
    sa.select(_parent.c.id)
    .where(_parent.c.id == deliveries.c.parent_id)
    .where(_parent.c.status == str(S.SENT))
    .exists(),
) & ~(
    sa.select(_sibling.c.id)
    .where(_sibling.c.parent_id == deliveries.c.parent_id)
    .where(_sibling.c.status == str(S.SENDING))
    .exists()
)
CLAIM = (
    deliveries.update()
    .where(
        deliveries.c.id.in_(
            sa.select(deliveries.c.id)
            .where(IS_WAITING)
            .where(deliveries.c.next_attempt_at <= sa.bindparam("now"))
            .where(deliveries.c.channel.in_(sa.bindparam("channels", expanding=True)))
            .where(READY)
            .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
            .limit(sa.bindparam("limit"))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    )
    .where(unsearched(deliveries.c.status).in_(WAITING))
    .values(
        status=str(S.SENDING),
        claimed_by=sa.bindparam("worker"),
        claimed_at=sa.bindparam("now"),
        lease_until=sa.bindparam("lease_until"),
        updated_at=sa.bindparam("now"),
        attempts=deliveries.c.attempts + 1,
        first_attempt_at=sa.func.coalesce(deliveries.c.first_attempt_at, sa.bindparam("now")),
    )
    .returning(*deliveries.c)
)
SENT = (
    deliveries.update()
    .where(deliveries.c.id == sa.bindparam("delivery"))
    .where(deliveries.c.status == str(S.SENDING))
    .where(deliveries.c.claimed_by == sa.bindparam("worker"))
    .values(
        status=str(S.SENT),
        post_id=sa.bindparam("post_id"),
        post_url=sa.bindparam("post_url"),
        text_hash=sa.bindparam("text_hash"),
        # the content the post shows (Article.digest()); kept when not given
        article_digest=sa.func.coalesce(sa.bindparam("digest"), deliveries.c.article_digest),
        sent_at=sa.bindparam("now"),
        updated_at=sa.bindparam("now"),
        next_attempt_at=None,
        last_error=sa.bindparam("note"),
        claimed_by=None,
        claimed_at=None,
        lease_until=None,
    )
)

# the articles recorded on a channel with one of these URLs (sentlog.urls_taken)
URLS_TAKEN = (
    sa.select(deliveries.c.article_url, deliveries.c.article_id)
    .where(deliveries.c.channel == sa.bindparam("channel"))
    .where(deliveries.c.article_url.in_(sa.bindparam("urls", expanding=True)))
    .where(deliveries.c.op == "post")
    .where(deliveries.c.status.in_([str(s) for s in POSTED_OR_PENDING]))
)
