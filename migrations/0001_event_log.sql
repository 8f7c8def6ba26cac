-- The append-only event log: every event the program emitted, once, keyed by its
-- market and per-market sequence number (the natural key that makes writes idempotent
-- and gaps visible). Derived tables are built from this log.
CREATE TABLE events (
    market     TEXT        NOT NULL,
    seq        BIGINT      NOT NULL,
    kind       TEXT        NOT NULL,
    signature  TEXT        NOT NULL,
    slot       BIGINT      NOT NULL,
    -- The event exactly as emitted: the program's self-invocation data (event tag,
    -- Anchor discriminator, Borsh body); solex_sdk::events::decode_event reads it.
    data       BYTEA       NOT NULL,
    indexed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (market, seq)
);
CREATE INDEX events_signature ON events (signature);

-- Where backfill resumes: the newest transaction of the program already indexed.
CREATE TABLE cursors (
    name      TEXT   PRIMARY KEY,
    signature TEXT   NOT NULL,
    slot      BIGINT NOT NULL
);
