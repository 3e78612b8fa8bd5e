DROP TABLE idempotency_keys;
DROP TABLE order_events;
DROP TABLE verbal_approvals;
DROP TABLE work_order_parts;
DROP TABLE work_order_lines;
DROP TABLE work_order_technicians;
DROP TABLE work_orders;
DROP TABLE parts;
