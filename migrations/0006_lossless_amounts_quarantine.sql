-- u64 amounts, prices and sizes are stored exactly. They were BIGINT, and the indexer
-- refused an event with a value above 2^63 - 1, which halted ingestion for every market.
-- The domain holds exactly the u64 range: a derived value outside it (a balance going
-- negative) is an error of that event, never a wrap. Sequence numbers and slots stay
-- BIGINT: they count up by one from zero and cannot reach 2^63.
CREATE DOMAIN u64 AS NUMERIC(20, 0) CHECK (VALUE >= 0 AND VALUE <= 18446744073709551615);

ALTER TABLE markets
    ALTER COLUMN base_lot_size TYPE u64,
    ALTER COLUMN quote_tick_size TYPE u64,
    ALTER COLUMN min_order_lots TYPE u64,
    -- Running totals of u64 values may outgrow a u64 over a market's life.
    ALTER COLUMN fees_swept TYPE NUMERIC(40, 0);

ALTER TABLE traders
    ALTER COLUMN base_available TYPE u64,
    ALTER COLUMN base_locked TYPE u64,
    ALTER COLUMN quote_available TYPE u64,
    ALTER COLUMN quote_locked TYPE u64;

ALTER TABLE orders
    ALTER COLUMN price TYPE u64,
    ALTER COLUMN qty_lots TYPE u64,
    ALTER COLUMN filled_lots TYPE u64,
    ALTER COLUMN remaining_lots TYPE u64;
COMMENT ON COLUMN orders.status IS
    'open, filled, cancelled (by its owner, self-trade prevention, eviction from a full side, a remainder below the minimum size, or an unfilled IOC/market remainder) or expired';

ALTER TABLE order_history
    ALTER COLUMN filled_lots TYPE u64,
    ALTER COLUMN remaining_lots TYPE u64;
COMMENT ON COLUMN order_history.change IS
    'placed, fill, cancel, self_trade, expired, evicted or below_minimum (a fill that left less than the minimum: the row has the filled lots too)';

ALTER TABLE trades
    ALTER COLUMN price TYPE u64,
    ALTER COLUMN qty_lots TYPE u64;

ALTER TABLE candles
    ALTER COLUMN open TYPE u64,
    ALTER COLUMN high TYPE u64,
    ALTER COLUMN low TYPE u64,
    ALTER COLUMN close TYPE u64,
    ALTER COLUMN volume TYPE NUMERIC(40, 0);

-- Markets whose derivation stopped: the event at `seq` could not be derived (`error`
-- says why), so the market's derived rows reflect its events before `seq` only. The
-- event log still takes all of its events (the gap check covers them) and every other
-- market goes on. `solex-indexer rebuild` re-derives it, e.g. after a fix.
CREATE TABLE quarantined_markets (
    market     TEXT        PRIMARY KEY,
    seq        BIGINT      NOT NULL,
    kind       TEXT        NOT NULL,
    error      TEXT        NOT NULL,
    -- When it happened (left out of snapshots and digests, as events.indexed_at is).
    indexed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
