ALTER TABLE terminals DROP COLUMN fault_order_id;
ALTER TABLE terminals DROP COLUMN fault_tag;
ALTER TABLE order_events DROP COLUMN received_at;
