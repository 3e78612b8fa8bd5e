-- Issue 14 items 9 and 11.

-- When an offline action reached the server; `at` is when it was done (the phone's time,
-- checked by domain::reported_time). Earlier events were recorded as they arrived.
ALTER TABLE order_events ADD COLUMN received_at TIMESTAMP;
UPDATE order_events SET received_at = at;

-- A terminal taken out of a vehicle by a repair carries the fault tag (plate + fault) of
-- that repair, and the order, until it is repaired or returned to stock.
ALTER TABLE terminals ADD COLUMN fault_tag TEXT;
ALTER TABLE terminals ADD COLUMN fault_order_id TEXT;
