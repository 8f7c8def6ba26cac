-- More tables derived from the event log (rebuilt from it by `solex-indexer rebuild`).
-- Amounts are u64 on chain and BIGINT here: values above 2^63 - 1 atoms are refused
-- by the indexer rather than wrapped.

ALTER TABLE markets ADD COLUMN paused BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE markets ADD COLUMN closed BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE markets ADD COLUMN fees_swept BIGINT NOT NULL DEFAULT 0;

-- One row per trader account, with the balances the program holds for it. They are
-- replayed from events with the program's own arithmetic (solex::state::Market), and
-- a test compares them with the accounts on chain, field by field.
CREATE TABLE traders (
    market          TEXT    NOT NULL,
    trader          TEXT    NOT NULL,
    owner           TEXT    NOT NULL,
    max_orders      INT     NOT NULL,
    delegate        TEXT,
    closed          BOOLEAN NOT NULL DEFAULT false,
    base_available  BIGINT  NOT NULL DEFAULT 0,
    base_locked     BIGINT  NOT NULL DEFAULT 0,
    quote_available BIGINT  NOT NULL DEFAULT 0,
    quote_locked    BIGINT  NOT NULL DEFAULT 0,
    -- The market sequence number of the last event that changed this row.
    seq             BIGINT  NOT NULL,
    PRIMARY KEY (market, trader)
);
CREATE INDEX traders_owner ON traders (owner);

-- Every order the program accepted, taker or maker, keyed by its on-chain id
-- (price << 64 | order sequence, as decimal text: it is a u128).
CREATE TABLE orders (
    market          TEXT    NOT NULL,
    order_id        TEXT    NOT NULL,
    trader          TEXT    NOT NULL,
    side            TEXT    NOT NULL,
    order_type      TEXT    NOT NULL,
    client_order_id TEXT    NOT NULL,
    price           BIGINT  NOT NULL,
    qty_lots        BIGINT  NOT NULL,
    filled_lots     BIGINT  NOT NULL,
    -- Lots resting on the book (0 once the order is done).
    remaining_lots  BIGINT  NOT NULL,
    -- open (resting, maybe partly filled), filled, cancelled (by its owner, self-trade
    -- prevention, or an unfilled IOC/market remainder) or expired.
    status          TEXT    NOT NULL,
    placed_seq      BIGINT  NOT NULL,
    updated_seq     BIGINT  NOT NULL,
    placed_slot     BIGINT  NOT NULL,
    PRIMARY KEY (market, order_id)
);
CREATE INDEX orders_trader ON orders (trader, placed_seq);
-- The book: resting orders by level.
CREATE INDEX orders_book ON orders (market, side, price) WHERE status = 'open';

-- What happened to each order, one row per event that changed it.
CREATE TABLE order_history (
    market         TEXT   NOT NULL,
    order_id       TEXT   NOT NULL,
    seq            BIGINT NOT NULL,
    -- placed, fill, cancel, self_trade, expired
    change         TEXT   NOT NULL,
    status         TEXT   NOT NULL,
    filled_lots    BIGINT NOT NULL,
    remaining_lots BIGINT NOT NULL,
    slot           BIGINT NOT NULL,
    PRIMARY KEY (market, order_id, seq)
);

-- When the maker's side of a fill was applied by consume_events.
ALTER TABLE trades ADD COLUMN consumed_seq BIGINT;
CREATE INDEX trades_taker ON trades (taker);
CREATE INDEX trades_maker ON trades (maker);

-- OHLCV per interval, kept up to date as fills are indexed (by block time).
CREATE TABLE candles (
    market   TEXT   NOT NULL,
    interval TEXT   NOT NULL,
    start    BIGINT NOT NULL,
    open     BIGINT NOT NULL,
    high     BIGINT NOT NULL,
    low      BIGINT NOT NULL,
    close    BIGINT NOT NULL,
    volume   BIGINT NOT NULL,
    trades   BIGINT NOT NULL,
    PRIMARY KEY (market, interval, start)
);
