"""The current schema as SQLite DDL, so that a new SQLite database is created on the driver,
without loading SQLAlchemy (a cold `build`). It is `bot.store.schema`'s tables as SQLAlchemy
writes them for SQLite, in creation order; `tests/store/test_driver.py` fails, printing what
to put here, when the two differ (a table changed: a new schema version)."""

from bot.store.rows import SCHEMA_VERSION

SQLITE = (
    """CREATE TABLE herald_meta (
        "key" VARCHAR(64) NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY ("key")
    )""",
    """CREATE TABLE aliases (
        path VARCHAR(1024) NOT NULL,
        article_id VARCHAR(1024) NOT NULL,
        renamed_from VARCHAR(1024),
        renamed_at FLOAT NOT NULL,
        PRIMARY KEY (path)
    )""",
    """CREATE TABLE articles (
        path VARCHAR(1024) NOT NULL,
        size BIGINT NOT NULL,
        mtime_ns BIGINT NOT NULL,
        article_id VARCHAR(1024),
        slug VARCHAR(512),
        published FLOAT,
        draft BOOLEAN NOT NULL,
        first_seen FLOAT NOT NULL,
        data TEXT,
        problems TEXT,
        rendered TEXT,
        digest VARCHAR(64),
        body_sig TEXT,
        PRIMARY KEY (path)
    )""",
    "CREATE INDEX ix_articles_article_id ON articles (article_id)",
    "CREATE INDEX ix_articles_cache ON articles (path, size, mtime_ns)",
    "CREATE INDEX ix_articles_live_id ON articles (article_id) WHERE data IS NOT NULL",
    "CREATE INDEX ix_articles_live_slug ON articles (slug) WHERE data IS NOT NULL",
    "CREATE INDEX ix_articles_problems ON articles (path) WHERE problems IS NOT NULL",
    "CREATE INDEX ix_articles_published ON articles (published)",
    """CREATE TABLE channels (
        name VARCHAR(64) NOT NULL,
        first_seen FLOAT NOT NULL,
        consecutive_failures INTEGER NOT NULL,
        paused_until FLOAT,
        pause_reason TEXT,
        last_success_at FLOAT,
        PRIMARY KEY (name)
    )""",
    """CREATE TABLE deliveries (
        id INTEGER NOT NULL,
        article_id VARCHAR(1024) NOT NULL,
        channel VARCHAR(64) NOT NULL,
        status VARCHAR(16) NOT NULL,
        "key" VARCHAR(32) NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at FLOAT,
        last_error TEXT,
        reason VARCHAR(64),
        post_id VARCHAR(512),
        post_url VARCHAR(1024),
        text_hash VARCHAR(64),
        article_url VARCHAR(1024),
        title TEXT,
        created_at FLOAT NOT NULL,
        updated_at FLOAT NOT NULL,
        first_attempt_at FLOAT,
        sent_at FLOAT,
        claimed_by VARCHAR(128),
        claimed_at FLOAT,
        lease_until FLOAT,
        op VARCHAR(16) DEFAULT 'post' NOT NULL,
        revision INTEGER DEFAULT '0' NOT NULL,
        parent_id INTEGER,
        article_digest VARCHAR(64),
        reactions TEXT,
        reactions_at FLOAT,
        PRIMARY KEY (id),
        CONSTRAINT uq_deliveries_op UNIQUE (article_id, channel, op, revision)
    )""",
    "CREATE INDEX ix_deliveries_channel_status ON deliveries (channel, status)",
    "CREATE INDEX ix_deliveries_due ON deliveries (status, next_attempt_at)",
    "CREATE INDEX ix_deliveries_parent ON deliveries (parent_id)",
    "CREATE INDEX ix_deliveries_waiting ON deliveries (channel, next_attempt_at, id) "
    "WHERE status IN ('scheduled', 'retrying')",
    """CREATE TABLE departed (
        path VARCHAR(1024) NOT NULL,
        article_id VARCHAR(1024) NOT NULL,
        data TEXT,
        body_sig TEXT,
        gone_at FLOAT NOT NULL,
        scans INTEGER DEFAULT '1' NOT NULL,
        PRIMARY KEY (path)
    )""",
    "CREATE INDEX ix_departed_article_id ON departed (article_id)",
    """CREATE TABLE workers (
        id VARCHAR(128) NOT NULL,
        host VARCHAR(255) NOT NULL,
        pid INTEGER NOT NULL,
        started_at FLOAT NOT NULL,
        heartbeat_at FLOAT NOT NULL,
        PRIMARY KEY (id)
    )""",
)
VERSION_ROW = f"INSERT INTO herald_meta (key, value) VALUES ('schema_version', '{SCHEMA_VERSION}')"
