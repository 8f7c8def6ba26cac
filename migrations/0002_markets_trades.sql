-- Tables derived from the event log (rebuilt from it by `solex-indexer rebuild`).
CREATE TABLE markets (
    market          TEXT     PRIMARY KEY,
    authority       TEXT     NOT NULL,
    base_mint       TEXT     NOT NULL,
    quote_mint      TEXT     NOT NULL,
    base_lot_size   BIGINT   NOT NULL,
    quote_tick_size BIGINT   NOT NULL,
    min_order_lots  BIGINT   NOT NULL,
    maker_fee_bps   SMALLINT NOT NULL,
    taker_fee_bps   SMALLINT NOT NULL,
    created_slot    BIGINT   NOT NULL
);

-- One row per fill, keyed by its place in the market's fill sequence.
CREATE TABLE trades (
    market         TEXT    NOT NULL,
    fill_seq       BIGINT  NOT NULL,
    -- The OrderPlaced event that made it.
    seq            BIGINT  NOT NULL,
    taker          TEXT    NOT NULL,
    taker_order_id TEXT    NOT NULL,
    taker_side     TEXT    NOT NULL,
    maker          TEXT    NOT NULL,
    maker_order_id TEXT    NOT NULL,
    price          BIGINT  NOT NULL,
    qty_lots       BIGINT  NOT NULL,
    maker_fee      BIGINT  NOT NULL,
    slot           BIGINT  NOT NULL,
    signature      TEXT    NOT NULL,
    PRIMARY KEY (market, fill_seq)
);
