"""A database turned back into schema version 1, to test upgrades: the later columns and
tables dropped, the sent-log rebuilt with version 1's one-row-per-(article, channel) rule.
Portable SQL: the same statements run on SQLite and PostgreSQL."""

_V1_COLUMNS = (
    "id, article_id, channel, status, key, attempts, next_attempt_at, last_error, reason, "
    "post_id, post_url, text_hash, article_url, title, created_at, updated_at, "
    "first_attempt_at, sent_at, claimed_by, claimed_at"
)

VERSION_1 = (
    "DROP INDEX ix_articles_cache",
    "DROP INDEX ix_articles_live_slug",
    "DROP INDEX ix_articles_live_id",
    "DROP INDEX ix_articles_problems",
    "ALTER TABLE articles DROP COLUMN rendered",
    "ALTER TABLE articles DROP COLUMN digest",
    "ALTER TABLE articles DROP COLUMN body_sig",
    "DROP TABLE departed",
    "DROP TABLE aliases",
    "CREATE TABLE d1 (id INTEGER NOT NULL PRIMARY KEY, article_id VARCHAR(1024) NOT NULL, "
    "channel VARCHAR(64) NOT NULL, status VARCHAR(16) NOT NULL, key VARCHAR(32) NOT NULL, "
    "attempts INTEGER NOT NULL, next_attempt_at FLOAT, last_error TEXT, reason VARCHAR(64), "
    "post_id VARCHAR(512), post_url VARCHAR(1024), text_hash VARCHAR(64), "
    "article_url VARCHAR(1024), title TEXT, created_at FLOAT NOT NULL, "
    "updated_at FLOAT NOT NULL, first_attempt_at FLOAT, sent_at FLOAT, "
    "claimed_by VARCHAR(128), claimed_at FLOAT, "
    "CONSTRAINT uq_deliveries_article_channel UNIQUE (article_id, channel))",
    f"INSERT INTO d1 ({_V1_COLUMNS}) SELECT {_V1_COLUMNS} FROM deliveries",
    "DROP TABLE deliveries",
    "ALTER TABLE d1 RENAME TO deliveries",
    "CREATE INDEX ix_deliveries_due ON deliveries (status, next_attempt_at)",
    "CREATE INDEX ix_deliveries_channel_status ON deliveries (channel, status)",
    "UPDATE herald_meta SET value = '1' WHERE key = 'schema_version'",
)
