-- The order vocabulary's columns hold only its names (solex::order: Side and
-- OrderType's name tables; a test keeps these lists equal to them), and an order's
-- status only the four the indexer derives. They stay TEXT, so queries bind and
-- read them as strings as before; a value outside the list is refused at insert
-- rather than served. Rows written before this migration hold only these values
-- (they were derived with the same tables), so it applies to an existing database.
ALTER TABLE orders
    ADD CONSTRAINT orders_side CHECK (side IN ('bid', 'ask')),
    ADD CONSTRAINT orders_order_type
        CHECK (order_type IN ('limit', 'post_only', 'post_only_slide', 'ioc', 'fok', 'market')),
    ADD CONSTRAINT orders_status CHECK (status IN ('open', 'filled', 'cancelled', 'expired'));

ALTER TABLE trades
    ADD CONSTRAINT trades_taker_side CHECK (taker_side IN ('bid', 'ask'));
