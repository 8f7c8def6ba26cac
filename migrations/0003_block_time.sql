-- The block time (unix seconds) of each event's transaction, for candles and for people.
ALTER TABLE events ADD COLUMN block_time BIGINT;
ALTER TABLE trades ADD COLUMN block_time BIGINT;
CREATE INDEX trades_market_time ON trades (market, block_time);
