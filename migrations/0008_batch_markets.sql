-- Batch markets (issue 17, ADR 8): sealed orders collected per batch, opened with the
-- batch's published key, cleared at one uniform price against the resting book and
-- executed. Derived from the events (indexer/src/derive.rs) like every other table,
-- and rebuilt from the log by `solex-indexer rebuild`. Values are what the events
-- carry: nothing here is computed with the auction's rules.

-- A batch market's parameters (AuctionCreated): all NULL for a continuous market, and
-- again once its auction is closed (AuctionClosed: the market is continuous again).
ALTER TABLE markets
    ADD COLUMN auction              TEXT,
    ADD COLUMN keyper_set           TEXT,
    ADD COLUMN batch_slots          u64,
    ADD COLUMN reveal_timeout_slots u64,
    -- Quote atoms each sealed order pays.
    ADD COLUMN sealed_fee           u64,
    -- Sealed orders one batch holds.
    ADD COLUMN batch_capacity       BIGINT,
    ADD CONSTRAINT markets_batch_parameters CHECK (
        (auction IS NULL AND keyper_set IS NULL AND batch_slots IS NULL AND reveal_timeout_slots IS NULL
            AND sealed_fee IS NULL AND batch_capacity IS NULL)
        OR (auction IS NOT NULL AND keyper_set IS NOT NULL AND batch_slots IS NOT NULL
            AND reveal_timeout_slots IS NOT NULL AND sealed_fee IS NOT NULL AND batch_capacity IS NOT NULL));

-- One row per batch that received a sealed order. Batch ids are slot / batch_slots:
-- like sequence numbers they count up from zero and stay BIGINT.
CREATE TABLE batches (
    market          TEXT    NOT NULL,
    batch_id        BIGINT  NOT NULL,
    -- collecting (taking sealed orders, then waiting for its key), opened (the key was
    -- published and its orders revealed), cleared (its uniform price is set),
    -- done (executed: every order settled), voided (its key never came; final: its
    -- orders are refunded as it executes, and done_seq says when that finished).
    status          TEXT    NOT NULL
        CONSTRAINT batches_status CHECK (status IN ('collecting', 'opened', 'cleared', 'done', 'voided')),
    -- The keyper set round whose key seals it (known once opened or voided).
    key_round       BIGINT,
    -- The published batch secret (hex), with which anyone can check every opening.
    secret          TEXT,
    -- Sealed orders submitted, and cancelled before the close.
    orders          BIGINT  NOT NULL DEFAULT 0,
    cancelled       BIGINT  NOT NULL DEFAULT 0,
    -- Revealed as valid orders, and voided (junk at opening, or every live order of a
    -- batch voided at its timeout). Set by BatchCleared / BatchVoided.
    valid           BIGINT,
    voids           BIGINT,
    -- The clearing (BatchCleared): the uniform price in ticks (0: nothing crossed),
    -- the lots traded, the lots bid and offered at the price, the resting lots taken
    -- from each side, and the tie-break reference price (0: none).
    price           u64,
    volume          u64,
    demand          u64,
    supply          u64,
    imbalance       NUMERIC(20, 0) GENERATED ALWAYS AS (abs(demand - supply)) STORED,
    bid_sweep       u64,
    ask_sweep       u64,
    reference       u64,
    -- Market sequence number, slot (and for the clearing, block time) of each phase:
    -- the first submission, the first opening, the clearing, the void, the last step.
    first_seq       BIGINT  NOT NULL,
    first_slot      BIGINT  NOT NULL,
    opened_seq      BIGINT,
    opened_slot     BIGINT,
    cleared_seq     BIGINT,
    cleared_slot    BIGINT,
    cleared_time    BIGINT,
    voided_seq      BIGINT,
    voided_slot     BIGINT,
    done_seq        BIGINT,
    done_slot       BIGINT,
    PRIMARY KEY (market, batch_id)
);

-- One row per sealed order, keyed by its record's index in its batch. Until its batch
-- opens only what the program holds in the clear is known: the trader, the order's
-- sequence number, the collateral and the fee. The order itself (side .. client id)
-- is NULL until OrdersRevealed, and stays NULL for an order voided unopened (junk, or
-- a timeout).
CREATE TABLE sealed_orders (
    market          TEXT    NOT NULL,
    batch_id        BIGINT  NOT NULL,
    idx             BIGINT  NOT NULL,
    trader          TEXT    NOT NULL,
    order_seq       BIGINT  NOT NULL,
    base_envelope   u64     NOT NULL,
    quote_envelope  u64     NOT NULL,
    -- The sealed-order fee it paid in (see fee_kept for what was kept).
    fee             u64     NOT NULL,
    -- sealed (submitted), cancelled (by its trader before the close), revealed (a valid
    -- order, its batch not executed yet), void (junk, or its batch's key never came;
    -- settled_seq says when its collateral was unlocked), done (settled).
    status          TEXT    NOT NULL
        CONSTRAINT sealed_orders_status CHECK (status IN ('sealed', 'cancelled', 'revealed', 'void', 'done')),
    submitted_seq   BIGINT  NOT NULL,
    submitted_slot  BIGINT  NOT NULL,
    cancelled_seq   BIGINT,
    -- What opening revealed.
    revealed_seq    BIGINT,
    side            TEXT    CONSTRAINT sealed_orders_side CHECK (side IN ('bid', 'ask')),
    order_type      TEXT    CONSTRAINT sealed_orders_order_type CHECK (order_type IN ('limit', 'ioc', 'market')),
    price           u64,
    qty_lots        u64,
    client_order_id TEXT,
    void_reason     TEXT    CONSTRAINT sealed_orders_void_reason
        CHECK (void_reason IN ('bad_key', 'bad_tag', 'malformed', 'envelope_too_small', 'notional_too_large', 'timeout')),
    -- How it settled (BatchExecuted), at the batch's price: lots filled, base and quote
    -- atoms traded, the taker fee, the sealed-order fee kept (0: refunded), the lots of
    -- its remainder that rest on the book and that order's id (NULL: nothing rests).
    settled_seq     BIGINT,
    filled_lots     u64,
    base            u64,
    quote           u64,
    taker_fee       u64,
    fee_kept        u64,
    rested_lots     u64,
    order_id        TEXT,
    PRIMARY KEY (market, batch_id, idx),
    -- Nothing of an order's contents before it was revealed.
    CONSTRAINT sealed_orders_sealed_contents CHECK (
        revealed_seq IS NOT NULL OR (side IS NULL AND order_type IS NULL AND price IS NULL AND qty_lots IS NULL
            AND client_order_id IS NULL))
);
CREATE INDEX sealed_orders_trader ON sealed_orders (trader, submitted_seq);
